"""pytest configuration: hypothesis profile, import path for tests/util.py, and a bound on the
memory the test modules' caches hold."""

import gc
import os
import sys

import pytest
from hypothesis import HealthCheck, settings

TESTS = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, TESTS)

settings.register_profile(
    "softmax", max_examples=60, deadline=2000, derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("thorough", max_examples=1000, deadline=None)
settings.load_profile(os.environ.get("SOFTMAX_HYPOTHESIS_PROFILE", "softmax"))

# The cases of the accuracy tests and the oracle's values of them are cached (functools caches
# in the test modules: a case shared by several tests is computed once), and a cache keeps what
# it holds until it is cleared: by the end of test_accuracy.py they held 9-12 GB, and two suites
# run at once by .ci/run (each on a kernel variant) were killed by the kernel for lack of memory.
# Every cache of the modules in tests/ is cleared after a test when this process has grown by
# CACHE_GROWTH bytes since the last clear (or the first test; Linux: /proc/self/statm;
# elsewhere never). (Growth, not a total: what the imported libraries hold stays, and a clear
# at every test once past a total cost a garbage collection a test, 1 s each.)
CACHE_GROWTH = 2 ** 30
_since = []


def _rss():
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def _cache_clears():
    """cache_clear of every functools cache in the namespace (and classes) of a module in tests/."""
    for mod in list(sys.modules.values()):
        path = getattr(mod, "__file__", None)
        if not path or os.path.dirname(os.path.abspath(path)) != TESTS:
            continue
        for obj in list(vars(mod).values()):
            for o in (obj, *(vars(obj).values() if isinstance(obj, type) else ())):
                try:
                    if callable(getattr(o, "cache_info", None)):
                        yield o.cache_clear
                except Exception:     # an object whose attributes cannot be read: no cache
                    pass


@pytest.hookimpl(trylast=True)        # (after the test's own teardown: its fixtures are gone)
def pytest_runtest_teardown(item, nextitem):
    rss = _rss()
    if not _since:
        _since.append(rss)
    elif rss > _since[0] + CACHE_GROWTH:
        for clear in _cache_clears():
            clear()
        gc.collect()
        _since[0] = _rss()

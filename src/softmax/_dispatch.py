"""Run-time choices, each made in one place: the ISA variant and the thread count.

ISA: ``softmax._kernels`` (baseline), ``_kernels_avx2`` and ``_kernels_avx512``
are one Cython source compiled for three x86-64 levels. The best level this CPU
and OS support is chosen once, at import. ``SOFTMAX_ISA=baseline|avx2|avx512``
forces a level (an unsupported or unbuilt one raises ImportError rather than
crash later with an illegal instruction).

Threads: ``resolve_workers`` turns the public ``workers=`` argument into a
thread count, following scipy.fft: None is the default, a negative count counts
back from the CPU count (-1 = all), 0 is an error. The default is OpenMP's own
(``OMP_NUM_THREADS``, or whatever threadpoolctl set), and small inputs never
start threads. A count is capped at the CPU count, and a process forked after
its parent used threads runs single-threaded (the libgomp fork pitfall).
"""
import contextlib
import importlib
import os

from . import _kernels as _baseline

#: Variants, best first.
LEVELS = ("avx512", "avx2", "baseline")

#: Below this many elements a call runs on the calling thread only.
PARALLEL_MIN_ELEMENTS = 1 << 17


def _load(level):
    if level == "baseline":
        return _baseline
    return importlib.import_module(f"softmax._kernels_{level}")


def available_isas():
    """The kernel variants that are built and that this CPU can run, best first."""
    features = _baseline.cpu_features()
    found = []
    for level in LEVELS:
        if level != "baseline" and not features.get(level, False):
            continue
        try:
            _load(level)
        except ImportError:
            continue
        found.append(level)
    return found


def _choose():
    forced = os.environ.get("SOFTMAX_ISA", "").strip().lower()
    usable = available_isas()
    if forced:
        if forced not in LEVELS:
            raise ImportError(f"SOFTMAX_ISA must be one of {', '.join(LEVELS)}; got SOFTMAX_ISA={forced!r}")
        if forced not in usable:
            raise ImportError(f"SOFTMAX_ISA={forced!r} is not built or not supported by this CPU "
                              f"(usable: {', '.join(usable)})")
        return forced
    return usable[0]


_current = _choose()
#: The kernel module every public function calls.
kernels = _load(_current)


def current_isa():
    """Name of the kernel variant in use."""
    return _current


@contextlib.contextmanager
def using_isa(level):
    """Temporarily route every public function to another kernel variant (for tests)."""
    global kernels, _current
    if level not in available_isas():
        raise ValueError(f"level must be one of {available_isas()}, got level={level!r}")
    saved = (kernels, _current)
    kernels, _current = _load(level), level
    try:
        yield kernels
    finally:
        kernels, _current = saved


def cpu_count():
    """CPUs this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def default_workers():
    """The thread count used when workers=None."""
    return max(1, int(_baseline.max_threads()))


def resolve_workers(workers, n_elements):
    """Threads for one call: validate ``workers`` and apply the size threshold."""
    if workers is None:
        n = default_workers()
    else:
        if isinstance(workers, bool) or not hasattr(workers, "__index__"):
            raise TypeError(f"workers must be an integer or None, got workers={workers!r}")
        n = workers.__index__()
        if n == 0:
            raise ValueError("workers must be nonzero (None, a positive count, or a negative "
                             "count back from the CPU count), got workers=0")
        if n < 0:
            ncpu = cpu_count()
            if n < -ncpu:
                raise ValueError(f"workers={n} asks for fewer than one of the {ncpu} CPUs")
            n = ncpu + 1 + n
    if n_elements < PARALLEL_MIN_ELEMENTS:
        return 1
    # a huge count must not make OpenMP try to start millions of threads (libgomp aborts)
    n = min(n, max(cpu_count(), default_workers()))
    if n > 1:
        if _omp["forked_after_team"]:
            return 1
        _omp["team_used"] = True
    return n


# GNU libgomp cannot start a thread team in a fork()ed child once the parent has used one: the
# child would wait forever for pool threads that fork did not copy. Such a child runs on one
# thread (resolve_workers).
_omp = {"team_used": False, "forked_after_team": False}


def _after_fork_in_child():
    if _omp["team_used"]:
        _omp["forked_after_team"] = True


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)

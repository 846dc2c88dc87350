"""The examples in the docstrings of the public functions (softmax._api's, softmax._stats') run
and give what they show."""

import doctest
import io

import numpy as np
import pytest

import softmax
from softmax import _api, _stats

MODULES = {"softmax": _api, "log_softmax": _api, "logsumexp": _api, "softmax_jvp": _api,
           "softmax_vjp": _api, "log_softmax_jvp": _api, "log_softmax_vjp": _api,
           "softmax_jacobian": _api, "partial_stats": _stats, "merge_stats": _stats,
           "logsumexp_from_stats": _stats, "softmax_from_stats": _stats,
           "log_softmax_from_stats": _stats}
PUBLIC = list(MODULES)
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def doctests(name):
    module = MODULES[name]
    globs = dict(vars(module))
    globs["np"] = np
    return doctest.DocTestFinder().find(getattr(module, name), name, globs=globs)


@pytest.mark.parametrize("name", PUBLIC)
def test_docstring(name):
    module = MODULES[name]
    func = getattr(module, name)
    assert func.__doc__ and func.__doc__.strip(), f"{name} has no docstring"
    assert getattr(softmax, name) is func, f"softmax.{name} is not {module.__name__}.{name}"
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    report = io.StringIO()
    with np.printoptions(legacy=False):
        for test in doctests(name):
            runner.run(test, out=report.write)
    assert runner.failures == 0, report.getvalue()


def test_there_are_examples():
    assert sum(len(t.examples) for name in PUBLIC for t in doctests(name)) > 0


def test_docs_dask_md():
    """docs/dask.md's examples (dask, xarray, streaming a .npy through np.memmap) run and give
    what they show."""
    import pathlib

    import util
    util.need("dask.array")
    util.need("xarray")
    path = pathlib.Path(__file__).resolve().parents[1] / "docs" / "dask.md"
    if not path.exists():
        pytest.skip("docs/ not shipped with the tests")
    import dask
    with dask.config.set(scheduler="synchronous"), np.printoptions(legacy=False):
        failures, tried = doctest.testfile(str(path), module_relative=False, optionflags=FLAGS,
                                           report=True)
    assert tried > 10 and failures == 0

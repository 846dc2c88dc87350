"""The examples in the docstrings of softmax._api's public functions run and give what they show."""

import doctest
import io

import numpy as np
import pytest

import softmax
from softmax import _api

PUBLIC = ["softmax", "log_softmax", "logsumexp", "softmax_jvp", "softmax_vjp", "log_softmax_jvp",
          "log_softmax_vjp", "softmax_jacobian"]
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def doctests(name):
    globs = dict(vars(_api))
    globs["np"] = np
    return doctest.DocTestFinder().find(getattr(_api, name), name, globs=globs)


@pytest.mark.parametrize("name", PUBLIC)
def test_docstring(name):
    func = getattr(_api, name)
    assert func.__doc__ and func.__doc__.strip(), f"{name} has no docstring"
    assert getattr(softmax, name) is func, f"softmax.{name} is not softmax._api.{name}"
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    report = io.StringIO()
    with np.printoptions(legacy=False):
        for test in doctests(name):
            runner.run(test, out=report.write)
    assert runner.failures == 0, report.getvalue()


def test_there_are_examples():
    assert sum(len(t.examples) for name in PUBLIC for t in doctests(name)) > 0

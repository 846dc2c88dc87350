"""The type stub (softmax/__init__.pyi) ships, mypy accepts typical calls of every public
function with the result types the dtype policy gives, rejects wrong ones, and agrees with the
runtime signatures (mypy's stubtest). Skipped when mypy is not installed."""

import os
import pkgutil
import shutil
import subprocess
import sys
import textwrap

import pytest

import softmax

mypy_api = pytest.importorskip("mypy.api")

PACKAGE_DIR = os.path.dirname(softmax.__file__)

GOOD = '''
from typing import Any

import numpy as np
from numpy.typing import NDArray
from typing_extensions import assert_type

import softmax
from softmax import (log_softmax, log_softmax_jvp, log_softmax_vjp, logsumexp, show_config,
                     softmax_jacobian, softmax_jvp, softmax_vjp)

# Annotated, so the snippet does not depend on how a NumPy version's stubs type constructors.
x32: NDArray[np.float32] = np.ones((3, 4), np.float32)
x64: NDArray[np.float64] = np.ones((3, 4))
xi: NDArray[np.int64] = np.zeros((3, 4), np.int64)
mask: NDArray[np.bool_] = np.ones((3, 4), np.bool_)
o32: NDArray[np.float32] = np.empty((3, 4), np.float32)
o64: NDArray[np.float64] = np.empty((3, 4))

assert_type(softmax.softmax(x32, axis=1), NDArray[np.float32])
assert_type(softmax.softmax(x64, -1, temperature=0.5, where=mask, workers=2), NDArray[np.float64])
assert_type(softmax.softmax(xi), NDArray[np.float64])
assert_type(softmax.softmax(x64, dtype=np.float32), NDArray[np.float32])
assert_type(softmax.softmax([1, 2, 3]), NDArray[Any])
assert_type(softmax.softmax(x64, axis=(0, 1), out=o64), NDArray[np.float64])
assert_type(log_softmax(x32, 1), NDArray[np.float32])
assert_type(log_softmax(xi, axis=None, temperature=0), NDArray[np.float64])
assert_type(log_softmax([1.0, 2.0], dtype="float32"), NDArray[Any])
assert_type(log_softmax(x64, out=o64, workers=-1), NDArray[np.float64])

assert_type(logsumexp(x64), np.float64)
assert_type(logsumexp([1.0, 2.0]), np.inexact[Any])
lse: NDArray[np.float64] = logsumexp(x64, axis=1, keepdims=True)
r, s = logsumexp(x64, 1, np.ones(4), False, True)
r, s = logsumexp(x64, axis=0, b=[1.0, -1.0, 1.0], return_sign=True, temperature=2.0)
float(logsumexp(x64, where=mask, dtype=np.float32))

assert_type(softmax_jvp(x64, x64, axis=1), NDArray[np.float64])
assert_type(softmax_jvp(x32, [1.0, 0.0, 0.0, 0.0], 1, temperature=2.0, where=mask), NDArray[Any])
assert_type(log_softmax_jvp(x32, x32, out=o32), NDArray[np.float32])
assert_type(softmax_vjp(x64, x64, 0, workers=None), NDArray[np.float64])
assert_type(log_softmax_vjp([0.0], [1.0], temperature=np.float32(2)), NDArray[Any])
assert_type(softmax_jacobian(x32), NDArray[np.float32])
assert_type(softmax_jacobian([1.0, 2.0], axis=None, temperature=3), NDArray[Any])

info: dict[str, Any] = show_config(print_out=False)
version: str = softmax.__version__
'''

BAD = '''
import numpy as np
from softmax import logsumexp, softmax, softmax_jacobian, softmax_vjp

softmax(np.ones(3), temperature="hot")
softmax(np.ones(3), 0, 1.0)
softmax(np.ones(3), axis="last")
softmax_vjp(np.ones(3), np.ones(3), where=np.ones(3, bool))
softmax_jacobian(np.ones(3), axis=(0,))
logsumexp(np.ones(3), workers=1.5)
'''
BAD_LINES = 6


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    """One mypy cache for the module: numpy's stubs are analysed once, not per test."""
    return str(tmp_path_factory.mktemp("mypy-cache"))


def run_mypy(path, cache):
    stdout, stderr, status = mypy_api.run([
        str(path), "--strict", "--cache-dir", cache, "--python-executable", sys.executable,
        "--show-error-codes", "--no-error-summary"])
    return stdout + stderr, status


def run_snippet(tmp_path, cache, source):
    path = tmp_path / "snippet.py"
    path.write_text(textwrap.dedent(source))
    return run_mypy(path, cache)


def test_stub_and_marker_are_installed():
    assert os.path.isfile(os.path.join(PACKAGE_DIR, "__init__.pyi"))
    assert os.path.isfile(os.path.join(PACKAGE_DIR, "py.typed"))


def test_mypy_accepts_every_public_function(tmp_path, cache):
    report, status = run_snippet(tmp_path, cache, GOOD)
    assert status == 0, report


def test_mypy_rejects_wrong_arguments(tmp_path, cache):
    report, status = run_snippet(tmp_path, cache, BAD)
    errors = [line for line in report.splitlines() if ": error:" in line]
    assert status == 1 and len({e.split(":")[1] for e in errors}) == BAD_LINES, report


def test_stub_itself_passes_strict_mypy(tmp_path, cache):
    # A copy, so that mypy does not take site-packages for a directory of the user's sources.
    stub = tmp_path / "softmax" / "__init__.pyi"
    stub.parent.mkdir()
    shutil.copyfile(os.path.join(PACKAGE_DIR, "__init__.pyi"), stub)
    report, status = run_mypy(stub, cache)
    assert status == 0, report


def test_stub_matches_runtime_signatures(tmp_path):
    # stubtest type-checks the package's private .py modules too, which are not annotated
    # (and import the compiled kernels, which have no stubs): only the stub is judged here.
    private = ",".join(f"softmax.{m.name}" for m in pkgutil.iter_modules(softmax.__path__))
    config = tmp_path / "mypy.ini"
    config.write_text(f"[mypy]\n[mypy-{private}]\nignore_errors = True\n"
                      "[mypy-scipy.*]\nignore_missing_imports = True\n")
    proc = subprocess.run([sys.executable, "-m", "mypy.stubtest", "softmax", "--concise",
                           "--mypy-config-file", str(config)],
                          capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr

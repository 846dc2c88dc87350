"""The arguments of the public functions (``softmax._api``): what each function takes (a
``_Function`` record) and the one parsing step they all share, ``_parse``.

Every argument is checked in one fixed order (the inputs, dtype, axis, keepdims, return_sign,
temperature, where, out, workers), raising before any output is written, and resolved into one
record, a ``_Call``: the dtype through ``_dtype_policy``, the thread count through
``_dispatch.resolve_workers``. Errors name the argument and the bad value.
"""
import math
import numbers
import operator
from typing import NamedTuple

import numpy as np

from . import _dispatch, _interop

try:  # numpy >= 1.25
    from numpy.exceptions import AxisError
except ImportError:  # pragma: no cover
    from numpy import AxisError

_F16, _F32, _F64 = np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64)
_C64, _C128 = np.dtype(np.complex64), np.dtype(np.complex128)


# ---------------------------------------------------------------------------
# What each public function takes
# ---------------------------------------------------------------------------
class _Function(NamedTuple):
    name: str               # the public name, also the key of its NumPy reference
    first: str              # the name of the first input: "x", "y" or "a"
    second: str | None      # the name of the second input: "v", "g", "b" or None
    log: bool               # of log_softmax (else of softmax)
    derivative: str | None  # "jvp", "vjp" or "jacobian" (temperature must be nonzero), or None
    elementwise: bool       # the result has the input's shape (and an `out` may take it)


_SOFTMAX = _Function("softmax", "x", None, False, None, True)
_LOG_SOFTMAX = _Function("log_softmax", "x", None, True, None, True)
_LOGSUMEXP = _Function("logsumexp", "a", "b", False, None, False)
_SOFTMAX_JVP = _Function("softmax_jvp", "x", "v", False, "jvp", True)
_LOG_SOFTMAX_JVP = _Function("log_softmax_jvp", "x", "v", True, "jvp", True)
_SOFTMAX_VJP = _Function("softmax_vjp", "y", "g", False, "vjp", True)
_LOG_SOFTMAX_VJP = _Function("log_softmax_vjp", "y", "g", True, "vjp", True)
_JACOBIAN = _Function("softmax_jacobian", "x", None, False, "jacobian", False)


# ---------------------------------------------------------------------------
# Parse: one checker per kind of argument, and the one order they run in
# ---------------------------------------------------------------------------
def _as_input(a, name):
    """``a`` as an ndarray of a numeric dtype (no copy when it already is one)."""
    arr = np.asarray(a)
    if arr.dtype.kind not in "biufc":
        raise TypeError(f"{name} must hold numbers (bool, integer, float or complex); "
                        f"got an array of dtype={arr.dtype}")
    return arr


def _companion(a, name, shape):
    """A second input (v, g, b) broadcast to the first input's shape."""
    arr = _as_input(a, name)
    try:
        return np.broadcast_to(arr, shape)
    except ValueError:
        raise ValueError(f"{name} of shape {arr.shape} does not broadcast to the input's shape {shape}") from None


def _weights(a, b):
    """logsumexp's ``a`` and ``b`` broadcast together, as scipy does: ``b`` may broadcast ``a``
    to a larger shape (``a`` (3,) and ``b`` (2, 1): the reduction runs over the (2, 3) array,
    and ``axis`` counts its axes)."""
    arr = _as_input(b, "b")
    try:
        shape = np.broadcast_shapes(a.shape, arr.shape)
    except ValueError:
        raise ValueError(f"b of shape {arr.shape} does not broadcast with a of shape {a.shape}") from None
    if shape != a.shape:
        a = np.broadcast_to(a, shape)
    return a, np.broadcast_to(arr, shape)


def _promoted(x, raw, arr):
    """The dtype of x combined with a second input (v, g, b) by the installed NumPy's own
    promotion rules, applied to the input as given (not to its broadcast view): a Python
    scalar is weak (float16 data with g=1 stays float16), and NumPy < 2 also treats NumPy
    scalars and 0-d arrays by value."""
    given = type(raw) in (bool, int, float, complex) or isinstance(raw, (np.generic, np.ndarray))
    return np.result_type(x, raw if given else arr)


def _dtype_policy(src, dtype=None):
    """The one dtype rule: returns (compute dtype, result dtype, fast kernel?).

    float32/float64 run in the kernels; float16 is computed in float32 and
    returned as float16; bool and integers become float64 (integers after their
    slice maximum is subtracted exactly: ``_exact_shift``); longdouble and complex
    use the NumPy reference path (complex64 computed in complex128 and returned
    as complex64).
    """
    if dtype is not None:
        try:
            want = np.dtype(dtype)
        except TypeError:
            raise TypeError(f"dtype must be a floating-point dtype, got dtype={dtype!r}") from None
        if want.kind != "f":
            raise TypeError(f"dtype must be a floating-point dtype (float16, float32, float64 "
                            f"or longdouble), got dtype={want}")
        if src.kind == "c":  # as numpy's same_kind rule: never drop an imaginary part silently
            raise TypeError(f"dtype={want} cannot hold the complex input (of dtype={src}); "
                            f"leave dtype=None for complex input")
        src = want
    if src.kind in "biu":
        return _F64, _F64, True
    native = np.dtype(src.type)
    if src.kind == "f":
        if native == _F16:
            return _F32, _F16, True
        if native in (_F32, _F64) and native.type in (np.float32, np.float64):
            return native, native, True
        return native, native, False
    if src.kind == "c":  # complex64 computed in complex128 (x / T amplifies its rounding)
        return (_C128 if native == _C64 else native), native, False
    raise TypeError(f"unsupported dtype={src}")


def _axes(axis, ndim):
    """``axis`` as a sorted tuple of non-negative ints (None: every axis)."""
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, (tuple, list)):
        items = list(axis)
    else:
        items = [axis]
    out = []
    for ax in items:
        if isinstance(ax, bool) or not hasattr(ax, "__index__"):
            raise TypeError(f"axis must be None, an integer or a tuple of integers, got axis={axis!r}")
        ax = operator.index(ax)
        if not -ndim <= ax < ndim:
            raise AxisError(ax, ndim, "axis")
        out.append(ax % ndim)
    if len(set(out)) != len(out):
        raise ValueError(f"axis contains a duplicate: axis={axis!r}")
    return tuple(sorted(out))


def _bool(value, name):
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {name}={value!r}")
    return bool(value)


def _temperature(temperature, derivative=False):
    """``temperature`` as a float: finite, any sign; 0 only when not a derivative."""
    t = temperature
    if isinstance(t, np.ndarray):
        if t.size != 1:
            raise TypeError(f"temperature must be a real number, got an array of shape {t.shape}")
        t = t.reshape(())[()]
    if isinstance(t, (bool, np.bool_)) or not isinstance(t, (numbers.Real, np.floating, np.integer)):
        raise TypeError(f"temperature must be a real number, got temperature={temperature!r}")
    try:
        t = float(t)
    except OverflowError:  # an int beyond the float range
        raise ValueError(f"temperature must be finite, got temperature={temperature!r}") from None
    if not math.isfinite(t):
        raise ValueError(f"temperature must be finite, got temperature={t!r}")
    if derivative and t == 0:
        raise ValueError("temperature must be nonzero for a derivative (the arg-max limit has "
                         "no Jacobian), got temperature=0.0")
    return t


def _mask(where, shape):
    """``where`` as a boolean array broadcast to ``shape`` (None stays None)."""
    if where is None:
        return None
    w = np.asarray(where)
    if w.dtype != np.bool_:
        raise TypeError(f"where must be a boolean array, got where of dtype={w.dtype}")
    try:
        return np.broadcast_to(w, shape)
    except ValueError:
        raise ValueError(f"where of shape {w.shape} does not broadcast to the input's shape {shape}") from None


def _check_out(out, shape, dtype):
    if out is None:
        return
    if not isinstance(out, np.ndarray):
        if _interop.kind_of(out) == "dask":
            raise TypeError("out is not supported with dask arrays, which are immutable: use the "
                            "dask array returned (store it with .store() or to_zarr())")
        raise TypeError(f"out must be a numpy.ndarray, got out of type {type(out).__name__}")
    if out.shape != tuple(shape):
        raise ValueError(f"out has shape {out.shape}, but the result has shape {tuple(shape)}")
    if out.dtype != dtype:
        raise TypeError(f"out has dtype={out.dtype}, but the result has dtype={dtype}")
    if not out.flags.writeable:
        raise ValueError("out is read-only")


#: The most dimensions an array may have (32 before NumPy 2.0, 64 since).
_MAX_DIMS = 64 if np.lib.NumpyVersion(np.__version__) >= "2.0.0" else 32


class _Call(NamedTuple):
    """One public call, every argument checked and resolved."""
    x: np.ndarray           # the first input (x, y or a), numeric
    second: np.ndarray      # the second input (v, g or b) broadcast to x's shape, or None
    axes: tuple             # the reduced axes, sorted, non-negative
    t: float                # the temperature
    mask: np.ndarray        # `where` broadcast to x's shape, or None
    out: np.ndarray         # checked against the result's shape and dtype, or None
    compute: np.dtype       # the dtype the computation runs in
    result: np.dtype        # the dtype of the result
    fast: bool              # the kernels compute it (else the NumPy reference)
    nthreads: int
    keepdims: bool
    return_sign: bool


def _parse(fn, x, second=None, axis=None, temperature=1.0, where=None, out=None, dtype=None,
           workers=None, keepdims=False, return_sign=False):
    """Check and resolve the arguments of a call of `fn` (a ``_Function``), in one fixed order.

    Arguments a function does not take are passed as their defaults here.
    """
    x = _as_input(x, fn.first)
    other = None
    src = x.dtype
    if fn.second == "b" and second is not None:   # logsumexp's weights (and partial_stats')
        x, other = _weights(x, second)
        src = _promoted(x, second, other)
    elif fn.second is not None and (second is not None or fn.derivative is not None):
        other = _companion(second, fn.second, x.shape)
        src = _promoted(x, second, other)
    compute, result, fast = _dtype_policy(src, dtype)
    if fn is _JACOBIAN and isinstance(axis, (tuple, list)):
        raise TypeError(f"axis must be an integer or None for a Jacobian, got axis={axis!r}")
    axes = _axes(axis, x.ndim)
    keepdims = _bool(keepdims, "keepdims")
    return_sign = _bool(return_sign, "return_sign")
    t = _temperature(temperature, fn.derivative is not None)
    mask = _mask(where, x.shape)
    if fn.elementwise:
        _check_out(out, x.shape, result)
    nthreads = _dispatch.resolve_workers(workers, x.size)
    return _Call(x, other, axes, t, mask, out, compute, result, fast, nthreads, keepdims, return_sign)

"""Public functions: each one reads parse, plan, kernel call, finish.

- parse (``_parse``): every argument of every public function is checked in one
  fixed order (the inputs, dtype, axis, keepdims, return_sign, temperature,
  where, out, workers), raising before any output is written, and resolved into
  one record, a ``_Call``: the dtype through ``_dtype_policy``, the thread count
  through ``_dispatch.resolve_workers``.
- plan (``_plan``): a zero-copy (outer, K, inner) view of the reduction whenever
  the reduced axes are adjacent in a C- or F-contiguous array; integer inputs
  are first shifted by their slice maximum, exactly (``_exact_shift``).
- kernel call: one call into the kernel variant chosen by ``softmax._dispatch``;
  longdouble and complex inputs go through the pure-NumPy ``softmax._reference``
  instead (the table ``_REFERENCE``).
- finish: ``_deliver`` (an elementwise result: into ``out``, in the result
  dtype, a 0-d result as a NumPy scalar) or ``_finish_reduction`` (keepdims, 0-d
  results, return_sign).

Before the parsing, ``_call`` looks at the kind of the inputs once: NumPy inputs (ndarrays,
lists, scalars) go on to ``_numpy_call`` (parse, plan, kernel call, finish); masked arrays,
pandas and xarray objects, torch/JAX/array-API arrays go through ``softmax._interop``, which
hands their NumPy views back to ``_kernel_call`` or computes them in their own namespace
(``softmax._array_api``), and returns a result of their kind (docs/arrays.md).

Small common calls never reach the parsing: the kernel module's C-level
shortcuts (``small_softmax``, ``small_logsumexp``, ``small_derivative``) take
them, or return None and leave them to the general path, which checks them.
``_SHORTCUT_BELOW = 0`` switches the shortcuts off (the tests compare both paths).
"""
import math
import numbers
import operator
from typing import NamedTuple

import numpy as np

from . import _dispatch, _interop, _reference

try:  # numpy >= 1.25
    from numpy.exceptions import AxisError
except ImportError:  # pragma: no cover
    from numpy import AxisError

__all__ = ["softmax", "log_softmax", "logsumexp", "softmax_jvp", "softmax_vjp",
           "log_softmax_jvp", "log_softmax_vjp", "softmax_jacobian"]

_F16, _F32, _F64 = np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64)
_C64, _C128 = np.dtype(np.complex64), np.dtype(np.complex128)

#: The C-level small-call shortcuts answer calls of fewer elements than this (calls that
#: never start threads); 0 switches them off, so that every call takes the general path
#: (the tests compare the two).
_SHORTCUT_BELOW = _dispatch.PARALLEL_MIN_ELEMENTS


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

#: The pure-NumPy computation of each function, for longdouble and complex inputs.
_REFERENCE = {
    "softmax": _reference.softmax,
    "log_softmax": _reference.log_softmax,
    "logsumexp": _reference.logsumexp,
    "softmax_jvp": _reference.softmax_jvp,
    "log_softmax_jvp": _reference.log_softmax_jvp,
    "softmax_vjp": _reference.softmax_vjp,
    "log_softmax_vjp": _reference.log_softmax_vjp,
}


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


# ---------------------------------------------------------------------------
# Plan: the values the computation sees, and the (outer, K, inner) view
# ---------------------------------------------------------------------------
def _exact_shift(call, keep=None):
    """The first input and, for integers, the integers it was shifted by.

    Integers become floating point only after each slice's winning value (its
    maximum; its minimum for T < 0) is subtracted, exactly: the difference always
    fits in uint64 and is rounded once, so 64-bit integers above 2**53 keep their
    differences and nothing wraps. The results of softmax, log_softmax and their
    JVPs do not change under the shift; logsumexp adds the winners back
    (``_add_shift``); a VJP's y is not shifted (it is no input of a softmax). A
    difference beyond 2**53 is rounded, which can matter only where its exponential
    does not underflow, |T| > 1e13. The winners are taken over the entries ``keep``
    (default: the mask) leaves in. Returns (x as it is, or the integer differences in the real dtype
    of the computation; the winners with keepdims, or None).
    """
    x = call.x
    if x.dtype.kind not in "iu":
        return x, None
    real = np.finfo(call.compute).dtype
    keep = call.mask if keep is None else keep
    wide = x.astype(np.int64 if x.dtype.kind == "i" else np.uint64, copy=False)
    info = np.iinfo(wide.dtype)
    low = call.t < 0
    pick = np.min if low else np.max
    ref = pick(wide, axis=call.axes, keepdims=True, initial=info.max if low else info.min,
               where=True if keep is None else keep)
    u, r = wide.view(np.uint64), ref.view(np.uint64)
    with np.errstate(over="ignore"):
        diff = (u - r if low else r - u).astype(real)  # |x - ref| mod 2**64: exact
    return (diff if low else np.subtract(0, diff, dtype=real)), ref


def _add_shift(res, ref, shape):
    """``res + ref`` (ref: the integers ``_exact_shift`` took away) in res's dtype, rounded as
    once: ref is split into two parts exact in float64, and the sum of three is compensated."""
    ref = ref.reshape(shape)
    if res.dtype.kind == "c":
        return (res + ref.astype(np.finfo(res.dtype).dtype)).astype(res.dtype, copy=False)
    low = ref & ref.dtype.type(2047)   # a NumPy scalar: NumPy 1.x casts a Python int by value
    wide = np.longdouble if res.dtype == np.longdouble else np.float64
    hi, lo, r = (ref - low).astype(wide), low.astype(wide), np.asarray(res, wide)
    with np.errstate(invalid="ignore"):
        p = lo + r
        e1 = (lo - (p - (p - lo))) + (r - (p - lo))   # TwoSum errors
        q = hi + p
        e2 = (hi - (q - (q - hi))) + (p - (q - hi))
        total = np.where(np.isfinite(q), q + (e1 + e2), q)
    return total.astype(res.dtype, copy=False)


class _Plan(NamedTuple):
    layout: str     # "C", "F" (no copy of a contiguous input) or "T" (reduced axes moved last)
    perm: tuple     # for "T": the transpose that puts the reduced axes last
    outer: int
    K: int
    inner: int
    kept: tuple     # shape of a reduction's result (reduced axes dropped)


def _plan(x, axes):
    shape, nd = x.shape, x.ndim
    kept = tuple(s for i, s in enumerate(shape) if i not in axes)
    if not axes:  # reduce over nothing: every element is its own slice
        return _Plan("F" if x.flags.f_contiguous and not x.flags.c_contiguous else "C",
                     tuple(range(nd)), x.size, 1, 1, kept)
    a, b = axes[0], axes[-1]
    K = math.prod(shape[i] for i in axes)
    if axes == tuple(range(a, b + 1)):
        if x.flags.f_contiguous and not x.flags.c_contiguous:
            return _Plan("F", (), math.prod(shape[b + 1:]), K, math.prod(shape[:a]), kept)
        return _Plan("C", (), math.prod(shape[:a]), K, math.prod(shape[b + 1:]), kept)
    perm = tuple(i for i in range(nd) if i not in axes) + axes
    return _Plan("T", perm, math.prod(kept), K, 1, kept)


def _prepare(plan, a, dtype):
    """``a`` laid out for the kernel: contiguous, native ``dtype``; copied only if needed."""
    if plan.layout == "T":
        a = a.transpose(plan.perm)
    a = np.asarray(a, dtype=dtype, order="F" if plan.layout == "F" else "C")
    # The kernels assume natural alignment: copy a misaligned (e.g. frombuffer) array.
    return a if a.flags.aligned else a.copy(order="F" if plan.layout == "F" else "C")


def _kernel_view(plan, arr):
    """The kernel's view of a full-shape output array, or None if its layout does not fit."""
    if plan.layout == "T":
        arr = arr.transpose(plan.perm)
    ok = arr.flags.f_contiguous if plan.layout == "F" else arr.flags.c_contiguous
    return arr if ok and arr.flags.aligned else None


def _alloc(plan, shape, dtype):
    """A fresh full-shape array and its kernel view."""
    if plan.layout == "T":
        t = np.empty(tuple(shape[i] for i in plan.perm), dtype)
        return t.transpose(np.argsort(plan.perm)), t
    arr = np.empty(shape, dtype, order=plan.layout)
    return arr, arr


def _same_memory(a, b):
    return (a.__array_interface__["data"][0] == b.__array_interface__["data"][0]
            and a.strides == b.strides)


def _target(plan, call, inputs, alias_ok):
    """Where the kernel writes: ``call.out`` itself when it fits, else a new array.

    ``alias_ok`` is the one input the kernel may overwrite as it goes (it reads
    each element before writing the same element); any other overlap with an
    input goes through a temporary.
    """
    out = call.out
    if out is not None and call.compute == call.result:
        view = _kernel_view(plan, out)
        if view is not None:
            clash = any(np.may_share_memory(view, a) for a in inputs
                        if not (a is alias_ok and _same_memory(view, a)))
            if not clash:
                return out, view
    return _alloc(plan, call.x.shape, call.compute)


def _excluded(t):
    """The input value a masked entry takes: the one that never wins for this temperature."""
    return np.inf if t < 0 else -np.inf


def _apply_mask(res, mask, axes, masked_fill, empty_fill):
    """Masked entries get ``masked_fill``; fully masked slices get ``empty_fill``."""
    np.copyto(res, masked_fill, where=~mask)
    if res.size:
        np.copyto(res, empty_fill, where=~mask.any(axis=axes, keepdims=True))


# ---------------------------------------------------------------------------
# Finish
# ---------------------------------------------------------------------------
def _scalar_if_0d(a, dtype):
    a = np.asarray(a, dtype)
    return a[()] if a.ndim == 0 else a


def _deliver(res, call):
    """An elementwise result in the result dtype, into ``call.out`` when given; 0-d -> scalar."""
    if call.out is not None:
        if res is not call.out:
            np.copyto(call.out, res, casting="unsafe")
        return call.out
    return _scalar_if_0d(res, call.result)


def _finish_reduction(res, sgn, call):
    """A reduction's result of the kept shape: keepdims, the result dtype, 0-d results as
    scalars, and the (value, sign) pair of return_sign."""
    if call.keepdims:
        full = tuple(1 if i in call.axes else s for i, s in enumerate(call.x.shape))
        res = np.reshape(res, full)
        sgn = None if sgn is None else np.reshape(sgn, full)
    if not call.return_sign:
        return _scalar_if_0d(res, call.result)
    # as scipy: a complex input's result is then the log of the modulus, real; its sign the phase
    real = np.finfo(call.result).dtype if call.result.kind == "c" else call.result
    return _scalar_if_0d(np.real(res), real), _scalar_if_0d(sgn, call.result)


# ---------------------------------------------------------------------------
# The computations
# ---------------------------------------------------------------------------
def _softmax_of(call, log):
    """softmax (or log_softmax) of a parsed call, in the compute dtype, in ``call.out``'s memory
    when it fits."""
    xs = _exact_shift(call)[0].astype(call.compute, copy=False)
    mask = call.mask
    if not call.fast:
        f = _REFERENCE["log_softmax" if log else "softmax"]
        return f(xs, axis=call.axes, temperature=call.t, where=mask)
    src = xs if mask is None else np.where(mask, xs, _excluded(call.t))
    plan = _plan(src, call.axes)
    xk = _prepare(plan, src, call.compute)
    # the mask is read again after the kernel (_apply_mask): out must not overlap it either
    res, view = _target(plan, call, (xk,) if mask is None else (xk, mask), alias_ok=xk)
    if plan.K and xk.size:
        _dispatch.kernels.softmax(xk, view, plan.outer, plan.K, plan.inner, call.t, log,
                                  call.nthreads)
    if mask is not None:
        fill = -np.inf if log else 0.0
        _apply_mask(res, mask, call.axes, fill, fill)
    return res


def _logsumexp_of(call):
    """(value, sign or None) of a parsed logsumexp call, of the kept shape, in the compute dtype."""
    bb, t, axes = call.second, call.t, call.axes
    if call.mask is not None:
        bb = call.mask if bb is None else np.where(call.mask, bb, 0)
    xs, shift = _exact_shift(call, None if bb is None else bb != 0)
    xs = xs.astype(call.compute, copy=False)
    plan = _plan(xs, axes)
    sgn = None
    if not call.fast:
        r = _REFERENCE["logsumexp"](xs, axis=axes, b=None if bb is None else bb.astype(call.compute),
                                    return_sign=call.return_sign, temperature=t)
        res, sgn = r if call.return_sign else (r, None)
    else:
        res = np.empty(plan.kept, call.compute, order="F" if plan.layout == "F" else "C")
        if plan.K == 0:
            res.fill(-np.inf)
            sgn = np.zeros_like(res)
        elif res.size == 0:
            sgn = np.zeros_like(res)
        elif bb is None:
            xk = _prepare(plan, xs, call.compute)
            _dispatch.kernels.logsumexp(xk, res, plan.outer, plan.K, plan.inner, t, call.nthreads)
        else:
            xk = _prepare(plan, xs, call.compute)
            bk = _prepare(plan, bb, call.compute)
            sgn = np.empty_like(res)
            _dispatch.kernels.logsumexp_b(xk, bk, res, sgn, plan.outer, plan.K, plan.inner, t,
                                          call.nthreads)
            sgn[np.isnan(res)] = np.nan  # as scipy: no sign for a NaN (e.g. inf - inf) total
        if sgn is None and call.return_sign:  # unweighted: the sum of exponentials is >= 0; it
            zero = res == (np.inf if t < 0 else -np.inf)  # is 0 where T*log(sum) is -inf (+inf if T < 0)
            sgn = np.where(np.isnan(res), np.nan, np.where(zero, 0.0, 1.0)).astype(call.compute)
        if sgn is not None and not call.return_sign:  # weighted: a negative total has no real log
            res = np.where(sgn < 0, np.nan, res).astype(res.dtype, copy=False)
    if shift is not None:
        res = _add_shift(res, shift, plan.kept)
    return res, sgn


def _derivative_of(fn, call):
    """The JVP or VJP of a parsed call, in the compute dtype, in ``call.out``'s memory when it fits."""
    jvp = fn.derivative == "jvp"
    x, v, mask = call.x, call.second, call.mask
    if jvp:
        x, _ = _exact_shift(call)
    if not call.fast:
        extra = {"where": mask} if jvp else {}
        # a JVP's real x stays real with a complex v (softmax(x) is real; the JVP is linear in v)
        xc = x.astype(np.result_type(x.dtype, np.finfo(call.compute).dtype) if jvp else call.compute)
        return _REFERENCE[fn.name](xc, v.astype(call.compute), axis=call.axes, temperature=call.t,
                                   **extra)
    if mask is not None:
        x = np.where(mask, x.astype(call.compute, copy=False), _excluded(call.t))
        v = np.where(mask, v, 0)
    plan = _plan(x, call.axes)
    xk = _prepare(plan, x, call.compute)
    vk = _prepare(plan, v, call.compute)
    res, view = _target(plan, call, (xk, vk) if mask is None else (xk, vk, mask),
                        alias_ok=xk if jvp else None)
    if plan.K and xk.size:
        kernel = _dispatch.kernels.jvp if jvp else _dispatch.kernels.vjp
        kernel(xk, vk, view, plan.outer, plan.K, plan.inner, call.t, fn.log, call.nthreads)
    if mask is not None:
        _apply_mask(res, mask, call.axes, 0.0, 0.0)
    return res


def _jacobian_of(call):
    """The Jacobian of a parsed softmax_jacobian call (its mask, from a masked array's, leaves
    entries out)."""
    nd = call.x.ndim - len(call.axes) + 2
    if nd > _MAX_DIMS:
        raise ValueError(f"x has {call.x.ndim} dimensions; its Jacobian would have {nd}, "
                         f"more than NumPy {np.__version__} allows ({_MAX_DIMS})")
    s = _slices_last(np.asarray(_softmax_of(call, log=False)), call.axes)
    K = s.shape[-1]
    jac = -s[..., :, None] * s[..., None, :]
    idx = np.arange(K)
    others = np.where(np.eye(K, dtype=bool), 0, s[..., None, :]).sum(axis=-1)  # sum_{j != i} s_j
    jac[..., idx, idx] = s * np.where(s > 0.5, others, 1 - s)
    return (jac / call.t).astype(call.result, copy=False)


def _slices_last(a, axes):
    """``a`` with the axes ``axes`` moved to the end and flattened into one (of length K)."""
    K = math.prod(a.shape[i] for i in axes)
    a = np.moveaxis(a, axes, range(-len(axes), 0))
    return a.reshape(a.shape[:a.ndim - len(axes)] + (K,))


def _call(fn, x, second=None, axis=None, temperature=1.0, where=None, out=None, dtype=None,
          workers=None, keepdims=False, return_sign=False, dim=None):
    """A public call past its shortcut: NumPy inputs (ndarrays, lists, scalars) go straight
    to ``_numpy_call``; any other kind (masked arrays, pandas, xarray, dask, torch, JAX, ...),
    and any call with ``dim=``, through the one dispatch of ``softmax._interop``."""
    plain = _interop._PLAIN
    if type(x) in plain and type(second) in plain and type(where) in plain and dim is None:
        return _numpy_call(fn, x, second, axis, temperature, where, out, dtype, workers,
                           keepdims, return_sign)
    return _interop.dispatch(fn, x, second, axis, temperature, where, out, dtype, workers,
                             keepdims, return_sign, dim)


def _kernel_call(fn, x, second, axis, temperature, where, out, dtype, workers, keepdims,
                 return_sign):
    """``_numpy_call`` after the C-level shortcut the public function would try: for the NumPy
    arrays ``softmax._interop`` makes of other kinds of input (a tensor's view, a frame's
    values)."""
    if where is None and dtype is None and (workers is None or (type(workers) is int and workers > 0)):
        k, res = _dispatch.kernels, None
        if fn is _LOGSUMEXP:
            if keepdims is False and return_sign is False:
                res = k.small_logsumexp(x, axis, temperature, _SHORTCUT_BELOW, second)
        elif fn.derivative in ("jvp", "vjp"):
            res = k.small_derivative(x, second, axis, temperature, fn.derivative == "vjp", fn.log,
                                     _SHORTCUT_BELOW, out)
        elif fn is not _JACOBIAN:
            res = k.small_softmax(x, axis, temperature, fn.log, _SHORTCUT_BELOW, out)
        if res is not None:
            return res
    return _numpy_call(fn, x, second, axis, temperature, where, out, dtype, workers, keepdims,
                       return_sign)


def _numpy_call(fn, x, second, axis, temperature, where, out, dtype, workers, keepdims,
                return_sign):
    """Parse, compute and finish a call of ``fn`` on NumPy inputs."""
    call = _parse(fn, x, second, axis, temperature, where, out, dtype, workers, keepdims,
                  return_sign)
    if fn is _LOGSUMEXP:
        return _finish_reduction(*_logsumexp_of(call), call)
    if fn is _JACOBIAN:
        return _jacobian_of(call)
    if fn.derivative is not None:
        return _deliver(_derivative_of(fn, call), call)
    return _deliver(_softmax_of(call, fn.log), call)


def _softmax_like(fn, x, axis, temperature, where, out, dtype, workers, dim):
    """A public softmax or log_softmax: the C-level shortcut of a small call, or parse, plan,
    kernel, finish."""
    if (where is None and dtype is None and dim is None
            and (workers is None or (type(workers) is int and workers > 0))):
        res = _dispatch.kernels.small_softmax(x, axis, temperature, fn.log, _SHORTCUT_BELOW, out)
        if res is not None:   # the common small call, checked and run at C level
            return res
    return _call(fn, x, None, axis, temperature, where, out, dtype, workers, dim=dim)


def _derivative(fn, x, v, axis, temperature, where, out, workers, dim):
    """A public JVP or VJP: the C-level shortcut of a small call, or parse, plan, kernel, finish."""
    if where is None and dim is None and (workers is None or (type(workers) is int and workers > 0)):
        res = _dispatch.kernels.small_derivative(x, v, axis, temperature, fn.derivative == "vjp",
                                                 fn.log, _SHORTCUT_BELOW, out)
        if res is not None:   # the common small call, checked and run at C level
            return res
    return _call(fn, x, v, axis, temperature, where, out, None, workers, dim=dim)


# ---------------------------------------------------------------------------
# Docstrings: the parameter text shared by several functions, written once
# ---------------------------------------------------------------------------
_DOC = {
    "jvp_sections": """Parameters
    ----------
    x : array_like
        The point at which the Jacobian is taken.
    v : array_like
        Tangent, broadcast to ``x``.
    axis, temperature, where, out, workers, dim
        As in `softmax`; ``temperature`` must be nonzero. Masked entries give 0.

    Returns
    -------
    ndarray
        Same shape as ``x``; no softmax array is allocated.

    %(derivative_raises)s

    See Also
    --------
    softmax_jvp, log_softmax_jvp, softmax_vjp, log_softmax_vjp, softmax_jacobian""",
    "vjp_sections": """Parameters
    ----------
    y : array_like
        The output the forward pass saved: ``softmax(x, axis, temperature=T)``
        for `softmax_vjp`, ``log_softmax(x, axis, temperature=T)`` for
        `log_softmax_vjp`.
    g : array_like
        Gradient with respect to ``y``, broadcast to ``y``.
    axis, temperature, out, workers, dim
        As in `softmax`; ``temperature`` must be nonzero.

    Returns
    -------
    ndarray
        The gradient with respect to ``x``.

    %(derivative_raises)s

    See Also
    --------
    softmax_jvp, log_softmax_jvp, softmax_vjp, log_softmax_vjp""",
    "derivative_raises": """Raises
    ------
    ValueError
        ``temperature == 0``; a second input that does not broadcast to the
        first; as `softmax`.
    TypeError, numpy.exceptions.AxisError
        As `softmax`.""",
}


def _doc(func):
    """Fill the shared text (``%(name)s``, from ``_DOC``, which may use it too) into func's
    docstring."""
    doc = func.__doc__
    while "%(" in doc:
        doc = doc % _DOC
    func.__doc__ = doc
    return func


# ---------------------------------------------------------------------------
# The public functions
# ---------------------------------------------------------------------------
def softmax(x, axis=None, *, temperature=1.0, where=None, out=None, dtype=None, workers=None,
            dim=None):
    r"""Softmax of ``x / temperature`` along ``axis``; a drop-in for `scipy.special.softmax`.

    Parameters
    ----------
    x : array_like
        Input. Bool is converted to float64 before any arithmetic, integers
        after the exact subtraction of each slice's maximum; float16 is
        computed in float32.
    axis : int, tuple of ints or None, optional
        Axis or axes of each slice. None (the default, as in scipy) uses the
        whole array as one slice.
    temperature : float, optional
        ``T`` in ``exp(x/T) / sum(exp(x/T))``. 0 gives the arg-max limit
        (one-hot, ties split evenly), and so does a ``|T|`` below about 5.6e-309,
        whose inverse overflows; a negative value favours the minimum.
    where : array_like of bool, optional
        Entries that take part; the others get 0. A fully masked slice is 0.
    out : ndarray, optional
        Array of the result's shape and dtype to write into; may be ``x``.
    dtype : dtype, optional
        Floating dtype to compute and return in.
    workers : int, optional
        Threads for large inputs (None: default; negative: counts back from
        the CPU count, -1 = all). For dask arrays: threads inside each task
        (default 1; dask runs the tasks in parallel).
    dim : hashable or tuple of hashables, optional
        For an xarray DataArray only: the reduced dims by name, in place of
        ``axis`` (not both). The result is a DataArray with the input's dims,
        coordinates, name and attrs.

    Returns
    -------
    ndarray
        Same shape as ``x``; each slice is positive and sums to 1. A numpy
        scalar for 0-d input. A dask array (lazy) for dask input; a DataArray
        for a DataArray.

    Raises
    ------
    TypeError
        Non-numeric ``x``, non-boolean ``where``, bad ``dtype``/``out``/``axis`` type.
    ValueError
        Non-finite ``temperature``, ``out`` of wrong shape or read-only,
        duplicate axes, ``workers=0``.
    numpy.exceptions.AxisError
        An axis out of range.

    See Also
    --------
    log_softmax, logsumexp, softmax_jvp, softmax_vjp, softmax_jacobian

    Notes
    -----
    :math:`\sigma(x)_j = e^{x_j/T} / \sum_k e^{x_k/T}`, computed as
    :math:`e^{(x_j - m)/T} / \sum_k e^{(x_k - m)/T}` with :math:`m` the slice
    maximum; :math:`x_j - m` is carried exactly into the exponential, so the
    result is within about 2 ulp of the exact value.
    Special values are handled per slice: any NaN makes the slice NaN; +inf
    entries share the probability mass evenly (the limit), an all -inf slice
    is NaN (as in scipy), and an empty axis gives an empty result.

    Examples
    --------
    >>> from softmax import softmax
    >>> softmax([1, 2, 3, 4, 1, 2, 3]).round(7)
    array([0.0236405, 0.0642617, 0.1746813, 0.474833 , 0.0236405, 0.0642617,
           0.1746813])
    >>> softmax([[1, 2], [3, 5]], axis=1).round(4)
    array([[0.2689, 0.7311],
           [0.1192, 0.8808]])
    >>> softmax([1.0, 3.0, 3.0], temperature=0)
    array([0. , 0.5, 0.5])
    >>> softmax([1.0, float("inf"), 2.0])
    array([0., 1., 0.])
    >>> import numpy as np
    >>> softmax(np.array([2**62, 2**62 + 1])).round(4)
    array([0.2689, 0.7311])
    """
    return _softmax_like(_SOFTMAX, x, axis, temperature, where, out, dtype, workers, dim)


def log_softmax(x, axis=None, *, temperature=1.0, where=None, out=None, dtype=None, workers=None,
                dim=None):
    r"""Logarithm of the softmax of ``x / temperature``; a drop-in for `scipy.special.log_softmax`.

    Parameters
    ----------
    x, axis, out, dtype, workers, dim
        As in `softmax`.
    temperature : float, optional
        ``T`` in ``x/T - logsumexp(x/T)``; 0 gives 0 (or -log of the number of
        ties) at the maximum and -inf elsewhere; a ``|T|`` below about 5.6e-309
        gives that limit too, with ``(x - max)/|T|`` in place of -inf.
    where : array_like of bool, optional
        Entries that take part; the others get -inf, as does a fully masked slice.

    Returns
    -------
    ndarray
        Same shape as ``x``; ``exp`` of each slice sums to 1.

    Raises
    ------
    TypeError, ValueError, numpy.exceptions.AxisError
        As `softmax`.

    See Also
    --------
    softmax, logsumexp, log_softmax_jvp, log_softmax_vjp

    Notes
    -----
    :math:`\log\sigma(x)_j = (x_j - m)/T - \log\sum_k e^{(x_k - m)/T}`, the
    logarithm taken as ``log1p`` of the sum less its leading 1, so the entry of
    a confident slice that is close to 0 keeps its full relative precision
    (``scipy`` and ``torch`` lose thousands of ulps there).
    Special values are handled per slice: any NaN makes the slice NaN; +inf
    entries give -log(count) (0 for one), other entries -inf; an all -inf
    slice is NaN.

    Examples
    --------
    >>> from softmax import log_softmax
    >>> log_softmax([0.0, -30.0])
    array([-9.35762297e-14, -3.00000000e+01])
    >>> log_softmax([[1, 2], [3, 5]], axis=1).round(4)
    array([[-1.3133, -0.3133],
           [-2.1269, -0.1269]])
    """
    return _softmax_like(_LOG_SOFTMAX, x, axis, temperature, where, out, dtype, workers, dim)


def logsumexp(a, axis=None, b=None, keepdims=False, return_sign=False, *, temperature=1.0,
              where=None, dtype=None, workers=None, dim=None):
    r"""Logarithm of the sum of exponentials; a drop-in for `scipy.special.logsumexp`.

    With a temperature it is the smooth maximum ``T * logsumexp(a / T)``, whose
    gradient is ``softmax(a, temperature=T)``.

    Parameters
    ----------
    a : array_like
        Input, converted as in `softmax` (integers: the slice maximum is added
        back to the result, rounded once).
    axis : int, tuple of ints or None, optional
        Axis or axes to reduce; None (default) reduces the whole array.
    b : array_like, optional
        Weights broadcast with ``a``: ``log(sum(b * exp(a)))``. As in scipy,
        ``b`` may broadcast ``a`` to a larger shape, whose axes ``axis`` then
        counts. Entries with ``b == 0`` are left out, even where ``a`` is inf
        or NaN.
    keepdims : bool, optional
        Keep the reduced axes with length 1.
    return_sign : bool, optional
        Also return the sign of the weighted sum; without it a negative sum
        gives NaN.
    temperature : float, optional
        ``T``; 0 gives the maximum itself (the limit), as does a ``|T|`` below
        about 5.6e-309; negative values the smooth minimum.
    where : array_like of bool, optional
        Entries that take part; a fully masked slice gives -inf.
    dtype, workers, dim
        As in `softmax`; with ``dim`` the reduced dims are dropped from the
        resulting DataArray (kept with length 1 under ``keepdims``).

    Returns
    -------
    res : ndarray or scalar
        The reduction (a numpy scalar when everything is reduced); with
        ``return_sign`` the log of the sum's modulus, real for complex input.
    sgn : ndarray or scalar
        Only with ``return_sign``: +1, -1, or 0 for a zero sum; for complex
        input the phase of the sum, a unit complex number.

    Raises
    ------
    TypeError, ValueError, numpy.exceptions.AxisError
        As `softmax`; ``b`` and ``a`` that do not broadcast together are a ValueError.

    See Also
    --------
    softmax, log_softmax

    Notes
    -----
    :math:`T \log\sum_k b_k e^{a_k/T} = m + T \log\sum_k b_k e^{(a_k-m)/T}`
    with :math:`m` the maximum; the sum is compensated and its logarithm taken
    as ``log1p`` of the sum less its leading 1. An empty reduction is -inf, a
    NaN gives NaN, +inf gives +inf.

    Examples
    --------
    >>> import numpy as np
    >>> from softmax import logsumexp
    >>> float(logsumexp([1.0, 2.0, 3.0]))
    3.40760596444438
    >>> logsumexp([[0.0, 0.0], [1.0, 1.0]], axis=1)
    array([0.69314718, 1.69314718])
    >>> res, sign = logsumexp([1.0, 2.0], b=[1.0, -1.0], return_sign=True)
    >>> float(res), float(sign)
    (1.5413248546129181, -1.0)
    >>> float(logsumexp([1.0, 2.0, 3.0], temperature=0))
    3.0
    """
    if (where is None and dtype is None and keepdims is False and return_sign is False
            and dim is None and (workers is None or (type(workers) is int and workers > 0))):
        res = _dispatch.kernels.small_logsumexp(a, axis, temperature,
                                                _SHORTCUT_BELOW, b)
        if res is not None:   # the common small call, checked and run at C level
            return res
    return _call(_LOGSUMEXP, a, b, axis, temperature, where, None, dtype, workers, keepdims,
                 return_sign, dim)


@_doc
def softmax_jvp(x, v, axis=None, *, temperature=1.0, where=None, out=None, workers=None, dim=None):
    r"""Jacobian-vector product of softmax: ``J(x) v`` along ``axis``, fused.

    %(jvp_sections)s

    Notes
    -----
    ``s * (v - sum(s * v)) / T`` with ``s = softmax(x, temperature=T)``:
    :math:`J_{ij} = s_i(\delta_{ij} - s_j)/T` is symmetric, so the JVP and the
    VJP are the same map.

    Examples
    --------
    >>> from softmax import softmax_jvp
    >>> softmax_jvp([0.0, 0.0], [1.0, 0.0])
    array([ 0.25, -0.25])
    >>> softmax_jvp([0.0, 0.0], [1.0, 0.0], temperature=0.5)
    array([ 0.5, -0.5])
    """
    return _derivative(_SOFTMAX_JVP, x, v, axis, temperature, where, out, workers, dim)


@_doc
def log_softmax_jvp(x, v, axis=None, *, temperature=1.0, where=None, out=None, workers=None,
                    dim=None):
    r"""Jacobian-vector product of log_softmax: ``(v - sum(softmax(x) * v)) / T``.

    %(jvp_sections)s

    Notes
    -----
    :math:`\partial \log\sigma_i / \partial x_j = (\delta_{ij} - s_j)/T`.

    Examples
    --------
    >>> from softmax import log_softmax_jvp
    >>> log_softmax_jvp([0.0, 0.0], [1.0, 0.0])
    array([ 0.5, -0.5])
    """
    return _derivative(_LOG_SOFTMAX_JVP, x, v, axis, temperature, where, out, workers, dim)


@_doc
def softmax_vjp(y, g, axis=None, *, temperature=1.0, out=None, workers=None, dim=None):
    r"""Backward pass of softmax from its saved output: ``y * (g - sum(y * g)) / T``.

    %(vjp_sections)s

    Notes
    -----
    Two passes: the dot product ``sum(y * g)`` (compensated), then the output.
    The JVP and the VJP of softmax are the same map (its Jacobian is symmetric);
    this one starts from ``y`` and needs no exponential.

    Examples
    --------
    >>> from softmax import softmax, softmax_vjp
    >>> y = softmax([0.0, 0.0])        # saved by the forward pass
    >>> softmax_vjp(y, [1.0, 0.0])
    array([ 0.25, -0.25])
    """
    return _derivative(_SOFTMAX_VJP, y, g, axis, temperature, None, out, workers, dim)


@_doc
def log_softmax_vjp(y, g, axis=None, *, temperature=1.0, out=None, workers=None, dim=None):
    r"""Backward pass of log_softmax from its saved output: ``(g - exp(y) * sum(g)) / T``.

    %(vjp_sections)s

    Notes
    -----
    Two passes: ``sum(g)`` (compensated), then the output.

    Examples
    --------
    >>> import numpy as np
    >>> from softmax import log_softmax_vjp
    >>> log_softmax_vjp(np.log([0.5, 0.5]), [1.0, 0.0])
    array([ 0.5, -0.5])
    >>> log_softmax_vjp(np.log([0.5, 0.5]), [1.0, 0.0], temperature=2.0)
    array([ 0.25, -0.25])
    """
    return _derivative(_LOG_SOFTMAX_VJP, y, g, axis, temperature, None, out, workers, dim)


def softmax_jacobian(x, axis=-1, *, temperature=1.0):
    r"""The full Jacobian of softmax along one axis: ``(diag(s) - s s^T) / T``.

    Parameters
    ----------
    x : array_like
        Input.
    axis : int or None, optional
        The axis of the slices (default -1); None flattens ``x`` into one slice.
    temperature : float, optional
        Nonzero ``T``.

    Returns
    -------
    ndarray
        Shape ``x.shape`` without ``axis``, followed by ``(K, K)``. Meant for
        small ``K``; use `softmax_jvp` / `softmax_vjp` for products.

    Raises
    ------
    ValueError, TypeError, numpy.exceptions.AxisError
        As `softmax_jvp`; a tuple ``axis`` is a TypeError.

    See Also
    --------
    softmax_jvp, softmax_vjp

    Notes
    -----
    :math:`J_{ij} = s_i(\delta_{ij} - s_j)/T`; the diagonal is computed as
    :math:`s_i (1 - s_i)`, or as the sum of the other entries when
    :math:`s_i > 1/2`, so it keeps its relative precision.

    Examples
    --------
    >>> from softmax import softmax_jacobian
    >>> softmax_jacobian([0.0, 0.0])
    array([[ 0.25, -0.25],
           [-0.25,  0.25]])
    """
    return _call(_JACOBIAN, x, None, axis, temperature)

"""Public functions: validation, dtype policy, axis layout and dispatch.

Every function here checks all of its arguments (raising before any output is
written), resolves the dtype through ``_dtype_policy``, the axes through
``_plan`` (a zero-copy (outer, K, inner) view whenever the reduced axes are
adjacent in a C- or F-contiguous array) and the thread count through
``_dispatch.resolve_workers``, then makes one call into the kernel variant
chosen by ``softmax._dispatch``. longdouble and complex inputs go through the
pure-NumPy reference in ``softmax._reference``.
"""
import math
import numbers
import operator
from typing import NamedTuple

import numpy as np

from . import _dispatch, _reference

try:  # numpy >= 1.25
    from numpy.exceptions import AxisError
except ImportError:  # pragma: no cover
    from numpy import AxisError

__all__ = ["softmax", "log_softmax", "logsumexp", "softmax_jvp", "softmax_vjp",
           "log_softmax_jvp", "log_softmax_vjp", "softmax_jacobian"]

_F16, _F32, _F64 = np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64)
_C64, _C128 = np.dtype(np.complex64), np.dtype(np.complex128)


# ---------------------------------------------------------------------------
# Argument checking: one helper per kind of argument
# ---------------------------------------------------------------------------
def _as_input(a, name):
    """``a`` as an ndarray of a numeric dtype (no copy when it already is one)."""
    arr = np.asarray(a)
    if arr.dtype.kind not in "biufc":
        raise TypeError(f"{name} must hold numbers (bool, integer, float or complex); "
                        f"got an array of dtype={arr.dtype}")
    return arr


def _dtype_policy(src, dtype=None):
    """The one dtype rule: returns (compute dtype, result dtype, fast kernel?).

    float32/float64 run in the kernels; float16 is computed in float32 and
    returned as float16; bool and integers become float64 before any
    arithmetic; longdouble and complex use the NumPy reference path (complex64
    computed in complex128 and returned as complex64).
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


def _companion(a, name, shape):
    """A second input (v, g, b) broadcast to the first input's shape."""
    arr = _as_input(a, name)
    try:
        return np.broadcast_to(arr, shape)
    except ValueError:
        raise ValueError(f"{name} of shape {arr.shape} does not broadcast to the input's shape {shape}") from None


#: The most dimensions an array may have (32 before NumPy 2.0, 64 since).
_MAX_DIMS = 64 if np.lib.NumpyVersion(np.__version__) >= "2.0.0" else 32


def _promoted(x, raw, arr):
    """The dtype of x combined with a second input (v, g, b) by the installed NumPy's own
    promotion rules, applied to the input as given (not to its broadcast view): a Python
    scalar is weak (float16 data with g=1 stays float16), and NumPy < 2 also treats NumPy
    scalars and 0-d arrays by value."""
    given = type(raw) in (bool, int, float, complex) or isinstance(raw, (np.generic, np.ndarray))
    return np.result_type(x, raw if given else arr)


def _check_out(out, shape, dtype):
    if out is None:
        return
    if not isinstance(out, np.ndarray):
        raise TypeError(f"out must be a numpy.ndarray, got out of type {type(out).__name__}")
    if out.shape != tuple(shape):
        raise ValueError(f"out has shape {out.shape}, but the result has shape {tuple(shape)}")
    if out.dtype != dtype:
        raise TypeError(f"out has dtype={out.dtype}, but the result has dtype={dtype}")
    if not out.flags.writeable:
        raise ValueError("out is read-only")


def _bool(value, name):
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {name}={value!r}")
    return bool(value)


# ---------------------------------------------------------------------------
# Layout: the (outer, K, inner) view of the reduction
# ---------------------------------------------------------------------------
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


def _target(plan, out, shape, compute, result, inputs, alias_ok):
    """Where the kernel writes: ``out`` itself when it fits, else a new array.

    ``alias_ok`` is the one input the kernel may overwrite as it goes (it reads
    each element before writing the same element); any other overlap with an
    input goes through a temporary.
    """
    if out is not None and compute == result:
        view = _kernel_view(plan, out)
        if view is not None:
            clash = any(np.may_share_memory(view, a) for a in inputs
                        if not (a is alias_ok and _same_memory(view, a)))
            if not clash:
                return out, view
    return _alloc(plan, shape, compute)


def _finish(res, out, result):
    """Deliver ``res`` in the result dtype, into ``out`` when given; 0-d -> scalar."""
    if out is not None:
        if res is not out:
            np.copyto(out, res, casting="unsafe")
        return out
    if res.dtype != result:
        res = res.astype(result)
    return res[()] if res.ndim == 0 else res


# ---------------------------------------------------------------------------
# softmax and log_softmax
# ---------------------------------------------------------------------------
def _small_workers(workers):
    """workers of a call the small-call shortcuts may take (they run on the calling thread)."""
    return workers is None or (type(workers) is int and workers > 0)


def _common_call(x, axis, temperature, workers, log, out):
    """softmax/log_softmax of a small common call (no where/dtype) by the kernel module's
    C-level shortcut; None when the call is not of that kind (then the general path runs, and
    raises for bad arguments). Large calls need no shortcut: the general path's cost is small
    next to their work."""
    if not _small_workers(workers):
        return None
    return _dispatch.kernels.small_softmax(x, axis, temperature, log,
                                           _dispatch.PARALLEL_MIN_ELEMENTS, out)


def _small_derivative(kind, x, v, axis, temperature, workers, log, out):
    """The JVP/VJP of a small call (no where) by the C-level shortcut, or None."""
    if not _small_workers(workers):
        return None
    return _dispatch.kernels.small_derivative(x, v, axis, temperature, kind == "vjp", log,
                                              _dispatch.PARALLEL_MIN_ELEMENTS, out)


def _softmax_like(x, axis, temperature, where, out, dtype, workers, log):
    x = _as_input(x, "x")
    compute, result, fast = _dtype_policy(x.dtype, dtype)
    axes = _axes(axis, x.ndim)
    t = _temperature(temperature)
    mask = _mask(where, x.shape)
    nthreads = _dispatch.resolve_workers(workers, x.size)
    _check_out(out, x.shape, result)
    fill = -np.inf if log else 0.0

    if not fast:
        f = _reference.log_softmax if log else _reference.softmax
        return _finish(f(x.astype(compute), axis=axes, temperature=t, where=mask), out, result)

    src = x if mask is None else np.where(mask, x.astype(compute, copy=False), _excluded(t))
    plan = _plan(src, axes)
    xk = _prepare(plan, src, compute)
    # the mask is read again after the kernel (_apply_mask): out must not overlap it either
    res, view = _target(plan, out, x.shape, compute, result,
                        (xk,) if mask is None else (xk, mask), alias_ok=xk)
    if plan.K and x.size:
        _dispatch.kernels.softmax(xk, view, plan.outer, plan.K, plan.inner, t, log, nthreads)
    if mask is not None:
        _apply_mask(res, mask, axes, fill, fill)
    return _finish(res, out, result)


def _excluded(t):
    """The input value a masked entry takes: the one that never wins for this temperature."""
    return np.inf if t < 0 else -np.inf


def _apply_mask(res, mask, axes, masked_fill, empty_fill):
    """Masked entries get ``masked_fill``; fully masked slices get ``empty_fill``."""
    np.copyto(res, masked_fill, where=~mask)
    if res.size:
        np.copyto(res, empty_fill, where=~mask.any(axis=axes, keepdims=True))


def softmax(x, axis=None, *, temperature=1.0, where=None, out=None, dtype=None, workers=None):
    r"""Softmax of ``x / temperature`` along ``axis``; a drop-in for `scipy.special.softmax`.

    Parameters
    ----------
    x : array_like
        Input. Integers and bool are converted to float64 before any
        arithmetic; float16 is computed in float32.
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
        the CPU count, -1 = all).

    Returns
    -------
    ndarray
        Same shape as ``x``; each slice is positive and sums to 1. A numpy
        scalar for 0-d input.

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
    """
    if where is None and dtype is None:
        res = _common_call(x, axis, temperature, workers, False, out)
        if res is not None:
            return res
    return _softmax_like(x, axis, temperature, where, out, dtype, workers, log=False)


def log_softmax(x, axis=None, *, temperature=1.0, where=None, out=None, dtype=None, workers=None):
    r"""Logarithm of the softmax of ``x / temperature``; a drop-in for `scipy.special.log_softmax`.

    Parameters
    ----------
    x : array_like
        Input (integers and bool become float64; float16 is computed in float32).
    axis : int, tuple of ints or None, optional
        Axis or axes of each slice; None (default) is the whole array.
    temperature : float, optional
        ``T`` in ``x/T - logsumexp(x/T)``; 0 gives 0 (or -log of the number of
        ties) at the maximum and -inf elsewhere; a ``|T|`` below about 5.6e-309
        gives that limit too, with ``(x - max)/|T|`` in place of -inf.
    where : array_like of bool, optional
        Entries that take part; the others get -inf, as does a fully masked slice.
    out : ndarray, optional
        Array of the result's shape and dtype to write into; may be ``x``.
    dtype : dtype, optional
        Floating dtype to compute and return in.
    workers : int, optional
        Threads for large inputs, as in `softmax`.

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
    if where is None and dtype is None:
        res = _common_call(x, axis, temperature, workers, True, out)
        if res is not None:
            return res
    return _softmax_like(x, axis, temperature, where, out, dtype, workers, log=True)


# ---------------------------------------------------------------------------
# logsumexp
# ---------------------------------------------------------------------------
def logsumexp(a, axis=None, b=None, keepdims=False, return_sign=False, *, temperature=1.0,
              where=None, dtype=None, workers=None):
    r"""Logarithm of the sum of exponentials; a drop-in for `scipy.special.logsumexp`.

    With a temperature it is the smooth maximum ``T * logsumexp(a / T)``, whose
    gradient is ``softmax(a, temperature=T)``.

    Parameters
    ----------
    a : array_like
        Input.
    axis : int, tuple of ints or None, optional
        Axis or axes to reduce; None (default) reduces the whole array.
    b : array_like, optional
        Weights broadcast to ``a``: ``log(sum(b * exp(a)))``. Entries with
        ``b == 0`` are left out, even where ``a`` is inf or NaN.
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
    dtype : dtype, optional
        Floating dtype to compute and return in.
    workers : int, optional
        Threads for large inputs, as in `softmax`.

    Returns
    -------
    res : ndarray or scalar
        The reduction (a numpy scalar when everything is reduced).
    sgn : ndarray or scalar
        Only with ``return_sign``: +1, -1, or 0 for a zero sum.

    Raises
    ------
    TypeError, ValueError, numpy.exceptions.AxisError
        As `softmax`; ``b`` that does not broadcast to ``a`` is a ValueError.

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
            and _small_workers(workers)):
        res = _dispatch.kernels.small_logsumexp(a, axis, temperature,
                                                _dispatch.PARALLEL_MIN_ELEMENTS, b)
        if res is not None:   # the common small call, checked and run at C level
            return res
    a = _as_input(a, "a")
    bb = None if b is None else _companion(b, "b", a.shape)
    compute, result, fast = _dtype_policy(a.dtype if bb is None else _promoted(a, b, bb), dtype)
    axes = _axes(axis, a.ndim)
    keepdims = _bool(keepdims, "keepdims")
    return_sign = _bool(return_sign, "return_sign")
    t = _temperature(temperature)
    mask = _mask(where, a.shape)
    nthreads = _dispatch.resolve_workers(workers, a.size)
    if mask is not None:
        bb = mask if bb is None else np.where(mask, bb, 0)

    if not fast:
        r = _reference.logsumexp(a.astype(compute), axis=axes,
                                 b=None if bb is None else bb.astype(compute),
                                 keepdims=keepdims, return_sign=return_sign, temperature=t)
        r = r if return_sign else (r,)
        r = tuple(np.asarray(v, result) for v in r)
        r = tuple(v[()] if v.ndim == 0 else v for v in r)
        return r if return_sign else r[0]
    else:
        plan = _plan(a, axes)
        res = np.empty(plan.kept, compute, order="F" if plan.layout == "F" else "C")
        sgn = None
        if plan.K == 0:
            res.fill(-np.inf)
            sgn = np.zeros_like(res)
        elif res.size == 0:
            sgn = np.zeros_like(res)
        elif bb is None:
            ak = _prepare(plan, a, compute)
            _dispatch.kernels.logsumexp(ak, res, plan.outer, plan.K, plan.inner, t, nthreads)
        else:
            ak = _prepare(plan, a, compute)
            bk = _prepare(plan, bb, compute)
            sgn = np.empty_like(res)
            _dispatch.kernels.logsumexp_b(ak, bk, res, sgn, plan.outer, plan.K, plan.inner, t,
                                          nthreads)
            sgn[np.isnan(res)] = np.nan  # as scipy: no sign for a NaN (e.g. inf - inf) total
        if sgn is None and return_sign:  # unweighted: the sum of exponentials is >= 0; it is
            zero = res == (np.inf if t < 0 else -np.inf)  # 0 where T*log(sum) is -inf (+inf if T < 0)
            sgn = np.where(np.isnan(res), np.nan, np.where(zero, 0.0, 1.0)).astype(compute)
    if not return_sign:
        if sgn is not None:  # weighted: a negative total has no real log
            res = np.where(sgn < 0, np.nan, res).astype(res.dtype, copy=False)
        res = np.asarray(res, result)
        if keepdims:
            res = np.reshape(res, tuple(1 if i in axes else s for i, s in enumerate(a.shape)))
        return res[()] if res.ndim == 0 else res
    if keepdims:
        full = tuple(1 if i in axes else s for i, s in enumerate(a.shape))
        res, sgn = np.reshape(res, full), np.reshape(sgn, full)
    res, sgn = np.asarray(res, result), np.asarray(sgn, result)
    return (res[()], sgn[()]) if res.ndim == 0 else (res, sgn)


# ---------------------------------------------------------------------------
# Derivatives
# ---------------------------------------------------------------------------
def _derivative(kind, x, v, axis, temperature, where, out, workers, log):
    if where is None:
        res = _small_derivative(kind, x, v, axis, temperature, workers, log, out)
        if res is not None:   # the common small call, checked and run at C level
            return res
    first, second = ("x", "v") if kind == "jvp" else ("y", "g")
    x = _as_input(x, first)
    vv = _companion(v, second, x.shape)
    compute, result, fast = _dtype_policy(_promoted(x, v, vv))
    axes = _axes(axis, x.ndim)
    t = _temperature(temperature, derivative=True)
    mask = _mask(where, x.shape)
    nthreads = _dispatch.resolve_workers(workers, x.size)
    _check_out(out, x.shape, result)

    if not fast:
        f = getattr(_reference, ("log_softmax_" if log else "softmax_") + kind)
        extra = {"where": mask} if kind == "jvp" else {}
        # a JVP's real x stays real with a complex v (softmax(x) is real; the JVP is linear in v)
        xc = x.astype(np.result_type(x.dtype, np.finfo(compute).dtype) if kind == "jvp" else compute)
        return _finish(f(xc, vv.astype(compute), axis=axes, temperature=t, **extra), out, result)

    if mask is not None:
        x = np.where(mask, x.astype(compute, copy=False), _excluded(t))
        vv = np.where(mask, vv, 0)
    plan = _plan(x, axes)
    xk = _prepare(plan, x, compute)
    vk = _prepare(plan, vv, compute)
    res, view = _target(plan, out, x.shape, compute, result,
                        (xk, vk) if mask is None else (xk, vk, mask),
                        alias_ok=xk if kind == "jvp" else None)
    if plan.K and x.size:
        f = _dispatch.kernels.jvp if kind == "jvp" else _dispatch.kernels.vjp
        f(xk, vk, view, plan.outer, plan.K, plan.inner, t, log, nthreads)
    if mask is not None:
        _apply_mask(res, mask, axes, 0.0, 0.0)
    return _finish(res, out, result)


def softmax_jvp(x, v, axis=None, *, temperature=1.0, where=None, out=None, workers=None):
    r"""Jacobian-vector product of softmax: ``J(x) v`` along ``axis``, fused.

    Parameters
    ----------
    x : array_like
        The point at which the Jacobian of ``softmax(x, temperature=T)`` is taken.
    v : array_like
        Tangent, broadcast to ``x``.
    axis, temperature, where, out, workers
        As in `softmax`; ``temperature`` must be nonzero. Masked entries give 0.

    Returns
    -------
    ndarray
        ``s * (v - sum(s * v)) / T`` with ``s = softmax(x, temperature=T)``;
        no softmax array is allocated.

    Raises
    ------
    ValueError
        ``temperature == 0``; ``v`` that does not broadcast to ``x``; as `softmax`.
    TypeError, numpy.exceptions.AxisError
        As `softmax`.

    See Also
    --------
    softmax_vjp, softmax_jacobian, log_softmax_jvp

    Notes
    -----
    :math:`J_{ij} = s_i(\delta_{ij} - s_j)/T` is symmetric, so the JVP and the
    VJP are the same map.

    Examples
    --------
    >>> from softmax import softmax_jvp
    >>> softmax_jvp([0.0, 0.0], [1.0, 0.0])
    array([ 0.25, -0.25])
    """
    return _derivative("jvp", x, v, axis, temperature, where, out, workers, log=False)


def log_softmax_jvp(x, v, axis=None, *, temperature=1.0, where=None, out=None, workers=None):
    r"""Jacobian-vector product of log_softmax: ``(v - sum(softmax(x) * v)) / T``.

    Parameters
    ----------
    x : array_like
        The point at which the Jacobian of ``log_softmax(x, temperature=T)`` is taken.
    v : array_like
        Tangent, broadcast to ``x``.
    axis, temperature, where, out, workers
        As in `softmax`; ``temperature`` must be nonzero. Masked entries give 0.

    Returns
    -------
    ndarray
        Same shape as ``x``.

    Raises
    ------
    ValueError, TypeError, numpy.exceptions.AxisError
        As `softmax_jvp`.

    See Also
    --------
    log_softmax_vjp, softmax_jvp

    Notes
    -----
    :math:`\partial \log\sigma_i / \partial x_j = (\delta_{ij} - s_j)/T`.

    Examples
    --------
    >>> from softmax import log_softmax_jvp
    >>> log_softmax_jvp([0.0, 0.0], [1.0, 0.0])
    array([ 0.5, -0.5])
    """
    return _derivative("jvp", x, v, axis, temperature, where, out, workers, log=True)


def softmax_vjp(y, g, axis=None, *, temperature=1.0, out=None, workers=None):
    r"""Backward pass of softmax from its saved output: ``y * (g - sum(y * g)) / T``.

    Parameters
    ----------
    y : array_like
        The output ``softmax(x, axis, temperature=T)`` saved by the forward pass.
    g : array_like
        Gradient with respect to ``y``, broadcast to ``y``.
    axis, temperature, out, workers
        As in `softmax`; ``temperature`` must be nonzero.

    Returns
    -------
    ndarray
        The gradient with respect to ``x``.

    Raises
    ------
    ValueError, TypeError, numpy.exceptions.AxisError
        As `softmax_jvp`.

    See Also
    --------
    softmax_jvp, log_softmax_vjp

    Notes
    -----
    Two passes: the dot product ``sum(y * g)`` (compensated), then the output.

    Examples
    --------
    >>> from softmax import softmax_vjp
    >>> softmax_vjp([0.5, 0.5], [1.0, 0.0])
    array([ 0.25, -0.25])
    """
    return _derivative("vjp", y, g, axis, temperature, None, out, workers, log=False)


def log_softmax_vjp(y, g, axis=None, *, temperature=1.0, out=None, workers=None):
    r"""Backward pass of log_softmax from its saved output: ``(g - exp(y) * sum(g)) / T``.

    Parameters
    ----------
    y : array_like
        The output ``log_softmax(x, axis, temperature=T)`` saved by the forward pass.
    g : array_like
        Gradient with respect to ``y``, broadcast to ``y``.
    axis, temperature, out, workers
        As in `softmax`; ``temperature`` must be nonzero.

    Returns
    -------
    ndarray
        The gradient with respect to ``x``.

    Raises
    ------
    ValueError, TypeError, numpy.exceptions.AxisError
        As `softmax_jvp`.

    See Also
    --------
    log_softmax_jvp, softmax_vjp

    Notes
    -----
    Two passes: ``sum(g)`` (compensated), then the output.

    Examples
    --------
    >>> import numpy as np
    >>> from softmax import log_softmax_vjp
    >>> log_softmax_vjp(np.log([0.5, 0.5]), [1.0, 0.0])
    array([ 0.5, -0.5])
    """
    return _derivative("vjp", y, g, axis, temperature, None, out, workers, log=True)


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
    x = _as_input(x, "x")
    if isinstance(axis, (tuple, list)):
        raise TypeError(f"axis must be an integer or None for a Jacobian, got axis={axis!r}")
    t = _temperature(temperature, derivative=True)
    if axis is None:
        x = x.reshape(-1)
        axis = 0
    ax = _axes(axis, x.ndim)[0]
    if x.ndim >= _MAX_DIMS:
        raise ValueError(f"x has {x.ndim} dimensions; its Jacobian would have {x.ndim + 1}, "
                         f"more than NumPy {np.__version__} allows ({_MAX_DIMS})")
    s = np.moveaxis(np.asarray(softmax(x, axis=ax, temperature=t)), ax, -1)
    K = s.shape[-1]
    jac = -s[..., :, None] * s[..., None, :]
    idx = np.arange(K)
    others = np.where(np.eye(K, dtype=bool), 0, s[..., None, :]).sum(axis=-1)  # sum_{j != i} s_j
    jac[..., idx, idx] = s * np.where(s > 0.5, others, 1 - s)
    return jac / t

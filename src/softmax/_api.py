"""Public functions: each one reads parse, plan, kernel call, finish.

- parse (``softmax._args``: ``_parse``): every argument of every public function is
  checked in one fixed order, raising before any output is written, and resolved into
  one record, a ``_Call``.
- plan (``softmax._layout``: ``_plan``): a zero-copy (outer, K, inner) view of the
  reduction whenever the reduced axes are adjacent in a C- or F-contiguous array; integer
  inputs are first shifted by their slice maximum, exactly (``_exact_shift``).
- kernel call: one call into the kernel variant chosen by ``softmax._dispatch``;
  longdouble and complex inputs go through the pure-NumPy ``softmax._reference``
  instead (the table ``_REFERENCE``).
- finish (``softmax._layout``): ``_deliver`` (an elementwise result: into ``out``, in the result
  dtype, a 0-d result as a NumPy scalar) or ``_finish_reduction`` (keepdims, 0-d
  results, return_sign).

Before the parsing, ``_call`` looks at the kind of the inputs once: NumPy inputs (ndarrays,
lists, scalars) go on to ``_numpy_call`` (parse, plan, kernel call, finish); masked arrays,
pandas and xarray objects, torch/JAX/array-API arrays go through ``softmax._interop``, which
hands their NumPy views back to ``_kernel_call`` or computes them in their own namespace
(``softmax._array_api``), and returns a result of their kind (docs/arrays.md).

Small common calls never reach the parsing, nor a Python frame: each public
function below is published behind its C-level front door (``softmax._core``,
``_core_front.pxi``; the end of this file), which offers the call to the kernel
module's shortcut (``small_softmax``, ``small_logsumexp``, ``small_derivative``,
``small_jacobian``; with or without a ``where`` mask) and passes whatever that
returns None for to the Python function: the general path, which checks it.
``_SHORTCUT_BELOW = 0`` switches the shortcuts off (the tests compare both paths).
"""
import functools
import math

import numpy as np

from . import _dispatch, _interop, _reference
from ._args import (_JACOBIAN, _LOG_SOFTMAX, _LOG_SOFTMAX_JVP, _LOG_SOFTMAX_VJP, _LOGSUMEXP,
                    _MAX_DIMS, _SOFTMAX, _SOFTMAX_JVP, _SOFTMAX_VJP, _parse)
from ._layout import (_add_shift, _apply_mask, _deliver, _exact_shift, _excluded,
                      _finish_reduction, _plan, _prepare, _target)

__all__ = ["softmax", "log_softmax", "logsumexp", "softmax_jvp", "softmax_vjp",
           "log_softmax_jvp", "log_softmax_vjp", "softmax_jacobian"]

#: The C-level small-call shortcuts answer calls of fewer elements than this (calls that
#: never start threads); 0 switches them off, so that every call takes the general path
#: (the tests compare the two).
_SHORTCUT_BELOW = _dispatch.PARALLEL_MIN_ELEMENTS

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
    if call.fast:   # the kernel module's assembly (the small-call shortcut's too)
        jac = np.empty(s.shape[:-1] + (K, K), call.compute)
        if jac.size:
            rows = np.ascontiguousarray(s.reshape(-1, K))
            _dispatch.kernels.jacobian(rows, jac, rows.shape[0], K, call.t)
        return jac.astype(call.result, copy=False)
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
    return _call(_SOFTMAX, x, None, axis, temperature, where, out, dtype, workers, dim=dim)


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
    return _call(_LOG_SOFTMAX, x, None, axis, temperature, where, out, dtype, workers, dim=dim)


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
    return _call(_SOFTMAX_JVP, x, v, axis, temperature, where, out, None, workers, dim=dim)


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
    return _call(_LOG_SOFTMAX_JVP, x, v, axis, temperature, where, out, None, workers, dim=dim)


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
    return _call(_SOFTMAX_VJP, y, g, axis, temperature, None, out, None, workers, dim=dim)


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
    return _call(_LOG_SOFTMAX_VJP, y, g, axis, temperature, None, out, None, workers, dim=dim)


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


# ---------------------------------------------------------------------------
# The front doors: each public function above is published behind its C-level front door
# (softmax._core, _core_front.pxi), which answers a small common call through the kernel
# module's shortcut and passes any other call to the function (the general path).
# ---------------------------------------------------------------------------
def _front(front, func):
    """front, with func's name, qualified name, module, docstring and signature."""
    return functools.update_wrapper(front, func)


_dispatch.kernels.set_front_namespaces(globals(), vars(_dispatch))
softmax = _front(_dispatch.kernels.front_softmax(softmax, False), softmax)
log_softmax = _front(_dispatch.kernels.front_softmax(log_softmax, True), log_softmax)
logsumexp = _front(_dispatch.kernels.front_logsumexp(logsumexp), logsumexp)
softmax_jvp = _front(_dispatch.kernels.front_jvp(softmax_jvp, False), softmax_jvp)
log_softmax_jvp = _front(_dispatch.kernels.front_jvp(log_softmax_jvp, True), log_softmax_jvp)
softmax_vjp = _front(_dispatch.kernels.front_vjp(softmax_vjp, False), softmax_vjp)
log_softmax_vjp = _front(_dispatch.kernels.front_vjp(log_softmax_vjp, True), log_softmax_vjp)
softmax_jacobian = _front(_dispatch.kernels.front_jacobian(softmax_jacobian), softmax_jacobian)

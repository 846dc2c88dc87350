"""The elementwise pieces of the partial statistics (``softmax._stats``) and of their dask
derivatives (``softmax._stats_deriv``): the temperature record, kept-shape helpers, the exact
shift of integer data, and each entry's ``exp((y - m) / |T|)`` as a double-double pair (the
argument exact as a pair, the kernels' exp with its tail), optionally lifted out of underflow.
"""
from typing import NamedTuple

import numpy as np

from . import _dd, _dispatch

_INF = np.inf


class _Temp(NamedTuple):
    t: float      # T
    sgn: float    # its sign (the slices are of sgn * x)
    a: float      # |T|
    hard: bool    # T == 0, or 1/|T| overflows: the arg-max limit (as the kernels' _limit_temp)


def _temp(t):
    a = abs(t)
    with np.errstate(over="ignore", divide="ignore"):
        hard = a == 0 or not (np.float64(1.0) / np.float64(a) < _INF)
    return _Temp(t, -1.0 if t < 0 else 1.0, a, bool(hard))


def _keep(arr, axes, ndim):
    """A kept-shape array with the reduced axes put back (length 1)."""
    return np.expand_dims(arr, tuple(axes)) if axes else arr


def _kept_shape(shape, axes):
    return tuple(s for i, s in enumerate(shape) if i not in axes)


# ---------------------------------------------------------------------------- elementwise pieces
def _scaled(d, dl, tt):
    """(d + dl) / |T| as a pair."""
    if tt.a == 1.0:
        return d, _dd.clean(d, dl)
    q = d / tt.a
    p = q * tt.a
    r = ((d - p) - _dd.prod_err(q, np.float64(tt.a), p)) + dl
    return q, _dd.clean(q, r / tt.a)


def _kernel_exp(q, ql):
    """exp(q + ql) elementwise as a pair: the kernels' exp of q with its tail (about 2**-55),
    times 1 + ql."""
    q = np.ascontiguousarray(q, np.float64)
    e = np.empty_like(q)
    tail = np.empty_like(q)
    if q.size:
        _dispatch.kernels.exp(q, e, tail)
    return e, _dd.clean(e, tail + e * ql)


def _exps(y, m, tt, lift=False):
    """exp((y - m) / |T|) per entry as a pair (y float64, m its slice maximum broadcast): the
    limit (1 where y == m, else 0) for T == 0 or m = +inf; 0 where m = -inf; NaN where m is.
    ``lift``: also return p2, and the exponentials times 2**p2 (p2 = 600 where they would be
    near or below float64's underflow, else 0), for a product rounded once before the
    scaling back."""
    d, dl = _dd.two_sum(y, -m)
    q, ql = _scaled(d, _dd.clean(d, dl), tt)
    p2 = None
    if lift:
        p2 = np.where((q < -600.0) & np.isfinite(q), _LIFT, 0.0)
        q, e1 = _dd.two_sum(q, p2 * _dd._L1F)
        q, e2 = _dd.two_sum(q, p2 * _dd._L2F)
        ql = _dd.clean(q, ql + e1 + e2 + p2 * _dd._L3F)
    eh, el = _kernel_exp(q, ql)
    hard = (m == _INF) if not tt.hard else np.ones(np.shape(m), bool)
    if hard.any():
        eh = np.where(hard, (y == m).astype(np.float64), eh)
        el = np.where(hard, 0.0, el)
    low = m == -_INF
    if low.any():
        eh = np.where(low, 0.0, eh)
        el = np.where(low, 0.0, el)
    if lift:
        return eh, el, np.where(hard | low, 0.0, p2)
    return eh, el


_LIFT = 600.0   # a power of two that lifts tiny exponentials and products out of underflow


def _unlift(rh, rl, p2):
    """(rh + rl) * 2**-p2: rounded once where the result is normal."""
    r = rh + _dd.clean(rh, rl)
    if p2 is None or not np.any(p2):
        return r
    return np.ldexp(r, -p2.astype(np.intc))


def _shift_by(x, ref, tt, real):
    """Integer x shifted exactly by the winners ``ref`` (keepdims), in the real dtype: the
    difference in uint64 (it always fits), rounded once (as ``_layout._exact_shift``)."""
    wide = x.astype(np.int64 if x.dtype.kind == "i" else np.uint64, copy=False)
    r = np.asarray(ref).astype(wide.dtype, copy=False)
    u, rr = wide.view(np.uint64), r.view(np.uint64)
    with np.errstate(over="ignore"):
        if tt.t < 0:
            return (u - rr).astype(real)
        return np.subtract(0, (rr - u).astype(real), dtype=real)

"""The derivatives' finishing steps for the dask path (``softmax._dask``): a JVP from the
statistics of its slices (``softmax._stats``), a VJP from the sums of its blocks, every output
rounded once from a double-double value, as the kernels round theirs."""
from typing import NamedTuple

import numpy as np

from . import _dd, _stats_elem


def _jvp_finish(call, stats, log):
    """softmax_jvp (or log_softmax_jvp) of a parsed call's block given the merged statistics of
    its slices with the JVP's sum P = sum(e v): s (v - P/S) / T, or (v - P/S) / T, from pairs,
    rounded once."""
    tt = _stats_elem._temp(call.t)
    axes, x = call.axes, call.x
    nd = x.ndim
    with np.errstate(all="ignore"):
        if x.dtype.kind in "iu":
            xs = _stats_elem._shift_by(x, _stats_elem._keep(stats.max, axes, nd), tt, np.float64)
        else:
            xs = x.astype(np.float64, copy=False)
        Sh, Sl = _stats_elem._keep(stats.sum_hi, axes, nd), _stats_elem._keep(stats.sum_lo, axes, nd)
        Ph, Pl = _stats_elem._keep(stats._dot_hi, axes, nd), _stats_elem._keep(stats._dot_lo, axes, nd)
        mu_h, mu_l = _dd.div(Ph, Pl, Sh, Sl)
        v = call.second.astype(np.float64)
        if call.mask is not None:
            v = np.where(call.mask, v, 0.0)
        wh, wl = _dd.two_sum(v, -mu_h)
        wl = _dd.clean(wh, wl - mu_l)
        T = np.float64(tt.t)
        p2 = None
        if log:
            rh, rl = _dd.div(wh, wl, T, 0.0)
        else:
            y = tt.sgn * xs
            if call.mask is not None:
                y = np.where(call.mask, y, -np.inf)
            eh, el, p2 = _stats_elem._exps(y, _stats_elem._keep(stats._my(), axes, nd), tt, lift=True)
            nh, nl = _dd.mul(eh, el, wh, wl)
            Dh = Sh * T
            Dl = _dd.prod_err(Sh, T, Dh) + Sl * T
            rh, rl = _dd.div(nh, nl, Dh, Dl)
        res = _stats_elem._unlift(rh, rl, p2).astype(call.compute)
    return _zero_masked(res, call, stats)


def _zero_masked(res, call, stats):
    if call.mask is not None:
        np.copyto(res, 0.0, where=~call.mask)
        empty = stats.count == 0
        if empty.any():
            np.copyto(res, 0.0, where=_stats_elem._keep(empty, call.axes, res.ndim))
    return res


class _Sum(NamedTuple):
    """A double-double sum per slice (kept shape): the VJPs' sum(y g) or sum(g)."""
    hi: np.ndarray
    lo: np.ndarray


def _vjp_sum(call, log):
    """The VJP's reduction of a block: sum(y g) (softmax) or sum(g) (log_softmax), as pairs."""
    kept = _stats_elem._kept_shape(call.x.shape, call.axes)
    with np.errstate(all="ignore"):
        g = call.second.astype(np.float64)
        if log:
            h, l = _dd.sum_along(g, 0.0, call.axes)
        else:
            y = call.x.astype(np.float64)
            p = y * g
            h, l = _dd.sum_along(p, _dd.clean(p, _dd.prod_err(y, g, p)), call.axes)
    return _Sum(h.reshape(kept), l.reshape(kept))


def _merge_sums(parts):
    if len(parts) == 1:
        return parts[0]
    with np.errstate(all="ignore"):
        h, l = _dd.sum_along(np.stack([p.hi for p in parts]), np.stack([p.lo for p in parts]), (0,))
    return _Sum(h[0], l[0])


def _vjp_finish(call, total, log):
    """softmax_vjp y (g - G) / T, or log_softmax_vjp (g - exp(y) G) / T, of a block given the
    merged sum G of its slices, from pairs, rounded once."""
    axes, nd = call.axes, call.x.ndim
    with np.errstate(all="ignore"):
        Gh, Gl = _stats_elem._keep(total.hi, axes, nd), _stats_elem._keep(total.lo, axes, nd)
        y = call.x.astype(np.float64)
        g = call.second.astype(np.float64)
        T = np.float64(call.t)
        if log:
            eh, el = _stats_elem._kernel_exp(y, np.zeros_like(y))
            ph, pl = _dd.mul(eh, el, Gh, Gl)
            wh, wl = _dd.two_sum(g, -ph)
            wl = _dd.clean(wh, wl - pl)
            rh, rl = _dd.div(wh, wl, T, 0.0)
            p2 = None
        else:
            wh, wl = _dd.two_sum(g, -Gh)
            wl = _dd.clean(wh, wl - Gl)
            p2 = np.where((np.abs(y) < 2.0 ** -800) & (y != 0), _stats_elem._LIFT, 0.0)
            yl = np.ldexp(y, p2.astype(np.intc))      # exact: y is tiny there
            nh, nl = _dd.mul(yl, np.zeros_like(y), wh, wl)
            rh, rl = _dd.div(nh, nl, T, 0.0)
        return _stats_elem._unlift(rh, rl, p2).astype(call.compute)

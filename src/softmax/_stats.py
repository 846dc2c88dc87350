"""Partial statistics of softmax slices: computed block by block, merged in any order, finished.

A slice of ``y = sgn(T) * x`` is summarised by its maximum ``m`` and ``S = sum(b * exp((y - m) /
|T|))`` (``b = 1`` unless weights are given) as a double-double ``sum_hi + sum_lo``, and by the
number of entries that take part. Statistics of several blocks of the same slices merge into
those of their union: each block's sum is rescaled to the largest maximum by ``exp((m_i - M) /
|T|)``, computed in double-double (``_dd.exp``, about 2**-100), and the rescaled pairs are summed
with TwoSums, so any merge order or tree gives the statistics of the whole slice to far below
float64's precision. From them: logsumexp (``m + |T| log S``, the log a Newton-refined
pair, the sum with m compensated), and softmax / log_softmax of any block given the statistics of
its whole slice (the kernels' ``finish`` entry point: ``exp((y - m)/|T|) / S`` rounded once).

The kernels' ``stats`` entry point computes the statistics of unweighted slices (the mask, if any,
turned into excluded entries); weighted slices (``b``) and the sums a JVP needs besides
(``sum(exp((y - m)/|T|) v)``) are computed here in NumPy with the same care: each exponential's
argument exact as a pair, the exponential with its tail, products with their errors, sums by a
pairwise tree of TwoSums (the elementwise pieces: ``softmax._stats_elem``). The derivatives'
finishing steps (JVP, VJP) for the dask path are in ``softmax._stats_deriv``.

Integer data follow the library's dtype rule: each block is shifted exactly by its winner (the
maximum; the minimum for T < 0), which the statistics keep as an integer (``max``), and blocks
merge through the exact integer differences of their winners.
"""
import math
from dataclasses import dataclass, field

import numpy as np

from . import _args, _dd, _dispatch, _interop, _layout
from ._stats_elem import (_exps, _keep, _kept_shape, _scaled, _shift_by,
                          _temp)

_INF = np.inf

_PARTIAL = _args._Function("partial_stats", "x", "b", False, None, False)


# ---------------------------------------------------------------------------- the record
@dataclass(frozen=True, eq=False, repr=False)
class SoftmaxStats:
    """Partial statistics of the slices of a block of data, along the axes a softmax reduces.

    Made by `partial_stats` and `merge_stats`; read by `logsumexp_from_stats`,
    `softmax_from_stats` and `log_softmax_from_stats`. Immutable (its arrays are read-only)
    and picklable, so that blocks may be summarised in other processes.

    Attributes
    ----------
    max : ndarray
        Per slice, the winning entry: the maximum (the minimum for a negative temperature).
        float64, or int64 / uint64 for integer data (exact). -inf where no entry takes part
        (float data; for integers the value is then meaningless: see ``count``).
    sum_hi, sum_lo : ndarray of float64
        ``S = sum(b * exp((x - max) / T))`` over the slice, as the unevaluated sum
        ``sum_hi + sum_lo`` (about 106 bits). ``b = 1`` without weights (then ``S >= 1`` where
        the maximum is finite); with weights ``S`` may be negative or zero.
    count : ndarray of int64
        Number of entries that take part (``where`` True and, with weights, ``b != 0``).
    temperature : float
    dtype : numpy.dtype
        The dtype of the results (the library's dtype rule: float16 data give float16, integers
        and bool float64).
    axis : tuple of int
        The reduced axes (non-negative) of blocks of ``ndim`` dimensions.
    ndim : int
    weighted : bool
        Made with weights ``b``: then only `logsumexp_from_stats` applies.

    ``shape`` is the shape of the slices' grid (the blocks' shape without ``axis``); ``sum`` is
    ``sum_hi + sum_lo`` rounded to float64.
    """
    max: np.ndarray
    sum_hi: np.ndarray
    sum_lo: np.ndarray
    count: np.ndarray
    temperature: float
    dtype: np.dtype
    axis: tuple
    ndim: int
    weighted: bool = False
    _dot_hi: np.ndarray | None = field(default=None, repr=False)   # the JVP's sum(e v) (dask)
    _dot_lo: np.ndarray | None = field(default=None, repr=False)

    def __post_init__(self):
        for name in ("max", "sum_hi", "sum_lo", "count", "_dot_hi", "_dot_lo"):
            arr = getattr(self, name)
            if isinstance(arr, np.ndarray):
                arr.flags.writeable = False

    @property
    def shape(self):
        return self.max.shape

    @property
    def sum(self):
        return self.sum_hi + self.sum_lo

    def __repr__(self):
        return (f"SoftmaxStats(shape={self.shape}, dtype={self.dtype}, temperature="
                f"{self.temperature!r}, axis={self.axis}, ndim={self.ndim}"
                f"{', weighted=True' if self.weighted else ''})")

    # internal views ------------------------------------------------------------------
    @property
    def _integer(self):
        return self.max.dtype.kind in "iu"

    def _my(self):
        """The maximum of y = sgn * x per slice (kept shape), in the units the kernels use:
        for integer data that of the data shifted by ``max`` (0; -inf where nothing takes
        part)."""
        if self._integer:
            return np.where(self.count > 0, 0.0, -_INF)
        return _temp(self.temperature).sgn * self.max


# ---------------------------------------------------------------------------- statistics
def _stats_of(call, weighted=False, dot=False):
    """The SoftmaxStats of a parsed call: x = call.x along call.axes, call.second the weights
    b (weighted) or the tangent v (dot: the JVP's sum(e v) too), call.mask."""
    tt = _temp(call.t)
    x, axes, mask, second = call.x, call.axes, call.mask, call.second
    keep = mask
    if weighted and second is not None:
        nz = second != 0
        keep = nz if keep is None else (keep & nz)
    else:
        weighted = False
    xs, ref = _layout._exact_shift(call, keep)
    xs = xs.astype(call.compute, copy=False)
    kept = _kept_shape(x.shape, axes)
    K = math.prod(x.shape[i] for i in axes)
    if keep is None:
        count = np.full(kept, K, np.int64)
    else:
        count = np.asarray(keep.sum(axis=axes), np.int64).reshape(kept)
    dot_hi = dot_lo = None
    with np.errstate(all="ignore"):
        if weighted or dot:
            y = tt.sgn * xs.astype(np.float64, copy=False)
            m = np.max(y, axis=axes, keepdims=True, initial=-_INF,
                       where=True if keep is None else keep)
            eh, el = _exps(y, m, tt)
            if weighted:
                b = second.astype(np.float64)
                p = eh * b
                pl = _dd.prod_err(eh, b, p) + el * b
                # an infinite weight times an exp that underflowed is that infinity (as the kernels)
                inf_b = np.isnan(p) & (eh == 0) & (y > -_INF) & ~(m == _INF) & (not tt.hard)
                p = np.where(inf_b, b, p)
                pl = np.where(inf_b | ~np.isfinite(p), 0.0, pl)
                if keep is not None:
                    p = np.where(keep, p, 0.0)
                    pl = np.where(keep, pl, 0.0)
                h, l = _dd.sum_along(p, pl, axes)
            else:
                if keep is not None:
                    eh = np.where(keep, eh, 0.0)
                    el = np.where(keep, el, 0.0)
                h, l = _dd.sum_along(eh, el, axes)
                v = second.astype(np.float64)
                if keep is not None:
                    v = np.where(keep, v, 0.0)
                p = eh * v
                pl = _dd.clean(p, _dd.prod_err(eh, v, p) + el * v)
                dot_hi, dot_lo = (a.reshape(kept) for a in _dd.sum_along(p, pl, axes))
            m, h, l = (np.asarray(a).reshape(kept) for a in (m, h, l))
        else:
            m, h, l = _kernel_stats(xs, mask, axes, call.t, call.nthreads, kept)
    if ref is not None:
        mx = np.asarray(ref).reshape(kept).copy()
    else:
        mx = tt.sgn * m
    return SoftmaxStats(mx, h, l, count, call.t, call.result, axes, x.ndim, weighted,
                        dot_hi, dot_lo)


def _kernel_stats(xs, mask, axes, t, nthreads, kept):
    """m, s_hi, s_lo (kept shape) from the kernels, the masked entries excluded."""
    src = xs if mask is None else np.where(mask, xs, _layout._excluded(t))
    plan = _layout._plan(src, axes)
    if plan.K == 0 or src.size == 0:
        return np.full(kept, -_INF), np.zeros(kept), np.zeros(kept)
    xk = _layout._prepare(plan, src, src.dtype)
    n = plan.outer * plan.inner
    m, h, l = np.empty(n), np.empty(n), np.empty(n)
    _dispatch.kernels.stats(xk, m, h, l, plan.outer, plan.K, plan.inner, t, nthreads)
    order = "F" if plan.layout == "F" else "C"
    return tuple(a.reshape(kept, order=order) for a in (m, h, l))


def partial_stats(x, axis=None, *, temperature=1.0, where=None, b=None, dtype=None,
                  workers=None):
    """Partial statistics of the slices of one block of data, to merge with those of other blocks.

    For data too large for memory (streamed from disk chunk by chunk) or spread over several
    processes: summarise every block of the same slices with `partial_stats`, combine the
    summaries with `merge_stats` (in any order or tree), then take `logsumexp_from_stats`, or
    read the blocks again through `softmax_from_stats` / `log_softmax_from_stats`. The results
    are those of `logsumexp`, `softmax` and `log_softmax` on the whole data, within the same
    2 ulp.

    Parameters
    ----------
    x : array_like
        One block: NumPy arrays (memmaps too), lists, scalars. Real data only (bool, integers,
        float16, float32, float64).
    axis : int, tuple of ints or None, optional
        The reduced axes (None, the default: all of them, as `logsumexp`). Every block of the
        same slices must use the same axes and number of dimensions.
    temperature : float, optional
        As in `softmax`; every block of the same slices must use the same.
    where : array_like of bool, optional
        Entries that take part (broadcast to ``x``).
    b : array_like, optional
        Weights, as `logsumexp`'s ``b`` (possibly negative; ``b == 0`` entries take no part;
        ``b`` may broadcast ``x`` to a larger shape). Statistics with weights give
        `logsumexp_from_stats` only.
    dtype : dtype, optional
        The floating dtype of the results, as in `softmax`.
    workers : int, optional
        Threads, as in `softmax`.

    Returns
    -------
    SoftmaxStats
        Per slice: the maximum (the minimum for T < 0), the sum of the exponentials relative to
        it as a double-double, the number of entries taking part; and the temperature, the
        result dtype, the reduced axes.

    Raises
    ------
    TypeError, ValueError, numpy.exceptions.AxisError
        As `logsumexp`; complex and longdouble data are a TypeError, so are arrays of other
        libraries (pass their NumPy values).

    See Also
    --------
    merge_stats, logsumexp_from_stats, softmax_from_stats, log_softmax_from_stats

    Examples
    --------
    >>> import numpy as np
    >>> import softmax
    >>> x = np.linspace(-3.0, 5.0, 12).reshape(3, 4)
    >>> parts = [softmax.partial_stats(block, axis=0) for block in (x[:2], x[2:])]
    >>> stats = softmax.merge_stats(*parts)
    >>> bool(np.all(softmax.logsumexp_from_stats(stats) == softmax.logsumexp(x, axis=0)))
    True
    >>> np.allclose(softmax.softmax_from_stats(x[2:], stats), softmax.softmax(x, axis=0)[2:])
    True
    """
    for name, obj in (("x", x), ("b", b), ("where", where)):
        if _interop.kind_of(obj) is not None:
            raise TypeError(f"partial_stats takes NumPy data; {name} is a {_interop._typename(obj)}: "
                            f"pass its NumPy values (dask arrays reduce through softmax.logsumexp "
                            f"and friends directly)")
    call = _args._parse(_PARTIAL, x, b, axis, temperature, where, None, dtype, workers)
    if not call.fast:
        raise TypeError(f"partial_stats takes real data (bool, integer, float16, float32 or "
                        f"float64), got dtype={call.result}")
    return _stats_of(call, weighted=b is not None)


def _check_same(stats):
    first = stats[0]
    for s in stats:
        if not isinstance(s, SoftmaxStats):
            raise TypeError(f"merge_stats takes SoftmaxStats (from partial_stats), got "
                            f"{type(s).__name__}")
    for s in stats[1:]:
        if s.shape != first.shape:
            raise ValueError(f"statistics of different slices: shapes {first.shape} and {s.shape}")
        if s.temperature != first.temperature:
            raise ValueError(f"statistics at different temperatures: {first.temperature!r} and "
                             f"{s.temperature!r}")
        if (s.axis, s.ndim) != (first.axis, first.ndim):
            raise ValueError(f"statistics along different axes: axis={first.axis} of "
                             f"{first.ndim} dimensions and axis={s.axis} of {s.ndim}")
        if s.max.dtype != first.max.dtype and (s._integer or first._integer):
            raise ValueError(f"statistics of integer data ({first.max.dtype if first._integer else s.max.dtype}) "
                             f"merge only with those of the same integer dtype")
        if s.dtype != first.dtype:
            # float32 sums are exact to float32's needs only: they cannot make float64 results
            raise ValueError(f"statistics of results of dtype={first.dtype} and dtype={s.dtype}: "
                             f"make every block's with the same dtype= (e.g. dtype=np.float64)")
        if (s._dot_hi is None) != (first._dot_hi is None):
            raise ValueError("statistics with and without a JVP's sums")


def merge_stats(*stats):
    """The statistics of the union of blocks, from theirs.

    Parameters
    ----------
    *stats : SoftmaxStats
        One or more (or one iterable of them), of the same slices: the same shape,
        temperature and axes. The order and grouping do not matter: merging is exact to about
        2**-100 relative, so any merge tree gives the same results within the 2-ulp bound.

    Returns
    -------
    SoftmaxStats
        Weighted if any of them is.

    Raises
    ------
    ValueError
        Statistics of different slices (shape), temperatures, axes or result dtypes (float32
        statistics are exact to float32's needs only: pass ``dtype=np.float64`` to
        `partial_stats` for float64 results); integer data merged with other data.
    TypeError
        Something else than SoftmaxStats.

    Examples
    --------
    >>> import numpy as np, softmax
    >>> x = np.arange(10.0)
    >>> a, b, c = (softmax.partial_stats(x[s]) for s in (slice(0, 3), slice(3, 7), slice(7, 10)))
    >>> float(softmax.logsumexp_from_stats(softmax.merge_stats(a, softmax.merge_stats(b, c))))
    9.45862974442671
    >>> float(softmax.logsumexp(x))
    9.45862974442671
    """
    if len(stats) == 1 and not isinstance(stats[0], SoftmaxStats):
        stats = tuple(stats[0])
    stats = tuple(stats)
    if not stats:
        raise TypeError("merge_stats needs at least one SoftmaxStats")
    _check_same(stats)
    if len(stats) == 1:
        return stats[0]
    with np.errstate(all="ignore"):
        return _merge(stats)


def _merge(stats):
    first = stats[0]
    tt = _temp(first.temperature)
    count = sum(s.count for s in stats)
    valid = [s.count > 0 for s in stats]
    if first._integer:
        W = _integer_winner(stats, valid, tt)
        wide = W.dtype
        diffs = []
        for s in stats:
            u, r = s.max.view(np.uint64), W.view(np.uint64)
            with np.errstate(over="ignore"):
                dif = (u - r) if tt.t < 0 else (r - u)          # |W_i - W| mod 2**64: exact
            diffs.append(-dif.astype(np.float64))
        ds = [np.where(v, d, -_INF) for d, v in zip(diffs, valid)]
        M = np.zeros(first.shape)
        dls = [np.zeros(first.shape)] * len(stats)
        new_max = W.astype(wide)
        mys = ds
    else:
        mys = [s._my() for s in stats]
        M = mys[0]
        for my in mys[1:]:
            M = np.maximum(M, my)       # NaN propagates
        ds, dls = [], []
        for my in mys:
            d, dl = _dd.two_sum(my, -M)
            ds.append(d)
            dls.append(_dd.clean(d, dl))
        new_max = tt.sgn * M
    hard = np.full(first.shape, tt.hard) | (M == _INF)
    low = M == -_INF
    terms_h, terms_l, dots_h, dots_l = [], [], [], []
    for s, my, d, dl in zip(stats, mys, ds, dls):
        q, ql = _scaled(d, dl, tt)
        fh, fl = _dd.exp(q, ql)
        fh = np.where(hard, (my == M).astype(np.float64), fh)
        fl = np.where(hard, 0.0, fl)
        fh = np.where(low, 0.0, fh)
        fl = np.where(low, 0.0, fl)
        ch, cl = _rescaled(s.sum_hi, s.sum_lo, fh, fl, my, hard)
        terms_h.append(ch)
        terms_l.append(cl)
        if s._dot_hi is not None:
            dh, dlo = _rescaled(s._dot_hi, s._dot_lo, fh, fl, my, hard)
            dots_h.append(dh)
            dots_l.append(dlo)
    h, l = _dd.sum_along(np.stack(terms_h), np.stack(terms_l), (0,))
    dot_hi = dot_lo = None
    if dots_h:
        dot_hi, dot_lo = (a[0] for a in _dd.sum_along(np.stack(dots_h), np.stack(dots_l), (0,)))
    return SoftmaxStats(np.asarray(new_max), h[0], l[0], np.asarray(count, np.int64),
                        first.temperature, first.dtype, first.axis, first.ndim,
                        any(s.weighted for s in stats), dot_hi, dot_lo)


def _rescaled(sh, sl, fh, fl, my, hard):
    """(sh + sl) * (fh + fl) as a pair; an infinite sum (infinite weights) times a factor that
    underflowed stays infinite, as the kernels treat an infinite weight."""
    p = sh * fh
    e = _dd.prod_err(sh, fh, p) + sh * fl + sl * fh
    keep_inf = np.isinf(sh) & (fh == 0) & (my > -_INF) & ~hard
    p = np.where(keep_inf, sh, p)
    return p, np.where(np.isfinite(p), e, 0.0)


def _integer_winner(stats, valid, tt):
    """The winner of the winners of the blocks that have entries (exact, in their dtype)."""
    dt = stats[0].max.dtype
    info = np.iinfo(dt)
    pick = np.minimum if tt.t < 0 else np.maximum
    W = np.full(stats[0].shape, info.max if tt.t < 0 else info.min, dt)
    for s, v in zip(stats, valid):
        W = np.where(v, pick(W, s.max), W)
    return W


# ---------------------------------------------------------------------------- finishing
def _lse(stats):
    """(value, sign) of logsumexp per slice, float64 (kept shape), as the kernels' rules."""
    tt = _temp(stats.temperature)
    my = stats._my()
    h, l, n = stats.sum_hi, stats.sum_lo, stats.count
    with np.errstate(all="ignore"):
        total = h + l
        ah = np.where(total < 0, -h, h)
        al = np.where(total < 0, -l, l)
        ok = np.isfinite(my) & (total != 0) & np.isfinite(total)
        L, L_lo = _dd.log(np.where(ok, ah, 1.0), np.where(ok, al, 0.0))
        p = tt.a * L
        p_lo = _dd.prod_err(np.float64(tt.a), L, p) + tt.a * L_lo
        r, e = _dd.two_sum(my, p)
        val = tt.sgn * (r + _dd.clean(r, e + p_lo))
        val = np.where(ok & ~np.full(my.shape, tt.hard), val, tt.sgn * my)
        val = np.where(np.isinf(total) & np.isfinite(my) & (not tt.hard), tt.sgn * _INF, val)
        sign = np.sign(total)
        # the special cases, in the kernels' order (the last assignment wins)
        val = np.where(my == _INF, tt.sgn * _INF, val)
        zero = (total == 0) & ~(my == -_INF)
        val = np.where(zero, np.where(my == _INF, np.nan, -tt.sgn * _INF), val)
        sign = np.where(zero | (my == -_INF), 0.0, sign)
        bad = np.isnan(my) | np.isnan(total)
        val = np.where(bad, np.nan, val)
        sign = np.where(bad | np.isnan(val), np.nan, sign)
        none = n == 0
        val = np.where(none, -_INF, val)
        sign = np.where(none, 0.0, sign)
    return val, sign


def logsumexp_from_stats(stats, keepdims=False, return_sign=False):
    """logsumexp of whole slices from their (merged) statistics.

    Parameters
    ----------
    stats : SoftmaxStats
        From `partial_stats` / `merge_stats`.
    keepdims : bool, optional
        Keep the reduced axes (length 1), as `logsumexp`.
    return_sign : bool, optional
        Also return the sign of the (weighted) sum, as `logsumexp`; without it a negative sum
        gives NaN.

    Returns
    -------
    res : ndarray or scalar
        ``T * log(sum(b * exp(x / T)))`` per slice, in ``stats.dtype``; a NumPy scalar when the
        result is 0-d. Within 2 ulp of the exact value, whatever the blocks and the merge tree.
    sgn : ndarray or scalar
        Only with ``return_sign``.

    Examples
    --------
    >>> import numpy as np, softmax
    >>> s = softmax.merge_stats(softmax.partial_stats([1.0, 2.0]), softmax.partial_stats([3.0]))
    >>> float(softmax.logsumexp_from_stats(s))
    3.40760596444438
    """
    if not isinstance(stats, SoftmaxStats):
        raise TypeError(f"stats must be a SoftmaxStats (from partial_stats), got {type(stats).__name__}")
    keepdims = _args._bool(keepdims, "keepdims")
    return_sign = _args._bool(return_sign, "return_sign")
    val, sign = _lse(stats)
    if stats._integer:
        with np.errstate(all="ignore"):
            val = _layout._add_shift(val, np.asarray(stats.max), stats.shape)
    if not return_sign:
        val = np.where(sign < 0, np.nan, val)
    if keepdims:
        val = _keep(val, stats.axis, stats.ndim)
        sign = _keep(sign, stats.axis, stats.ndim)
    dt = stats.dtype
    val = _layout._scalar_if_0d(np.asarray(val).astype(dt), dt)
    if return_sign:
        return val, _layout._scalar_if_0d(np.asarray(sign).astype(dt), dt)
    return val


def _finish_call(fn, x, stats, where, out, workers):
    """Parse a softmax_from_stats / log_softmax_from_stats call against its statistics."""
    if not isinstance(stats, SoftmaxStats):
        raise TypeError(f"stats must be a SoftmaxStats (from partial_stats), got {type(stats).__name__}")
    for name, obj in (("x", x), ("where", where), ("out", out)):
        if _interop.kind_of(obj) is not None:
            raise TypeError(f"{fn.name}_from_stats takes NumPy data; {name} is a "
                            f"{_interop._typename(obj)}")
    if stats.weighted:
        raise ValueError("statistics made with weights b give logsumexp_from_stats only")
    arr = np.asarray(x)
    if arr.ndim != stats.ndim:
        raise ValueError(f"x has {arr.ndim} dimensions, but the statistics are of blocks of "
                         f"{stats.ndim} along axis={stats.axis}")
    call = _args._parse(fn, x, None, stats.axis, stats.temperature, where, out, stats.dtype, workers)
    kept = _kept_shape(call.x.shape, call.axes)
    if kept != stats.shape:
        raise ValueError(f"x of shape {call.x.shape} along axis={stats.axis} has slices of shape "
                         f"{kept}, the statistics {stats.shape}")
    if (call.x.dtype.kind in "iu") != stats._integer:
        raise ValueError(f"x of dtype={call.x.dtype} with statistics of "
                         f"{'integer' if stats._integer else 'floating'} data: read the blocks "
                         f"the statistics were made of")
    return call


def _finish(call, stats, log):
    """softmax (or log_softmax) of a parsed call's block given the statistics of its slices,
    in the compute dtype, in ``call.out``'s memory when it fits."""
    tt = _temp(call.t)
    axes = call.axes
    x = call.x
    if x.dtype.kind in "iu":
        xs = _shift_by(x, _keep(stats.max, axes, x.ndim), tt, np.finfo(call.compute).dtype)
    else:
        xs = x
    xs = xs.astype(call.compute, copy=False)
    mask = call.mask
    src = xs if mask is None else np.where(mask, xs, _layout._excluded(call.t))
    plan = _layout._plan(src, axes)
    xk = _layout._prepare(plan, src, call.compute)
    res, view = _layout._target(plan, call, (xk,) if mask is None else (xk, mask), alias_ok=xk)
    if plan.K and xk.size:
        order = "F" if plan.layout == "F" else "C"
        flat = [np.ascontiguousarray(np.asarray(a, np.float64).ravel(order=order))
                for a in (stats._my(), stats.sum_hi, stats.sum_lo)]
        _dispatch.kernels.finish(xk, *flat, view, plan.outer, plan.K, plan.inner, call.t, log,
                                 call.nthreads)
        if log and call.compute == np.float64:
            # the float64 row kernel of finish() gives NaN, not -inf, for the entries with
            # sgn * x = -inf of a slice with a finite maximum (its (y - m) TwoSum is NaN there)
            low = src == (_INF if call.t < 0 else -_INF)
            if low.any():
                np.copyto(res, -_INF, where=low & _keep(np.isfinite(stats._my()), axes, x.ndim))
    fill = -_INF if log else 0.0
    if mask is not None:
        np.copyto(res, fill, where=~mask)
    empty = stats.count == 0
    if empty.any() and res.size:
        np.copyto(res, fill, where=_keep(empty, axes, x.ndim))
    return res


def softmax_from_stats(x, stats, *, where=None, out=None, workers=None):
    """softmax of one block of data given the statistics of its whole slices.

    Parameters
    ----------
    x : array_like
        A block whose slices (along ``stats.axis``) are parts of those ``stats`` summarises:
        the same number of dimensions and the same shape off ``stats.axis``.
    stats : SoftmaxStats
        The merged statistics of all the blocks of the same slices (`merge_stats`), without
        weights.
    where : array_like of bool, optional
        As the ``where`` the block's statistics were made with: those entries get 0 (and every
        entry of a slice that no block has an entry of).
    out : ndarray, optional
        As in `softmax`.
    workers : int, optional
        As in `softmax`.

    Returns
    -------
    ndarray
        ``exp((x - max) / T) / S`` in ``stats.dtype``, each entry rounded once: what `softmax`
        gives for these entries of the whole data, within 2 ulp.

    See Also
    --------
    partial_stats, merge_stats, log_softmax_from_stats

    Examples
    --------
    >>> import numpy as np, softmax
    >>> x = np.array([1.0, 2.0, 3.0, 4.0])
    >>> stats = softmax.merge_stats(softmax.partial_stats(x[:2]), softmax.partial_stats(x[2:]))
    >>> np.concatenate([softmax.softmax_from_stats(x[:2], stats),
    ...                 softmax.softmax_from_stats(x[2:], stats)]).round(6)
    array([0.032059, 0.087144, 0.236883, 0.643914])
    """
    call = _finish_call(_args._SOFTMAX, x, stats, where, out, workers)
    with np.errstate(all="ignore"):
        return _layout._deliver(_finish(call, stats, False), call)


def log_softmax_from_stats(x, stats, *, where=None, out=None, workers=None):
    """log_softmax of one block of data given the statistics of its whole slices.

    As `softmax_from_stats`: ``(x - max) / T - log(S)`` per entry (masked entries -inf).

    Examples
    --------
    >>> import numpy as np, softmax
    >>> x = np.array([1.0, 2.0, 3.0, 4.0])
    >>> stats = softmax.merge_stats(softmax.partial_stats(x[:2]), softmax.partial_stats(x[2:]))
    >>> softmax.log_softmax_from_stats(x[2:], stats).round(6)
    array([-1.44019, -0.44019])
    """
    call = _finish_call(_args._LOG_SOFTMAX, x, stats, where, out, workers)
    with np.errstate(all="ignore"):
        return _layout._deliver(_finish(call, stats, True), call)

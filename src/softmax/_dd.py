"""Double-double arithmetic on float64 NumPy arrays, for the partial statistics (``_stats``).

A value is an unevaluated pair ``hi + lo`` (``|lo| <= ulp(hi)/2`` once normalised), about 106
bits. Only what the statistics need: TwoSum, Dekker's TwoProduct (NumPy has no fma), sums of
pairs along axes (a pairwise tree of TwoSums), division of a pair, and an exponential of a
pair accurate to about 2**-100 (Cody-Waite reduction with a three-part ln 2, a scaling by
2**-10, Taylor series, ten squarings); it rescales the statistics of one block to the maximum
of another, the only exponential whose error does not average out over a slice.

Non-finite values: the high parts follow IEEE arithmetic; the low parts are NaN wherever a high
part is not finite, and ``clean`` sets those to 0 (``hi + clean(lo)`` is then ``hi``). Callers
run these under ``np.errstate(all="ignore")``.
"""
from fractions import Fraction

import numpy as np


def two_sum(a, b):
    """s, e with s + e = a + b exactly (Knuth)."""
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


def fast_two_sum(a, b):
    """s, e with s + e = a + b exactly, for |a| >= |b| (or a == 0)."""
    s = a + b
    return s, b - (s - a)


_SPLITTER = 134217729.0     # 2**27 + 1
_SPLIT_BIG = 2.0 ** 995     # above this, the splitter's product would overflow


def _split(a):
    big = np.abs(a) > _SPLIT_BIG
    if big.any():
        a2 = np.where(big, a * 2.0 ** -28, a)
        c = _SPLITTER * a2
        hi = c - (c - a2)
        lo = a2 - hi
        return np.where(big, hi * 2.0 ** 28, hi), np.where(big, lo * 2.0 ** 28, lo)
    c = _SPLITTER * a
    hi = c - (c - a)
    return hi, a - hi


def prod_err(a, b, p):
    """a * b - p exactly, for p = fl(a * b) (Dekker's TwoProduct; no underflow assumed)."""
    ah, al = _split(a)
    bh, bl = _split(b)
    return ((ah * bh - p) + ah * bl + al * bh) + al * bl


def clean(hi, lo):
    """lo, 0 where hi is not finite (there lo holds NaN from inf - inf)."""
    return np.where(np.isfinite(hi), lo, 0.0)


def norm(hi, lo):
    """The pair renormalised (|lo| <= ulp(hi)/2), non-finite high parts with lo = 0."""
    s, e = fast_two_sum(hi, clean(hi, lo))
    return s, clean(s, e)


def mul(ah, al, bh, bl):
    """(ah + al) * (bh + bl) as a normalised pair."""
    p = ah * bh
    e = prod_err(ah, bh, p) + (ah * bl + al * bh)
    return norm(p, e)


def add(ah, al, bh, bl):
    """(ah + al) + (bh + bl) as a normalised pair."""
    s, e = two_sum(ah, bh)
    return norm(s, e + (al + bl))


def div(ah, al, bh, bl):
    """(ah + al) / (bh + bl) as a pair (one correction step: about 2**-104 relative)."""
    q = ah / bh
    p = q * bh
    r = ((ah - p) - prod_err(q, bh, p) + al) - q * bl
    return norm(q, r / bh)


def sum_along(hi, lo, axes):
    """The sum of the pairs (hi, lo) over ``axes`` (keepdims), by a pairwise tree of TwoSums:
    the error is about 2**-104 * log2(K) times the sum of the magnitudes."""
    hi = np.asarray(hi, np.float64)
    lo = np.broadcast_to(np.asarray(lo, np.float64), hi.shape)
    nd = hi.ndim
    axes = tuple(axes)
    kept_shape = tuple(1 if i in axes else s for i, s in enumerate(hi.shape))
    rest = [i for i in range(nd) if i not in axes]
    h = hi.transpose(rest + list(axes)).reshape([hi.shape[i] for i in rest] + [-1])
    lw = lo.transpose(rest + list(axes)).reshape(h.shape)
    if h.shape[-1] == 0:
        z = np.zeros(h.shape[:-1], np.float64)
        return z.reshape(kept_shape), z.reshape(kept_shape).copy()
    while h.shape[-1] > 1:
        n = h.shape[-1]
        if n % 2:
            pad = [(0, 0)] * (h.ndim - 1) + [(0, 1)]
            h = np.pad(h, pad)
            lw = np.pad(lw, pad)
        a, b = h[..., 0::2], h[..., 1::2]
        s, e = two_sum(a, b)
        lw = (lw[..., 0::2] + lw[..., 1::2]) + e
        h = s
    return norm(h[..., 0].reshape(kept_shape), lw[..., 0].reshape(kept_shape))


# ---------------------------------------------------------------- exp of a pair
def _dd_const(value):
    hi = float(value)
    return hi, float(value - Fraction(hi))


_LN2 = Fraction("0.69314718055994530941723212145817656807550013436025525412068000949339362196969471560586332699641868754200148102057068573368552023575813055703267075163507596193072757082837143519030703862389167347112335")
_L1 = Fraction(round(_LN2 * 2 ** 42), 2 ** 42)            # 42 bits: k * _L1 exact for |k| < 2**11
_L2 = Fraction(round((_LN2 - _L1) * 2 ** 84), 2 ** 84)     # likewise
_L1F, _L2F, _L3F = float(_L1), float(_L2), float(_LN2 - _L1 - _L2)
_INV_LN2 = float(1 / _LN2)
_SQUARINGS = 10
_TAYLOR = [_dd_const(Fraction(1, _factorial)) for _factorial in
           (1, 2, 6, 24, 120, 720, 5040, 40320, 362880)]   # 1/n!, n = 1..9


def exp(hi, lo=0.0):
    """exp(hi + lo) as a pair, relative error about 2**-100 where the result is normal (the
    pair's low part underflows first: below about 2**-969 the error is that of hi alone).
    hi = -inf gives 0, +inf inf, NaN NaN."""
    hi = np.asarray(hi, np.float64)
    lo = clean(hi, np.broadcast_to(np.asarray(lo, np.float64), hi.shape))
    ok = (hi > -746.0) & (hi < 710.0)
    h = np.where(ok, hi, 0.0)
    lw = np.where(ok, lo, 0.0)
    k = np.rint(h * _INV_LN2)
    t = h - k * _L1F                     # exact: k * _L1 is, and t is close to it
    r, e = two_sum(t, -(k * _L2F))       # k * _L2 exact too
    r, e = fast_two_sum(r, e + (lw - k * _L3F))
    r, e = r * 2.0 ** -_SQUARINGS, e * 2.0 ** -_SQUARINGS   # |r| <= 3.4e-4
    ph, pl = _TAYLOR[-1]
    for ch, cl in reversed(_TAYLOR[:-1]):   # Horner: 1/1! + r/2! + ... in double-double
        ph, pl = mul(ph, pl, r, e)
        ph, pl = add(ph, pl, ch, cl)
    uh, ul = mul(ph, pl, r, e)           # u = exp(r) - 1
    for _ in range(_SQUARINGS):          # exp(2r) - 1 = u (u + 2)
        uh, ul = add(*mul(uh, ul, uh, ul), 2 * uh, 2 * ul)
    sh, sl = add(uh, ul, np.ones_like(uh), np.zeros_like(uh))
    ki = k.astype(np.int64)
    # 2**k in two steps, so that the scaling of a result near the overflow or underflow
    # threshold is exact up to the final rounding
    k1 = ki // 2
    k2 = ki - k1
    rh = np.ldexp(np.ldexp(sh, k1), k2)
    rl = np.ldexp(np.ldexp(sl, k1), k2)
    rh = np.where(ok, rh, np.where(hi > 0, np.inf, np.where(np.isnan(hi), np.nan, 0.0)))
    rl = np.where(ok & np.isfinite(rh), rl, 0.0)
    return rh, rl


def log(hi, lo):
    """log(hi + lo) as a pair, for hi > 0: log1p keeps the sum - 1 exact near 1, one Newton
    step L + (S - exp(L)) / S with ``exp``'s pair recovers the rounding of the log."""
    with np.errstate(divide="ignore", invalid="ignore"):
        near = (hi >= 0.5) & (hi <= 2.0)
        L = np.where(near, np.log1p((hi - 1.0) + lo), np.log(hi))
        eh, el = exp(L)
        L_lo = ((hi - eh) + (lo - el)) / hi
    return L, clean(L, L_lo)

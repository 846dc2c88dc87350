"""The test oracle: the exact value of every function, and the one ulp measure.

Independent of the code under test (it shares nothing with ``softmax._api``,
the kernels or ``softmax._reference``), used by the tests and by
``benchmarks/accuracy.py``.

Arithmetic is double-double (``DD``: an unevaluated sum hi + lo of two float64
arrays, about 106 bits), written with NumPy float64 operations only, so it does
not depend on ``np.longdouble`` being wider than float64 (it is not on Windows
or macOS arm64). The inputs are taken exactly (float16 to float64, int64 and
uint64, and longdouble's 64-bit mantissa, all fit in a pair); x - max is exact
and so is the division by the temperature, to about 2**-104. The exponential
and log1p come from one of two backends:

- ``portable``: double-double range reduction and Taylor series (relative error
  about 2**-100, checked against mpmath in tests/test_oracle.py);
- ``longdouble``: NumPy's long double exp/log1p of the exact double-double
  argument (relative error about 2**-63), several times faster; used by default
  where ``np.longdouble`` has a 64-bit mantissa (x86).

``SOFTMAX_ORACLE=portable`` forces the portable backend (``longdouble`` forces
the other); ``oracle.BACKEND`` says which one runs.

Special values follow the semantics the README states (per slice: NaN wins,
+inf entries share the mass, ``where`` leaves entries out, T = 0 is the arg-max
limit, ``b == 0`` entries are ignored), written here from that description;
derivatives evaluate their formula, so NaN and inf propagate as in IEEE
arithmetic. Complex inputs (computed by ``softmax._reference`` in the library)
are evaluated by the textbook formula in complex128.
"""
import decimal
import fractions
import functools
import math
import os

import numpy as np

F64 = np.float64
_LD_WIDE = np.finfo(np.longdouble).nmant >= 63
BACKEND = os.environ.get("SOFTMAX_ORACLE", "").strip().lower() or ("longdouble" if _LD_WIDE else "portable")
if BACKEND not in ("portable", "longdouble") or (BACKEND == "longdouble" and not _LD_WIDE):
    raise ImportError(f"SOFTMAX_ORACLE must be 'portable' (or 'longdouble' where np.longdouble has "
                      f"a 64-bit mantissa); got {BACKEND!r}")


# ============================================================================ double-double
def _two_sum(a, b):
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


def _fast_two_sum(a, b):  # |a| >= |b|
    s = a + b
    return s, b - (s - a)


_SPLIT = 134217729.0  # 2**27 + 1
_BIG = 2.0 ** 995


def _split(a):
    big = np.abs(a) > _BIG  # the splitter would overflow: split a / 2**28
    guard = big.any()
    a2 = np.where(big, a * 2.0 ** -28, a) if guard else a
    c = _SPLIT * a2
    hi = c - (c - a2)
    lo = a2 - hi
    if guard:
        return np.where(big, hi * 2.0 ** 28, hi), np.where(big, lo * 2.0 ** 28, lo)
    return hi, lo


def _two_prod(a, b):
    p = a * b
    ah, al = _split(a)
    bh, bl = _split(b)
    return p, ((ah * bh - p) + ah * bl + al * bh) + al * bl


def _clean(hi, lo, ieee):
    """Where the IEEE result of the leading parts is not finite, it is the result."""
    fin = np.isfinite(ieee)
    if fin.all():
        return DD(hi, lo)
    return DD(np.where(fin, hi, ieee), np.where(fin, lo, 0.0))


class DD:
    """hi + lo, |lo| <= ulp(hi) / 2; arrays of float64 (hi complex128 and lo 0 for complex)."""
    __slots__ = ("hi", "lo")

    def __init__(self, hi, lo=None):
        self.hi = np.asarray(hi)
        self.lo = np.zeros(self.hi.shape) if lo is None else np.asarray(lo)

    @staticmethod
    def of(a):
        return a if isinstance(a, DD) else exact(a)

    @property
    def shape(self):
        return self.hi.shape

    def __getitem__(self, idx):
        return DD(self.hi[idx], self.lo[idx])

    def __neg__(self):
        return DD(-self.hi, -self.lo)

    def __add__(self, o):
        o = DD.of(o)
        s, e = _two_sum(self.hi, o.hi)
        t, f = _two_sum(self.lo, o.lo)
        s, e = _fast_two_sum(s, e + t)
        s, e = _fast_two_sum(s, e + f)
        return _clean(s, e, self.hi + o.hi)

    __radd__ = __add__

    def __sub__(self, o):
        return self + -DD.of(o)

    def __rsub__(self, o):
        return DD.of(o) - self

    def __mul__(self, o):
        o = DD.of(o)
        p, e = _two_prod(self.hi, o.hi)
        p, e = _fast_two_sum(p, e + (self.hi * o.lo + self.lo * o.hi))
        return _clean(p, e, self.hi * o.hi)

    __rmul__ = __mul__

    def __truediv__(self, o):
        if isinstance(o, float) and o == 1.0:
            return self
        o = DD.of(o)
        q1 = self.hi / o.hi
        r = self - o * q1
        q2 = r.hi / o.hi
        r = r - o * q2
        q = DD(*_fast_two_sum(q1, q2)) + r.hi / o.hi
        return _clean(q.hi, q.lo, q1)

    def __rtruediv__(self, o):
        return DD.of(o) / self

    def scaled(self, k):
        """self * 2**k (k an integer array)."""
        k = np.asarray(k, np.intc)   # (ldexp takes a C int; int64 has no loop on Windows)
        return DD(np.ldexp(self.hi, k), np.ldexp(self.lo, k))

    def abs(self):
        neg = self.hi < 0
        return DD(np.where(neg, -self.hi, self.hi), np.where(neg, -self.lo, self.lo))

    def round(self, dtype=F64):
        """The value as an array of `dtype` (hi + lo, rounded)."""
        dtype = np.dtype(dtype)
        if dtype.kind == "c" or self.hi.dtype.kind == "c":
            return self.hi.astype(dtype)
        if dtype.itemsize > 8:
            return self.hi.astype(dtype) + self.lo.astype(dtype)
        with np.errstate(all="ignore"):
            return (self.hi + self.lo).astype(dtype)


def select(cond, a, b):
    """np.where for DDs."""
    a, b = DD.of(a), DD.of(b)
    return DD(np.where(cond, a.hi, b.hi), np.where(cond, a.lo, b.lo))


def dd_sum(a, axis=-1, keepdims=True):
    """Sum of a DD array along its last axis (pairwise: each level one vector DD addition)."""
    assert axis == -1
    while a.shape[-1] > 1:
        k = a.shape[-1]
        if k % 2:
            a = DD(np.concatenate([a.hi, np.zeros(a.shape[:-1] + (1,))], -1),
                   np.concatenate([a.lo, np.zeros(a.shape[:-1] + (1,))], -1))
        a = a[..., 0::2] + a[..., 1::2]
    if a.shape[-1] == 0:
        a = DD(np.zeros(a.shape[:-1] + (1,)))
    return a if keepdims else a[..., 0]


def exact(a):
    """A real numeric array as a DD, exactly (int64/uint64 and longdouble included)."""
    a = np.asarray(a)
    if a.dtype.kind == "c":
        return DD(a.astype(np.complex128))
    if a.dtype.kind == "b" or (a.dtype.kind in "iu" and a.dtype.itemsize < 8):
        return DD(a.astype(F64))
    if a.dtype.kind in "iu":
        low = a & 2047
        hi, lo = _two_sum((a - low).astype(F64), low.astype(F64))  # both parts exact
        return DD(hi, lo)
    if a.dtype.itemsize > 8 and a.dtype.kind == "f":
        hi = a.astype(F64)
        with np.errstate(invalid="ignore"):
            lo = (a - hi.astype(a.dtype)).astype(F64)
        return _clean(hi, lo, hi)
    return DD(a.astype(F64))


def _dd_const(text):
    decimal.getcontext().prec = 60
    v = decimal.Decimal(text) if not isinstance(text, decimal.Decimal) else text
    hi = float(v)
    return hi, float(v - decimal.Decimal(hi))


decimal.getcontext().prec = 60
_LN2 = _dd_const(decimal.Decimal(2).ln())
_INV_FACT = []   # 1/n! as (hi, lo) for n = 2..6, then as floats for n = 7..12
for _n in range(2, 13):
    _f = fractions.Fraction(1, math.factorial(_n))
    _h = float(_f)
    _INV_FACT.append((_h, float(_f - fractions.Fraction(_h))))
_EXP_J = np.array([_dd_const((decimal.Decimal(_j) / 64).exp()) for _j in range(-23, 24)])  # e**(j/64)


# ============================================================================ exp and log1p
def _reduce(z):
    """z = k ln2 + r with |r| <= ln2 / 2 (k a float array of integers, r a DD)."""
    k = np.rint(z.hi / _LN2[0])
    kl = DD(*_two_prod(k, np.full_like(k, _LN2[0]))) + k * _LN2[1]
    return k, z - kl


def _expm1_small(r):
    """expm1(r) for |r| <= ln2/2, to about 2**-100 relative: r = j/64 + u with |u| <= 1/128,
    e**(j/64) from a table, expm1(u) by its Taylor series (the terms below 2**-53 in floats)."""
    j = np.rint(r.hi * 64.0)
    u = r - j / 64.0
    tail = np.zeros(u.shape)
    for hi, _ in reversed(_INV_FACT[5:]):
        tail = tail * u.hi + hi
    p = DD(tail)
    for hi, lo in reversed(_INV_FACT[:5]):  # p = sum_{n >= 2} u**(n-2) / n!
        p = p * u + DD(np.full(u.shape, hi), np.full(u.shape, lo))
    em1 = u + (u * u) * p
    idx = j.astype(int) + 23
    ej = DD(_EXP_J[idx, 0], _EXP_J[idx, 1])
    return (ej - 1.0) + ej * em1


def _finite_dd(z):
    """z with its non-finite entries set to 0 (handled apart)."""
    fin = np.isfinite(z.hi)
    return DD(np.where(fin, z.hi, 0.0), np.where(fin, z.lo, 0.0)), fin


def _exp_portable(z, p2):
    ok = np.abs(z.hi) < 760.0   # beyond, e**z is 0 or inf (or NaN) in float64
    k, r = _reduce(select(ok, z, 0.0))
    e = (_expm1_small(r) + 1.0).scaled(k.astype(int) + p2)
    return select(ok, e, DD(np.exp(z.hi)))


def _log1p_portable(a):
    """log1p(a) for a DD a in (-1/2, 1]: one Newton step from float64 log1p."""
    y0 = np.log1p(a.hi + a.lo)
    k, r = _reduce(DD(y0))
    em1 = _expm1_small(r)
    em1 = select(k == 0, em1, (em1 + 1.0).scaled(k.astype(int)) - 1.0)
    return (a - em1) / (em1 + 1.0) + y0


def _exp_longdouble(z, p2):
    zz, fin = _finite_dd(z)
    e = np.ldexp(np.exp(zz.hi.astype(np.longdouble)), np.asarray(p2, np.intc))
    hi = e.astype(F64)
    ed = DD(hi, (e - hi.astype(np.longdouble)).astype(F64)) * (DD(zz.lo) + 1.0)
    return select(fin, ed, DD(np.exp(z.hi)))


def _log1p_longdouble(a):
    v = np.log1p(a.hi.astype(np.longdouble) + a.lo.astype(np.longdouble))
    hi = v.astype(F64)
    return DD(hi, (v - hi.astype(np.longdouble)).astype(F64))


def exp(z, p2=0):
    """e**z of a DD, as a DD; times 2**p2 (integers), exactly, for results that would be
    subnormal (where a DD is no better than a float64)."""
    with np.errstate(all="ignore"):
        return (_exp_portable if BACKEND == "portable" else _exp_longdouble)(DD.of(z), p2)


def log(s):
    """The natural logarithm of a DD s > 0 (log1p of s - 1 near 1; otherwise of its mantissa)."""
    s = DD.of(s)
    with np.errstate(all="ignore"):
        fin = np.isfinite(s.hi) & (s.hi > 0)
        sf = select(fin, s, 1.0)
        _, e = np.frexp(sf.hi)
        e = np.where(np.abs(sf.hi - 1.0) < 0.5, 0, e)
        m = sf.scaled(-e) - 1.0
        res = (_log1p_portable if BACKEND == "portable" else _log1p_longdouble)(m)
        res = res + DD(*_two_prod(e.astype(F64), np.full(e.shape, _LN2[0]))) + e * _LN2[1]
        return select(fin, res, DD(np.log(s.hi)))


def log1p(a):
    """log(1 + a) of a DD a > -1, with a's own relative precision where it is small."""
    a = DD.of(a)
    with np.errstate(all="ignore"):
        small = np.abs(a.hi) < 0.5
        near = (_log1p_portable if BACKEND == "portable" else _log1p_longdouble)(select(small, a, 0.0))
        return select(small, near, log(a + 1.0))


# ============================================================================ slices
def _axes(axis, ndim):
    if axis is None:
        return tuple(range(ndim))
    axis = axis if isinstance(axis, (tuple, list)) else (axis,)
    return tuple(sorted(int(a) % ndim for a in axis))


class _Slices:
    """The reduced axes of an array moved last and flattened: (rest..., K), and back."""

    def __init__(self, shape, axis):
        self.shape = tuple(shape)
        nd = len(shape)
        self.axes = _axes(axis, nd)
        self.dst = tuple(range(nd - len(self.axes), nd))
        self.moved = tuple(np.moveaxis(np.empty(shape, bool), self.axes, self.dst).shape)
        self.rest = self.moved[:nd - len(self.axes)]
        self.K = math.prod(shape[i] for i in self.axes)

    def flat(self, a):
        """An array broadcast to the shape, as (rest..., K)."""
        a = np.broadcast_to(a, self.shape)
        return np.moveaxis(a, self.axes, self.dst).reshape(self.rest + (self.K,))

    def back(self, r):
        """A (rest..., K) DD back in the original layout."""
        f = lambda a: np.moveaxis(a.reshape(self.moved), self.dst, self.axes)  # noqa: E731
        return DD(f(r.hi), f(r.lo))

    def reduced(self, r, keepdims):
        """A (rest..., 1) DD in the shape of a reduction."""
        shape = tuple(1 if i in self.axes else n for i, n in enumerate(self.shape)) if keepdims \
            else tuple(n for i, n in enumerate(self.shape) if i not in self.axes)
        return DD(r.hi.reshape(shape), r.lo.reshape(shape))


def _dd_flat(sl, a):
    d = exact(a)
    return DD(sl.flat(d.hi), sl.flat(d.lo))


def _keep(sl, where):
    return np.ones(sl.rest + (sl.K,), bool) if where is None else sl.flat(np.asarray(where, bool))


def _max_dd(key, keep):
    """The largest DD of each slice over the kept entries (keepdims); -inf for none."""
    h = np.where(keep, key.hi, -np.inf)
    mh = np.max(h, axis=-1, keepdims=True, initial=-np.inf)
    ml = np.max(np.where(h == mh, key.lo, -np.inf), axis=-1, keepdims=True, initial=-np.inf)
    return DD(mh, np.where(np.isfinite(mh), ml, 0.0))


def _diff_over(key, m, t):
    """(key - m) / |t|, exact to the last bits of a DD; a difference that overflows is taken
    in halves, so that (x - m) / T stays finite when it is."""
    at = abs(t)
    d = key - m
    ok = np.isfinite(d.hi) | ~np.isfinite(key.hi)
    z = d if at == 1 else d / at
    if ok.all():
        return z
    return select(ok, z, (key * 0.5 - m * 0.5) / at * 2.0)


class _Forms:
    """Per slice of x (rest..., K): which case it is and the exact pieces of the softmax."""

    def __init__(self, x, t, keep, b=None):
        s = -1.0 if t < 0 else 1.0
        self.t, self.s = t, s
        keep = keep & (True if b is None else (b.hi != 0))
        self.keep = keep
        key = -x if s < 0 else x
        bad = np.isnan(x.hi) | (False if b is None else np.isnan(b.hi))
        self.nan = np.any(keep & bad, axis=-1, keepdims=True)
        self.none = ~np.any(keep, axis=-1, keepdims=True)
        self.m = m = _max_dd(key, keep)
        if t == 0:
            self.win = keep & (key.hi == m.hi) & (key.lo == m.lo) & (m.hi > -np.inf)
        else:
            self.win = keep & (key.hi == np.inf)
        self.hard = np.any(self.win, axis=-1, keepdims=True)   # the limit: winners share
        self.count = np.sum(self.win, axis=-1, keepdims=True)
        self.all_minus_inf = ~self.none & (m.hi == -np.inf)
        with np.errstate(all="ignore"):
            mm = select(np.isfinite(m.hi), m, 0.0)
            z = _diff_over(select(keep, key, -np.inf), mm, t if t != 0 else 1.0)
            self.z = select(keep & np.isfinite(m.hi), z, -np.inf)
            self.e = exp(self.z)
        # the maxima (z == 0, e == 1 exactly) are summed apart from the rest, so that
        # log(sum) = log1p((top - 1) + rest) keeps the relative precision of a tiny rest
        self.at_max = keep & (self.z.hi == 0) & (self.z.lo == 0)

    def sums(self, w=None):
        """(top, rest): the sum of the weights w at the maxima, and of w e elsewhere."""
        w = DD(np.ones(self.keep.shape)) if w is None else w
        with np.errstate(all="ignore"):
            terms = w * self.e
            # an infinite weight times an exp that underflowed (z finite) is infinite
            terms = select(np.isinf(w.hi) & (self.e.hi == 0) & np.isfinite(self.z.hi), w, terms)
            return (dd_sum(select(self.at_max, w, 0.0)),
                    dd_sum(select(self.keep & ~self.at_max, terms, 0.0)))

    @functools.cached_property
    def p2(self):
        """A power of two that keeps e**z and the softmax of the smallest entries away from
        float64's underflow, where a DD is no better than a float64 (600 where z < -600)."""
        return np.where((self.z.hi < -600) & ~self.hard, 600, 0)   # (the limit's shares are exact)

    def softmax(self, scaled=False):
        """The softmax; `scaled`: times 2**p2 (exactly), to be scaled back after a product."""
        with np.errstate(all="ignore"):
            top, rest = self.sums()
            e = exp(self.z, self.p2) if self.p2.any() else self.e
            soft = e / (top + rest)
            if not scaled:
                soft = soft.scaled(-self.p2)
            hard = DD(np.where(self.win, 1.0, 0.0)) / DD(self.count.astype(F64))
            r = select(self.hard, hard, soft)
            r = select(self.all_minus_inf | self.nan, np.nan, r)
            return select(self.keep, r, 0.0)

    def log_softmax(self):
        with np.errstate(all="ignore"):
            top, rest = self.sums()
            soft = self.z - log1p((top - 1.0) + rest)
            hard = select(self.win, -log(DD(self.count.astype(F64))), -np.inf)
            r = select(self.hard, hard, soft)
            r = select(self.all_minus_inf | self.nan, np.nan, r)
            return select(self.keep, r, -np.inf)


# ============================================================================ the functions
class Exact:
    """The exact values of every function of one input `x` along `axis` at `temperature`
    (with the mask `where`): what depends on x alone (the slices' maxima, x - max, its
    exponentials) is computed once and shared by softmax, log_softmax, logsumexp, the JVPs
    and the scales of the ulp measure. Each value is a DD (complex inputs: complex128)."""

    def __init__(self, x, axis=None, temperature=1.0, where=None):
        self.x = np.asarray(x)
        self.t = float(temperature)
        self.sl = _Slices(self.x.shape, axis)
        self.keep = _keep(self.sl, where)
        self.complex = self.x.dtype.kind == "c"
        self._forms = None

    @property
    def forms(self):
        """The real forms of the slices (complex inputs at T = 0: of the real part)."""
        if self._forms is None:
            x = self.x.real if self.complex else self.x
            self._forms = _Forms(_dd_flat(self.sl, x), self.t, self.keep)
        return self._forms

    @functools.lru_cache(maxsize=None)
    def _flat_softmax(self, log=False, scaled=False):
        if self.complex and self.t != 0:
            return DD(_complex_forms(self.sl.flat(self.x), self.t, self.keep)["log_softmax" if log else "softmax"])
        return self.forms.log_softmax() if log else self.forms.softmax(scaled)

    def softmax(self):
        return self.sl.back(self._flat_softmax())

    def log_softmax(self):
        return self.sl.back(self._flat_softmax(log=True))

    def logsumexp(self, b=None, keepdims=False, return_sign=False):
        sl = self.sl
        if self.complex or (b is not None and np.asarray(b).dtype.kind == "c"):
            res, sgn = _complex_lse(sl.flat(self.x), self.t, self.keep,
                                    None if b is None else sl.flat(b), return_sign)
            res, sgn = DD(res), DD(sgn)
        elif b is None:
            res, sgn = _lse_real(self.forms, None, return_sign)
        else:
            bb = _dd_flat(sl, b)
            res, sgn = _lse_real(_Forms(_dd_flat(sl, self.x), self.t, self.keep, bb), bb, return_sign)
        res = sl.reduced(res, keepdims)
        return (res, sl.reduced(sgn, keepdims).hi) if return_sign else res

    def _jvp(self, v, log, scale=False):
        v = np.asarray(v)
        if v.dtype.kind == "c" and not self.complex:   # linear in v: real and imaginary parts
            re, im = self._jvp(v.real, log, scale).round(), self._jvp(v.imag, log, scale).round()
            return DD(re + 1j * im)
        sl, keep, t = self.sl, self.keep, self.t
        with np.errstate(all="ignore"):
            if self.complex:
                c = _complex_forms(sl.flat(self.x), t, keep)["softmax"]
                vf = sl.flat(v).astype(np.complex128)
                dv = vf - np.sum(np.where(keep, c * vf, 0), axis=-1, keepdims=True)
                return sl.back(DD(np.where(keep, (dv if log else c * dv) / t, 0)))
            s = self._flat_softmax()
            vf = _dd_flat(sl, v)
            if scale:   # every term taken positive
                vf = vf.abs()
                dv = (vf + dd_sum(select(keep, s * vf, 0.0))) / abs(t)
            else:
                dv = (vf - dd_sum(select(keep, s * vf, 0.0))) / t
            if not log:   # the product of the scaled softmax, scaled back: rounded once
                dv = (self._flat_softmax(scaled=True) * dv).scaled(-self.forms.p2)
            return sl.back(select(keep, dv, 0.0))

    def softmax_jvp(self, v):
        return self._jvp(v, log=False)

    def log_softmax_jvp(self, v):
        return self._jvp(v, log=True)

    def softmax_jacobian(self):
        """Along the one reduced axis (or all of them, flattened): shape rest + (K, K)."""
        s = self._flat_softmax()
        K = s.shape[-1]
        s = DD(s.hi.reshape(self.sl.rest + (K,)), s.lo.reshape(self.sl.rest + (K,)))
        eye = np.eye(K, dtype=bool)
        with np.errstate(all="ignore"):
            if self.complex:
                return DD(s.hi[..., :, None] * (eye - s.hi[..., None, :]) / self.t)
            return s[..., :, None] * (select(eye, 1.0, 0.0) - s[..., None, :]) / self.t

    def scale(self, name, second=None):
        """The size of the terms `name`'s result is made of (a DD of the result's shape), what
        the ulp measure counts in: |result| for softmax and log_softmax; max(|result|, |m|) for
        logsumexp (m the slice's winning input, to which it adds T log(sum)); for the JVPs the
        formula with every term taken positive (the value may cancel to ~0)."""
        with np.errstate(all="ignore"):
            if name in ("softmax", "log_softmax"):
                return getattr(self, name)().abs()
            if name == "logsumexp":
                lse = self.logsumexp().abs()
                big = self.sl.reduced(self.forms.m.abs(), False)
                return select(lse.hi > big.hi, lse, big)
            return self._jvp(second, log=name == "log_softmax_jvp", scale=True)


def _lse_real(f, b, return_sign):
    t, s = f.t, f.s
    with np.errstate(all="ignore"):
        w = DD(np.ones(f.keep.shape)) if b is None else b
        if t == 0:
            W = dd_sum(select(f.win, w, 0.0))
            sgn = np.sign(W.hi)
            sgn = np.where((f.m.hi == np.inf) & (W.hi == 0), np.nan, sgn)
            res = select(sgn != 0, f.m, -np.inf)
        else:
            top, rest = f.sums(w)
            hard = dd_sum(select(f.win, w, 0.0))
            # +inf winners: their weight decides; an infinite weight elsewhere is inf * 0
            other_inf = np.any(f.keep & ~f.win & ~np.isfinite(w.hi), axis=-1, keepdims=True)
            S = select(f.hard, select(other_inf, np.nan, hard * np.inf), top + rest)
            sgn = np.sign(S.hi)
            L = select(f.hard, log(S.abs()), log1p((top * sgn - 1.0) + rest * sgn))
            res = f.m * s + L * t
            res = select(f.hard & (sgn != 0), np.inf * np.sign(t) * np.ones_like(sgn), res)
        sgn = np.where(f.nan, np.nan, sgn)
        res = select(f.nan | np.isnan(sgn), np.nan, res)
        if not return_sign:
            res = select(sgn < 0, np.nan, res)
        res = select(f.none, -np.inf, res)
        sgn = np.where(f.none, 0.0, sgn)
        return res, DD(sgn)


def softmax(x, axis=None, temperature=1.0, where=None):
    """exp(x/T) / sum(exp(x/T)) along `axis`."""
    return Exact(x, axis, temperature, where).softmax()


def log_softmax(x, axis=None, temperature=1.0, where=None):
    """x/T - logsumexp(x/T) along `axis`."""
    return Exact(x, axis, temperature, where).log_softmax()


def logsumexp(a, axis=None, b=None, keepdims=False, return_sign=False, temperature=1.0, where=None):
    """T log(sum(b exp(a/T))) along `axis`, with scipy's b, keepdims and return_sign."""
    return Exact(a, axis, temperature, where).logsumexp(b, keepdims, return_sign)


def softmax_jvp(x, v, axis=None, temperature=1.0, where=None):
    """s (v - sum(s v)) / T with s = softmax(x/T) (masked entries 0)."""
    return Exact(x, axis, temperature, where).softmax_jvp(v)


def log_softmax_jvp(x, v, axis=None, temperature=1.0, where=None):
    """(v - sum(s v)) / T with s = softmax(x/T) (masked entries 0)."""
    return Exact(x, axis, temperature, where).log_softmax_jvp(v)


def _vjp(y, g, axis, temperature, log, scale=False):
    y, g = np.asarray(y), np.broadcast_to(np.asarray(g), np.shape(y))
    sl = _Slices(y.shape, axis)
    t = float(temperature)
    if y.dtype.kind == "c" or g.dtype.kind == "c":
        yf, gf = sl.flat(y).astype(np.complex128), sl.flat(g).astype(np.complex128)
        with np.errstate(all="ignore"):
            r = (gf - np.exp(yf) * gf.sum(-1, keepdims=True)) if log \
                else yf * (gf - (yf * gf).sum(-1, keepdims=True))
        return sl.back(DD(r / t))
    yf, gf = _dd_flat(sl, y), _dd_flat(sl, g)
    with np.errstate(all="ignore"):
        # (divided by T before the product with y: a product in float64's underflow is rounded
        # once, and a division after it would magnify that rounding)
        if scale:   # every term taken positive
            ga = gf.abs()
            r = (ga + exp(yf) * dd_sum(ga)) / abs(t) if log else yf.abs() * ((ga + dd_sum((yf * gf).abs())) / abs(t))
            return sl.back(r)
        r = (gf - exp(yf) * dd_sum(gf)) / t if log else yf * ((gf - dd_sum(yf * gf)) / t)
        return sl.back(r)


def softmax_vjp(y, g, axis=None, temperature=1.0):
    """y (g - sum(y g)) / T."""
    return _vjp(y, g, axis, temperature, log=False)


def log_softmax_vjp(y, g, axis=None, temperature=1.0):
    """(g - exp(y) sum(g)) / T."""
    return _vjp(y, g, axis, temperature, log=True)


def softmax_jacobian(x, axis=-1, temperature=1.0):
    """(diag(s) - s s^T) / T along `axis` (None: the flattened array): shape x.shape without
    the axis, then (K, K)."""
    return Exact(x, axis, temperature).softmax_jacobian()


def scale(name, x, second=None, axis=None, temperature=1.0, where=None):
    """The scale of the ulp measure of `name` (see ``Exact.scale``); for the VJPs x is y and
    second is g."""
    if name in ("softmax_vjp", "log_softmax_vjp"):
        return _vjp(x, second, axis, temperature, log=name == "log_softmax_vjp", scale=True)
    return Exact(x, axis, temperature, where).scale(name, second)


# ============================================================================ complex
def _complex_forms(x, t, keep):
    """Textbook softmax / log_softmax of complex x / T along the last axis (complex128)."""
    with np.errstate(all="ignore"):
        z = np.where(keep, x.astype(np.complex128) / t, -np.inf)
        m = np.max(z.real, axis=-1, keepdims=True, initial=-np.inf)
        m = np.where(np.isfinite(m), m, 0)
        e = np.exp(z - m)
        tot = e.sum(-1, keepdims=True)
        return {"softmax": np.where(keep, e / tot, 0),
                "log_softmax": np.where(keep, (z - m) - np.log(tot), -np.inf)}


def _complex_lse(a, t, keep, b, return_sign):
    with np.errstate(all="ignore"):
        if b is not None:
            keep = keep & (b != 0)
        if t == 0:
            ar = np.where(keep, a.real, -np.inf)
            m = np.max(ar, axis=-1, keepdims=True, initial=-np.inf)
            w = np.ones(a.shape) if b is None else b
            tot = np.sum(np.where(ar == m, w, 0), axis=-1, keepdims=True)
            sgn = np.where(m == -np.inf, 0, tot / np.abs(tot))
            return np.where(sgn != 0, m, -np.inf).astype(np.complex128), sgn
        z = np.where(keep, a.astype(np.complex128) / t, -np.inf)
        m = np.max(z.real, axis=-1, keepdims=True, initial=-np.inf)
        m = np.where(np.isfinite(m), m, 0)
        w = 1 if b is None else np.where(keep, b, 0)
        tot = np.sum(w * np.exp(z - m), axis=-1, keepdims=True)
        none = ~np.any(keep, axis=-1, keepdims=True)
        if return_sign:
            res, sgn = t * (m + np.log(np.abs(tot))), np.where(tot == 0, 0, tot / np.abs(tot))
        else:
            res, sgn = t * (m + np.log(tot)), np.ones(tot.shape)
        return np.where(none, -np.inf, res), np.where(none, 0, sgn)


# ============================================================================ the ulp measure
def ulp(a, dtype):
    """The spacing of `dtype` at |a| (a float64 array), floored at the spacing of the smallest
    normal number (below it the limit is an absolute error)."""
    fi = np.finfo(dtype)
    _, ex = np.frexp(np.abs(np.asarray(a, F64)))
    return np.maximum(np.ldexp(1.0, (ex - fi.nmant - 1).astype(np.intc)), F64(np.spacing(fi.tiny)))


def ulp_errors(got, exact, scale, dtype=None):
    """|got - exact| / ulp(scale) elementwise, in the output dtype (got's by default).

    The oracle's own error bound is taken off first: 2**-100 relative, or 2**-1075 absolute
    (below 2**-969 a double-double's low part is subnormal, so within 2**53 of the smallest
    normal number the oracle is no better than half a float64 ulp; elsewhere this is nil).

    Returns (units: float64 array, 0 where not measured; sub: |got - exact| / smallest normal
    where the scale is subnormal; mismatch: count of outputs whose exact value is not finite or
    whose scale is 0 (softmax: exactly 0) and that differ from it)."""
    got = np.asarray(got)
    dtype = np.dtype(dtype or got.dtype)
    exact, scale = DD.of(exact), DD.of(scale)
    assert got.shape == exact.shape, f"shape {got.shape} != {exact.shape}"
    g = got.astype(F64)
    with np.errstate(all="ignore"):
        special = ~np.isfinite(exact.hi) | ~np.isfinite(scale.hi) | (scale.hi == 0)
        mismatch = int(np.count_nonzero(special & ~((g == exact.hi) | (np.isnan(g) & np.isnan(exact.hi)))))
        err = np.abs((g - exact.hi) - exact.lo)
        err = np.maximum(err - (2.0 ** -1075 + 2.0 ** -100 * np.abs(exact.hi)), 0.0)
        err = np.where(special, 0.0, np.where(np.isnan(err), np.inf, err))
        tiny = np.finfo(dtype).tiny
        normal = ~special & (np.abs(scale.hi) >= tiny)
        units = np.where(normal, err / ulp(np.where(normal, scale.hi, 1.0), dtype), 0.0)
        sub = np.where(~special & ~normal, err / tiny, 0.0)
    return units, sub, mismatch

"""Pure-NumPy reference implementation of the softmax family.

It is the production path for ``longdouble`` and complex inputs (the tests
measure it, like the kernels, against ``tests/oracle.py``).  All arithmetic is done in the dtype of the input array, so
passing ``np.longdouble`` data gives extended precision.  No argument
validation is done here: the public API validates before calling in.

Every function takes ``axis`` as None, an int or a tuple of ints; the
reduction runs over those axes.  ``where`` (bool, broadcastable) leaves the
masked-out entries out of the computation.  ``temperature`` T applies the
function to ``x / T``; T == 0 (either sign) is the arg-max limit.
"""

import numpy as np

try:  # numpy >= 2
    from numpy.lib.array_utils import normalize_axis_tuple
except ImportError:  # pragma: no cover - numpy < 2
    from numpy.core.numeric import normalize_axis_tuple

__all__ = ["softmax", "log_softmax", "logsumexp", "softmax_jvp", "softmax_vjp",
           "log_softmax_jvp", "log_softmax_vjp"]


def _asinexact(x):
    """Return `x` as an ndarray of an inexact dtype (non-floats go to float64)."""
    x = np.asarray(x)
    return x if np.issubdtype(x.dtype, np.inexact) else x.astype(np.float64)


def _axes(axis, ndim):
    """Normalize `axis` (None, int or tuple) to a tuple of non-negative ints."""
    return tuple(range(ndim)) if axis is None else normalize_axis_tuple(axis, ndim)


def _temp(temperature, dtype):
    """Return `temperature` as a scalar of the real type matching `dtype`."""
    return np.asarray(temperature, np.finfo(dtype).dtype).reshape(())[()]


def _mask(where, shape):
    """Return `where` broadcast to `shape` as a bool array (None: all True)."""
    return np.ones(shape, bool) if where is None else np.broadcast_to(np.asarray(where, bool), shape)


def _slice_max(z, axes):
    """Max of the real part over `axes` (keepdims); -inf for empty slices, NaN if any NaN."""
    m = np.max(z.real, axis=axes, keepdims=True, initial=-np.inf)
    return np.where(np.any(np.isnan(z), axis=axes, keepdims=True), np.nan, m)


def _scaled(x, axes, temperature, mask):
    """Return x / T with masked entries set to -inf (T == 0: +inf at the maxima, -inf elsewhere)."""
    t = _temp(temperature, x.dtype)
    if t != 0:
        return np.where(mask, _times(t, x, divide=True), -np.inf).astype(x.dtype, copy=False)
    xm = np.where(mask, x, -np.inf).astype(x.dtype, copy=False)
    m = _slice_max(xm, axes)
    z = np.where((xm.real == m) & (m > -np.inf), np.inf, -np.inf)
    return np.where(np.isnan(m), np.nan, z).astype(x.dtype)


def _core(z, axes, b=None):
    """Shift `z` by its slice max; return (m, zs, top, rest), the weighted sums split at zs == 0.

    ``sum(b * exp(z)) == exp(m) * (top + rest)`` where `top` collects the maxima
    (exp(0) == 1 exactly) and `rest` the others.  Slices containing +inf keep
    only their +inf entries (shifted to 0); slices with NaN give NaN.
    """
    m = _slice_max(z, axes)
    m0 = np.where(np.isfinite(m), m, 0).astype(m.dtype)
    zs = np.where(m == np.inf, np.where(z.real == np.inf, 0, -np.inf), z - m0).astype(z.dtype)
    w = np.ones((), z.dtype) if b is None else b
    at_max = zs == 0
    top = np.sum(np.where(at_max, w, 0), axis=axes, keepdims=True)
    ez = np.exp(zs)
    terms = w * ez  # an infinite weight times an exp that underflowed (finite zs) is infinite
    terms = np.where(np.isinf(w) & (ez == 0) & np.isfinite(zs), w, terms)
    rest = np.sum(np.where(at_max, 0, terms), axis=axes, keepdims=True)
    return m, zs, top, rest


def _log_sum(top, rest):
    """Return log(top + rest) accurately (log1p around 1), NaN for negative totals."""
    if np.iscomplexobj(top) or np.iscomplexobj(rest):
        return np.log(top + rest)
    return np.log1p((top - 1) + rest)


def _complex_infinite(res, sgn, z, w, axes, return_sign):
    """Complex logsumexp where the shifted computation is not finite (an infinite real or
    imaginary part in the input): the direct ``log(sum(w * exp(z)))``, whose complex exp and
    log follow C99 for infinities, as scipy does (``logsumexp([-inf, -inf+0j])`` is -inf+0j,
    ``logsumexp([inf, inf+0j])`` inf+0j). With return_sign: log of the modulus and the phase.
    Left-out entries (masked, or of weight 0) are -inf in `z` and weigh 0, so add nothing."""
    bad = ~np.isfinite(res)
    if not bad.any():
        return res, sgn
    e = np.exp(z) if w is None else w * np.exp(z)
    if w is not None:
        e = np.where(w == 0, 0, e)  # weight 0: nothing, not 0 * inf
    total = np.sum(e, axis=axes, keepdims=True)
    if return_sign:
        mag = np.abs(total)
        direct_sgn = np.where(mag == 0, 0, total / np.where(mag == 0, 1, mag))
        direct = np.log(mag)
        return np.where(bad, direct, res), np.where(bad, direct_sgn, sgn)
    return np.where(bad, np.log(total), res), sgn


def _times(t, res, divide=False):
    """t * res (or res / t) for a real t, componentwise for complex res (complex arithmetic
    would turn inf + 0j into inf + nanj)."""
    op = np.divide if divide else np.multiply
    if not np.iscomplexobj(res):
        return op(res, t)
    out = np.empty(np.shape(res), np.result_type(res))
    out.real, out.imag = op(res.real, t), op(res.imag, t)
    return out


def softmax(x, axis=None, temperature=1.0, where=None):
    """Softmax of `x` along `axis`: exp(x/T) / sum(exp(x/T))."""
    x = _asinexact(x)
    axes, mask = _axes(axis, x.ndim), _mask(where, x.shape)
    with np.errstate(all="ignore"):
        _, zs, top, rest = _core(_scaled(x, axes, temperature, mask), axes)
        return np.where(mask, np.exp(zs) / (top + rest), 0).astype(x.dtype)


def log_softmax(x, axis=None, temperature=1.0, where=None):
    """Logarithm of the softmax of `x` along `axis`: x/T - logsumexp(x/T)."""
    x = _asinexact(x)
    axes, mask = _axes(axis, x.ndim), _mask(where, x.shape)
    with np.errstate(all="ignore"):
        _, zs, top, rest = _core(_scaled(x, axes, temperature, mask), axes)
        return np.where(mask, zs - _log_sum(top, rest), -np.inf).astype(x.dtype)


def logsumexp(a, axis=None, b=None, keepdims=False, return_sign=False, temperature=1.0, where=None):
    """T * log(sum(b * exp(a/T))) along `axis`, with scipy's `b` and `return_sign` semantics."""
    a = _asinexact(a)
    dt = a.dtype if b is None else np.result_type(a, b if np.isscalar(b) else np.asarray(b), np.float16)
    a = a.astype(dt, copy=False)
    axes, mask = _axes(axis, a.ndim), _mask(where, a.shape)
    bb = None if b is None else np.broadcast_to(np.asarray(b, dt), a.shape)
    if bb is not None:
        mask = mask & (bb != 0)
        bb = np.where(mask, bb, 0).astype(dt)  # left-out entries weigh nothing (not inf * 0)
    t = _temp(temperature, dt)
    with np.errstate(all="ignore"):
        if t == 0:  # arg-max limit: max(a), signed by the weights sitting at the maxima
            am = np.where(mask, a, -np.inf).astype(dt)
            m = _slice_max(am, axes)
            w = np.ones((), dt) if bb is None else bb
            tot = np.sum(np.where(am.real == m, w, 0), axis=axes, keepdims=True)
            sgn = np.where(np.isnan(m), np.nan, np.where(m == -np.inf, 0, np.sign(tot)))
            sgn = np.where((m == np.inf) & (tot == 0), np.nan, sgn)  # inf - inf, as for T != 0
            if bb is not None:  # a NaN weight makes every T != 0 total NaN, so the limit too
                sgn = np.where(np.any(np.isnan(bb) & mask, axis=axes, keepdims=True), np.nan, sgn)
            res = np.where(sgn > 0, m, np.where(sgn < 0, m if return_sign else np.nan, -np.inf))
            res = np.where(np.isnan(sgn), np.nan, res).astype(dt)
        else:
            z, sgn = _scaled(a, axes, t, mask), None
            m, _, top, rest = _core(z, axes, bb)
            madd = np.where(np.isnan(m), 0, m)  # +-inf stays, so inf + log(0) -> NaN
            if return_sign:
                s = top + rest
                sgn = s / np.abs(s) if np.iscomplexobj(s) else np.sign(s)
                sgn = np.where(s == 0, 0, sgn)
                lab = np.log(np.abs(s)) if np.iscomplexobj(s) else np.log1p((sgn * top - 1) + sgn * rest)
                res = madd + lab
                sgn = np.where(np.isnan(res), np.nan, sgn)
            else:
                res = madd + _log_sum(top, rest)
            if np.iscomplexobj(z):
                res, sgn = _complex_infinite(res, sgn, z, bb, axes, return_sign)
            res = _times(t, res).astype(dt)
        res = np.where(np.any(mask, axis=axes, keepdims=True), res, -np.inf).astype(dt)  # none left: -inf for any T
        if not keepdims:
            res = np.squeeze(res, axis=axes)
            sgn = np.squeeze(sgn, axis=axes) if return_sign else None
    return (res, sgn.astype(dt)) if return_sign else res


def _jvp(x, v, axis, temperature, where, log):
    """The JVP of softmax (or, with `log`, of log_softmax): s * (v - sum(s*v)) / T, or without the s."""
    x = _asinexact(x)
    dt = np.result_type(x, _asinexact(v))
    # softmax(x) in x's own kind at dt's precision: a real x stays real for a complex v
    # (the JVP is linear in v), so x / T never meets complex arithmetic with infinities
    x = x.astype(np.result_type(x.dtype, np.finfo(dt).dtype), copy=False)
    v = np.broadcast_to(np.asarray(v, dt), np.shape(x))
    axes, mask = _axes(axis, x.ndim), _mask(where, x.shape)
    t = _temp(temperature, dt)
    with np.errstate(all="ignore"):
        s = softmax(x, axes, t, mask)
        dv = v - np.sum(np.where(mask, s * v, 0), axis=axes, keepdims=True)
        return np.where(mask, (dv if log else s * dv) / t, 0).astype(dt)


def _vjp(y, g, axis, temperature, log):
    """The VJP of softmax from y = softmax(x), or, with `log`, of log_softmax from y = log_softmax(x)."""
    dt = np.result_type(_asinexact(y), _asinexact(g))
    y, g = np.asarray(y, dt), np.asarray(g, dt)
    axes, t = _axes(axis, y.ndim), _temp(temperature, dt)
    with np.errstate(all="ignore"):
        if log:
            return ((g - np.exp(y) * np.sum(g, axis=axes, keepdims=True)) / t).astype(dt)
        return (y * (g - np.sum(y * g, axis=axes, keepdims=True)) / t).astype(dt)


def softmax_jvp(x, v, axis=None, temperature=1.0, where=None):
    """Jacobian-vector product of softmax: s * (v - sum(s*v)) / T."""
    return _jvp(x, v, axis, temperature, where, log=False)


def softmax_vjp(y, g, axis=None, temperature=1.0):
    """Vector-Jacobian product of softmax given y = softmax(x): y * (g - sum(y*g)) / T."""
    return _vjp(y, g, axis, temperature, log=False)


def log_softmax_jvp(x, v, axis=None, temperature=1.0, where=None):
    """Jacobian-vector product of log_softmax: (v - sum(softmax(x)*v)) / T."""
    return _jvp(x, v, axis, temperature, where, log=True)


def log_softmax_vjp(y, g, axis=None, temperature=1.0):
    """Vector-Jacobian product of log_softmax given y = log_softmax(x): (g - exp(y)*sum(g)) / T."""
    return _vjp(y, g, axis, temperature, log=True)

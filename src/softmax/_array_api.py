"""The functions in the namespace of an array-API input (torch, JAX, CuPy, array-api-strict, ...).

``softmax._interop`` sends here what cannot reach the kernels without a copy or a break in
the caller's machinery: torch tensors that require grad (autograd records these operations),
JAX tracers (``jax.jit``, ``jax.grad``, ``vmap``), GPU arrays, array-api-strict arrays. The
arguments are checked by the NumPy path's own checkers, in its order; the computation is the
kernels' algorithm written with array-API operations, in the input's dtype:

- each slice is shifted by its winning value ``w`` (its maximum; its minimum for T < 0),
  ``d = (x - w) / T <= 0``, so no exponential overflows;
- the sums keep the maxima apart: ``top`` (the ``exp(0) = 1`` terms, summed as
  exponentials so that gradients flow through them) and ``rest``; ``log_softmax`` is
  ``d - log1p((top - 1) + rest)``, exact where a slice is dominated by one entry;
- special values as the kernels: a NaN makes its slice NaN; +inf entries share the slice
  (the limit); an all -inf slice is NaN for softmax/log_softmax and -inf for logsumexp;
  masked entries give 0 / -inf, a fully masked slice never NaN; T = 0 is the arg-max limit.

Unlike the kernels, ``x - w`` is rounded before the exponential and the sums are the
library's own (not compensated): accuracy is that of a careful stable implementation (the
docs/arrays.md gives the measured errors), not the kernels' 2 ulp.
float16 and bfloat16 are computed in float32; integers and bool become float64 where the
namespace and device have it (else the default floating dtype), without the NumPy path's
exact integer shift; complex input is refused (NumPy and CPU torch/JAX arrays take it).
"""
import math

import numpy as np

from . import _args, _dispatch

_REAL = ("float16", "float32", "float64")


def call(fn, lead, x, second, axis, temperature, where, out, dtype, workers, keepdims, return_sign):
    """A public call (``_api._call``'s arguments) computed in the namespace of ``lead``."""
    xp = _namespace(lead)
    dev = _device(lead)
    x = _input(xp, x, fn.first, dev, lead)
    s = None
    if fn.second is not None and (second is not None or fn.derivative is not None):
        s = _input(xp, second, fn.second, dev, lead)
        xs, ss = tuple(x.shape), tuple(s.shape)
        try:
            shape = np.broadcast_shapes(xs, ss)
        except ValueError:
            shape = None
        if fn is _args._LOGSUMEXP:   # as scipy: b may broadcast a to a larger shape
            if shape is None:
                raise ValueError(f"b of shape {ss} does not broadcast with a of shape {xs}")
            x = xp.broadcast_to(x, shape)
        elif shape != xs:
            raise ValueError(f"{fn.second} of shape {ss} does not broadcast to the input's "
                             f"shape {xs}")
        s = xp.broadcast_to(s, tuple(x.shape))
    # a Python scalar second input is weak, as in NumPy: float32 data with g=1.0 stays float32
    weak = type(second) in (bool, int, float)
    compute, result = _policy(xp, x, None if weak else s, dtype, dev, fn)
    if fn is _args._JACOBIAN and isinstance(axis, (tuple, list)):
        raise TypeError(f"axis must be an integer or None for a Jacobian, got axis={axis!r}")
    shape = tuple(x.shape)
    axes = _args._axes(axis, len(shape))
    keepdims = _args._bool(keepdims, "keepdims")
    return_sign = _args._bool(return_sign, "return_sign")
    t = _args._temperature(temperature, fn.derivative is not None)
    mask = _mask(xp, where, shape, dev)
    if fn.elementwise:
        _check_out(xp, out, shape, result)
    _dispatch.resolve_workers(workers, math.prod(shape))

    # NumPy-backed namespaces (array-api-strict) warn of the inf - inf and 0 / 0 that the
    # special values produce on purpose, as the NumPy path does not
    with np.errstate(all="ignore"):
        return _compute(fn, xp, x, s, axes, t, mask, out, compute, result, keepdims, return_sign)


def _compute(fn, xp, x, s, axes, t, mask, out, compute, result, keepdims, return_sign):
    x = xp.astype(x, compute, copy=False)
    s = None if s is None else xp.astype(s, compute, copy=False)
    if fn is _args._LOGSUMEXP:
        res, sgn = _logsumexp(xp, x, s, axes, t, mask, keepdims, return_sign)
        res = xp.astype(res, result, copy=False)
        return (res, xp.astype(sgn, result, copy=False)) if return_sign else res
    if fn is _args._JACOBIAN:
        return xp.astype(_jacobian(xp, x, axes, t, mask), result, copy=False)
    if fn.derivative == "jvp":
        res = _jvp(xp, x, s, axes, t, mask, fn.log)
    elif fn.derivative == "vjp":
        res = _vjp(xp, x, s, axes, t, fn.log)
    else:
        res = _softmax(xp, x, axes, t, mask, fn.log)
    res = xp.astype(res, result, copy=False)
    if out is not None:
        out[...] = res
        return out
    return res


# ---------------------------------------------------------------------------
# Arguments
# ---------------------------------------------------------------------------
def _namespace(a):
    """The array-API namespace of ``a`` (array-api-compat's, which also covers torch; without
    it, the array's own ``__array_namespace__``); TypeError for anything else."""
    try:
        from array_api_compat import array_namespace
    except ImportError:
        if hasattr(a, "__array_namespace__"):
            return a.__array_namespace__()
        raise ImportError(f"a {type(a).__module__}.{type(a).__qualname__} that cannot reach the "
                          f"kernels (docs/arrays.md) is computed with the array-api-compat "
                          f"package: pip install array-api-compat") from None
    return array_namespace(a)


def _device(a):
    try:
        from array_api_compat import device as device_of
    except ImportError:
        device_of = lambda a: a.device   # noqa: E731
    try:
        return device_of(a)
    except Exception:   # tracers and the like: no device to ask for
        return None


def _input(xp, a, name, dev, lead):
    """``a`` as an array of the namespace (Python scalars and lists, NumPy arrays converted;
    an array of another library refused)."""
    if a is None:
        raise TypeError(f"{name} must be an array, got None")
    try:
        ns = _namespace(a) if not isinstance(a, (bool, int, float, complex, list, tuple)) else None
    except (TypeError, ImportError):
        ns = None
    if ns is xp:
        return a
    if ns is not None and not isinstance(a, (np.ndarray, np.generic)):
        raise TypeError(f"{name} is a {type(a).__module__}.{type(a).__qualname__}, the input a "
                        f"{type(lead).__module__}.{type(lead).__qualname__}: pass arrays of one kind")
    arr = np.asarray(a)
    if arr.dtype.kind not in "biufc":
        raise TypeError(f"{name} must hold numbers (bool, integer, float or complex); "
                        f"got an array of dtype={arr.dtype}")
    return xp.asarray(arr, device=dev) if dev is not None else xp.asarray(arr)


def _kind(xp, dtype):
    for kind in ("bool", "integral", "real floating", "complex floating"):
        if xp.isdtype(dtype, kind):
            return kind
    return "other"


def _float64_or_default(xp, dev):
    """float64 where the namespace and device have it, else the default floating dtype."""
    try:
        info = xp.__array_namespace_info__()
        if "float64" in info.dtypes(device=dev, kind="real floating"):
            return xp.float64
        return info.default_dtypes(device=dev)["real floating"]
    except Exception:
        return xp.float64


def _policy(xp, x, s, dtype, dev, fn):
    """(compute dtype, result dtype), as ``_args._dtype_policy``: float32/float64 as they are,
    float16/bfloat16 computed in float32, integers and bool in float64 (or the default
    floating dtype where float64 is missing); complex is refused."""
    src = x.dtype
    if s is not None:
        try:
            src = xp.result_type(x.dtype, s.dtype)
        except TypeError:   # array-api-strict promotes no integer with a float
            src = next((d for d in (x.dtype, s.dtype) if _kind(xp, d) == "real floating"), x.dtype)
    if dtype is not None:
        want = _namespace_dtype(xp, dtype)
        if _kind(xp, src) == "complex floating":
            raise TypeError(f"dtype={dtype} cannot hold the complex input; leave dtype=None")
        src = want
    kind = _kind(xp, src)
    if kind == "complex floating":
        raise TypeError(f"complex input (dtype={src}) is computed for NumPy arrays (and CPU "
                        f"torch/JAX arrays that need no autograd or tracing) only")
    if kind in ("bool", "integral"):
        f = _float64_or_default(xp, dev)
        return f, f
    if kind != "real floating":
        raise TypeError(f"unsupported dtype={src}")
    if src == xp.float32 or src == xp.float64:
        return src, src
    return xp.float32, src   # float16, bfloat16: computed in float32


def _namespace_dtype(xp, dtype):
    """``dtype=``: a dtype of the namespace, or anything NumPy reads as a floating dtype."""
    if any(dtype == getattr(xp, n, None) for n in _REAL):
        return dtype
    try:
        want = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"dtype must be a floating-point dtype, got dtype={dtype!r}") from None
    if want.kind != "f" or want.name not in _REAL:
        raise TypeError(f"dtype must be a floating-point dtype (float16, float32 or float64 "
                        f"here), got dtype={want}")
    return getattr(xp, want.name)


def _mask(xp, where, shape, dev):
    if where is None:
        return None
    w = _input(xp, where, "where", dev, where) if not isinstance(where, (bool, np.bool_)) else \
        xp.asarray(bool(where), device=dev) if dev is not None else xp.asarray(bool(where))
    if _kind(xp, w.dtype) != "bool":
        raise TypeError(f"where must be a boolean array, got where of dtype={w.dtype}")
    try:
        if np.broadcast_shapes(tuple(w.shape), shape) != shape:
            raise ValueError
    except ValueError:
        raise ValueError(f"where of shape {tuple(w.shape)} does not broadcast to the input's "
                         f"shape {shape}") from None
    return xp.broadcast_to(w, shape)


def _check_out(xp, out, shape, dtype):
    if out is None:
        return
    top = type(out).__module__.partition(".")[0]
    if top in ("jax", "jaxlib"):
        raise TypeError("out is not supported for JAX arrays, which are immutable")
    try:
        same = _namespace(out) is xp
    except (TypeError, ImportError):
        same = False
    if not same:
        raise TypeError(f"out must be an array of the input's kind, got out of type "
                        f"{type(out).__name__}")
    if tuple(out.shape) != shape:
        raise ValueError(f"out has shape {tuple(out.shape)}, but the result has shape {shape}")
    if out.dtype != dtype:
        raise TypeError(f"out has dtype={out.dtype}, but the result has dtype={dtype}")


# ---------------------------------------------------------------------------
# The computations (x in the compute dtype; axes sorted, non-negative)
# ---------------------------------------------------------------------------
def _full(xp, value, like):
    return xp.full((), value, dtype=like.dtype, device=_dev(like))


def _dev(a):
    return _device(a)


def _no_axes(xp, x, axes):
    """An empty axis tuple reduces nothing (every entry its own slice): a trailing length-1
    axis stands for it (some libraries read an empty tuple as every axis)."""
    if axes:
        return x, axes, False
    return xp.expand_dims(x, axis=-1), (x.ndim,), True


def _shifted(xp, x, axes, t, keep):
    """(d = (x - w) / T per slice, w): w the winner over the kept entries (max; min for T < 0;
    left-out entries never win); an infinite winner gives d = 0 at its ties and -inf
    elsewhere; T = 0: d = 0 at the winners, -inf elsewhere; a NaN in the slice: NaN."""
    low = t < 0
    win = -math.inf if low else math.inf   # the value that wins; -win never does
    xe = x if keep is None else xp.where(keep, x, _full(xp, -win, x))
    w = (xp.min if low else xp.max)(xe, axis=axes, keepdims=True)
    zero, minf = _full(xp, 0.0, x), _full(xp, -math.inf, x)
    at_w = xp.where(xe == w, zero, minf)
    if t == 0:
        d = at_w
    else:
        d = (xe - xp.where(xp.isfinite(w), w, zero)) / t
        d = xp.where(w == win, at_w, d)
    d = xp.where(w == -win, minf, d)   # no winner (all -inf, or all left out): nothing counts
    d = xp.where(xp.isnan(w), _full(xp, math.nan, x), d)
    return d, w


def _sums(xp, e, d, axes, weights=None):
    """(top, rest): the (weighted) exponentials at the winners (d == 0, each exactly 1) and
    elsewhere, summed apart."""
    at_max = d == 0
    terms = e if weights is None else weights * e
    zero = _full(xp, 0.0, e)
    top = xp.sum(xp.where(at_max, terms, zero), axis=axes, keepdims=True)
    rest = xp.sum(xp.where(at_max, zero, terms), axis=axes, keepdims=True)
    return top, rest


def _softmax(xp, x, axes, t, mask, log):
    if math.prod(x.shape) == 0:
        return xp.zeros(x.shape, dtype=x.dtype, device=_dev(x))
    x2, axes2, added = _no_axes(xp, x, axes)
    m2 = None if mask is None else (xp.expand_dims(mask, axis=-1) if added else mask)
    d, _ = _shifted(xp, x2, axes2, t, m2)
    e = xp.exp(d)
    top, rest = _sums(xp, e, d, axes2)
    one = _full(xp, 1.0, x)
    if log:
        total = (top - 1) + rest
        # a total of 0 (a fully masked slice): its log is not used, and its gradient is not NaN
        safe = xp.where(total == -1, _full(xp, 0.0, x), total)
        res = d - xp.where(total == -1, _full(xp, -math.inf, x), xp.log1p(safe))
    else:
        s = top + rest   # 0: an all -inf slice (NaN) or a fully masked one (0, below)
        res = xp.where(s == 0, _full(xp, math.nan, x), e / xp.where(s == 0, one, s))
    if mask is not None:
        res = xp.where(m2, res, _full(xp, -math.inf if log else 0.0, x))
    return res[..., 0] if added else res


def _logsumexp(xp, x, b, axes, t, mask, keepdims, return_sign):
    """(T log|sum(b exp(x/T))|, sign of the sum or None), as ``_reference.logsumexp``."""
    shape = tuple(x.shape)
    kept = tuple(1 if i in axes else n for i, n in enumerate(shape))
    final = kept if keepdims else tuple(n for i, n in enumerate(shape) if i not in axes)
    dev = _dev(x)
    if math.prod(shape[i] for i in axes) == 0 or math.prod(shape) == 0:
        res = xp.full(final, -math.inf, dtype=x.dtype, device=dev)
        return res, xp.zeros(final, dtype=x.dtype, device=dev)
    x, axes, added = _no_axes(xp, x, axes)
    if added:
        b = None if b is None else xp.expand_dims(b, axis=-1)
        mask = None if mask is None else xp.expand_dims(mask, axis=-1)
    keep = mask
    if b is not None:
        nz = b != 0
        keep = nz if keep is None else xp.logical_and(keep, nz)
    zero, nan = _full(xp, 0.0, x), _full(xp, math.nan, x)
    d, w = _shifted(xp, x, axes, t, keep)
    w_add = xp.where(xp.isnan(w), zero, w)   # +-inf stays: inf + log(0) is NaN (inf - inf)
    if t == 0:
        weights = xp.ones_like(x) if b is None else b
        if keep is not None:
            weights = xp.where(keep, weights, zero)
        tot = xp.sum(xp.where(d == 0, weights, zero), axis=axes, keepdims=True)
        sgn = xp.where(w == -math.inf, zero, xp.sign(tot))
        sgn = xp.where((w == math.inf) & (tot == 0), nan, sgn)
        if b is not None:
            bad = xp.any(xp.logical_and(xp.isnan(b), keep), axis=axes, keepdims=True)
            sgn = xp.where(bad, nan, sgn)
        sgn = xp.where(xp.isnan(w), nan, sgn)
        minf = _full(xp, -math.inf, x)
        res = xp.where(sgn > 0, w, xp.where(sgn < 0, w if return_sign else nan, minf))
        res = xp.where(xp.isnan(sgn), nan, res)
    else:
        e = xp.exp(d)
        if b is None:
            top, rest = _sums(xp, e, d, axes)
            total = (top - 1) + rest
            safe = xp.where(total == -1, zero, total)
            log_s = xp.where(total == -1, _full(xp, -math.inf, x), xp.log1p(safe))
            res = w_add + t * log_s
            sgn = None
            if return_sign:
                sgn = xp.where(res == (math.inf if t < 0 else -math.inf), zero, _full(xp, 1.0, x))
                sgn = xp.where(xp.isnan(res), nan, sgn)
        else:
            weights = xp.where(keep, b, zero)
            top, rest = _sums(xp, e, d, axes, weights)
            s = top + rest
            sgn = xp.sign(s)
            total = (sgn * top - 1) + sgn * rest
            safe = xp.where(total == -1, zero, total)
            log_s = xp.where(total == -1, _full(xp, -math.inf, x), xp.log1p(safe))
            res = w_add + t * log_s
            sgn = xp.where(xp.isnan(res), nan, sgn)
            if not return_sign:
                res = xp.where(sgn < 0, nan, res)
    if keep is not None:
        res = xp.where(xp.any(keep, axis=axes, keepdims=True), res, _full(xp, -math.inf, x))
        if sgn is not None:
            sgn = xp.where(xp.any(keep, axis=axes, keepdims=True), sgn, zero)
    if added:
        res = res[..., 0]
        sgn = None if sgn is None else sgn[..., 0]
    res = xp.reshape(res, final)
    sgn = None if sgn is None else xp.reshape(sgn, final)
    return res, sgn


def _jvp(xp, x, v, axes, t, mask, log):
    """s (v - sum(s v)) / T (log_softmax: without the leading s); masked entries 0."""
    s = _softmax(xp, x, axes, t, mask, log=False)
    zero = _full(xp, 0.0, x)
    sv = s * v if mask is None else xp.where(mask, s * v, zero)
    x2, axes2, added = _no_axes(xp, sv, axes)
    dot = xp.sum(x2, axis=axes2, keepdims=True)
    if added:
        dot = dot[..., 0]
    dv = v - dot
    res = (dv if log else s * dv) / t
    return res if mask is None else xp.where(mask, res, zero)


def _vjp(xp, y, g, axes, t, log):
    """From y = softmax(x): y (g - sum(y g)) / T; from y = log_softmax(x): (g - exp(y) sum(g)) / T."""
    def total(a):
        a2, axes2, added = _no_axes(xp, a, axes)
        r = xp.sum(a2, axis=axes2, keepdims=True)
        return r[..., 0] if added else r
    if log:
        return (g - xp.exp(y) * total(g)) / t
    return y * (g - total(y * g)) / t


def _jacobian(xp, x, axes, t, mask):
    """(diag(s) - s s^T) / T along the one axis (or all, flattened), as ``_api._jacobian_of``."""
    s = _softmax(xp, x, axes, t, mask, log=False)
    if len(axes) == x.ndim:
        s = xp.reshape(s, (-1,))
    else:
        s = xp.moveaxis(s, axes[0], -1)
    K = s.shape[-1]
    eye = xp.eye(K, dtype=s.dtype, device=_dev(s)) == 1
    zero = _full(xp, 0.0, s)
    row = xp.expand_dims(s, axis=-2)
    others = xp.sum(xp.where(eye, zero, row), axis=-1)   # sum_{j != i} s_j
    diag = s * xp.where(s > 0.5, others, 1 - s)
    jac = xp.where(eye, xp.expand_dims(diag, axis=-1), -xp.expand_dims(s, axis=-1) * row)
    return jac / t

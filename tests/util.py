"""Shared input generator, reference helpers and comparison for the test suite.

`arrays()` yields ``(label, array)`` pairs over dtypes, shapes, memory layouts
and special-value mixes (bottleneck style); `axes_for()` lists the axes to try
for a given number of dimensions.  The full cartesian product is too large, so
layouts and special values are sampled round-robin over dtypes and shapes.
"""

import itertools

import numpy as np

from softmax import _reference as ref

DTYPES = [np.float32, np.float64, np.float16, np.int8, np.uint8, np.int64, np.bool_,
          np.longdouble, np.complex128]
FLOATS = [np.float32, np.float64, np.float16, np.longdouble]
SHAPES = [(), (0,), (3, 0), (0, 4), (1,), (7,), (1000,), (5, 7), (2, 3, 4, 5)]
LAYOUTS = ["C", "F", "strided", "reversed", "byteswapped", "readonly"]
SPECIALS = ["nan", "+inf", "-inf", "all-inf", "equal", "mixed"]
TEMPERATURES = [1.0, 0.1, 10.0, 0.0, -2.0]

LONGDOUBLE_IS_EXTENDED = np.finfo(np.longdouble).eps < np.finfo(np.float64).eps


def result_dtype(dtype):
    """The output dtype the spec's dtype policy gives for input `dtype`."""
    dtype = np.dtype(dtype)
    if dtype.kind in "fc":
        return dtype.newbyteorder("=")
    return np.dtype(np.float64)


def ref_dtype(dtype):
    """The dtype the reference is computed in for input `dtype`."""
    dtype = np.dtype(dtype)
    if dtype == np.float16:
        return np.dtype(np.float32)
    return np.dtype(np.clongdouble if dtype.kind == "c" else np.longdouble)


def base_rtol(dtype):
    """Relative tolerance for results of `dtype` against the higher-precision reference."""
    dtype = np.dtype(dtype)
    if dtype == np.float16:
        return 1e-3
    if dtype in (np.float32, np.complex64):
        return 2e-6
    if dtype.itemsize > 8 and dtype.kind == "f" or dtype.itemsize > 16:
        return 1e-16 if LONGDOUBLE_IS_EXTENDED else 1e-13
    return 1e-13


# ---------------------------------------------------------------- generator

def _values(dtype, shape, rng):
    """Random ordinary values of `dtype` and `shape`."""
    dtype = np.dtype(dtype)
    if dtype == np.bool_:
        return rng.integers(0, 2, shape).astype(bool)
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        lo, hi = (max(info.min, -40), min(info.max, 40)) if dtype.itemsize > 1 else (info.min, info.max)
        return rng.integers(lo, hi, shape, endpoint=True).astype(dtype)
    if dtype.kind == "c":
        return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(dtype)
    x = rng.standard_normal(shape) * 3
    if dtype == np.longdouble:  # use the extra mantissa bits
        x = x.astype(dtype) + rng.standard_normal(shape).astype(dtype) * dtype.type(2.0 ** -60)
    return x.astype(dtype)


def _fill(x, special, rng):
    """Overwrite some entries of the float array `x` with special values."""
    if special is None or x.size == 0:
        return x
    pick = rng.random(x.shape)
    if special == "nan":
        x[pick < 0.1] = np.nan
    elif special == "+inf":
        x[pick < 0.15] = np.inf
    elif special == "-inf":
        x[pick < 0.3] = -np.inf
    elif special == "all-inf":
        x[...] = -np.inf
    elif special == "equal":
        x[...] = 1.5
    elif special == "mixed":
        x[pick < 0.1] = np.inf
        x[(pick >= 0.1) & (pick < 0.2)] = -np.inf
        x[pick > 0.97] = np.nan
    return x


def make(dtype, shape, layout="C", special=None, seed=0):
    """Build one test array of `dtype`/`shape` with the given memory `layout` and special values."""
    rng = np.random.default_rng(seed)
    every = (Ellipsis,)  # keeps 0-d results arrays
    if layout == "strided":
        base = _fill(np.array(_values(dtype, tuple(2 * n for n in shape), rng)), special, rng)
        return base[(slice(None, None, 2),) * len(shape) + every]
    x = _fill(np.array(_values(dtype, shape, rng)), special, rng)
    if layout == "F":
        return np.array(x, order="F")
    if layout == "reversed":
        return x[(slice(None, None, -1),) * x.ndim + every]
    if layout == "byteswapped":
        return x.astype(x.dtype.newbyteorder("S"))
    if layout == "readonly":
        x.flags.writeable = False
    return x


def _label(dtype, shape, layout, special):
    return f"{np.dtype(dtype).name}-{'x'.join(map(str, shape)) or 'scalar'}-{layout}-{special or 'randn'}"


def arrays(dtypes=DTYPES, shapes=SHAPES, layouts=LAYOUTS, specials=SPECIALS):
    """Yield ``(label, array)`` test inputs.

    Every dtype x shape in C order; every shape x non-C layout with the dtype
    taken round-robin; every float dtype x non-empty shape x special-value
    mix with the layout taken round-robin.
    """
    seed = itertools.count()
    for dtype, shape in itertools.product(dtypes, shapes):
        yield _label(dtype, shape, "C", None), make(dtype, shape, "C", None, next(seed))
    other = [lay for lay in layouts if lay != "C"]
    for i, (shape, layout) in enumerate(itertools.product(shapes, other)):
        dtype = dtypes[i % len(dtypes)]
        yield _label(dtype, shape, layout, None), make(dtype, shape, layout, None, next(seed))
    floats = [d for d in dtypes if np.dtype(d).kind == "f"]
    nonempty = [s for s in shapes if len(s) and 0 not in s]
    for i, (dtype, shape, special) in enumerate(itertools.product(floats, nonempty, specials)):
        layout = layouts[(i + i // len(specials)) % len(layouts)]  # rotate: no special stuck to one layout
        yield _label(dtype, shape, layout, special), make(dtype, shape, layout, special, next(seed))


def cases(**kw):
    """`arrays()` as a list of pytest params with the labels as ids."""
    import pytest
    return [pytest.param(x, id=label) for label, x in arrays(**kw)]


def axes_for(ndim):
    """Every axis worth trying for `ndim` dimensions: None, each int (also negative), some tuples."""
    axes = [None] + list(range(-ndim, ndim))
    if ndim >= 2:
        axes += [(0, 1), (-1, -2)]
    if ndim >= 3:
        axes += [(0, 2), (1, -1)]
    if ndim >= 4:
        axes += [(0, 1, 3), (3, 0)]
    return axes


def some_axes(ndim):
    """A short sample of `axes_for(ndim)`: None, 0, -1 and one tuple."""
    axes = [None] + ([0, -1] if ndim else [])
    return axes + ([(0, ndim - 1)] if ndim >= 2 else [])


def reduced_shape(shape, axis, keepdims=False):
    """Shape after reducing `shape` over `axis`."""
    axes = ref._axes(axis, len(shape))
    if keepdims:
        return tuple(1 if i in axes else n for i, n in enumerate(shape))
    return tuple(n for i, n in enumerate(shape) if i not in axes)


def random_where(shape, seed=0, axis=None):
    """A random boolean mask for `shape`, ~30% False; with an `axis`, also one fully masked slice."""
    rng = np.random.default_rng(seed)
    w = rng.random(shape) > 0.3
    if axis is not None and w.size:
        axes = ref._axes(axis, len(shape))
        w[tuple(slice(None) if ax in axes else 0 for ax in range(len(shape)))] = False
    return w


# --------------------------------------------------------------- reference

def expected(func, x, *args, **kw):
    """Reference result of `func` (a name in softmax._reference) for input `x`, with the result dtype.

    Computed in `ref_dtype` (longdouble; float32 for float16) and returned in
    that precision, except float16 inputs, whose reference is cast to float16.
    """
    x = np.asarray(x)
    rdt = ref_dtype(x.dtype)
    args = [np.asarray(a).astype(rdt) if isinstance(a, np.ndarray) else a for a in args]
    res = getattr(ref, func)(x.astype(rdt), *args, **kw)
    if x.dtype == np.float16:
        res = tuple(r.astype(np.float16) for r in res) if isinstance(res, tuple) else res.astype(np.float16)
    return res


def cond(x, temperature=1.0, where=None):
    """Per-element error amplification of softmax-like results: |x_i/T| + max|x/T| over finite entries."""
    if temperature == 0:
        return np.zeros(np.shape(x))
    z = np.abs(np.asarray(x).astype(ref_dtype(np.asarray(x).dtype)) / temperature)
    if where is not None:
        z = np.where(where, z, 0)
    z = np.where(np.isfinite(z), z, 0)
    return (z + (z.max() if z.size else 0)).real.astype(np.float64)


# --------------------------------------------------------------- comparison

def assert_close(actual, desired, rtol, atol=0.0, err_msg=""):
    """Assert `actual` matches `desired`: NaN and +-inf positions exactly, the rest within tolerance.

    `rtol` and `atol` may be arrays broadcastable to the shape; the test is
    ``|actual - desired| <= atol + rtol * |desired|`` as in assert_allclose.
    """
    actual, desired = np.asarray(actual), np.asarray(desired)
    assert actual.shape == desired.shape, f"shape {actual.shape} != {desired.shape} {err_msg}"
    hi = np.clongdouble if np.iscomplexobj(actual) or np.iscomplexobj(desired) else np.longdouble
    a, d = actual.astype(hi), desired.astype(hi)
    np.testing.assert_array_equal(np.isnan(a), np.isnan(d), err_msg=f"NaN positions differ {err_msg}")
    for part in (np.real, np.imag):
        ia, id_ = np.isinf(part(a)), np.isinf(part(d))
        np.testing.assert_array_equal(ia, id_, err_msg=f"inf positions differ {err_msg}")
        np.testing.assert_array_equal(part(a)[ia], part(d)[id_], err_msg=f"inf signs differ {err_msg}")
    fin = np.isfinite(a) & np.isfinite(d)
    with np.errstate(invalid="ignore"):
        err = np.abs(a - d)
        lim = np.broadcast_to(atol, a.shape) + np.broadcast_to(rtol, a.shape) * np.abs(d)
    bad = fin & ~(err <= lim)
    if bad.any():
        idx = np.argwhere(bad)[:5]
        rows = "\n".join(f"  {tuple(map(int, i))}: actual={a[tuple(i)]!r} desired={d[tuple(i)]!r} "
                         f"err={float(err[tuple(i)]):.3g} allowed={float(lim[tuple(i)]):.3g}" for i in idx)
        raise AssertionError(f"{bad.sum()} / {a.size} elements differ {err_msg}\n{rows}")


def assert_softmax_close(actual, desired, x, temperature=1.0, where=None, log=False, err_msg=""):
    """Compare a softmax (or log_softmax if `log`) result with its reference, tolerance scaled by `cond`."""
    rtol = base_rtol(np.asarray(actual).dtype) * (1 + cond(x, temperature, where))
    tiny = np.finfo(np.asarray(actual).dtype).smallest_normal if np.asarray(actual).dtype.kind in "fc" else 0
    atol = rtol if log else 4 * tiny
    assert_close(actual, desired, rtol, atol, err_msg)


def assert_lse_close(actual, desired, a, err_msg=""):
    """Compare a logsumexp result with its reference: absolute slack eps * (1 + max|a|)."""
    ad = np.asarray(a)
    fin = np.abs(ad[np.isfinite(ad)]) if ad.size else np.zeros(0)
    scale = 1 + (float(fin.max().real) if fin.size else 0.0)
    rtol = base_rtol(np.asarray(actual).dtype)
    assert_close(actual, desired, rtol, rtol * scale, err_msg)

"""What the tests share: the one table of arguments, the one input generator, the oracle's
values in a result dtype, and the comparison.

- ``TAKES``: which public function takes which argument (test_errors, test_fuzz and
  test_robustness read it; test_api_table checks it against the signatures); ``need``: an
  optional library (torch, JAX, pandas, ...) of the interop tests.
- The input generator: dtypes, memory layouts (``layout``), special values. ``make`` and
  ``arrays`` build deterministic arrays for the unit tests; ``ByChoice``, ``draw_values``,
  ``sub_shape`` and ``bad_shape`` draw the same kinds of input through any source of
  integers (Hypothesis in test_fuzz.py and test_properties.py, atheris in fuzz/).
- ``expected``: tests/oracle.py's exact value, rounded to where the comparison needs it.
"""

import functools
import importlib
import itertools
import os

import numpy as np

import oracle

# ---------------------------------------------------------------- what each function takes

FUNCS = ["softmax", "log_softmax", "logsumexp", "softmax_jvp", "softmax_vjp", "log_softmax_jvp",
         "log_softmax_vjp", "softmax_jacobian"]
# (dim: the reduced dims of an xarray DataArray by name; a TypeError for any other input)
_SOFTMAX_LIKE = {"x", "axis", "temperature", "where", "out", "dtype", "workers", "dim"}
TAKES = {
    "softmax": _SOFTMAX_LIKE,
    "log_softmax": _SOFTMAX_LIKE,
    "logsumexp": {"a", "axis", "b", "keepdims", "return_sign", "temperature", "where", "dtype", "workers",
                  "dim"},
    "softmax_jvp": {"x", "v", "axis", "temperature", "where", "out", "workers", "dim"},
    "log_softmax_jvp": {"x", "v", "axis", "temperature", "where", "out", "workers", "dim"},
    "softmax_vjp": {"y", "g", "axis", "temperature", "out", "workers", "dim"},
    "log_softmax_vjp": {"y", "g", "axis", "temperature", "out", "workers", "dim"},
    "softmax_jacobian": {"x", "axis", "temperature"},
}
FIRST = {name: next(a for a in ("x", "a", "y") if a in args) for name, args in TAKES.items()}
SECOND = {name: a for name, args in TAKES.items() for a in ("v", "g") if a in args}  # required
DERIVATIVES = ["softmax_jvp", "softmax_vjp", "log_softmax_jvp", "log_softmax_vjp", "softmax_jacobian"]


def need(module):
    """An optional library a test needs (torch, jax, pandas, ...): the test is skipped without
    it, unless SOFTMAX_REQUIRE_INTEROP=1 (CI sets it where they are installed): then its
    absence is an error, so that no such test is skipped there unnoticed."""
    if os.environ.get("SOFTMAX_REQUIRE_INTEROP") == "1":
        return importlib.import_module(module)
    import pytest
    return pytest.importorskip(module)


def takes(arg):
    """The functions that take argument `arg`, in FUNCS order."""
    return [name for name in FUNCS if arg in TAKES[name]]


# ---------------------------------------------------------------- dtypes and values

DTYPES = [np.float32, np.float64, np.float16, np.int8, np.uint8, np.int64, np.bool_,
          np.longdouble, np.complex128]
NUMERIC = [np.float64, np.float32, np.float16, np.longdouble, np.int8, np.uint8, np.int16,
           np.uint32, np.int64, np.uint64, np.bool_, np.complex64, np.complex128]
NON_NUMERIC = [np.dtype(object), np.dtype("U3"), np.dtype("S3"), np.dtype("M8[s]"), np.dtype("m8[ms]"),
               np.dtype("V8"), np.dtype([("a", "f8"), ("b", "i4")])]
SHAPES = [(), (0,), (3, 0), (0, 4), (1,), (7,), (1000,), (5, 7), (2, 3, 4, 5)]
LAYOUTS = ["C", "F", "reversed", "strided", "transposed", "byteswapped", "unaligned", "broadcast",
           "readonly"]
SPECIALS = ["nan", "+inf", "-inf", "all-inf", "equal", "mixed"]
TEMPERATURES = [1.0, 0.1, 10.0, 0.0, -2.0]
# value pools of the drawn inputs
FINITE = [0.0, 1.0, -1.0, 0.5, -0.5, 2.0, -3.0, 3.25, 7.0, -10.0, 20.0, -25.5, 1e-3, -1e-7, 1e-30]
BIG = [1e4, -1e4, 700.0, -745.0, 1e30, -1e300, 1e300]
SPECIAL = [np.nan, np.inf, -np.inf]


def result_dtype(dtype):
    """The output dtype the dtype policy gives for input `dtype`."""
    dtype = np.dtype(dtype)
    if dtype.kind in "fc":
        return dtype.newbyteorder("=")
    return np.dtype(np.float64)


def base_rtol(dtype):
    """Relative tolerance of results of `dtype` (against the exact value) before conditioning."""
    dtype = np.dtype(dtype)
    if dtype == np.float16:
        return 1e-3
    if dtype in (np.float32, np.complex64):
        return 2e-6
    if dtype.itemsize > 8 and dtype.kind == "f" or dtype.itemsize > 16:
        return 1e-16 if np.finfo(np.longdouble).nmant >= 63 else 1e-13
    return 1e-13


def layout(a, kind, axis=0):
    """`a` (a C array) in the memory layout `kind` (one of LAYOUTS), values unchanged.

    "broadcast" repeats the first entry along `axis` (a zero stride); it and "readonly" are
    read-only. A kind that does not apply (e.g. "F" of a 0-d array) gives `a` itself.
    """
    a = np.asarray(a)
    if kind == "F" and a.ndim:  # (asfortranarray makes a 0-d array 1-d)
        return np.asfortranarray(a)
    if kind == "reversed" and a.ndim:
        flip = (slice(None, None, -1),) * a.ndim
        return a[flip].copy()[flip]
    if kind == "strided" and a.ndim:
        base = np.zeros(tuple(2 * n + 1 for n in a.shape), a.dtype)
        view = base[(slice(1, None, 2),) * a.ndim]
        view[...] = a
        return view
    if kind == "transposed" and a.ndim >= 2:
        perm = list(range(a.ndim))[::-1]
        return np.ascontiguousarray(a.transpose(perm)).transpose(perm)
    if kind == "byteswapped" and a.dtype.itemsize > 1 and a.dtype.kind in "fciu":
        return a.astype(a.dtype.newbyteorder("S"))
    if kind == "unaligned" and a.dtype.alignment > 1 and a.dtype.kind != "O":
        buf = bytearray(a.nbytes + 1)
        u = np.frombuffer(buf, a.dtype, count=a.size, offset=1).reshape(a.shape)
        u[...] = a
        return u
    if kind == "broadcast" and a.ndim and a.size:
        return np.broadcast_to(a.take([0], axis=axis), a.shape)
    if kind == "readonly":
        a = a.copy()
        a.flags.writeable = False
        return a
    return a


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


def make(dtype, shape, layout_kind="C", special=None, seed=0):
    """One test array of `dtype`/`shape` in memory layout `layout_kind`, with special values."""
    rng = np.random.default_rng(seed)
    return layout(_fill(np.array(_values(dtype, shape, rng)), special, rng), layout_kind)


def _label(dtype, shape, layout_kind, special):
    return f"{np.dtype(dtype).name}-{'x'.join(map(str, shape)) or 'scalar'}-{layout_kind}-{special or 'randn'}"


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
    for i, (shape, lay) in enumerate(itertools.product(shapes, other)):
        dtype = dtypes[i % len(dtypes)]
        yield _label(dtype, shape, lay, None), make(dtype, shape, lay, None, next(seed))
    floats = [d for d in dtypes if np.dtype(d).kind == "f"]
    nonempty = [s for s in shapes if len(s) and 0 not in s]
    for i, (dtype, shape, special) in enumerate(itertools.product(floats, nonempty, specials)):
        lay = layouts[(i + i // len(specials)) % len(layouts)]  # rotate: no special stuck to one layout
        yield _label(dtype, shape, lay, special), make(dtype, shape, lay, special, next(seed))


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


def reduced_axes(axis, ndim):
    """`axis` as a sorted tuple of non-negative ints (None: every axis)."""
    if axis is None:
        return tuple(range(ndim))
    return tuple(sorted(int(a) % ndim for a in (axis if isinstance(axis, tuple) else (axis,))))


def reduced_shape(shape, axis, keepdims=False):
    """Shape after reducing `shape` over `axis`."""
    axes = reduced_axes(axis, len(shape))
    if keepdims:
        return tuple(1 if i in axes else n for i, n in enumerate(shape))
    return tuple(n for i, n in enumerate(shape) if i not in axes)


def random_where(shape, seed=0, axis=None):
    """A random boolean mask for `shape`, ~30% False; with an `axis`, also one fully masked slice."""
    rng = np.random.default_rng(seed)
    w = rng.random(shape) > 0.3
    if axis is not None and w.size:
        axes = reduced_axes(axis, len(shape))
        w[tuple(slice(None) if ax in axes else 0 for ax in range(len(shape)))] = False
    return w


# ---------------------------------------------------------------- drawn inputs

class ByChoice:
    """The draw interface over a function ``integer(lo, hi)`` (inclusive)."""

    def __init__(self, integer, real=None):
        self.integer = integer
        self.real = real  # optional: any float64 (NaN, inf, subnormal, huge)

    def choice(self, seq):
        return seq[self.integer(0, len(seq) - 1)]

    def chance(self, n):
        """True with probability about 1/n."""
        return self.integer(0, n - 1) == 0


def draw_values(d, dtype, shape, finite_only=False, small=False):
    """An array of `dtype` and `shape` with values drawn from the pools (and specials)."""
    dtype = np.dtype(dtype)
    n = int(np.prod(shape))
    if dtype == np.bool_:
        return np.array([d.integer(0, 1) for _ in range(n)], bool).reshape(shape)
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        pool = [v for v in (0, 1, 2, 3, -1, -5, 40) if info.min <= v <= info.max]
        if not small:
            pool += [int(info.min), int(info.max), int(info.max) - 1]
        return np.array([d.choice(pool) for _ in range(n)], dtype=dtype).reshape(shape)
    kind = d.integer(0, 4)  # 0: finite grid, 1: + big, 2: + specials, 3: all + specials, 4: any float
    if kind == 4 and d.real is not None and dtype.kind == "f" and not small:
        with np.errstate(over="ignore"):
            return np.array([d.real() for _ in range(n)], dtype=dtype).reshape(shape)
    pool = list(FINITE)
    if not small and kind in (1, 3) and dtype.kind == "f":
        pool += BIG
    if not finite_only and kind in (2, 3) and dtype.kind == "f":
        pool += SPECIAL
    if dtype.kind == "c":
        pool = FINITE[:9]
        vals = [complex(d.choice(pool), d.choice(pool)) for _ in range(n)]
    else:
        vals = [d.choice(pool) for _ in range(n)]
    with np.errstate(over="ignore"):
        return np.array(vals, dtype=dtype).reshape(shape)


def sub_shape(d, shape):
    """A shape that broadcasts to `shape` (trailing dims, some set to 1)."""
    keep = d.integer(0, len(shape))
    return tuple(1 if d.chance(3) else n for n in shape[len(shape) - keep:])


def bad_shape(shape):
    """A shape that does not broadcast to `shape`."""
    return tuple(shape) + (2,) if not shape or shape[-1] != 2 else tuple(shape[:-1]) + (3,)


def clashing_shape(shape):
    """A shape that does not broadcast with `shape` either way (logsumexp's b may broadcast
    a to a larger shape), or None when there is none (every dimension 1, or 0-d)."""
    for i, n in enumerate(shape):
        if n != 1:
            return tuple(shape[:i]) + (n + 1 if n else 2,) + tuple(shape[i + 1:])
    return None


# ---------------------------------------------------------------- the oracle's values

def exact(func, *args, **kw):
    """tests/oracle.py's `func` (same arguments as the public function), remembered by the
    values of the arguments: the tests ask for the same values in many layouts."""
    def key(a):
        if isinstance(a, (np.ndarray, list)):
            a = np.asarray(a)
            return ("array", a.dtype.str, a.shape, np.ascontiguousarray(a).tobytes())
        return ("value", type(a).__name__, repr(a))
    return _exact(func, tuple(key(a) for a in args), tuple((k, key(v)) for k, v in sorted(kw.items())),
                  _Holder(args, kw))


class _Holder:
    """Carries the arguments past lru_cache without being part of the key."""
    def __init__(self, args, kw):
        self.args, self.kw = args, kw

    def __hash__(self):
        return 0

    def __eq__(self, other):
        return True


@functools.lru_cache(maxsize=4096)
def _exact(func, args_key, kw_key, holder):
    return getattr(oracle, func)(*holder.args, **holder.kw)


def expected(func, x, *args, **kw):
    """The exact value of `func` (a name in tests/oracle.py, same arguments as the public
    function) for input `x`, rounded to long double (float16 inputs: to float16; complex ones:
    complex128), a tuple of (value, sign) with return_sign."""
    x = np.asarray(x)
    res = exact(func, x, *args, **kw)
    if isinstance(res, tuple):
        return res[0].round(_expected_dtype(x)), res[1]
    return res.round(_expected_dtype(x))


def _expected_dtype(x):
    if x.dtype == np.float16:
        return np.float16
    return np.complex128 if x.dtype.kind == "c" else np.longdouble


def cond(x, temperature=1.0, where=None):
    """Per-element error amplification of softmax-like results: |x_i/T| + max|x/T| over finite entries."""
    if temperature == 0:
        return np.zeros(np.shape(x))
    x = np.asarray(x)
    z = np.abs(x.astype(np.longdouble if x.dtype.kind != "c" else np.clongdouble) / temperature)
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


def tiny(dtype):
    """The smallest normal number of `dtype`, or of float64 if larger: the oracle's arithmetic
    is float64's (a long double result can be far smaller than float64 goes)."""
    return max(float(np.finfo(dtype).smallest_normal), float(np.finfo(np.float64).smallest_normal))


def assert_softmax_close(actual, desired, x, temperature=1.0, where=None, log=False, err_msg=""):
    """Compare a softmax (or log_softmax if `log`) result with its reference, tolerance scaled by `cond`."""
    rtol = base_rtol(np.asarray(actual).dtype) * (1 + cond(x, temperature, where))
    atol = rtol if log else 4 * tiny(np.asarray(actual).dtype)
    assert_close(actual, desired, rtol, atol, err_msg)


def assert_lse_close(actual, desired, a, err_msg=""):
    """Compare a logsumexp result with its reference: absolute slack eps * (1 + max|a|)."""
    ad = np.asarray(a)
    fin = np.abs(ad[np.isfinite(ad)]) if ad.size else np.zeros(0)
    scale = 1 + (float(fin.max().real) if fin.size else 0.0)
    rtol = base_rtol(np.asarray(actual).dtype)
    assert_close(actual, desired, rtol, rtol * scale, err_msg)


def max_ulps(got, exact, scale):
    """The max error of `got` in ulps against the oracle's `exact` at `scale` (as
    tests/test_accuracy.py measures it), asserting that the exact specials (inf, NaN, exact 0)
    are met and that outputs of subnormal scale are off by less than the smallest normal."""
    got = np.asarray(got)
    units, sub, mismatch = oracle.ulp_errors(got, exact, scale)
    assert mismatch == 0, f"{mismatch} outputs with an exact inf/nan (or 0) differ"
    assert float(sub.max(initial=0)) <= 1.0, "error on a subnormal-range output > smallest normal"
    return float(units.max(initial=0))


def assert_ulps_apart(actual, desired, n=4):
    """Same dtype and shape, the same NaN and inf positions, the finite values within `n` ulps
    of each other (or within the smallest normal): two results each within n/2 ulp of the
    exact one."""
    a, d = np.asarray(actual), np.asarray(desired)
    assert a.shape == d.shape and a.dtype == d.dtype, (a.shape, d.shape, a.dtype, d.dtype)
    np.testing.assert_array_equal(np.isnan(a), np.isnan(d))
    inf = np.isinf(d)
    np.testing.assert_array_equal(a[inf], d[inf])
    fin = np.isfinite(d)
    if a.dtype.kind == "c":
        fin = np.isfinite(d.real) & np.isfinite(d.imag)
    with np.errstate(all="ignore"):
        spacing = np.abs(np.spacing(np.abs(d[fin]))).astype(np.float64)
        err = np.abs(a[fin].astype(np.complex128) - d[fin].astype(np.complex128))
    ok = (err <= n * spacing) | (err <= float(np.finfo(np.finfo(a.dtype).dtype).tiny))
    assert ok.all(), f"{int((~ok).sum())} values more than {n} ulps apart, worst " \
                     f"{float(np.max(err / np.maximum(spacing, 1e-300))):.3g} ulps"

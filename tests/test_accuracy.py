"""Accuracy in ulps against an independent extended-precision reference.

Reference: np.longdouble (64-bit mantissa on x86) of the SAME float inputs, with x - max and the
division by the temperature carried exactly (TwoSum / Dekker TwoProduct) and log1p for the log of
the sum, pairwise sums along a contiguous last axis; mpmath at 50 digits cross-checks it on small
vectors. Error measures (ulp = spacing of the output dtype at |value|):

  softmax, log_softmax : |got - exact| / ulp(exact)                       <= 2
  logsumexp            : |got - exact| / ulp(max(|exact|, |max(x)|))      <= 2
  softmax_vjp          : |got - exact| / ulp(y (|g| + sum|y g|))          <= 2
  softmax_jvp          : |got - exact| / ulp(s (|v| + sum(s |v|)))        <= 2
                         (the exact value can cancel to ~0, so the error is measured on the scale
                         of the terms)
  where the exact value (or scale) is below the smallest normal: |got - exact| <= smallest normal.
  float16: |got - float16(float32(exact))| <= 1 float16 ulp.

Run with -s to see the table of max errors per function and dtype.
"""
import functools

import numpy as np
import pytest

import softmax as S

LD = np.longdouble
F16, F32, F64 = np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64)
TOL = {"softmax": 2.0, "log_softmax": 2.0, "logsumexp": 2.0, "softmax_vjp": 2.0, "softmax_jvp": 2.0}
FUNCS = list(TOL)
SEED = 987654321

if np.finfo(LD).nmant < 63:  # pragma: no cover - e.g. platforms where longdouble is float64
    pytest.skip("needs an 80-bit (or wider) np.longdouble for the reference", allow_module_level=True)


# ============================================================================ reference
def _two_prod(a, b):
    """a * b == p + e exactly (Dekker, longdouble with 64-bit mantissa -> splitter 2**32 + 1)."""
    spl = LD(2 ** 32 + 1)
    p = a * b
    c = spl * a
    ah = c - (c - a)
    al = a - ah
    c = spl * b
    bh = c - (c - b)
    bl = b - bh
    e = ((ah * bh - p) + ah * bl + al * bh) + al * bl
    return p, e


def _to_last(x, axis):
    """Move the reduced axes to the end and flatten them: (rest..., K), plus the inverse."""
    nd = x.ndim
    if axis is None:
        axes = tuple(range(nd))
    elif isinstance(axis, tuple):
        axes = tuple(a % nd for a in axis)
    else:
        axes = (axis % nd,)
    dst = tuple(range(nd - len(axes), nd))
    moved = np.moveaxis(x, axes, dst)
    rest = moved.shape[: nd - len(axes)]
    flat = np.ascontiguousarray(moved.reshape(rest + (-1,)))

    def back(a):
        return np.moveaxis(a.reshape(moved.shape), dst, axes)

    return flat, back, rest


def _ref_core(x, T):
    """Longdouble forms along the last axis of contiguous x (float), temperature T > 0 or < 0."""
    xl = x.astype(LD)
    TL = LD(T)
    if T > 0:
        m = np.max(xl, axis=-1, keepdims=True)
        idx = np.argmax(x, axis=-1)[..., None]
    else:
        m = np.min(xl, axis=-1, keepdims=True)
        idx = np.argmin(x, axis=-1)[..., None]
    # d = x - m exactly as dh + dl (TwoSum)
    dh = xl - m
    bb = dh - xl
    dl = (xl - (dh - bb)) + (-m - bb)
    # z = d / T as zh + zl
    zh = dh / TL
    p, e = _two_prod(zh, TL)
    zl = (((dh - p) - e) + dl) / TL
    ez = np.exp(zh)
    ez = ez + ez * zl
    e_wo = ez.copy()
    np.put_along_axis(e_wo, idx, LD(0), axis=-1)  # exp(0) == 1 at one maximiser, kept apart
    rest = np.sum(e_wo, axis=-1, keepdims=True)
    L = np.log1p(rest)
    return {
        "softmax": ez / (1 + rest),
        "log_softmax": (zh - L) + zl,
        "logsumexp": (m + TL * L)[..., 0],
        "absmax": np.max(np.abs(xl), axis=-1),
        "xmax": np.max(xl, axis=-1),
    }


def reference(x, axis, T=1.0, v=None, y=None, g=None):
    flat, back, _ = _to_last(x, axis)
    r = _ref_core(flat, T)
    out = {
        "softmax": back(r["softmax"]),
        "log_softmax": back(r["log_softmax"]),
        "logsumexp": r["logsumexp"],
        # scale for logsumexp: max(|result|, |max(x)|)
        "logsumexp_scale": np.maximum(np.abs(r["logsumexp"]), np.abs(r["xmax"])),
    }
    TL = LD(abs(T))
    if v is not None:
        s = r["softmax"]
        vf = _to_last(v, axis)[0].astype(LD)
        t = np.sum(s * vf, axis=-1, keepdims=True)
        out["softmax_jvp"] = back(s * (vf - t) / LD(T))
        out["softmax_jvp_scale"] = back(s * (np.abs(vf) + np.sum(s * np.abs(vf), axis=-1, keepdims=True)) / TL)
    if y is not None:
        yf = _to_last(y, axis)[0].astype(LD)
        gf = _to_last(g, axis)[0].astype(LD)
        t = np.sum(yf * gf, axis=-1, keepdims=True)
        out["softmax_vjp"] = back(yf * (gf - t) / LD(T))
        out["softmax_vjp_scale"] = back(np.abs(yf) * (np.abs(gf) + np.sum(np.abs(yf * gf), axis=-1,
                                                                             keepdims=True)) / TL)
    return out


# ============================================================================ ulp measure
def ulp(a, dtype):
    """Spacing of `dtype` at |a| (longdouble), floored at np.spacing(tiny)."""
    fi = np.finfo(dtype)
    _, ex = np.frexp(np.abs(np.asarray(a, LD)))
    return np.maximum(np.ldexp(LD(1), ex - fi.nmant - 1), LD(np.spacing(fi.tiny)))


def measure(got, exact, scale, dtype):
    """Return (max ulp over normal-scale outputs, max abs err over subnormal-scale outputs / tiny,
    index of the worst normal output, number of zero-scale/non-finite exact values that differ)."""
    got = np.asarray(got)
    assert got.shape == exact.shape, f"shape {got.shape} != {exact.shape}"
    assert got.dtype == dtype, f"dtype {got.dtype} != {dtype}"
    gl = got.astype(LD)
    tiny = LD(np.finfo(dtype).tiny)
    # exact values that are not finite, or have a zero scale (softmax: exact 0), must match exactly
    special = ~np.isfinite(exact) | ~np.isfinite(scale) | (scale == 0)
    n_special = int(np.count_nonzero(special & (gl != exact)))
    err = np.where(special, LD(0), np.abs(gl - np.where(special, LD(0), exact)))
    err = np.where(np.isnan(err), LD(np.inf), err)
    normal = ~special & (np.abs(scale) >= tiny)
    units = np.where(normal, err / ulp(np.where(normal, scale, 1), dtype), 0).astype(np.float64)
    sub = np.where(~special & ~normal, err / tiny, 0).astype(np.float64)
    worst = np.unravel_index(np.argmax(units), units.shape) if units.size else None
    return (float(units.max()) if units.size else 0.0,
            float(sub.max()) if sub.size else 0.0, worst, n_special)


# ============================================================================ reporting
RESULTS = {}  # (group, fn, dtype name) -> max ulp seen


def record(group, fn, dtype, value):
    key = (group, fn, np.dtype(dtype).name)
    RESULTS[key] = max(RESULTS.get(key, 0.0), value)


@pytest.fixture(scope="module", autouse=True)
def _report():
    yield
    if not RESULTS:
        return
    groups = sorted({k[0] for k in RESULTS})
    print("\n\nmax error in ulps (see module docstring for the measures)")
    print(f"  {'function':<13}{'dtype':<9}" + "".join(f"{g:>12}" for g in groups) + f"{'limit':>8}")
    for fn in FUNCS:
        for dt in ("float16", "float32", "float64"):
            cells = [RESULTS.get((g, fn, dt)) for g in groups]
            if all(c is None for c in cells):
                continue
            lim = 1.0 if dt == "float16" else TOL[fn]
            print(f"  {fn:<13}{dt:<9}" + "".join(f"{'-' if c is None else f'{c:.3f}':>12}" for c in cells)
                  + f"{lim:>8g}")


def check(group, fn, got, exact, scale, dtype, x=None, axis=None, extra=""):
    mx, sub, worst, n_special = measure(got, exact, scale, dtype)
    record(group, fn, dtype, mx)
    tol = TOL[fn]
    where = ""
    if worst is not None and mx > tol:
        got_w = np.asarray(got)[worst]
        where = f" at index {worst}: got {got_w!r}, exact {float(exact[worst])!r}"
    assert n_special == 0, f"{fn} {np.dtype(dtype).name}{extra}: {n_special} outputs with exact inf/nan (or a zero scale) differ"
    assert mx <= tol, f"{fn} {np.dtype(dtype).name}{extra}: max error {mx:.3f} ulp > {tol}{where}"
    assert sub <= 1.0, (f"{fn} {np.dtype(dtype).name}{extra}: error on a subnormal-range output is "
                        f"{sub:.3f} x smallest normal")
    return mx


def call(fn, x, axis, T=1.0, v=None, y=None, g=None):
    kw = {} if T == 1.0 else {"temperature": T}
    with np.errstate(all="ignore"):
        if fn == "softmax":
            return S.softmax(x, axis=axis, **kw)
        if fn == "log_softmax":
            return S.log_softmax(x, axis=axis, **kw)
        if fn == "logsumexp":
            return np.asarray(S.logsumexp(x, axis=axis, **kw))
        if fn == "softmax_jvp":
            return S.softmax_jvp(x, v, axis=axis, **kw)
        if fn == "softmax_vjp":
            return S.softmax_vjp(y, g, axis=axis, **kw)
    raise ValueError(fn)


def scale_of(fn, ref):
    if fn in ("softmax", "log_softmax"):
        return ref[fn]
    return ref[fn + "_scale"]


@functools.lru_cache(maxsize=None)
def case_data(shape, scale, dtype_name, axis, T=1.0):
    """Inputs (x, v, y, g) and the reference for one case; shared by all functions."""
    dtype = np.dtype(dtype_name)
    rng = np.random.default_rng([SEED, int(np.prod(shape)), int(scale * 1000), len(dtype_name)])
    x = (rng.standard_normal(shape) * scale).astype(dtype)
    v = rng.standard_normal(shape).astype(dtype)
    g = rng.standard_normal(shape).astype(dtype)
    y = reference(x, axis, T)["softmax"].astype(dtype)  # one correctly rounded softmax for the VJP
    ref = reference(x, axis, T, v=v, y=y, g=g)
    return x, v, y, g, ref


def run_case(group, fn, shape, scale, dtype, axis, T=1.0):
    x, v, y, g, ref = case_data(shape, scale, np.dtype(dtype).name, axis, T)
    got = call(fn, x, axis, T, v=v, y=y, g=g)
    check(group, fn, got, ref[fn], scale_of(fn, ref), np.dtype(dtype), x, axis,
          extra=f" shape={shape} scale={scale} axis={axis} T={T}")


# ============================================================================ battery
N_TOTAL = 200_000
KS = (2, 10, 1000, 100_000)
SCALES = (0.1, 1, 5, 20, 100)
DTYPES = (F32, F64)


def _shape(K):
    return (max(N_TOTAL // K, 2), K)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.name)
@pytest.mark.parametrize("scale", SCALES, ids=lambda s: f"scale{s}")
@pytest.mark.parametrize("K", KS, ids=lambda k: f"K{k}")
@pytest.mark.parametrize("fn", FUNCS)
def test_battery(fn, K, scale, dtype):
    run_case("battery", fn, _shape(K), float(scale), dtype, -1)


AXES_3D = (0, 1, 2, -1, (0, 2), None)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.name)
@pytest.mark.parametrize("axis", AXES_3D, ids=lambda a: f"axis{a}".replace(" ", ""))
@pytest.mark.parametrize("fn", FUNCS)
def test_3d_axes(fn, axis, dtype):
    run_case("3d-axes", fn, (6, 7, 9), 5.0, dtype, axis)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.name)
@pytest.mark.parametrize("scale", (1, 5, 20), ids=lambda s: f"scale{s}")
@pytest.mark.parametrize("K", (10, 1000), ids=lambda k: f"K{k}")
@pytest.mark.parametrize("T", (0.37, 3.0), ids=lambda t: f"T{t}")
@pytest.mark.parametrize("fn", ("softmax", "log_softmax"))
def test_temperature(fn, T, K, scale, dtype):
    run_case("temperature", fn, _shape(K) if K == 10 else (50, K), float(scale), dtype, -1, T)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.name)
@pytest.mark.parametrize("axis", (-1, 0), ids=lambda a: f"axis{a}")
@pytest.mark.parametrize("K", (10, 77, 1000), ids=lambda k: f"K{k}")
@pytest.mark.parametrize("T", (0.37, -2.5, 3.0), ids=lambda t: f"T{t}")
@pytest.mark.parametrize("fn", ("softmax_jvp", "softmax_vjp"))
def test_temperature_derivatives(fn, T, K, axis, dtype):
    """The derivatives carry 1/T as a pair (float64 went to 2.4 ulp with a rounded 1/T)."""
    shape = (200, K) if axis == -1 else (K, 200)
    run_case("temperature", fn, shape, 5.0, dtype, axis, T)


# ============================================================================ row tails
# Rows longer than the short-row kernel run in blocks of 32 lanes; the last K % 32 elements
# go through a padded block, and the row max takes two blocks a step. Every tail length,
# an odd and an even number of blocks, the max (or a tie for it) in the tail, entries whose
# exp is 0 in the tail (-1e30: this reference needs finite input; -inf is in
# test_special_values), both signs of T.
TAIL_KS = tuple(range(65, 97)) + (127, 1000, 1001)


def _tail_rows(K, dtype, T):
    rng = np.random.default_rng([SEED, K, int(T * 8) + 64])
    x = rng.standard_normal((6, K)) * 4
    sgn = -1.0 if T < 0 else 1.0
    tail = K - K % 32 if K % 32 else K - 32
    x[1, -1] = sgn * 40.0                            # the max is the last element
    x[2, tail] = x[2, 0] = sgn * 30.0                 # a tie: first element and first of the tail
    x[3, tail:] = -sgn * 1e30                         # the tail is all exp 0
    x[4, ::7] = -sgn * 1e30
    x[5] = x[5] * 0.01 + 1000.0                       # a large offset: x - max must stay exact
    return x.astype(dtype), rng.standard_normal((6, K)).astype(dtype)


@pytest.mark.parametrize("T", (1.0, -1.0, 0.37, -2.5), ids=lambda t: f"T{t}")
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.name)
@pytest.mark.parametrize("fn", FUNCS)
def test_row_tails(fn, dtype, T):
    for K in TAIL_KS:
        x, v = _tail_rows(K, dtype, T)
        y = reference(x, -1, T)["softmax"].astype(dtype)
        ref = reference(x, -1, T, v=v, y=y, g=v)
        got = call(fn, x, -1, T, v=v, y=y, g=v)
        check("row-tails", fn, got, ref[fn], scale_of(fn, ref), dtype, x, -1,
              extra=f" K={K} T={T}")


def test_row_tails_nan():
    """A NaN anywhere in a long row (first block, a middle block, the tail) makes it NaN."""
    for dtype in DTYPES:
        for K in (65, 96, 97, 1000, 1001):
            for pos in (0, 33, K // 2, K - 1):
                x = np.linspace(-3, 3, K).astype(dtype)
                x[pos] = np.nan
                assert np.isnan(S.softmax(x)).all(), (dtype, K, pos)
                assert np.isnan(S.log_softmax(x)).all(), (dtype, K, pos)
                assert np.isnan(S.logsumexp(x)), (dtype, K, pos)
                assert np.isnan(S.softmax_jvp(x, np.ones_like(x))).all(), (dtype, K, pos)


# ============================================================================ log-softmax VJP
@pytest.mark.parametrize("T", (1.0, -0.6), ids=lambda t: f"T{t}")
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.name)
def test_log_softmax_vjp(dtype, T):
    """(g - exp(y) sum(g)) / T within 2 ulp of |g| + exp(y) sum|g| (over |T|): y from
    log_softmax (all <= 0: float32 takes the float32 kernels' exp) and rows with y > 0 (the
    general exp), last axis and axis 0, long and short rows."""
    rng = np.random.default_rng([SEED, 77])
    for shape, axis in (((300, 1000), -1), ((1000, 300), 0), ((3000, 10), -1), ((50, 77), -1)):
        x = rng.standard_normal(shape) * 5
        y = np.asarray(S.log_softmax(x, axis=axis)).astype(dtype)
        if axis == -1:
            y[::3] += np.float32(3.5)          # rows with positive entries
        g = rng.standard_normal(shape).astype(dtype)
        yl, gl = y.astype(LD), g.astype(LD)
        e = np.exp(yl)
        exact = (gl - e * np.sum(gl, axis=axis, keepdims=True)) / LD(T)
        scale = (np.abs(gl) + e * np.sum(np.abs(gl), axis=axis, keepdims=True)) / LD(abs(T))
        kw = {} if T == 1.0 else {"temperature": T}
        got = S.log_softmax_vjp(y, g, axis=axis, **kw)
        mx, sub, _, n_special = measure(got, exact, scale, np.dtype(dtype))
        record("log-vjp", "softmax_vjp", dtype, mx)
        assert n_special == 0 and sub <= 1.0, (shape, axis)
        assert mx <= 2.0, f"log_softmax_vjp {np.dtype(dtype).name} {shape} axis={axis} T={T}: {mx:.3f} ulp"


# ============================================================================ confident rows
def _confident_rows(dtype):
    """Rows with one dominant entry: log_softmax there is ~ -exp(-gap), far below 1 in size."""
    rows = [[0.0, -30.0, -40.0], [0.0, -1e-3, -40.0]]
    for gap in (1, 5, 10, 15, 20, 25, 30, 35, 40, 50, 60, 70, 80, 87, 90, 100, 200, 700):
        for off in (0.0, 0.3, -7.25, 123.456):
            rows.append([off, off - gap, off - gap * 1.37 - 0.5])
            rows.append([off - gap * 1.01, off, off - gap, off - 2 * gap])
    K = max(len(r) for r in rows)
    arr = np.full((len(rows), K), -np.inf)
    for i, r in enumerate(rows):
        arr[i, : len(r)] = r
    # pad with copies of the lowest entry instead of -inf (keep every output finite)
    arr = np.where(np.isinf(arr), np.min(np.where(np.isinf(arr), np.inf, arr), axis=1, keepdims=True), arr)
    return arr.astype(dtype)


@pytest.mark.parametrize("T", (1.0, 0.37, 3.0), ids=lambda t: f"T{t}")
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.name)
@pytest.mark.parametrize("fn", ("log_softmax", "softmax", "logsumexp"))
def test_confident_rows(fn, dtype, T):
    x = _confident_rows(dtype)
    ref = reference(x, -1, T)
    got = call(fn, x, -1, T)
    check("confident", fn, got, ref[fn], scale_of(fn, ref), dtype, x, -1, extra=f" T={T}")


def test_headline_log_softmax_near_zero_entry():
    """x = [0, -30, -40]: log_softmax[0] = -log1p(e^-30 + e^-40) ~ -9.36e-14, relative 2 ulp."""
    for dt in DTYPES:
        x = np.array([0.0, -30.0, -40.0], dt)
        exact = -np.log1p(np.exp(LD(-30)) + np.exp(LD(-40)))
        got = S.log_softmax(x)[0]
        err = abs(LD(got) - exact) / ulp(exact, dt)
        record("confident", "log_softmax", dt, float(err))
        assert err <= 2, f"{dt.name}: log_softmax([0,-30,-40])[0] = {got!r}, exact {float(exact)!r} ({float(err):.1f} ulp)"


# ============================================================================ float16
@pytest.mark.parametrize("scale", (1, 5), ids=lambda s: f"scale{s}")
@pytest.mark.parametrize("K", (10, 1000), ids=lambda k: f"K{k}")
@pytest.mark.parametrize("fn", ("softmax", "log_softmax", "logsumexp"))
def test_float16(fn, K, scale):
    rng = np.random.default_rng([SEED, K, scale, 16])
    x = (rng.standard_normal((2000 // K * 10, K)) * scale).astype(F16)
    ref = reference(x, -1)
    want = ref[fn].astype(F32).astype(F16)  # float16 of the correctly rounded float32 result
    got = call(fn, x, -1)
    assert got.dtype == F16, f"{fn}: float16 input gave {got.dtype}"
    err = np.abs(got.astype(LD) - want.astype(LD)) / ulp(want.astype(LD), F16)
    mx = float(np.max(err))
    record("float16", fn, F16, mx)
    i = np.unravel_index(np.argmax(err), err.shape)
    assert mx <= 1.0, f"{fn} float16: {mx:.2f} f16 ulp from float16(float32(exact)) at {i}: got {got[i]!r}, want {want[i]!r}"


# ============================================================================ mpmath spot checks
try:
    import mpmath
except ImportError:  # pragma: no cover
    mpmath = None


def _mp_forms(xs, T=1.0):
    mp = mpmath.mp
    with mpmath.workdps(50):
        z = [mp.mpf(float(v)) / mp.mpf(float(T)) for v in xs]
        k = max(range(len(z)), key=lambda i: z[i])
        m = z[k]
        # sum without the exp(0) = 1 of the maximiser, then log1p: no loss when that sum is tiny
        rest = mp.fsum(mp.exp(zi - m) for i, zi in enumerate(z) if i != k)
        lse_rel = mp.log1p(rest)
        return ([mp.exp(zi - m) / (1 + rest) for zi in z], [(zi - m) - lse_rel for zi in z],
                mp.mpf(float(T)) * (m + lse_rel))


def _mp_to_ld(v):
    with mpmath.workdps(50):
        return LD(mpmath.nstr(v, 40, min_fixed=1, max_fixed=0))


SPOT = [
    [1.0, 2.0, 3.0],
    [0.0, -30.0, -40.0],
    [1000.0, 1000.5, 999.0, -1000.0],
    [-3.3, 17.25, 0.125, 88.0, 88.5, -700.0],
    [1e-8, -2e-8, 3e-8],
    [50.0, -50.0],
    [0.7, 0.7, 0.7, 0.7, 0.7 - 1e-6],
]


@pytest.mark.skipif(mpmath is None, reason="mpmath not installed")
@pytest.mark.parametrize("T", (1.0, 0.37), ids=lambda t: f"T{t}")
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.name)
@pytest.mark.parametrize("i", range(len(SPOT)), ids=lambda i: f"vec{i}")
def test_mpmath_spot(i, dtype, T):
    x = np.array(SPOT[i], dtype)
    sm, ls, lse = _mp_forms(x, T)
    ex = {"softmax": np.array([_mp_to_ld(v) for v in sm]),
          "log_softmax": np.array([_mp_to_ld(v) for v in ls]),
          "logsumexp": _mp_to_ld(lse)}
    # the longdouble reference must agree with mpmath to ~1e-3 ulp (validates the reference)
    ref = reference(x, -1, T)
    for fn in ("softmax", "log_softmax"):
        d = np.abs(ref[fn] - ex[fn]) / ulp(ex[fn], F64)
        assert np.max(d) < 0.01, f"reference disagrees with mpmath for {fn}: {np.max(d)} ulp"
    assert abs(ref["logsumexp"] - ex["logsumexp"]) / ulp(ex["logsumexp"], F64) < 0.01
    for fn in ("softmax", "log_softmax", "logsumexp"):
        got = call(fn, x, -1, T)
        scale = ex[fn] if fn != "logsumexp" else np.maximum(np.abs(ex[fn]), LD(np.max(np.abs(x))))
        exact = ex[fn] if fn != "logsumexp" else np.asarray(ex[fn])
        check("mpmath", fn, got, exact, np.asarray(scale), dtype, x, -1, extra=f" x={SPOT[i]} T={T}")


def test_float32_kernels_exp():
    """The exp of the float32 kernels (_exp_f32: float64 in and out, arguments <= 0) against
    np.exp in long double: 1.1e-10 relative by construction (Chebyshev fit), asserted with
    margin at 2e-10 over its range, on every ISA variant; below -700 (and at -inf) it is 0."""
    from softmax import _dispatch
    rng = np.random.default_rng(5)
    h = np.concatenate([rng.uniform(-120, 0, 200_000), rng.uniform(-700, -120, 20_000),
                        -np.logspace(-30, 2.8, 1000), [0.0, -0.0, -700.0, -1e-300]])
    for level in _dispatch.available_isas():
        with _dispatch.using_isa(level) as k:
            out = np.empty_like(h)
            k.exp_f32(h, out)
            rel = np.abs(out.astype(LD) / np.exp(h.astype(LD)) - 1)
            assert rel.max() < 2e-10, (level, float(rel.max()))
            assert out[h == 0].tolist() == [1.0, 1.0]   # exactly 1: the maxima are counted
            out2 = np.empty(4)
            k.exp_f32(np.array([-700.5, -1e10, -np.inf, np.nan]), out2)
            assert out2[:3].tolist() == [0.0, 0.0, 0.0] and np.isnan(out2[3]), level

"""Accuracy in ulps against the oracle (tests/oracle.py: double-double, checked against mpmath).

The inputs are float32/float64 arrays; the oracle takes the SAME values exactly. The error of an
output is |got - exact| in ulps of the output dtype at the scale of ``oracle.Exact.scale``:

  softmax, log_softmax             : |exact|
  logsumexp                        : max(|exact|, |m|), m the winning input (max x for T > 0)
  softmax_jvp, log_softmax_jvp     : the formula with every term positive, s (|v| + sum(s |v|)) / |T|
  softmax_vjp, log_softmax_vjp     : likewise, |y| (|g| + sum|y g|) / |T|, (|g| + e^y sum|g|) / |T|
                                     (a derivative can cancel to ~0: the terms are its scale)

Every function must be within 2 ulp; where the scale is below the smallest normal number the
limit is an absolute error of that number; exact values that are not finite (or have a zero
scale: softmax's exact 0) must be met exactly. float16 (computed in float32): within 1 float16
ulp of float16(float32(exact)).

Run with -s to see the table of max errors per function and dtype; SOFTMAX_ORACLE=portable
runs the oracle without long double.
"""
import functools

import numpy as np
import pytest

import oracle
import softmax as S

F16, F32, F64 = np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64)
TOL = 2.0
FUNCS = ["softmax", "log_softmax", "logsumexp", "softmax_jvp", "log_softmax_jvp", "softmax_vjp",
         "log_softmax_vjp"]
SEED = 987654321


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
    print(f"\n\nmax error in ulps (see the module docstring for the measures; oracle: {oracle.BACKEND})")
    print(f"  {'function':<16}{'dtype':<9}" + "".join(f"{g:>12}" for g in groups) + f"{'limit':>8}")
    for fn in FUNCS:
        for dt in ("float16", "float32", "float64"):
            cells = [RESULTS.get((g, fn, dt)) for g in groups]
            if all(c is None for c in cells):
                continue
            lim = 1.0 if dt == "float16" else TOL
            print(f"  {fn:<16}{dt:<9}" + "".join(f"{'-' if c is None else f'{c:.3f}':>12}" for c in cells)
                  + f"{lim:>8g}")


# ============================================================================ cases
class Case:
    """One input x (with a tangent v and a gradient g) along `axis` at temperature T: the
    arguments of each function and their exact results and scales, computed once."""

    def __init__(self, x, axis, T=1.0, v=None, g=None):
        self.x, self.axis, self.T = x, axis, T
        rng = np.random.default_rng([SEED, x.size, 77])
        self.v = rng.standard_normal(x.shape).astype(x.dtype) if v is None else v
        self.g = self.v if g is None else g
        self.exact = oracle.Exact(x, axis, T)

    @functools.cached_property
    def y(self):    # the forward outputs a VJP starts from: correctly rounded
        return self.exact.softmax().round(self.x.dtype)

    @functools.cached_property
    def ly(self):
        return self.exact.log_softmax().round(self.x.dtype)

    def args(self, fn):
        return {"softmax_vjp": (self.y, self.g), "log_softmax_vjp": (self.ly, self.g),
                "softmax_jvp": (self.x, self.v), "log_softmax_jvp": (self.x, self.v)}.get(fn, (self.x,))

    @functools.lru_cache(maxsize=None)
    def value_and_scale(self, fn):
        if fn.endswith("vjp"):
            y, g = self.args(fn)
            return (getattr(oracle, fn)(y, g, self.axis, self.T),
                    oracle.scale(fn, y, g, self.axis, self.T))
        value = getattr(self.exact, fn)(*self.args(fn)[1:])
        return value, self.exact.scale(fn, self.v)


def check(group, fn, case, extra="", workers=None):
    """Call `fn` on the case's arguments (on `workers` threads when given) and assert its
    error against the oracle."""
    kw = {} if workers is None else {"workers": workers}
    with np.errstate(all="ignore"):
        got = np.asarray(getattr(S, fn)(*case.args(fn), axis=case.axis, temperature=case.T, **kw))
    dtype = case.x.dtype
    assert got.dtype == dtype, f"{fn}: {got.dtype} for {dtype} input"
    exact, scale = case.value_and_scale(fn)
    units, sub, mismatch = oracle.ulp_errors(got, exact, scale)
    mx = float(units.max()) if units.size else 0.0
    record(group, fn, dtype, mx)
    what = f"{fn} {dtype.name}{extra} axis={case.axis} T={case.T}"
    assert mismatch == 0, f"{what}: {mismatch} outputs with an exact inf/nan (or a zero scale) differ"
    if mx > TOL:
        i = np.unravel_index(np.argmax(units), units.shape)
        raise AssertionError(f"{what}: max error {mx:.3f} ulp > {TOL} at {i}: got {got[i]!r}, "
                             f"exact {float(exact.round()[i])!r}")
    assert float(sub.max(initial=0)) <= 1.0, f"{what}: error on a subnormal-range output > smallest normal"
    return mx


@functools.lru_cache(maxsize=None)
def case_of(shape, scale, dtype_name, axis, T=1.0):
    """A normal(0, scale) input of `shape` (shared by all functions)."""
    rng = np.random.default_rng([SEED, int(np.prod(shape)), int(scale * 1000), len(dtype_name)])
    return Case((rng.standard_normal(shape) * scale).astype(dtype_name), axis, T)


def run_case(group, fn, shape, scale, dtype, axis, T=1.0):
    check(group, fn, case_of(shape, scale, np.dtype(dtype).name, axis, T), f" shape={shape} scale={scale}")


# ============================================================================ battery
N_TOTAL = 50_000
KS = (2, 10, 1000, 100_000)
SCALES = (0.1, 1, 5, 20, 100)
DTYPES = (F32, F64)


def _shape(K):
    return (max(N_TOTAL // K, 1), K)


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
@pytest.mark.parametrize("T", (0.37, -2.5), ids=lambda t: f"T{t}")
@pytest.mark.parametrize("fn", FUNCS[3:])
def test_temperature_derivatives(fn, T, K, axis, dtype):
    """The derivatives carry 1/T as a pair (float64 went to 2.4 ulp with a rounded 1/T)."""
    shape = (200, K) if axis == -1 else (K, 200)
    run_case("temperature", fn, shape, 5.0, dtype, axis, T)


# float32 softmax-VJP rows of SMX_NF32 < K <= 512 elements run in blocks, each row's output
# pass taking a later row's sum on the way (_vvjp_rows32; at |T| != 1 its output element in
# float32 pairs, a vector flagged redone in double lanes): several blocks (a work item is
# 65536 elements), the rows at their edges, every kind of tail. With AVX2, rows of 9-15 go 16
# at a time in two vectors (_vshort_vjp32x2_case), 16 and on in blocks.
@pytest.mark.parametrize("scale", (1, 20), ids=lambda s: f"scale{s}")
@pytest.mark.parametrize("K", (9, 10, 15, 16, 17, 96, 200, 512), ids=lambda k: f"K{k}")
@pytest.mark.parametrize("T", (1.0, -1.0, 0.37, -2.5), ids=lambda t: f"T{t}")
def test_vjp_row_blocks(T, K, scale):
    run_case("vjp-rows", "softmax_vjp", (2 * (65536 // K) + 3, K), float(scale), F32, -1, T)


# ... and at a small |T|, y spanning e**0 to far below 2**-100: y (g - c) under 2**-100 with
# a normal y (g - c) / T, where the float32 pairs' low parts would be subnormal (the vectors
# the output element flags and redoes in double lanes).
@pytest.mark.parametrize("T", (1e-3, -2e-3), ids=lambda t: f"T{t}")
def test_vjp_row_blocks_tiny_terms(T):
    x = np.random.default_rng([SEED, 1000]).standard_normal((300, 96)) * (0.05 * abs(T) / 1e-3)
    check("vjp-rows", "softmax_vjp", Case(x.astype(F32), -1, T), " tiny terms")


# ============================================================================ row tails
# Rows longer than the short-row kernel run in blocks of 32 lanes; the last K % 32 elements
# go through a padded block, and the row max takes two blocks a step. Every tail length,
# an odd and an even number of blocks, the max (or a tie for it) in the tail, entries whose
# exp is 0 in the tail (-1e30 and -inf), both signs of T. float64 rows from 32 elements run
# in the row kernels (_vshort64 to 256, then _vrows64; 31 and below a block of short rows):
# the shortest rows of each and their tails.
TAIL_KS = (31, 32, 33, 40, 41, 47, 48, 49, 57, 63, 64) + tuple(range(65, 97)) + (
    127, 256, 257, 1000, 1001)


@functools.lru_cache(maxsize=None)
def _tail_case(K, dtype_name, T):
    rng = np.random.default_rng([SEED, K, int(T * 8) + 64])
    x = rng.standard_normal((6, K)) * 4
    sgn = -1.0 if T < 0 else 1.0
    tail = K - K % 32 if K % 32 else K - 32
    x[1, -1] = sgn * 40.0                            # the max is the last element
    x[2, tail] = x[2, 0] = sgn * 30.0                 # a tie: first element and first of the tail
    x[3, tail:] = -sgn * 1e30                         # the tail is all exp 0
    x[4, ::7] = -sgn * np.inf
    x[5] = x[5] * 0.01 + 1000.0                       # a large offset: x - max must stay exact
    return Case(x.astype(dtype_name), -1, T)


@pytest.mark.parametrize("T", (1.0, -1.0, 0.37, -2.5), ids=lambda t: f"T{t}")
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.name)
@pytest.mark.parametrize("fn", FUNCS)
def test_row_tails(fn, dtype, T):
    for K in TAIL_KS:
        check("row-tails", fn, _tail_case(K, dtype.name, T), f" K={K}")


# ============================================================================ dominant maxima
# Rows whose max beats every other entry by 36-60 (the sum of the exps is 1 + less than
# 2**-50, so log(sum) must come from the rest summed apart from the max's 1 with its full
# relative precision): log_softmax at the max is about -rest. float64 rows of 255 and 4099
# (_vshort64, _vrows64, which sum such rows twice: a plain compensated sum would reach 2.8
# ulp at K = 4099), float32 rows alike; both signs of T, a tie for the max in some rows.
@pytest.mark.parametrize("T", (1.0, -1.0, 0.5), ids=lambda t: f"T{t}")
@pytest.mark.parametrize("dtype", (F32, F64), ids=lambda d: d.name)
@pytest.mark.parametrize("fn", ("log_softmax", "logsumexp"))
def test_dominant_max(fn, dtype, T):
    for K in (255, 4099):
        rng = np.random.default_rng([SEED, K, 36])
        R = 400000 // K
        x = rng.uniform(-3, 0, (R, K)) - rng.uniform(36, 60, (R, 1))
        x[np.arange(R), rng.integers(0, K, R)] = 0.0
        x[::5, 0] = 0.0
        x *= abs(T) * (1.0 if T > 0 else -1.0)
        check("dominant-max", fn, Case(x.astype(dtype), -1, T), f" K={K}")


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


@pytest.mark.parametrize("T", (1.0, 0.37, -2.5), ids=lambda t: f"T{t}")
@pytest.mark.parametrize("K", (21, 200, 1000))
def test_row_max_off_grid(K, T):
    """log_softmax's fast rows take y - max by Fast2Sum only where the max is a multiple of
    ulp(max |y|): here it is not (a max near 0.3, the rest near -5 and the sum's rest large
    enough for the fast sum), and Fast2Sum would lose y - max's low part (4-9 ulp)."""
    rng = np.random.default_rng([SEED, K, int(T * 8) + 64])
    x = rng.uniform(-4.9, -4.1, (64, K)) - np.log(K / 20)
    x[:, 0] = rng.uniform(0.26, 0.49, 64)
    case = Case((np.sign(T) * x).astype(np.float32), -1, T)
    for fn in ("log_softmax", "softmax", "logsumexp"):
        check("row-max-off-grid", fn, case, f" K={K}")


@pytest.mark.parametrize("T", (1.0, 0.37, -2.5), ids=lambda t: f"T{t}")
@pytest.mark.parametrize("K", (21, 200, 1000))
def test_row_max_off_grid64(K, T):
    """float64 rows (and JVP rows) take y - max by Fast2Sum where the max is a multiple of
    G = ulp(max |y|) (_row_consts64's f2s), else by TwoSum. Rows 0-31: the max near 0.3 off
    that grid, the rest near -600 |T| (ulp 1.1e-13 |T|), where Fast2Sum would lose up to half
    an ulp of y (softmax: ~250 ulp of exp(-600)); rows 32-63: the max moved onto the grid,
    |y| far above |max|: Fast2Sum's exactness there, against the oracle. (K = 21: the short
    rows' scalar kernel, TwoSum throughout, beside the JVP's vector rows.)"""
    rng = np.random.default_rng([SEED, K, int(T * 8) + 96])
    x = rng.uniform(-604.0, -596.0, (64, K)) * abs(T)
    x[:, 0] = rng.uniform(0.26, 0.49, 64) * abs(T)
    g = np.spacing(np.abs(x).max(axis=1))
    x[32:, 0] = np.round(x[32:, 0] / g[32:]) * g[32:]
    assert (x[:32, 0] % g[:32] != 0).all() and (x[32:, 0] % g[32:] == 0).all()
    case = Case(np.sign(T) * x, -1, T)
    for fn in ("softmax", "log_softmax", "logsumexp", "softmax_jvp"):
        check("row-max-off-grid", fn, case, f" K={K}")


def test_row_max_tiny64():
    """The grid test of _row_consts64 where m / G underflows (a max near 1e-32 in a row with
    an entry of -1e308: G = ulp(1e308)): m is then no multiple of G, and Fast2Sum would lose
    y - max's low part (~200 ulp of the exps at T = 1e-19)."""
    K = 200
    x = -np.arange(K, dtype=np.float64) * 1e-19
    x[0] = 1e-32
    x[5] = -1e308
    x = x + np.arange(8)[:, None] * 1e-21
    case = Case(x, -1, 1e-19)
    for fn in ("softmax", "logsumexp", "softmax_jvp"):
        check("row-max-off-grid", fn, case)


# ============================================================================ long rows
# Rows of K >= 2**18 float32 elements run in blocks of 16384 (each block's max, min and sum,
# merged in block order, then the output block by block); softmax takes each block on the
# fast exp where the block allows it and the output pass on it where the whole row does, and
# from 2**22 elements on softmax and log_softmax store their output past the caches from
# out's first vector-aligned element. Blocks the fast path cannot take sit beside ones it
# can. One thread and two give the same bits (on one CPU both run on one).
LONG_SPECIALS = ("normal", "wide block", "wide row", "tiny block", "-inf", "offset", "blocks apart")
LBLK = 16384


def _long_row(K, special, T):
    rng = np.random.default_rng([SEED, K, LONG_SPECIALS.index(special), int(T * 8) + 64])
    x = rng.standard_normal(K) * 3
    b = slice(3 * LBLK, 4 * LBLK)                 # a middle block
    sgn = -1.0 if T < 0 else 1.0
    if special == "wide block":                    # its own span beyond the fast exp's
        x[b] *= 100
    elif special == "wide row":                    # each block narrow, the row's span wide
        x[:LBLK] += sgn * 50
        x[-LBLK:] -= sgn * 50
    elif special == "tiny block":                  # a block of max |y| < 2**-100 (the max)
        x[:] = -sgn * np.abs(x) - sgn
        x[b] *= 1e-33
    elif special == "-inf":
        x[b][::5] = -sgn * np.inf
    elif special == "offset":                      # y - max must stay exact
        x = x * 0.01 + sgn * 1000.0
    elif special == "blocks apart":                # each block 60 above the one before: one
        x += sgn * 60.0 * (np.arange(K) // LBLK)   # block's stats for another's overflow
    return x.astype(np.float32)


@pytest.mark.parametrize("T", (1.0, 0.37, -2.5), ids=lambda t: f"T{t}")
@pytest.mark.parametrize("special", LONG_SPECIALS)
def test_long_rows(special, T):
    """A long row's blocks (pass 1 on one thread takes a block's stats during the exps of
    the block before it; on two, each block its own)."""
    case = Case(_long_row(2 ** 18 + 5, special, T), -1, T)
    for fn in ("softmax", "log_softmax", "logsumexp"):
        for workers in (1, 2):
            check("long-rows", fn, case, f" {special} workers={workers}", workers)
        f = getattr(S, fn)             # the same bits on one thread and on two
        np.testing.assert_array_equal(f(case.x, temperature=T, workers=1),
                                      f(case.x, temperature=T, workers=2), err_msg=fn)


@functools.lru_cache(maxsize=None)
def _streamed_case(K):
    return Case(_long_row(K, "normal", -2.5), -1, -2.5)


@pytest.mark.parametrize("fn", ("softmax", "log_softmax"))
@pytest.mark.parametrize("offset", (0, 1, 15), ids=lambda o: f"out+{o}")
def test_long_rows_streamed(offset, fn):
    """A row long enough to store its output past the caches, into an out= at each alignment
    of the vector (the head before the first aligned element is stored apart)."""
    K = 2 ** 22 + 37
    case = _streamed_case(K)
    buf = np.full(K + 32, 7.0, np.float32)
    out = buf[offset:offset + K]
    getattr(S, fn)(case.x, temperature=-2.5, out=out)
    exact, scale = case.value_and_scale(fn)
    units, _, mismatch = oracle.ulp_errors(out, exact, scale)
    assert mismatch == 0 and units.max() <= TOL, units.max()
    assert (buf[:offset] == 7).all() and (buf[offset + K:] == 7).all()


# ============================================================================ column strips
COLUMN_SPECIALS = ("nan", "inf", "-inf", "-inf column", "wide column", "tiny column")


def _column_case(K, inner, special, where, T):
    """A (K, inner) float32 input along axis 0 with one special column: `where` is its index
    (a middle strip of the float32 column kernels' fast path, or the partial last one)."""
    rng = np.random.default_rng([SEED, K, inner, COLUMN_SPECIALS.index(special), where])
    x = rng.standard_normal((K, inner)).astype(np.float32) * np.float32(3)
    r = int(rng.integers(K))
    if special == "nan":
        x[r, where] = np.nan
    elif special == "inf":
        x[r, where] = np.inf
    elif special == "-inf":
        x[r, where] = -np.inf
    elif special == "-inf column":
        x[:, where] = -np.inf
    elif special == "wide column":      # a span (max - min)/|T| beyond the fast exp's
        x[:, where] *= 100
    else:                               # max |x| below 2**-100
        x[:, where] *= np.float32(1e-33)
    return Case(x, 0, T)


@pytest.mark.parametrize("T", (1.0, 0.37, -2.5), ids=lambda t: f"T{t}")
@pytest.mark.parametrize("special", COLUMN_SPECIALS)
@pytest.mark.parametrize("K, inner", ((3, 200), (700, 200), (700, 1000), (1500, 100)))
def test_column_strips(K, inner, special, T):
    """float32 softmax down the columns, strip by strip: a strip the fast path cannot take
    (in the middle, or the partial last one) goes to the general column kernel while the
    strips around it stay on the fast path; every output within 2 ulp."""
    for where in (70, inner - 3):
        case = _column_case(K, inner, special, where, T)
        for fn in ("softmax", "log_softmax", "logsumexp"):
            check("column-strips", fn, case, f" K={K} inner={inner} {special} at {where}")


@functools.lru_cache(maxsize=None)
def _streamed_columns_case(T):
    """(520, 4112) float32 along axis 0 (over 2**21 elements: the strips' output is stored past
    the caches): a wide column (a softmax strip to the general kernel), a confident column (a
    log_softmax one), side by side with strips on the fast path, and a partial last strip."""
    rng = np.random.default_rng([SEED, 520, 4112, int(T * 100) + 900])
    x = rng.standard_normal((520, 4112)).astype(np.float32) * np.float32(3)
    x[:, 64 * 5 + 7] *= 100
    x[11, 64 * 9 + 60] += np.float32(60 * abs(T))
    x[:, 64 * 10 + 1] *= 100
    return Case(x, 0, T)


@pytest.mark.parametrize("offset", (0, 1, 4, 12, 15), ids=lambda o: f"out+{o}")
@pytest.mark.parametrize("T", (1.0, -2.5), ids=lambda t: f"T{t}")
def test_column_strips_streamed(T, offset):
    """float32 column strips whose output is stored past the caches, into an out= at each
    offset within a cache line: out's rows start on a line (whole strips stream), or each
    row's lines cross the strips (a strip's last line is finished by the next one; a strip
    to the general kernel, the partial last strip and the end of a row finish it as usual)."""
    case = _streamed_columns_case(T)
    n = case.x.size
    for fn in ("softmax", "log_softmax"):
        buf = np.full(n + 64, 7.0, np.float32)
        k = (-buf.ctypes.data) % 64 // 4 + offset      # out starts `offset` floats into a line
        out = buf[k:k + n].reshape(case.x.shape)
        getattr(S, fn)(case.x, axis=0, temperature=T, out=out)
        exact, scale = case.value_and_scale(fn)
        units, _, mismatch = oracle.ulp_errors(out, exact, scale)
        assert mismatch == 0 and units.max() <= TOL, (fn, units.max())
        assert (buf[:k] == 7).all() and (buf[k + n:] == 7).all(), fn


# float32 softmax rows of 17-160 elements, log_softmax and logsumexp rows of 17-256 go SMX_NF32
# rows at a time (_k_vblock32.pxi): each row's max, min and sums reduced in one lane of a vector
# across the block's rows. Rows of very different offsets and scales side by side (a row handed
# another row's constants overflows or underflows), special rows among them (a confident row:
# log_softmax's S - 1 too small for the float32 lanes), a block left partial; each row's bits the
# same as when it is computed alone (a row's arithmetic does not depend on its block). Rows of
# 9-16 go in two vectors on AVX2, 16 rows phase by phase (_vshort32x2_case: blocks of 16, 16
# and 5 rows here; rows with a NaN or an inf at places 3, 8, 12, 15 of the first, 1 of the
# second and 3 of the last go to the fallbacks, as may the wide and confident rows), K <= 16
# on AVX-512 in one (_vshort32).
@functools.lru_cache(maxsize=None)
def _mixed_rows_case(K, T):
    rng = np.random.default_rng([SEED, K, int(T * 100) + 500, 31])
    R = 37
    off = rng.choice([-3000.0, -40.0, 0.0, 7.5, 90.0, 2500.0], R)
    sc = rng.choice([0.01, 1.0, 3.0, 12.0], R)
    x = (rng.standard_normal((R, K)) * sc[:, None] + off[:, None]).astype(np.float32)
    x[3, K // 2] = np.nan
    x[8, 1] = np.inf
    x[12, K - 1] = -np.inf
    x[15, 0] = np.nan           # (the last row of a block of 16, and one in the partial last)
    x[35, K - 1] = np.inf
    x[17, :] = -np.inf
    x[21, :] *= 200             # a span beyond the fast exp's
    x[26, :] = (rng.standard_normal(K) * 1e-33).astype(np.float32)    # max |x| below 2**-100
    x[30, K // 3] = (x[30].max() if T > 0 else x[30].min()) + np.float32(60 * T)   # confident
    return Case(x, -1, T)


@pytest.mark.parametrize("T", [1.0, -1.0, 0.37, -2.5])
@pytest.mark.parametrize("K", [9, 10, 15, 16, 17, 32, 48, 96, 100, 160, 200, 256])
@pytest.mark.parametrize("fn", ["softmax", "log_softmax", "logsumexp"])
def test_row_blocks_mixed(fn, K, T):
    case = _mixed_rows_case(K, T)
    check("row blocks", fn, case, f" K={K}")
    f = getattr(S, fn)
    got = f(case.x, axis=-1, temperature=T)
    alone = np.stack([np.asarray(f(row, temperature=T)) for row in case.x])
    np.testing.assert_array_equal(got, alone)
    np.testing.assert_array_equal(got, f(case.x, axis=-1, temperature=T, workers=2))


# The derivatives of the same mixed rows (the VJP from their correctly rounded softmax), an
# inf and a NaN in the tangent / gradient besides: special rows among the short rows' blocks
# (AVX2, K = 9-15: _k_vderiv32x2.pxi) and the row blocks; each row's bits the same alone, in
# its block and on two threads.
@pytest.mark.parametrize("T", [1.0, -1.0, 0.37, -2.5])
@pytest.mark.parametrize("K", [9, 10, 15, 16, 17])
@pytest.mark.parametrize("fn", ["softmax_vjp", "softmax_jvp", "log_softmax_jvp"])
def test_derivative_row_blocks_mixed(fn, K, T):
    base = _mixed_rows_case(K, T)
    g = np.random.default_rng([SEED, K, 41]).standard_normal(base.x.shape).astype(np.float32)
    g[5, K // 2] = np.inf
    g[20, 0] = np.nan
    case = Case(base.x, -1, T, v=g)
    check("row blocks", fn, case, f" K={K}")
    a, b = case.args(fn)
    f = getattr(S, fn)
    with np.errstate(all="ignore"):
        got = f(a, b, axis=-1, temperature=T)
        alone = np.stack([f(a[r], b[r], temperature=T) for r in range(len(a))])
        two = f(a, b, axis=-1, temperature=T, workers=2)
    np.testing.assert_array_equal(got, alone)
    np.testing.assert_array_equal(got, two)
    # in place (out is an input): a short row's whole store runs into the next row, a special
    # one among them read again by the general kernel
    for i in range(2):
        a2, b2 = a.copy(), b.copy()
        dst = (a2, b2)[i]
        with np.errstate(all="ignore"):
            f(a2, b2, axis=-1, temperature=T, out=dst)
        np.testing.assert_array_equal(dst, got)


# Short JVP rows pad their vectors past K (AVX2: K < 16 in two vectors, else K < SMX_NF32):
# the padding must not count in the sums where the row's max is -FLT_MAX itself (a row filled
# with float32's min, as masked attention scores are) or |T| is near FLT_MAX, where a finite
# padding's exp is not 0.
@pytest.mark.parametrize("K", [3, 5, 9, 10, 15])
@pytest.mark.parametrize("fn", ["softmax_jvp", "log_softmax_jvp"])
def test_jvp_short_rows_extreme(fn, K):
    lo = np.finfo(np.float32).min
    x = np.full((20, K), lo, np.float32)
    x[1::2] = np.random.default_rng([SEED, K, 43]).standard_normal((10, K)).astype(np.float32)
    for T in (1.0, 2.0):
        check("jvp-short", fn, Case(x, -1, T), f" K={K} rows of float32 min")
        check("jvp-short", fn, Case(-x, -1, -T), f" K={K} rows of float32 max, T < 0")
    check("jvp-short", fn, Case(x[1::2] * 1e3, -1, 1e38), f" K={K} T=1e38")


# An axis whose inner size is at most one strip (64 float32 columns with AVX-512, 32 with AVX2)
# is a contiguous (K, inner) block per outer index: softmax, log_softmax, the softmax VJP and
# the JVPs run their passes on it with their state in registers (no copy, no state arrays), the
# vectors of columns past inner skipped; a block the fast path cannot take (a special column, a
# confident log-softmax column) goes whole to the general column kernel. A block of any K
# (4100 here: each column's sum takes 4100 terms in one lane, its compensation flushed into
# double every 16 rows). The VJP's g sits near 2 so that g - sum(y g) cancels: its dot must keep
# its compensation (flushed into double every 16 rows) to stay within 2 ulp.
BLOCK_SPECIALS = ("none",) + COLUMN_SPECIALS + ("confident column",)


@functools.lru_cache(maxsize=None)
def _block_case(K, inner, special, T):
    rng = np.random.default_rng([SEED, K, inner, BLOCK_SPECIALS.index(special), int(T * 100) + 500])
    x = rng.standard_normal((3, K, inner)).astype(np.float32) * np.float32(3)
    where, r = inner - 1, int(rng.integers(K))
    col = x[1, :, where]                # (a view: the middle block's last column)
    if special in ("nan", "inf", "-inf"):
        col[r] = np.float32(special)
    elif special == "-inf column":
        col[:] = -np.inf
    elif special == "wide column":      # a span (max - min)/|T| beyond the fast exp's
        col *= 100
    elif special == "tiny column":      # max |x| below 2**-100
        col *= np.float32(1e-33)
    elif special == "confident column":     # log_softmax: S - 1 too small for float32 lanes
        col[r] += np.float32(60 * abs(T))
    g = (rng.standard_normal(x.shape) * 0.25 + 2).astype(np.float32)
    return Case(x, 1, T, g=g)


@pytest.mark.parametrize("T", (1.0, -1.0, 0.37, -2.5), ids=lambda t: f"T{t}")
@pytest.mark.parametrize("special", BLOCK_SPECIALS)
@pytest.mark.parametrize("K, inner", ((3, 5), (300, 16), (1000, 33), (517, 64), (40, 47),
                                      (4100, 16)))
def test_column_blocks(K, inner, special, T):
    case = _block_case(K, inner, special, T)
    for fn in ("softmax", "log_softmax", "softmax_vjp", "softmax_jvp", "log_softmax_jvp"):
        check("column-blocks", fn, case, f" K={K} inner={inner} {special}")


# Wider axes: the float32 softmax VJP at T = +-1 (FMA) along an axis whose rows lie more than
# FCV * SMX_NF32 elements apart (64 with AVX-512, 32 with AVX2) sweeps whole rows of a chunk of
# columns (_cvjp_sweep32, its state in arrays), each column's operations those of a contiguous
# block's (_cvjp_unit32 above): the same bits as the same columns taken 16 at a time as
# contiguous blocks. A vector of columns whose sum(y g) is not finite as a float32 pair goes to
# the general kernel (a NaN, an inf, a sum past FLT_MAX with every output finite), in a block
# as well as in the sweep; a column where y c passes FLT_MAX and y g and y (g - c) do not (an
# output formed through the product y c overflows); a column where g - c cancels to 2**-20
# (the old column kernel, in double lanes, differed there in the last bits). inner 1100 is two
# chunks (VCW = 1024 columns).
def _vjp_in_blocks(y, g, T):
    """softmax_vjp along axis 0, 16 columns at a time, each a contiguous block."""
    return np.concatenate([S.softmax_vjp(np.ascontiguousarray(y[:, j:j + 16]),
                                         np.ascontiguousarray(g[:, j:j + 16]), axis=0,
                                         temperature=T) for j in range(0, y.shape[1], 16)], axis=1)


@pytest.mark.parametrize("T", (1.0, -1.0), ids=lambda t: f"T{t}")
@pytest.mark.parametrize("K, inner", ((3, 100), (700, 200), (37, 1100), (2000, 81)))
def test_vjp_column_sweeps(K, inner, T):
    rng = np.random.default_rng([SEED, K, inner, int(T * 10) + 40])
    x = rng.standard_normal((K, inner)).astype(np.float32) * np.float32(3)
    g = (rng.standard_normal(x.shape) * 0.25 + 2).astype(np.float32)
    g[:, 17] = (2 + 2.0 ** -20 * rng.standard_normal(K)).astype(np.float32)
    case = Case(x, 0, T, g=g)
    case.__dict__["y"] = np.ascontiguousarray(case.y)     # (the oracle's is in Fortran order)
    check("vjp-column-sweeps", "softmax_vjp", case, f" K={K} inner={inner}")
    got = S.softmax_vjp(case.y, g, axis=0, temperature=T)
    np.testing.assert_array_equal(got, _vjp_in_blocks(case.y, g, T))
    np.testing.assert_array_equal(got, S.softmax_vjp(case.y, g, axis=0, temperature=T, workers=2))
    y, g = case.y.copy(), g.copy()
    r = rng.choice(K, size=3, replace=False)
    y[r[0], 5] = np.nan
    g[r[1], 40] = np.inf
    y[:, inner - 2] *= np.float32(0.5)      # (every output finite: |y| (g - c) < 0.5 * 3.6e38)
    y[r[2], inner - 2], g[r[2], inner - 2] = 1.2, 3e38
    y[:, 20], g[:, 20] = 0, 1               # y c passes FLT_MAX, y g and y (g - c) do not
    y[r[:2], 20], g[r[:2], 20] = (1.5, 0.5), (1.4666666e38, 4e37)   # (c = 2.4e38, out -1.4e38)
    special = Case(x, 0, T, g=g)
    special.__dict__["y"] = y
    check("vjp-column-sweeps", "softmax_vjp", special, f" K={K} inner={inner} special")
    got = S.softmax_vjp(y, g, axis=0, temperature=T)
    assert np.isfinite(got[:, 16:32]).all()
    np.testing.assert_array_equal(got, _vjp_in_blocks(y, g, T))


# ============================================================================ log-softmax VJP
@pytest.mark.parametrize("T", (1.0, -0.6), ids=lambda t: f"T{t}")
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.name)
def test_log_softmax_vjp_positive_y(dtype, T):
    """log_softmax_vjp of y = log_softmax(x) (all <= 0: float32 takes the float32 kernels' exp)
    and of rows with y > 0 (the general exp), last axis and axis 0, long and short rows."""
    rng = np.random.default_rng([SEED, 77])
    for shape, axis in (((300, 1000), -1), ((1000, 300), 0), ((3000, 10), -1), ((50, 77), -1)):
        x = (rng.standard_normal(shape) * 5).astype(dtype)
        case = Case(x, axis, T, g=rng.standard_normal(shape).astype(dtype))
        if axis == -1:
            case.ly[::3] += np.float32(3.5)          # rows with positive entries
        check("log-vjp", "log_softmax_vjp", case, f" {shape}")


# ============================================================================ confident rows
def _row_sequence(R, K, dtype_name, special_at):
    """R rows of K whose neighbours differ wildly: row r centred on 60 (r % 5) - 120 with a
    spread of 0.5 ... 20, so that any row's max and min taken for another row's would put
    exps above 1 or out of range; row special_at (if any) holds a NaN, the next a -inf."""
    rng = np.random.default_rng([SEED, R, K, special_at + 7])
    off = (60.0 * (np.arange(R) % 5) - 120.0)[:, None]
    spread = np.array([0.5, 20.0, 3.0, 9.0])[np.arange(R) % 4][:, None]
    x = off + spread * rng.standard_normal((R, K))
    if 0 <= special_at < R:
        x[special_at, K // 3] = np.nan
        if special_at + 1 < R:
            x[special_at + 1, K - 1] = -np.inf
    return x.astype(dtype_name)


@pytest.mark.parametrize("T", (1.0, -1.0, 0.37), ids=lambda t: f"T{t}")
@pytest.mark.parametrize("K", (10, 17, 96, 200, 512, 513, 1000))
def test_row_sequences(K, T):
    """Rows take each row's max and min from an earlier row's exp pass (one or two rows
    before: _vrows32_case, _vjvp_rows32_case, _vrows64), a float64 log_softmax row's output
    pass runs in the next row's pass, a softmax VJP row's sum in the previous row's output
    pass (_vvjp_rows32, _vvjp_rows64): short batches (R = 1 ... 9) and special rows at the
    start, the middle and the end of the batch."""
    for dtype in DTYPES:
        for R in (1, 2, 3, 5, 9):
            for special_at in sorted({-1, 0, 1, R // 2, R - 2, R - 1}):
                case = Case(_row_sequence(R, K, dtype.name, special_at), -1, T)
                for fn in ("softmax", "log_softmax", "logsumexp", "softmax_jvp",
                           "log_softmax_jvp", "softmax_vjp"):
                    check("row-seq", fn, case, f" R={R} K={K} special row {special_at}")


@pytest.mark.parametrize("K", (1024, 4096, 4097))
def test_jvp_scratch_rows(K):
    """float32 softmax-JVP rows up to JVP_SC_MAX_K = 4096 elements keep their exps in double
    scratch (_vjvp_rows32_case), longer ones in out: both sides of the limit, a special row
    among them, and T < 0."""
    for dtype in DTYPES:
        for R, special_at in ((1, -1), (3, 1)):
            for T in (1.0, -0.37):
                case = Case(_row_sequence(R, K, dtype.name, special_at), -1, T)
                for fn in ("softmax_jvp", "log_softmax_jvp"):
                    check("row-seq", fn, case, f" R={R} K={K} special row {special_at}")


@pytest.mark.parametrize("special_at", (-1, 1))
def test_long_row_blocks(special_at):
    """Rows longer than a block of ROWS_ELEMS elements still go several to a block (each row's
    max from the previous row's pass: _rows_block): wildly different neighbours, a special row
    inside the block."""
    for dtype, K in ((np.dtype(np.float32), 40000), (np.dtype(np.float64), 70000)):
        case = Case(_row_sequence(4, K, dtype.name, special_at), -1, 1.0)
        for fn in ("softmax", "log_softmax", "logsumexp", "softmax_vjp", "softmax_jvp"):
            check("row-seq", fn, case, f" K={K} special row {special_at}")


def _confident_rows(dtype):
    """Rows with one dominant entry: log_softmax there is ~ -exp(-gap), far below 1 in size;
    and the rows the oracle is checked on against mpmath (tests/test_oracle.py)."""
    from test_oracle import ROWS
    rows = [[0.0, -30.0, -40.0], [0.0, -1e-3, -40.0]] + ROWS
    for gap in (1, 5, 10, 15, 20, 25, 30, 35, 40, 50, 60, 70, 80, 87, 90, 100, 200, 700):
        for off in (0.0, 0.3, -7.25, 123.456):
            rows.append([off, off - gap, off - gap * 1.37 - 0.5])
            rows.append([off - gap * 1.01, off, off - gap, off - 2 * gap])
    K = max(len(r) for r in rows)
    # pad with copies of the row's lowest entry (keep every output finite)
    return np.array([list(r) + [min(r)] * (K - len(r)) for r in rows]).astype(dtype)


@pytest.mark.parametrize("T", (1.0, 0.37, 3.0), ids=lambda t: f"T{t}")
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.name)
@pytest.mark.parametrize("fn", ("log_softmax", "softmax", "logsumexp"))
def test_confident_rows(fn, dtype, T):
    check("confident", fn, Case(_confident_rows(dtype), -1, T))


def test_headline_log_softmax_near_zero_entry():
    """x = [0, -30, -40]: log_softmax[0] = -log1p(e^-30 + e^-40) ~ -9.36e-14, within 2 ulp."""
    for dt in DTYPES:
        check("confident", "log_softmax", Case(np.array([0.0, -30.0, -40.0], dt), None))


# ============================================================================ float16
@pytest.mark.parametrize("scale", (1, 5), ids=lambda s: f"scale{s}")
@pytest.mark.parametrize("K", (10, 1000), ids=lambda k: f"K{k}")
@pytest.mark.parametrize("fn", ("softmax", "log_softmax", "logsumexp"))
def test_float16(fn, K, scale):
    rng = np.random.default_rng([SEED, K, scale, 16])
    x = (rng.standard_normal((2000 // K * 10, K)) * scale).astype(F16)
    want = getattr(oracle.Exact(x, -1), fn)().round(F32).astype(F16)  # float16(float32(exact))
    got = np.asarray(getattr(S, fn)(x, axis=-1))
    assert got.dtype == F16, f"{fn}: float16 input gave {got.dtype}"
    units, _, mismatch = oracle.ulp_errors(got, want, want)
    record("float16", fn, F16, float(units.max()))
    i = np.unravel_index(np.argmax(units), units.shape)
    assert mismatch == 0 and units.max() <= 1.0, \
        f"{fn} float16: {units.max():.2f} f16 ulp from float16(float32(exact)) at {i}: got {got[i]!r}, want {want[i]!r}"


# ============================================================================ integers
@pytest.mark.parametrize("fn", ("softmax", "log_softmax", "logsumexp", "softmax_jvp", "log_softmax_jvp"))
@pytest.mark.parametrize("T", (1.0, -1.0, 0.5, 3.0), ids=lambda t: f"T{t}")
def test_64_bit_integers(fn, T):
    """int64 and uint64 beyond 2**53: the differences from the slice maximum are exact (the
    oracle takes the integers exactly), so every result is within 2 ulp (float64)."""
    rng = np.random.default_rng([SEED, 64])
    base = [2 ** 62, -2 ** 63, 2 ** 63 - 1, 2 ** 53 + 1]
    rows = [np.array(b, np.int64) + rng.integers(-40, 40, 50) for b in base[:1] + base[3:]]
    rows += [np.array([2 ** 63 - 1 - i for i in range(50)], np.int64), np.array([-2 ** 63 + 3 * i for i in range(50)], np.int64)]
    x = np.stack(rows)
    ux = (np.uint64(2 ** 64 - 1) - rng.integers(0, 60, (3, 50)).astype(np.uint64))
    for a in (x, ux):
        case = Case(a, -1, T, v=rng.standard_normal(a.shape))
        case.x = a
        with np.errstate(all="ignore"):
            got = np.asarray(getattr(S, fn)(*case.args(fn), axis=-1, temperature=T))
        assert got.dtype == F64
        value, scale = case.value_and_scale(fn)
        units, sub, mismatch = oracle.ulp_errors(got, value, scale)
        record("integers", fn, F64, float(units.max()))
        assert mismatch == 0 and units.max() <= TOL, (fn, a.dtype, T, float(units.max()))


# ============================================================================ rare worst rows
# Rows of 1000 normal x 5 where float32 softmax reached 2.03 and 2.02 ulp (5 outputs in 4e8
# of such rows went above 2): the vector exps rounded their reduced argument twice (r - n LN2LO, then
# + lo: up to 2**-25 off), which the stored exponential carried into the output; _reduced32
# rounds it once. Row `row` of default_rng(seed).standard_normal((20000, 1000)) * 5 in
# float32 (a draw's first rows do not depend on how many follow).
@pytest.mark.parametrize("seed, row", [(1001, 7238), (1004, 9989)])
def test_float32_softmax_worst_rows(seed, row):
    x = (np.random.default_rng(seed).standard_normal((row + 1, 1000)) * 5).astype(np.float32)
    check("worst-rows", "softmax", Case(x[row:], -1), f" seed={seed} row={row}")


# ============================================================================ the kernels' exp
def test_float32_kernels_exp():
    """The exp of the float32 kernels (_exp_f32: float64 in and out, arguments <= 0) against
    the oracle's: 1.1e-10 relative by construction (Chebyshev fit), asserted with margin at
    2e-10 over its range, on every ISA variant; below -700 (and at -inf) it is 0."""
    from softmax import _dispatch
    rng = np.random.default_rng(5)
    h = np.concatenate([rng.uniform(-120, 0, 200_000), rng.uniform(-700, -120, 20_000),
                        -np.logspace(-30, 2.8, 1000), [0.0, -0.0, -700.0, -1e-300]])
    exact = oracle.exp(h).round()
    for level in _dispatch.available_isas():
        with _dispatch.using_isa(level) as k:
            out = np.empty_like(h)
            k.exp_f32(h, out)
            rel = np.abs(out / exact - 1)
            assert rel.max() < 2e-10, (level, float(rel.max()))
            assert out[h == 0].tolist() == [1.0, 1.0]   # exactly 1: the maxima are counted
            out2 = np.empty(4)
            k.exp_f32(np.array([-700.5, -1e10, -np.inf, np.nan]), out2)
            assert out2[:3].tolist() == [0.0, 0.0, 0.0] and np.isnan(out2[3]), level

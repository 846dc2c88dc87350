"""Partial statistics (softmax.partial_stats, merge_stats, *_from_stats): blocks of slices
summarised, merged in any order or tree, finished; within 2 ulp of the oracle
(tests/oracle.py) whatever the blocks and the tree, with the NumPy path's special values.

Run with -s to see the max errors in ulps per function and dtype."""
import functools
import pickle

import numpy as np
import pytest

import oracle
import softmax as S

TOL = 2.0
RESULTS = {}


def record(fn, dtype, value):
    key = (fn, np.dtype(dtype).name)
    RESULTS[key] = max(RESULTS.get(key, 0.0), value)


@pytest.fixture(scope="module", autouse=True)
def _report():
    yield
    if RESULTS:
        print("\n\npartial statistics, any merge tree: max error in ulps against the oracle")
        for (fn, dt), v in sorted(RESULTS.items()):
            print(f"  {fn:<22}{dt:<9}{v:8.3f}")


def ulps(fn, got, exact, scale):
    """Max error in ulps (as tests/test_accuracy.py measures it), asserting the exact specials."""
    got = np.asarray(got)
    units, sub, mismatch = oracle.ulp_errors(got, exact, scale)
    assert mismatch == 0, f"{fn}: {mismatch} outputs with an exact inf/nan (or 0) differ"
    assert float(sub.max(initial=0)) <= 1.0, f"{fn}: error on a subnormal-range output"
    mx = float(units.max(initial=0))
    record(fn, got.dtype, mx)
    assert mx <= TOL, f"{fn}: {mx:.3f} ulp"
    return mx


def same(a, b):
    """Equal, NaN where NaN (for the special values, which must match the NumPy path)."""
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape and a.dtype == b.dtype, (a.shape, b.shape, a.dtype, b.dtype)
    np.testing.assert_array_equal(a, b)


def close(a, b, dtype=None):
    """Within 4 ulp of each other (two results each within 2 ulp of the exact one)."""
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape and a.dtype == b.dtype, (a.shape, b.shape, a.dtype, b.dtype)
    fin = np.isfinite(b)
    np.testing.assert_array_equal(np.isnan(a), np.isnan(b))
    np.testing.assert_array_equal(a[~fin & ~np.isnan(b)], b[~fin & ~np.isnan(b)])
    spacing = np.maximum(np.abs(np.spacing(b[fin].astype(a.dtype))), np.finfo(a.dtype).smallest_subnormal)
    tiny = np.finfo(a.dtype).tiny
    err = np.abs(a[fin].astype(np.float64) - b[fin].astype(np.float64))
    assert np.all((err <= 4 * spacing) | (err <= tiny)), float(np.max(err / spacing))


# ---------------------------------------------------------------------------- splitting and trees
def split(x, axis, rng, n):
    """x cut into n blocks (some possibly empty) along `axis`: (slices, blocks)."""
    K = x.shape[axis]
    cuts = np.sort(rng.integers(0, K + 1, size=n - 1))
    edges = np.concatenate([[0], cuts, [K]])
    sl = [tuple(slice(a, b) if i == axis else slice(None) for i in range(x.ndim))
          for a, b in zip(edges[:-1], edges[1:])]
    return sl, [x[s] for s in sl]


def merged(parts, how, rng):
    """The parts merged left to right, all at once, or by a random binary tree."""
    if how == "fold":
        return functools.reduce(S.merge_stats, parts)
    if how == "flat":
        return S.merge_stats(*parts)
    parts = list(parts)
    while len(parts) > 1:
        i = int(rng.integers(0, len(parts) - 1))
        a, b = parts.pop(i), parts.pop(i)
        parts.insert(i, S.merge_stats(b, a) if rng.random() < 0.5 else S.merge_stats(a, b))
    return parts[0]


SHAPES = [((40, 300), 1, 1), ((300, 40), 0, 0), ((6, 50, 7), (0, 1), 1), ((2, 3000), None, 1)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("T", [1.0, 0.37, -2.5, 0.0])
@pytest.mark.parametrize("shape,axis,cut", SHAPES, ids=lambda v: str(v).replace(" ", ""))
@pytest.mark.parametrize("scale", [1.0, 30.0])
def test_any_blocks_and_any_tree_within_2_ulp(dtype, T, shape, axis, cut, scale):
    rng = np.random.default_rng([len(shape), int(T * 100) % 97, int(scale), np.dtype(dtype).itemsize])
    x = (rng.standard_normal(shape) * scale).astype(dtype)
    ex = oracle.Exact(x, axis, T)
    slices, blocks = split(x, cut, rng, 7)
    parts = [S.partial_stats(b, axis, temperature=T) for b in blocks]
    for how in ("fold", "flat", "tree"):
        st = merged(parts, how, rng)
        assert st.dtype == np.dtype(dtype) and st.shape == np.shape(ex.logsumexp().hi)
        lse = S.logsumexp_from_stats(st)
        assert np.asarray(lse).dtype == np.dtype(dtype)
        ulps("logsumexp", lse, ex.logsumexp(), ex.scale("logsumexp"))
        soft = np.empty(shape, dtype)
        logs = np.empty(shape, dtype)
        for s, b in zip(slices, blocks):
            soft[s] = S.softmax_from_stats(b, st)
            logs[s] = S.log_softmax_from_stats(b, st)
        ulps("softmax", soft, ex.softmax(), ex.scale("softmax"))
        ulps("log_softmax", logs, ex.log_softmax(), ex.scale("log_softmax"))
        close(S.logsumexp_from_stats(st, keepdims=True),
              S.logsumexp(x, axis, temperature=T, keepdims=True))


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("T", [1.0, -0.5])
def test_where(dtype, T):
    rng = np.random.default_rng(11)
    x = (rng.standard_normal((30, 200)) * 10).astype(dtype)
    where = rng.random(x.shape) < 0.6
    where[3] = False               # a fully masked slice: 0 / -inf, logsumexp -inf
    where[4, :100] = False         # fully masked blocks of a slice
    x[~where] = np.nan             # what lies under the mask takes no part
    slices, blocks = split(x, 1, rng, 5)
    masks = [where[s] for s in slices]
    st = merged([S.partial_stats(b, 1, temperature=T, where=w) for b, w in zip(blocks, masks)], "tree", rng)
    ex = oracle.Exact(x, 1, T, where)
    lse = S.logsumexp_from_stats(st)
    same(np.isinf(lse), np.isinf(S.logsumexp(x, 1, temperature=T, where=where)))
    ulps("logsumexp", lse, ex.logsumexp(), ex.scale("logsumexp"))
    for name in ("softmax", "log_softmax"):
        got = np.concatenate([getattr(S, name + "_from_stats")(b, st, where=w) for b, w in zip(blocks, masks)], axis=1)
        ulps(name, got, getattr(ex, name)(), ex.scale(name))
        close(got, getattr(S, name)(x, 1, temperature=T, where=where))
    np.testing.assert_array_equal(st.count, where.sum(1))


@pytest.mark.parametrize("T", [1.0, 0.25, -3.0, 0.0])
def test_weights(T):
    """b, negative too: the sign, a negative sum is NaN without return_sign, weights that
    cancel give -inf (sign 0); as the NumPy path and the oracle."""
    rng = np.random.default_rng(5)
    x = rng.standard_normal((20, 90)) * 4
    b = rng.standard_normal((20, 90))
    b[:, ::7] = 0
    b[5] = 0                           # no entry takes part: -inf, sign 0
    x[6], b[6] = 0.0, 0.0
    b[6, :2] = [2.0, -2.0]             # cancels: T log(0)
    slices, blocks = split(x, 1, rng, 4)
    st = merged([S.partial_stats(xb, 1, temperature=T, b=b[s]) for s, xb in zip(slices, blocks)], "tree", rng)
    assert st.weighted
    res, sgn = S.logsumexp_from_stats(st, return_sign=True)
    r2, s2 = S.logsumexp(x, 1, b=b, temperature=T, return_sign=True)
    same(sgn, s2)
    close(res, r2)
    close(S.logsumexp_from_stats(st), S.logsumexp(x, 1, b=b, temperature=T))
    assert np.isnan(S.logsumexp_from_stats(st)[sgn < 0]).all()
    exact, esign = oracle.logsumexp(x, 1, b=b, return_sign=True, temperature=T)
    m = np.max(np.where(b != 0, np.abs(x), 0), axis=1)
    scale = oracle.DD(np.maximum(np.abs(exact.hi), m))
    ulps("logsumexp(b)", res, exact, scale)
    with pytest.raises(ValueError, match="logsumexp_from_stats only"):
        S.softmax_from_stats(blocks[0], st)
    # b that broadcasts x to a larger shape, as logsumexp's
    st = S.partial_stats(np.arange(3.0), 1, b=np.ones((2, 1)))
    close(S.logsumexp_from_stats(st), S.logsumexp(np.arange(3.0), 1, b=np.ones((2, 1))))


@pytest.mark.parametrize("dtype", [np.int8, np.uint8, np.int64, np.uint64, np.bool_])
@pytest.mark.parametrize("T", [1.0, -2.0, 0.0])
def test_integers_and_bool(dtype, T):
    """Integers: each block shifted exactly by its own winner, merged through the exact
    integer differences; the results those of the NumPy path (which shifts the whole slice)."""
    rng = np.random.default_rng(3)
    if dtype in (np.int64, np.uint64):
        base = np.array(2 ** 62 if dtype is np.int64 else 2 ** 63 + 2 ** 62, dtype)
        x = base + rng.integers(0, 80, (5, 60)).astype(dtype)
    elif dtype is np.bool_:
        x = rng.random((5, 60)) < 0.5
    else:
        info = np.iinfo(dtype)
        x = rng.integers(info.min, info.max, (5, 60), endpoint=True).astype(dtype)
    slices, blocks = split(x, 1, rng, 4)
    st = merged([S.partial_stats(b, 1, temperature=T) for b in blocks], "tree", rng)
    assert st.dtype == np.float64
    assert st.max.dtype == (np.float64 if dtype is np.bool_ else np.dtype(np.uint64 if dtype in (np.uint8, np.uint64) else np.int64))
    close(S.logsumexp_from_stats(st), S.logsumexp(x, 1, temperature=T))
    for name in ("softmax", "log_softmax"):
        got = np.concatenate([getattr(S, name + "_from_stats")(b, st) for b in blocks], axis=1)
        close(got, getattr(S, name)(x, 1, temperature=T))
    if dtype is not np.bool_:
        with pytest.raises(ValueError, match="integer"):
            S.merge_stats(st, S.partial_stats(x.astype(np.float64), 1, temperature=T))


def test_float16_and_dtype():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((4, 50)).astype(np.float16)
    st = S.merge_stats(S.partial_stats(x[:, :20], 1), S.partial_stats(x[:, 20:], 1))
    assert st.dtype == np.float16
    lse = S.logsumexp_from_stats(st)
    assert lse.dtype == np.float16
    ref = S.logsumexp(x, 1)
    assert np.all(np.abs(lse.astype(float) - ref.astype(float)) <= np.spacing(np.abs(ref)).astype(float))
    got = S.softmax_from_stats(x[:, 20:], st)
    assert got.dtype == np.float16
    ref = S.softmax(x, 1)[:, 20:]
    assert np.all(np.abs(got.astype(float) - ref.astype(float)) <= np.spacing(ref).astype(float))
    st = S.partial_stats(np.ones(3, np.float32), dtype=np.float64)
    assert st.dtype == np.float64 and S.logsumexp_from_stats(st).dtype == np.float64
    # float32 statistics do not make float64 results (their sums are exact to float32's needs)
    with pytest.raises(ValueError, match="dtype=float32 and dtype=float64"):
        S.merge_stats(S.partial_stats(np.float32([1, 2])), S.partial_stats(np.float64([3])))
    st = S.merge_stats(S.partial_stats(np.float32([1, 2]), dtype=np.float64), S.partial_stats(np.float64([3])))
    assert S.logsumexp_from_stats(st) == S.logsumexp([1.0, 2.0, 3.0])


NAN, INF = np.nan, np.inf
SPECIAL_ROWS = [
    [1.0, NAN, 2.0, 3.0, 4.0, 5.0],          # NaN in one block: the slice is NaN
    [1.0, 2.0, INF, 3.0, INF, 0.0],          # +inf entries share the mass
    [-INF, -INF, -INF, -INF, -INF, -INF],     # all -inf: NaN softmax, -inf logsumexp
    [-INF, -INF, -INF, 1.0, -INF, 2.0],       # -inf blocks
    [INF, -INF, NAN, 1.0, 2.0, 3.0],          # both
    [1e300, -1e300, 5.0, 0.0, 1e-300, 7.0],   # huge differences
]


@pytest.mark.parametrize("T", [1.0, -1.0, 0.0, 1e-310])
def test_special_values_as_the_numpy_path(T):
    x = np.array(SPECIAL_ROWS)
    blocks = [x[:, :2], x[:, 2:3], x[:, 3:3], x[:, 3:]]
    st = merged([S.partial_stats(b, 1, temperature=T) for b in blocks], "tree", np.random.default_rng(0))
    with np.errstate(all="ignore"):
        close(S.logsumexp_from_stats(st), S.logsumexp(x, 1, temperature=T))
        for name in ("softmax", "log_softmax"):
            got = np.concatenate([getattr(S, name + "_from_stats")(b, st) for b in blocks], axis=1)
            close(got, getattr(S, name)(x, 1, temperature=T))


def test_empty():
    st = S.partial_stats(np.empty((3, 0)), 1)
    np.testing.assert_array_equal(st.count, 0)
    same(S.logsumexp_from_stats(st), S.logsumexp(np.empty((3, 0)), 1))
    st = S.merge_stats(st, S.partial_stats(np.zeros((3, 2)), 1))
    same(S.logsumexp_from_stats(st), S.logsumexp(np.zeros((3, 2)), 1))
    assert S.softmax_from_stats(np.empty((3, 0)), st).shape == (3, 0)
    assert S.logsumexp_from_stats(S.partial_stats([])) == -np.inf


def test_layouts_and_out():
    """Fortran-ordered, strided and transposed blocks; out= as in softmax."""
    rng = np.random.default_rng(2)
    x = rng.standard_normal((7, 8, 9))
    for axis in (0, 1, 2, (0, 2), (1, 2)):
        for arr in (x, np.asfortranarray(x), x[:, ::-1, :]):
            cut = axis if isinstance(axis, int) else axis[-1]    # blocks along a reduced axis
            lo, hi = (tuple(slice(None, 4) if i == cut else slice(None) for i in range(3)),
                      tuple(slice(4, None) if i == cut else slice(None) for i in range(3)))
            st = S.merge_stats([S.partial_stats(arr[lo], axis), S.partial_stats(arr[hi], axis)])
            close(S.logsumexp_from_stats(st), S.logsumexp(arr, axis))
    st = S.merge_stats(S.partial_stats(x[:, :, :4], 2), S.partial_stats(x[:, :, 4:], 2))
    out = np.empty((7, 8, 5))
    assert S.softmax_from_stats(x[:, :, 4:], st, out=out) is out
    close(out, S.softmax(x, 2)[:, :, 4:])


def test_record():
    st = S.partial_stats(np.arange(6.0).reshape(2, 3), 1, temperature=2.0)
    assert isinstance(st, S.SoftmaxStats)
    assert st.shape == (2,) and st.axis == (1,) and st.ndim == 2 and st.temperature == 2.0
    assert repr(st) == "SoftmaxStats(shape=(2,), dtype=float64, temperature=2.0, axis=(1,), ndim=2)"
    np.testing.assert_array_equal(st.max, [2.0, 5.0])
    np.testing.assert_array_equal(st.count, [3, 3])
    assert np.allclose(st.sum, np.exp((np.arange(3.0) - 2) / 2).sum())
    with pytest.raises(ValueError, match="read-only"):
        st.max[0] = 1
    with pytest.raises(AttributeError):
        st.temperature = 3.0
    back = pickle.loads(pickle.dumps(st))
    same(S.logsumexp_from_stats(back), S.logsumexp_from_stats(st))
    # T < 0: the winner is the minimum
    np.testing.assert_array_equal(S.partial_stats(np.arange(6.0).reshape(2, 3), 1, temperature=-1).max, [0.0, 3.0])


def test_errors():
    st = S.partial_stats(np.ones((2, 3)), 1)
    with pytest.raises(ValueError, match="temperatures"):
        S.merge_stats(st, S.partial_stats(np.ones((2, 3)), 1, temperature=2.0))
    with pytest.raises(ValueError, match="different slices"):
        S.merge_stats(st, S.partial_stats(np.ones((3, 3)), 1))
    with pytest.raises(ValueError, match="different axes"):
        S.merge_stats(st, S.partial_stats(np.ones((3, 2)), 0))
    with pytest.raises(TypeError, match="SoftmaxStats"):
        S.merge_stats(st, 1.0)
    with pytest.raises(TypeError, match="at least one"):
        S.merge_stats()
    with pytest.raises(TypeError, match="real data"):
        S.partial_stats(np.ones(3, complex))
    with pytest.raises(ValueError, match="slices of shape"):
        S.softmax_from_stats(np.ones((3, 3)), st)
    with pytest.raises(ValueError, match="dimensions"):
        S.softmax_from_stats(np.ones(3), st)
    with pytest.raises(TypeError, match="SoftmaxStats"):
        S.logsumexp_from_stats(np.ones(3))
    with pytest.raises(TypeError, match="keepdims"):
        S.logsumexp_from_stats(st, keepdims=1)
    with pytest.raises(TypeError, match="NumPy data; x is a numpy.MaskedArray"):
        S.partial_stats(np.ma.masked_array([1.0, 2.0]))
    with pytest.raises(np.exceptions.AxisError):
        S.partial_stats(np.ones(3), 1)
    with pytest.raises(ValueError, match="temperature must be finite"):
        S.partial_stats(np.ones(3), temperature=np.inf)


def test_streaming_a_memmap(tmp_path):
    """The docs' example: a .npy larger than one wants in memory, read in chunks of rows
    through np.memmap; logsumexp and softmax along axis 0 from two passes."""
    rng = np.random.default_rng(0)
    data = (rng.standard_normal((1000, 16)) * 20).astype(np.float32)
    path = tmp_path / "big.npy"
    np.save(path, data)
    x = np.load(path, mmap_mode="r")
    step = 128
    stats = S.merge_stats(S.partial_stats(x[i:i + step], axis=0) for i in range(0, len(x), step))
    close(S.logsumexp_from_stats(stats), S.logsumexp(data, axis=0))
    out = np.lib.format.open_memmap(tmp_path / "soft.npy", mode="w+", dtype=x.dtype, shape=x.shape)
    for i in range(0, len(x), step):
        S.softmax_from_stats(x[i:i + step], stats, out=out[i:i + step])
    out.flush()
    close(np.load(tmp_path / "soft.npy"), S.softmax(data, axis=0))

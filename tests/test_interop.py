"""Every kind of input a user passes (softmax._interop): masked arrays, pandas, xarray, dask,
the one dispatch, and optional libraries left unimported. Array-API arrays (torch, JAX,
array-api-strict): test_array_api.py.

Expected values: the NumPy path itself with the equivalent ``where`` (its own accuracy is
tests/test_accuracy.py's business), so each kind is checked to mean exactly that.
"""
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import softmax as sm
import util
from softmax import _interop

ma = np.ma
ELEMENTWISE = ["softmax", "log_softmax", "softmax_jvp", "log_softmax_jvp", "softmax_vjp",
               "log_softmax_vjp"]


def call(name, first, *, second=None, **kw):
    f = getattr(sm, name)
    return f(first, **kw) if name not in util.SECOND else f(first, second, **kw)


def same(got, want):
    """Equal values (NaN where NaN), same shape and dtype."""
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape and got.dtype == want.dtype, (got.shape, want.shape, got.dtype, want.dtype)
    np.testing.assert_array_equal(got, want)


# --------------------------------------------------------------------------- the dispatch

def test_optional_libraries_stay_unimported():
    """Importing softmax and calling it on NumPy input and masked arrays imports no optional
    array library."""
    code = textwrap.dedent("""
        import sys, numpy as np, softmax
        softmax.softmax([1.0, 2.0]); softmax.logsumexp(np.ma.masked_array([1.0, 2.0], mask=[0, 1]))
        softmax.softmax_jvp(np.ones(3), [1.0, 2.0, 3.0], where=np.ones(3, bool))
        class Other:   # an array-like of an unknown library
            def __array__(self, dtype=None, copy=None):
                return np.array([1.0, 2.0])
        softmax.softmax(Other())
        loaded = [m for m in ("torch", "jax", "pandas", "dask", "xarray", "cupy", "array_api_compat",
                              "array_api_strict", "softmax._array_api") if m in sys.modules]
        assert not loaded, loaded
    """)
    subprocess.run([sys.executable, "-c", code], check=True)


def test_kind_of():
    assert _interop.kind_of(np.zeros(2)) is None
    assert _interop.kind_of([1.0]) is None
    assert _interop.kind_of(np.float32(1)) is None
    assert _interop.kind_of(np.memmap) is None or True   # a type object: NumPy's conversion
    assert _interop.kind_of(np.zeros(2).view(np.recarray)) is None
    assert _interop.kind_of(ma.masked_array([1.0])) == "masked"

    class Sub(ma.MaskedArray):
        pass
    assert _interop.kind_of(Sub([1.0])) == "masked"

    class Namespaced:
        def __array_namespace__(self, api_version=None):
            raise NotImplementedError
    assert _interop.kind_of(Namespaced()) == "array_api"


def test_ndarray_subclasses_and_array_likes_take_the_numpy_path(tmp_path):
    x = util.make(np.float64, (3, 4), seed=1)
    mm = np.memmap(tmp_path / "x.bin", dtype=np.float64, mode="w+", shape=x.shape)
    mm[...] = x
    same(sm.softmax(mm, axis=1), sm.softmax(x, axis=1))

    class Other:
        def __array__(self, dtype=None, copy=None):
            return x
    same(sm.log_softmax(Other(), axis=0), sm.log_softmax(x, axis=0))


def test_mixed_kinds_are_refused():
    pd = util.need("pandas")
    x = ma.masked_array([1.0, 2.0], mask=[0, 1])
    with pytest.raises(TypeError, match="x is a numpy.MaskedArray and v a pandas.Series: pass inputs of one"):
        sm.softmax_jvp(x, pd.Series([1.0, 2.0]))


# --------------------------------------------------------------------------- masked arrays

def masked_input(dtype=np.float64, shape=(4, 6), seed=0):
    """A masked array whose masked entries hold values that would change every result (NaN,
    +inf, huge), with one fully masked row."""
    x = util.make(dtype, shape, seed=seed)
    mask = util.random_where(shape, seed=seed) == False   # noqa: E712
    mask[1] = True
    data = x.copy()
    if data.dtype.kind == "f":
        data[mask] = np.where(np.arange(mask.sum()) % 2, np.nan, np.inf)
    return ma.masked_array(data, mask=mask), x, mask


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int16])
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize("axis", [None, 0, 1, (0, 1)])
def test_masked_softmax(name, axis, dtype):
    """The mask acts as where=~mask (the values under it are never read); the result is a
    masked array with the input's mask; a user where is and-ed with it."""
    mx, x, mask = masked_input(dtype)
    got = getattr(sm, name)(mx, axis=axis)
    assert type(got) is ma.MaskedArray
    np.testing.assert_array_equal(ma.getmaskarray(got), mask)
    same(got.data, getattr(sm, name)(x, axis=axis, where=~mask))
    user = util.random_where(x.shape, seed=3)
    got = getattr(sm, name)(mx, axis=axis, where=user, temperature=-0.5)
    same(got.data, getattr(sm, name)(x, axis=axis, where=user & ~mask, temperature=-0.5))
    np.testing.assert_array_equal(ma.getmaskarray(got), mask)


@pytest.mark.parametrize("axis", [None, 0, 1, -1, (0, 1)])
@pytest.mark.parametrize("keepdims", [False, True])
def test_masked_logsumexp(axis, keepdims):
    """A reduction's entry is masked where its whole slice is; a fully reduced result is a
    scalar, or numpy.ma.masked when every entry is masked (as numpy.ma's own reductions)."""
    mx, x, mask = masked_input()
    b = np.random.default_rng(2).uniform(-1, 2, x.shape)
    for kw in ({}, {"b": b}, {"b": b, "return_sign": True}, {"temperature": 0.0}):
        got = sm.logsumexp(mx, axis=axis, keepdims=keepdims, **kw)
        want = sm.logsumexp(x, axis=axis, keepdims=keepdims, where=~mask, **kw)
        rmask = mask.all(axis=util.reduced_axes(axis, 2), keepdims=keepdims)
        for g, w in zip(*((got, want) if kw.get("return_sign") else ((got,), (want,)))):
            if np.ndim(w) == 0:
                assert not isinstance(g, ma.MaskedArray) and type(g) is type(w)
                same(g, w)
            else:
                assert type(g) is ma.MaskedArray
                np.testing.assert_array_equal(ma.getmaskarray(g), rmask)
                same(g.data[~rmask], np.asarray(w)[~rmask])
    assert sm.logsumexp(ma.masked_array([1.0, 2.0], mask=[1, 1])) is ma.masked
    got = sm.logsumexp(ma.masked_array([[1.0, 2.0]], mask=[[1, 1]]), axis=None, return_sign=True)
    assert got[0] is ma.masked and got[1] is ma.masked


def test_masked_b_and_broadcast_b():
    """A masked b leaves its masked entries out too; b may broadcast a (as for arrays)."""
    a = util.make(np.float64, (5,), seed=4)
    b = ma.masked_array(np.ones((2, 5)), mask=[[0, 1, 0, 0, 0], [1, 1, 1, 1, 1]])
    got = sm.logsumexp(a, b=b, axis=1)
    assert type(got) is ma.MaskedArray
    np.testing.assert_array_equal(got.mask, [False, True])
    assert got[0] == sm.logsumexp(a[[0, 2, 3, 4]])


@pytest.mark.parametrize("name", ["softmax_jvp", "log_softmax_jvp"])
def test_masked_jvp(name):
    """The masks of x and v join: an entry masked in either is left out."""
    mx, x, mask = masked_input()
    v = util.make(np.float64, x.shape, seed=7)
    vmask = np.zeros(x.shape, bool)
    vmask[2, :2] = True
    mv = ma.masked_array(v, mask=vmask)
    for first, second, drop in ((mx, v, mask), (x, mv, vmask), (mx, mv, mask | vmask)):
        got = getattr(sm, name)(first, second, axis=1)
        assert type(got) is ma.MaskedArray
        np.testing.assert_array_equal(ma.getmaskarray(got), drop)
        same(got.data, getattr(sm, name)(x, v, axis=1, where=~drop))


@pytest.mark.parametrize("log", [False, True])
def test_masked_vjp(log):
    """A VJP's masked entries are those of a masked forward pass: the result at the others is
    the VJP of the slice without them."""
    mx, x, mask = masked_input()
    y = (sm.log_softmax if log else sm.softmax)(mx, axis=1)
    g = util.make(np.float64, x.shape, seed=8)
    vjp = sm.log_softmax_vjp if log else sm.softmax_vjp
    got = vjp(y, g, axis=1, temperature=2.0)
    assert type(got) is ma.MaskedArray
    np.testing.assert_array_equal(ma.getmaskarray(got), mask)
    for i in range(x.shape[0]):
        keep = ~mask[i]
        if keep.any():
            want = vjp(np.asarray(y.data[i][keep]), g[i][keep], temperature=2.0)
            np.testing.assert_allclose(got.data[i][keep], want, rtol=1e-14, atol=1e-15)


def test_masked_jacobian():
    mx, x, mask = masked_input(shape=(6,))
    got = sm.softmax_jacobian(mx)
    keep = ~mask
    np.testing.assert_array_equal(ma.getmaskarray(got), mask[:, None] | mask[None, :])
    np.testing.assert_allclose(got.data[np.ix_(keep, keep)], sm.softmax_jacobian(x[keep]), rtol=1e-15)
    m2, x2, mask2 = masked_input(shape=(3, 4))
    got = sm.softmax_jacobian(m2, axis=0)
    assert got.shape == (4, 3, 3)
    for j in range(4):
        k = ~mask2[:, j]
        if k.any():
            np.testing.assert_allclose(got.data[j][np.ix_(k, k)], sm.softmax_jacobian(x2[k, j]), rtol=1e-15)


def test_masked_out():
    """out must be a MaskedArray: its data takes the values, its mask is set, and it is
    returned; an ndarray out is refused before anything is written."""
    mx, x, mask = masked_input()
    out = ma.masked_array(np.full(x.shape, 7.0), mask=False)
    got = sm.softmax(mx, axis=1, out=out)
    assert got is out
    np.testing.assert_array_equal(out.mask, mask)
    same(out.data, sm.softmax(x, axis=1, where=~mask))
    plain = np.full(x.shape, 7.0)
    with pytest.raises(TypeError, match="out must be a numpy.ma.MaskedArray for masked input"):
        sm.softmax(mx, axis=1, out=plain)
    assert (plain == 7.0).all()


def test_masked_without_mask_and_special_values():
    """No mask: a masked array with no masked entry; NaN and inf are data, as for arrays."""
    x = np.array([[1.0, np.nan, 2.0], [np.inf, 1.0, np.inf]])
    got = sm.softmax(ma.masked_array(x), axis=1)
    assert type(got) is ma.MaskedArray and not ma.getmaskarray(got).any()
    same(got.data, sm.softmax(x, axis=1))
    assert type(sm.logsumexp(ma.masked_array(x), axis=1)) is ma.MaskedArray


def test_masked_integers_and_the_scipy_example():
    """The issue's example: the masked 3 is not data."""
    got = sm.softmax(ma.masked_array([1, 2, 3], mask=[0, 0, 1]))
    np.testing.assert_allclose(got.data[:2], sm.softmax([1.0, 2.0]), rtol=1e-15)
    assert got.data.dtype == np.float64 and got.mask.tolist() == [False, False, True]


# --------------------------------------------------------------------------- pandas

@pytest.fixture
def pd():
    return util.need("pandas")


def frame(pd, shape=(4, 3), seed=0, dtype=np.float64):
    x = util.make(dtype, shape, seed=seed)
    return pd.DataFrame(x, index=[f"r{i}" for i in range(shape[0])],
                        columns=[f"c{j}" for j in range(shape[1])]), x


@pytest.mark.parametrize("name", ELEMENTWISE)
@pytest.mark.parametrize("axis", [None, 0, 1, -1, (0, 1), "index", "columns"])
def test_pandas_elementwise(pd, name, axis):
    df, x = frame(pd)
    num_axis = {"index": 0, "columns": 1}.get(axis, axis)
    kw = {"axis": axis, "temperature": 0.5}
    first = df
    if name.endswith("vjp"):
        first = pd.DataFrame(sm.softmax(x, axis=num_axis), df.index, df.columns)
    second = None
    if name in util.SECOND:
        v = util.make(np.float64, x.shape, seed=1)
        second = pd.DataFrame(v, index=df.index, columns=df.columns)
    got = call(name, first, second=second, **kw)
    want = call(name, first.to_numpy(), second=None if second is None else second.to_numpy(),
                **dict(kw, axis=num_axis))
    assert type(got) is pd.DataFrame
    assert got.index.equals(df.index) and got.columns.equals(df.columns)
    same(got.to_numpy(), want)
    s = df["c1"]
    got = sm.softmax(s, axis=0 if axis in (0, -1, "index") else None)
    assert type(got) is pd.Series and got.index.equals(s.index) and got.name == "c1"
    same(got.to_numpy(), sm.softmax(s.to_numpy()))


def test_pandas_logsumexp(pd):
    """Along one axis: a Series labelled by the other; along all: a scalar; return_sign: a
    pair of those."""
    df, x = frame(pd)
    for axis, labels in ((0, df.columns), ("index", df.columns), (1, df.index), ("columns", df.index),
                         (-1, df.index)):
        got = sm.logsumexp(df, axis=axis)
        assert type(got) is pd.Series and got.index.equals(labels)
        same(got.to_numpy(), sm.logsumexp(x, axis={"index": 0, "columns": 1}.get(axis, axis)))
    for axis in (None, (0, 1)):
        got = sm.logsumexp(df, axis=axis)
        assert type(got) is np.float64 and got == sm.logsumexp(x)
    b = pd.DataFrame(np.where(x > 0, 1.0, -0.5), index=df.index, columns=df.columns)
    res, sgn = sm.logsumexp(df, axis=1, b=b, return_sign=True)
    want = sm.logsumexp(x, axis=1, b=b.to_numpy(), return_sign=True)
    assert type(res) is pd.Series and type(sgn) is pd.Series and sgn.index.equals(df.index)
    same(res.to_numpy(), want[0])
    same(sgn.to_numpy(), want[1])
    assert sm.logsumexp(df["c0"]) == sm.logsumexp(x[:, 0])


def test_pandas_nan_is_data(pd):
    """NaN poisons its slice, as for arrays (pandas' skipna is not applied)."""
    df, x = frame(pd)
    df.iloc[2, 1] = np.nan
    got = sm.softmax(df, axis=1)
    assert got.iloc[2].isna().all() and not got.drop(index="r2").isna().any().any()
    assert np.isnan(sm.logsumexp(df, axis=1)["r2"])


def test_pandas_dtypes(pd):
    """Mixed NumPy dtypes become one; nullable dtypes without missing values become their
    NumPy dtype; pd.NA, and non-numeric columns, are a TypeError."""
    df = pd.DataFrame({"i": [1, 2, 3], "f": np.array([0.5, 1.0, 2.0], np.float32)})
    same(sm.softmax(df, axis=1).to_numpy(), sm.softmax(df.to_numpy(), axis=1))
    s = pd.Series([1, 5, 2], dtype="Int64")
    got = sm.softmax(s)
    assert got.dtype == np.float64
    same(got.to_numpy(), sm.softmax(np.array([1, 5, 2])))
    same(sm.softmax(pd.Series([0.5, 1.5], dtype="Float64")).to_numpy(), sm.softmax([0.5, 1.5]))
    same(sm.softmax(pd.Series([True, False], dtype="boolean")).to_numpy(), sm.softmax([True, False]))
    for bad in (pd.Series([1, None], dtype="Int64"), pd.Series([1.0, None], dtype="Float64"),
                pd.DataFrame({"a": pd.array([1, None], dtype="Int64"), "b": [1.0, 2.0]})):
        with pytest.raises(TypeError, match=r"holds missing values \(pd.NA\)"):
            sm.softmax(bad)
    with pytest.raises(TypeError, match="must hold numbers|not a number"):
        sm.softmax(pd.DataFrame({"a": [1.0, 2.0], "b": ["x", "y"]}))
    with pytest.raises(TypeError, match="not a number"):
        sm.softmax(pd.Series(["a", "b"], dtype="category"))


def test_pandas_refusals(pd):
    df, x = frame(pd)
    with pytest.raises(TypeError, match="out is not supported for pandas input"):
        sm.softmax(df, out=np.empty(x.shape))
    with pytest.raises(TypeError, match="keepdims=True has no pandas counterpart"):
        sm.logsumexp(df, axis=1, keepdims=True)
    with pytest.raises(ValueError, match="axis='columns' is not an axis of a Series"):
        sm.softmax(df["c0"], axis="columns")
    other = df.rename(index={"r0": "zz"})
    with pytest.raises(ValueError, match="v is a DataFrame whose labels differ from those of x"):
        sm.softmax_jvp(df, other)
    with pytest.raises(ValueError, match="b is a DataFrame whose labels differ"):
        sm.logsumexp(df, b=df.T.T.reindex(columns=df.columns[::-1]))


def test_pandas_second_input_and_where(pd):
    """The labelled input may be the second one; a plain second input is taken by position;
    where may be a frame of bools (same labels)."""
    df, x = frame(pd)
    v = util.make(np.float64, x.shape, seed=5)
    got = sm.softmax_jvp(x, pd.DataFrame(v, index=df.index, columns=df.columns), axis=1)
    assert type(got) is pd.DataFrame and got.index.equals(df.index)
    # (the frame's values may be in another memory order than v: another kernel, rounded apart)
    np.testing.assert_allclose(got.to_numpy(), sm.softmax_jvp(x, v, axis=1), rtol=1e-14, atol=1e-16)
    np.testing.assert_allclose(sm.softmax_jvp(df, v, axis=0).to_numpy(), sm.softmax_jvp(x, v, axis=0),
                               rtol=1e-14, atol=1e-16)
    w = x > 0
    got = sm.softmax(df, axis=1, where=pd.DataFrame(w, index=df.index, columns=df.columns))
    same(got.to_numpy(), sm.softmax(x, axis=1, where=w))


def test_pandas_jacobian(pd):
    s = pd.Series([0.5, 1.0, 3.0], index=list("abc"))
    got = sm.softmax_jacobian(s)
    assert type(got) is pd.DataFrame and list(got.index) == list("abc") and list(got.columns) == list("abc")
    same(got.to_numpy(), sm.softmax_jacobian(s.to_numpy()))
    df, x = frame(pd, shape=(2, 2))
    got = sm.softmax_jacobian(df, axis=None)
    assert got.shape == (4, 4) and list(got.index) == [("r0", "c0"), ("r0", "c1"), ("r1", "c0"), ("r1", "c1")]
    same(got.to_numpy(), sm.softmax_jacobian(x, axis=None))
    with pytest.raises(TypeError, match="3-d"):
        sm.softmax_jacobian(df, axis=1)


# --------------------------------------------------------------------------- xarray

@pytest.fixture
def xr():
    return util.need("xarray")


def data_array(xr, seed=0):
    x = util.make(np.float64, (2, 3, 4), seed=seed)
    da = xr.DataArray(x, dims=("a", "b", "c"), name="q", attrs={"units": "nat"},
                      coords={"a": [10, 20], "c": list("wxyz"), "ab": (("a", "b"), np.ones((2, 3)))})
    return da, x


def test_xarray_elementwise_keeps_everything(xr):
    da, x = data_array(xr)
    for name in ("softmax", "log_softmax", "softmax_jvp"):
        got = call(name, da, second=np.ones(x.shape) if name in util.SECOND else None, axis=2)
        assert type(got) is xr.DataArray and got.dims == da.dims and got.name == "q"
        assert got.attrs == da.attrs and set(got.coords) == set(da.coords)
        same(got.values, call(name, x, second=np.ones(x.shape) if name in util.SECOND else None, axis=2))


def test_xarray_logsumexp_drops_the_reduced_dims(xr):
    da, x = data_array(xr)
    got = sm.logsumexp(da, axis=1)
    assert got.dims == ("a", "c") and set(got.coords) == {"a", "c"} and got.name == "q"
    same(got.values, sm.logsumexp(x, axis=1))
    got = sm.logsumexp(da, axis=(0, 2), keepdims=True)
    assert got.dims == ("a", "b", "c") and got.shape == (1, 3, 1) and set(got.coords) == set()
    res, sgn = sm.logsumexp(da, axis=2, b=-np.ones(4), return_sign=True)
    assert res.dims == sgn.dims == ("a", "b")
    assert float(sm.logsumexp(da)) == sm.logsumexp(x)


def test_xarray_refusals(xr):
    da, x = data_array(xr)
    with pytest.raises(TypeError, match="name them with dim="):
        sm.softmax(da, axis="b")
    with pytest.raises(TypeError, match="out is not supported for a DataArray"):
        sm.softmax(da, out=np.empty(x.shape))
    with pytest.raises(ValueError, match="no alignment is done"):
        sm.softmax_jvp(da, da.transpose("c", "b", "a"))
    with pytest.raises(TypeError, match="of type xarray.Dataset is not supported"):
        sm.softmax(da.to_dataset())


# --------------------------------------------------------------------------- dask

def test_dask_is_never_computed():
    """A dask array (as any input) and a dask-backed DataArray give a lazy result (tests/test_dask.py
    checks the values); nothing is computed by the call."""
    dask_array = util.need("dask.array")
    computed = []

    def block(x):
        computed.append(1)
        return x
    lazy = dask_array.ones((4, 3), chunks=2).map_blocks(block, dtype=np.float64, meta=np.empty((0, 0)))
    for run in (lambda: sm.softmax(lazy, axis=1), lambda: sm.logsumexp(lazy),
                lambda: sm.softmax_jvp(np.ones((4, 3)), lazy), lambda: sm.logsumexp(np.ones((4, 3)), b=lazy),
                lambda: sm.softmax(np.ones((4, 3)), where=lazy > 0)):
        assert isinstance(run(), dask_array.Array)
    with pytest.raises(TypeError, match="softmax_jacobian does not take dask arrays"):
        sm.softmax_jacobian(lazy)
    xr = util.need("xarray")
    got = sm.softmax(xr.DataArray(lazy, dims=("a", "b")), dim="b")
    assert isinstance(got, xr.DataArray) and isinstance(got.data, dask_array.Array)
    assert not computed

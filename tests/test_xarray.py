"""xarray DataArrays with dim= (softmax._interop.xarray_call): the reduced dims by name, the
result's dims, coordinates, name and attrs, reductions dropping the reduced dims, dask-backed
DataArrays staying lazy. Values: the NumPy path on the same data (NumPy-backed), and within
2 ulp of it (dask-backed, chunks spanning the reduced dims: tests/test_dask.py measures those
against the oracle)."""
import numpy as np
import pytest

import oracle
import softmax as sm
import util

xr = util.need("xarray")

DIMS = ("time", "lat", "k")


def data_array(backing="numpy", seed=0, chunks=None):
    x = np.random.default_rng(seed).standard_normal((4, 5, 30)) * 4
    data = x
    if backing == "dask":
        da = util.need("dask.array")
        data = da.from_array(x, chunks=chunks or (2, 5, 7))
    arr = xr.DataArray(data, dims=DIMS, name="logits", attrs={"units": "nat", "source": "test"},
                       coords={"time": np.arange(4), "k": [f"c{i}" for i in range(30)],
                               "grid": (("time", "lat"), np.ones((4, 5)))})
    return arr, x


def near(name, got, want, x, v=None, axis=None):
    """Within 2 ulp of each other, or for the derivatives (whose value may cancel) both within
    2 ulp of the oracle at its scale."""
    if v is None:
        util.assert_ulps_apart(got, want)
        return
    fn = name.rstrip("_")
    if "vjp" in fn:
        exact, scale = getattr(oracle, fn)(x, v, axis), oracle.scale(fn, x, v, axis)
    else:
        ex = oracle.Exact(x, axis)
        exact, scale = getattr(ex, fn)(v), ex.scale(fn, v)
    assert util.max_ulps(got, exact, scale) <= 2 and util.max_ulps(want, exact, scale) <= 2


def same(got, want):
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape and got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("dim, axis", [("k", 2), ("time", 0), (("time", "k"), (0, 2)),
                                       (["lat", "k"], (1, 2)), (("k",), (2,))])
def test_dim_names_the_axes(dim, axis):
    arr, x = data_array()
    v = np.random.default_rng(1).standard_normal(x.shape)
    for name in ("softmax", "log_softmax"):
        got = getattr(sm, name)(arr, dim=dim, temperature=0.7)
        assert type(got) is xr.DataArray and got.dims == DIMS and got.name == "logits"
        assert got.attrs == arr.attrs and set(got.coords) == set(arr.coords)
        same(got.values, getattr(sm, name)(x, axis, temperature=0.7))
        same(getattr(sm, name)(arr, axis, temperature=0.7).values, got.values)   # axis= works too
    for name in ("softmax_jvp", "log_softmax_jvp", "softmax_vjp", "log_softmax_vjp"):
        got = getattr(sm, name)(arr, arr.copy(data=v), dim=dim)
        assert got.dims == DIMS and got.attrs == arr.attrs
        same(got.values, getattr(sm, name)(x, v, axis))
    got = sm.logsumexp(arr, dim=dim)
    kept = tuple(d for d in DIMS if d not in (dim if isinstance(dim, (tuple, list)) else (dim,)))
    assert got.dims == kept and got.attrs == arr.attrs and got.name == "logits"
    # coordinates along a reduced dim (or spanning one) are dropped, the others kept
    assert set(got.coords) == {c for c in arr.coords if not set(arr.coords[c].dims) - set(kept)}
    same(got.values, sm.logsumexp(x, axis))


def test_logsumexp_arguments_with_dim():
    arr, x = data_array()
    b = np.random.default_rng(2).standard_normal(x.shape)
    w = x > -3
    res, sgn = sm.logsumexp(arr, b=arr.copy(data=b), where=w, dim="k", return_sign=True)
    assert res.dims == sgn.dims == ("time", "lat")
    want = sm.logsumexp(x, 2, b=b, where=w, return_sign=True)
    same(res.values, want[0])
    same(sgn.values, want[1])
    got = sm.logsumexp(arr, dim=("lat", "k"), keepdims=True)
    assert got.dims == DIMS and got.shape == (4, 1, 1) and set(got.coords) == {"time"}
    same(got.values, sm.logsumexp(x, (1, 2), keepdims=True))
    got = sm.logsumexp(arr)   # all dims: a 0-d DataArray
    assert got.dims == () and float(got) == sm.logsumexp(x)


def test_dim_refusals():
    arr, x = data_array()
    with pytest.raises(TypeError, match="pass dim= or axis=, not both"):
        sm.softmax(arr, 1, dim="k")
    with pytest.raises(ValueError, match="'depth' is not a dim"):
        sm.logsumexp(arr, dim="depth")
    with pytest.raises(ValueError, match="'depth' is not a dim"):
        sm.softmax(arr, dim=("k", "depth"))
    with pytest.raises(TypeError, match="name them with dim="):
        sm.softmax(arr, axis="k")
    for name in ("softmax", "logsumexp", "softmax_vjp"):
        with pytest.raises(TypeError, match="names dims of an xarray DataArray"):
            f = getattr(sm, name)
            f(x, dim="k") if name not in util.SECOND else f(x, x, dim="k")
    with pytest.raises(TypeError, match="out is not supported for a DataArray"):
        sm.softmax(arr, dim="k", out=np.empty(x.shape))


@pytest.mark.parametrize("chunks", [(2, 5, 30), (2, 3, 7)], ids=["one", "spanning"])
def test_dask_backed_stays_lazy(chunks):
    da = util.need("dask.array")
    dask = util.need("dask")
    arr, x = data_array("dask", chunks=chunks)
    v = np.random.default_rng(3).standard_normal(x.shape)
    lazy_v = arr.copy(data=da.from_array(v, chunks=chunks))
    results = {
        "softmax": (sm.softmax(arr, dim="k"), sm.softmax(x, 2), None, None),
        "log_softmax": (sm.log_softmax(arr, dim=("lat", "k")), sm.log_softmax(x, (1, 2)), None, None),
        "logsumexp": (sm.logsumexp(arr, dim="k"), sm.logsumexp(x, 2), None, None),
        "logsumexp_all": (sm.logsumexp(arr), sm.logsumexp(x), None, None),
        "softmax_jvp": (sm.softmax_jvp(arr, lazy_v, dim="k"), sm.softmax_jvp(x, v, 2), v, 2),
        "log_softmax_vjp": (sm.log_softmax_vjp(arr, v, dim="time"), sm.log_softmax_vjp(x, v, 0), v, 0),
    }
    for name, (got, *_) in results.items():
        assert isinstance(got, xr.DataArray) and isinstance(got.data, da.Array), name
        assert got.attrs == arr.attrs and got.name == "logits"
    with dask.config.set(scheduler="synchronous"):
        for name, (got, want, vv, axis) in results.items():
            computed = got.compute()
            assert isinstance(computed.data, np.ndarray)
            near(name, computed.values, want, x, vv, axis)
    assert results["logsumexp"][0].dims == ("time", "lat")
    assert set(results["logsumexp"][0].coords) == {"time", "grid"}


def test_numpy_backed_with_a_dask_second_is_lazy():
    da = util.need("dask.array")
    arr, x = data_array()
    v = np.random.default_rng(4).standard_normal(x.shape)
    got = sm.softmax_jvp(arr, da.from_array(v, chunks=(2, 5, 10)), dim="k")
    assert isinstance(got, xr.DataArray) and isinstance(got.data, da.Array)
    near("softmax_jvp", got.compute().values, sm.softmax_jvp(x, v, 2), x, v, 2)

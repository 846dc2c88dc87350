"""dask arrays (softmax._dask): every function lazy, a small graph, the NumPy path's results
within 2 ulp of the oracle (tests/oracle.py) whatever the chunks; on the synchronous and
threaded schedulers and on a distributed LocalCluster of two worker processes.

Run with -s to see the max errors in ulps per function, dtype and chunking."""
import os

import numpy as np
import pytest

import oracle
import softmax as S
import util

da = util.need("dask.array")
dask = util.need("dask")

TOL = 2.0
RESULTS = {}


@pytest.fixture(scope="module", autouse=True)
def _report():
    yield
    if RESULTS:
        print("\n\ndask: max error in ulps against the oracle (spanning: the reduced axes cut "
              "into several chunks)")
        for (fn, dt, kind), v in sorted(RESULTS.items()):
            print(f"  {fn:<18}{dt:<9}{kind:<10}{v:8.3f}")


def check(fn, got, exact, scale, kind):
    mx = util.max_ulps(got, exact, scale)
    key = (fn, np.asarray(got).dtype.name, kind)
    RESULTS[key] = max(RESULTS.get(key, 0.0), mx)
    assert mx <= TOL, f"{fn} {kind}: {mx:.3f} ulp"


@pytest.fixture(autouse=True)
def _synchronous():
    with dask.config.set(scheduler="synchronous"):
        yield


def kind_of(chunks):
    return "one" if chunks[-1] == 60 else "spanning"


def lazy(x, chunks):
    return da.from_array(x, chunks=chunks)


# (shape, axis, chunks): the reduced axes within one chunk, or spanning several
CHUNKINGS = [
    ((12, 300), 1, (5, 300), "one"),
    ((12, 300), 1, (5, 70), "spanning"),
    ((12, 300), 1, (12, (1, 1, 298)), "spanning"),
    ((300, 12), 0, (64, 5), "spanning"),
    ((12, 300), None, (5, 70), "spanning"),
    ((6, 40, 9), (0, 2), (4, 40, 5), "spanning"),
    ((6, 40, 9), (0, 1), (6, 40, 2), "one"),
    ((6, 40, 9), 1, (3, 7, 9), "spanning"),
]


def _id(c):
    return f"{c[0]}-ax{c[1]}-{c[3]}".replace(" ", "")


@pytest.mark.parametrize("case", CHUNKINGS, ids=_id)
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("T", [1.0, 0.37, -2.5])
def test_every_function_within_2_ulp(case, dtype, T):
    shape, axis, chunks, kind = case
    rng = np.random.default_rng([len(shape), int(T * 100) % 101, np.dtype(dtype).itemsize])
    x = (rng.standard_normal(shape) * 8).astype(dtype)
    v = rng.standard_normal(shape).astype(dtype)
    dx, dv = lazy(x, chunks), lazy(v, chunks)
    ex = oracle.Exact(x, axis, T)
    for fn in ("softmax", "log_softmax", "logsumexp"):
        got = getattr(S, fn)(dx, axis, temperature=T)
        assert isinstance(got, da.Array) and got.dtype == np.dtype(dtype)
        got = got.compute()
        check(fn, got, getattr(ex, fn)(), ex.scale(fn), kind)
    for fn in ("softmax_jvp", "log_softmax_jvp"):
        got = getattr(S, fn)(dx, dv, axis, temperature=T).compute()
        check(fn, got, getattr(ex, fn)(v), ex.scale(fn, v), kind)
    for fn, y in (("softmax_vjp", ex.softmax().round(dtype)), ("log_softmax_vjp", ex.log_softmax().round(dtype))):
        got = getattr(S, fn)(lazy(y, chunks), dv, axis, temperature=T).compute()
        check(fn, got, getattr(oracle, fn)(y, v, axis, T), oracle.scale(fn, y, v, axis, T), kind)


@pytest.mark.parametrize("chunks", [(4, 300), (4, 45)], ids=["one", "spanning"])
def test_logsumexp_arguments(chunks):
    """b (dask or NumPy, negative, broadcasting a), keepdims, return_sign, temperature 0,
    where, dtype: as the NumPy path."""
    rng = np.random.default_rng(7)
    x = rng.standard_normal((10, 300)) * 5
    b = rng.standard_normal((10, 300))
    b[:, ::5] = 0
    b[2] = 0
    where = rng.random(x.shape) < 0.7
    where[3] = False
    dx, db, dw = lazy(x, chunks), lazy(b, chunks), lazy(where, chunks)
    for T in (1.0, -0.5, 0.0):
        for kw in ({}, {"keepdims": True}, {"return_sign": True}, {"keepdims": True, "return_sign": True}):
            for bb, ww in ((db, None), (b, dw), (None, dw), (db, where), (b[0], None)):
                got = S.logsumexp(dx, 1, b=bb, temperature=T, where=ww, **kw)
                ref = S.logsumexp(x, 1, b=None if bb is None else (b if bb is db else bb), temperature=T,
                                  where=None if ww is None else where, **kw)
                got = dask.compute(*got) if isinstance(got, tuple) else (got.compute(),)
                ref = ref if isinstance(ref, tuple) else (ref,)
                for g, r in zip(got, ref):
                    util.assert_ulps_apart(np.asarray(g), np.asarray(r))
    exact, sign = oracle.logsumexp(x, 1, b=b, return_sign=True)
    res, sgn = dask.compute(*S.logsumexp(dx, 1, b=db, return_sign=True))
    np.testing.assert_array_equal(sgn, sign)
    scale = oracle.DD(np.maximum(np.abs(exact.hi), np.max(np.where(b != 0, np.abs(x), 0), axis=1)))
    check("logsumexp(b)", res, exact, scale, "spanning" if chunks[1] < 300 else "one")
    got = S.logsumexp(dx, None, b=db, dtype=np.float32)
    assert got.dtype == np.float32 and got.shape == ()
    util.assert_ulps_apart(np.asarray(got.compute()), np.asarray(S.logsumexp(x, None, b=b, dtype=np.float32)))
    # b broadcasting a to a larger shape
    got = S.logsumexp(lazy(np.arange(6.0), 2), 1, b=lazy(np.ones((4, 1)), 2))
    util.assert_ulps_apart(got.compute(), S.logsumexp(np.arange(6.0), 1, b=np.ones((4, 1))))


@pytest.mark.parametrize("chunks", [(4, 60), (4, 13)], ids=["one", "spanning"])
def test_where_and_other_dtypes(chunks):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((9, 60)) * 6
    v = rng.standard_normal((9, 60))
    where = rng.random(x.shape) < 0.6
    where[1] = False
    where[2, :30] = False
    xn = np.where(where, x, np.nan)
    for fn in ("softmax", "log_softmax", "softmax_jvp", "log_softmax_jvp"):
        args = (lazy(xn, chunks),) + ((lazy(v, chunks),) if "jvp" in fn else ())
        for w in (where, lazy(where, chunks)):
            got = getattr(S, fn)(*args, 1, where=w, temperature=0.8).compute()
            if "jvp" in fn:   # its value may cancel: measured at the oracle's scale
                ex = oracle.Exact(xn, 1, 0.8, where)
                check(fn + "(where)", got, getattr(ex, fn)(v), ex.scale(fn, v), kind_of(chunks))
            else:
                ref = getattr(S, fn)(xn, 1, where=where, temperature=0.8)
                util.assert_ulps_apart(got, ref)
    for dtype in (np.int8, np.uint8, np.int64, np.bool_, np.float16):
        xi = (rng.integers(0, 100, (9, 60)) + (2 ** 62 if dtype is np.int64 else 0)).astype(dtype) \
            if dtype is not np.float16 else x.astype(np.float16)
        for T in (1.0, -3.0):
            for fn in ("softmax", "log_softmax", "logsumexp"):
                got = getattr(S, fn)(lazy(xi, chunks), 1, temperature=T)
                ref = getattr(S, fn)(xi, 1, temperature=T)
                assert got.dtype == ref.dtype
                util.assert_ulps_apart(got.compute(), ref, n=4 if dtype is not np.float16 else 2)
            got = S.softmax_jvp(lazy(xi, chunks), v, 1, temperature=T).compute()
            ex = oracle.Exact(xi, 1, T)
            check("softmax_jvp", got, ex.softmax_jvp(v), ex.scale("softmax_jvp", v),
                  f"{np.dtype(dtype).name}-{kind_of(chunks)}")
    got = S.softmax(lazy(x, chunks), 1, dtype=np.float32)
    assert got.dtype == np.float32
    util.assert_ulps_apart(got.compute(), S.softmax(x, 1, dtype=np.float32))


def test_complex_within_one_chunk_only():
    x = np.exp(1j * np.arange(12.0)).reshape(3, 4)
    got = S.logsumexp(lazy(x, (1, 4)), 1)
    np.testing.assert_allclose(got.compute(), S.logsumexp(x, 1))
    res, sgn = S.logsumexp(lazy(x, (1, 4)), 1, return_sign=True)
    assert res.dtype == np.float64 and sgn.dtype == np.complex128
    with pytest.raises(TypeError, match="within one chunk"):
        S.softmax(lazy(x, (1, 2)), 1)


NAN, INF = np.nan, np.inf
SPECIAL = np.array([
    [1.0, NAN, 2.0, 3.0, 4.0, 5.0],
    [1.0, 2.0, INF, 3.0, INF, 0.0],
    [-INF, -INF, -INF, -INF, -INF, -INF],
    [-INF, -INF, -INF, 1.0, -INF, 2.0],
    [INF, -INF, NAN, 1.0, 2.0, 3.0],
    [1e300, -1e300, 5.0, 0.0, 1e-300, 7.0],
])


@pytest.mark.parametrize("T", [1.0, -1.0, 0.0])
def test_special_values_as_the_numpy_path(T):
    v = np.arange(36.0).reshape(6, 6) - 10
    with np.errstate(all="ignore"):
        for fn in ("softmax", "log_softmax", "logsumexp", "softmax_jvp", "log_softmax_jvp",
                   "softmax_vjp", "log_softmax_vjp"):
            if T == 0 and "_" in fn.replace("log_softmax", "ls").replace("softmax", "s"):
                continue
            args = (SPECIAL, v) if "jvp" in fn or "vjp" in fn else (SPECIAL,)
            got = getattr(S, fn)(*(lazy(a, (3, 2)) for a in args), 1, temperature=T).compute()
            util.assert_ulps_apart(got, getattr(S, fn)(*args, 1, temperature=T))


def test_nothing_is_computed_until_compute():
    computed = []

    def block(a):
        computed.append(1)
        return a
    x = da.ones((8, 30), chunks=(4, 10)).map_blocks(block, dtype=np.float64, meta=np.empty((0, 0)))
    v = da.ones((8, 30), chunks=(4, 10))
    results = [S.softmax(x, 1), S.log_softmax(x, 0), S.logsumexp(x), S.logsumexp(x, 1, b=v, return_sign=True),
               S.softmax_jvp(x, v, 1), S.log_softmax_jvp(x, v, (0, 1)), S.softmax_vjp(x, v, 1),
               S.log_softmax_vjp(x, v, 0), S.softmax(x, 1, where=x > 0), S.softmax(x.rechunk((4, 30)), 1)]
    assert not computed
    dask.compute(*results)
    assert computed


def test_graph_stays_small():
    """At most 4 tasks per chunk (the tasks the call adds to its inputs' graphs) plus a constant."""
    x = da.random.default_rng(0).standard_normal((40, 400), chunks=(5, 25))   # 8 x 16 chunks
    v = da.random.default_rng(1).standard_normal((40, 400), chunks=(5, 25))
    w = x > -1
    n = x.npartitions
    for axis in (1, 0, None, (0, 1)):
        for res in (S.softmax(x, axis), S.log_softmax(x, axis, where=w), S.logsumexp(x, axis, b=v, return_sign=True),
                    S.softmax_jvp(x, v, axis, where=w), S.softmax_vjp(x, v, axis), S.logsumexp(x, axis, keepdims=True)):
            graphs = res if isinstance(res, tuple) else (res,)
            total = len(dask.base.collections_to_expr(graphs).__dask_graph__()) if hasattr(dask.base, "collections_to_expr") \
                else len(dict(dask.base.merge(*(dict(r.dask) for r in graphs))))
            inputs = len(dict(dask.base.merge(dict(x.dask), dict(v.dask), dict(w.dask))))
            assert total - inputs <= 4 * n + 10, (axis, total - inputs, n)
    # within one chunk: one task per chunk
    y = x.rechunk((5, 400))
    assert len(S.softmax(y, 1).dask) - len(y.dask) == y.npartitions


def test_workers_inside_tasks(monkeypatch):
    """The kernels run on one thread inside a task unless workers= says otherwise."""
    from softmax import _dispatch
    seen = []
    real = _dispatch.resolve_workers

    def spy(workers, n):
        seen.append(workers)
        return real(workers, n)
    monkeypatch.setattr(_dispatch, "resolve_workers", spy)
    x = lazy(np.ones((4, 10)), (2, 5))
    for res, n in ((S.softmax(x, 1), 1), (S.softmax(x.rechunk((2, 10)), 1), 1),
                   (S.logsumexp(x, 1, workers=2), 2)):
        seen.clear()   # (the checks on stand-ins at graph building see the user's workers)
        res.compute()
        assert seen and set(seen) == {n}


def test_refusals():
    x = lazy(np.ones((4, 6)), 2)
    with pytest.raises(TypeError, match="out is not supported with dask arrays"):
        S.softmax(x, out=np.empty((4, 6)))
    with pytest.raises(TypeError, match="out is not supported with dask arrays"):
        S.softmax(np.ones((4, 6)), out=x)
    with pytest.raises(TypeError, match="softmax_jacobian does not take dask arrays"):
        S.softmax_jacobian(x)
    with pytest.raises(ValueError, match="unknown chunk sizes"):
        S.softmax(x[x[:, 0] > 0], 1)
    with pytest.raises(TypeError, match="dask arrays and masked input"):
        S.softmax_jvp(np.ma.masked_array(np.ones((4, 6))), x)
    # the argument checks are those of NumPy input, in the same order, before any graph
    with pytest.raises(np.exceptions.AxisError):
        S.softmax(x, 2)
    with pytest.raises(ValueError, match="temperature must be finite"):
        S.logsumexp(x, temperature=np.nan)
    with pytest.raises(TypeError, match="where must be a boolean array"):
        S.softmax(x, where=x)
    with pytest.raises(ValueError, match="does not broadcast"):
        S.softmax_jvp(x, lazy(np.ones(5), 5))
    with pytest.raises(TypeError, match="dim="):
        S.softmax(x, dim="a")


def test_threaded_scheduler():
    rng = np.random.default_rng(9)
    x = rng.standard_normal((50, 400)) * 4
    dx = lazy(x, (10, 64))
    with dask.config.set(scheduler="threads", num_workers=2):
        got = dask.compute(S.softmax(dx, 1), S.logsumexp(dx, 0), S.log_softmax_jvp(dx, dx, None))
    ex = oracle.Exact(x, 1)
    check("softmax", got[0], ex.softmax(), ex.scale("softmax"), "threads")
    ex0 = oracle.Exact(x, 0)
    check("logsumexp", got[1], ex0.logsumexp(), ex0.scale("logsumexp"), "threads")
    exn = oracle.Exact(x, None)
    check("log_softmax_jvp", got[2], exn.log_softmax_jvp(x), exn.scale("log_softmax_jvp", x), "threads")


# ---------------------------------------------------------------------------- a real cluster
@pytest.fixture(scope="module")
def client():
    """A LocalCluster of two worker processes (one thread each), closed after the module."""
    distributed = util.need("distributed")
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       dashboard_address=None, memory_limit="1GiB")
    c = distributed.Client(cluster)
    try:
        yield c
    finally:
        c.close()
        cluster.close()


def test_local_cluster(client):
    """Two worker processes import this softmax (the in-place build, through the inherited
    PYTHONPATH, or the installed one) and give the results of the synchronous scheduler."""
    import softmax
    where = client.run(lambda: __import__("softmax").__file__)
    assert len(where) == 2 and set(where.values()) == {softmax.__file__}
    pids = set(client.run(os.getpid).values())
    assert len(pids) == 2 and os.getpid() not in pids
    rng = np.random.default_rng(4)
    x = (rng.standard_normal((64, 1000)) * 6).astype(np.float32)
    v = rng.standard_normal(x.shape).astype(np.float32)
    dx, dv = lazy(x, (16, 128)), lazy(v, (16, 128))
    results = {"softmax": S.softmax(dx, 1), "log_softmax": S.log_softmax(dx, 0),
               "logsumexp": S.logsumexp(dx, None), "softmax_jvp": S.softmax_jvp(dx, dv, 1),
               "softmax_vjp": S.softmax_vjp(dx, dv, 0)}
    got = dict(zip(results, client.compute(list(results.values()), sync=True)))
    with dask.config.set(scheduler="synchronous"):
        local = dict(zip(results, dask.compute(*results.values())))
    for name in results:
        np.testing.assert_array_equal(got[name], local[name])
    ex1, ex0, exn = oracle.Exact(x, 1), oracle.Exact(x, 0), oracle.Exact(x, None)
    check("softmax", got["softmax"], ex1.softmax(), ex1.scale("softmax"), "cluster")
    check("log_softmax", got["log_softmax"], ex0.log_softmax(), ex0.scale("log_softmax"), "cluster")
    check("logsumexp", got["logsumexp"], exn.logsumexp(), exn.scale("logsumexp"), "cluster")
    check("softmax_jvp", got["softmax_jvp"], ex1.softmax_jvp(v), ex1.scale("softmax_jvp", v), "cluster")
    check("softmax_vjp", got["softmax_vjp"], oracle.softmax_vjp(x, v, 0), oracle.scale("softmax_vjp", x, v, 0), "cluster")


def test_local_cluster_xarray(client):
    xr = util.need("xarray")
    x = np.random.default_rng(1).standard_normal((6, 80))
    arr = xr.DataArray(lazy(x, (3, 20)), dims=("row", "k"), coords={"row": np.arange(6)},
                       attrs={"units": "nat"})
    got = S.logsumexp(arr, dim="k")
    assert isinstance(got.data, da.Array) and got.dims == ("row",) and got.attrs == {"units": "nat"}
    util.assert_ulps_apart(client.compute(got.data, sync=True), S.logsumexp(x, 1))

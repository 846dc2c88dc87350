"""softmax and log_softmax against the reference over the shared input generator."""

import numpy as np
import pytest

import softmax as sm
import util

FUNCS = ["softmax", "log_softmax"]
ARRAYS = list(util.arrays())
CASES = [pytest.param(x, id=label) for label, x in ARRAYS]
# smaller samples for the where / out / dtype sweeps
NONEMPTY = [pytest.param(x, id=label) for label, x in ARRAYS[::3] if x.ndim and x.size]
SAMPLE = [pytest.param(x, id=label) for label, x in ARRAYS[::4]]


def check(func, got, x, axis=None, temperature=1.0, where=None, dtype=None):
    """Assert `got` is func(x, ...) per the reference, with the policy dtype, shape and return type."""
    xin = x if dtype is None else np.asarray(x).astype(dtype)
    want = util.expected(func, xin, axis=axis, temperature=temperature, where=where)
    rdt = util.result_dtype(np.asarray(xin).dtype)
    msg = f"{func} axis={axis} temperature={temperature} where={where is not None} dtype={dtype}"
    if np.ndim(x) == 0:
        assert isinstance(got, np.generic), f"0-d result should be a numpy scalar, got {type(got)} ({msg})"
    else:
        assert isinstance(got, np.ndarray), msg
    assert got.dtype == rdt, f"dtype {got.dtype} != {rdt} ({msg})"
    util.assert_softmax_close(got, want, xin, temperature, where, log=func == "log_softmax", err_msg=msg)


@pytest.mark.parametrize("func", FUNCS)
@pytest.mark.parametrize("x", CASES)
def test_reference(func, x):
    for axis in util.axes_for(x.ndim):
        for temperature in util.TEMPERATURES:
            got = getattr(sm, func)(x, axis=axis, temperature=temperature)
            check(func, got, x, axis, temperature)


@pytest.mark.parametrize("func", FUNCS)
@pytest.mark.parametrize("x", NONEMPTY)
def test_where(func, x):
    for i, axis in enumerate(util.some_axes(x.ndim)):
        masks = [util.random_where(x.shape, seed=i, axis=axis), np.ones(x.shape, bool),
                 util.random_where(x.shape[-1:], seed=i + 7)]  # the last one broadcasts
        for where in masks:
            for temperature in (1.0, 0.0, -2.0):
                got = getattr(sm, func)(x, axis=axis, temperature=temperature, where=where)
                check(func, got, x, axis, temperature, np.broadcast_to(where, x.shape))


@pytest.mark.parametrize("func", FUNCS)
@pytest.mark.parametrize("layout", ["C", "F", "strided"])
@pytest.mark.parametrize("x", SAMPLE)
def test_out(func, layout, x):
    dt = util.result_dtype(x.dtype)
    for axis, temperature in [(None, 1.0), (-1, 0.1), (0, 0.0)][: 1 if x.ndim == 0 else 3]:
        if layout == "strided":
            out = np.full(tuple(2 * n for n in x.shape), 7, dt)[(slice(None, None, 2),) * x.ndim + (Ellipsis,)]
        else:
            out = np.full(x.shape, 7, dt, order=layout)
        got = getattr(sm, func)(x, axis=axis, temperature=temperature, out=out)
        assert got is out
        want = util.expected(func, x, axis=axis, temperature=temperature)
        util.assert_softmax_close(out, want, x, temperature, log=func == "log_softmax",
                                  err_msg=f"axis={axis} T={temperature}")


@pytest.mark.parametrize("func", FUNCS)
@pytest.mark.parametrize("x", [pytest.param(x, id=label) for label, x in ARRAYS
                               if x.dtype in (np.float32, np.float64) and x.dtype.isnative])
def test_in_place(func, x):
    axis = -1 if x.ndim else None
    want = util.expected(func, x, axis=axis, temperature=0.5)
    y = x.copy(order="K")
    got = getattr(sm, func)(y, axis=axis, temperature=0.5, out=y)
    assert got is y
    util.assert_softmax_close(y, want, x, 0.5, log=func == "log_softmax")


@pytest.mark.parametrize("func", FUNCS)
@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64, np.longdouble])
@pytest.mark.parametrize("x", [p for p in SAMPLE[::3] if p.values[0].dtype.kind != "c"])
def test_dtype_argument(func, dtype, x):
    for axis in util.some_axes(x.ndim):
        got = getattr(sm, func)(x, axis=axis, dtype=dtype)
        check(func, got, x, axis, dtype=dtype)


@pytest.mark.parametrize("func", FUNCS)
def test_zero_d(func):
    for x in (3.0, np.float32(-2.5), np.array(7, np.int8), True):
        got = getattr(sm, func)(x)
        assert isinstance(got, np.generic) and got.ndim == 0
        assert got == (1.0 if func == "softmax" else 0.0)
        assert got.dtype == util.result_dtype(np.asarray(x).dtype)


@pytest.mark.parametrize("func", FUNCS)
@pytest.mark.parametrize("workers", [1, 2, -1, 3])
def test_workers_do_not_change_results(func, workers):
    # large enough (> 2**17 elements) for the kernels to start threads
    for shape, axis in [((200_001,), None), ((600, 301), 0), ((600, 301), 1), ((64, 65, 33), (0, 2))]:
        x = util.make(np.float64, shape, seed=3)
        serial = getattr(sm, func)(x, axis=axis)
        got = getattr(sm, func)(x, axis=axis, workers=workers)
        np.testing.assert_array_equal(got, serial, err_msg=f"workers={workers} axis={axis}")
        util.assert_softmax_close(got, util.expected(func, x, axis=axis), x, log=func == "log_softmax")


@pytest.mark.parametrize("func", FUNCS)
def test_partially_overlapping_out(func):
    base = util.make(np.float64, (20,), seed=5)
    x = base[:15]
    want = util.expected(func, x.copy(), axis=0, temperature=2.0)
    out = base[5:]
    assert getattr(sm, func)(x, axis=0, temperature=2.0, out=out) is out
    util.assert_softmax_close(base[5:], want, x, 2.0, log=func == "log_softmax")


@pytest.mark.parametrize("func", FUNCS)
def test_memmap(func, tmp_path):
    x = util.make(np.float32, (5, 7), seed=9)
    mm = np.memmap(tmp_path / "x.bin", dtype=np.float32, mode="w+", shape=x.shape)
    mm[...] = x
    got = getattr(sm, func)(mm, axis=1)
    util.assert_softmax_close(got, util.expected(func, x, axis=1), x, log=func == "log_softmax")


@pytest.mark.parametrize("func", FUNCS)
def test_array_likes(func):
    x = [[1, 2, 3], [4, 5, 7]]
    got = getattr(sm, func)(x, axis=1)
    assert isinstance(got, np.ndarray) and got.dtype == np.float64
    util.assert_softmax_close(got, util.expected(func, np.array(x), axis=1), np.array(x),
                              log=func == "log_softmax")


def _shortcut_inputs():
    """Arrays at the edge of the small-call shortcut (softmax._core.small_softmax): the ones
    it takes and the ones it must leave to the general path, with the axis and temperature."""
    base = util.make(np.float64, (6, 7), seed=11)
    yield "C f64", base, -1, 1.0
    yield "C f32", base.astype(np.float32), 1, 1
    yield "C all", base, None, 1.0
    yield "1-d", base[0].copy(), 0, 1.0
    yield "F", np.asfortranarray(base), -1, 1.0
    yield "axis 0", base, 0, 1.0
    yield "big-endian", base.astype(">f8"), -1, 1.0
    yield "strided", base[:, ::2], -1, 1.0
    yield "T=1.0 array", base, -1, np.float64(1.0)
    yield "T=True", base, -1, True
    yield "axis -1 as np.int64", base, np.int64(-1), 1.0
    yield "float16", base.astype(np.float16), -1, 1.0
    yield "int", np.arange(12).reshape(3, 4), -1, 1.0
    yield "empty", np.zeros((3, 0)), -1, 1.0
    yield "0-d", np.float64(2.0) * np.ones(()), None, 1.0
    yield "subclass", base.view(type("Sub", (np.ndarray,), {})), -1, 1.0
    yield "T=2.5", base, -1, 2.5
    yield "T=-1.5 axis 0", base, 0, -1.5
    yield "T=0", base, 1, 0.0
    yield "T=3 int", base, -1, 3
    yield "T=2**60 int", base, -1, 2 ** 60
    yield "3-d axis 1", util.make(np.float64, (3, 4, 5), seed=12), 1, 0.75
    yield "3-d axis -3 f32", util.make(np.float32, (3, 4, 5), seed=13), -3, 1.0
    unaligned = np.frombuffer(b"\0" + base.tobytes(), np.float64, count=base.size, offset=1)
    yield "unaligned", unaligned.reshape(base.shape), -1, 1.0


def test_small_call_shortcut_takes_and_leaves():
    """The C-level shortcuts take the common small calls and leave every other one (None) to
    the general path, which checks it: NumPy-scalar or non-finite T, an axis out of range, T = 0
    for a derivative, v of another dtype or shape, an out that partly overlaps x."""
    k, M = sm._dispatch.kernels, sm._dispatch.PARALLEL_MIN_ELEMENTS
    x, v = util.make(np.float64, (6, 7), seed=3), util.make(np.float64, (6, 7), seed=4)
    for axis, t in [(0, 2.5), (1, -1), (None, 0.0), (-2, 1.0)]:
        assert k.small_softmax(x, axis, t, False, M) is not None, (axis, t)
        assert k.small_logsumexp(x, axis, t, M) is not None, (axis, t)
    for axis, t in [(-1, np.float64(2.5)), (-1, float("nan")), (-1, float("inf")), (-1, 2 ** 60),
                    (2, 1.0), (-3, 1.0), (np.int64(0), 1.0), ((0,), 1.0)]:
        assert k.small_softmax(x, axis, t, False, M) is None, (axis, t)
    assert k.small_softmax(x, -1, 1.0, False, M + 1) is not None
    assert k.small_softmax(x, -1, 1.0, False, x.size) is None          # not small
    buf = np.zeros(43)
    assert k.small_softmax(buf[:42].reshape(6, 7), -1, 1.0, False, M, buf[1:].reshape(6, 7)) is None
    assert k.small_softmax(x, -1, 1.0, False, M, x) is x               # in place
    for out in [np.empty((7, 6)), np.empty((6, 7), np.float32), np.empty((6, 7), order="F"),
                np.empty((6, 7)).view(type("Sub", (np.ndarray,), {})), [0.0] * 42]:
        assert k.small_softmax(x, -1, 1.0, False, M, out) is None
    assert k.small_logsumexp(x, 1, 1.0, M, v) is not None
    for bb in (v.astype(np.float32), v[:1], v.tolist(), np.asfortranarray(v)):
        assert k.small_logsumexp(x, 1, 1.0, M, bb) is None
    for vjp in (False, True):
        assert k.small_derivative(x, v, 0, 2, vjp, False, M) is not None
        for vv, t in [(v, 0.0), (v, 0), (v.astype(np.float32), 1.0), (v[:1], 1.0),
                      (v.tolist(), 1.0), (np.asfortranarray(v), 1.0)]:
            assert k.small_derivative(x, vv, -1, t, vjp, True, M) is None
        out = np.empty_like(x)
        assert k.small_derivative(x, v, -1, 1.0, vjp, False, M, out) is out
        xc, vc = x.copy(), v.copy()
        for o in (xc, vc, np.empty((6, 7), np.float32), np.empty((6, 7), order="F")):
            assert k.small_derivative(xc, vc, -1, 1.0, vjp, False, M, o) is None


def test_small_call_weighted_logsumexp():
    """logsumexp(b=...) of small calls (the shortcut's and the general path's) against the
    reference; a slice whose weighted total is negative gives NaN (its sign says so)."""
    x = util.make(np.float64, (6, 7), seed=8)
    b = np.abs(util.make(np.float64, (6, 7), seed=9)) + 0.1
    b[2, :] *= -1                                  # row 2: negative total
    b[3, 0] = 0.0
    for xx, bb, axis, t in [(x, b, 1, 1.0), (x, b, 1, -2), (x.astype(np.float32),
                            b.astype(np.float32), 1, 0.5), (x, b, None, 1.0), (x, b[:1], 1, 1.0)]:
        got = sm.logsumexp(xx, axis=axis, b=bb, temperature=t)
        res, sgn = util.expected("logsumexp", xx, axis=axis, temperature=float(t),
                                 b=np.broadcast_to(bb, xx.shape).astype(util.ref_dtype(xx.dtype)),
                                 return_sign=True)
        want = np.where(sgn < 0, np.nan, res)
        assert np.shape(got) == np.shape(want) and np.asarray(got).dtype == np.result_type(xx, bb)
        if axis == 1 and bb.shape == xx.shape:
            assert np.isnan(got[2]) and not np.isnan(got[[0, 1, 3, 4, 5]]).any()
        util.assert_lse_close(got, want, xx, err_msg=f"{axis} {t}")


@pytest.mark.parametrize("func", ["softmax", "log_softmax"])
def test_small_call_out(func):
    """out= on small calls (the shortcut's and the general path's cases) against the
    reference: a fresh array, x itself, a partly overlapping view, F order; bad outs raise."""
    f = getattr(sm, func)
    x = util.make(np.float64, (6, 7), seed=5)
    want = util.expected(func, x, axis=1, temperature=1.5)

    def check(got, label):
        util.assert_softmax_close(got, want, x, 1.5, log=func == "log_softmax", err_msg=label)

    out = np.empty_like(x)
    assert f(x, axis=1, temperature=1.5, out=out) is out
    check(out, "fresh")
    xi = x.copy()
    assert f(xi, axis=1, temperature=1.5, out=xi) is xi
    check(xi, "in place")
    buf = np.zeros(43)
    xs, o = buf[:42].reshape(6, 7), buf[1:].reshape(6, 7)
    xs[...] = x
    assert f(xs, axis=1, temperature=1.5, out=o) is o
    check(o, "overlap")
    of = np.empty_like(x, order="F")
    assert f(x, axis=1, temperature=1.5, out=of) is of
    check(of, "F")
    with pytest.raises(TypeError, match="out"):
        f(x, axis=1, out=np.empty((6, 7), np.float32))
    with pytest.raises(ValueError, match="out"):
        f(x, axis=1, out=np.empty((7, 6)))
    ro = np.empty_like(x)
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="out"):
        f(x, axis=1, out=ro)


@pytest.mark.parametrize("func", ["softmax_jvp", "log_softmax_jvp", "softmax_vjp",
                                  "log_softmax_vjp"])
def test_small_call_derivatives(func):
    """Small derivative calls (the shortcut's and the general path's cases) against the
    reference: T as a float, an int and negative, any axis, float32, v of another dtype or
    broadcast; T = 0 raises."""
    f = getattr(sm, func)
    x, v = util.make(np.float64, (6, 7), seed=6), util.make(np.float64, (6, 7), seed=7)
    for xx, vv, axis, t, label in [
            (x, v, -1, 1.0, "f64"), (x, v, 0, 2, "int T axis 0"), (x, v, None, -0.5, "all"),
            (x.astype(np.float32), v.astype(np.float32), 1, 1.5, "f32"),
            (x.astype(np.float32), v, 1, 1.0, "f32 x, f64 v"),
            (x, v[:1], 1, 1.0, "broadcast v")]:
        got = f(xx, vv, axis=axis, temperature=t)
        want = util.expected(func, xx, np.broadcast_to(vv, xx.shape), axis=axis,
                             temperature=float(t))
        assert got.dtype == np.result_type(xx, vv) and got.shape == xx.shape, label
        rtol = util.base_rtol(got.dtype) * (1 + util.cond(xx, t))
        util.assert_close(got, want, rtol, rtol * (1 + np.abs(v).max()) / abs(t), label)
    for t in (0, 0.0):
        with pytest.raises(ValueError, match="temperature"):
            f(x, v, temperature=t)
    want = util.expected(func, x, v, axis=1, temperature=2.0)
    rtol = util.base_rtol(x.dtype) * (1 + util.cond(x, 2.0))
    for label, o, xx, vv in [("fresh out", np.empty_like(x), x, v),
                             ("out=x", None, x.copy(), v), ("out=v", None, x, v.copy()),
                             ("F out", np.empty_like(x, order="F"), x, v)]:
        o = {"out=x": xx, "out=v": vv}.get(label, o)
        assert f(xx, vv, axis=1, temperature=2.0, out=o) is o
        util.assert_close(o, want, rtol, rtol * (1 + np.abs(v).max()) / 2.0, label)


@pytest.mark.parametrize("func", ["softmax", "log_softmax"])
def test_small_call_shortcut(func):
    """Every kind of input near the small-call shortcut gives the reference's value and dtype,
    whichever path takes it."""
    for label, x, axis, t in _shortcut_inputs():
        if label == "T=True":
            with pytest.raises(TypeError, match="temperature"):
                getattr(sm, func)(x, axis=axis, temperature=t)
            continue
        got = getattr(sm, func)(x, axis=axis, temperature=t)
        want = util.expected(func, x, axis=axis, temperature=float(t))
        assert np.asarray(got).dtype == util.result_dtype(np.asarray(x).dtype), label
        util.assert_softmax_close(got, want, x, float(t), log=func == "log_softmax", err_msg=label)


def test_small_call_shortcut_logsumexp():
    """logsumexp's small-call shortcut: the same inputs, plus empty slices and a 1-d row (a NumPy
    scalar), against the reference, with the result's type and shape."""
    for label, x, axis, t in _shortcut_inputs():
        if label == "T=True":
            with pytest.raises(TypeError, match="temperature"):
                sm.logsumexp(x, axis=axis, temperature=t)
            continue
        got = sm.logsumexp(x, axis=axis, temperature=t)
        want = util.expected("logsumexp", x, axis=axis, temperature=float(t))
        assert np.shape(got) == np.shape(want), label
        assert np.asarray(got).dtype == util.result_dtype(np.asarray(x).dtype), label
        util.assert_lse_close(got, want, x, err_msg=label)
    assert isinstance(sm.logsumexp(np.arange(5.0)), np.float64)
    assert isinstance(sm.logsumexp(np.arange(6.0).reshape(2, 3), axis=None), np.float64)
    np.testing.assert_array_equal(sm.logsumexp(np.zeros((3, 0)), axis=-1), [-np.inf] * 3)
    assert sm.logsumexp(np.zeros((0, 3)), axis=-1).shape == (0,)
    assert sm.logsumexp(np.zeros(0)) == -np.inf

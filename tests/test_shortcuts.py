"""The small-call shortcuts: the C-level entry points of the kernel module (small_softmax,
small_logsumexp, small_derivative) that answer common small calls before softmax._api parses
them. The general path checks and computes every call; a call the shortcuts take must come out
the same to the bit, and a call they leave must raise the same error. The property test
below draws calls near the shortcuts' edge and makes each twice, with the shortcuts on and
off (``_api._SHORTCUT_BELOW = 0``)."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import softmax as sm
from softmax import _api
import util

SHORTCUT_FUNCS = util.FUNCS


# ---------------------------------------------------------------- one call, made twice

def draw_call(d):
    """(name, args, kwargs) of a call near the shortcuts' edge: mostly what they take (small
    C-contiguous float64/float32 arrays, an int or None axis, a float or int temperature), each
    argument now and then something else (other dtypes, layouts and shapes, NumPy scalars,
    out of range, a list, a bad value)."""
    def odd():
        return d.chance(6)
    name = d.choice(SHORTCUT_FUNCS)
    shape = tuple(d.choice([0, 1, 2, 3, 5, 7]) for _ in range(d.choice([0, 1, 1, 2, 2, 2, 3])))
    dtype = d.choice([np.float16, np.int64, np.dtype(">f8"), np.longdouble]) if odd() \
        else d.choice([np.float64, np.float32])
    x = util.layout(util.draw_values(d, dtype, shape), d.choice(util.LAYOUTS) if odd() else "C")
    args = [x]
    if name in util.SECOND:
        v = util.draw_values(d, d.choice([np.float32, np.float64]) if odd() else dtype,
                             shape[-1:] if odd() else shape)
        args.append(d.choice([v.tolist() if v.ndim else 1.0, util.layout(v, "F"), v[()]]) if odd() else v)
    kw = {}
    if d.chance(2):
        kw["axis"] = d.choice([np.int64(0), (0,), True, 2 ** 70, 1.5, (), 2, -3]) if odd() \
            else d.choice([None, 0, -1, 1, -2])
    if d.chance(2):
        kw["temperature"] = d.choice([2 ** 53, 2 ** 60, float("nan"), float("inf"), np.float64(2.0),
                                      True, "1", np.array(0.5), 1e-310]) if odd() \
            else d.choice([1.0, 2.5, -1.5, 0.0, -0.0, 0, 3, -2])
    if name == "logsumexp":
        if d.chance(2):
            b = util.draw_values(d, np.float64 if odd() else dtype, shape)
            kw["b"] = d.choice([b.tolist() if b.ndim else 1.0, util.layout(b, "F"), 2.0]) if odd() else b
        for flag in ("keepdims", "return_sign"):
            if odd():
                kw[flag] = d.choice([False, True, 0, np.False_])
    if "out" in util.TAKES[name] and d.chance(3):
        rdt = util.result_dtype(np.result_type(*[np.asarray(a) for a in args]))
        fresh = np.full(shape, 7.0, rdt)
        out = d.choice([x, np.full(shape, 7.0, np.float32), np.full(shape[::-1], 7.0, rdt),
                        util.layout(fresh, "F"), util.layout(fresh, "readonly"), [7.0], "shifted"]) \
            if odd() else fresh
        if isinstance(out, str):   # x and out: one buffer, shifted by one element
            buf = np.zeros(x.size + 1, rdt)
            buf[:-1] = np.asarray(x, rdt).ravel()
            args[0], out = buf[:-1].reshape(shape), buf[1:].reshape(shape)
        kw["out"] = out
    if d.chance(3):
        kw["workers"] = d.choice([2, 0, -1, True, 1.5, np.int64(1)]) if odd() else d.choice([None, 1])
    if "where" in util.TAKES[name] and d.chance(3):
        mask = util.draw_values(d, np.bool_, shape)
        if mask.ndim and mask.size and d.chance(2):   # the first entry of every last-axis slice out
            mask[(slice(None),) * (mask.ndim - 1) + (0,)] = False
        if odd():   # what the shortcuts leave: a broadcast mask, another layout, a list
            mask = d.choice([np.ones(shape[-1:], bool), util.layout(mask, "F"), mask.tolist()])
        kw["where"] = mask
    if "dtype" in util.TAKES[name] and odd():
        kw["dtype"] = np.float64
    return name, args, kw


def outcome(name, args, kw, shortcuts):
    """What a call gives: ('raised', type, message) or ('returned', values...), the bytes of its
    result(s), of `out` and of x after the call (out may be x)."""
    saved = _api._SHORTCUT_BELOW
    _api._SHORTCUT_BELOW = saved if shortcuts else 0
    try:
        with np.errstate(all="ignore"):
            res = getattr(sm, name)(*args, **kw)
    except Exception as e:  # noqa: BLE001 -- compared below
        return ("raised", type(e), str(e))
    finally:
        _api._SHORTCUT_BELOW = saved
    out = kw.get("out")
    parts = res if isinstance(res, tuple) else (res,)
    return ("returned", isinstance(res, tuple), res is out if isinstance(out, np.ndarray) else None,
            [(type(p), np.asarray(p).dtype, np.shape(p), _bits(p)) for p in parts],
            _bits(args[0]), _bits(out) if isinstance(out, np.ndarray) else None)


def _bits(a):
    """The bytes of a's values: for long double (whose storage has padding bytes nothing
    writes) those of its exact double-double split."""
    a = np.asarray(a)
    if a.dtype.kind == "c" and a.dtype.itemsize > 16:
        return _bits(a.real) + _bits(a.imag)
    if a.dtype.kind == "f" and a.dtype.itemsize > 8:
        with np.errstate(all="ignore"):
            hi = a.astype(np.float64)
            return hi.tobytes() + np.where(np.isfinite(hi), a - hi, 0).astype(np.float64).tobytes()
    return a.tobytes()


def assert_same_both_ways(draw):
    """Make the call drawn by draw(d) twice, from the same draws: with the shortcuts and without."""
    log = []
    first = draw_call(util.ByChoice(lambda lo, hi: log.append(draw(lo, hi)) or log[-1]))
    replay = iter(log)
    second = draw_call(util.ByChoice(lambda lo, hi: next(replay)))
    with_shortcuts = outcome(*first, shortcuts=True)
    without = outcome(*second, shortcuts=False)
    assert with_shortcuts == without, f"{first[0]}(*{first[1]!r}, **{first[2]!r})"


@settings(max_examples=400, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
@given(st.data())
def test_shortcut_and_general_path_agree(data):
    assert_same_both_ways(lambda lo, hi: data.draw(st.integers(lo, hi)))


def test_the_switch_reaches_the_shortcuts(monkeypatch):
    """_SHORTCUT_BELOW = 0: the kernel module's shortcuts answer no call."""
    answered = []
    k = sm._dispatch.kernels
    for f in ("small_softmax", "small_logsumexp", "small_derivative", "small_jacobian"):
        monkeypatch.setattr(k, f, lambda *a, real=getattr(k, f): answered.append(real(*a)) or answered[-1])
    x = np.linspace(-1, 1, 10)
    w = x > -0.5
    for below in (_api._SHORTCUT_BELOW, 0):
        monkeypatch.setattr(_api, "_SHORTCUT_BELOW", below)
        answered.clear()
        sm.softmax(x), sm.log_softmax(x), sm.logsumexp(x), sm.softmax_jvp(x, x), sm.softmax_vjp(x, x)
        sm.softmax(x, where=w), sm.logsumexp(x, where=w), sm.softmax_jvp(x, x, where=w)
        sm.softmax_jacobian(x)
        assert sum(r is not None for r in answered) == (9 if below else 0)


# ---------------------------------------------------------------- the edge, case by case

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


@pytest.mark.parametrize("func", ["softmax", "log_softmax", "logsumexp"])
def test_edge_cases_agree_and_are_right(func):
    """Every input at the shortcut's edge: the same both ways, and the oracle's value."""
    for label, x, axis, t in _shortcut_inputs():
        args, kw = [x], dict(axis=axis, temperature=t)
        assert outcome(func, args, kw, True) == outcome(func, args, kw, False), label
        if label == "T=True":
            with pytest.raises(TypeError, match="temperature"):
                getattr(sm, func)(x, axis=axis, temperature=t)
            continue
        got = getattr(sm, func)(x, axis=axis, temperature=t)
        want = util.expected(func, x, axis=axis, temperature=float(t))
        assert np.shape(got) == np.shape(want), label
        assert np.asarray(got).dtype == util.result_dtype(np.asarray(x).dtype), label
        if func == "logsumexp":
            util.assert_lse_close(got, want, x, err_msg=label)
        else:
            util.assert_softmax_close(got, want, x, float(t), log=func == "log_softmax", err_msg=label)
    assert isinstance(sm.logsumexp(np.arange(5.0)), np.float64)
    np.testing.assert_array_equal(sm.logsumexp(np.zeros((3, 0)), axis=-1), [-np.inf] * 3)
    assert sm.logsumexp(np.zeros((0, 3)), axis=-1).shape == (0,)


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


def test_small_call_masks_and_jacobian_take_and_leave():
    """where= (a boolean C-contiguous mask of x's shape) and softmax_jacobian (slices along
    the last axis in memory) are shortcut calls too, with the general path's bits; any other
    mask, an out on the mask's memory, a mask with b= or with a VJP, a Jacobian along an
    axis with later dimensions, or T = 0 for it, are left to the general path."""
    k, M = sm._dispatch.kernels, sm._dispatch.PARALLEL_MIN_ELEMENTS
    x, v = util.make(np.float64, (6, 7), seed=3), util.make(np.float64, (6, 7), seed=4)
    w = util.make(np.float64, (6, 7), seed=5) > 0
    w[2] = False                                   # a fully masked row
    for f32 in (False, True):
        xx, vv = (x.astype(np.float32), v.astype(np.float32)) if f32 else (x, v)
        for axis, t in [(1, 1.0), (0, -2.5), (None, 0.0), (-1, 3)]:
            for log in (False, True):
                got = k.small_softmax(xx, axis, t, log, M, None, w)
                assert got is not None, (axis, t)
                _api._SHORTCUT_BELOW, saved = 0, _api._SHORTCUT_BELOW
                try:
                    want = (sm.log_softmax if log else sm.softmax)(xx, axis=axis, temperature=t, where=w)
                    want_lse = sm.logsumexp(xx, axis=axis, temperature=t, where=w)
                    want_jvp = sm.softmax_jvp(xx, vv, axis=axis, temperature=t or 1.0, where=w)
                finally:
                    _api._SHORTCUT_BELOW = saved
                assert got.tobytes() == want.tobytes(), (axis, t, log)
            assert np.asarray(k.small_logsumexp(xx, axis, t, M, None, w)).tobytes() == np.asarray(want_lse).tobytes()
            got = k.small_derivative(xx, vv, axis, t or 1.0, False, False, M, None, w)
            assert got.tobytes() == want_jvp.tobytes(), (axis, t)
    assert k.small_softmax(x, 1, 1.0, False, M, None, np.ones(7, bool)) is None      # broadcast
    assert k.small_softmax(x, 1, 1.0, False, M, None, np.asfortranarray(w)) is None
    assert k.small_softmax(x, 1, 1.0, False, M, None, w.astype(np.uint8)) is None
    assert k.small_softmax(x, 1, 1.0, False, M, None, w.tolist()) is None
    assert k.small_logsumexp(x, 1, 1.0, M, v, w) is None                                # b and a mask
    assert k.small_derivative(x, v, 1, 1.0, True, False, M, None, w) is None            # a VJP's mask
    buf = np.zeros(6 * 7 * 9, np.uint8)
    out, mask = buf[:6 * 7 * 8].view(np.float64).reshape(6, 7), buf[-42:].view(bool).reshape(6, 7)
    assert k.small_softmax(x, 1, 1.0, False, M, out, mask) is not None                  # apart
    mask = buf[:42].view(bool).reshape(6, 7)
    assert k.small_softmax(x, 1, 1.0, False, M, out, mask) is None                      # on out
    xi = x.copy()
    assert k.small_softmax(xi, 1, 1.0, False, M, xi, w) is xi                           # in place
    for xx, axis in [(x, -1), (x, 1), (x, None), (x[0].copy(), 0), (x.reshape(6, 7, 1), 1)]:
        got = k.small_jacobian(xx, axis, 1.5, M)
        assert got is not None, axis
        _api._SHORTCUT_BELOW, saved = 0, _api._SHORTCUT_BELOW
        try:
            want = sm.softmax_jacobian(xx, axis=axis, temperature=1.5)
        finally:
            _api._SHORTCUT_BELOW = saved
        assert got.shape == want.shape and got.tobytes() == want.tobytes(), axis
    for xx, axis, t in [(x, 0, 1.0), (x, 1, 0.0), (x, 1, 0), (x, (1,), 1.0), (np.zeros((3, 0)), 1, 1.0),
                        (x.reshape(6, 7, 1), 0, 1.0)]:
        assert k.small_jacobian(xx, axis, t, M) is None, (axis, t)


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
                                 b=np.broadcast_to(bb, xx.shape).astype(xx.dtype), return_sign=True)
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


def test_front_doors_take_their_functions_parameters():
    """Each public function is its C-level front door (softmax._core), which takes exactly the
    parameters of the Python function behind it (names, kinds, defaults) and carries its name
    and docstring."""
    import inspect
    for name in ("softmax", "log_softmax", "logsumexp", "softmax_jvp", "log_softmax_jvp",
                 "softmax_vjp", "log_softmax_vjp", "softmax_jacobian"):
        front = getattr(sm, name)
        behind = front.__wrapped__
        assert inspect.isfunction(behind) and not inspect.isfunction(front), name
        assert (inspect.signature(front, follow_wrapped=False)
                == inspect.signature(behind)), name
        assert front.__name__ == behind.__name__ == name and front.__doc__ == behind.__doc__
        assert front.__module__ == "softmax._api" and getattr(_api, name) is front
        with pytest.raises(TypeError, match=rf"(^|[^_]){name}\(\)"):   # a message naming it
            front(np.zeros(3), np.zeros(3), np.zeros(3), np.zeros(3), np.zeros(3), np.zeros(3))
        with pytest.raises(TypeError, match=rf"(^|[^_]){name}\(\)"):
            front(np.zeros(3), temprature=2.0)

"""Robustness: no input crashes it, every bad argument is a clean error, nothing leaks.

Every test in this module runs with a spy between softmax._api and the kernel
module (`kernel_spy`), which checks every call of its entry points: each array
the kernels receive must be aligned, contiguous, native float32/float64, of the
(outer, K, inner) size announced, writeable where written, and never partially
overlapping another argument -- the kernels assume all of that and check none
of it; and a call the small-call shortcuts (small_softmax, small_logsumexp,
small_derivative, small_jacobian) answer must be one of the kind they may take.

Valid calls are checked by the oracle of test_fuzz.py (`run_case`): the result
matches tests/oracle.py, has the policy's dtype and shape, and no input (x, v,
y, g, b, where) is written.
"""

import gc
import mmap
import os
import sys

import numpy as np
import pytest
from numpy.exceptions import AxisError

import softmax as sm
from softmax import _dispatch, _layout
import test_fuzz as tf
import util

FUNCS = util.FUNCS
TWO_INPUTS = set(util.SECOND)
NUMPY2 = np.lib.NumpyVersion(np.__version__) >= "2.0.0"


# ---------------------------------------------------------------- the kernel spy

def _check_kernel_arrays(name, arrays, outer, K, inner, written, may_alias):
    """The contract of the kernel entry points (see _core.pyx: "Python entry points")."""
    dt = arrays[0].dtype
    assert dt in (np.float32, np.float64) and dt.isnative, f"{name}: kernel got dtype {dt}"
    for i, a in enumerate(arrays):
        assert isinstance(a, np.ndarray), f"{name}: argument {i} is {type(a)}"
        assert a.dtype == dt, f"{name}: argument {i} has dtype {a.dtype}, argument 0 {dt}"
        assert a.flags.aligned, f"{name}: argument {i} is misaligned ({a.ctypes.data:#x})"
        assert a.flags.c_contiguous or a.flags.f_contiguous, f"{name}: argument {i} not contiguous"
    for i in written:
        assert arrays[i].flags.writeable, f"{name}: writes to read-only argument {i}"
    for i in written:
        for j, a in enumerate(arrays):
            if j == i or (i, j) in may_alias and arrays[i].ctypes.data == a.ctypes.data:
                continue
            assert not np.may_share_memory(arrays[i], a), f"{name}: output {i} overlaps argument {j}"


class KernelSpy:
    """Stands in for the kernel module: checks every call's arrays, then forwards it."""

    def __init__(self, real):
        self.real = real
        self.calls = 0

    def __getattr__(self, attr):
        return getattr(self.real, attr)

    def softmax(self, x, out, outer, K, inner, t, log, nthreads):
        self._check("softmax", [x, out], outer, K, inner, [1], {(1, 0)})
        assert x.size == out.size == outer * K * inner
        return self.real.softmax(x, out, outer, K, inner, t, log, nthreads)

    def logsumexp(self, x, out, outer, K, inner, t, nthreads):
        self._check("logsumexp", [x, out], outer, K, inner, [1], set())
        assert x.size == outer * K * inner and out.size == outer * inner
        return self.real.logsumexp(x, out, outer, K, inner, t, nthreads)

    def logsumexp_b(self, x, b, out, sign, outer, K, inner, t, nthreads):
        self._check("logsumexp_b", [x, b, out, sign], outer, K, inner, [2, 3], set())
        assert x.size == b.size == outer * K * inner and out.size == sign.size == outer * inner
        return self.real.logsumexp_b(x, b, out, sign, outer, K, inner, t, nthreads)

    def jvp(self, x, v, out, outer, K, inner, t, log, nthreads):
        self._check("jvp", [x, v, out], outer, K, inner, [2], {(2, 0)})
        assert x.size == v.size == out.size == outer * K * inner
        return self.real.jvp(x, v, out, outer, K, inner, t, log, nthreads)

    def vjp(self, y, g, out, outer, K, inner, t, log, nthreads):
        self._check("vjp", [y, g, out], outer, K, inner, [2], set())
        assert y.size == g.size == out.size == outer * K * inner
        return self.real.vjp(y, g, out, outer, K, inner, t, log, nthreads)

    def _check(self, name, arrays, outer, K, inner, written, may_alias):
        self.calls += 1
        assert min(outer, K, inner) >= 1, f"{name}: empty plan {(outer, K, inner)} reached a kernel"
        _check_kernel_arrays(name, arrays, outer, K, inner, written, may_alias)

    def jacobian(self, s, jac, outer, K, t):
        self.calls += 1
        _check_kernel_arrays("jacobian", [s, jac], outer, K, 1, [1], set())
        assert s.flags.c_contiguous and jac.flags.c_contiguous and t != 0
        assert s.size == outer * K >= 1 and jac.size == outer * K * K
        return self.real.jacobian(s, jac, outer, K, t)

    # The small-call shortcuts take any objects and answer None for a call they do not take;
    # a call they answer must be of their kind (see _core_small.pxi: _small_view, _small_temp,
    # _mask_ok).
    def small_softmax(self, x, axis, t, log, max_size, out=None, where=None, dtype=None,
                      workers=None, dim=None):
        res = self.real.small_softmax(x, axis, t, log, max_size, out, where, dtype, workers, dim)
        if res is not None:
            self._check_opts("small_softmax", dtype, workers, dim)
            self._check_small("small_softmax", x, axis, t, max_size, [out], res, x.shape, where)
            assert out is None or res is out
        return res

    def small_logsumexp(self, x, axis, t, max_size, b=None, where=None):
        res = self.real.small_logsumexp(x, axis, t, max_size, b, where)
        if res is not None:
            shape = () if axis is None else x.shape[:axis % x.ndim] + x.shape[axis % x.ndim + 1:]
            self._check_small("small_logsumexp", x, axis, t, max_size, [b], res, shape, where)
            assert (x.size == 0 or x.shape[axis % x.ndim if axis is not None else 0]) and np.ndim(res) == len(shape)
            assert b is None or where is None
        return res

    def small_derivative(self, x, v, axis, t, vjp, log, max_size, out=None, where=None,
                         workers=None, dim=None):
        res = self.real.small_derivative(x, v, axis, t, vjp, log, max_size, out, where, workers,
                                         dim)
        if res is not None:
            self._check_opts("small_derivative", None, workers, dim)
            self._check_small("small_derivative", x, axis, t, max_size, [v, out], res, x.shape, where)
            assert t != 0 and (out is None or res is out)
            assert where is None or not vjp
            if where is None:   # (with a mask the kernel reads copies of x and v)
                assert out is None or not (np.may_share_memory(out, x) or np.may_share_memory(out, v))
        return res

    def small_jacobian(self, x, axis, t, max_size):
        res = self.real.small_jacobian(x, axis, t, max_size)
        if res is not None:
            ax = x.ndim - 1 if axis is None else axis % x.ndim
            K = x.size if axis is None else x.shape[ax]
            batch = () if axis is None else x.shape[:ax] + x.shape[ax + 1:]
            self._check_small("small_jacobian", x, axis, t, max_size, [], res, batch + (K, K), None)
            assert t != 0 and x.size >= 1 and (axis is None or x.shape[ax + 1:].count(1) == x.ndim - ax - 1)
        return res

    def _check_opts(self, name, dtype, workers, dim):
        assert dtype is None and dim is None, f"{name}: dtype={dtype!r}, dim={dim!r}"
        assert workers is None or (type(workers) is int and workers > 0), f"{name}: workers={workers!r}"

    def _check_small(self, name, x, axis, t, max_size, others, res, shape, where):
        self.calls += 1
        assert type(x) is np.ndarray and x.dtype in (np.float32, np.float64) and x.dtype.isnative, name
        assert x.flags.aligned and x.flags.c_contiguous and 1 <= x.ndim and x.size < max_size, name
        assert axis is None or (type(axis) is int and -x.ndim <= axis < x.ndim), f"{name}: axis={axis!r}"
        assert type(t) in (float, int) and np.isfinite(t), f"{name}: temperature={t!r}"
        for o in others:
            assert o is None or (type(o) is np.ndarray and o.dtype == x.dtype and o.shape == x.shape
                                 and o.flags.c_contiguous and o.flags.aligned), f"{name}: {o!r}"
        assert where is None or (type(where) is np.ndarray and where.dtype == np.bool_
                                 and where.shape == x.shape and where.flags.c_contiguous), f"{name}: where"
        if where is not None and others and others[-1] is not None:
            assert not np.may_share_memory(others[-1], where), f"{name}: out overlaps where"
        r = np.asarray(res)
        assert r.dtype == x.dtype and r.shape == tuple(shape), f"{name}: result {r.dtype} {r.shape}"


@pytest.fixture(autouse=True)
def kernel_spy(monkeypatch):
    spy = KernelSpy(_dispatch.kernels)
    monkeypatch.setattr(_dispatch, "kernels", spy)
    return spy


def test_the_spy_sees_every_entry_point(kernel_spy):
    """Small calls (the shortcuts) and large ones (the kernels) both go through the spy."""
    x = np.linspace(-1, 1, 12).reshape(3, 4)
    for call in (lambda: sm.softmax(x, axis=1), lambda: sm.logsumexp(x, axis=1),
                 lambda: sm.softmax_vjp(x, x, axis=1), lambda: sm.softmax(x, axis=(0, 1)),
                 lambda: sm.logsumexp(x, axis=0, b=x), lambda: sm.softmax_jvp(x, x, axis=(0, 1))):
        before = kernel_spy.calls
        call()
        assert kernel_spy.calls == before + 1


# ---------------------------------------------------------------- helpers

def check(name, x, second=None, *, out=None, **kw):
    """Run public function `name` through the fuzz oracle (valid call; result vs reference)."""
    case = tf.Case(name)
    case.x = x
    case.args = [x] if second is None else [x, second]
    case.second = None if second is None else np.array(second, copy=True)
    case.where = kw.get("where")
    case.b = kw.get("b")
    kw.setdefault("axis", -1 if name == "softmax_jacobian" else None)
    kw.setdefault("temperature", 1.0)
    case.kw = dict(kw)
    if out is not None:
        case.out = case.kw["out"] = out
    case.x_copy = np.array(x, copy=True)
    assert tf.run_case(case) == "ok"
    return case


def second_for(name, x, rng=None):
    """A valid second argument (v, g) for `name` of x's shape, or None."""
    if name not in TWO_INPUTS:
        return None
    rng = rng or np.random.default_rng(1)
    return rng.uniform(-2, 2, np.shape(x))


def y_for(name, x, axis=None):
    """The first argument: x itself, or a softmax/log_softmax output for the VJPs."""
    if name == "softmax_vjp":
        return np.asarray(sm.softmax(x, axis=axis))
    if name == "log_softmax_vjp":
        return np.asarray(sm.log_softmax(x, axis=axis))
    return x


def unaligned(a):
    """A misaligned, C-contiguous, writeable copy of `a` (frombuffer at offset 1)."""
    u = util.layout(np.ascontiguousarray(a), "unaligned")
    assert not u.flags.aligned or a.dtype.alignment == 1
    return u


# ================================================================ 1. unaligned buffers (regression)

@pytest.mark.parametrize("name", FUNCS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape,axis", [((37,), None), ((5, 7), 1), ((5, 7), 0), ((3, 4, 5), (0, 2))])
def test_unaligned_inputs(name, dtype, shape, axis, kernel_spy):
    if name == "softmax_jacobian" and isinstance(axis, tuple):
        axis = 1
    rng = np.random.default_rng(0)
    x = y_for(name, rng.standard_normal(shape).astype(dtype), axis)
    v = second_for(name, x, rng)
    v = None if v is None else v.astype(dtype)
    xu = unaligned(x)
    vu = None if v is None else unaligned(v)
    assert not xu.flags.aligned
    check(name, xu, vu, axis=axis)
    want = getattr(sm, name)(*([x] if v is None else [x, v]), axis=axis)
    got = getattr(sm, name)(*([xu] if v is None else [xu, vu]), axis=axis)
    assert np.asarray(got).tobytes() == np.asarray(want).tobytes()  # same kernel, same bits
    assert kernel_spy.calls > 0


@pytest.mark.parametrize("name", util.takes("out"))
@pytest.mark.parametrize("shape,axis", [((37,), None), ((5, 7), 0)])
def test_unaligned_out(name, shape, axis):
    x = y_for(name, np.random.default_rng(2).standard_normal(shape), axis)
    v = second_for(name, x)
    out = unaligned(np.zeros(shape))
    assert not out.flags.aligned
    check(name, x, v, out=out, axis=axis)
    want = getattr(sm, name)(*([x] if v is None else [x, v]), axis=axis)
    assert out.tobytes() == want.tobytes()


def test_unaligned_in_place():
    """out=x with x misaligned: computed through an aligned temporary, delivered into x."""
    x = unaligned(np.linspace(-3, 3, 41))
    want = sm.softmax(x.copy())
    assert sm.softmax(x, out=x) is x
    np.testing.assert_array_equal(x, want)


def test_unaligned_b_and_where():
    rng = np.random.default_rng(3)
    a = rng.standard_normal((6, 9))
    b = unaligned(rng.uniform(-1, 2, (6, 9)))
    check("logsumexp", unaligned(a), axis=1, b=b, return_sign=True)
    check("logsumexp", a, axis=0, b=unaligned(rng.uniform(0, 2, (9,)).astype(np.float32)))
    check("softmax_jvp", unaligned(a), unaligned(rng.standard_normal(9)), axis=1,
          where=rng.random((6, 9)) > 0.3)


# ================================================================ 2. dtypes

def _all_numpy_dtypes():
    seen = {}
    for t in set(np.sctypeDict.values()):
        try:
            dt = np.dtype(t)
        except TypeError:
            continue
        if dt.kind in "USV" and dt.itemsize == 0:
            continue  # unsized flexible types: arrays of them get a size
        seen[str(dt)] = dt
    for extra in ["U1", "U7", "S1", "S7", "M8", "M8[ns]", "M8[D]", "m8", "m8[s]", "V1", "V8", "V16",
                  [("a", "<f8")], [("a", "f4"), ("b", "i8")], "(2,)f8,i4", ">f8", ">i4", ">c16"]:
        dt = np.dtype(extra)
        seen[str(dt)] = dt
    if hasattr(np.dtypes, "StringDType"):  # NumPy >= 2.0
        seen["StringDType()"] = np.dtypes.StringDType()
    return sorted(seen.values(), key=str)


ALL_DTYPES = _all_numpy_dtypes()
NUMERIC = [dt for dt in ALL_DTYPES if dt.kind in "biufc"]
NON_NUMERIC = [dt for dt in ALL_DTYPES if dt.kind not in "biufc"]


def _array_of(dt, shape=(2, 3)):
    if dt.kind in "biufc":
        return np.arange(int(np.prod(shape))).reshape(shape).astype(dt) % 2 == 0 if dt.kind == "b" \
            else (np.arange(int(np.prod(shape))).reshape(shape) % 5).astype(dt)
    return np.zeros(shape, dt)


def _names_dtype(msg, dt):
    return any(w in msg for w in {str(dt), dt.name, repr(dt), dt.str})


def test_dtype_lists_are_complete():
    kinds = {dt.kind for dt in NON_NUMERIC}
    assert {"O", "U", "S", "M", "m", "V"} | ({"T"} if NUMPY2 else set()) <= kinds
    assert len(NUMERIC) >= 14


@pytest.mark.parametrize("name", FUNCS)
@pytest.mark.parametrize("dt", NON_NUMERIC, ids=str)
def test_non_numeric_first_argument(name, dt):
    bad = _array_of(dt)
    args = [bad] + ([np.ones((2, 3))] if name in TWO_INPUTS else [])
    with pytest.raises(TypeError) as info:
        getattr(sm, name)(*args, axis=-1)
    msg = str(info.value)
    assert _names_dtype(msg, dt), f"{msg!r} does not name the dtype {dt}"
    assert util.FIRST.get(name, "x") in msg


@pytest.mark.parametrize("name", sorted(TWO_INPUTS) + ["logsumexp"])
@pytest.mark.parametrize("dt", NON_NUMERIC, ids=str)
def test_non_numeric_second_argument(name, dt):
    x = np.linspace(0, 1, 6).reshape(2, 3)
    out = np.full((2, 3), 7.0)
    with pytest.raises(TypeError) as info:
        if name == "logsumexp":
            sm.logsumexp(x, axis=1, b=_array_of(dt))
        else:
            getattr(sm, name)(x, _array_of(dt), axis=1, out=out)
    msg = str(info.value)
    assert _names_dtype(msg, dt), f"{msg!r} does not name the dtype {dt}"
    assert util.SECOND.get(name, "b") in msg
    assert np.all(out == 7.0)


@pytest.mark.parametrize("name", util.takes("where"))
@pytest.mark.parametrize("dt", [dt for dt in ALL_DTYPES if dt != np.bool_], ids=str)
def test_non_bool_where(name, dt):
    x = np.linspace(0, 1, 6).reshape(2, 3)
    args = [x] + ([np.ones((2, 3))] if name in TWO_INPUTS else [])
    kw = {"out": np.full((2, 3), 7.0)} if name in util.takes("out") else {}
    with pytest.raises(TypeError) as info:
        getattr(sm, name)(*args, axis=1, where=_array_of(dt), **kw)
    msg = str(info.value)
    assert "where" in msg and _names_dtype(msg, dt), msg
    if kw:
        assert np.all(kw["out"] == 7.0)


@pytest.mark.parametrize("name", util.takes("dtype"))
@pytest.mark.parametrize("dt", [dt for dt in ALL_DTYPES if dt.kind != "f"], ids=str)
def test_non_float_dtype_argument(name, dt):
    with pytest.raises(TypeError) as info:
        getattr(sm, name)(np.ones((2, 3)), axis=1, dtype=dt)
    assert "dtype" in str(info.value)


@pytest.mark.parametrize("name", util.takes("dtype"))
@pytest.mark.parametrize("dt", [np.float16, np.float32, np.float64, np.longdouble])
def test_real_dtype_argument_refuses_complex_input(name, dt):
    """Regression (fuzz): dtype=float64 on complex input silently dropped the imaginary part."""
    with pytest.raises(TypeError) as info:
        getattr(sm, name)(np.array([1 + 2j, 3 - 1j]), dtype=dt)
    assert "dtype" in str(info.value) and "complex" in str(info.value)


@pytest.mark.parametrize("name", FUNCS)
@pytest.mark.parametrize("dt", NUMERIC, ids=str)
def test_every_numeric_dtype(name, dt):
    x = y_for(name, _array_of(dt, (3, 4)), -1)
    if name.endswith("vjp") and dt.kind in "biu":
        x = _array_of(dt, (3, 4))  # any numbers are valid y
    v = second_for(name, x)
    check(name, x, None if v is None else v.astype(dt) if dt.kind in "fc" else v, axis=-1)


@pytest.mark.parametrize("dt", NUMERIC, ids=str)
def test_every_numeric_dtype_as_b_and_v(dt):
    x = np.linspace(-2, 2, 12).reshape(3, 4)
    b = _array_of(dt, (3, 4))
    check("logsumexp", x, axis=1, b=b, return_sign=True)
    check("softmax_jvp", x, _array_of(dt, (4,)), axis=1)
    check("log_softmax_vjp", np.asarray(sm.log_softmax(x, axis=0)), _array_of(dt, (3, 1)), axis=0)


# ================================================================ 3. shapes

SHAPES = [(), (0,), (1,), (0, 3), (3, 0), (2, 0, 3), (1, 1), (1, 5), (5, 1), (1, 1, 7), (2, 1, 3, 1)]


def _axes_for(shape, name):
    nd = len(shape)
    if name == "softmax_jacobian":
        return [None] + list(range(-nd, nd))
    return [None, ()] + list(range(-nd, nd)) + ([(0, nd - 1)] if nd >= 2 else []) \
        + ([(0, 2)] if nd >= 3 else [])


@pytest.mark.parametrize("name", FUNCS)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_shapes(name, shape):
    rng = np.random.default_rng(4)
    for axis in _axes_for(shape, name):
        x = y_for(name, rng.standard_normal(shape), axis)
        check(name, x, second_for(name, x, rng), axis=axis)
        if name in ("softmax", "log_softmax", "logsumexp") and x.size:
            check(name, x, axis=axis, where=rng.random(shape) > 0.4, temperature=0.0)


@pytest.mark.parametrize("name", FUNCS)
def test_32_dimensions(name):
    shape = (1,) * 28 + (2, 1, 3, 2)
    x = y_for(name, np.random.default_rng(5).standard_normal(shape), None)
    if name == "softmax_jacobian" and not NUMPY2:  # the (33-d) result cannot exist: a clear error
        with pytest.raises(ValueError, match="x has 32 dimensions"):
            sm.softmax_jacobian(x, axis=-1)
        return
    for axis in [None, -1, 0, 28, -3] + ([(0, 28, 31), tuple(range(32))] if name != "softmax_jacobian" else []):
        check(name, x, second_for(name, x), axis=axis)
    assert x.ndim == 32


def test_64_dimensions():
    if not NUMPY2:
        pytest.skip(f"NumPy {np.__version__} arrays have at most 32 dimensions")
    x = np.arange(4.0).reshape((1,) * 62 + (2, 2))
    np.testing.assert_allclose(sm.softmax(x, axis=-1).reshape(2, 2), sm.softmax([[0, 1], [2, 3]], axis=-1))
    np.testing.assert_allclose(sm.logsumexp(x, axis=(0, 63)).reshape(2), sm.logsumexp([[0, 1], [2, 3]], axis=1))


# ================================================================ 4. layouts

def _layouts(a, tmp_path):
    """(label, array) for every memory layout of `a` (util.LAYOUTS, the broadcast one along
    either axis, and memory maps), values equal to those of `a`."""
    for kind in util.LAYOUTS:
        yield kind, util.layout(a, kind)
    yield "broadcast-1", util.layout(a, "broadcast", axis=1)
    yield "padded", np.pad(a, ((0, a.shape[0]), (0, a.shape[1])))[: a.shape[0], : a.shape[1]]
    path = tmp_path / f"mm{a.dtype.str.replace('<', 'l').replace('>', 'b')}.bin"
    mm = np.memmap(path, dtype=a.dtype, mode="w+", shape=a.shape)
    mm[...] = a
    mm.flush()
    yield "memmap", np.memmap(path, dtype=a.dtype, mode="r", shape=a.shape)
    yield "memmap-F", np.memmap(path, dtype=a.dtype, mode="r", shape=a.shape[::-1]).T


@pytest.mark.parametrize("name", FUNCS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int16])
def test_layouts_of_first_argument(name, dtype, tmp_path):
    rng = np.random.default_rng(6)
    base = y_for(name, (rng.standard_normal((6, 5)) * 3).astype(dtype), 1)
    v = second_for(name, base, rng)
    for label, x in _layouts(base, tmp_path):
        for axis in [1, 0, None] if name != "softmax_jacobian" else [1, 0]:
            try:
                check(name, x, v, axis=axis)
            except AssertionError as e:
                raise AssertionError(f"layout {label}, axis {axis}: {e}") from None
            if label not in ("F", "transposed", "memmap-F") and x.dtype.kind == "f":  # same kernel input: same bits
                want = getattr(sm, name)(*([np.ascontiguousarray(x, x.dtype.newbyteorder("="))]
                                           + ([] if v is None else [v])), axis=axis)
                got = getattr(sm, name)(*([x] + ([] if v is None else [v])), axis=axis)
                assert np.asarray(got).tobytes() == np.asarray(want).tobytes(), (label, axis)


@pytest.mark.parametrize("name", sorted(TWO_INPUTS) + ["logsumexp", "softmax"])
def test_layouts_of_other_arguments(name, tmp_path):
    rng = np.random.default_rng(7)
    x = y_for(name, rng.standard_normal((6, 5)), 1)
    other = rng.uniform(-1, 2, (6, 5))
    mask = rng.random((6, 5)) > 0.3
    for label, o in _layouts(other, tmp_path):
        try:
            if name == "logsumexp":
                check(name, x, axis=1, b=o, return_sign=True)
            elif name == "softmax":
                check(name, x, axis=0, where=np.asarray(o) > 0.5)
            else:
                check(name, x, o, axis=1)
        except AssertionError as e:
            raise AssertionError(f"layout {label}: {e}") from None
    for label, w in list(_layouts(mask, tmp_path)):
        if name in util.takes("where"):
            check(name, x, second_for(name, x), axis=1, where=w)


@pytest.mark.parametrize("name", util.takes("out"))
def test_out_layouts(name, tmp_path):
    rng = np.random.default_rng(8)
    x = y_for(name, rng.standard_normal((6, 5)), 0)
    v = second_for(name, x, rng)
    want = getattr(sm, name)(*([x] if v is None else [x, v]), axis=0)
    outs = [o for label, o in _layouts(np.full((6, 5), 7.0), tmp_path)
            if o.flags.writeable and o.dtype.isnative]
    path = tmp_path / "out.bin"
    outs.append(np.memmap(path, dtype=np.float64, mode="w+", shape=(6, 5)))
    outs.append(np.memmap(path, dtype=np.float64, mode="r+", shape=(5, 6)).T)
    for out in outs:
        check(name, x, v, out=out, axis=0)
        np.testing.assert_allclose(out, want, rtol=1e-14, atol=1e-300)


# ================================================================ 5. bad arguments

def _valid_call(name):
    """(args, kwargs) of a valid call with an `out` (if the function takes one) filled with 7."""
    x = np.array([[0.5, -1.0, 2.0], [3.0, 0.25, -0.75]])
    args = [x] + ([np.array([[1.0, 2.0, -1.0], [0.5, 0.0, 3.0]])] if name in TWO_INPUTS else [])
    kw = {"axis": 1}
    if name in util.takes("out"):
        kw["out"] = np.full((2, 3), 7.0)
    return args, kw


class Big:
    """An object that is not a number."""


BAD_ARGS = [  # (argument, value, exception, functions it applies to)
    ("axis", 2, AxisError, FUNCS), ("axis", -3, AxisError, FUNCS), ("axis", 2 ** 70, AxisError, FUNCS),
    ("axis", np.int64(5), AxisError, FUNCS), ("axis", (0, 2), AxisError, FUNCS[:-1]),
    ("axis", (1, -1), ValueError, FUNCS[:-1]), ("axis", (0, 0), ValueError, FUNCS[:-1]),
    ("axis", 1.0, TypeError, FUNCS), ("axis", "1", TypeError, FUNCS), ("axis", True, TypeError, FUNCS),
    ("axis", (0, 1.5), TypeError, FUNCS[:-1]), ("axis", np.float64(1), TypeError, FUNCS),
    ("axis", (1,), TypeError, ["softmax_jacobian"]), ("axis", Big(), TypeError, FUNCS),
    ("temperature", np.nan, ValueError, FUNCS), ("temperature", np.inf, ValueError, FUNCS),
    ("temperature", -np.inf, ValueError, FUNCS), ("temperature", 10 ** 400, ValueError, FUNCS),
    ("temperature", np.longdouble("1e4000") if np.finfo(np.longdouble).maxexp > 1024 else np.inf,
     ValueError, FUNCS),
    ("temperature", np.array(np.nan), ValueError, FUNCS),
    ("temperature", "1", TypeError, FUNCS), ("temperature", None, TypeError, FUNCS),
    ("temperature", 1j, TypeError, FUNCS), ("temperature", np.array([1.0, 2.0]), TypeError, FUNCS),
    ("temperature", [1.0], TypeError, FUNCS), ("temperature", True, TypeError, FUNCS),
    ("temperature", np.bool_(True), TypeError, FUNCS), ("temperature", Big(), TypeError, FUNCS),
    ("temperature", 0.0, ValueError, sorted(TWO_INPUTS) + ["softmax_jacobian"]),
    ("where", np.ones((2, 3), int), TypeError, util.takes("where")),
    ("where", [1, 0, 1], TypeError, util.takes("where")),
    ("where", "yes", TypeError, util.takes("where")),
    ("where", np.ones((3, 2), bool), ValueError, util.takes("where")),
    ("where", np.ones((2, 3, 1), bool), ValueError, util.takes("where")),
    ("out", [[0.0] * 3] * 2, TypeError, util.takes("out")),
    ("out", np.zeros((2, 3), np.float32), TypeError, util.takes("out")),
    ("out", np.zeros((2, 3), ">f8"), TypeError, util.takes("out")),
    ("out", np.zeros((2, 3), np.int64), TypeError, util.takes("out")),
    ("out", np.zeros((3, 2)), ValueError, util.takes("out")),
    ("out", np.zeros((2, 3, 1)), ValueError, util.takes("out")),
    ("out", np.zeros(6), ValueError, util.takes("out")),
    ("out", np.broadcast_to(0.0, (2, 3)), ValueError, util.takes("out")),
    ("b", np.ones((3, 2)), ValueError, ["logsumexp"]), ("b", np.ones((2, 3), "U1"), TypeError, ["logsumexp"]),
    ("b", [1, "a", 2], TypeError, ["logsumexp"]), ("b", Big(), TypeError, ["logsumexp"]),
    ("dtype", np.int32, TypeError, util.takes("dtype")), ("dtype", "foo", TypeError, util.takes("dtype")),
    ("dtype", np.complex128, TypeError, util.takes("dtype")), ("dtype", 3, TypeError, util.takes("dtype")),
    ("dtype", Big(), TypeError, util.takes("dtype")), ("dtype", "M8[s]", TypeError, util.takes("dtype")),
    ("workers", 0, ValueError, util.takes("workers")), ("workers", -10 ** 6, ValueError, util.takes("workers")),
    ("workers", -2 ** 70, ValueError, util.takes("workers")), ("workers", 1.5, TypeError, util.takes("workers")),
    ("workers", "2", TypeError, util.takes("workers")), ("workers", True, TypeError, util.takes("workers")),
    ("workers", np.float64(2), TypeError, util.takes("workers")),
    ("keepdims", 1, TypeError, ["logsumexp"]), ("keepdims", "yes", TypeError, ["logsumexp"]),
    ("keepdims", None, TypeError, ["logsumexp"]), ("return_sign", 0, TypeError, ["logsumexp"]),
    ("return_sign", "no", TypeError, ["logsumexp"]), ("return_sign", None, TypeError, ["logsumexp"]),
]
BAD_CASES = [(name, arg, val, exc) for arg, val, exc, names in BAD_ARGS for name in names]


@pytest.mark.parametrize("name,arg,value,exc", BAD_CASES,
                         ids=[f"{n}-{a}-{type(v).__name__}{i}" for i, (n, a, v, e) in enumerate(BAD_CASES)])
def test_bad_argument(name, arg, value, exc):
    args, kw = _valid_call(name)
    snap = [(a, a.copy()) for a in args]
    kw[arg] = value
    out = kw.get("out") if arg != "out" else None
    refs = [sys.getrefcount(a) for a in args]
    msg = None
    try:  # (not pytest.raises: it keeps the traceback, whose frames refer to the arguments)
        getattr(sm, name)(*args, **kw)
    except exc as e:
        msg = str(e)
    assert msg is not None, f"no {exc.__name__} for {arg}={value!r}"
    assert arg in msg, f"{msg!r} does not name {arg!r}"
    if out is not None:
        assert np.all(out == 7.0), "out was written before the error"
    assert [sys.getrefcount(a) for a in args] == refs
    for a, before in snap:
        np.testing.assert_array_equal(a, before)


# ================================================================ 6. huge sizes

def test_plan_index_arithmetic_beyond_int32():
    """(outer, K, inner) of shapes with > 2**31 (and > 2**63 / itemsize) elements, without allocating."""
    for shape, axes, want in [
        ((2 ** 20, 2 ** 12, 2 ** 3), (1,), (2 ** 20, 2 ** 12, 2 ** 3)),
        ((3, 2 ** 31 + 5), (1,), (3, 2 ** 31 + 5, 1)),
        ((2 ** 16, 2 ** 16, 3), (0, 1), (1, 2 ** 32, 3)),
        ((5, 2 ** 33, 7), (0, 2), (2 ** 33, 35, 1)),
    ]:
        x = np.broadcast_to(np.float32(0), shape)  # no memory behind it
        plan = _layout._plan(x, axes)
        assert (plan.outer, plan.K, plan.inner) == want
        assert plan.outer * plan.K * plan.inner == x.size > 2 ** 31
    x = np.empty((2 ** 31 + 3, 0), np.float32)
    assert _layout._plan(x, (0,))[2:5] == (1, 2 ** 31 + 3, 0)
    n = 2 ** 40  # empty, so nothing is allocated; K == 0 never reaches a kernel
    assert sm.softmax(np.empty((n, 0)), axis=0).shape == (n, 0)
    assert sm.logsumexp(np.empty((0, n)), axis=1).shape == (0,)


def _mem_available():
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _zero_pages(shape, dtype):
    """A writeable array of zeros backed by untouched anonymous memory: reading it maps the
    kernel's (huge) zero page, so even 10 GB of it costs almost no RAM; only written pages count."""
    nbytes = int(np.prod(shape)) * np.dtype(dtype).itemsize
    m = mmap.mmap(-1, nbytes, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    if hasattr(mmap, "MADV_HUGEPAGE"):
        m.madvise(mmap.MADV_HUGEPAGE)
    return np.frombuffer(m, dtype).reshape(shape)


BIG_N = 2 ** 31 + 64  # float32 elements in one row: 8 GiB of address space, a few pages of RAM


def _need_address_space():
    if not sys.platform.startswith("linux") or sys.maxsize < 2 ** 40:
        pytest.skip("needs Linux anonymous mappings and a 64-bit address space (8 GiB, not RAM)")
    if _mem_available() < 512 * 2 ** 20:
        pytest.skip(f"only {_mem_available() / 2 ** 20:.0f} MiB of RAM available (needs 512 MiB)")


def test_more_than_2_31_elements():
    """logsumexp over one row of 2**31 + 64 float32: the entries that decide the result sit
    beyond index 2**31 (a 32-bit index would wrap). The zeros are never written: no RAM needed."""
    _need_address_space()
    try:
        x = _zero_pages((BIG_N,), np.float32)
    except (OSError, MemoryError, ValueError) as e:  # overcommit disabled, no address space
        pytest.skip(f"cannot map 8 GiB of address space: {e}")
    x[BIG_N - 3] = 40.0  # touches one page
    assert float(sm.logsumexp(x, temperature=0.0, workers=1)) == 40.0  # max pass only: cheap
    # the full pass, split across threads: 40 + log1p((N - 1) e^-40) rounds to 40 in float32
    assert float(sm.logsumexp(x, workers=-1)) == 40.0


def test_more_than_2_31_elements_weighted_columns():
    """Weighted logsumexp over the columns of (2**15, 2**12, 17) float32 (> 2**31 elements, outer
    offsets beyond 2**31): b is 0 except at two entries of the last block, so the result is exact."""
    _need_address_space()
    shape = (2 ** 15, 2 ** 12, 17)
    try:
        a = _zero_pages(shape, np.float32)
        b = _zero_pages(shape, np.float32)
    except (OSError, MemoryError, ValueError) as e:
        pytest.skip(f"cannot map 2 x 9 GiB of address space: {e}")
    a[-1, -1, -1], b[-1, -1, -1] = 5.0, 1.0
    a[-1, -2, 7], b[-1, -2, 7] = -3.0, -2.0
    res, sgn = sm.logsumexp(a, axis=1, b=b, return_sign=True, workers=-1)
    assert res.shape == (2 ** 15, 17)
    assert res[-1, -1] == 5.0 and sgn[-1, -1] == 1.0
    assert res[-1, 7] == np.float32(-3.0 + np.log(2.0)) and sgn[-1, 7] == -1.0
    res[-1, [7, -1]] = -np.inf
    assert np.all(res == -np.inf) and np.count_nonzero(sgn) == 2


@pytest.mark.parametrize("call", [
    lambda: sm.softmax(np.broadcast_to(1.0, (2 ** 40,))),
    lambda: sm.log_softmax(np.broadcast_to(np.float32(1), (2 ** 20, 2 ** 22)), axis=0),
    lambda: sm.logsumexp(np.broadcast_to(1.0, (2 ** 41,)), b=2.0),
    lambda: sm.logsumexp(np.broadcast_to(1.0, (2 ** 41,))),
    lambda: sm.softmax_jvp(np.broadcast_to(1.0, (2 ** 40,)), 1.0),
    lambda: sm.softmax_vjp(np.broadcast_to(0.5, (2 ** 40,)), 1.0),
    lambda: sm.softmax(np.broadcast_to(1.0, (2 ** 40,)), where=True),
    lambda: sm.softmax(np.broadcast_to(np.longdouble(1), (2 ** 40,))),
    lambda: sm.softmax_jacobian(np.broadcast_to(1.0, (2 ** 21,))),
    lambda: sm.softmax(np.broadcast_to(np.int8(1), (2 ** 40, 2 ** 20))),
], ids=["softmax", "log_softmax-F32", "lse-b", "lse", "jvp", "vjp", "where", "longdouble", "jacobian",
        "int8-2**60"])
def test_huge_requests_raise_memory_error(call):
    """Requests far beyond any memory fail with MemoryError (or numpy's ValueError 'too big')."""
    with pytest.raises((MemoryError, ValueError)) as info:
        call()
    if isinstance(info.value, ValueError):
        assert "too big" in str(info.value) or "maximum" in str(info.value)


# ================================================================ 7. reference counts

def _calls_for_refcounts():
    x = np.random.default_rng(9).standard_normal((4, 6))
    v = np.random.default_rng(10).standard_normal((4, 6))
    w = x > -0.5
    b = np.abs(v)
    out = np.empty_like(x)
    return [x, v, w, b, out], [
        (sm.softmax, (x,), dict(axis=1, where=w, out=out)),
        (sm.log_softmax, (x,), dict(axis=0, temperature=0.0)),
        (sm.logsumexp, (x,), dict(axis=1, b=b, return_sign=True, where=w)),
        (sm.logsumexp, (x,), dict(keepdims=True)),
        (sm.softmax_jvp, (x, v), dict(axis=1, where=w, out=out)),
        (sm.log_softmax_jvp, (x, v), dict(axis=(0, 1))),
        (sm.softmax_vjp, (x, v), dict(axis=0, out=out)),
        (sm.log_softmax_vjp, (x, v), dict(axis=1)),
        (sm.softmax_jacobian, (x,), dict(axis=0)),
        (sm.softmax, (x.astype(np.longdouble),), dict(axis=1)),
        (sm.softmax, (x,), dict(axis=5)),  # errors
        (sm.softmax, (x,), dict(temperature=np.nan, out=out)),
        (sm.logsumexp, (x,), dict(b=np.ones(7))),
        (sm.softmax_jvp, (x, v), dict(out=np.empty(3))),
        (sm.softmax, (x,), dict(where=np.ones(4))),
    ]


def test_reference_counts_unchanged():
    arrays, calls = _calls_for_refcounts()
    gc.collect()
    before = [sys.getrefcount(a) for a in arrays]
    for _ in range(3):
        for f, args, kw in calls:
            try:
                r = f(*args, **kw)
            except (TypeError, ValueError):
                pass
            else:
                del r
    gc.collect()
    assert [sys.getrefcount(a) for a in arrays] == before


def test_results_are_not_views_of_inputs():
    x = np.linspace(0, 1, 10)
    for f in (sm.softmax, sm.log_softmax):
        r = f(x)
        assert not np.may_share_memory(r, x)


# ================================================================ 8. overlapping out

@pytest.mark.parametrize("name,which", [(n, "x") for n in util.takes("out")]
                         + [(n, "second") for n in sorted(TWO_INPUTS)])
@pytest.mark.parametrize("shift", [1, 5, -1, -7, 13])
def test_out_partially_overlapping_an_input(name, shift, which):
    n = 24
    rng = np.random.default_rng(11)
    x0 = y_for(name, rng.standard_normal((4, 6)), 1)
    v0 = second_for(name, x0, rng)
    want = getattr(sm, name)(*([x0] if v0 is None else [x0, v0]), axis=1)
    buf = np.zeros(n + abs(shift))
    inp = buf[max(shift, 0): max(shift, 0) + n].reshape(4, 6)
    out = buf[max(-shift, 0): max(-shift, 0) + n].reshape(4, 6)
    assert np.may_share_memory(inp, out) and inp.ctypes.data != out.ctypes.data
    inp[...] = x0 if which == "x" else v0
    x = inp if which == "x" else x0.copy()
    v = None if v0 is None else (inp if which == "second" else v0.copy())
    r = getattr(sm, name)(*([x] if v is None else [x, v]), axis=1, out=out)
    assert r is out
    np.testing.assert_array_equal(out, want)


@pytest.mark.parametrize("name", util.takes("out"))
def test_out_is_an_input_exactly(name):
    """out=x (in place) and out=v: same result as into a fresh array."""
    rng = np.random.default_rng(12)
    x0 = y_for(name, rng.standard_normal((5, 6)), 0)
    v0 = second_for(name, x0, rng)
    want = getattr(sm, name)(*([x0] if v0 is None else [x0, v0]), axis=0)
    x = x0.copy()
    getattr(sm, name)(*([x] if v0 is None else [x, v0]), axis=0, out=x)
    np.testing.assert_array_equal(x, want)
    if v0 is not None:
        v = v0.copy()
        getattr(sm, name)(x0, v, axis=0, out=v)
        np.testing.assert_array_equal(v, want)
    xt = np.asfortranarray(x0)  # in place in a column layout
    getattr(sm, name)(*([xt] if v0 is None else [xt, v0]), axis=0, out=xt)
    np.testing.assert_allclose(xt, want, rtol=1e-14, atol=1e-300)


@pytest.mark.parametrize("name", ["softmax", "log_softmax", "softmax_jvp", "log_softmax_jvp"])
def test_out_overlapping_where(name):
    """out sharing memory with the where mask (w[i] is the low byte of out[i + 1]): the mask is
    used as it was before the call, not as the kernel's output bytes make it."""
    buf = np.zeros(8 * 16, np.uint8)
    out = buf[:120].view(np.float64)
    w = buf[8::8].view(bool)
    assert w.shape == out.shape == (15,) and np.may_share_memory(w, out)
    mask = np.random.default_rng(13).random(15) > 0.4
    w[:] = mask
    x = np.random.default_rng(14).standard_normal(15)
    args = [x] + ([np.linspace(-1, 1, 15)] if name in TWO_INPUTS else [])
    want = getattr(sm, name)(*args, where=mask)
    getattr(sm, name)(*args, where=w, out=out)
    np.testing.assert_array_equal(out, want)


# ================================================================ 9. regressions from fuzzing

def test_regression_temperature_huge_int():
    """fuzz: temperature=10**400 raised OverflowError; now ValueError naming temperature."""
    with pytest.raises(ValueError, match="temperature"):
        sm.softmax([1.0, 2.0], temperature=10 ** 400)


@pytest.mark.parametrize("workers", [10 ** 5, 2 ** 31 - 1, 2 ** 40, 2 ** 70])
def test_regression_huge_workers(workers):
    """workers=2**31-1 made libgomp abort ('Out of memory allocating ...'), 10**5 killed the
    process and 2**40 raised OverflowError; the thread count is now capped at the CPU count."""
    x = np.linspace(-3, 3, 2 ** 18).reshape(2 ** 12, 2 ** 6)
    want = sm.softmax(x, axis=1, workers=1)
    np.testing.assert_array_equal(sm.softmax(x, axis=1, workers=workers), want)
    np.testing.assert_array_equal(sm.logsumexp(x, axis=1, b=x, workers=workers),
                                  sm.logsumexp(x, axis=1, b=x, workers=1))


@pytest.mark.parametrize("kw", [dict(b=[1.0, 1.0, 2.0]), dict(where=[True, True, True]),
                                dict(b=[1.0, 1.0, 2.0], return_sign=True)], ids=["b", "where", "sign"])
def test_regression_weighted_negative_temperature_minus_inf(kw):
    """fuzz (atheris): T * lse(a / T) with T < 0 and a = -inf entries is -inf (a / T = +inf), as
    without b/where; the weighted kernel gave +inf."""
    for a in ([-np.inf, 1.0, 2.0], [-np.inf, -np.inf, -np.inf]):
        want = sm.logsumexp(np.array(a), temperature=-1.5)
        got = sm.logsumexp(np.array(a), temperature=-1.5, **kw)
        got = got[0] if isinstance(got, tuple) else got
        assert want == -np.inf and got == want, (a, kw, got)


@pytest.mark.parametrize("case", ["lse-b-inf", "lse-b-minus-inf", "vjp-g-inf", "log-vjp-g-inf",
                                  "jvp-v-inf", "log-jvp-v-inf"])
def test_regression_infinite_term_in_compensated_sum(case):
    """fuzz (atheris): scipy.special.logsumexp([0, 1], b=[inf, 1]) is inf; softmax_vjp([.5, .5],
    [inf, 1]) is y * (g - sum(y g)) = [nan, -inf] by the formula; the kernels gave all NaN."""
    with np.errstate(all="ignore"):
        y, g = np.array([0.5, 0.5]), np.array([np.inf, 1.0])
        got, want = {
            "lse-b-inf": lambda: (sm.logsumexp([0.0, 1.0], b=[np.inf, 1.0]), np.inf),
            "lse-b-minus-inf": lambda: (sm.logsumexp([0.0, 1.0], b=[-np.inf, 1.0], return_sign=True),
                                        (np.inf, -1.0)),
            "vjp-g-inf": lambda: (sm.softmax_vjp(y, g), [np.nan, -np.inf]),
            "log-vjp-g-inf": lambda: (sm.log_softmax_vjp(np.log(y), g), [np.nan, -np.inf]),
            "jvp-v-inf": lambda: (sm.softmax_jvp([0.0, 1.0], g), [np.nan, -np.inf]),
            "log-jvp-v-inf": lambda: (sm.log_softmax_jvp([0.0, 1.0], g), [np.nan, -np.inf]),
        }[case]()
    np.testing.assert_array_equal(np.asarray(got, float), np.asarray(want, float))


@pytest.mark.parametrize("dtype", [np.float64, np.float32, ">f4"])
def test_regression_sign_of_zero_total_with_negative_temperature(dtype):
    """fuzz (atheris): logsumexp(+inf, temperature=-1.5, return_sign=True) gave sign 1; the
    total exp(a / T) = exp(-inf) is 0, so (+inf, 0) -- T * log(0) is +inf for T < 0 -- and
    a = -inf gives exp(+inf) > 0: (-inf, 1). The sign was derived from res == -inf only."""
    for a, want in [([np.inf], (np.inf, 0.0)), ([np.inf, np.inf], (np.inf, 0.0)),
                    ([-np.inf], (-np.inf, 1.0)), ([-np.inf, -np.inf], (-np.inf, 1.0)),
                    ([np.inf, 1.0], (1.0, 1.0))]:
        got = sm.logsumexp(np.array(a, dtype), temperature=-1.5, return_sign=True)
        assert (float(got[0]), float(got[1])) == want, (a, got)
        assert float(sm.logsumexp(np.array(a, dtype), temperature=-1.5)) == want[0]
    assert sm.logsumexp([np.inf], temperature=1.0, return_sign=True) == (np.inf, 1.0)
    assert sm.logsumexp([-np.inf], temperature=1.0, return_sign=True) == (-np.inf, 0.0)


def test_regression_log_softmax_difference_overflow():
    """fuzz (atheris): log_softmax([1.79e308, -1.76e308, 0], temperature=2) is
    [0, -1.77e308, -8.95e307] (x / T - logsumexp(x / T), all finite); the kernel gave -inf."""
    x = np.array([1.7906710165974644e308, -1.7553944728655553e308, 0.0])
    got = sm.log_softmax(x, temperature=2.0)
    want = np.asarray(sm.log_softmax(x / 2.0), float)
    np.testing.assert_allclose(got, want, rtol=1e-15)


def test_regression_weighted_sign_of_nan_total():
    """fuzz (atheris): +inf entries whose weights cancel (inf - inf) give res NaN, and the sign
    is NaN too, as in scipy (the weighted kernel gave 0)."""
    for a, b in [([np.inf, np.inf], [-1.0, 1.0]), ([np.inf, np.inf, 7.0], [-1.0, 1.0, 1.0])]:
        res, sgn = sm.logsumexp(a, b=b, return_sign=True)
        assert np.isnan(res) and np.isnan(sgn)
        assert np.isnan(sm.logsumexp(a, b=b))


def test_regression_fortran_zero_d():
    """fuzz generator quirk kept as a check: a 0-d input is fine in any layout."""
    x = np.array(2.5)
    assert sm.softmax(x) == 1.0 and sm.log_softmax(x) == 0.0 and sm.logsumexp(x) == 2.5


# ================================================================ 10. memory

def _rss():
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


LEAK_CALLS = 10_000  # per variant below (13 variants: 130,000 calls, ~10 s)


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="RSS is read from /proc/self/statm")
def test_no_memory_growth_over_many_calls():
    """130,000 small calls (10,000 of each variant, errors included) grow RSS by < 2 MB, i.e. by
    less than ~150 bytes a call of any variant: a leaked array or exception per call would show."""
    rng = np.random.default_rng(15)
    x = rng.standard_normal((3, 5))
    v = rng.standard_normal((3, 5))
    w = x > -0.3
    out = np.empty_like(x)
    y, ly = sm.softmax(x, axis=1), sm.log_softmax(x, axis=1)

    def err(f, *a, **k):
        try:
            f(*a, **k)
        except (TypeError, ValueError):
            pass

    variants = [
        lambda: sm.softmax(x, axis=1),
        lambda: sm.log_softmax(x, axis=0, where=w, out=out),
        lambda: sm.logsumexp(x, axis=1),
        lambda: sm.logsumexp(x, axis=0, b=v, return_sign=True, where=w),
        lambda: sm.softmax_jvp(x, v, axis=1, out=out),
        lambda: sm.log_softmax_jvp(x, v, axis=(0, 1), where=w),
        lambda: sm.softmax_vjp(y, v, axis=1),
        lambda: sm.log_softmax_vjp(ly, v, axis=1, out=out),
        lambda: sm.softmax_jacobian(x),
        lambda: sm.softmax(x.astype(np.float16), temperature=0.0),
        lambda: err(sm.softmax, x, axis=7),
        lambda: err(sm.logsumexp, x, b=np.ones(4)),
        lambda: err(sm.softmax_jvp, x, v, temperature=np.nan, out=out),
    ]
    for f in variants:  # warm up caches, allocator arenas, lazily imported modules
        for _ in range(500):
            f()
    gc.collect()
    before = _rss()
    for f in variants:
        for _ in range(LEAK_CALLS):
            f()
    gc.collect()
    grown = _rss() - before
    assert grown < 2 * 2 ** 20, f"RSS grew by {grown / 2 ** 20:.2f} MB over {LEAK_CALLS * len(variants)} calls"


def test_regression_infinite_terms_column_and_small_row_kernels():
    """The same infinite-term and overflow cases through the column kernels (axis 0 of a
    tiled array) and the batched short-row kernel (many rows of K = 3)."""
    with np.errstate(all="ignore"):
        y, g = np.array([0.5, 0.5]), np.array([np.inf, 1.0])
        tile = lambda a: np.tile(np.asarray(a, float)[:, None], (1, 40))  # noqa: E731
        want = np.tile(np.array([np.nan, -np.inf])[:, None], (1, 40))
        np.testing.assert_array_equal(sm.softmax_vjp(tile(y), tile(g), axis=0), want)
        np.testing.assert_array_equal(sm.log_softmax_vjp(np.log(tile(y)), tile(g), axis=0), want)
        np.testing.assert_array_equal(sm.softmax_jvp(tile([0.0, 1.0]), tile(g), axis=0), want)
        np.testing.assert_array_equal(sm.log_softmax_jvp(tile([0.0, 1.0]), tile(g), axis=0), want)
        np.testing.assert_array_equal(sm.logsumexp(tile([0.0, 1.0]), axis=0, b=tile(g)), np.full(40, np.inf))
    x = np.array([1.7906710165974644e308, -1.7553944728655553e308, 0.0])
    want = np.asarray(sm.log_softmax(x / 2.0), float)
    np.testing.assert_allclose(sm.log_softmax(np.tile(x[:, None], (1, 40)), axis=0, temperature=2.0),
                               np.tile(want[:, None], (1, 40)), rtol=1e-15)
    np.testing.assert_allclose(sm.log_softmax(np.tile(x, (400, 1)), axis=1, temperature=2.0),
                               np.tile(want, (400, 1)), rtol=1e-15)


def test_regression_weighted_hard_limit_with_infinite_weight():
    """fuzz (atheris): logsumexp(4294967295, axis=(), temperature=0, b=inf) gave NaN (0 * log(inf)
    in the kernel); the T -> 0 limit is the max whenever the weights at the max sum to > 0."""
    assert sm.logsumexp(np.uint32(4294967295), axis=(), temperature=0, b=np.inf,
                        return_sign=True) == (4294967295.0, 1.0)
    assert sm.logsumexp([1.0, 3.0, 3.0], temperature=0, b=[1.0, np.inf, 1.0]) == 3.0
    assert sm.logsumexp([1.0, 3.0, 3.0], temperature=0, b=[1.0, -np.inf, 1.0], return_sign=True) == (3.0, -1.0)


def test_regression_complex64_computed_in_complex128():
    """fuzz (atheris): the sign of logsumexp((2+3.25j), temperature=0.001) is exp(3250j); computed
    in complex64 the phase 3250 carries an error of 2.4e-4. It is now computed in complex128 and
    rounded to complex64."""
    x = np.array([2 + 3.25j], np.complex64)
    res, sign = sm.logsumexp(x, temperature=0.001, return_sign=True)
    assert res.dtype == np.float32 and sign.dtype == np.complex64   # log of the modulus: real, as scipy
    want = np.exp(1j * (3.25 / 0.001))  # the phase of exp(x / T); x is exact in complex64
    assert abs(complex(sign) - want) < 1e-7
    assert sm.softmax(x, temperature=0.001).dtype == np.complex64


def test_regression_log_softmax_both_scaled_terms_overflow():
    """fuzz (atheris): log_softmax([-4.3e307] * 4 + [-1.37e308], temperature=0.001): x/T and m/T
    both overflow for the last element, whose value is -inf; the overflow fallback gave
    -inf - -inf = NaN."""
    x = np.array([-4.3003639696706387e307] * 4 + [-1.3744726600000000e308])
    want = np.array([-np.log(4.0)] * 4 + [-np.inf])
    for got in (sm.log_softmax(x, temperature=0.001),
                sm.log_softmax(np.tile(x[:, None], (1, 40)), axis=0, temperature=0.001)[:, 0],
                sm.log_softmax(np.tile(x, (300, 1)), axis=1, temperature=0.001)[7]):
        np.testing.assert_allclose(got, want, rtol=1e-15)


def test_regression_infinite_weight_on_minus_inf_entry():
    """fuzz (atheris): logsumexp(-inf, b=inf) is NaN in scipy (inf * exp(-inf) = inf * 0); the
    kernel's all -inf shortcut gave -inf. Checked against scipy.special directly."""
    import scipy
    import scipy.special as sps
    # scipy 1.15 alone gives the zero sum of logsumexp([-inf], b=[1]) the sign 1; 1.13, 1.14,
    # 1.16 and 1.17 give 0, as here. 1.15 is the newest scipy for Python 3.10.
    zero_sign_1 = scipy.__version__.startswith("1.15.")
    with np.errstate(all="ignore"):
        for a, b in [([-np.inf], [np.inf]), ([-np.inf], [np.nan]), ([-np.inf, -np.inf], [np.inf, 1.0]),
                     ([-np.inf, 0.0], [np.inf, 1.0]), ([-np.inf], [1.0]), ([-np.inf, -np.inf], [-np.inf, 1.0])]:
            got = sm.logsumexp(a, b=b, return_sign=True)
            want = sps.logsumexp(a, b=b, return_sign=True)
            if zero_sign_1 and want == (-np.inf, 1.0):
                want = (-np.inf, 0.0)
            np.testing.assert_array_equal(np.array(got, float), np.array(want, float), err_msg=f"{a} {b}")
        # a masked-out entry takes no part, whatever its weight
        assert sm.logsumexp([-np.inf, -np.inf], b=[np.inf, 1.0], where=[False, True]) == -np.inf


def test_regression_infinite_weight_on_underflowing_exp():
    """fuzz (atheris): logsumexp(uint8/float32 [2, 255], b=[inf, inf]) is inf (every term is
    inf * e^(x - 255) > 0); the float32 exp of -253 underflowed to 0 and inf * 0 made it NaN.
    The weighted kernel now takes its exps in double, and an infinite weight times an exp that
    underflowed is infinite; times exp(-inf) it is still NaN, as scipy."""
    with np.errstate(all="ignore"):
        assert sm.logsumexp(np.float32([2, 255]), b=np.float32([np.inf, np.inf])) == np.inf
        x = np.array([[2, 2, 2, 2], [40, 2, 2, 2], [0, 0, 255, 0], [0, 2, 0, 0]], np.uint8)
        assert sm.logsumexp(x, axis=(0, 1), where=[False, True, True, True],
                            b=np.full((4, 1), np.inf, np.float32)) == np.inf
        assert sm.logsumexp([2.0, 2000.0], b=[-np.inf, 1.0], return_sign=True) == (np.inf, -1.0)
        assert np.isnan(sm.logsumexp([-np.inf, 2000.0], b=[np.inf, 1.0]))


def test_regression_real_x_complex_v_jvp():
    """fuzz (atheris): softmax_jvp of a real x with -inf entries and a complex v gave NaN: x was
    cast to complex first, and (-inf + 0j) / T is NaN in complex arithmetic. softmax(x) is real
    and the JVP linear in v, so x now stays real."""
    x = np.array([3.25, -np.inf], np.float16)
    v = np.array([7 + 7j, 7 + 7j])
    for f in (sm.softmax_jvp, sm.log_softmax_jvp):
        got = f(x, v, temperature=0.001)
        assert got.dtype == np.complex128 and not np.isnan(got).any(), (f.__name__, got)
    np.testing.assert_array_equal(sm.softmax_jvp(x, v, temperature=0.001), [0, 0])


@pytest.mark.parametrize("t", [0.0, -0.0])
def test_regression_hard_limit_cancelling_weights_at_plus_inf(t):
    """fuzz (atheris): at T = 0 (or -0.0), +inf maxima whose weights cancel are inf - inf: NaN,
    as at any other T (scipy.special.logsumexp([inf, inf], b=[.5, -.5]) is NaN). The kernel said
    so; the reference said -inf."""
    from softmax import _reference
    a, b = np.array([np.inf, np.inf, 1.0]), np.array([0.5, -0.5, 1.0])
    for f in (sm.logsumexp, _reference.logsumexp):
        res, sign = f(a, b=b, temperature=t, return_sign=True)
        assert np.isnan(res) and np.isnan(sign), f


def test_regression_infinite_weight_on_exp_underflowing_in_long_double():
    """fuzz (atheris): logsumexp(int16 [..., 32767, ...], b=inf, temperature=-1.5): the exp of
    -32768/1.5 underflows even in long double, and the reference made inf * 0 = NaN where
    every term is +inf; the library said inf, now the reference does too."""
    x = np.array([2, 0, 1, 32767, 0, -1, 1], np.int16)
    res, sign = sm.logsumexp(x, b=[np.inf], temperature=-1.5, return_sign=True)
    assert (res, sign) == (-np.inf, 1.0)   # T * log(inf) with T < 0
    assert sm.logsumexp([1.0, -32767.0], b=[1.0, np.inf]) == np.inf


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("t", [5e-324, -1e-310, 5e-309])
def test_regression_tiny_temperature(dtype, t):
    """A |T| whose inverse overflows (below ~5.6e-309) gave NaN everywhere: (x - m) * (1/T) is
    0 * inf at the maximum. It is the T -> 0 limit there: exp((x - m)/T) is 1 at the maxima
    and 0 elsewhere in floating point, so the arg-max split evenly between ties, and
    T * logsumexp(x / T) = max + T * log(count) rounds to the max. Rows, short rows and columns."""
    sgn = 1.0 if t > 0 else -1.0
    base = np.array([1.0, 2.0, 2.0, 0.0]) * sgn
    for n in (1, 40, 300):   # 40 rows of 4: the short-row path; 300 columns: the column path
        x = np.tile(base, (n, 1)).astype(dtype)
        for axis, xx in ((-1, x), (0, np.ascontiguousarray(x.T))):
            np.testing.assert_array_equal(
                sm.softmax(xx, axis=axis, temperature=t), np.moveaxis(
                    np.tile(np.array([0, 0.5, 0.5, 0], dtype), (n, 1)), -1, axis))
            np.testing.assert_array_equal(
                sm.log_softmax(xx, axis=axis, temperature=t), np.moveaxis(np.tile(np.array(
                    [-np.inf, -np.log(2), -np.log(2), -np.inf], dtype), (n, 1)), -1, axis))
            np.testing.assert_array_equal(sm.logsumexp(xx, axis=axis, temperature=t),
                                          np.full(n, 2.0 * sgn, dtype))
    assert sm.logsumexp(base, b=[1.0, 3.0, 1.0, 1.0], temperature=t) == 2.0 * sgn + 0.0


@pytest.mark.parametrize("rows", [1, 300])
def test_regression_float32_jvp_zero_exp_times_infinite_tangent(rows):
    """fuzz (atheris): softmax_jvp(float32 [-inf, 7], [-1, -inf], T=2) is s * (v - sum(s v)) / T
    with s = [0, 1] and sum(s v) = -inf: [0 * inf, 1 * (-inf + inf)] = [nan, nan]. The float32
    kernels' exp gave exp(-120) for exp(-inf), so the first entry came out finite; it now gives
    0 below exp(-700). With a finite tangent of +-3e38 the entries are exactly 0 where s is
    [0, 1], and where s_0 = exp(-153.5) they are tiny but not 0 (+-s_0 * 6e38 / 2 = 6.5e-29;
    the second needs the sum of exps as a pair: 1 + s_0 rounds to 1, and mu = dot / sum
    is -3e38 + 1.3e-28).
    One row (the row kernel) and 300 short rows (the block-of-rows kernel)."""
    x = np.tile(np.array([-np.inf, 7.0], np.float32), (rows, 1))
    with np.errstate(all="ignore"):
        got = sm.softmax_jvp(x, np.tile(np.array([-1.0, -np.inf], np.float32), (rows, 1)),
                             axis=1, temperature=2.0)
    assert np.isnan(got).all()
    v = np.tile(np.array([3e38, -3e38], np.float32), (rows, 1))
    got = sm.softmax_jvp(x, v, axis=1, temperature=2.0)
    assert (got == 0).all(), got[:2]
    xx = np.tile(np.array([-300.0, 7.0], np.float32), (rows, 1))
    s = np.exp(np.array([-153.5, 0.0], np.longdouble))
    s /= s.sum()
    vl = v[0].astype(np.longdouble)
    # v_i - sum(s v) = sum_j s_j (v_i - v_j): no cancellation of the 3e38s
    want = (s * np.sum(s[None, :] * (vl[:, None] - vl[None, :]), axis=1) / 2).astype(np.float32)
    got = sm.softmax_jvp(xx, v, axis=1, temperature=2.0)
    np.testing.assert_allclose(got, np.tile(want, (rows, 1)), rtol=1e-6)
    assert abs(float(want[0]) - 6.5e-29) < 1e-30 and want[1] == -want[0]


def test_regression_reference_nan_weight_at_zero_temperature():
    """fuzz (atheris): logsumexp([40, 0], b=[-1, nan], temperature=0) is NaN (for every T != 0
    the total has a NaN term, so the limit is NaN too; scipy gives NaN at T = 1); the kernel
    said so, the reference said 40 with sign -1."""
    from softmax import _reference
    a, b = np.array([[40.0, 0.0], [4294967294.0, 0.0]]), np.array([-1.0, np.nan])
    for f in (sm.logsumexp, _reference.logsumexp):
        res, sign = f(a, axis=1, b=np.broadcast_to(b, a.shape), temperature=0, return_sign=True)
        assert np.isnan(res).all() and np.isnan(sign).all(), f

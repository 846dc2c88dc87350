"""logsumexp against the reference (b, return_sign, keepdims, where, temperature) and scipy."""

import numpy as np
import pytest
import scipy
import scipy.special

import softmax as sm
import util

# scipy follows C99's complex exp and log at complex infinities except in 1.14 and 1.15 (1.15.3,
# the last for CPython 3.10, gives NaN and other phases); the C99 values are asserted always.
SCIPY_C99_INFINITIES = tuple(int(p) for p in scipy.__version__.split(".")[:2]) not in ((1, 14),
                                                                                     (1, 15))

ARRAYS = list(util.arrays())
CASES = [pytest.param(x, id=label) for label, x in ARRAYS]
NONEMPTY = [pytest.param(x, id=label) for label, x in ARRAYS[1::3] if x.ndim and x.size]


def check_type(got, x, axis, keepdims, dtype):
    shape = util.reduced_shape(x.shape, axis, keepdims)
    msg = f"axis={axis} keepdims={keepdims}"
    assert np.shape(got) == shape, msg
    assert got.dtype == dtype, f"dtype {got.dtype} != {dtype} ({msg})"
    if axis is None and not keepdims:
        assert isinstance(got, np.generic), f"expected a numpy scalar, got {type(got)} ({msg})"
    elif keepdims:
        assert isinstance(got, np.ndarray), msg


def b_for(x, seed):
    """Weights for `x`: mostly positive, some negative, some zero (also on inf/nan entries of x)."""
    rng = np.random.default_rng(seed)
    b = rng.uniform(-0.5, 2.0, x.shape)
    b[rng.random(x.shape) < 0.2] = 0
    b[np.isnan(x) & (rng.random(x.shape) < 0.7)] = 0
    return b


def cancellation(x, b, axis, keepdims):
    """exp(lse(x, |b|) - lse(x, b)) >= 1: how much cancellation inside sum(b * exp(x)) amplifies errors."""
    with np.errstate(all="ignore"):
        pos = util.expected("logsumexp", x, axis, np.abs(b), keepdims, True)[0]
        sig = util.expected("logsumexp", x, axis, b, keepdims, True)[0]
        c = np.exp((pos - sig).real.astype(np.float64))
    return np.where(np.isfinite(c), c, 1.0)


@pytest.mark.parametrize("x", CASES)
def test_reference(x):
    dt = util.result_dtype(x.dtype)
    for i, axis in enumerate(util.axes_for(x.ndim)):
        keepdims = bool(i % 2)
        temperature = util.TEMPERATURES[(x.size + i) % 5]   # rotating: every one on every kind
        got = sm.logsumexp(x, axis=axis, keepdims=keepdims, temperature=temperature)
        check_type(got, x, axis, keepdims, dt)
        want = util.expected("logsumexp", x, axis=axis, keepdims=keepdims, temperature=temperature)
        util.assert_lse_close(got, want, x, f"axis={axis} keepdims={keepdims} T={temperature}")


@pytest.mark.parametrize("x", [p for p in NONEMPTY if p.values[0].dtype.kind != "c"])
def test_b_and_return_sign(x):
    for i, axis in enumerate(util.some_axes(x.ndim)):
        b = b_for(x, i)
        for b_arg in (b, b[(0,) * (x.ndim - 1)] if x.ndim > 1 else 2.0):  # full and broadcast b
            b_full = np.broadcast_to(b_arg, x.shape)
            dt = util.result_dtype(np.result_type(x, b_arg))
            xin = x.astype(np.result_type(x, b_arg))  # the reference precision follows the result dtype
            keepdims = bool(i % 2)
            for temperature in (1.0, 0.5):
                msg = f"axis={axis} keepdims={keepdims} T={temperature} b.shape={np.shape(b_arg)}"
                amp = cancellation(xin / temperature, b_full, axis, keepdims)
                good = amp * util.base_rtol(dt) < 1e-3  # sign/value well-defined at this precision
                want, wsign = util.expected("logsumexp", xin, axis, b_full, keepdims, True, temperature=temperature)
                got, gsign = sm.logsumexp(x, axis=axis, b=b_arg, keepdims=keepdims, return_sign=True,
                                          temperature=temperature)
                check_type(got, x, axis, keepdims, dt)
                check_type(gsign, x, axis, keepdims, dt)
                np.testing.assert_array_equal(np.where(good, gsign, 0), np.where(good, wsign, 0), err_msg=msg)
                assert set(np.unique(gsign)[~np.isnan(np.unique(gsign))]) <= {-1, 0, 1}, msg
                ad = np.abs(xin[np.isfinite(xin)]).max(initial=0)
                rtol = util.base_rtol(dt) * amp
                util.assert_close(np.where(good, got, 0), np.where(good, want, 0), rtol,
                                  rtol * (1 + float(ad)), msg)
                plain = sm.logsumexp(x, axis=axis, b=b_arg, keepdims=keepdims, temperature=temperature)
                # without return_sign: same value where the total is positive, NaN where negative
                want_plain = np.where(wsign < 0, np.nan, want)
                util.assert_close(np.where(good, plain, 0), np.where(good, want_plain, 0), rtol,
                                  rtol * (1 + float(ad)), msg)


@pytest.mark.parametrize("x", NONEMPTY)
def test_where(x):
    for i, axis in enumerate(util.some_axes(x.ndim)):
        for where in (util.random_where(x.shape, seed=i, axis=axis), util.random_where(x.shape[-1:], seed=i)):
            for temperature in (1.0, 0.0, -2.0):
                got = sm.logsumexp(x, axis=axis, temperature=temperature, where=where)
                check_type(got, x, axis, False, util.result_dtype(x.dtype))
                want = util.expected("logsumexp", x, axis=axis, temperature=temperature,
                                     where=np.broadcast_to(where, x.shape))
                util.assert_lse_close(got, want, x, f"axis={axis} T={temperature}")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape,axis", [((7,), None), ((7,), 0), ((5, 7), 1), ((5, 7), 0),
                                        ((2, 3, 4, 5), (1, 3)), ((1000,), -1)])
def test_matches_scipy(dtype, shape, axis):
    """On ordinary inputs (no cancellation), scipy is right: agree with it."""
    x = util.make(dtype, shape, seed=11)
    b = np.random.default_rng(1).uniform(0.1, 2.0, shape).astype(dtype)
    rtol = 1e-12 if dtype == np.float64 else 5e-6
    for keepdims in (False, True):
        kw = dict(axis=axis, keepdims=keepdims)
        got, want = sm.logsumexp(x, **kw), scipy.special.logsumexp(x, **kw)
        assert type(got) is type(want) and np.shape(got) == np.shape(want)
        np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol)
        got = sm.logsumexp(x, b=b, return_sign=True, **kw)
        want = scipy.special.logsumexp(x, b=b, return_sign=True, **kw)
        np.testing.assert_allclose(got[0], want[0], rtol=rtol, atol=rtol)
        np.testing.assert_array_equal(got[1], want[1])
        got = sm.logsumexp(x, b=-b, return_sign=True, **kw)
        want = scipy.special.logsumexp(x, b=-b, return_sign=True, **kw)
        np.testing.assert_allclose(got[0], want[0], rtol=rtol, atol=rtol)
        np.testing.assert_array_equal(got[1], want[1])


def test_temperature_zero_is_max():
    x = util.make(np.float64, (5, 7), seed=2)
    for axis in util.axes_for(2):
        for t in (0.0, -0.0):
            np.testing.assert_array_equal(sm.logsumexp(x, axis=axis, temperature=t), np.max(x, axis=axis))
    np.testing.assert_array_equal(sm.logsumexp(x, axis=1, temperature=0.0, b=np.full(7, 3.0)), np.max(x, axis=1))


def test_temperature_scaling():
    """T * logsumexp(a / T): tends to max as T -> 0+, to min as T -> 0-."""
    x = util.make(np.float64, (5, 7), seed=4)
    np.testing.assert_allclose(sm.logsumexp(x, axis=1, temperature=1e-3), x.max(axis=1), atol=1e-2)
    np.testing.assert_allclose(sm.logsumexp(x, axis=1, temperature=-1e-3), x.min(axis=1), atol=1e-2)
    np.testing.assert_allclose(sm.logsumexp(x, axis=1, temperature=3.0),
                               3.0 * scipy.special.logsumexp(x / 3.0, axis=1), rtol=1e-13)


@pytest.mark.parametrize("shape,axis", [((0,), None), ((0,), 0), ((3, 0), 1), ((0, 4), 0), ((0, 4), 1)])
def test_empty(shape, axis):
    x = np.zeros(shape)
    got = sm.logsumexp(x, axis=axis)
    assert np.shape(got) == util.reduced_shape(shape, axis)
    assert np.all(got == -np.inf)


@pytest.mark.parametrize("adt,bdt", [(np.float32, np.float32), (np.float32, np.float64), (np.float16, np.float16),
                                     (np.int8, np.float32), (np.float32, np.int64), (np.float64, np.bool_)])
def test_result_dtype_with_b(adt, bdt):
    a = np.array([1, 2, 3]).astype(adt)
    b = np.array([1, 0, 2]).astype(bdt)
    got = sm.logsumexp(a, b=b)
    want_dt = util.result_dtype(np.result_type(a, b))
    assert got.dtype == want_dt and isinstance(got, np.generic)
    want = np.log(np.sum(b.astype(float) * np.exp(a.astype(float))))
    np.testing.assert_allclose(got, want, rtol=util.base_rtol(want_dt))


@pytest.mark.parametrize("ashape,bshape,axis", [((3,), (2, 1), None), ((3,), (2, 1), 0), ((3,), (2, 1), 1),
                                                ((4, 1, 2, 1), (3, 1, 5), None), ((4, 1, 2, 1), (3, 1, 5), (1, 3)),
                                                ((), (4,), 0), ((2, 1), (2, 3), -1)])
def test_b_broadcasts_a(ashape, bshape, axis):
    """As scipy: b may broadcast a to a larger shape; axis counts the axes of the broadcast shape."""
    a = util.make(np.float64, ashape, seed=5)
    b = np.random.default_rng(6).uniform(-1.0, 2.0, bshape)
    full = np.broadcast_shapes(ashape, bshape)
    for kw in ({}, {"keepdims": True}, {"return_sign": True}):
        got = sm.logsumexp(a, axis=axis, b=b, **kw)
        want = scipy.special.logsumexp(a, axis=axis, b=b, **kw)
        exact = util.expected("logsumexp", np.broadcast_to(a, full), axis, np.broadcast_to(b, full),
                              kw.get("keepdims", False), kw.get("return_sign", False))
        for g, w, e in zip(*((got, want, exact) if kw.get("return_sign") else ((got,), (want,), (exact,)))):
            assert type(g) is type(w) and np.shape(g) == np.shape(w)
            util.assert_lse_close(g, e, a)
    with pytest.raises(ValueError, match=r"b of shape \(3, 3\) does not broadcast with a of shape \(2,\)"):
        sm.logsumexp(np.zeros(2), b=np.ones((3, 3)))


@pytest.mark.parametrize("dtype", [np.complex64, np.complex128])
def test_complex_return_sign_is_real_and_phase(dtype):
    """As scipy: with return_sign a complex input gives the log of the modulus (real) and the
    phase of the sum (complex)."""
    a = np.array([[1 + 1j, 2 - 1j, -2 + 3j], [0.5j, -1, 3 + 0.25j]], dtype)
    for axis in (None, 1):
        res, sgn = sm.logsumexp(a, axis=axis, return_sign=True)
        want = scipy.special.logsumexp(a, axis=axis, return_sign=True)
        assert np.asarray(res).dtype == np.finfo(dtype).dtype and np.asarray(sgn).dtype == dtype
        # scalar or array as scipy (scipy < 1.15 gave complex128 signs for complex64: the dtype
        # above is the policy, not its type)
        assert np.ndim(res) == np.ndim(want[0]) and isinstance(sgn, np.ndarray) == isinstance(want[1], np.ndarray)
        tol = 1e-6 if dtype == np.complex64 else 1e-14
        np.testing.assert_allclose(res, want[0], rtol=tol)
        np.testing.assert_allclose(sgn, want[1], rtol=tol)
        np.testing.assert_allclose(sgn * np.exp(res), np.sum(np.exp(a.astype(complex)), axis=axis), rtol=tol)


INF = [-np.inf, np.inf, complex(-np.inf, 0.0), complex(np.inf, -0.0), complex(-np.inf, np.inf),
       complex(np.inf, -np.inf), complex(-np.inf, 2.3562), complex(np.inf, 3.9270), complex(np.inf, 0.7533)]


@pytest.mark.parametrize("y", INF)
@pytest.mark.parametrize("x", INF)
def test_complex_infinities_as_scipy(x, y):
    """Complex infinities follow C99's exp and log, as scipy (`log(sum(exp(a)))` there):
    logsumexp([-inf, -inf+0j]) is -inf+0j, logsumexp([inf, inf+0j]) inf+0j."""
    a = np.array([x, y])
    with np.errstate(all="ignore"):
        want = np.log(np.sum(np.exp(a)))
        got = sm.logsumexp(a)
        np.testing.assert_array_equal(got, want)
        if SCIPY_C99_INFINITIES:
            np.testing.assert_array_equal(got, scipy.special.logsumexp(a))
        for t in (2.0, 0.5) if a.dtype.kind == "c" else ():  # T * log(sum(exp(a / T))), part by part
            z = np.empty_like(a)
            z.real, z.imag = a.real / t, a.imag / t
            r = np.log(np.sum(np.exp(z)))
            want = np.empty_like(r)
            want.real, want.imag = t * r.real, t * r.imag
            np.testing.assert_array_equal(sm.logsumexp(a, temperature=t), want)

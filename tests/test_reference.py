"""The NumPy path (softmax._reference, which computes longdouble and complex inputs) against
mpmath (200 digits) and scipy.special."""

import mpmath
import numpy as np
import pytest
import scipy.special as sps

from softmax import _reference as ref
import util

DPS = 200  # log(1 + tiny) needs far more digits than the result
LD = np.longdouble
RTOL = 64 * float(np.finfo(LD).eps)


@mpmath.workdps(DPS)
def mp_softmax_row(x, t):
    z = [mpmath.mpf(float(v)) / mpmath.mpf(t) for v in x]
    m = max(z)
    e = [mpmath.exp(v - m) for v in z]
    s = mpmath.fsum(e)
    return [v / s for v in e], [v - m - mpmath.log(s) for v in z], mpmath.mpf(t) * (m + mpmath.log(s))


@mpmath.workdps(DPS)
def to_ld(values):
    return np.array([mpmath.nstr(v, 30) for v in values], dtype=LD)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("t", [1.0, 0.1, -2.0, 10.0])
def test_against_mpmath(seed, t):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(9) * (3 if seed % 2 else 30)
    if seed == 4:
        x[0] = 40.0  # log_softmax and logsumexp next to 0 / a dominant entry
        x[1:] -= 20
    s, ls, lse = mp_softmax_row(list(x), t)
    xl = x.astype(LD)
    np.testing.assert_allclose(ref.softmax(xl, temperature=t).astype(float), to_ld(s).astype(float), rtol=1e-15)
    util.assert_close(ref.softmax(xl, temperature=t), to_ld(s), RTOL * (1 + util.cond(x, t)), 0)
    util.assert_close(ref.log_softmax(xl, temperature=t), to_ld(ls), RTOL * (1 + util.cond(x, t)), 0)
    util.assert_close(ref.logsumexp(xl, temperature=t), to_ld([lse])[0], RTOL * (1 + util.cond(x, t).max()), 0)


def test_log1p_accuracy_near_zero():
    """log_softmax of a dominant entry and logsumexp near 0 keep their relative accuracy."""
    x = np.array([0.0, -40.0, -45.0])
    s, ls, lse = mp_softmax_row(list(x), 1.0)
    for dt in (np.float64, LD):
        r = 4 * float(np.finfo(dt).eps)
        util.assert_close(ref.log_softmax(x.astype(dt))[0], to_ld(ls[:1])[0], r, 0)
        util.assert_close(ref.logsumexp(x.astype(dt)), to_ld([lse])[0], r, 0)


@pytest.mark.parametrize("shape,axis", [((7,), None), ((5, 7), 0), ((5, 7), 1), ((2, 3, 4, 5), (1, 3))])
def test_against_scipy(shape, axis):
    x = util.make(np.float64, shape, seed=1)
    b = np.random.default_rng(2).uniform(-0.2, 2, shape)
    np.testing.assert_allclose(ref.softmax(x, axis), sps.softmax(x, axis), rtol=1e-14)
    np.testing.assert_allclose(ref.log_softmax(x, axis), sps.log_softmax(x, axis), rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(ref.logsumexp(x, axis), sps.logsumexp(x, axis), rtol=1e-14)
    got, want = ref.logsumexp(x, axis, b, True, True), sps.logsumexp(x, axis, b, True, True)
    np.testing.assert_allclose(got[0], want[0], rtol=1e-12)
    np.testing.assert_array_equal(got[1], want[1])
    z = x + 1j * util.make(np.float64, shape, seed=3)
    np.testing.assert_allclose(ref.softmax(z, axis), sps.softmax(z, axis), rtol=1e-13)
    np.testing.assert_allclose(ref.logsumexp(z, axis), sps.logsumexp(z, axis), rtol=1e-13)


def test_dtype_is_kept():
    for dt in (np.float16, np.float32, np.float64, LD, np.complex64, np.complex128, np.clongdouble):
        x = np.arange(6, dtype=dt).reshape(2, 3)
        for f in (ref.softmax, ref.log_softmax, ref.logsumexp):
            assert f(x).dtype == dt
        assert ref.logsumexp(x, return_sign=True)[1].dtype == dt
        for f in (ref.softmax_jvp, ref.softmax_vjp, ref.log_softmax_jvp, ref.log_softmax_vjp):
            assert f(x, x, 1).dtype == dt


def test_weighted_logsumexp_ignores_masked_infinite_weights():
    """An inf or NaN weight under a False of `where` takes no part (it must not become inf * 0)."""
    a, keep = np.array([0.0, 1.0, 2.0]), np.array([False, True, True])
    want = float(np.log(np.exp(1.0) + np.exp(2.0)))
    for bad in (np.inf, -np.inf, np.nan):
        got = ref.logsumexp(a, b=np.array([bad, 1.0, 1.0]), where=keep)
        assert abs(float(got) - want) < 1e-15 * want


def test_weighted_logsumexp_infinite_weight_on_underflowed_exp():
    """An infinite weight times an exp that underflows even in long double is still infinite
    (every term of the sum is), as the kernels say; times exp(-inf) it is NaN, as scipy says."""
    a = np.array([1.0, -32767.0])
    assert ref.logsumexp(a, b=np.array([1.0, np.inf])) == np.inf
    assert np.isnan(ref.logsumexp(np.array([1.0, -np.inf]), b=np.array([1.0, np.inf])))

"""Mathematical properties checked with hypothesis on random float64 inputs."""

import numpy as np
from hypothesis import given, strategies as st
from hypothesis.extra import numpy as hnp

import softmax as sm
import util

finite = st.floats(-60, 60, allow_nan=False, allow_infinity=False, allow_subnormal=False)
grid = st.integers(-480, 480).map(lambda k: k / 8)  # exactly representable, so x + c is exact
shapes = hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=6)
temps = st.one_of(st.sampled_from([1.0, 0.5, 2.0, -1.0]), st.floats(0.05, 20), st.floats(-20, -0.05))


@st.composite
def array_and_axis(draw, elements=finite):
    x = draw(hnp.arrays(np.float64, shapes, elements=elements))
    axis = draw(st.one_of(st.none(), st.integers(-x.ndim, x.ndim - 1)))
    return x, axis


def tol(x, t):
    return 1e-13 * (1 + util.cond(x, t))


@given(array_and_axis(), temps)
def test_sums_to_one(xa, t):
    x, axis = xa
    s = sm.softmax(x, axis=axis, temperature=t)
    assert np.all(s >= 0) and np.all(s <= 1)
    k = x.size if axis is None else x.shape[axis]
    np.testing.assert_allclose(np.sum(s, axis=axis), 1.0, rtol=0, atol=1e-14 * (k + 4))


@given(array_and_axis(elements=grid), st.integers(-200, 200), temps)
def test_translation_invariance(xa, c, t):
    x, axis = xa
    for f in (sm.softmax, sm.log_softmax):
        a, b = f(x, axis=axis, temperature=t), f(x + c, axis=axis, temperature=t)
        r = tol(x + c, t)
        util.assert_close(b, a, r, r if f is sm.log_softmax else 1e-300)
    lse, lse_c = sm.logsumexp(x, axis=axis, temperature=t), sm.logsumexp(x + c, axis=axis, temperature=t)
    np.testing.assert_allclose(lse_c, lse + c, rtol=1e-13, atol=1e-12 * (1 + np.abs(x).max() + abs(c)))


@given(hnp.arrays(np.float64, st.integers(1, 30), elements=finite), temps)
def test_order_preserved(x, t):
    s = sm.softmax(x, temperature=t)
    ls = sm.log_softmax(x, temperature=t)
    i, j = np.nonzero(x[:, None] < x[None, :])
    if t < 0:
        i, j = j, i  # negative temperature reverses the order
    assert np.all(s[i] <= s[j])
    assert np.all(ls[i] <= ls[j])


@given(array_and_axis(), temps)
def test_log_softmax_is_log_of_softmax(xa, t):
    x, axis = xa
    s = sm.softmax(x, axis=axis, temperature=t)
    ls = sm.log_softmax(x, axis=axis, temperature=t)
    ok = s > 1e-250  # far from underflow, so log(s) is accurate
    with np.errstate(divide="ignore"):
        want = np.log(s)
    r = tol(x, t)
    util.assert_close(np.where(ok, ls, 0), np.where(ok, want, 0), 4 * r, 4 * r)


@given(array_and_axis(), temps)
def test_logsumexp_bounds_and_softmax(xa, t):
    x, axis = xa
    lse = sm.logsumexp(x, axis=axis, temperature=t, keepdims=True)
    k = x.size if axis is None else x.shape[axis]
    ext = np.max(x, axis=axis, keepdims=True) if t > 0 else np.min(x, axis=axis, keepdims=True)
    slack = 1e-12 * (1 + np.abs(x).max())
    if t > 0:
        assert np.all(lse >= ext - slack) and np.all(lse <= ext + t * np.log(k) + slack)
    else:
        assert np.all(lse <= ext + slack) and np.all(lse >= ext + t * np.log(k) - slack)
    r = tol(x, t)
    util.assert_close(sm.softmax(x, axis=axis, temperature=t), np.exp((x - lse) / t), 4 * r, 1e-300)


@given(array_and_axis(), temps, st.integers(0, 2 ** 32 - 1))
def test_vjp_equals_jvp(xa, t, seed):
    x, axis = xa
    v = np.random.default_rng(seed).standard_normal(x.shape)
    y = sm.softmax(x, axis=axis, temperature=t)
    r = tol(x, t)
    util.assert_close(sm.softmax_vjp(y, v, axis=axis, temperature=t), sm.softmax_jvp(x, v, axis=axis, temperature=t),
                      r, r * (1 + np.abs(v).max()) / abs(t))


@given(hnp.arrays(np.float64, hnp.array_shapes(min_dims=2, max_dims=3, min_side=1, max_side=5), elements=finite))
def test_axis_permutation_equivariance(x):
    for f in (sm.softmax, sm.log_softmax):
        a = f(x, axis=0)
        b = np.moveaxis(f(np.moveaxis(x, 0, -1), axis=-1), -1, 0)
        r = tol(x, 1.0)
        util.assert_close(b, a, r, r if f is sm.log_softmax else 1e-300)


@given(array_and_axis(elements=st.floats(-30, 30, width=32)), temps)
def test_float32_close_to_float64(xa, t):
    x, axis = xa
    x32 = x.astype(np.float32)
    for f in (sm.softmax, sm.log_softmax):
        a, b = f(x32, axis=axis, temperature=t), f(x32.astype(np.float64), axis=axis, temperature=t)
        assert a.dtype == np.float32
        r = 2e-6 * (1 + util.cond(x32, t))
        util.assert_close(a, b, r, r if f is sm.log_softmax else 1e-37)

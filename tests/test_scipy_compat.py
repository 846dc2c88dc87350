"""Drop-in compatibility with scipy.special on ordinary inputs: values, shapes, dtypes, return types."""

import numpy as np
import pytest
import scipy.special as sps

import softmax as sm
import util

SHAPES_AXES = [((7,), None), ((7,), 0), ((7,), -1), ((5, 7), None), ((5, 7), 0), ((5, 7), 1), ((5, 7), (0, 1)),
               ((2, 3, 4, 5), 2), ((2, 3, 4, 5), (1, 3)), ((1000,), None), ((1,), 0)]


def same_kind(got, want):
    assert type(got) is type(want), f"{type(got)} != {type(want)}"
    assert np.shape(got) == np.shape(want)
    assert np.asarray(got).dtype == np.asarray(want).dtype


def close(got, want, dtype, scale=1.0):
    # scipy computes log(sum) rather than log1p, so allow an absolute error of a few ulps of 1
    r = 1e-13 if np.dtype(dtype) == np.float64 else 5e-6
    np.testing.assert_allclose(got, want, rtol=r, atol=r * scale)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape,axis", SHAPES_AXES)
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_like(name, dtype, shape, axis):
    x = util.make(dtype, shape, seed=21)
    got, want = getattr(sm, name)(x, axis=axis), getattr(sps, name)(x, axis=axis)
    same_kind(got, want)
    close(got, want, dtype, 1 + np.abs(x).max())
    same_kind(getattr(sm, name)(x, axis), want)  # axis positional, as scipy allows


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape,axis", SHAPES_AXES)
def test_logsumexp(dtype, shape, axis):
    x = util.make(dtype, shape, seed=22)
    b = np.random.default_rng(0).uniform(0.5, 2, shape).astype(dtype)
    scale = 1 + np.abs(x).max()
    for kw in [{}, {"keepdims": True}, {"b": b}, {"b": b, "return_sign": True}, {"b": -b, "return_sign": True},
               {"b": b, "keepdims": True, "return_sign": True}]:
        got, want = sm.logsumexp(x, axis=axis, **kw), sps.logsumexp(x, axis=axis, **kw)
        if kw.get("return_sign"):
            assert isinstance(got, tuple) and len(got) == 2
            for g, w in zip(got, want):
                same_kind(g, w)
            close(got[0], want[0], dtype, scale)
            np.testing.assert_array_equal(got[1], want[1])
        else:
            same_kind(got, want)
            close(got, want, dtype, scale)
    # positional arguments in scipy's order: a, axis, b, keepdims, return_sign
    got, want = sm.logsumexp(x, axis, b, True, True), sps.logsumexp(x, axis, b, True, True)
    close(got[0], want[0], dtype, scale)


def test_seed_example():
    got = sm.softmax([1, 2, 3, 4, 1, 2, 3])
    want = [0.0236405, 0.0642617, 0.174681, 0.474833, 0.0236405, 0.0642617, 0.174681]
    assert [float(f"{g:.6g}") for g in got] == want  # to 6 significant digits
    assert isinstance(got, np.ndarray) and got.dtype == np.float64 and got.shape == (7,)


@pytest.mark.parametrize("x", [[1.0, 2.0, 3.0], [[1, 2], [3, 5]], (0.5, -0.5), [[True, False]], [7]])
@pytest.mark.parametrize("name", ["softmax", "log_softmax", "logsumexp"])
def test_array_like_inputs(name, x):
    got = getattr(sm, name)(x)
    want = getattr(sps, name)(np.asarray(x, dtype=np.float64))
    same_kind(got, want)
    np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("dtype", [np.int8, np.uint8, np.int16, np.int32, np.int64, np.uint64, np.bool_])
@pytest.mark.parametrize("name", ["softmax", "log_softmax", "logsumexp"])
def test_integer_inputs(name, dtype):
    """Integers are converted to float64 first: no wraparound (scipy itself gets uint8 wrong)."""
    x = np.array([True, False, True]) if dtype == np.bool_ else np.array([0, 1, 5, 100, 127], dtype=dtype)
    for axis in (None, 0):
        got = getattr(sm, name)(x, axis=axis)
        want = getattr(sps, name)(x.astype(np.float64), axis=axis)
        assert np.asarray(got).dtype == np.float64
        same_kind(got, want)
        np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-15)


def test_uint8_example_from_spec():
    got = sm.softmax(np.array([1, 200], np.uint8))
    np.testing.assert_allclose(got, [np.exp(-199.0), 1.0], rtol=1e-13)


@pytest.mark.parametrize("x", [3.0, -1.5, np.float32(2.0), np.float64(-7.0), np.array(0.25), np.array(4.0, np.float32)])
def test_zero_d_return_types(x):
    for name in ("softmax", "log_softmax", "logsumexp"):
        got, want = getattr(sm, name)(x), getattr(sps, name)(x)
        same_kind(got, want)
        assert got == want
    got, want = sm.logsumexp(x, return_sign=True), sps.logsumexp(x, return_sign=True)
    same_kind(got[0], want[0])
    same_kind(got[1], want[1])


def test_logsumexp_scalar_results():
    x = util.make(np.float64, (5, 7), seed=3)
    assert type(sm.logsumexp(x)) is np.float64
    assert type(sm.logsumexp(x.astype(np.float32))) is np.float32
    assert type(sm.logsumexp(x[0], axis=0)) is type(sps.logsumexp(x[0], axis=0))
    assert type(sm.logsumexp(x, axis=(0, 1))) is type(sps.logsumexp(x, axis=(0, 1)))
    got = sm.logsumexp(x, keepdims=True)
    assert isinstance(got, np.ndarray) and got.shape == (1, 1)


def test_default_axis_is_none():
    x = util.make(np.float64, (5, 7), seed=4)
    np.testing.assert_allclose(sm.softmax(x), sps.softmax(x), rtol=1e-13)
    np.testing.assert_allclose(np.sum(sm.softmax(x)), 1.0, rtol=1e-14)
    np.testing.assert_allclose(sm.log_softmax(x), sps.log_softmax(x), rtol=1e-13, atol=1e-14)

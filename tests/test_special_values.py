"""Special values (NaN, +-inf, empty, ties, temperature 0, masks), with expectations written by hand."""

import numpy as np
import pytest

import softmax as sm
import util

nan, inf = np.nan, np.inf
L2, L3, L4 = np.log(2), np.log(3), np.log(4)
DTYPES = [np.float16, np.float32, np.float64, np.longdouble]

# rows: input, softmax, log_softmax, logsumexp (reduction along the row)
_R = np.arange(1.0, 5.0)
_LSE = 4 + np.log1p(np.exp(-1) + np.exp(-2) + np.exp(-3))
ROWS = [
    (_R, np.exp(_R - _LSE), _R - _LSE, _LSE),
    ([1, nan, 3, 4], [nan] * 4, [nan] * 4, nan),                                  # NaN -> NaN slice
    ([inf, 1, inf, -inf], [.5, 0, .5, 0], [-L2, -inf, -L2, -inf], inf),           # +inf split evenly
    ([-inf] * 4, [nan] * 4, [nan] * 4, -inf),                                     # all -inf
    ([-inf, 0, 0, -inf], [0, .5, .5, 0], [-inf, -L2, -L2, -inf], L2),             # -inf among finite
    ([5, 5, 5, 5], [.25] * 4, [-L4] * 4, 5 + L4),                                 # equal -> uniform
    ([nan, inf, 1, -inf], [nan] * 4, [nan] * 4, nan),                             # NaN beats inf
    ([1, inf, 2, 3], [0, 1, 0, 0], [-inf, 0, -inf, -inf], inf),                   # single +inf
    ([inf, inf, inf, inf], [.25] * 4, [-L4] * 4, inf),                            # all +inf
    ([-inf, -inf, -inf, 7], [0, 0, 0, 1], [-inf, -inf, -inf, 0], 7),               # one finite
]


def table(dtype, col):
    return np.array([r[col] for r in ROWS], dtype=np.float64).astype(dtype)


def check(got, want, dtype):
    util.assert_close(got, np.asarray(want).astype(got.dtype), util.base_rtol(dtype) * 4,
                      util.base_rtol(dtype) * 4)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("transpose", [False, True])
def test_rows(dtype, order, transpose):
    x = np.array(table(dtype, 0), order=order)
    axis = 1
    if transpose:
        x, axis = np.array(x.T, order=order), 0
    for col, func in [(1, sm.softmax), (2, sm.log_softmax)]:
        want = table(dtype, col)
        got = func(x, axis=axis)
        assert got.dtype == dtype
        check(got.T if transpose else got, want, dtype)
    check(sm.logsumexp(x, axis=axis), table(dtype, 3), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_rows_in_batches(dtype):
    """The same rows along the middle axis of a 3-d array, and as a 1-d input."""
    x = np.stack([table(dtype, 0)] * 3, axis=-1)  # (rows, K, 3)
    for col, func in [(1, sm.softmax), (2, sm.log_softmax)]:
        want = np.stack([table(dtype, col)] * 3, axis=-1)
        check(func(x, axis=1), want, dtype)
        for i, row in enumerate(table(dtype, 0)):
            check(func(row), table(dtype, col)[i], dtype)
    check(sm.logsumexp(x, axis=1), np.stack([table(dtype, 3)] * 3, axis=-1), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("zero", [0.0, -0.0])
def test_temperature_zero(dtype, zero):
    cases = [  # x, softmax, log_softmax, logsumexp
        ([1, 3, 3, 2], [0, .5, .5, 0], [-inf, -L2, -L2, -inf], 3),
        ([1, 5, 2, 0], [0, 1, 0, 0], [-inf, 0, -inf, -inf], 5),
        ([7, 7, 7, -inf], [1 / 3, 1 / 3, 1 / 3, 0], [-L3, -L3, -L3, -inf], 7),
        ([inf, 3, inf, 1], [.5, 0, .5, 0], [-L2, -inf, -L2, -inf], inf),
        ([1, nan, 3, 3], [nan] * 4, [nan] * 4, nan),
        ([-2, -1, -1, -1.5], [0, .5, .5, 0], [-inf, -L2, -L2, -inf], -1),
    ]
    for x, s, ls, lse in cases:
        x = np.array(x, dtype)
        check(sm.softmax(x, temperature=zero), s, dtype)
        check(sm.log_softmax(x, temperature=zero), ls, dtype)
        check(sm.logsumexp(x, temperature=zero), lse, dtype)
    x2 = np.array([[1, 3, 3, 2], [4, 0, 4, 4]], dtype)
    check(sm.softmax(x2, axis=1, temperature=zero), [[0, .5, .5, 0], [1 / 3, 0, 1 / 3, 1 / 3]], dtype)
    check(sm.softmax(x2, axis=0, temperature=zero), [[0, 1, 0, 0], [1, 0, 1, 1]], dtype)
    check(sm.softmax(x2, temperature=zero), [[0, 0, 0, 0], [1 / 3, 0, 1 / 3, 1 / 3]], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_negative_temperature(dtype):
    x = np.array([1.0, 2.0, 0.5], dtype)
    xf = np.array([1.0, 2.0, 0.5])
    e = np.exp(-xf / 2 - np.max(-xf / 2))
    check(sm.softmax(x, temperature=-2.0), e / e.sum(), dtype)
    check(sm.log_softmax(x, temperature=-2.0), np.log(e / e.sum()), dtype)
    check(sm.logsumexp(x, temperature=-2.0), -2 * np.log(np.sum(np.exp(-xf / 2))), dtype)
    y = np.array([inf, 1, -inf, 0], dtype)  # arg-min side: -inf wins
    check(sm.softmax(y, temperature=-1.0), [0, 0, 1, 0], dtype)
    check(sm.log_softmax(y, temperature=-1.0), [-inf, -inf, 0, -inf], dtype)
    check(sm.logsumexp(y, temperature=-1.0), -inf, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_where(dtype):
    x = np.array([[1, nan, 2, inf], [nan, inf, -inf, 3], [-inf, -inf, 5, 5]], dtype)
    w = np.array([[1, 0, 1, 0], [0, 0, 0, 0], [1, 1, 0, 0]], bool)
    e = np.exp(np.array([1.0, 2.0]) - 2)
    s1 = e / e.sum()
    check(sm.softmax(x, axis=1, where=w), [[s1[0], 0, s1[1], 0], [0] * 4, [nan, nan, 0, 0]], dtype)
    check(sm.log_softmax(x, axis=1, where=w),
          [[np.log(s1[0]), -inf, np.log(s1[1]), -inf], [-inf] * 4, [nan, nan, -inf, -inf]], dtype)
    check(sm.logsumexp(x, axis=1, where=w), [2 + np.log1p(np.exp(-1.0)), -inf, -inf], dtype)
    # masked values have no effect at all, whatever they are
    for fill in (nan, inf, -inf, 1e4):
        x2 = np.where(w, x, fill).astype(dtype)
        for func in (sm.softmax, sm.log_softmax, sm.logsumexp):
            util.assert_close(func(x2, axis=1, where=w), func(x, axis=1, where=w), 0)
    # fully masked: 0 / -inf, never NaN, for every temperature
    z = np.array([nan, 1, inf], dtype)
    for t in (1.0, 0.0, -2.0):
        none = np.zeros(3, bool)
        check(sm.softmax(z, where=none, temperature=t), [0, 0, 0], dtype)
        check(sm.log_softmax(z, where=none, temperature=t), [-inf] * 3, dtype)
        check(sm.logsumexp(z, where=none, temperature=t), -inf, dtype)
    # negative temperature: the masked entries still drop out (they do not become the arg-min)
    y = np.array([3, -1, 0.5, 1], dtype)
    wy = np.array([1, 0, 1, 1], bool)
    e = np.exp(-np.array([3, 0.5, 1]) / 2)
    e = e / e.sum()
    check(sm.softmax(y, where=wy, temperature=-2.0), [e[0], 0, e[1], e[2]], dtype)
    check(sm.log_softmax(y, where=wy, temperature=-2.0), [np.log(e[0]), -inf, np.log(e[1]), np.log(e[2])], dtype)
    check(sm.logsumexp(y, where=wy, temperature=-2.0), -2 * np.log(np.sum(np.exp(-np.array([3, 0.5, 1]) / 2))),
          dtype)
    check(sm.softmax(y, where=wy, temperature=0.0), [1, 0, 0, 0], dtype)
    # a scalar / broadcast mask
    check(sm.softmax(np.array([1, 1], dtype), where=True), [.5, .5], dtype)
    check(sm.softmax(np.array([[1, 5], [1, 7]], dtype), axis=0, where=[True, False]), [[.5, 0], [.5, 0]], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_where_jvp(dtype):
    x = np.array([1, nan, 2, inf], dtype)
    w = np.array([1, 0, 1, 0], bool)
    v = np.array([0.5, 3, -1, 2], dtype)
    e = np.exp(np.array([1.0, 2.0]) - 2)
    s = e / e.sum()
    vv = np.array([0.5, -1])
    d = s * (vv - np.dot(s, vv))
    check(sm.softmax_jvp(x, v, where=w), [d[0], 0, d[1], 0], dtype)
    dl = vv - np.dot(s, vv)
    check(sm.log_softmax_jvp(x, v, where=w), [dl[0], 0, dl[1], 0], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_empty(dtype):
    for shape, axis in [((0,), None), ((0,), 0), ((3, 0), 1), ((3, 0), None), ((0, 4), 0), ((0, 4), 1),
                        ((3, 0), 0)]:
        x = np.zeros(shape, dtype)
        for func in (sm.softmax, sm.log_softmax):
            got = func(x, axis=axis)
            assert got.shape == shape and got.dtype == dtype
        lse = sm.logsumexp(x, axis=axis)
        assert np.shape(lse) == util.reduced_shape(shape, axis)
        assert np.all(np.asarray(lse) == -inf)


@pytest.mark.parametrize("dtype", DTYPES)
def test_zero_d_special(dtype):
    for v, s, ls, lse in [(2.5, 1, 0, 2.5), (inf, 1, 0, inf), (-inf, nan, nan, -inf), (nan, nan, nan, nan)]:
        x = np.array(v, dtype)
        check(sm.softmax(x), s, dtype)
        check(sm.log_softmax(x), ls, dtype)
        check(sm.logsumexp(x), lse, dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.longdouble])
def test_extreme_magnitudes(dtype):
    big = np.finfo(dtype).max
    tiny = np.finfo(dtype).smallest_subnormal
    check(sm.softmax(np.array([big, big], dtype)), [.5, .5], dtype)
    check(sm.softmax(np.array([-big, big], dtype)), [0, 1], dtype)
    check(sm.softmax(np.array([-big, -big], dtype)), [.5, .5], dtype)
    check(sm.log_softmax(np.array([big, big, big, big], dtype)), [-L4] * 4, dtype)
    check(sm.log_softmax(np.array([-big, big], dtype)), [-inf, 0], dtype)
    assert sm.logsumexp(np.array([big, big], dtype)) == big
    check(sm.softmax(np.array([tiny, 0, -tiny], dtype)), [1 / 3] * 3, dtype)
    x = np.array([1000, 1000 + 1e-3], dtype)
    d = float(x[1] - x[0])
    check(sm.softmax(x), [1 / (1 + np.exp(d)), 1 / (1 + np.exp(-d))], dtype)
    check(sm.logsumexp(np.array([-1000, -1000], dtype)), -1000 + L2, dtype)


def test_logsumexp_b_special():
    assert sm.logsumexp([1.0, nan, inf], b=[1, 0, 0]) == 1.0          # b == 0 entries ignored
    assert sm.logsumexp([1.0, -inf], b=[1, 0]) == 1.0
    assert np.isnan(sm.logsumexp([1.0, 2.0], b=[-1, -1]))             # negative total -> nan
    res, sign = sm.logsumexp([1.0, 2.0], b=[-1, -1], return_sign=True)
    assert sign == -1 and np.isclose(res, np.log(np.exp(1) + np.exp(2)), rtol=1e-14)
    res, sign = sm.logsumexp([1.0, 1.0], b=[1, -1], return_sign=True)  # zero total
    assert res == -inf and sign == 0
    res, sign = sm.logsumexp([1.0, 2.0], b=[0, 0], return_sign=True)
    assert res == -inf and sign == 0
    assert sm.logsumexp([1.0, 2.0], b=[0, 0]) == -inf
    res, sign = sm.logsumexp([inf, 1.0], b=[-1, 1], return_sign=True)
    assert res == inf and sign == -1
    assert np.isnan(sm.logsumexp([inf, 1.0], b=[-1, 1]))
    assert np.isnan(sm.logsumexp([nan, 1.0], b=[1, 1]))
    got = sm.logsumexp([[0.0, 0.0], [1.0, 1.0]], axis=1, b=[[1, -1], [2, 1]], return_sign=True)
    np.testing.assert_allclose(got[0], [-inf, 1 + L3], rtol=1e-14)
    np.testing.assert_array_equal(got[1], [0, 1])


def test_64_bit_integers_keep_their_differences():
    """x - max is taken exactly in integers before the conversion to float64 (converted first,
    2**62 and 2**62 + 1 are the same float64, and scipy's uint64 x - max wraps)."""
    s = np.array([1 / (1 + np.e), np.e / (1 + np.e)])
    ls = np.log(s)
    for x, want, log_want in [
            (np.array([2 ** 62, 2 ** 62 + 1]), s, ls), (np.array([2 ** 64 - 2, 2 ** 64 - 1], np.uint64), s, ls),
            (np.array([2 ** 63 - 1, -2 ** 63]), [1.0, 0.0], [0.0, -2.0 ** 64]),
            (np.array([-2 ** 63, -2 ** 63 + 1]), s, ls)]:
        np.testing.assert_allclose(sm.softmax(x), want, rtol=1e-15, atol=0)
        np.testing.assert_allclose(sm.log_softmax(x), log_want, rtol=1e-15)
        np.testing.assert_allclose(sm.softmax_jvp(x, [1.0, 0.0]), np.asarray(want) * ([1, 0] - np.asarray(want)[0]),
                                   rtol=1e-15, atol=1e-300)
    np.testing.assert_allclose(sm.softmax(np.array([2 ** 62, 2 ** 62 + 1]), temperature=-1.0), s[::-1], rtol=1e-15)
    np.testing.assert_allclose(sm.softmax(np.array([2 ** 62, 2 ** 62 + 2]), temperature=2.0), s, rtol=1e-15)
    # logsumexp = max + T log(sum), rounded once: 2**62 + 1.31 is 2**62 in float64, 2**53 + 1.31 is 2**53 + 2
    assert sm.logsumexp(np.array([2 ** 62, 2 ** 62 + 1])) == 2.0 ** 62
    assert sm.logsumexp(np.array([2 ** 53, 2 ** 53 + 1])) == 2.0 ** 53 + 2
    assert sm.logsumexp(np.array([2 ** 53 + 1, 2 ** 53 + 1]), temperature=-1.0) == 2.0 ** 53  # + 0.307
    assert sm.logsumexp(np.array([2 ** 64 - 1, 2 ** 64 - 1], np.uint64), temperature=0) == 2.0 ** 64


def test_no_uint8_wraparound():
    got = sm.softmax(np.array([1, 200], np.uint8))
    np.testing.assert_allclose(got, [np.exp(-199.0), 1.0], rtol=1e-13)
    assert got.dtype == np.float64
    np.testing.assert_allclose(sm.log_softmax(np.array([255, 0], np.uint8)), [0.0, -255.0], rtol=1e-15, atol=1e-15)
    np.testing.assert_allclose(sm.logsumexp(np.array([127, -128], np.int8)), 127.0, rtol=1e-15)
    np.testing.assert_allclose(sm.softmax(np.array([True, False])), [np.e / (1 + np.e), 1 / (1 + np.e)], rtol=1e-15)


def test_vjp_with_huge_finite_terms():
    """Products near the top of float64's range keep their value without FMA (Dekker's split of
    a term above ~1.3e300 overflows; its error term must not turn the result into NaN): the
    short-row and the row kernels, against the products computed exactly by hand."""
    y = np.array([1e300, -1e300, 5.0, 0.0, 1e-300, 7.0])
    g = np.arange(20.0, 26.0)
    # sum(y g) = -1e300 + 285 (rounded: -1e300); y (g - sum) exactly:
    want = np.array([np.inf, -np.inf, 5e300, 0.0, 1.0, 7e300])
    with np.errstate(all="ignore"):
        short = sm.softmax_vjp(y, g)
        long = sm.softmax_vjp(np.concatenate([y, np.zeros(200)]), np.concatenate([g, np.zeros(200)]))
        half = sm.softmax_vjp(y, g, temperature=2.0)
    np.testing.assert_array_equal(short, want)
    # (7 (25 - sum) is 2e-282 ulp below a rounding tie, and the row kernel's compensated sum
    # is good to ~1e269 there, far inside the 2-ulp bound: either neighbour of the tie)
    np.testing.assert_allclose(long[:6], want, rtol=2.3e-16, atol=0)
    np.testing.assert_array_equal(half, want / 2)

"""The oracle itself (tests/oracle.py) against mpmath at 200 digits, on both of its backends.

The portable (double-double) backend must be good to far below 2**-60 relative (it is about
2**-100); the long double one, where it exists, to 2**-60. Values below the smallest normal
number, and the low parts of those below about 1e-292, are subnormal: there an absolute
error of a few of the smallest subnormal numbers is allowed too.
"""
import mpmath
import numpy as np
import pytest

import oracle

BACKENDS = ["portable"] + (["longdouble"] if oracle._LD_WIDE else [])
LIMIT = {"portable": 2.0 ** -90, "longdouble": 2.0 ** -60}
TINY = np.finfo(np.float64).tiny
SUB = 4 * np.finfo(np.float64).smallest_subnormal
DPS = 200


@pytest.fixture(params=BACKENDS)
def backend(request, monkeypatch):
    monkeypatch.setattr(oracle, "BACKEND", request.param)
    return request.param


def mp(d):
    """The DD `d` (hi + lo) as a list of mpmath numbers."""
    return [mpmath.mpf(float(h)) + mpmath.mpf(float(lo)) for h, lo in zip(np.ravel(d.hi), np.ravel(d.lo))]


def assert_rel(got, want, limit, what, scale=None):
    """|got - want| <= limit * |want| (or * scale: the size of the terms of a derivative, whose
    value may cancel to ~0) + a few of the smallest subnormal numbers."""
    with mpmath.workdps(DPS):
        for i, (g, w) in enumerate(zip(mp(got), want)):
            err, size = abs(g - w), abs(w) if scale is None else scale[i]
            assert err <= limit * size + SUB, f"{what}[{i}]: {g} vs {w}: {float(err / max(size, TINY)):.3g}"


@mpmath.workdps(DPS)
def mp_forms(x, t):
    """softmax, log_softmax, logsumexp of the row x / t (t != 0)."""
    z = [mpmath.mpf(v) / mpmath.mpf(t) for v in x]
    m = max(z)
    s = mpmath.fsum(mpmath.exp(v - m) for v in z)
    return ([mpmath.exp(v - m) / s for v in z], [v - m - mpmath.log(s) for v in z],
            mpmath.mpf(t) * (m + mpmath.log(s)))


def test_exp_and_log(backend):
    rng = np.random.default_rng(1)
    z = np.concatenate([-rng.uniform(0, 700, 300), rng.uniform(-2, 2, 300), [0.0, -1e-30, 1e-12, 700.0]])
    zd = oracle.DD(z, z * rng.uniform(-2 ** -53, 2 ** -53, z.size))
    with mpmath.workdps(DPS):
        assert_rel(oracle.exp(zd), [mpmath.exp(v) for v in mp(zd)], LIMIT[backend], "exp")
    s = oracle.DD(1.0) + oracle.DD(rng.uniform(0, 1, 300) * 10.0 ** rng.integers(-40, 3, 300))
    s = oracle.DD(np.concatenate([s.hi, [1e-300, 3e-310, 7.0]]), np.concatenate([s.lo, [0, 0, 0]]))
    with mpmath.workdps(DPS):
        assert_rel(oracle.log(s), [mpmath.log(v) for v in mp(s)], LIMIT[backend], "log")


ROWS = [
    [1.0, 2.0, 3.0],
    [0.0, -30.0, -40.0],
    [0.0, -40.0, -45.0],
    [1000.0, 1000.5, 999.0, -1000.0],
    [-3.3, 17.25, 0.125, 88.0, 88.5, -700.0],
    [1e-8, -2e-8, 3e-8],
    [50.0, -50.0],
    [0.7, 0.7, 0.7, 0.7, 0.7 - 1e-6],
    list(np.random.default_rng(4).standard_normal(9) * 30),
]


@pytest.mark.parametrize("t", [1.0, 0.37, -2.0, 10.0])
@pytest.mark.parametrize("i", range(len(ROWS)))
def test_forms_against_mpmath(i, t, backend):
    x = np.array(ROWS[i])
    sm, ls, lse = mp_forms(x, t)
    lim = LIMIT[backend]
    assert_rel(oracle.softmax(x, temperature=t), sm, lim, "softmax")
    assert_rel(oracle.log_softmax(x, temperature=t), ls, lim, "log_softmax")
    assert_rel(oracle.logsumexp(x, temperature=t), [lse], lim, "logsumexp")


@pytest.mark.parametrize("t", [1.0, -0.6])
def test_derivatives_against_mpmath(t, backend):
    x = np.array([0.5, -1.25, 3.0, 2.9, -30.0])
    v = np.array([1.0, -2.0, 0.25, 3.0, 7.0])
    sm, ls, _ = mp_forms(x, t)
    with mpmath.workdps(DPS):
        T, V = mpmath.mpf(t), [mpmath.mpf(vi) for vi in v]
        dot = mpmath.fsum(s * vi for s, vi in zip(sm, V))
        sv = mpmath.fsum(s * abs(vi) for s, vi in zip(sm, V))     # the terms' scale
        ljvp = [(vi - dot) / T for vi in V]
        ljvp_scale = [(abs(vi) + sv) / abs(T) for vi in V]
        jvp = [s * d for s, d in zip(sm, ljvp)]
        jvp_scale = [s * d for s, d in zip(sm, ljvp_scale)]
        y = [mpmath.mpf(float(s)) for s in sm]   # a softmax rounded to float64, as saved
        ydot = mpmath.fsum(a * b for a, b in zip(y, V))
        vjp = [a * (b - ydot) / T for a, b in zip(y, V)]
        yv = mpmath.fsum(abs(a * b) for a, b in zip(y, V))
        vjp_scale = [a * (abs(b) + yv) / abs(T) for a, b in zip(y, V)]
        ly = [mpmath.mpf(float(s)) for s in ls]
        gsum, gabs = mpmath.fsum(V), mpmath.fsum(abs(b) for b in V)
        lvjp = [(b - mpmath.exp(a) * gsum) / T for a, b in zip(ly, V)]
        lvjp_scale = [(abs(b) + mpmath.exp(a) * gabs) / abs(T) for a, b in zip(ly, V)]
    lim = LIMIT[backend]
    assert_rel(oracle.softmax_jvp(x, v, temperature=t), jvp, lim, "softmax_jvp", jvp_scale)
    assert_rel(oracle.log_softmax_jvp(x, v, temperature=t), ljvp, lim, "log_softmax_jvp", ljvp_scale)
    yf, lyf = np.array([float(a) for a in y]), np.array([float(a) for a in ly])
    assert_rel(oracle.softmax_vjp(yf, v, temperature=t), vjp, lim, "softmax_vjp", vjp_scale)
    assert_rel(oracle.log_softmax_vjp(lyf, v, temperature=t), lvjp, lim, "log_softmax_vjp", lvjp_scale)
    for name, x1, want in (("softmax_jvp", x, jvp_scale), ("log_softmax_jvp", x, ljvp_scale),
                           ("softmax_vjp", yf, vjp_scale), ("log_softmax_vjp", lyf, lvjp_scale)):
        assert_rel(oracle.scale(name, x1, v, temperature=t), want, 2.0 ** -50, f"scale {name}")


def test_inputs_are_taken_exactly():
    """int64 and uint64 beyond 2**53, and long double, become a double-double exactly."""
    big = np.array([2 ** 62 + 1, -2 ** 63, 2 ** 63 - 1, 12345], np.int64)
    d = oracle.exact(big)
    assert [int(h) + int(lo) for h, lo in zip(d.hi, d.lo)] == big.tolist()
    u = np.array([2 ** 64 - 1, 2 ** 64 - 2], np.uint64)
    d = oracle.exact(u)
    assert [int(h) + int(lo) for h, lo in zip(d.hi, d.lo)] == u.tolist()
    ld = np.longdouble(1) + np.longdouble(2) ** -60
    d = oracle.exact(np.array([ld]))
    assert np.longdouble(d.hi[0]) + np.longdouble(d.lo[0]) == ld
    sm, _, lse = mp_forms([0.0, 1.0], 1.0)
    assert_rel(oracle.softmax(np.array([2 ** 62, 2 ** 62 + 1])), sm, 2.0 ** -60, "int64 softmax")
    with mpmath.workdps(DPS):
        want = [mpmath.mpf(2 ** 62) + lse]
    assert_rel(oracle.logsumexp(np.array([2 ** 62, 2 ** 62 + 1])), want, 2.0 ** -100, "int64 logsumexp")


def test_ulp_measure():
    one = oracle.DD(np.array([1.0, 1.0, 2.0 ** -1030, 0.0]))
    got = np.array([1.0 + 2 ** -52, 1.0 - 2 ** -53, 0.0, 0.0])
    units, sub, mismatch = oracle.ulp_errors(got, one, one)
    np.testing.assert_allclose(units, [1.0, 0.5, 0.0, 0.0], atol=1e-12)   # less the oracle's bound
    assert mismatch == 0 and sub[2] == pytest.approx(2.0 ** -1030 / TINY)
    units32, _, _ = oracle.ulp_errors(got.astype(np.float32), one, one)
    assert units32[1] == 0.0   # 1 - 2**-53 rounds to 1 in float32
    assert oracle.ulp_errors(np.array([np.nan]), oracle.DD(np.array([0.0])), oracle.DD(np.array([0.0])))[2] == 1

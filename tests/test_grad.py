"""JVP / VJP / Jacobian: central finite differences, the oracle, and the symmetry of the Jacobian.

(VJP == JVP by that symmetry is a property test: test_properties.test_vjp_equals_jvp.)
"""

import numpy as np
import pytest

import oracle
import softmax as sm
import util

SHAPES_AXES = [((7,), None), ((7,), 0), ((5, 7), 1), ((5, 7), 0), ((5, 7), None), ((2, 3, 4, 5), -2),
               ((2, 3, 4, 5), (1, 3)), ((1,), 0), ((300,), -1)]
TEMPS = [1.0, 0.5, -2.0, 3.0]
H = 1e-5


def data(shape, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape) * 2
    v = rng.standard_normal(shape)
    g = rng.standard_normal(shape)
    return x.astype(dtype), v.astype(dtype), g.astype(dtype)


def fd(f, x, v):
    """Central finite difference of f at x along v."""
    return (f(x + H * v) - f(x - H * v)) / (2 * H)


def grad_tol(dtype, x, v, t):
    """(rtol, atol) for a derivative of size ~ |v| / |T| that suffers cancellation."""
    base = util.base_rtol(dtype) * (1 + util.cond(x, t))
    return base, base * (1 + np.abs(v).max()) / abs(t)


@pytest.mark.parametrize("shape,axis", SHAPES_AXES)
@pytest.mark.parametrize("t", TEMPS)
def test_jvp_finite_differences(shape, axis, t):
    x, v, _ = data(shape)
    np.testing.assert_allclose(sm.softmax_jvp(x, v, axis=axis, temperature=t),
                               fd(lambda z: sm.softmax(z, axis=axis, temperature=t), x, v), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(sm.log_softmax_jvp(x, v, axis=axis, temperature=t),
                               fd(lambda z: sm.log_softmax(z, axis=axis, temperature=t), x, v), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("shape,axis", [((7,), None), ((3, 4), 1), ((3, 4), None), ((2, 3, 2), (0, 2))])
@pytest.mark.parametrize("t", TEMPS)
def test_vjp_finite_differences(shape, axis, t):
    """Gradient of phi(x) = sum(g * f(x)) by central differences along every coordinate."""
    x, _, g = data(shape, seed=1)
    y = sm.softmax(x, axis=axis, temperature=t)
    ly = sm.log_softmax(x, axis=axis, temperature=t)
    for f, vjp, yy in [(sm.softmax, sm.softmax_vjp, y), (sm.log_softmax, sm.log_softmax_vjp, ly)]:
        grad = np.empty(shape)
        for i in np.ndindex(shape):
            e = np.zeros(shape)
            e[i] = 1
            grad[i] = np.sum(g * fd(lambda z: f(z, axis=axis, temperature=t), x, e))
        np.testing.assert_allclose(vjp(yy, g, axis=axis, temperature=t), grad, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape,axis", SHAPES_AXES)
@pytest.mark.parametrize("t", TEMPS)
def test_against_the_oracle(dtype, shape, axis, t):
    """All four products against the oracle; the VJPs start from correctly rounded outputs."""
    x, v, g = data(shape, seed=2, dtype=dtype)
    rtol, atol = grad_tol(dtype, x, v, t)
    y, ly = (oracle.softmax(x, axis, t).round(dtype), oracle.log_softmax(x, axis, t).round(dtype))
    for name, args in [("softmax_jvp", (x, v)), ("log_softmax_jvp", (x, v)),
                       ("softmax_vjp", (y, g)), ("log_softmax_vjp", (ly, g))]:
        got = getattr(sm, name)(*args, axis=axis, temperature=t)
        assert got.dtype == dtype and got.shape == shape, name
        util.assert_close(got, util.expected(name, *args, axis=axis, temperature=t), rtol, atol, name)


@pytest.mark.parametrize("shape,axis", SHAPES_AXES[:-1])
@pytest.mark.parametrize("t", TEMPS)
def test_adjoint_identity(shape, axis, t):
    """<g, J v> == <J^T g, v> for log_softmax (whose Jacobian is not symmetric)."""
    x, v, g = data(shape, seed=4)
    lhs = np.sum(g * sm.log_softmax_jvp(x, v, axis=axis, temperature=t))
    rhs = np.sum(sm.log_softmax_vjp(sm.log_softmax(x, axis=axis, temperature=t), g, axis=axis, temperature=t) * v)
    np.testing.assert_allclose(lhs, rhs, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape,axis", [((7,), -1), ((7,), None), ((5, 7), 1), ((5, 7), 0), ((5, 7), None),
                                        ((2, 3, 4), 1), ((2, 3, 4), -1), ((1,), 0)])
@pytest.mark.parametrize("t", TEMPS)
def test_jacobian(dtype, shape, axis, t):
    x, v, _ = data(shape, seed=5, dtype=dtype)
    jac = sm.softmax_jacobian(x, axis=axis, temperature=t)
    if axis is None:
        k, batch = x.size, ()
        xm, vm = x.reshape(-1), v.reshape(-1)
    else:
        xm, vm = np.moveaxis(x, axis, -1), np.moveaxis(v, axis, -1)
        k, batch = xm.shape[-1], xm.shape[:-1]
    assert jac.shape == batch + (k, k) and jac.dtype == dtype
    want = util.expected("softmax_jacobian", x, axis, t)
    rtol, atol = (np.max(tol) for tol in grad_tol(dtype, x, np.ones(1), t))
    util.assert_close(jac, want, rtol, atol)
    np.testing.assert_array_equal(jac, np.swapaxes(jac, -1, -2))
    # J v equals the JVP along the same axis
    jv = np.einsum("...ij,...j->...i", jac.astype(np.float64), vm.astype(np.float64))
    jvp = sm.softmax_jvp(xm.astype(np.float64), vm.astype(np.float64), axis=-1 if axis is not None else None,
                         temperature=t)
    util.assert_close(jv, jvp.reshape(jv.shape), 10 * np.max(rtol), 10 * np.max(atol))


def test_jacobian_default_axis_is_last():
    x = data((3, 4))[0]
    np.testing.assert_array_equal(sm.softmax_jacobian(x), sm.softmax_jacobian(x, axis=-1))
    assert sm.softmax_jacobian(x).shape == (3, 4, 4)


@pytest.mark.parametrize("t", [1.0, -2.0])
def test_jvp_with_where_matches_finite_differences(t):
    x, v, _ = data((4, 6), seed=6)
    w = util.random_where(x.shape, seed=1, axis=1)
    for f, jvp in [(sm.softmax, sm.softmax_jvp), (sm.log_softmax, sm.log_softmax_jvp)]:
        got = jvp(x, v, axis=1, temperature=t, where=w)
        with np.errstate(invalid="ignore"):
            want = fd(lambda z: f(z, axis=1, temperature=t, where=w), x, v)
        want = np.where(w, want, 0)  # -inf - -inf on masked log_softmax entries
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-8)
        assert np.all(got[~w] == 0)


@pytest.mark.parametrize("name", ["softmax_jvp", "softmax_vjp", "log_softmax_jvp", "log_softmax_vjp"])
def test_gradient_out(name):
    x, v, _ = data((5, 7), seed=7)
    y = {"softmax_vjp": sm.softmax(x, axis=1), "log_softmax_vjp": sm.log_softmax(x, axis=1)}.get(name, x)
    want = getattr(sm, name)(y, v, axis=1, temperature=0.5)
    for out in (np.empty((5, 7)), np.empty((7, 5)).T, np.empty((10, 7))[::2]):
        assert getattr(sm, name)(y, v, axis=1, temperature=0.5, out=out) is out
        np.testing.assert_array_equal(out, want)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("K", [1, 3, 10, 64])
@pytest.mark.parametrize("t", [1.0, -0.7])
def test_short_rows_many(dtype, K, t):
    """Many short rows (the block-of-rows derivative kernels): several blocks and, past 4096
    rows, several work items on two threads; some rows with NaN, +-inf or -inf everywhere
    (they go row by row). All four derivatives against the closed forms in long double."""
    rows = 4500
    x, v, g = data((rows, K), seed=K, dtype=dtype)
    x[5, 0] = np.nan
    x[7, -1] = np.inf
    x[11, :] = -np.inf
    x[4200, 0] = -np.inf
    v[13, 0] = np.inf
    exact = oracle.Exact(x, 1, t)
    y, ly = exact.softmax().round(dtype), exact.log_softmax().round(dtype)
    rtol, atol = grad_tol(dtype, np.where(np.isfinite(x), x, 0), v, t)
    with np.errstate(all="ignore"):
        for name, args, want in [
                ("softmax_jvp", (x, v), exact.softmax_jvp(v)),
                ("log_softmax_jvp", (x, v), exact.log_softmax_jvp(v)),
                ("softmax_vjp", (y, g), oracle.softmax_vjp(y, g, 1, t)),
                ("log_softmax_vjp", (ly, g), oracle.log_softmax_vjp(ly, g, 1, t))]:
            one = getattr(sm, name)(*args, axis=1, temperature=t, workers=1)
            util.assert_close(one, want.round(np.longdouble), rtol, atol, name)
            np.testing.assert_array_equal(getattr(sm, name)(*args, axis=1, temperature=t, workers=2),
                                          one, err_msg=name)


@pytest.mark.parametrize("t", [1.0, -1.0, 0.5])
@pytest.mark.parametrize("dtype,K", [(np.float32, 200), (np.float32, 300), (np.float64, 200),
                                     (np.float64, 300)])
def test_vjp_row_blocks_special(t, dtype, K):
    """Softmax-VJP rows in blocks of 65536 // K rows: rows of up to 256 elements take each
    row's output pass with a later row's sum (float32: the row two on, T = +-1 and other T;
    float64: the next row), longer rows their two passes one after the other. Special rows
    (NaN, inf in y or g) at a block's first and last rows and beside them go to the general
    kernel and the rows after them restart the chain; a row whose sum(y g) passes FLT_MAX
    (float32: the general kernel too); a row where y c does, y g and y (g - c) do not (an
    output formed through the product y c overflows). Against the oracle; two threads, and
    the rows shifted by one against the blocks, give the same bits."""
    b = 65536 // K
    rows = 2 * b + 46
    x, _, g = data((rows, K), seed=7, dtype=dtype)
    exact = oracle.Exact(x, 1, t)
    y = exact.softmax().round(dtype)
    y[0, 3] = np.nan
    g[b - 1, 5] = np.inf
    y[b, 0] = np.nan
    g[b + 1, K - 1] = -np.inf
    g[rows - 2, 1] = np.nan
    y[rows - 1, 2] = np.inf
    rtol, atol = grad_tol(dtype, x, np.where(np.isfinite(g), g, 0), t)
    y[b + 5], g[b + 5] = 1e-10, 1.0         # sum(y g) = 3.6e38 past the float32 range, every
    y[b + 5, 0], g[b + 5, 0] = 1.2, 3e38    # output finite (-7.2e37 / T, -3.6e28 / T)
    y[b + 9], g[b + 9] = 0.0, 1.0           # y c passes FLT_MAX, y g and y (g - c) do not:
    y[b + 9, :2], g[b + 9, :2] = (1.5, 0.5), (1.4666666e38, 4e37)   # c = 2.4e38, out -1.4e38 / T
    with np.errstate(all="ignore"):
        want = oracle.softmax_vjp(y, g, 1, t)
        one = sm.softmax_vjp(y, g, axis=1, temperature=t, workers=1)
        assert np.isfinite(one[b + 5]).all() and np.isfinite(one[b + 9]).all()
        util.assert_close(one, want.round(np.longdouble), rtol, atol, "softmax_vjp")
        np.testing.assert_array_equal(sm.softmax_vjp(y, g, axis=1, temperature=t, workers=2), one)
        # rows one on: each block's first rows take their dot apart, the others inside an
        # earlier row's pass (float32 up to 256): the same bits either way
        np.testing.assert_array_equal(sm.softmax_vjp(y[1:], g[1:], axis=1, temperature=t,
                                                     workers=1), one[1:])

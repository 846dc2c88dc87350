"""Array-API inputs (softmax._interop, softmax._array_api): torch, JAX, array-api-strict.

- CPU arrays NumPy views without a copy (torch tensors that need no grad, concrete JAX
  arrays) reach the kernels: their results are the NumPy path's, bit for bit, in the input's
  type;
- the others (torch with requires_grad, JAX under jit/grad, array-api-strict) take the
  array-API path: the NumPy path's semantics (special values, temperature, where, axes, b,
  keepdims, return_sign, derivatives) on util's inputs, the accuracy docs/arrays.md states
  against tests/oracle.py, and gradients that agree with the libraries' own.
Never a NumPy array back.
"""
import warnings

import numpy as np
import pytest

import softmax as sm
import util

FUNCS = ["softmax", "log_softmax", "logsumexp", "softmax_jvp", "log_softmax_jvp", "softmax_vjp",
         "log_softmax_vjp", "softmax_jacobian"]


@pytest.fixture
def torch():
    return util.need("torch")


@pytest.fixture
def jax():
    jax = util.need("jax")
    util.need("array_api_compat")
    return jax


@pytest.fixture
def xps():
    util.need("array_api_compat")
    return util.need("array_api_strict")


def args_for(name, x, seed=1):
    """(first, second or None) NumPy inputs of function `name` built on x."""
    v = util.make(np.float64, x.shape, seed=seed).astype(x.dtype if x.dtype.kind == "f" else np.float64)
    if name in ("softmax_vjp", "log_softmax_vjp"):
        y = (sm.log_softmax if name.startswith("log") else sm.softmax)(x, axis=-1)
        return y, v
    return x, (v if name in util.SECOND else None)


def run(name, first, second=None, **kw):
    f = getattr(sm, name)
    return f(first, second, **kw) if second is not None else f(first, **kw)


def to_numpy(a):
    if hasattr(a, "detach"):
        return a.detach().cpu().numpy()
    return np.from_dlpack(a) if not isinstance(a, (np.ndarray, np.generic)) else np.asarray(a)


# --------------------------------------------------------------------------- the kernels' path

@pytest.mark.parametrize("name", FUNCS)
@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "int64"])
def test_torch_cpu_reaches_the_kernels(torch, name, dtype):
    """A CPU tensor that needs no grad: the NumPy path's result, bit for bit, as a tensor."""
    x = util.make(np.float64, (3, 5), seed=2).astype(dtype)
    first, second = args_for(name, x)
    t_first = torch.from_numpy(np.ascontiguousarray(first))
    t_second = None if second is None else torch.from_numpy(np.ascontiguousarray(second))
    got = run(name, t_first, t_second, axis=-1)
    want = run(name, first, second, axis=-1)
    assert type(got) is torch.Tensor and got.device.type == "cpu"
    assert got.dtype == getattr(torch, np.asarray(want).dtype.name)
    np.testing.assert_array_equal(got.numpy(), want)


def test_torch_cpu_details(torch):
    x = torch.tensor([[1.0, 2.0, 3.0], [0.0, -1.0, 5.0]])
    out = torch.empty(2, 3)
    assert sm.softmax(x, axis=1, out=out) is out
    np.testing.assert_array_equal(out.numpy(), sm.softmax(x.numpy(), axis=1))
    r = sm.logsumexp(x)
    assert type(r) is torch.Tensor and r.shape == () and r.dtype == torch.float32
    res, sgn = sm.logsumexp(x, axis=0, b=torch.tensor([1.0, -1.0, 2.0]), return_sign=True)
    assert type(res) is torch.Tensor and type(sgn) is torch.Tensor
    with torch.no_grad():   # requires_grad, but nothing to record: the kernels
        p = torch.nn.Parameter(x.clone())
        np.testing.assert_array_equal(sm.softmax(p, axis=1).numpy(), sm.softmax(x.numpy(), axis=1))
    # a NumPy second input or where with a tensor first input: the tensor's kind
    got = sm.softmax_jvp(x, np.ones((2, 3), np.float32), axis=1, where=np.array([True, False, True]))
    assert type(got) is torch.Tensor
    # bfloat16: NumPy has no such dtype; the array-API path, in float32, returned as bfloat16
    got = sm.softmax(x.to(torch.bfloat16), axis=1)
    assert got.dtype == torch.bfloat16
    np.testing.assert_allclose(got.float().numpy(), sm.softmax(x.numpy(), axis=1), rtol=1e-2)


@pytest.mark.parametrize("name", FUNCS)
def test_jax_eager_reaches_the_kernels(jax, name):
    jnp = jax.numpy
    x = util.make(np.float32, (3, 5), seed=3)
    first, second = args_for(name, x)
    got = run(name, jnp.asarray(first), None if second is None else jnp.asarray(second), axis=-1)
    want = run(name, first, second, axis=-1)
    assert isinstance(got, jax.Array) and got.dtype == np.asarray(want).dtype
    np.testing.assert_array_equal(np.asarray(got), want)


def test_jax_refuses_out(jax):
    x = jax.numpy.ones(3)
    with pytest.raises(TypeError, match="out is not supported for JAX arrays, which are immutable"):
        sm.softmax(x, out=jax.numpy.zeros(3))
    with pytest.raises(TypeError, match="immutable"):
        jax.jit(lambda a: sm.softmax(a, out=a))(x)


def test_mixed_libraries_are_refused(torch, jax):
    with pytest.raises(TypeError, match="pass arrays of one kind"):
        sm.softmax_jvp(torch.ones(3, requires_grad=True), jax.numpy.ones(3))
    with pytest.raises(TypeError, match="pass inputs of one kind|pass arrays of one kind"):
        sm.softmax_jvp(torch.ones(3), np.ma.masked_array(np.ones(3)))


# --------------------------------------------------------------------------- the array-API path

def strict_cases():
    """util's inputs the array-API path must treat as the NumPy path does (array-api-strict
    has no float16 and native byte order only)."""
    out = []
    for label, x in util.arrays(dtypes=[np.float32, np.float64, np.int8, np.bool_],
                                shapes=[(), (0,), (3, 0), (1,), (7,), (5, 7), (2, 3, 4)]):
        out.append(pytest.param(np.array(x, dtype=x.dtype.newbyteorder("="), copy=True), id=label))
    return out


def assert_same_semantics(got, want, x, name, **kw):
    """The array-API result against the NumPy path's: type, shape, dtype, NaN and inf
    exactly; values within the array-API path's accuracy (util's tolerances, which scale
    with |x / T|)."""
    got = to_numpy(got)
    want = np.asarray(want)
    assert got.shape == want.shape and got.dtype == want.dtype, (got.shape, want.shape, got.dtype, want.dtype)
    if name in ("softmax", "log_softmax"):
        util.assert_softmax_close(got, want, x, kw.get("temperature", 1.0), kw.get("where"),
                                  log=name == "log_softmax")
    elif name == "logsumexp":
        util.assert_lse_close(got, want, x)
    else:
        rtol = util.base_rtol(got.dtype) * 8 * (1 + util.cond(x, kw.get("temperature", 1.0)).max(initial=0))
        util.assert_close(got, want, rtol, rtol * (1 + np.abs(want[np.isfinite(want)]).max(initial=0)))


@pytest.mark.parametrize("x", strict_cases())
def test_strict_semantics(xps, x):
    """Every function, axis, temperature (0 and negative too), where, b, keepdims and
    return_sign of the array-API path (array-api-strict) against the NumPy path."""
    for i, axis in enumerate(util.some_axes(x.ndim)):
        t = util.TEMPERATURES[(i + x.size) % len(util.TEMPERATURES)]
        where = util.random_where(x.shape, seed=i, axis=axis) if x.ndim and i % 2 else None
        kw = {"axis": axis, "temperature": t, "where": where}
        xkw = dict(kw, where=None if where is None else xps.asarray(where))
        xs = xps.asarray(x)
        for name in ("softmax", "log_softmax"):
            got = getattr(sm, name)(xs, **xkw)
            assert type(got) is type(xs)
            assert_same_semantics(got, getattr(sm, name)(x, **kw), x, name, **kw)
        for keepdims, sign in ((False, False), (True, True)):
            got = sm.logsumexp(xs, keepdims=keepdims, return_sign=sign, **xkw)
            want = sm.logsumexp(x, keepdims=keepdims, return_sign=sign, **kw)
            for g, w in zip(*((got, want) if sign else ((got,), (want,)))):
                assert type(g) is type(xs)
                assert_same_semantics(g, w, x, "logsumexp")
        if x.size and x.dtype.kind == "f":
            b = np.random.default_rng(i).uniform(-0.5, 2.0, x.shape).astype(x.dtype)
            b[b < 0.2] = 0
            got = sm.logsumexp(xs, b=xps.asarray(b), return_sign=True, **xkw)
            want = sm.logsumexp(x, b=b, return_sign=True, **kw)
            for g, w in zip(got, want):
                assert_same_semantics(g, w, x, "logsumexp")
        if t != 0:
            v = util.make(np.float64, x.shape, seed=i).astype(x.dtype if x.dtype.kind == "f" else np.float64)
            for name in ("softmax_jvp", "log_softmax_jvp"):
                got = getattr(sm, name)(xs, xps.asarray(v), **xkw)
                assert_same_semantics(got, getattr(sm, name)(x, v, **kw), x, name, **kw)
            if x.dtype.kind == "f":
                for name, fwd in (("softmax_vjp", sm.softmax), ("log_softmax_vjp", sm.log_softmax)):
                    y = fwd(x, axis=axis, temperature=t)
                    got = getattr(sm, name)(xps.asarray(y), xps.asarray(v), axis=axis, temperature=t)
                    with np.errstate(all="ignore"):
                        want = getattr(sm, name)(y, v, axis=axis, temperature=t)
                    assert_same_semantics(got, want, x, name, temperature=t)
    if x.ndim <= 2 and x.dtype.kind == "f":
        for axis in [None] + list(range(x.ndim)):
            got = sm.softmax_jacobian(xps.asarray(x), axis=axis)
            assert_same_semantics(got, sm.softmax_jacobian(x, axis=axis), x, "softmax_jacobian")


def test_strict_b_broadcasts_a_and_weak_scalars(xps):
    a = util.make(np.float64, (3,), seed=4)
    b = np.array([[1.0], [-2.0]])
    got = sm.logsumexp(xps.asarray(a), b=xps.asarray(b), axis=1, return_sign=True)
    want = sm.logsumexp(a, b=b, axis=1, return_sign=True)
    for g, w in zip(got, want):
        np.testing.assert_allclose(to_numpy(g), w, rtol=1e-15)
    x32 = xps.asarray(np.array([1.0, 2.0], np.float32))
    assert sm.softmax_vjp(x32, 1.0).dtype == xps.float32   # a Python scalar is weak, as in NumPy
    assert sm.softmax(xps.asarray([1, 2, 3])).dtype == xps.float64


def test_strict_errors(xps):
    """The NumPy path's checks, in its order, with its messages."""
    x = xps.asarray([[1.0, 2.0], [3.0, 4.0]])
    cases = [
        (lambda: sm.softmax(x, axis=2), np.exceptions.AxisError, "axis 2 is out of bounds"),
        (lambda: sm.softmax(x, axis=(0, 0)), ValueError, "duplicate"),
        (lambda: sm.softmax(x, temperature=float("nan")), ValueError, "temperature must be finite"),
        (lambda: sm.softmax_jvp(x, x, temperature=0), ValueError, "temperature must be nonzero"),
        (lambda: sm.softmax(x, where=xps.asarray([1, 0])), TypeError, "where must be a boolean array"),
        (lambda: sm.softmax(x, where=xps.asarray([True, False, True])), ValueError, "where of shape"),
        (lambda: sm.softmax_jvp(x, xps.asarray([1.0, 2.0, 3.0])), ValueError, "v of shape"),
        (lambda: sm.logsumexp(x, b=xps.ones((3,))), ValueError, "b of shape"),
        (lambda: sm.softmax(x, dtype=xps.int32), TypeError, "dtype must be a floating-point dtype"),
        (lambda: sm.softmax(xps.asarray([1j, 2.0])), TypeError, "complex input"),
        (lambda: sm.softmax(x, out=xps.zeros((2, 2), dtype=xps.float32)), TypeError, "out has dtype"),
        (lambda: sm.softmax(x, out=xps.zeros((2, 3))), ValueError, "out has shape"),
        (lambda: sm.softmax(x, out=np.zeros((2, 2))), TypeError, "out must be an array of the input's kind"),
        (lambda: sm.logsumexp(x, keepdims=1), TypeError, "keepdims must be True or False"),
        (lambda: sm.softmax(x, workers=0), ValueError, "workers"),
        (lambda: sm.softmax_jacobian(x, axis=(0, 1)), TypeError, "axis must be an integer or None"),
    ]
    for f, exc, msg in cases:
        with pytest.raises(exc, match=msg):
            f()
    out = xps.zeros((2, 2))
    assert sm.softmax(x, axis=1, out=out, dtype="float64") is out
    want = sm.softmax(np.asarray([[1.0, 2.0], [3.0, 4.0]]), axis=1)
    np.testing.assert_allclose(to_numpy(out), want, rtol=1e-15)
    assert sm.softmax(x, dtype=xps.float32).dtype == xps.float32


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_strict_accuracy(xps, dtype):
    """The array-API path against tests/oracle.py (normal inputs times 5, the last axis): the
    error docs/arrays.md states (softmax and its JVP about |x - max| / T ulps, the rounding
    of x - max amplified by exp; log_softmax and logsumexp a few ulps), here with a margin."""
    import oracle
    rng = np.random.default_rng(11)
    x = (rng.standard_normal((200, 300)) * 5).astype(dtype)
    v = rng.standard_normal(x.shape).astype(dtype)
    ex = oracle.Exact(x, -1)
    xs = xps.asarray(x)
    limits = {"softmax": 60, "log_softmax": 6, "logsumexp": 2, "softmax_jvp": 60}
    for name, limit in limits.items():
        got = to_numpy(sm.softmax_jvp(xs, xps.asarray(v), axis=-1) if name == "softmax_jvp"
                       else getattr(sm, name)(xs, axis=-1))
        exact = ex.softmax_jvp(v) if name == "softmax_jvp" else getattr(ex, name)()
        scale = ex.scale(name, v) if name == "softmax_jvp" else ex.scale(name)
        units, sub, mismatch = oracle.ulp_errors(got, exact, scale)
        assert units.max() <= limit and not mismatch and not np.any(sub > 1), (name, units.max())


# --------------------------------------------------------------------------- autograd and tracing

def torch_reference(torch, name, x, v, axis, t):
    """torch's own operations for the gradient comparison."""
    if name == "softmax":
        return torch.softmax(x / t, axis)
    if name == "log_softmax":
        return torch.log_softmax(x / t, axis)
    if name == "logsumexp":
        return t * torch.logsumexp(x / t, axis)
    s = torch.softmax(x / t, axis)
    if name == "softmax_jvp":
        return s * (v - (s * v).sum(axis, keepdim=True)) / t
    return (v - (s * v).sum(axis, keepdim=True)) / t


@pytest.mark.parametrize("name", ["softmax", "log_softmax", "logsumexp", "softmax_jvp", "log_softmax_jvp"])
@pytest.mark.parametrize("t", [1.0, 0.5, -2.0])
def test_torch_autograd_flows(torch, name, t):
    """A tensor that requires grad: the array-API path, recorded by autograd; the gradient
    (of a weighted sum of the result, with respect to x and v) agrees with torch's own
    operations', ties of the maximum included."""
    x0 = util.make(np.float64, (4, 6), seed=5)
    x0[1, :3] = x0[1].max()   # a tie at the maximum
    v0 = util.make(np.float64, x0.shape, seed=6)
    grads = []
    for ours in (True, False):
        x = torch.tensor(x0, requires_grad=True)
        v = torch.tensor(v0, requires_grad=True)
        if ours:
            y = run(name, x, v if name in util.SECOND else None, axis=1, temperature=t)
            assert y.requires_grad and type(y) is torch.Tensor
        else:
            y = torch_reference(torch, name, x, v, 1, t)
        w = torch.linspace(-1, 2, y.numel(), dtype=y.dtype).reshape(y.shape)
        inputs = (x, v) if name in util.SECOND else (x,)
        grads.append([g.numpy() for g in torch.autograd.grad((y * w).sum(), inputs)] + [y.detach().numpy()])
    for g_ours, g_torch in zip(*grads):
        np.testing.assert_allclose(g_ours, g_torch, rtol=1e-12, atol=1e-14)


def test_torch_gradcheck(torch):
    """torch.autograd.gradcheck (finite differences) through the array-API path, with where,
    b, axis tuples and a temperature."""
    x = torch.tensor(util.make(np.float64, (3, 4, 2), seed=7), requires_grad=True)
    b = torch.tensor(np.random.default_rng(8).uniform(0.5, 2, (3, 4, 2)), requires_grad=True)
    w = torch.tensor(util.random_where((3, 4, 2), seed=9))
    w[:, 0] = True
    checks = [
        lambda x: sm.softmax(x, axis=(0, 2), temperature=0.7, where=w),
        lambda x: torch.where(w, sm.log_softmax(x, axis=1, temperature=-1.5, where=w), 0.0),  # not -inf
        lambda x: sm.logsumexp(x, axis=(1, 2), where=w),
        lambda x, b: sm.logsumexp(x, axis=1, b=b, temperature=2.0),
        lambda x, b: sm.softmax_jvp(x, b, axis=1),
        lambda x, b: sm.log_softmax_vjp(sm.log_softmax(x, axis=1), b, axis=1),
        lambda x, b: sm.softmax_vjp(sm.softmax(x, axis=0), b, axis=0),
        lambda x: sm.softmax_jacobian(x, axis=1),
    ]
    for f in checks:
        args = (x,) if f.__code__.co_argcount == 1 else (x, b)
        assert torch.autograd.gradcheck(f, args)


def test_torch_masked_entries_get_zero_gradient(torch):
    x = torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], dtype=torch.float64, requires_grad=True)
    w = torch.tensor([[True, False, True], [False, False, False]])
    for f in (sm.softmax, sm.log_softmax, sm.logsumexp):
        y = f(x, axis=1, where=w)
        (g,) = torch.autograd.grad(y[torch.isfinite(y)].sum(), x)
        assert torch.isfinite(g).all() and (g[~w] == 0).all(), (f.__name__, g)


def test_jax_jit_and_grad(jax):
    """Under jax.jit and jax.grad (tracers): the array-API path, with JAX's own gradients."""
    jnp = jax.numpy
    x = jnp.asarray(util.make(np.float32, (4, 6), seed=10))

    def weighted(f):   # a scalar of f's result whose gradient is not zero
        return lambda a: jnp.sum(f(a) * jnp.linspace(-1.0, 2.0, f(a).size).reshape(f(a).shape))
    for ours, theirs in ((lambda a: sm.softmax(a, axis=1, temperature=0.5),
                          lambda a: jax.nn.softmax(a / 0.5, axis=1)),
                         (lambda a: sm.log_softmax(a, axis=0), lambda a: jax.nn.log_softmax(a, axis=0)),
                         (lambda a: sm.logsumexp(a, axis=1), lambda a: jax.nn.logsumexp(a, axis=1))):
        got = jax.jit(ours)(x)
        assert isinstance(got, jax.Array)
        np.testing.assert_allclose(np.asarray(got), np.asarray(theirs(x)), rtol=2e-6, atol=2e-7)
        g_ours, g_theirs = jax.grad(weighted(ours))(x), jax.grad(weighted(theirs))(x)
        np.testing.assert_allclose(np.asarray(g_ours), np.asarray(g_theirs), rtol=2e-5, atol=2e-6)
    # vmap, and the JVP under jit against the kernels' (eager) result
    v = jnp.ones_like(x)
    np.testing.assert_allclose(np.asarray(jax.vmap(lambda r: sm.softmax(r))(x)),
                               sm.softmax(np.asarray(x), axis=1), rtol=1e-5)
    np.testing.assert_allclose(np.asarray(jax.jit(lambda a, b: sm.softmax_jvp(a, b, axis=1))(x, v)),
                               np.asarray(sm.softmax_jvp(x, v, axis=1)), atol=1e-6)


def test_jax_integers_follow_jax_dtypes(jax):
    """Integers become float64 as for NumPy, which JAX without x64 keeps as float32."""
    jnp = jax.numpy
    with warnings.catch_warnings():
        warnings.simplefilter("error")   # no "float64 not available" warning
        got = sm.softmax(jnp.arange(4))
        traced = jax.jit(sm.softmax)(jnp.arange(4))
    assert got.dtype == traced.dtype == jnp.asarray(1.0).dtype
    np.testing.assert_allclose(np.asarray(traced), np.asarray(got), rtol=1e-6)


def test_torch_func_transforms(torch):
    """torch.func.grad and vmap wrap their tensors: the array-API path, not a NumPy view."""
    from torch.func import grad, vmap
    x = torch.tensor(util.make(np.float64, (3, 5), seed=12))
    g = grad(lambda a: sm.logsumexp(a, temperature=0.5))(x[0])
    torch.testing.assert_close(g, torch.softmax(x[0] / 0.5, 0), rtol=1e-13, atol=1e-15)
    got = vmap(lambda a: sm.log_softmax(a))(x)
    np.testing.assert_allclose(got.numpy(), sm.log_softmax(x.numpy(), axis=1), rtol=1e-13)

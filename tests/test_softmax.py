"""softmax and log_softmax against the reference over the shared input generator."""

import numpy as np
import pytest

import softmax as sm
import util

FUNCS = ["softmax", "log_softmax"]
ARRAYS = list(util.arrays())
CASES = [pytest.param(x, id=label) for label, x in ARRAYS]
# smaller samples for the where / out / dtype sweeps
NONEMPTY = [pytest.param(x, id=label) for label, x in ARRAYS[::3] if x.ndim and x.size]
SAMPLE = [pytest.param(x, id=label) for label, x in ARRAYS[::4]]


def check(func, got, x, axis=None, temperature=1.0, where=None, dtype=None):
    """Assert `got` is func(x, ...) per the reference, with the policy dtype, shape and return type."""
    xin = x if dtype is None else np.asarray(x).astype(dtype)
    want = util.expected(func, xin, axis=axis, temperature=temperature, where=where)
    rdt = util.result_dtype(np.asarray(xin).dtype)
    msg = f"{func} axis={axis} temperature={temperature} where={where is not None} dtype={dtype}"
    if np.ndim(x) == 0:
        assert isinstance(got, np.generic), f"0-d result should be a numpy scalar, got {type(got)} ({msg})"
    else:
        assert isinstance(got, np.ndarray), msg
    assert got.dtype == rdt, f"dtype {got.dtype} != {rdt} ({msg})"
    util.assert_softmax_close(got, want, xin, temperature, where, log=func == "log_softmax", err_msg=msg)


@pytest.mark.parametrize("func", FUNCS)
@pytest.mark.parametrize("x", CASES)
def test_reference(func, x):
    for i, axis in enumerate(util.axes_for(x.ndim)):
        temperature = util.TEMPERATURES[(x.size + i) % 5]   # rotating: every one on every kind
        check(func, getattr(sm, func)(x, axis=axis, temperature=temperature), x, axis, temperature)


@pytest.mark.parametrize("func", FUNCS)
@pytest.mark.parametrize("x", NONEMPTY)
def test_where(func, x):
    for i, axis in enumerate(util.some_axes(x.ndim)):
        masks = [util.random_where(x.shape, seed=i, axis=axis), np.ones(x.shape, bool),
                 util.random_where(x.shape[-1:], seed=i + 7)]  # the last one broadcasts
        for where in masks:
            for temperature in (1.0, 0.0, -2.0):
                got = getattr(sm, func)(x, axis=axis, temperature=temperature, where=where)
                check(func, got, x, axis, temperature, np.broadcast_to(where, x.shape))


@pytest.mark.parametrize("func", FUNCS)
@pytest.mark.parametrize("layout", ["C", "F", "strided"])
@pytest.mark.parametrize("x", SAMPLE)
def test_out(func, layout, x):
    dt = util.result_dtype(x.dtype)
    for axis, temperature in [(None, 1.0), (-1, 0.1), (0, 0.0)][: 1 if x.ndim == 0 else 3]:
        if layout == "strided":
            out = np.full(tuple(2 * n for n in x.shape), 7, dt)[(slice(None, None, 2),) * x.ndim + (Ellipsis,)]
        else:
            out = np.full(x.shape, 7, dt, order=layout)
        got = getattr(sm, func)(x, axis=axis, temperature=temperature, out=out)
        assert got is out
        want = util.expected(func, x, axis=axis, temperature=temperature)
        util.assert_softmax_close(out, want, x, temperature, log=func == "log_softmax",
                                  err_msg=f"axis={axis} T={temperature}")


@pytest.mark.parametrize("func", FUNCS)
@pytest.mark.parametrize("x", [pytest.param(x, id=label) for label, x in ARRAYS
                               if x.dtype in (np.float32, np.float64) and x.dtype.isnative])
def test_in_place(func, x):
    axis = -1 if x.ndim else None
    want = util.expected(func, x, axis=axis, temperature=0.5)
    y = x.copy(order="K")
    got = getattr(sm, func)(y, axis=axis, temperature=0.5, out=y)
    assert got is y
    util.assert_softmax_close(y, want, x, 0.5, log=func == "log_softmax")


@pytest.mark.parametrize("func", FUNCS)
@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64, np.longdouble])
@pytest.mark.parametrize("x", [p for p in SAMPLE[::3] if p.values[0].dtype.kind != "c"])
def test_dtype_argument(func, dtype, x):
    for axis in util.some_axes(x.ndim):
        got = getattr(sm, func)(x, axis=axis, dtype=dtype)
        check(func, got, x, axis, dtype=dtype)


@pytest.mark.parametrize("func", FUNCS)
def test_zero_d(func):
    for x in (3.0, np.float32(-2.5), np.array(7, np.int8), True):
        got = getattr(sm, func)(x)
        assert isinstance(got, np.generic) and got.ndim == 0
        assert got == (1.0 if func == "softmax" else 0.0)
        assert got.dtype == util.result_dtype(np.asarray(x).dtype)

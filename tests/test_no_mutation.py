"""No function ever writes to its inputs (x, v, y, g, where, b), whatever their layout or dtype."""

import numpy as np
import pytest

import softmax as sm
import util

INPUTS = [pytest.param(x, id=label) for label, x in util.arrays(shapes=[(), (7,), (5, 7), (2, 3, 4, 5), (3, 0)])
          if x.flags.writeable][::3]


def snapshot(*arrays):
    return [(a, a.copy()) for a in arrays]


def assert_unchanged(snap):
    for a, before in snap:
        assert a.dtype == before.dtype
        assert a.tobytes() == before.tobytes(), "input was modified"


def calls(x):
    """(function, args, kwargs) for every public function on input x."""
    rng = np.random.default_rng(0)
    fx = x.astype(np.float64) if x.dtype.kind not in "fc" else x
    v = rng.standard_normal(x.shape).astype(fx.dtype if fx.dtype.kind == "f" else np.float64)
    v = np.array(v, order="F")
    where = util.random_where(x.shape, seed=1)
    b = rng.uniform(-1, 2, x.shape)
    axis = -1 if x.ndim else None
    y = np.asarray(sm.softmax(fx, axis=axis))
    ly = np.asarray(sm.log_softmax(fx, axis=axis))
    out = [
        (sm.softmax, (x,), dict(axis=axis)),
        (sm.softmax, (x,), dict(axis=axis, where=where, temperature=0.0)),
        (sm.log_softmax, (x,), dict(axis=axis, where=where, temperature=-2.0)),
        (sm.log_softmax, (x,), dict(axis=None, temperature=0.5)),
        (sm.logsumexp, (x,), dict(axis=axis, b=b, return_sign=True)),
        (sm.logsumexp, (x,), dict(axis=None, where=where, temperature=0.0)),
        (sm.logsumexp, (x, axis, b, True, False), dict()),
        (sm.softmax_jvp, (x, v), dict(axis=axis, where=where)),
        (sm.log_softmax_jvp, (x, v), dict(axis=axis, temperature=3.0)),
        (sm.softmax_vjp, (y, v), dict(axis=axis)),
        (sm.log_softmax_vjp, (ly, v), dict(axis=axis, temperature=0.5)),
    ]
    if x.ndim:
        out.append((sm.softmax_jacobian, (x,), dict(axis=-1)))
    if x.dtype.kind != "c":
        out.append((sm.softmax, (x,), dict(axis=axis, dtype=np.float32)))
    return out


@pytest.mark.parametrize("x", INPUTS)
def test_inputs_not_written(x):
    for func, args, kw in calls(x):
        arrays = [a for a in args if isinstance(a, np.ndarray)]
        arrays += [a for a in kw.values() if isinstance(a, np.ndarray)]
        snap = snapshot(*arrays)
        func(*args, **kw)
        assert_unchanged(snap)


def test_out_is_the_only_thing_written():
    x = util.make(np.float64, (5, 7), seed=1)
    x0 = x.copy()
    w = util.random_where(x.shape, seed=2, axis=1)
    w0 = w.copy()
    out = np.zeros_like(x)
    sm.softmax(x, axis=1, where=w, out=out)
    np.testing.assert_array_equal(x, x0)
    np.testing.assert_array_equal(w, w0)
    assert np.any(out != 0)

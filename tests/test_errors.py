"""Every error path of the spec: exception type, the message names the argument, out left untouched."""

import contextlib

import numpy as np
import pytest
from numpy.exceptions import AxisError

import softmax as sm
import util

X = np.array([[0.5, -1.0, 2.0], [3.0, 0.25, -0.75]])
V = np.array([[1.0, 2.0, -1.0], [0.5, 0.0, 3.0]])


def call(name, x=X, **kw):
    """Call public function `name` with a valid first argument (and second for jvp/vjp)."""
    f = getattr(sm, name)
    if name.endswith(("jvp", "vjp")):
        return f(x, V, **kw)
    return f(x, **kw)


ALL = util.FUNCS
WITH_WHERE, WITH_OUT, WITH_DTYPE, WITH_WORKERS = (util.takes(a) for a in ("where", "out", "dtype", "workers"))
GRADS = util.DERIVATIVES


def test_the_argument_table_is_the_signatures():
    """util.TAKES (which the error and fuzz tests read) lists exactly each function's parameters."""
    import inspect
    for name in util.FUNCS:
        assert set(inspect.signature(getattr(sm, name)).parameters) == util.TAKES[name], name


# every function checks its arguments in this order: the first bad one is the error
ORDER = [("x", np.array(["a", "b"]), TypeError), ("dtype", np.int32, TypeError),
         ("axis", 7, AxisError), ("keepdims", "yes", TypeError), ("temperature", np.nan, ValueError),
         ("where", np.ones((2, 3), int), TypeError), ("out", np.zeros((3, 2)), ValueError),
         ("workers", 0, ValueError)]


@pytest.mark.parametrize("name", ALL)
def test_one_order_of_checks(name):
    """With every argument it takes bad, a function reports the first in ORDER, then the next
    once that one is fixed, and so on: the same for every function."""
    for i, (arg, _, exc) in enumerate(ORDER):
        if arg not in util.TAKES[name] and not (arg == "x" and util.FIRST[name] != "x"):
            continue
        bad = {a: value for a, value, _ in ORDER[i:] if a in util.TAKES[name] and a != "x"}
        first = ORDER[0][1] if i == 0 else X
        with raises(exc, util.FIRST[name] if arg == "x" else arg):
            getattr(sm, name)(first, *([V] if name in util.SECOND else []), **bad)


@contextlib.contextmanager
def raises(exc, name, *words):
    """pytest.raises(exc) that also checks the message contains argument `name` and each of `words`."""
    with pytest.raises(exc) as info:
        yield info
    msg = str(info.value)
    assert name in msg, f"message {msg!r} does not name {name!r}"
    for w in words:
        assert w in msg, f"message {msg!r} does not echo {w!r}"


# ------------------------------------------------------------- temperature

@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("t,word", [(np.nan, "nan"), (np.inf, "inf"), (-np.inf, "-inf"), (np.float32("nan"), "nan")])
def test_temperature_not_finite(name, t, word):
    with raises(ValueError, "temperature", word):
        call(name, temperature=t)


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("t", ["1.0", None, np.array([1.0, 2.0]), np.array([]), [], 1 + 0j, np.complex128(2), object()])
def test_temperature_not_a_number(name, t):
    with raises(TypeError, "temperature"):
        call(name, temperature=t)


@pytest.mark.parametrize("name", GRADS)
@pytest.mark.parametrize("t", [0.0, -0.0, 0])
def test_gradient_temperature_zero(name, t):
    with raises(ValueError, "temperature"):
        call(name, temperature=t)


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("t", [2, np.float32(2.0), np.int64(2), np.array(2.0), np.array([2.0])])
def test_temperature_accepted_forms(name, t):
    want = call(name, temperature=2.0)
    got = call(name, temperature=t)
    np.testing.assert_allclose(got, want, rtol=1e-15)


# ------------------------------------------------------------------- axis

# softmax_jacobian takes a single axis (or None): tuples are left out for it
@pytest.mark.parametrize("name,axis", [(n, a) for n in ALL for a in [2, -3, (0, 2), (5,)]
                                       if n != "softmax_jacobian" or not isinstance(a, tuple)])
def test_axis_out_of_range(name, axis):
    with raises(AxisError, "axis"):
        call(name, axis=axis)


@pytest.mark.parametrize("name", ALL[:-1])
@pytest.mark.parametrize("axis", [(0, 0), (1, -1), (-2, 0, 1)])
def test_axis_duplicates(name, axis):
    with raises(ValueError, "axis"):
        call(name, axis=axis)


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("axis", [1.0, "0", (0, 1.5), np.float64(1)])
def test_axis_not_integer(name, axis):
    with raises(TypeError, "axis"):
        call(name, axis=axis)


# ------------------------------------------------------------ input dtype

BAD_INPUTS = [
    np.array([[1, 2, 3], [4, 5, 6]], dtype=object),
    np.array([["a", "b", "c"], ["d", "e", "f"]]),
    np.array([[b"a", b"b", b"c"], [b"d", b"e", b"f"]]),
    np.arange(6).reshape(2, 3).astype("datetime64[D]"),
    np.arange(6).reshape(2, 3).astype("timedelta64[s]"),
    np.zeros((2, 3), dtype="V8"),
    np.zeros((2, 3), dtype=[("a", "f8"), ("b", "i4")]),
]


def dtype_words(dt):
    return {str(dt), dt.name, repr(dt), dt.type.__name__, dt.str}


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("x", BAD_INPUTS, ids=lambda x: str(x.dtype))
def test_unsupported_input_dtype(name, x):
    with pytest.raises(TypeError) as info:
        call(name, x=x)
    msg = str(info.value)
    assert any(w in msg for w in dtype_words(x.dtype)), f"{msg!r} does not name dtype {x.dtype}"


@pytest.mark.parametrize("name", ["softmax", "log_softmax", "logsumexp"])
def test_unsupported_list_input(name):
    with pytest.raises(TypeError):
        getattr(sm, name)(["a", "b"])


@pytest.mark.parametrize("name", WITH_DTYPE)
@pytest.mark.parametrize("dtype", [int, np.int8, np.complex128, "i4", object, bool, "U3"])
def test_bad_dtype_argument(name, dtype):
    with raises(TypeError, "dtype"):
        call(name, dtype=dtype)


# ------------------------------------------------------------------ where

@pytest.mark.parametrize("name", WITH_WHERE)
@pytest.mark.parametrize("where", [np.ones((2, 3), int), [1, 0, 1], np.ones(3), 1, "yes"])
def test_where_not_bool(name, where):
    with raises(TypeError, "where"):
        call(name, where=where)


@pytest.mark.parametrize("name", WITH_WHERE)
@pytest.mark.parametrize("shape", [(2,), (3, 3), (2, 3, 2), (4, 1)])
def test_where_not_broadcastable(name, shape):
    with raises(ValueError, "where"):
        call(name, where=np.ones(shape, bool))


# -------------------------------------------------------------------- out

@pytest.mark.parametrize("name", WITH_OUT)
def test_out_not_ndarray(name):
    for out in ([[0.0] * 3] * 2, 1.0, (0, 0)):
        with raises(TypeError, "out"):
            call(name, out=out)


@pytest.mark.parametrize("name", WITH_OUT)
@pytest.mark.parametrize("dtype", [np.float32, np.float16, np.longdouble, np.int64, np.complex128])
def test_out_wrong_dtype(name, dtype):
    out = np.zeros(X.shape, dtype)
    with raises(TypeError, "out"):
        call(name, out=out)
    assert np.all(out == 0)


@pytest.mark.parametrize("name", WITH_OUT)
@pytest.mark.parametrize("shape", [(3, 2), (6,), (2, 3, 1), (1, 2, 3), ()])
def test_out_wrong_shape(name, shape):
    out = np.zeros(shape)
    with raises(ValueError, "out"):
        call(name, out=out)
    assert np.all(out == 0)


@pytest.mark.parametrize("name", WITH_OUT)
def test_out_read_only(name):
    out = np.zeros(X.shape)
    out.flags.writeable = False
    with raises(ValueError, "out"):
        call(name, out=out)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_out_wrong_dtype_for_policy(name):
    """float32 input -> float32 result: a float64 out is the wrong dtype; int input -> float64."""
    with raises(TypeError, "out"):
        getattr(sm, name)(X.astype(np.float32), out=np.zeros(X.shape))
    with raises(TypeError, "out"):
        getattr(sm, name)(X.astype(np.int64), out=np.zeros(X.shape, np.int64))
    with raises(TypeError, "out"):
        getattr(sm, name)(X.astype(np.float16), out=np.zeros(X.shape, np.float32))


# ---------------------------------------------------------------- workers

@pytest.mark.parametrize("name", WITH_WORKERS)
def test_workers(name):
    with raises(ValueError, "workers"):
        call(name, workers=0)
    for w in (1.5, "2", np.float64(2.0), [2]):
        with raises(TypeError, "workers"):
            call(name, workers=w)
    want = call(name)
    for w in (1, 2, -1, np.int64(2)):
        np.testing.assert_array_equal(call(name, workers=w), want)


# ---------------------------------------------- nothing written on error

BAD_ARGS = {  # every one of these must raise before the output is touched
    "temperature": dict(temperature=np.nan),
    "temperature_type": dict(temperature="hot"),
    "axis": dict(axis=7),
    "axis_dup": dict(axis=(0, 0)),
    "where": dict(where=np.ones((2, 3), int)),
    "where_shape": dict(where=np.ones((4,), bool)),
    "workers": dict(workers=0),
    "dtype": dict(dtype=np.int32),
}
SUPPORTS = {
    "where": WITH_WHERE, "where_shape": WITH_WHERE, "workers": WITH_WORKERS, "dtype": WITH_DTYPE,
}


@pytest.mark.parametrize("name,bad", [(n, b) for b in BAD_ARGS for n in WITH_OUT if n in SUPPORTS.get(b, WITH_OUT)])
def test_out_unchanged_on_error(name, bad):
    out = np.full(X.shape, 7.0)
    with pytest.raises((TypeError, ValueError)):
        call(name, out=out, **BAD_ARGS[bad])
    assert np.all(out == 7.0)


@pytest.mark.parametrize("name", GRADS[:-1])
def test_out_unchanged_on_gradient_temperature_zero(name):
    out = np.full(X.shape, 7.0)
    with pytest.raises(ValueError):
        call(name, out=out, temperature=0.0)
    assert np.all(out == 7.0)


def test_errors_before_in_place_write():
    x = X.copy()
    with pytest.raises(ValueError):
        sm.softmax(x, out=x, temperature=np.inf)
    with pytest.raises(AxisError):
        sm.log_softmax(x, out=x, axis=3)
    np.testing.assert_array_equal(x, X)

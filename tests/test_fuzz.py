"""Fuzzing every public function: dtype x shape x strides x axis x temperature x where x out x b.

One case generator (`build_case`) and one oracle (`run_case`) serve two drivers:
the bounded Hypothesis test below (part of the default suite) and the atheris
coverage-guided harness in fuzz/fuzz_softmax.py, which imports this module.

`build_case` draws through a tiny interface (util.ByChoice: `choice`, `integer`), so
the same code decodes Hypothesis draws and atheris bytes, from the inputs of util
(dtypes, layouts, value pools) and its table of arguments (util.TAKES). Every drawn
argument is either valid or deliberately invalid; the case records which arguments
are invalid and the oracle demands, for an invalid case, a
TypeError/ValueError/AxisError whose message names one of them (raised before `out`
is written), and for a valid case a result of the right shape and dtype that matches
tests/oracle.py. Inputs (x, v, y, g, b, where) are never written.
"""

import numpy as np
from hypothesis import HealthCheck, given, settings, strategies as st
from numpy.exceptions import AxisError

import softmax as sm
import util
from util import ByChoice, bad_shape, draw_values, layout, sub_shape  # noqa: F401 (fuzz/ uses ByChoice)

FUNCS = util.FUNCS
HAS_WHERE, HAS_OUT, HAS_DTYPE, HAS_WORKERS = (set(util.takes(a)) for a in ("where", "out", "dtype", "workers"))
SECOND, FIRST = util.SECOND, util.FIRST
DIMS = [0, 1, 1, 2, 3, 3, 4, 5, 7, 17]


# ------------------------------------------------------------------ the case

class Case:
    def __init__(self, name):
        self.name = name
        self.args = []       # positional
        self.kw = {}
        self.bad = {}        # argument name -> (exception types, words the message must contain)
        self.x = None
        self.second = None
        self.where = None
        self.b = None
        self.out = None
        self.x_copy = None   # the values of x before the call (x may be overwritten in place)

    def __repr__(self):
        def show(a):
            if isinstance(a, np.ndarray):
                return (f"array(shape={a.shape}, dtype={a.dtype}, strides={a.strides}, "
                        f"aligned={a.flags.aligned}, writeable={a.flags.writeable}, "
                        f"values={a.tolist() if a.size <= 40 and a.dtype.kind not in 'V' else '...'})")
            return repr(a)
        kws = ", ".join(f"{k}={show(v)}" for k, v in self.kw.items())
        return f"{self.name}({', '.join(show(a) for a in self.args)}, {kws}) bad={sorted(self.bad)}"


def result_dtype(case):
    """The result dtype of a valid case by the spec's dtype policy."""
    if "dtype" in case.kw and case.kw["dtype"] is not None:
        return np.dtype(case.kw["dtype"]).newbyteorder("=")
    x = case.x
    if case.second is not None:
        src = np.result_type(x, case.second)
    elif case.b is not None:
        bb = case.b
        src = np.result_type(x, bb if isinstance(bb, (bool, int, float)) else np.asarray(bb))
    else:
        src = x.dtype
    src = np.dtype(src)
    if src.kind in "biu":
        return np.dtype(np.float64)
    return src.newbyteorder("=")


def draw_axis(case, d, ndim):
    name = case.name
    if name == "softmax_jacobian":
        opts = [None, -1] + list(range(-ndim, ndim))
        if ndim == 0:
            opts = [None]
    else:
        opts = [None, ()] + list(range(-ndim, ndim))
        if ndim >= 2:
            perm = [d.integer(-ndim, -1) if d.chance(2) else d.integer(0, ndim - 1) for _ in range(ndim)]
            seen, tup = set(), []
            for p in perm:
                if p % ndim not in seen:
                    seen.add(p % ndim)
                    tup.append(p)
            opts.append(tuple(tup[:d.integer(1, len(tup))]))
            opts.append((0, ndim - 1))
    if d.chance(6):
        kind = d.integer(0, 4)
        if kind == 0:
            case.bad["axis"] = ((AxisError,), ["axis"])
            return d.choice([ndim, -ndim - 1, 40])
        if kind == 1 and ndim >= 1 and name != "softmax_jacobian":
            case.bad["axis"] = ((ValueError,), ["axis"])
            return (0, -ndim)
        if kind == 2:
            case.bad["axis"] = ((TypeError,), ["axis"])
            return d.choice([1.0, "0", True, [0.5]])
        if kind == 3 and name == "softmax_jacobian":
            case.bad["axis"] = ((TypeError,), ["axis"])
            return (0,)
        if kind == 4 and ndim >= 1:
            return np.int64(0)
    return d.choice(opts)


def draw_temperature(case, d):
    deriv = case.name not in ("softmax", "log_softmax", "logsumexp")
    good = [1.0, 1.0, 0.5, 2.0, -1.5, 1e-3, 100.0, np.float32(0.25), np.int64(3), np.array(2.0),
            np.array([0.5]), 7]
    if not deriv:
        good += [0.0, -0.0, 0]
    if d.chance(7):
        kind = d.integer(0, 2)
        if kind == 0:
            case.bad["temperature"] = ((ValueError,), ["temperature"])
            return d.choice([np.nan, np.inf, -np.inf, np.float32("nan")])
        if kind == 1:
            case.bad["temperature"] = ((TypeError,), ["temperature"])
            return d.choice(["1", None, 1j, np.array([1.0, 2.0]), True, [1.0]])
        if deriv:
            case.bad["temperature"] = ((ValueError,), ["temperature"])
            return d.choice([0.0, -0.0, 0])
    return d.choice(good)


def draw_input(case, d, name, shape, finite_only=False):
    """A numeric input array of `shape`, or (rarely) an invalid one."""
    if d.chance(12):
        dt = d.choice(util.NON_NUMERIC)
        case.bad[name] = ((TypeError,), [name, str(dt)])
        return np.zeros(shape, dt)
    dt = d.choice(util.NUMERIC)
    values = draw_values(d, dt, shape, finite_only=finite_only,
                         small=case.name not in ("logsumexp", "softmax", "log_softmax"))
    return draw_layout(d, values)


def draw_layout(d, a, kinds=util.LAYOUTS):
    """`a` in a layout drawn from `kinds` (a broadcast one along a drawn axis)."""
    kind = d.choice(kinds)
    return layout(a, kind, d.integer(0, a.ndim - 1) if kind == "broadcast" and a.ndim else 0)


def build_case(d):
    """Draw one call of a public function (see the module docstring)."""
    name = d.choice(FUNCS)
    case = Case(name)
    ndim = d.choice([0, 1, 1, 2, 2, 3, 4])
    shape = tuple(d.choice(DIMS) for _ in range(ndim))
    while int(np.prod(shape)) > 600:
        shape = tuple(max(1, n // 2) for n in shape)
    first = FIRST.get(name, "x")
    x = draw_input(case, d, first, shape)
    case.x = x
    case.args.append(x)
    if name in SECOND:
        sname = SECOND[name]
        if d.chance(10):
            case.bad[sname] = ((ValueError,), [sname])
            sec = np.ones(bad_shape(shape))
        else:
            sshape = sub_shape(d, shape)
            sec = draw_input(case, d, sname, sshape, finite_only=not d.chance(4))
            if sname not in case.bad and sec.size and d.chance(8):
                sec = sec.tolist() if sec.ndim else sec[()]
        case.second = np.asarray(sec) if sname not in case.bad else None
        case.args.append(sec)
    case.kw["axis"] = draw_axis(case, d, ndim)
    case.kw["temperature"] = draw_temperature(case, d)
    if name in HAS_WHERE and d.chance(2):
        if d.chance(10):
            case.bad["where"] = ((TypeError,), ["where"])
            w = np.ones(shape, d.choice([np.int8, np.float64]))
        elif d.chance(10):
            case.bad["where"] = ((ValueError,), ["where"])
            w = np.ones(bad_shape(shape), bool)
        else:
            wshape = sub_shape(d, shape)
            w = draw_layout(d, np.array([d.integer(0, 3) > 0 for _ in range(int(np.prod(wshape)))],
                                        bool).reshape(wshape))
            if w.size and d.chance(8):
                w = w.tolist() if w.ndim else bool(w)
        case.where = w
        case.kw["where"] = w
    if name == "logsumexp":
        if d.chance(2):
            if d.chance(10) and util.clashing_shape(shape) is not None:
                case.bad["b"] = ((ValueError,), ["b"])
                bb = np.ones(util.clashing_shape(shape))
            elif d.chance(12):
                case.bad["b"] = ((TypeError,), ["b"])
                bb = np.full(shape, "1")
            elif d.chance(5):
                bb = d.choice([0.0, 1.0, -1.0, 2, 0, True, np.float32(0.5)])
            else:
                bshape = sub_shape(d, shape)
                pool = [0.0, 1.0, -1.0, 2.0, 0.5, -0.5] + ([np.nan, np.inf] if d.chance(4) else [])
                bdt = d.choice([np.float64, np.float32, np.int32, np.bool_, np.float16, np.longdouble])
                with np.errstate(invalid="ignore"):
                    bb = draw_layout(d, np.array([d.choice(pool) for _ in range(int(np.prod(bshape)))])
                                     .astype(bdt).reshape(bshape))
            case.b = bb if "b" not in case.bad else None
            case.kw["b"] = bb
        for flag in ("keepdims", "return_sign"):
            if d.chance(2):
                if d.chance(10):
                    case.bad[flag] = ((TypeError,), [flag])
                    case.kw[flag] = d.choice([1, 0, "yes", None])
                else:
                    case.kw[flag] = d.choice([True, False, np.True_])
    if name in HAS_DTYPE and d.chance(4):
        if x.dtype.kind == "c" and FIRST.get(name, "x") not in case.bad:
            case.bad["dtype"] = ((TypeError,), ["dtype"])  # a real dtype cannot hold complex input
            case.kw["dtype"] = d.choice([np.float16, np.float32, np.float64, np.longdouble, "f8"])
        elif d.chance(6):
            case.bad["dtype"] = ((TypeError,), ["dtype"])
            case.kw["dtype"] = d.choice([np.int32, np.complex128, "foo", object, bool])
        else:
            case.kw["dtype"] = d.choice([np.float16, np.float32, np.float64, np.longdouble, "f8", None])
    if name in HAS_WORKERS and d.chance(3):
        if d.chance(6):
            k = d.integer(0, 1)
            case.bad["workers"] = ((ValueError,) if k == 0 else (TypeError,), ["workers"])
            case.kw["workers"] = d.choice([0, -100000]) if k == 0 else d.choice([1.5, "2", True])
        else:
            case.kw["workers"] = d.choice([None, 1, 2, -1, np.int32(2)])
    if name in HAS_OUT and d.chance(3):
        draw_out(case, d, shape)
    case.x_copy = np.array(case.x, copy=True) if case.bad.get(first) is None else None
    if case.second is not None:
        case.second = np.array(case.second, copy=True)  # out may be v / g itself
    return case


def draw_out(case, d, shape):
    """`out`: a fresh array of any layout, x or v itself, a shifted view of x's buffer, or a bad one."""
    x = case.x
    valid_x = FIRST.get(case.name, "x") not in case.bad and SECOND.get(case.name) not in case.bad \
        and "dtype" not in case.bad
    rdt = result_dtype(case) if valid_x else np.dtype(np.float64)
    kind = d.integer(0, 9)
    if kind <= 3:
        a = np.full(shape, -7.0).astype(rdt)
        out = draw_layout(d, a, ["C", "F", "reversed", "strided", "transposed", "unaligned"])
    elif kind == 4 and valid_x and x.dtype == rdt and x.flags.writeable:
        out = x  # in place
    elif kind == 5 and valid_x and x.ndim and x.size > 1 and rdt.kind == "f" and x.dtype == rdt:
        # x and out are shifted views of one buffer: they overlap partially
        n, shift = x.size, d.integer(1, x.size - 1)
        buf = np.zeros(n + shift, rdt)
        lo, hi = (buf[shift:], buf[:n]) if d.chance(2) else (buf[:n], buf[shift:])
        lo[...] = x.reshape(-1)
        newx = lo.reshape(x.shape)
        case.args[0] = case.x = newx
        out = hi.reshape(x.shape)
    elif kind == 6 and valid_x and case.second is not None and isinstance(case.args[1], np.ndarray) \
            and case.args[1].shape == shape and case.args[1].dtype == rdt and case.args[1].flags.writeable:
        out = case.args[1]  # out is v / g itself
    elif kind == 7:
        case.bad["out"] = ((TypeError,), ["out"])
        out = d.choice([[0.0] * max(1, int(np.prod(shape))), np.zeros(shape, np.int64),
                        np.zeros(shape, np.float32 if rdt != np.float32 else np.float64)])
    elif kind == 8:
        case.bad["out"] = ((ValueError,), ["out"])
        out = np.zeros(bad_shape(shape), rdt)
    elif kind == 9:
        case.bad["out"] = ((ValueError,), ["out"])
        out = np.zeros(shape, rdt)
        out.flags.writeable = False
    else:
        out = np.full(shape, -7.0).astype(rdt)
    case.out = out
    case.kw["out"] = out


# ------------------------------------------------------------------ the oracle

class Finding(AssertionError):
    """A result or behaviour that breaks the contract."""


def _snapshot(case):
    arrays = [a for a in case.args + list(case.kw.values()) if isinstance(a, np.ndarray)]
    return [(a, a.tobytes()) for a in arrays if a is not case.out and not _shares(a, case.out)]


def _shares(a, out):
    return isinstance(out, np.ndarray) and np.may_share_memory(a, out)


def run_case(case):
    """Call the function; raise `Finding` if it breaks the contract. Returns 'error' or 'ok'."""
    f = getattr(sm, case.name)
    snap = _snapshot(case)
    out = case.out
    out_before = out.tobytes() if isinstance(out, np.ndarray) else None
    try:
        with np.errstate(all="ignore"):
            res = f(*case.args, **case.kw)
    except (TypeError, ValueError) as e:  # AxisError is a ValueError
        if not case.bad:
            raise Finding(f"valid call raised {type(e).__name__}: {e}\n{case!r}") from e
        msg = str(e)
        if not any(isinstance(e, types) and all(w in msg for w in words)
                   for types, words in case.bad.values()):
            raise Finding(f"{type(e).__name__}({msg!r}) does not match an invalid argument "
                          f"{ {k: (tuple(t.__name__ for t in v[0]), v[1]) for k, v in case.bad.items()} }"
                          f"\n{case!r}") from e
        if out_before is not None and out.tobytes() != out_before:
            raise Finding(f"out was written before the error {e!r}\n{case!r}")
        _check_unchanged(snap, case)
        return "error"
    if case.bad:
        raise Finding(f"invalid call did not raise (bad: {sorted(case.bad)})\n{case!r}")
    _check_unchanged(snap, case)
    check_result(case, res)
    return "ok"


def _check_unchanged(snap, case):
    for a, before in snap:
        if a.tobytes() != before:
            raise Finding(f"an input was written\n{case!r}")


def _axes(case):
    ax = case.kw.get("axis")
    if case.name == "softmax_jacobian":
        return ax
    return util.reduced_axes(ax, case.x.ndim)


def _temp(case):
    return float(np.asarray(case.kw["temperature"]).reshape(()))


def check_result(case, res):
    """Compare a valid call's result with the oracle."""
    name = case.name
    rdt = result_dtype(case)
    comp = np.dtype(np.float32) if rdt == np.float16 else rdt  # inputs become this first (policy)
    first_x = FIRST[name] != "y"                                # x-type: shift-invariant
    x = _as_seen(case.x_copy, comp, exact_integers=first_x)
    t = _temp(case)
    where = None if case.where is None else np.broadcast_to(np.asarray(case.where), x.shape)
    if name == "softmax_jacobian":
        want = util.exact("softmax_jacobian", x, case.kw["axis"], t).round(rdt)
        _same_shape_dtype(case, res, want.shape, rdt)
        c = _cond(x.reshape(-1) if case.kw["axis"] is None else x, t)
        rtol = util.base_rtol(rdt) * (1 + (float(c.max()) if c.size else 0))
        util.assert_close(res, want, rtol, rtol / abs(t), err_msg=repr(case))
        return
    axes = _axes(case)
    if case.out is not None and res is not case.out:
        raise Finding(f"the function did not return out\n{case!r}")
    if name in ("softmax", "log_softmax"):
        want = util.exact(name, x, axes, t, where).round(rdt)
        _same_shape_dtype(case, res, x.shape, rdt)
        rtol = util.base_rtol(rdt) * (1 + _cond(x, t, where))
        atol = rtol if name == "log_softmax" else 4 * util.tiny(rdt)
        util.assert_close(res, want, rtol, atol, err_msg=repr(case))
        return
    if name == "logsumexp":
        keep = bool(case.kw.get("keepdims", False))
        sign = bool(case.kw.get("return_sign", False))
        b = None if case.b is None else _as_seen(np.asarray(case.b), comp)
        bl = None if b is None else np.broadcast_to(b, x.shape)
        want = util.exact("logsumexp", x, axes, bl, keep, sign, t, where)
        got = res if sign else (res,)
        # with return_sign, a complex input's value is real (the log of the modulus), as scipy's
        vdt = np.finfo(rdt).dtype if sign and rdt.kind == "c" else rdt
        want = (np.real(want[0].round(rdt)).astype(vdt), np.asarray(want[1], rdt)) if sign else (want.round(rdt),)
        if sign and not (isinstance(res, tuple) and len(res) == 2):
            raise Finding(f"return_sign=True did not return a pair\n{case!r}")
        kshape = util.reduced_shape(x.shape, axes, keep)
        for g, gdt in zip(got, (vdt, rdt)):
            _same_shape_dtype(case, g, kshape, gdt, scalar=not kshape)
        rtol = util.base_rtol(rdt)
        fin = np.abs(x[np.isfinite(x)].astype(_wide(x))).astype(np.float64) if x.size else np.zeros(0)
        scale = 1 + (float(fin.max()) if fin.size else 0.0)
        bcond = _b_cond(x, bl, axes, keep, t)
        atol = rtol * scale * bcond
        # a weighted sum that cancels to (nearly) nothing has no meaningful value or sign in
        # the working precision (e.g. 2 + 2 - 4 - e^-3333): anything goes there
        ill = np.asarray(bcond * util.base_rtol(comp) > 1e-2)
        got = tuple(np.where(ill, w, g) for g, w in zip(got, want))
        util.assert_close(got[0], want[0], rtol, atol, err_msg=repr(case))
        if sign:
            st = rtol * 16 if rdt.kind == "c" else 0  # a complex sign is a unit complex number
            util.assert_close(got[1], want[1], st, st, err_msg="sign " + repr(case))
        return
    # derivatives
    v = np.broadcast_to(_as_seen(case.second, comp), x.shape)
    kw = {"where": where} if name.endswith("jvp") else {}
    with np.errstate(all="ignore"):
        want = util.exact(name, x, v, axes, t, **kw).round(rdt)
    _same_shape_dtype(case, res, x.shape, rdt)
    rtol, atol = _grad_tol(name, x, v, axes, t, rdt)
    util.assert_close(res, want, rtol, atol, err_msg=repr(case))


def _as_seen(a, dtype, exact_integers=False):
    """`a` as the computation sees it: converted to the compute dtype first, but for the first
    input of a shift-invariant function (x, a) integers are taken exactly (the library
    subtracts their slice maximum exactly before converting); a real x of a JVP with a complex
    v stays real (softmax(x) is real, the JVP linear in v)."""
    a = np.asarray(a)
    if exact_integers and a.dtype.kind in "iu":
        return a
    if exact_integers and a.dtype.kind in "bf" and np.dtype(dtype).kind == "c":
        dtype = np.finfo(dtype).dtype
    with np.errstate(all="ignore"):
        return a.astype(dtype)


def _wide(x):
    return np.clongdouble if x.dtype.kind == "c" else np.longdouble


def _cond(x, t, where=None):
    """util.cond, capped so that a huge input gives a huge (not an inf or NaN) tolerance."""
    with np.errstate(all="ignore"):
        return np.minimum(np.nan_to_num(util.cond(x, t, where), nan=1e300), 1e300)


def _same_shape_dtype(case, res, shape, rdt, scalar=None):
    if case.out is None and not shape and scalar is not False:
        if not isinstance(res, np.generic):
            raise Finding(f"0-d result is not a numpy scalar: {type(res).__name__}\n{case!r}")
    r = np.asarray(res)
    if r.shape != tuple(shape):
        raise Finding(f"result shape {r.shape} != {tuple(shape)}\n{case!r}")
    if r.dtype != rdt:
        raise Finding(f"result dtype {r.dtype} != {rdt}\n{case!r}")


def _b_cond(x, bl, axes, keep, t):
    """Condition of the weighted sum: sum|b e^(a/T)| / |sum b e^(a/T)| per slice (1 without b)."""
    if bl is None or x.dtype.kind == "c" or t == 0:
        return 1.0
    with np.errstate(all="ignore"):
        xs = x.astype(np.longdouble)
        z = np.where(np.isfinite(xs), xs / t, -np.inf)
        m = np.max(z, axis=axes, keepdims=True, initial=-np.inf)
        m = np.where(np.isfinite(m), m, 0)
        e = np.exp(z - m)
        bf = np.where(np.isfinite(bl), bl, 0)
        num = np.sum(np.abs(bf * e), axis=axes, keepdims=keep)
        den = np.abs(np.sum(bf * e, axis=axes, keepdims=keep))
        c = np.where(den > 0, num / den, np.where(num > 0, np.inf, 1))  # num/0: cancelled
        return np.minimum(np.nan_to_num(c, nan=1.0, posinf=1e300), 1e300).astype(np.float64) + 1


def _grad_tol(name, x, v, axes, t, rdt):
    """(rtol, atol) for a derivative: eps x (conditioning of x) x (size of the terms)."""
    base = util.base_rtol(rdt) * 4
    fv = v[np.isfinite(v)] if v.size else v
    vmax = float(np.max(np.abs(fv.astype(_wide(fv))))) if fv.size else 0.0
    K = int(np.prod([x.shape[a] for a in axes])) if axes else 1
    if name.endswith("jvp"):
        c = _cond(x, t)
        return base * (1 + c), base * (1 + c) * (1 + 2 * vmax) / abs(t)
    fx = np.abs(x[np.isfinite(x)].astype(_wide(x))) if x.size else np.zeros(0)
    xmax = float(fx.max()) if fx.size else 0.0
    if name == "softmax_vjp":
        scale = (1 + xmax) * (1 + vmax) * (1 + K * xmax)
    else:
        with np.errstate(over="ignore"):
            scale = (1 + vmax) * (1 + K * float(np.exp(np.minimum(xmax, 700))))
    return base, base * scale / abs(t)


# ------------------------------------------------------------------ the bounded Hypothesis driver

@settings(max_examples=700, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
@given(st.data())
def test_fuzz(data):
    d = ByChoice(lambda lo, hi: data.draw(st.integers(lo, hi)), lambda: data.draw(st.floats()))
    case = build_case(d)
    run_case(case)

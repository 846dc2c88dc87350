"""Fuzzing every public function: dtype x shape x strides x axis x temperature x where x out x b.

One case generator (`build_case`) and one oracle (`run_case`) serve two drivers:
the bounded Hypothesis test below (part of the default suite) and the atheris
coverage-guided harness in fuzz/fuzz_softmax.py, which imports this module.

`build_case` draws through a tiny interface (`choice`, `integer`), so the same
code decodes Hypothesis draws and atheris bytes. Every drawn argument is either
valid or deliberately invalid; the case records which arguments are invalid and
the oracle demands, for an invalid case, a TypeError/ValueError/AxisError whose
message names one of them (raised before `out` is written), and for a valid
case a result of the right shape and dtype that matches `softmax._reference`
computed in extended precision. Inputs (x, v, y, g, b, where) are never written.
"""

import numpy as np
from hypothesis import HealthCheck, given, settings, strategies as st
from numpy.exceptions import AxisError

import softmax as sm
from softmax import _api
import util

LD, CLD = np.longdouble, np.clongdouble

FUNCS = ["softmax", "log_softmax", "logsumexp", "softmax_jvp", "softmax_vjp", "log_softmax_jvp",
         "log_softmax_vjp", "softmax_jacobian"]
HAS_WHERE = {"softmax", "log_softmax", "logsumexp", "softmax_jvp", "log_softmax_jvp"}
HAS_OUT = {"softmax", "log_softmax", "softmax_jvp", "softmax_vjp", "log_softmax_jvp", "log_softmax_vjp"}
HAS_DTYPE = {"softmax", "log_softmax", "logsumexp"}
HAS_WORKERS = HAS_OUT | {"logsumexp"}
SECOND = {"softmax_jvp": "v", "log_softmax_jvp": "v", "softmax_vjp": "g", "log_softmax_vjp": "g"}
FIRST = {"logsumexp": "a", "softmax_vjp": "y", "log_softmax_vjp": "y"}

GOOD_DTYPES = [np.float64, np.float32, np.float16, np.longdouble, np.int8, np.uint8, np.int16,
               np.uint32, np.int64, np.uint64, np.bool_, np.complex64, np.complex128]
BAD_DTYPES = [np.dtype(object), np.dtype("U3"), np.dtype("S3"), np.dtype("M8[s]"), np.dtype("m8[ms]"),
              np.dtype("V8"), np.dtype([("a", "f8"), ("b", "i4")])]
DIMS = [0, 1, 1, 2, 3, 3, 4, 5, 7, 17]
FINITE = [0.0, 1.0, -1.0, 0.5, -0.5, 2.0, -3.0, 3.25, 7.0, -10.0, 20.0, -25.5, 1e-3, -1e-7, 1e-30]
BIG = [1e4, -1e4, 700.0, -745.0, 1e30, -1e300, 1e300]
SPECIAL = [np.nan, np.inf, -np.inf]
LAYOUTS = ["C", "F", "reversed", "strided", "transposed", "byteswapped", "unaligned", "broadcast",
           "readonly"]


class ByChoice:
    """The draw interface over a function ``integer(lo, hi)`` (inclusive)."""

    def __init__(self, integer, real=None):
        self.integer = integer
        self.real = real  # optional: any float64 (NaN, inf, subnormal, huge)

    def choice(self, seq):
        return seq[self.integer(0, len(seq) - 1)]

    def chance(self, n):
        """True with probability about 1/n."""
        return self.integer(0, n - 1) == 0


# ------------------------------------------------------------------ arrays

def values(d, dtype, shape, finite_only=False, small=False):
    """An array of `dtype` and `shape` with values drawn from grids (and specials)."""
    dtype = np.dtype(dtype)
    n = int(np.prod(shape))
    if dtype == np.bool_:
        return np.array([d.integer(0, 1) for _ in range(n)], bool).reshape(shape)
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        pool = [v for v in (0, 1, 2, 3, -1, -5, 40) if info.min <= v <= info.max]
        if not small:
            pool += [int(info.min), int(info.max), int(info.max) - 1]
        return np.array([d.choice(pool) for _ in range(n)], dtype=dtype).reshape(shape)
    kind = d.integer(0, 4)  # 0: finite grid, 1: + big, 2: + specials, 3: all + specials, 4: any float
    if kind == 4 and d.real is not None and dtype.kind == "f" and not small:
        with np.errstate(over="ignore"):
            return np.array([d.real() for _ in range(n)], dtype=dtype).reshape(shape)
    pool = list(FINITE)
    if not small and kind in (1, 3) and dtype.kind == "f":
        pool += BIG
    if not finite_only and kind in (2, 3) and dtype.kind == "f":
        pool += SPECIAL
    if dtype.kind == "c":
        pool = FINITE[:9]
        vals = [complex(d.choice(pool), d.choice(pool)) for _ in range(n)]
    else:
        vals = [d.choice(pool) for _ in range(n)]
    with np.errstate(over="ignore"):
        return np.array(vals, dtype=dtype).reshape(shape)


def bad_values(dtype, shape):
    """An array of a non-numeric `dtype` (object, str, bytes, datetime, void, structured)."""
    return np.zeros(shape, dtype)


def layout(d, a, kind=None):
    """`a` (a fresh C array) in the memory layout `kind` (drawn if None); values unchanged."""
    kind = kind or d.choice(LAYOUTS)
    if kind == "F" and a.ndim:  # (asfortranarray makes a 0-d array 1-d)
        return np.asfortranarray(a)
    if kind == "reversed" and a.ndim:
        base = a[(slice(None, None, -1),) * a.ndim].copy()
        return base[(slice(None, None, -1),) * a.ndim]
    if kind == "strided" and a.ndim:
        base = np.zeros(tuple(2 * n + 1 for n in a.shape), a.dtype)
        view = base[(slice(1, None, 2),) * a.ndim]
        view[...] = a
        return view
    if kind == "transposed" and a.ndim >= 2:
        perm = list(range(a.ndim))[::-1]
        return np.ascontiguousarray(a.transpose(perm)).transpose(perm)
    if kind == "byteswapped" and a.dtype.itemsize > 1 and a.dtype.kind in "fciu":
        return a.astype(a.dtype.newbyteorder("S"))
    if kind == "unaligned" and a.dtype.alignment > 1 and a.dtype.kind != "O":
        buf = bytearray(a.nbytes + 1)
        u = np.frombuffer(buf, a.dtype, count=a.size, offset=1).reshape(a.shape)
        u[...] = a
        return u
    if kind == "broadcast" and a.ndim and a.size:
        ax = d.integer(0, a.ndim - 1)
        one = a.take([0], axis=ax)
        return np.broadcast_to(one, a.shape)  # read-only, zero stride
    if kind == "readonly":
        a = a.copy()
        a.flags.writeable = False
        return a
    return a


def sub_shape(d, shape):
    """A shape that broadcasts to `shape` (trailing dims, some set to 1)."""
    keep = d.integer(0, len(shape))
    return tuple(1 if d.chance(3) else n for n in shape[len(shape) - keep:])


def bad_shape(shape):
    """A shape that does not broadcast to `shape`."""
    return tuple(shape) + (2,) if not shape or shape[-1] != 2 else tuple(shape[:-1]) + (3,)


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
        dt = d.choice(BAD_DTYPES)
        case.bad[name] = ((TypeError,), [name, str(dt)])
        return bad_values(dt, shape)
    dt = d.choice(GOOD_DTYPES)
    return layout(d, values(d, dt, shape, finite_only=finite_only, small=case.name != "logsumexp" and
                            case.name not in ("softmax", "log_softmax")))


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
            w = layout(d, np.array([d.integer(0, 3) > 0 for _ in range(int(np.prod(wshape)))],
                                   bool).reshape(wshape))
            if w.size and d.chance(8):
                w = w.tolist() if w.ndim else bool(w)
        case.where = w
        case.kw["where"] = w
    if name == "logsumexp":
        if d.chance(2):
            if d.chance(10):
                case.bad["b"] = ((ValueError,), ["b"])
                bb = np.ones(bad_shape(shape))
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
                    bb = layout(d, np.array([d.choice(pool) for _ in range(int(np.prod(bshape)))])
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
        out = layout(d, a, d.choice(["C", "F", "reversed", "strided", "transposed", "unaligned"]))
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
    nd = case.x.ndim
    if case.name == "softmax_jacobian":
        return None if ax is None else ax
    return _api._axes(ax, nd)


def _temp(case):
    return _api._temperature(case.kw["temperature"])


def check_result(case, res):
    """Compare a valid call's result with the extended-precision reference."""
    name = case.name
    rdt = result_dtype(case)
    comp = np.dtype(np.float32) if rdt == np.float16 else rdt  # inputs become this first (policy)
    x = _cast(case.x_copy, comp)
    t = _temp(case)
    hi = CLD if rdt.kind == "c" else LD
    where = None if case.where is None else np.broadcast_to(np.asarray(case.where), x.shape)
    if name == "softmax_jacobian":
        ax = case.kw["axis"]
        xr = x.reshape(-1) if ax is None else x
        ax = 0 if ax is None else ax
        s = np.moveaxis(util.ref.softmax(xr.astype(hi), ax, t), ax, -1)
        with np.errstate(all="ignore"):
            want = _round((s[..., :, None] * np.eye(s.shape[-1], dtype=hi)
                           - s[..., :, None] * s[..., None, :]) / t, rdt)
        _same_shape_dtype(case, res, want.shape, rdt)
        c = _cond(xr, t)
        rtol = util.base_rtol(rdt) * (1 + (float(c.max()) if c.size else 0))
        util.assert_close(res, want, rtol, rtol / abs(t), err_msg=repr(case))
        return
    axes = _axes(case)
    if case.out is not None and res is not case.out:
        raise Finding(f"the function did not return out\n{case!r}")
    if name in ("softmax", "log_softmax"):
        want = getattr(util.ref, name)(x.astype(hi), axes, t, where)
        want = _round(want, rdt)
        _same_shape_dtype(case, res, x.shape, rdt)
        rtol = util.base_rtol(rdt) * (1 + _cond(x, t, where))
        atol = rtol if name == "log_softmax" else 4 * np.finfo(rdt).smallest_normal
        util.assert_close(res, want, rtol, atol, err_msg=repr(case))
        return
    if name == "logsumexp":
        keep = bool(case.kw.get("keepdims", False))
        sign = bool(case.kw.get("return_sign", False))
        b = None if case.b is None else _cast(np.asarray(case.b), comp)
        bl = None if b is None else np.broadcast_to(b.astype(hi), x.shape)
        want = util.ref.logsumexp(x.astype(hi), axes, bl, keep, sign, t, where)
        got = res if sign else (res,)
        want = want if sign else (want,)
        if sign and not (isinstance(res, tuple) and len(res) == 2):
            raise Finding(f"return_sign=True did not return a pair\n{case!r}")
        kshape = util.reduced_shape(x.shape, axes, keep)
        for g, w in zip(got, want):
            _same_shape_dtype(case, g, kshape, rdt, scalar=not kshape)
        rtol = util.base_rtol(rdt)
        fin = np.abs(x[np.isfinite(x)].astype(hi)).astype(np.float64) if x.size else np.zeros(0)
        scale = 1 + (float(fin.max()) if fin.size else 0.0)
        bcond = _b_cond(x, bl, axes, keep, t, hi)
        atol = rtol * scale * bcond
        # a weighted sum that cancels to (nearly) nothing has no meaningful value or sign in
        # the working precision (e.g. 2 + 2 - 4 - e^-3333): anything goes there
        ill = np.asarray(bcond * util.base_rtol(comp) > 1e-2)
        got = tuple(np.where(ill, _round(w, rdt), g) for g, w in zip(got, want))
        util.assert_close(got[0], _round(want[0], rdt), rtol, atol,
                          err_msg=repr(case))
        if sign:
            st = rtol * 16 if rdt.kind == "c" else 0  # a complex sign is a unit complex number
            util.assert_close(got[1], _round(want[1], rdt), st, st,
                              err_msg="sign " + repr(case))
        return
    # derivatives
    v = np.broadcast_to(_cast(case.second, comp), x.shape)
    fn = getattr(util.ref, name)
    kw = {"where": where} if name.endswith("jvp") else {}
    if name.endswith("jvp"):  # a real x stays real with a complex v (the policy): softmax(x) is real
        xd = np.asarray(case.x_copy).dtype
        xr = _cast(case.x_copy, np.result_type(xd, np.finfo(comp).dtype) if xd.kind in "biuf" else comp)
        xh = xr.astype(LD if xr.dtype.kind == "f" else hi)
    else:
        xh = x.astype(hi)
    with np.errstate(all="ignore"):
        want = _round(fn(xh, v.astype(hi), axes, t, **kw), rdt)
    _same_shape_dtype(case, res, x.shape, rdt)
    rtol, atol = _grad_tol(name, x, v, axes, t, rdt, hi)
    util.assert_close(res, want, rtol, atol, err_msg=repr(case))


def _cast(a, dtype):
    """`a` as the kernels see it: converted to the compute dtype first (ints and bool to float64)."""
    with np.errstate(all="ignore"):
        return np.asarray(a).astype(dtype)


def _cond(x, t, where=None):
    """util.cond, capped so that a huge input gives a huge (not an inf or NaN) tolerance."""
    with np.errstate(all="ignore"):
        return np.minimum(np.nan_to_num(util.cond(x, t, where), nan=1e300), 1e300)


def _round(want, rdt):
    with np.errstate(all="ignore"):
        return np.asarray(want).astype(rdt)


def _same_shape_dtype(case, res, shape, rdt, scalar=None):
    if case.out is None and not shape and scalar is not False:
        if not isinstance(res, np.generic):
            raise Finding(f"0-d result is not a numpy scalar: {type(res).__name__}\n{case!r}")
    r = np.asarray(res)
    if r.shape != tuple(shape):
        raise Finding(f"result shape {r.shape} != {tuple(shape)}\n{case!r}")
    if r.dtype != rdt:
        raise Finding(f"result dtype {r.dtype} != {rdt}\n{case!r}")


def _b_cond(x, bl, axes, keep, t, hi):
    """Condition of the weighted sum: sum|b e^(a/T)| / |sum b e^(a/T)| per slice (1 without b)."""
    if bl is None or x.dtype.kind == "c" or t == 0:
        return 1.0
    with np.errstate(all="ignore"):
        xs = x.astype(hi)
        z = np.where(np.isfinite(xs), xs / t, -np.inf)
        m = np.max(z, axis=axes, keepdims=True, initial=-np.inf)
        m = np.where(np.isfinite(m), m, 0)
        e = np.exp(z - m)
        bf = np.where(np.isfinite(bl), bl, 0)
        num = np.sum(np.abs(bf * e), axis=axes, keepdims=keep)
        den = np.abs(np.sum(bf * e, axis=axes, keepdims=keep))
        c = np.where(den > 0, num / den, np.where(num > 0, np.inf, 1))  # num/0: cancelled
        return np.minimum(np.nan_to_num(c, nan=1.0, posinf=1e300), 1e300).astype(np.float64) + 1


def _grad_tol(name, x, v, axes, t, rdt, hi):
    """(rtol, atol) for a derivative: eps x (conditioning of x) x (size of the terms)."""
    base = util.base_rtol(rdt) * 4
    fv = v[np.isfinite(v)] if v.size else v
    vmax = float(np.max(np.abs(fv.astype(hi)))) if fv.size else 0.0
    K = int(np.prod([x.shape[a] for a in axes])) if axes else 1
    if name.endswith("jvp"):
        c = _cond(x, t)
        return base * (1 + c), base * (1 + c) * (1 + 2 * vmax) / abs(t)
    fx = np.abs(x[np.isfinite(x)].astype(hi)) if x.size else np.zeros(0, hi)
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

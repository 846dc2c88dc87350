#!/usr/bin/env python
"""Accuracy table: error in ulps of the output dtype, this library vs NumPy/SciPy, torch, onnxruntime.

    python benchmarks/accuracy.py [--battery] [--verbose] [--seed N]
    python benchmarks/accuracy.py --exp     # the kernels' own exp over its whole range

Reference: the same float inputs evaluated in np.longdouble (x87 80-bit, 64-bit mantissa) with the
stable forms, an exact TwoSum for x - max and log1p for the log of the sum, pairwise sums along a
contiguous last axis, so the reference itself is good to ~0.001 ulp of float64.

ulp(e) = spacing of |e| in the output dtype; below the smallest normal the spacing at the smallest
normal (np.spacing(tiny)) is used, so tiny outputs are judged by absolute error.
  softmax, log_softmax : |got - e| / ulp(e)
  logsumexp            : |got - e| / ulp(max(|e|, |max(x)|))
  softmax_jvp / vjp    : |got - e| / ulp(s * (|v| + sum(s * |v|)))  (e itself can be ~0 by
                         cancellation; this is the scale of the terms that make it up)
Outputs whose exact value is not finite or whose scale is 0 (softmax: exact 0) must match exactly
(mismatches are counted separately, shown as '+N!').
"""
import argparse
import sys
import warnings

import numpy as np

LD = np.longdouble
F32, F64 = np.dtype(np.float32), np.dtype(np.float64)
FUNCTIONS = ["softmax", "log_softmax", "logsumexp", "softmax_jvp", "softmax_vjp"]
DTYPES = [F32, F64]


# ----------------------------------------------------------------------------- reference
def _ref_last(x, v=None):
    """Longdouble reference along the last axis of C-contiguous float array x (T = 1).

    Returns dict with softmax, log_softmax, logsumexp (reduced), and if v is given jvp + scale.
    """
    xl = x.astype(LD)
    m = np.max(xl, axis=-1, keepdims=True)
    # exact d = x - m as dh + dl (TwoSum)
    dh = xl - m
    bb = dh - xl
    dl = (xl - (dh - bb)) + (-m - bb)
    e = np.exp(dh)
    e = e + e * dl
    # sum of exp over the slice minus the one exp(0) = 1 at the (first) argmax
    idx = np.argmax(x, axis=-1)[..., None]
    e_wo = e.copy()
    np.put_along_axis(e_wo, idx, LD(0), axis=-1)
    rest = np.sum(e_wo, axis=-1, keepdims=True)
    total = 1 + rest
    L = np.log1p(rest)
    out = {
        "softmax": e / total,
        "log_softmax": (dh - L) + dl,
        "logsumexp": (m + L)[..., 0],
        "max": m[..., 0],
    }
    if v is not None:
        s = out["softmax"]
        vl = v.astype(LD)
        t = np.sum(s * vl, axis=-1, keepdims=True)
        out["jvp"] = s * (vl - t)
        out["jvp_scale"] = s * (np.abs(vl) + np.sum(s * np.abs(vl), axis=-1, keepdims=True))
    return out


def _ref_vjp_last(y, g):
    yl, gl = y.astype(LD), g.astype(LD)
    t = np.sum(yl * gl, axis=-1, keepdims=True)
    return yl * (gl - t), np.abs(yl) * (np.abs(gl) + np.sum(np.abs(yl * gl), axis=-1, keepdims=True))


def reference(x, axis, v=None, y=None, g=None):
    """Reference results in the original layout for an int axis."""
    mv = lambda a: np.ascontiguousarray(np.moveaxis(a, axis, -1))  # noqa: E731
    back = lambda a: np.moveaxis(a, -1, axis)  # noqa: E731
    r = _ref_last(mv(x), None if v is None else mv(v))
    res = {"softmax": back(r["softmax"]), "log_softmax": back(r["log_softmax"]),
           "logsumexp": r["logsumexp"], "max": r["max"]}
    if v is not None:
        res["softmax_jvp"], res["jvp_scale"] = back(r["jvp"]), back(r["jvp_scale"])
    if y is not None:
        vj, sc = _ref_vjp_last(mv(y), mv(g))
        res["softmax_vjp"], res["vjp_scale"] = back(vj), back(sc)
    return res


# ----------------------------------------------------------------------------- ulps
def ulp(a, dtype):
    """Spacing of dtype at |a| (a longdouble), floored at np.spacing(tiny) of dtype."""
    fi = np.finfo(dtype)
    a = np.abs(np.asarray(a, LD))
    _, ex = np.frexp(a)
    u = np.ldexp(LD(1), ex - fi.nmant - 1)
    return np.maximum(u, LD(np.spacing(fi.tiny)))


def ulp_errors(got, exact, scale, dtype):
    """(units array over checked outputs, number of exact-0/non-finite mismatches)."""
    got = np.asarray(got)
    if got.shape != exact.shape:
        raise ValueError(f"shape {got.shape} != {exact.shape}")
    gotl = got.astype(LD)
    ok = np.isfinite(exact) & np.isfinite(scale) & (scale != 0)
    bad_special = int(np.count_nonzero(~ok & (gotl != exact)))
    err = np.abs(gotl[ok] - exact[ok]) / ulp(scale[ok], dtype)
    return err.astype(np.float64), bad_special


# ----------------------------------------------------------------------------- implementations
def _np_softmax(x, axis):
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def make_impls():
    impls = {}
    try:
        import softmax as S
        S.softmax(np.array([1.0, 2.0]))
        impls["ours"] = {
            "softmax": lambda x, ax, **k: S.softmax(x, axis=ax),
            "log_softmax": lambda x, ax, **k: S.log_softmax(x, axis=ax),
            "logsumexp": lambda x, ax, **k: S.logsumexp(x, axis=ax),
            "softmax_jvp": lambda x, ax, v, **k: S.softmax_jvp(x, v, axis=ax),
            "softmax_vjp": lambda x, ax, y, g, **k: S.softmax_vjp(y, g, axis=ax),
        }
    except Exception as e:
        print(f"WARNING: `import softmax` failed ({type(e).__name__}: {e}); no 'ours' column",
              file=sys.stderr)
    try:
        import scipy.special as sp
        impls["numpy/scipy"] = {
            "softmax": lambda x, ax, **k: sp.softmax(x, axis=ax),
            "log_softmax": lambda x, ax, **k: sp.log_softmax(x, axis=ax),
            "logsumexp": lambda x, ax, **k: sp.logsumexp(x, axis=ax),
            "softmax_jvp": lambda x, ax, v, **k: (lambda s: s * (v - np.sum(s * v, axis=ax, keepdims=True)))(
                sp.softmax(x, axis=ax)),
            "softmax_vjp": lambda x, ax, y, g, **k: y * (g - np.sum(y * g, axis=ax, keepdims=True)),
        }
    except Exception:
        impls["numpy"] = {
            "softmax": lambda x, ax, **k: _np_softmax(x, ax),
            "softmax_vjp": lambda x, ax, y, g, **k: y * (g - np.sum(y * g, axis=ax, keepdims=True)),
        }
    try:
        import torch
        torch.set_num_threads(1)
        T = torch.from_numpy
        bwd = torch.ops.aten._softmax_backward_data
        impls["torch"] = {
            "softmax": lambda x, ax, **k: torch.softmax(T(x), ax).numpy(),
            "log_softmax": lambda x, ax, **k: torch.log_softmax(T(x), ax).numpy(),
            "logsumexp": lambda x, ax, **k: torch.logsumexp(T(x), ax).numpy(),
            "softmax_jvp": lambda x, ax, v, **k: bwd(T(v), torch.softmax(T(x), ax), ax, T(x).dtype).numpy(),
            "softmax_vjp": lambda x, ax, y, g, **k: bwd(T(g), T(y), ax, T(y).dtype).numpy(),
        }
    except Exception:
        pass
    try:
        import onnxruntime as ort
        from onnx import TensorProto, helper

        cache = {}

        def ort_run(op, x, ax):
            key = (op, x.shape, x.dtype.str, ax)
            if key not in cache:
                et = TensorProto.FLOAT if x.dtype == F32 else TensorProto.DOUBLE
                g = helper.make_graph(
                    [helper.make_node(op, ["X"], ["Z"], axis=ax % x.ndim)], op,
                    [helper.make_tensor_value_info("X", et, list(x.shape))],
                    [helper.make_tensor_value_info("Z", et, list(x.shape))])
                m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
                m.ir_version = min(m.ir_version, 9)
                so = ort.SessionOptions()
                so.intra_op_num_threads = 1
                so.log_severity_level = 3
                cache[key] = ort.InferenceSession(m.SerializeToString(), so,
                                                  providers=["CPUExecutionProvider"])
            return cache[key].run(None, {"X": np.ascontiguousarray(x)})[0]

        impls["ort"] = {
            "softmax": lambda x, ax, **k: ort_run("Softmax", x, ax),
            "log_softmax": lambda x, ax, **k: ort_run("LogSoftmax", x, ax),
        }
    except Exception:
        pass
    return impls


# ----------------------------------------------------------------------------- evaluation
def evaluate_case(x, axis, impls, rng):
    """{(fn, impl): (units array, n_special_mismatch) or Exception} for one input array."""
    dtype = x.dtype
    v = rng.standard_normal(x.shape).astype(dtype)
    g = rng.standard_normal(x.shape).astype(dtype)
    r0 = reference(x, axis, v=v)
    y = r0["softmax"].astype(dtype)  # the same rounded softmax output fed to every VJP
    ref = reference(x, axis, v=v, y=y, g=g)
    scales = {
        "softmax": ref["softmax"],
        "log_softmax": ref["log_softmax"],
        "logsumexp": np.maximum(np.abs(ref["logsumexp"]), np.abs(ref["max"])),
        "softmax_jvp": ref["jvp_scale"],
        "softmax_vjp": ref["vjp_scale"],
    }
    out = {}
    for name, fns in impls.items():
        for fn in FUNCTIONS:
            if fn not in fns:
                continue
            try:
                with warnings.catch_warnings(), np.errstate(all="ignore"):
                    warnings.simplefilter("ignore")
                    got = np.asarray(fns[fn](x, axis, v=v, y=y, g=g))
                if got.dtype != dtype:
                    raise TypeError(f"returned {got.dtype} for {dtype} input")
                out[(fn, name)] = ulp_errors(got, ref[fn], scales[fn], dtype)
            except Exception as e:
                out[(fn, name)] = e
    return out


def summarize(units):
    if units.size == 0:
        return 0.0, 0.0
    return float(units.max()), float(np.percentile(units, 99.9))


def fmt_cell(res):
    if res is None:
        return "-"
    if isinstance(res, Exception):
        return "error"
    (mx, p), special = res
    s = f"{mx:.3g} ({p:.2g})"
    if special:
        s += f" +{special}!"
    return s


def print_table(title, rows, impl_names):
    print(title)
    w = 22
    hdr = f"  {'function':<13}{'dtype':<9}" + "".join(f"{n:>{w}}" for n in impl_names)
    print(hdr)
    print("  " + "-" * (len(hdr) - 2))
    for (fn, dt), cells in rows.items():
        print(f"  {fn:<13}{dt.name:<9}" + "".join(f"{fmt_cell(cells.get(n)):>{w}}" for n in impl_names))


def exp_table(n=2_000_000, seed=1):
    """ulp error of the kernels' exp, alone (rounded) and as the pair exp + tail that the sums
    use, over its whole range, per ISA variant, against np.exp in longdouble."""
    from softmax import _dispatch

    ranges = {F32: [(-104.0, -87.3), (-87.3, -10.0), (-10.0, 0.0), (0.0, 88.7)],
              F64: [(-746.0, -708.4), (-708.4, -10.0), (-10.0, 0.0), (0.0, 709.7)]}
    rng = np.random.default_rng(seed)
    print("the kernels' exp: max ulp error (rounded result | result + tail) by input range")
    for level in _dispatch.available_isas():
        with _dispatch.using_isa(level) as k:
            for dt, spans in ranges.items():
                cells = []
                for lo, hi in spans:
                    x = rng.uniform(lo, hi, n).astype(dt)
                    out, tail = np.empty_like(x), np.empty_like(x)
                    k.exp(x, out, tail)
                    exact = np.exp(x.astype(LD))
                    tiny = np.finfo(dt).tiny
                    ulp = np.where(np.abs(exact) < tiny, LD(np.spacing(dt.type(0))),
                                   np.spacing(exact.astype(dt)).astype(LD))
                    e1 = np.max(np.abs(out.astype(LD) - exact) / ulp)
                    e2 = np.max(np.abs(out.astype(LD) + tail.astype(LD) - exact) / ulp)
                    cells.append(f"[{lo:g}, {hi:g}]: {float(e1):.3f} | {float(e2):.3f}")
                print(f"  {level:<9}{dt.name:<8}" + "   ".join(cells))
            # the exp of the float32 softmax/log_softmax/logsumexp/JVP kernels: float64 in and
            # out, arguments <= 0, relative error (it is rounded to float32 afterwards)
            cells = []
            for lo, hi in [(-700.0, -87.3), (-87.3, -10.0), (-10.0, 0.0)]:
                h = rng.uniform(lo, hi, n)
                out = np.empty_like(h)
                k.exp_f32(h, out)
                exact = np.exp(h.astype(LD))
                cells.append(f"[{lo:g}, {hi:g}]: {float(np.max(np.abs(out / exact - 1))):.2e}")
            print(f"  {level:<9}{'f32 in f64':<8}  relative: " + "   ".join(cells))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--exp", action="store_true", help="only the kernels' exp, over its range")
    ap.add_argument("--battery", action="store_true",
                    help="scales 0.1..100 x K 2..100000, and every axis of a 3-d case")
    ap.add_argument("--verbose", action="store_true", help="with --battery: a table per case")
    ap.add_argument("--seed", type=int, default=20240607)
    args = ap.parse_args(argv)
    if args.exp:
        exp_table()
        return

    impls = make_impls()
    names = list(impls)
    print("ulp error vs a longdouble reference of the same inputs: max (99.9th percentile); "
          "'+N!' = N outputs with exact inf/nan/zero-scale that differ")
    print(f"  implementations: {', '.join(names)}   (numpy/scipy: scipy.special for softmax/log_softmax/"
          "logsumexp, NumPy formulas for jvp/vjp; torch jvp/vjp via aten._softmax_backward_data)")
    print(f"  longdouble: {np.finfo(LD).nmant + 1}-bit mantissa")
    print()

    if not args.battery:
        cases = [("(2000,1000) normal*5 axis -1", (2000, 1000), 5.0, -1)]
    else:
        cases = []
        n_total = 400_000
        for K in (2, 10, 1000, 100_000):
            for scale in (0.1, 1, 5, 20, 100):
                cases.append((f"K={K} scale={scale}", (max(n_total // K, 2), K), float(scale), -1))
        for ax in range(3):
            cases.append((f"(24,50,40) normal*5 axis {ax}", (24, 50, 40), 5.0, ax))

    agg = {}      # (fn, dtype) -> impl -> ((max, p999), special)
    worst = {}    # (fn, dtype, impl) -> case label of the max
    for label, shape, scale, axis in cases:
        rows = {}
        for dt in DTYPES:
            rng = np.random.default_rng(args.seed)
            x = (rng.standard_normal(shape) * scale).astype(dt)
            res = evaluate_case(x, axis, impls, rng)
            for fn in FUNCTIONS:
                for name in names:
                    r = res.get((fn, name))
                    if r is None:
                        continue
                    if isinstance(r, Exception):
                        rows.setdefault((fn, dt), {})[name] = r
                        agg.setdefault((fn, dt), {})[name] = r
                        print(f"  {label} {fn} {dt.name} {name}: {type(r).__name__}: {r}", file=sys.stderr)
                        continue
                    units, special = r
                    mx, p = summarize(units)
                    rows.setdefault((fn, dt), {})[name] = ((mx, p), special)
                    prev = agg.setdefault((fn, dt), {}).get(name)
                    if prev is None or (not isinstance(prev, Exception) and
                                        (mx > prev[0][0] or special > prev[1])):
                        pm, pp = (prev[0] if prev is not None else (0.0, 0.0))
                        ps = prev[1] if prev is not None else 0
                        agg[(fn, dt)][name] = ((max(mx, pm), max(p, pp)), max(special, ps))
                        if prev is None or mx > pm:
                            worst[(fn, dt, name)] = label
                    elif not isinstance(prev, Exception):
                        agg[(fn, dt)][name] = ((prev[0][0], max(p, prev[0][1])), prev[1])
        if not args.battery or args.verbose:
            print_table(f"{label}, shape {shape}, seed {args.seed}", rows, names)
            print()
    if args.battery:
        print_table(f"battery ({len(cases)} cases x float32/float64): max over cases "
                    "(max of the per-case 99.9th percentiles)", agg, names)
        print()
        if "ours" in names:
            print("  worst case for ours:")
            for (fn, dt) in agg:
                lab = worst.get((fn, dt, "ours"))
                if lab:
                    print(f"    {fn:<13}{dt.name:<9}{lab}")


if __name__ == "__main__":
    main()

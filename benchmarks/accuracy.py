#!/usr/bin/env python
"""Accuracy table: error in ulps of the output dtype, this library vs NumPy/SciPy, torch, onnxruntime.

    python benchmarks/accuracy.py [--battery] [--verbose] [--seed N] [--array-api]
    python benchmarks/accuracy.py --exp     # the kernels' own exp over its whole range

Reference: tests/oracle.py (the test suite's oracle): the same float inputs taken exactly and
evaluated in double-double arithmetic (x - max and the division by T exact, the maxima summed
apart so that log1p keeps its precision), checked against mpmath to far below 2**-60;
SOFTMAX_ORACLE=portable runs it without np.longdouble. The one ulp measure is the oracle's
(``oracle.ulp_errors``, at the scale of ``oracle.Exact.scale``):

  softmax, log_softmax : |got - e| / ulp(e)
  logsumexp            : |got - e| / ulp(max(|e|, |max(x)|))
  softmax_jvp / vjp    : |got - e| / ulp(s * (|v| + sum(s * |v|)))  (e itself can be ~0 by
                         cancellation; this is the scale of the terms that make it up)

ulp(e) = spacing of |e| in the output dtype. Outputs whose scale is below the smallest normal
number are judged by absolute error instead, and outputs whose exact value is not finite or
whose scale is 0 (softmax: exact 0) must match exactly; the outputs that fail either are
counted separately, shown as '+N!'.
"""
import argparse
import os
import sys
import warnings

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
import oracle  # noqa: E402  (tests/oracle.py)

F32, F64 = np.dtype(np.float32), np.dtype(np.float64)
FUNCTIONS = ["softmax", "log_softmax", "logsumexp", "softmax_jvp", "softmax_vjp"]
DTYPES = [F32, F64]


# ----------------------------------------------------------------------------- implementations
def _np_softmax(x, axis):
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def make_array_api_impls():
    """The library's array-API path (softmax._array_api: inputs that cannot reach the kernels),
    in two namespaces: array-api-strict (NumPy's arithmetic) and torch with requires_grad (so
    that autograd could flow; torch's arithmetic)."""
    import softmax as S
    impls = {}
    try:
        import array_api_strict as xps

        def strict(f):
            return lambda *a, **k: np.from_dlpack(f(*(xps.asarray(b) for b in a), **k))
        impls["xp:strict"] = _array_api_set(S, strict)
    except ImportError:
        print("WARNING: array_api_strict not installed; no 'xp:strict' column", file=sys.stderr)
    try:
        import torch
        torch.set_num_threads(1)

        def grad(f):
            def run(*a, **k):
                ts = [torch.tensor(b, requires_grad=True) for b in a]
                return f(*ts, **k).detach().numpy()
            return run
        impls["xp:torch-grad"] = _array_api_set(S, grad)
    except ImportError:
        print("WARNING: torch not installed; no 'xp:torch-grad' column", file=sys.stderr)
    return impls


def _array_api_set(S, wrap):
    return {
        "softmax": lambda x, ax, **k: wrap(S.softmax)(x, axis=ax),
        "log_softmax": lambda x, ax, **k: wrap(S.log_softmax)(x, axis=ax),
        "logsumexp": lambda x, ax, **k: wrap(S.logsumexp)(x, axis=ax),
        "softmax_jvp": lambda x, ax, v, **k: wrap(S.softmax_jvp)(x, v, axis=ax),
        "softmax_vjp": lambda x, ax, y, g, **k: wrap(S.softmax_vjp)(y, g, axis=ax),
    }


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
    exact = oracle.Exact(x, axis)
    y = exact.softmax().round(dtype)  # the same correctly rounded softmax fed to every VJP
    ref = {fn: (getattr(exact, fn)(), exact.scale(fn)) for fn in ("softmax", "log_softmax", "logsumexp")}
    ref["softmax_jvp"] = exact.softmax_jvp(v), exact.scale("softmax_jvp", v)
    ref["softmax_vjp"] = oracle.softmax_vjp(y, g, axis), oracle.scale("softmax_vjp", y, g, axis)
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
                units, sub, mismatch = oracle.ulp_errors(got, *ref[fn])
                out[(fn, name)] = units, mismatch + int(np.count_nonzero(sub > 1))
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
                    # measured times 2**p2, exactly, where the result is (nearly) subnormal
                    p2 = np.where(x < -600, 200, 0).astype(np.intc)
                    exact = oracle.exp(x, p2)
                    ulp = np.ldexp(oracle.ulp(np.ldexp(exact.hi, -p2), dt), p2)
                    err = (np.ldexp(out.astype(np.float64), p2) - exact.hi) - exact.lo
                    e1 = np.max(np.abs(err) / ulp)
                    e2 = np.max(np.abs(err + np.ldexp(tail.astype(np.float64), p2)) / ulp)
                    cells.append(f"[{lo:g}, {hi:g}]: {float(e1):.3f} | {float(e2):.3f}")
                print(f"  {level:<9}{dt.name:<8}" + "   ".join(cells))
            # the exp of the float32 softmax/log_softmax/logsumexp/JVP kernels: float64 in and
            # out, arguments <= 0, relative error (it is rounded to float32 afterwards)
            cells = []
            for lo, hi in [(-700.0, -87.3), (-87.3, -10.0), (-10.0, 0.0)]:
                h = rng.uniform(lo, hi, n)
                out = np.empty_like(h)
                k.exp_f32(h, out)
                exact = oracle.exp(h).round()
                cells.append(f"[{lo:g}, {hi:g}]: {float(np.max(np.abs(out / exact - 1))):.2e}")
            print(f"  {level:<9}{'f32 in f64':<8}  relative: " + "   ".join(cells))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--exp", action="store_true", help="only the kernels' exp, over its range")
    ap.add_argument("--battery", action="store_true",
                    help="scales 0.1..100 x K 2..100000, and every axis of a 3-d case")
    ap.add_argument("--verbose", action="store_true", help="with --battery: a table per case")
    ap.add_argument("--seed", type=int, default=20240607)
    ap.add_argument("--array-api", action="store_true",
                    help="ours and the library's array-API path (torch tensors that require "
                         "grad, JAX tracers, ...: docs/arrays.md) in place of the peers")
    args = ap.parse_args(argv)
    if args.exp:
        exp_table()
        return

    impls = make_impls()
    if args.array_api:
        impls = {"ours": impls["ours"], **make_array_api_impls()}
    names = list(impls)
    print("ulp error vs a longdouble reference of the same inputs: max (99.9th percentile); "
          "'+N!' = N outputs with exact inf/nan/zero-scale that differ")
    print(f"  implementations: {', '.join(names)}   (numpy/scipy: scipy.special for softmax/log_softmax/"
          "logsumexp, NumPy formulas for jvp/vjp; torch jvp/vjp via aten._softmax_backward_data)")
    print(f"  oracle: tests/oracle.py, {oracle.BACKEND} backend")
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

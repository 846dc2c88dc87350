#!/usr/bin/env python
"""Speed benchmark: softmax (this library) vs NumPy, SciPy, PyTorch, ONNX Runtime and memcpy.

    python benchmarks/bench.py [--quick] [--threads N] [--plot FILE.png [--plot-only]]
                               [--functions softmax log_softmax ...] [--cases SUBSTR ...]

Every time is the median of >= 7 samples; each sample loops the call enough times to
last >= ~2 ms (>= ~20 ms for the per-call cases, timeit-style), and the per-call time is
printed. Peers that are not installed are skipped. See benchmarks/README.md.
"""
import argparse
import gc
import inspect
import os
import platform
import statistics
import sys
import timeit
import tracemalloc
import warnings

import numpy as np

F32, F64 = np.dtype(np.float32), np.dtype(np.float64)

# (label, shape, dtype, axis, per_call)
CASES = [
    ("(4096,1000) f32 ax-1", (4096, 1000), F32, -1, False),
    ("(64,50257) f32 ax-1", (64, 50257), F32, -1, False),
    ("(3072,256) f32 ax-1", (3072, 256), F32, -1, False),
    ("(100000,10) f32 ax-1", (100000, 10), F32, -1, False),
    ("(512,4096) f32 ax-1", (512, 4096), F32, -1, False),
    ("(8192,200) f32 ax-1", (8192, 200), F32, -1, False),
    ("(32768,96) f32 ax-1", (32768, 96), F32, -1, False),
    ("(1000,4096) f32 ax0", (1000, 4096), F32, 0, False),
    ("(64,512,64) f32 ax1", (64, 512, 64), F32, 1, False),
    ("(2**24,) f32 1 slice", (2 ** 24,), F32, -1, False),
    ("(4096,1000) f64 ax-1", (4096, 1000), F64, -1, False),
    ("(10,) f64 per-call", (10,), F64, -1, True),
    ("(1000,) f32 per-call", (1000,), F32, -1, True),
]
FUNCTIONS = ["softmax", "log_softmax", "logsumexp", "softmax_vjp", "softmax_jvp"]
PEERS = ["numpy", "scipy", "torch", "ort"]
IMPLS = ["ours", "ours_out"] + PEERS + ["memcpy"]
HEAD = {"ours": "ours", "ours_out": "out=", "numpy": "numpy", "scipy": "scipy",
        "torch": "torch", "ort": "ort", "memcpy": "memcpy"}


# ----------------------------------------------------------------------------- imports
def _import_ours():
    try:
        import softmax as S
        S.softmax(np.array([1.0, 2.0]))
        return S, None
    except Exception as e:  # pragma: no cover - reported in the header
        return None, f"{type(e).__name__}: {e}"


def _import_optional(name):
    try:
        return __import__(name)
    except Exception:
        return None


# ----------------------------------------------------------------------------- timing
def timeit_median(fn, min_time, repeat):
    """Median seconds per call of fn() over `repeat` samples each lasting >= min_time."""
    timer = timeit.Timer(fn)
    fn()  # warm-up (allocations, caches, lazy init)
    number = 1
    while True:
        t = timer.timeit(number)
        if t >= min_time:
            break
        number = max(number * 2, int(number * min_time * 1.3 / max(t, 1e-9)))
    samples = [timer.timeit(number) / number for _ in range(repeat)]
    return statistics.median(samples)


def fmt_time(t):
    if t is None:
        return "-"
    if isinstance(t, str):
        return t
    if t < 1e-3:
        return f"{t * 1e6:.2f}us"
    return f"{t * 1e3:.3f}ms"


def fmt_ratio(r):
    return "-" if r is None else (f"{r:.2f}" if r < 100 else f"{r:.0f}")


# ----------------------------------------------------------------------------- workers kwarg
def workers_kwargs(S, name, threads):
    """{'workers': threads} if ours accepts `workers=`, else {} (lead may not have it yet)."""
    f = getattr(S, name, None)
    if f is None:
        return {}
    try:
        params = inspect.signature(f).parameters
        if "workers" in params or any(p.kind == p.VAR_KEYWORD for p in params.values()):
            return {"workers": threads}
        return {}
    except (TypeError, ValueError):
        try:
            f(np.ones(2), workers=threads) if name not in ("softmax_vjp", "softmax_jvp") \
                else f(np.ones(2), np.ones(2), workers=threads)
            return {"workers": threads}
        except TypeError:
            return {}


# ----------------------------------------------------------------------------- numpy naive
def np_softmax(x, axis):
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    e /= np.sum(e, axis=axis, keepdims=True)
    return e


def np_log_softmax(x, axis):
    d = x - np.max(x, axis=axis, keepdims=True)
    return d - np.log(np.sum(np.exp(d), axis=axis, keepdims=True))


def np_logsumexp(x, axis):
    m = np.max(x, axis=axis, keepdims=True)
    return np.squeeze(m, axis) + np.log(np.sum(np.exp(x - m), axis=axis))


def np_vjp(y, g, axis):
    return y * (g - np.sum(y * g, axis=axis, keepdims=True))


def np_jvp(x, v, axis):
    s = np_softmax(x, axis)
    return s * (v - np.sum(s * v, axis=axis, keepdims=True))


# ----------------------------------------------------------------------------- onnxruntime
class OrtFactory:
    def __init__(self, ort, onnx, threads):
        self.ort, self.onnx, self.threads = ort, onnx, threads
        self.cache = {}

    def session(self, fn, shape, dtype, axis):
        key = (fn, shape, dtype.str, axis)
        if key in self.cache:
            return self.cache[key]
        from onnx import TensorProto, helper
        onnx = self.onnx
        et = TensorProto.FLOAT if dtype == F32 else TensorProto.DOUBLE
        nd = len(shape)
        ax = axis % nd
        inputs, nodes, inits = [], [], []

        def inp(name):
            inputs.append(helper.make_tensor_value_info(name, et, list(shape)))

        def softmax_grad(yname, gname, outname):
            inits.append(helper.make_tensor("axes", TensorProto.INT64, [1], [ax]))
            nodes.extend([
                helper.make_node("Mul", [yname, gname], ["yg"]),
                helper.make_node("ReduceSum", ["yg", "axes"], ["t"], keepdims=1),
                helper.make_node("Sub", [gname, "t"], ["d"]),
                helper.make_node("Mul", [yname, "d"], [outname]),
            ])

        out_shape = list(shape)
        if fn == "softmax":
            inp("X"); nodes.append(helper.make_node("Softmax", ["X"], ["Z"], axis=ax))
        elif fn == "log_softmax":
            inp("X"); nodes.append(helper.make_node("LogSoftmax", ["X"], ["Z"], axis=ax))
        elif fn == "logsumexp":
            inp("X")
            nodes.append(helper.make_node("ReduceLogSumExp", ["X"], ["Z"], axes=[ax], keepdims=0))
            out_shape = [n for i, n in enumerate(shape) if i != ax]
        elif fn == "softmax_vjp":
            inp("Y"); inp("G"); softmax_grad("Y", "G", "Z")
        elif fn == "softmax_jvp":
            inp("X"); inp("V")
            nodes.append(helper.make_node("Softmax", ["X"], ["S"], axis=ax))
            softmax_grad("S", "V", "Z")
        elif fn == "identity":
            inp("X"); nodes.append(helper.make_node("Identity", ["X"], ["Z"]))
        else:
            raise ValueError(fn)
        outputs = [helper.make_tensor_value_info("Z", et, out_shape)]
        graph = helper.make_graph(nodes, fn, inputs, outputs, initializer=inits)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
        model.ir_version = min(model.ir_version, 9)
        so = self.ort.SessionOptions()
        so.intra_op_num_threads = self.threads
        so.inter_op_num_threads = 1
        so.execution_mode = self.ort.ExecutionMode.ORT_SEQUENTIAL
        so.log_severity_level = 3
        sess = self.ort.InferenceSession(model.SerializeToString(), so,
                                         providers=["CPUExecutionProvider"])
        self.cache[key] = sess
        return sess


# ----------------------------------------------------------------------------- call builders
def build_calls(fn, data, axis, S, sp, torch, ortf, threads):
    """Return {impl: zero-arg callable} for function `fn` on `data`."""
    x = data["x"]
    calls = {}
    if S is not None and hasattr(S, fn):
        f = getattr(S, fn)
        kw = workers_kwargs(S, fn, threads)
        if fn in ("softmax", "log_softmax"):
            o = np.empty_like(x)
            calls["ours"] = lambda: f(x, axis=axis, **kw)
            calls["ours_out"] = lambda: f(x, axis=axis, out=o, **kw)
        elif fn == "logsumexp":
            calls["ours"] = lambda: f(x, axis=axis, **kw)
        elif fn == "softmax_vjp":
            y, g, o = data["y"], data["g"], np.empty_like(x)
            calls["ours"] = lambda: f(y, g, axis=axis, **kw)
            calls["ours_out"] = lambda: f(y, g, axis=axis, out=o, **kw)
        elif fn == "softmax_jvp":
            v, o = data["v"], np.empty_like(x)
            calls["ours"] = lambda: f(x, v, axis=axis, **kw)
            calls["ours_out"] = lambda: f(x, v, axis=axis, out=o, **kw)
    # numpy naive
    if fn == "softmax":
        calls["numpy"] = lambda: np_softmax(x, axis)
    elif fn == "log_softmax":
        calls["numpy"] = lambda: np_log_softmax(x, axis)
    elif fn == "logsumexp":
        calls["numpy"] = lambda: np_logsumexp(x, axis)
    elif fn == "softmax_vjp":
        y, g = data["y"], data["g"]
        calls["numpy"] = lambda: np_vjp(y, g, axis)
    elif fn == "softmax_jvp":
        v = data["v"]
        calls["numpy"] = lambda: np_jvp(x, v, axis)
    # scipy
    if sp is not None and fn in ("softmax", "log_softmax", "logsumexp"):
        sf = getattr(sp, fn)
        calls["scipy"] = lambda: sf(x, axis=axis)
    # torch
    if torch is not None:
        tx = torch.from_numpy(x)
        tdt = tx.dtype
        bwd = torch.ops.aten._softmax_backward_data
        if fn == "softmax":
            calls["torch"] = lambda: torch.softmax(tx, axis)
        elif fn == "log_softmax":
            calls["torch"] = lambda: torch.log_softmax(tx, axis)
        elif fn == "logsumexp":
            calls["torch"] = lambda: torch.logsumexp(tx, axis)
        elif fn == "softmax_vjp":
            ty, tg = torch.from_numpy(data["y"]), torch.from_numpy(data["g"])
            calls["torch"] = lambda: bwd(tg, ty, axis, tdt)
        elif fn == "softmax_jvp":
            tv = torch.from_numpy(data["v"])
            calls["torch"] = lambda: bwd(tv, torch.softmax(tx, axis), axis, tdt)
    # onnxruntime (plain sess.run with numpy inputs: includes its per-call overhead)
    if ortf is not None:
        try:
            sess = ortf.session(fn, x.shape, x.dtype, axis)
            run = sess.run
            if fn == "softmax_vjp":
                feed = {"Y": data["y"], "G": data["g"]}
            elif fn == "softmax_jvp":
                feed = {"X": x, "V": data["v"]}
            else:
                feed = {"X": x}
            calls["ort"] = lambda: run(None, feed)[0]
        except Exception as e:  # op/dtype not supported
            calls["ort"] = e
    return calls


def reference(fn, data, axis):
    """float64 (float32 cases) / longdouble (float64 cases) result, to sanity-check every row."""
    w = np.float64 if data["x"].dtype == F32 else np.longdouble
    d = {k: a.astype(w) for k, a in data.items()}
    x = d["x"]
    if fn == "softmax":
        r = np_softmax(x, axis)
    elif fn == "log_softmax":
        r = np_log_softmax(x, axis)
    elif fn == "logsumexp":
        r = np_logsumexp(x, axis)
    elif fn == "softmax_vjp":
        r = np_vjp(d["y"], d["g"], axis)
    else:
        r = np_jvp(x, d["v"], axis)
    return r.astype(data["x"].dtype)


def check(result, ref):
    """None if fine; ('WRONG'|'inaccurate', message) otherwise (relative to max|ref|)."""
    r = np.asarray(result.numpy() if hasattr(result, "numpy") else result)
    if r.shape != ref.shape:
        return "WRONG", f"shape {r.shape} != {ref.shape}"
    if r.dtype != ref.dtype:
        return "WRONG", f"dtype {r.dtype} != {ref.dtype}"
    scale = float(np.max(np.abs(ref))) if ref.size else 1.0
    err = float(np.max(np.abs(r.astype(np.float64) - ref.astype(np.float64)))) / (scale or 1.0)
    if not np.isfinite(err) or err > 1e-2:
        return "WRONG", f"max|diff|/max|ref| = {err:.3g}"
    tol = 2e-5 if ref.dtype == F32 else 1e-12
    if err > tol:
        return "inaccurate", f"max|diff|/max|ref| = {err:.3g} (vs accurate reference)"
    return None


def make_data(shape, dtype, axis, rng):
    x = (rng.standard_normal(shape) * 2.0).astype(dtype)
    y = np_softmax(x.astype(np.float64), axis).astype(dtype)
    g = rng.standard_normal(shape).astype(dtype)
    v = rng.standard_normal(shape).astype(dtype)
    return {"x": x, "y": y, "g": g, "v": v}


def io_bytes(fn, data, axis):
    x = data["x"]
    n_in = 2 if fn in ("softmax_vjp", "softmax_jvp") else 1
    out = x.nbytes if fn != "logsumexp" else x.nbytes // x.shape[axis]
    return n_in * x.nbytes + out


# ----------------------------------------------------------------------------- main table
def run_table(args, S, sp, torch, ortf):
    rng = np.random.default_rng(12345)
    notes = []
    cols = IMPLS
    w0, w1, wt, wr = 21, 12, 10, 7
    hdr = (f"{'case':<{w0}} {'function':<{w1}}" + "".join(f"{HEAD[c]:>{wt}}" for c in cols)
           + " |" + "".join(f"{'x' + p:>{wr}}" for p in PEERS) + f" |{'GB/s':>7}{'/memcpy':>9}")
    print(hdr)
    print("-" * len(hdr))
    for label, shape, dtype, axis, per_call in CASES:
        if args.cases and not any(s in label for s in args.cases):
            continue
        data = make_data(shape, dtype, axis, rng)
        x = data["x"]
        min_time = (0.005 if args.quick else 0.02) if per_call else (0.001 if args.quick else 0.002)
        dst = np.empty_like(x)
        t_mem = timeit_median(lambda: np.copyto(dst, x), min_time, args.repeat)
        for fn in args.functions:
            calls = build_calls(fn, data, axis, S, sp, torch, ortf, args.threads)
            ref = reference(fn, data, axis)
            times = {"memcpy": t_mem}
            for impl in IMPLS[:-1]:
                c = calls.get(impl)
                if impl in ("numpy", "scipy", "torch", "ort") and impl not in args.peers:
                    continue
                if c is None:
                    continue
                if isinstance(c, Exception):
                    times[impl] = "n/a"
                    notes.append(f"{label} {fn} {impl}: {type(c).__name__}: {str(c)[:120]}")
                    continue
                try:
                    bad = check(c(), ref)
                    t = timeit_median(c, min_time, args.repeat)
                    times[impl] = t
                    if bad:
                        if bad[0] == "WRONG":
                            times[impl] = fmt_time(t) + "!"
                        notes.append(f"{label} {fn} {impl}: {bad[0]} result: {bad[1]}")
                except Exception as e:
                    times[impl] = "err"
                    notes.append(f"{label} {fn} {impl}: {type(e).__name__}: {str(e)[:160]}")
            ours = times.get("ours")
            ours = ours if isinstance(ours, float) else None
            ratios = []
            for p in PEERS:
                tp = times.get(p)
                ratios.append(tp / ours if ours and isinstance(tp, float) else None)
            gbs = io_bytes(fn, data, axis) / ours / 1e9 if ours else None
            line = (f"{label:<{w0}} {fn:<{w1}}" + "".join(f"{fmt_time(times.get(c)):>{wt}}" for c in cols)
                    + " |" + "".join(f"{fmt_ratio(r):>{wr}}" for r in ratios)
                    + f" |{(f'{gbs:.2f}' if gbs else '-'):>7}{fmt_ratio(ours / t_mem if ours else None):>9}")
            print(line, flush=True)
            del calls
        del data
        gc.collect()
    return notes


# ----------------------------------------------------------------------------- small calls
def small_calls(S, x):
    """{label: zero-arg call} of the issue's small-call targets on a 10-element x."""
    v, o, w = np.ones_like(x), np.empty_like(x), x > x.min()
    return {
        "softmax": lambda: S.softmax(x),
        "softmax axis=0 T=0.5 out=": lambda: S.softmax(x, axis=0, temperature=0.5, out=o),
        "log_softmax": lambda: S.log_softmax(x),
        "logsumexp": lambda: S.logsumexp(x),
        "softmax_jvp": lambda: S.softmax_jvp(x, v),
        "softmax_vjp": lambda: S.softmax_vjp(x, v),
        "softmax where=": lambda: S.softmax(x, where=w),
        "log_softmax where=": lambda: S.log_softmax(x, where=w),
        "logsumexp where=": lambda: S.logsumexp(x, where=w),
        "softmax_jvp where=": lambda: S.softmax_jvp(x, v, where=w),
        "softmax_jacobian": lambda: S.softmax_jacobian(x),
    }


def run_small(args, S):
    """Median microseconds per call of the small calls (small_calls), float32 and float64."""
    if S is None:
        return
    print()
    print("Small calls, a 10-element array (median us per call; targets: 1.0 for softmax, "
          "log_softmax, logsumexp; 1.2 for the JVP/VJP; 3 with where= and for the Jacobian)")
    rows = {}
    for dt in (F32, F64):
        x = np.random.default_rng(2).standard_normal(10).astype(dt)
        for label, f in small_calls(S, x).items():
            rows.setdefault(label, []).append(timeit_median(f, 0.005 if args.quick else 0.02,
                                                            args.repeat) * 1e6)
    print(f"  {'call':<28}{'float32':>9}{'float64':>9}")
    for label, (t32, t64) in rows.items():
        print(f"  {label:<28}{t32:>9.2f}{t64:>9.2f}")


# ----------------------------------------------------------------------------- memory
def run_memory(args, S, sp):
    print()
    print("Peak extra memory of one softmax call, (4096,1000) float32, axis=-1 (tracemalloc)")
    rng = np.random.default_rng(1)
    x = rng.standard_normal((4096, 1000)).astype(np.float32)
    out_mb = x.nbytes / 1e6
    rows = []
    if S is not None:
        kw = workers_kwargs(S, "softmax", args.threads)
        o = np.empty_like(x)
        xc = x.copy()
        rows += [("ours", lambda: S.softmax(x, axis=-1, **kw)),
                 ("ours out=prealloc", lambda: S.softmax(x, axis=-1, out=o, **kw)),
                 ("ours out=x (in place)", lambda: S.softmax(xc, axis=-1, out=xc, **kw))]
    if sp is not None:
        rows.append(("scipy", lambda: sp.softmax(x, axis=-1)))
    rows.append(("numpy naive", lambda: np_softmax(x, -1)))
    print(f"  {'impl':<24}{'peak MB':>9}{'x output':>10}")
    for name, f in rows:
        f()  # warm-up: lazy imports / caches not counted
        gc.collect()
        tracemalloc.start()
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        r = f()
        peak = tracemalloc.get_traced_memory()[1] - base
        tracemalloc.stop()
        del r
        print(f"  {name:<24}{peak / 1e6:>9.2f}{peak / 1e6 / out_mb:>10.2f}")
    print(f"  (output size {out_mb:.2f} MB; the peak includes the returned array when out= is not"
          " given; tracemalloc sees NumPy/PyMem allocations only, not raw malloc in C code)")


# ----------------------------------------------------------------------------- plot
def cpu_name():
    """The CPU's model name (Linux /proc/cpuinfo, else lscpu, else platform.processor())."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    try:
        import subprocess
        out = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=10).stdout
        for line in out.splitlines():
            if line.startswith("Model name:"):
                return line.split(":", 1)[1].strip()
    except Exception:
        pass
    return platform.processor() or platform.machine()


# (title, K, axis, sizes): float32 softmax; rows of K along the last axis, and K along axis 0
# of a (K, n / K) array (a non-last axis: the kernels vectorise across the columns)
PLOT_PANELS = [
    ("rows: (n/1000, 1000), axis=-1", 1000, -1,
     [1000, 3000, 10_000, 30_000, 100_000, 300_000, 1_000_000, 3_000_000, 10_000_000]),
    ("columns: (256, n/256), axis=0", 256, 0,
     [10_000, 30_000, 100_000, 300_000, 1_000_000, 3_000_000, 10_000_000]),
]
PLOT_IMPLS = ["ours", "numpy", "scipy", "torch", "ort", "memcpy"]
PLOT_LABEL = {"ours": "softmax-kernels (this library)", "numpy": "naive NumPy",
              "scipy": "scipy.special.softmax", "torch": "torch.softmax",
              "ort": "onnxruntime Softmax", "memcpy": "memcpy (np.copyto), for scale"}


def run_plot(args, S, sp, torch, ortf, argv=None):
    """softmax float32 throughput against size, one panel per PLOT_PANELS entry, every impl."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    rng = np.random.default_rng(7)
    fig, axes = plt.subplots(1, len(PLOT_PANELS), figsize=(13, 5.6), dpi=100, sharey=True)
    style = {"memcpy": dict(color="gray", ls="--", marker=None), "ours": dict(color="C3", lw=2.5),
             "numpy": dict(color="C0"), "scipy": dict(color="C1"), "torch": dict(color="C2"),
             "ort": dict(color="C4")}
    for ax, (title, K, axis, sizes) in zip(axes, PLOT_PANELS):
        series = {}
        for n in sizes:
            shape = (n // K, K) if axis == -1 else (K, n // K)
            data = make_data(shape, F32, axis, rng)
            x = data["x"]
            calls = build_calls("softmax", data, axis, S, sp, torch, ortf, args.threads)
            dst = np.empty_like(x)
            calls["memcpy"] = lambda: np.copyto(dst, x)
            for impl in PLOT_IMPLS:
                c = calls.get(impl)
                if c is None or isinstance(c, Exception):
                    continue
                if impl in PEERS and impl not in args.peers:
                    continue
                t = timeit_median(c, 0.001 if args.quick else 0.002, args.repeat)
                series.setdefault(impl, []).append((x.size, 2 * x.nbytes / t / 1e9))
            print(f"  plot: {title}  n={x.size:>10,d} done", flush=True)
        for impl in PLOT_IMPLS:
            if impl in series:
                ns, gb = zip(*series[impl])
                ax.plot(ns, gb, label=PLOT_LABEL[impl], **{"marker": "o", **style[impl]})
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_title(f"float32 softmax, {title}", fontsize=10)
        ax.set_xlabel("elements n")
        ax.grid(True, which="both", alpha=0.3)
    axes[0].set_ylabel("GB/s (input read once + output written once; higher is better)")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=len(labels), fontsize=8, frameon=False)
    vers = [f"numpy {np.__version__}"]
    if sp is not None:
        import scipy
        vers.append(f"scipy {scipy.__version__}")
    if torch is not None:
        vers.append(f"torch {torch.__version__}")
    if ortf is not None:
        vers.append(f"onnxruntime {ortf.ort.__version__}")
    ours = "softmax: not importable"
    if S is not None:
        isa = S.show_config(print_out=False).get("isa_chosen", "?")
        ours = f"softmax {getattr(S, '__version__', '?')} ({isa} kernels)"
    cmd = "python benchmarks/bench.py " + " ".join(argv if argv is not None else sys.argv[1:])
    fig.suptitle(f"{cpu_name()}, {os.cpu_count()} CPUs, {args.threads} thread(s); medians of "
                 f"{args.repeat}\n{ours}, {', '.join(vers)}\n$ {cmd}", fontsize=9)
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    fig.savefig(args.plot)
    print(f"plot written to {args.plot}")


# ----------------------------------------------------------------------------- main
def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="shorter samples (7 of >= 1 ms)")
    ap.add_argument("--threads", type=int, default=1,
                    help="threads for ours (workers=), torch and onnxruntime (default 1)")
    ap.add_argument("--plot", metavar="FILE.png",
                    help="also draw softmax float32 throughput against size, ours and each peer")
    ap.add_argument("--plot-only", action="store_true",
                    help="with --plot: only the picture (no table, no memory section)")
    ap.add_argument("--functions", nargs="+", default=FUNCTIONS, choices=FUNCTIONS)
    ap.add_argument("--peers", nargs="+", default=PEERS, choices=PEERS)
    ap.add_argument("--cases", nargs="+", metavar="SUBSTR", help="only cases whose label contains one")
    ap.add_argument("--repeat", type=int, default=None, help="samples per median (>= 7)")
    ap.add_argument("--no-memory", action="store_true", help="skip the tracemalloc section")
    ap.add_argument("--no-small", action="store_true", help="skip the small-call section")
    args = ap.parse_args(argv)
    if args.repeat is None:
        args.repeat = 7 if args.quick else 9
    args.repeat = max(args.repeat, 7)
    if args.threads < 1:
        ap.error("--threads must be >= 1")
    if args.plot_only and not args.plot:
        ap.error("--plot-only needs --plot FILE.png")

    S, ours_err = _import_ours()
    sp = None
    if "scipy" in args.peers:
        try:
            import scipy.special as sp
        except Exception:
            sp = None
    torch = _import_optional("torch") if "torch" in args.peers else None
    if torch is not None:
        torch.set_num_threads(args.threads)
    ortf = None
    if "ort" in args.peers:
        ort, onnx = _import_optional("onnxruntime"), _import_optional("onnx")
        if ort is not None and onnx is not None:
            ortf = OrtFactory(ort, onnx, args.threads)

    print(f"softmax benchmark  threads={args.threads}  repeat={args.repeat}  "
          f"{platform.processor() or platform.machine()}  cpus={os.cpu_count()}")
    vers = [f"python {platform.python_version()}", f"numpy {np.__version__}"]
    if S is not None:
        vers.insert(0, f"softmax {getattr(S, '__version__', '?')} ({os.path.dirname(S.__file__)})")
    if sp is not None:
        import scipy
        vers.append(f"scipy {scipy.__version__}")
    if torch is not None:
        vers.append(f"torch {torch.__version__}")
    if ortf is not None:
        vers.append(f"onnxruntime {ortf.ort.__version__}")
    print("  " + ", ".join(vers))
    if S is None:
        print(f"  WARNING: `import softmax` failed ({ours_err}); ours columns are empty")
    else:
        print(f"  ours called with {workers_kwargs(S, 'softmax', args.threads) or 'no workers= (not supported)'}")
    missing = [p for p, m in (("scipy", sp), ("torch", torch), ("ort", ortf)) if m is None]
    if missing:
        print(f"  skipped peers (not installed or deselected): {', '.join(missing)}")
    if ortf is not None:
        idx = np.zeros(1, np.float32)
        s_id = ortf.session("identity", (1,), F32, 0)
        t_ovh = timeit_median(lambda: s_id.run(None, {"X": idx}), 0.01, args.repeat)
        print(f"  ort = plain InferenceSession.run with numpy inputs; its fixed per-call overhead "
              f"(Identity on 1 element) is {fmt_time(t_ovh)}")
    print("  times: median per call; xPEER = PEER time / ours time (>1: ours faster); GB/s = ours, "
          "inputs read once + output written once; /memcpy = ours time / np.copyto(x) time")
    print("  numpy = naive stable NumPy (max, exp, sum, divide); vjp/jvp peers: numpy formula, "
          "torch aten._softmax_backward_data, ort graph of Mul/ReduceSum/Sub/Mul")
    print()

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        notes = [] if args.plot_only else run_table(args, S, sp, torch, ortf)
        if notes:
            print()
            print("notes (! in the table = wrong result; rows are checked against a wider-precision result):")
            for n in notes:
                print("  " + n)
        if not (args.no_small or args.plot_only or args.cases):
            run_small(args, S)
        if not (args.no_memory or args.plot_only):
            run_memory(args, S, sp)
        if args.plot:
            print()
            run_plot(args, S, sp, torch, ortf, argv)


if __name__ == "__main__":
    main()

"""A/B timing of builds of this library in one process, on the same arrays.

Comparing two kernel builds from separate processes is unreliable on shared machines: where
a process's arrays land (their physical pages, so their L2 sets; the offset of out from x)
moved the same call by up to 30% from one process to the next on a Zen 4 host, more than
most changes being measured. Here every build is imported into one process (its extension
modules are different files, so each loads its own copy), all run on the same arrays, and
the builds alternate round by round; ONNX Runtime, when installed, runs beside them as a
yardstick. Identical builds agree within 2-4% this way.

Each build is a directory holding a built `softmax` package (a tree's `src` after
`python setup.py build_ext --inplace`). Results are checked against the first build's:
the table shows the largest relative difference (0 for bit-identical builds).

    python benchmarks/ab.py base=src new=../wt/src                      # softmax, from L3
    python benchmarks/ab.py base=src new=../wt/src --n 32768 --stat min  # in cache
    python benchmarks/ab.py a=src b=src --function log_softmax --ks 96 1000
    python benchmarks/ab.py base=src new=../wt/src --shape 1000,4096 --axis 0   # columns

Times are ns per vector of 16 elements (one thread): the median over rounds of each round's
median (--stat median, for arrays from L3 or memory) or minimum (--stat min, for arrays in
cache, where the minimum is the undisturbed speed) of --calls calls.
"""
import argparse
import importlib
import os
import sys
import time

import numpy as np

FUNCTIONS = ("softmax", "log_softmax", "logsumexp", "softmax_vjp", "softmax_jvp")


def load_builds(specs):
    """{name: softmax module} for specs "name=path", each imported afresh from its path."""
    mods = {}
    for spec in specs:
        name, _, path = spec.partition("=")
        if not path or not os.path.isdir(os.path.join(path, "softmax")):
            raise SystemExit(f"build {spec!r}: expected name=DIR with DIR/softmax")
        for m in [m for m in sys.modules if m == "softmax" or m.startswith("softmax.")]:
            del sys.modules[m]
        sys.path.insert(0, os.path.abspath(path))
        try:
            mods[name] = importlib.import_module("softmax")
        finally:
            sys.path.pop(0)
    return mods


def call(S, fn, x, v, y, out, T, axis=-1):
    """A zero-argument callable running fn of module S along axis at temperature T on one
    thread into out."""
    f = getattr(S, fn)
    kw = {"axis": axis, "temperature": T, "workers": 1}
    if fn == "softmax_vjp":
        return lambda: f(y, v, out=out, **kw)
    if fn == "softmax_jvp":
        return lambda: f(x, v, out=out, **kw)
    if fn == "logsumexp":       # (no out=, as scipy's: the result, one value a row, copied in)
        return lambda: np.copyto(out, f(x, **kw))
    return lambda: f(x, out=out, **kw)


def ort_call(fn, x, v, y):
    """ONNX Runtime's session for fn (bench.py's graphs), or None when it is not installed."""
    try:
        import onnx
        import onnxruntime as ort
    except ImportError:
        return None
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from bench import OrtFactory
    sess = OrtFactory(ort, onnx, 1).session(fn, x.shape, x.dtype, -1)
    names = [i.name for i in sess.get_inputs()]
    feed = dict(zip(names, {"softmax_vjp": (y, v), "softmax_jvp": (x, v)}.get(fn, (x,))))
    return lambda: sess.run(None, feed)


def sample(g, calls, stat):
    g()
    ts = []
    for _ in range(calls):
        t = time.perf_counter()
        g()
        ts.append(time.perf_counter() - t)
    return float(np.min(ts) if stat == "min" else np.median(ts))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("builds", nargs="+", metavar="NAME=DIR")
    p.add_argument("--function", default="softmax", choices=FUNCTIONS)
    p.add_argument("--ks", type=int, nargs="+", default=[96, 200, 1000, 4096],
                   help="row lengths (the last axis)")
    p.add_argument("--shape", default=None,
                   help="one array of this shape (comma-separated) instead of --ks and --n")
    p.add_argument("--axis", type=int, default=-1, help="(with --shape)")
    p.add_argument("--n", type=int, default=1 << 21, help="elements of each array")
    p.add_argument("--dtype", default="float32", choices=("float32", "float64"))
    p.add_argument("--temperature", type=float, default=1.0, help="(ONNX Runtime: T = 1 only)")
    p.add_argument("--stat", default="median", choices=("median", "min"))
    p.add_argument("--calls", type=int, default=None, help="calls a sample (15, or 200 for min)")
    p.add_argument("--rounds", type=int, default=7)
    p.add_argument("--no-ort", action="store_true")
    a = p.parse_args(argv)
    calls = a.calls or (200 if a.stat == "min" else 15)
    mods = load_builds(a.builds)
    names = list(mods)
    rng = np.random.default_rng(0)
    size = f"shape {a.shape} axis {a.axis}" if a.shape else f"{a.n} elements"
    print(f"{a.function} {a.dtype}, T = {a.temperature}, {size}, ns a vector of 16; "
          f"{a.stat} of {calls} "
          f"calls, median of {a.rounds} rounds; SOFTMAX_ISA={os.environ.get('SOFTMAX_ISA', '-')}")
    shapes = ([tuple(int(d) for d in a.shape.split(","))] if a.shape
              else [(max(1, a.n // K), K) for K in a.ks])
    axis = a.axis if a.shape else -1
    for shape in shapes:
        x = (rng.standard_normal(shape) * 3).astype(a.dtype)
        v = rng.standard_normal(shape).astype(a.dtype)
        K = shape[axis]
        R = x.size // K
        y = mods[names[0]].softmax(x, axis=axis, temperature=a.temperature)
        out = (np.empty(np.delete(shape, axis % x.ndim), a.dtype) if a.function == "logsumexp"
               else np.empty_like(x))
        runs = {n: call(S, a.function, x, v, y, out, a.temperature, axis)
                for n, S in mods.items()}
        ref = None
        diff = {}
        for n, g in runs.items():
            g()
            r = out.copy()
            ref = r if ref is None else ref
            with np.errstate(all="ignore"):
                diff[n] = float(np.nanmax(np.abs(r - ref) / np.maximum(np.abs(ref), 1e-300)))
        if not a.no_ort and a.temperature == 1.0 and axis == -1:
            o = ort_call(a.function, x, v, y)
            if o is not None:
                runs["ort"] = o
        res = {n: [] for n in runs}
        for _ in range(a.rounds):
            for n, g in runs.items():
                res[n].append(sample(g, calls, a.stat) / (R * K / 16) * 1e9)
        base = float(np.median(res[names[0]]))
        cells = [f"{n} {np.median(t):6.2f} ({np.median(t) / base:5.3f})" for n, t in res.items()]
        label = f"{shape} axis {axis}" if a.shape else f"K={K:6d}"
        print(f"{label}  " + "  ".join(cells)
              + "  | max rel diff " + " ".join(f"{n} {diff[n]:.1e}" for n in names[1:]))


if __name__ == "__main__":
    main()

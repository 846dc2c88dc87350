"""``python -m softmax``: what this installation is, the seed example, and a quick race."""
import argparse
import sys
import time

import numpy as np

import softmax


def _best_of(f, seconds=0.3):
    f()
    best, end = float("inf"), time.perf_counter() + seconds
    while time.perf_counter() < end:
        t0 = time.perf_counter()
        f()
        best = min(best, time.perf_counter() - t0)
    return best


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m softmax",
        description="Show how softmax was built and which kernels this CPU runs, compute the "
                    "seed example softmax([1, 2, 3, 4, 1, 2, 3]), and time softmax against NumPy "
                    "(and scipy.special when installed) on a (1000, 1000) float32 array. "
                    "Takes a few seconds.")
    parser.add_argument("--no-bench", action="store_true", help="skip the timing comparison")
    args = parser.parse_args(argv)

    softmax.show_config()
    x = [1, 2, 3, 4, 1, 2, 3]
    print(f"\nsoftmax({x}) =")
    print(np.array2string(softmax.softmax(x), precision=7))
    if args.no_bench:
        return 0

    a = np.random.default_rng(0).standard_normal((1000, 1000)).astype(np.float32)

    def naive():
        e = np.exp(a - a.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    rows = [("softmax", lambda: softmax.softmax(a, axis=1)), ("numpy", naive)]
    try:
        import scipy.special
        rows.append(("scipy.special", lambda: scipy.special.softmax(a, axis=1)))
    except ImportError:
        pass
    print("\nsoftmax of a (1000, 1000) float32 array along axis 1, best of repeated runs:")
    ours = None
    for i, (name, f) in enumerate(rows):
        print(f"  [{i + 1}/{len(rows)}] {name:<14}", end="", flush=True)
        t = _best_of(f)
        ours = ours or t
        print(f"{t * 1e3:8.3f} ms" + ("" if name == "softmax" else f"   ({t / ours:.1f}x slower)"))
    return 0


if __name__ == "__main__":
    sys.exit(main())

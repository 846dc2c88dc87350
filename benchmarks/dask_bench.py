"""softmax and logsumexp on dask arrays larger than memory, on a LocalCluster of worker processes,
against scipy.special under scipy's array-API mode (SCIPY_ARRAY_API=1) on the same dask input.

    python benchmarks/dask_bench.py                       # 2 GiB logsumexp, 1 GiB softmax (~20 s)
    python benchmarks/dask_bench.py --lse-gb 32 --softmax-gb 8   # benchmarks/README.md
    python benchmarks/dask_bench.py --no-scipy            # ours only

The data are float32 of shape (rows, 2**20), generated lazily chunk by chunk (``generate``:
a random row per column chunk, scaled and shifted per row by random numbers seeded by the
chunk's position, so a chunk is the same whenever it is made, at the cost of two passes over
its memory), in chunks of (rows, 2**18) of --chunk-mb; nothing ever holds the whole array. Both
reduce along axis 1, which spans 4 chunks: ours is a tree reduction of partial statistics
(softmax: then a second, blockwise pass over the data), scipy's the composition of dask's max,
exp, sum and log (softmax: exp(x - max) / sum). softmax's result is reduced (its row sums) so
that it is never held either.

Printed per run: wall time, the peak resident memory of each worker process (sampled every
50 ms by a thread in the worker), the number of chunks generated (more than the chunk count:
some were recomputed rather than held between the passes), the bytes spilled to disk by the
workers, and the number of tasks in the graph.
"""
import argparse
import functools
import os
import platform
import subprocess
import sys
import threading
import time

os.environ["SCIPY_ARRAY_API"] = "1"   # before scipy is imported, here and in the workers

import numpy as np

K = 2 ** 20
COLS = 2 ** 18


@functools.lru_cache(maxsize=8)
def _base(j, cols):
    """A random row of one column chunk (uniform in [-15, 15)), made once per process."""
    base = np.random.default_rng([j, 12345]).random(cols, dtype=np.float32)
    base *= np.float32(30.0)
    base -= np.float32(15.0)
    base.flags.writeable = False
    return base


def generate(block_info=None):
    """One chunk of the data, from its position (the same whenever it is made): its column
    chunk's random row times a random scale in [0.5, 1.5) per row, plus a random shift in
    [-10, 10) per row; two passes over the chunk's memory, about as cheap as generating can
    be. Counts itself on the worker."""
    info = block_info[None]
    try:
        from distributed import get_worker
        w = get_worker()
        w._bench_generated = getattr(w, "_bench_generated", 0) + 1
    except (ImportError, ValueError):
        pass
    i, j = info["chunk-location"]
    rows, cols = info["chunk-shape"]
    rng = np.random.default_rng([i, j])
    scale = (rng.random((rows, 1)) + 0.5).astype(np.float32)
    shift = (rng.random((rows, 1)) * 20 - 10).astype(np.float32)
    out = np.multiply(_base(j, cols), scale)
    out += shift
    return out


def lazy_data(gb, chunk_mb):
    import dask.array as da
    rows = int(round(gb * 2 ** 30 / (K * 4)))
    per = max(1, int(chunk_mb * 2 ** 20 // (COLS * 4)))
    row_chunks = (per,) * (rows // per) + ((rows % per,) if rows % per else ())
    return da.map_blocks(generate, chunks=(row_chunks, (COLS,) * (K // COLS)), dtype=np.float32,
                         meta=np.empty((0, 0), np.float32))


# ---------------------------------------------------------------------------- worker probes
def _start_sampler(dask_worker):
    import psutil
    proc = psutil.Process()
    dask_worker._bench_peak = proc.memory_info().rss
    dask_worker._bench_generated = 0
    stop = threading.Event()
    dask_worker._bench_stop = stop

    def run():
        while not stop.is_set():
            dask_worker._bench_peak = max(dask_worker._bench_peak, proc.memory_info().rss)
            stop.wait(0.05)
    threading.Thread(target=run, daemon=True).start()


def _read_probe(dask_worker):
    dask_worker._bench_stop.set()
    spilled = getattr(getattr(dask_worker.data, "spilled_total", None), "disk", 0)
    return {"peak": dask_worker._bench_peak, "generated": dask_worker._bench_generated,
            "spilled": spilled}


def run(client, label, make, nchunks):
    import dask
    client.run(_start_sampler)
    expr = make()
    tasks = len(dask.base.collections_to_expr([expr]).__dask_graph__()) \
        if hasattr(dask.base, "collections_to_expr") else len(expr.__dask_graph__())
    t0 = time.perf_counter()
    value = client.compute(expr, sync=True)
    wall = time.perf_counter() - t0
    probes = client.run(_read_probe)
    peaks = " ".join(f"{p['peak'] / 2 ** 30:5.2f}" for p in probes.values())
    generated = sum(p["generated"] for p in probes.values())
    spilled = sum(p["spilled"] for p in probes.values())
    print(f"  {label:<34}{wall:8.1f} s   peak RSS/worker (GiB) {peaks}   chunks made "
          f"{generated:4d}/{nchunks:<4d} spilled {spilled / 2 ** 30:5.2f} GiB   tasks {tasks}",
          flush=True)
    client.run(lambda dask_worker: dask_worker.data.clear() if hasattr(dask_worker.data, "clear") else None)
    return value


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--lse-gb", type=float, default=2.0, help="logsumexp data size (GiB; 32 in README)")
    p.add_argument("--softmax-gb", type=float, default=1.0, help="softmax data size (GiB; 8 in README)")
    p.add_argument("--chunk-mb", type=float, default=128.0, help="chunk size (MB)")
    p.add_argument("--workers", type=int, default=2, help="worker processes (one thread each)")
    p.add_argument("--no-scipy", action="store_true", help="skip scipy.special")
    args = p.parse_args()

    import dask
    import distributed
    import scipy
    import scipy.special

    import softmax

    cpu = platform.processor() or platform.machine()
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in
                   subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines()
                   if line.startswith("Model name"))
    except (OSError, StopIteration):
        pass
    print(f"CPU: {cpu}, {os.cpu_count()} cores; softmax {softmax.__version__} "
          f"({softmax.show_config(print_out=False).get('isa_chosen', '?')}), dask {dask.__version__}, "
          f"distributed {distributed.__version__}, scipy {scipy.__version__}, "
          f"numpy {np.__version__}; SCIPY_ARRAY_API=1")
    with distributed.LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        limit = next(iter(cluster.workers.values())).memory_manager.memory_limit
        print(f"LocalCluster: {args.workers} worker processes x 1 thread, memory limit "
              f"{limit / 2 ** 30:.1f} GiB each; float32 data (rows, 2**20), chunks of "
              f"{args.chunk_mb:g} MB (rows, 2**18), reduced along axis 1 (4 chunks)")

        x = lazy_data(args.lse_gb, args.chunk_mb)
        print(f"\nlogsumexp(x, axis=1), x {x.nbytes / 2 ** 30:.1f} GiB {x.shape}, {x.npartitions} chunks")
        ours = run(client, "softmax.logsumexp", lambda: softmax.logsumexp(x, axis=1), x.npartitions)
        if not args.no_scipy:
            ref = run(client, "scipy.special.logsumexp", lambda: scipy.special.logsumexp(x, axis=1),
                      x.npartitions)
            print(f"  max |ours - scipy| / |ours|: {np.max(np.abs(ours - ref) / np.abs(ours)):.2e}")

        x = lazy_data(args.softmax_gb, args.chunk_mb)
        print(f"\nsoftmax(x, axis=1).sum(axis=1), x {x.nbytes / 2 ** 30:.1f} GiB {x.shape}, "
              f"{x.npartitions} chunks")
        ours = run(client, "softmax.softmax", lambda: softmax.softmax(x, axis=1).sum(axis=1),
                   x.npartitions)
        print(f"  max |row sum - 1|: {np.max(np.abs(ours - 1)):.2e}")
        if not args.no_scipy:
            ref = run(client, "scipy.special.softmax",
                      lambda: scipy.special.softmax(x, axis=1).sum(axis=1), x.npartitions)
            print(f"  max |row sum - 1| (scipy): {np.max(np.abs(ref - 1)):.2e}")


if __name__ == "__main__":
    sys.exit(main())

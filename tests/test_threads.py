"""Threads: concurrent calls, workers inside user threads, fork after use, the GIL released.

Every wait has a timeout, so a deadlock fails the test instead of hanging the suite.
"""

import multiprocessing
import os
import subprocess
import sys
import sysconfig
import threading
import time

import numpy as np
import pytest

import softmax as sm
from softmax import _dispatch

JOIN_TIMEOUT = 120  # seconds; generous for slow CI, but a deadlock still fails
FORK_TIMEOUT = 30   # the forked child needs < 1 s
BIG = 1 << 18       # elements: above _dispatch.PARALLEL_MIN_ELEMENTS, so threads really start
assert BIG > _dispatch.PARALLEL_MIN_ELEMENTS


def _inputs(shape, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape) * 3
    v = rng.standard_normal(shape)
    w = rng.random(shape) > 0.2
    b = rng.uniform(-0.5, 2, shape)
    y = sm.softmax(x, axis=-1)
    ly = sm.log_softmax(x, axis=0)
    for a in (x, v, w, b, y, ly):
        a.flags.writeable = False  # shared, read-only
    return x, v, w, b, y, ly


def _calls(x, v, w, b, y, ly, **kw):
    """Every public function (and its main variants) on the shared inputs."""
    x32 = np.asarray(x, np.float32)
    return [
        lambda: sm.softmax(x, axis=-1, **kw),
        lambda: sm.softmax(x32, axis=0, temperature=0.5, **kw),
        lambda: sm.softmax(x, axis=None, where=w, **kw),
        lambda: sm.log_softmax(x, axis=0, **kw),
        lambda: sm.log_softmax(x32, axis=-1, temperature=0.0, **kw),
        lambda: sm.logsumexp(x, axis=-1, **kw),
        lambda: sm.logsumexp(x, axis=0, b=b, return_sign=True, **kw),
        lambda: sm.logsumexp(x32, axis=None, where=w, **kw),
        lambda: sm.softmax_jvp(x, v, axis=-1, **kw),
        lambda: sm.log_softmax_jvp(x, v, axis=0, temperature=2.0, **kw),
        lambda: sm.softmax_vjp(y, v, axis=-1, **kw),
        lambda: sm.log_softmax_vjp(ly, v, axis=0, **kw),
        lambda: sm.softmax_jacobian(x[..., :8]) if not kw else sm.softmax(x, axis=(0, 1), **kw),
    ]


def _bytes(r):
    return b"".join(np.asarray(a).tobytes() for a in r) if isinstance(r, tuple) else np.asarray(r).tobytes()


def _run_threads(n, target):
    """Start n threads on target(i), all released at once; fail on an exception or a timeout."""
    barrier = threading.Barrier(n)
    errors = []

    def body(i):
        try:
            barrier.wait(timeout=JOIN_TIMEOUT)
            target(i)
        except BaseException as e:  # noqa: BLE001 -- reported below
            errors.append(e)

    threads = [threading.Thread(target=body, args=(i,), daemon=True) for i in range(n)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + JOIN_TIMEOUT
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))
    alive = [t for t in threads if t.is_alive()]
    assert not alive, f"{len(alive)} of {n} threads still running after {JOIN_TIMEOUT} s (deadlock?)"
    if errors:
        raise errors[0]


def test_many_threads_share_inputs():
    """8 threads call every function at once, repeatedly: bit-identical to one thread."""
    inputs = _inputs((64, 33))
    snap = [a.tobytes() for a in inputs]
    calls = _calls(*inputs)
    want = [_bytes(c()) for c in calls]
    got = [[None] * len(calls) for _ in range(8)]

    def work(i):
        for rep in range(12):
            for j in range(len(calls)):
                k = (j + i + rep) % len(calls)  # different functions at the same moment
                r = _bytes(calls[k]())
                assert r == want[k], f"thread {i}: call {k} differs"
                got[i][k] = r

    _run_threads(8, work)
    assert all(g == want for g in got)
    assert [a.tobytes() for a in inputs] == snap


@pytest.mark.parametrize("workers", [2, -1])
def test_workers_inside_user_threads(workers):
    """workers=2 (OpenMP teams) started from several Python threads at once: no deadlock, and the
    same bits as workers=1 (each slice is computed by one thread, whatever the count)."""
    inputs = _inputs((512, 512), seed=1)
    assert inputs[0].size >= BIG
    calls1 = _calls(*inputs, workers=1)
    callsn = _calls(*inputs, workers=workers)
    want = [_bytes(c()) for c in calls1]

    def work(i):
        for rep in range(2):
            for k in range(len(callsn)):
                k = (k + i) % len(callsn)
                assert _bytes(callsn[k]()) == want[k], f"thread {i}: call {k} differs from workers=1"

    _run_threads(4, work)


@pytest.mark.parametrize("workers", [2, -1, 3, None])
def test_thread_count_does_not_change_results(workers):
    """Every function (and its main variants) on one thread (workers=1, which never starts a
    team) and on `workers` threads: the same bits (each slice is computed by one thread)."""
    inputs = _inputs((300, 1000), seed=2)
    assert inputs[0].size >= BIG
    if workers is not None:
        assert _dispatch.resolve_workers(workers, inputs[0].size) >= min(2, _dispatch.cpu_count())
    for one, many in zip(_calls(*inputs, workers=1), _calls(*inputs, workers=workers)):
        assert _bytes(one()) == _bytes(many())


@pytest.mark.skipif(not sysconfig.get_config_var("Py_GIL_DISABLED"),
                    reason="free-threaded CPython (3.13t, 3.14t) only")
def test_free_threaded_import_keeps_the_gil_off():
    """The extensions declare themselves freethreading_compatible (setup.py): importing every
    kernel variant must not make a free-threaded interpreter turn its GIL back on (it would,
    with a RuntimeWarning, for an extension without that declaration)."""
    code = ("import sys, softmax\n"
            "from softmax import _dispatch\n"
            "for level in _dispatch.available_isas():\n"
            "    _dispatch._load(level)\n"
            "softmax.softmax([1.0, 2.0])\n"
            "print(sys._is_gil_enabled())\n")
    env = {k: v for k, v in os.environ.items() if k != "PYTHON_GIL"}
    proc = subprocess.run([sys.executable, "-W", "error::RuntimeWarning", "-c", code], env=env,
                          capture_output=True, text=True, timeout=JOIN_TIMEOUT)
    assert proc.returncode == 0 and proc.stdout.strip() == "False", proc.stdout + proc.stderr


# ---------------------------------------------------------------- fork after use

def _child(conn):
    """In the forked child: call again with workers=2 and send back the result bytes."""
    try:
        x = np.linspace(-5, 5, BIG * 2).reshape(512, -1)
        r = [sm.softmax(x, axis=1, workers=2), sm.softmax(x), sm.logsumexp(x, axis=0, workers=2),
             sm.softmax_jvp(x, x, axis=0, workers=2), sm.logsumexp(x, axis=1, b=x, workers=2)]
        conn.send([np.asarray(a).tobytes() for a in r])
    except BaseException as e:  # noqa: BLE001
        conn.send(repr(e))
    finally:
        conn.close()


def test_fork_after_parallel_use():
    """OpenMP thread pool alive in the parent, then fork: the child must not hang.

    GNU libgomp hangs in a forked child that starts a team after the parent used one (it waits
    for pool threads fork did not copy); softmax._api then runs the child on one thread. Without
    that, this test fails after FORK_TIMEOUT (a hang, not a crash of the suite).
    """
    ctx = multiprocessing.get_context("fork")
    x = np.linspace(-5, 5, BIG * 2).reshape(512, -1)
    want = [sm.softmax(x, axis=1, workers=2), sm.softmax(x), sm.logsumexp(x, axis=0, workers=2),
            sm.softmax_jvp(x, x, axis=0, workers=2), sm.logsumexp(x, axis=1, b=x, workers=2)]
    want = [np.asarray(a).tobytes() for a in want]
    parent, child = ctx.Pipe(duplex=False)
    p = ctx.Process(target=_child, args=(child,), daemon=True)
    p.start()
    child.close()
    got = parent.recv() if parent.poll(FORK_TIMEOUT) else None
    p.join(10)
    if p.is_alive():
        p.kill()
        p.join(5)
    assert got is not None, (f"the forked child did not answer within {FORK_TIMEOUT} s "
                             f"(OpenMP hang after fork?); exit code {p.exitcode}")
    assert not isinstance(got, str), f"the child raised {got}"
    assert got == want
    assert p.exitcode == 0


def test_fork_child_of_child():
    """The parent uses threads again after the child is done, and a second fork also works."""
    ctx = multiprocessing.get_context("fork")
    for _ in range(2):
        sm.softmax(np.ones((512, 512)), axis=1, workers=2)
        parent, child = ctx.Pipe(duplex=False)
        p = ctx.Process(target=_child, args=(child,), daemon=True)
        p.start()
        child.close()
        ok = parent.poll(FORK_TIMEOUT)
        got = parent.recv() if ok else None
        p.join(10)
        if p.is_alive():
            p.kill()
        assert isinstance(got, list), f"child failed or hung: {got!r}, exit code {p.exitcode}"


# ---------------------------------------------------------------- the GIL

def _progress_while(call, min_seconds=0.15):
    """(counter increments per second while `call` runs repeatedly in another thread,
    increments per second with the counter alone)."""
    stop = threading.Event()
    counter = [0]

    def count():
        n = 0
        while not stop.is_set():
            n += 1
            if n % 256 == 0:
                counter[0] = n
        counter[0] = n

    t = threading.Thread(target=count, daemon=True)
    t.start()
    time.sleep(0.05)
    c0, t0 = counter[0], time.perf_counter()
    time.sleep(0.1)
    alone = (counter[0] - c0) / (time.perf_counter() - t0)

    done = threading.Event()
    spans = []

    def work():
        end = time.perf_counter() + min_seconds
        while time.perf_counter() < end:
            a = time.perf_counter()
            call()
            spans.append(time.perf_counter() - a)
        done.set()

    c0, t0 = counter[0], time.perf_counter()
    w = threading.Thread(target=work, daemon=True)
    w.start()
    w.join(JOIN_TIMEOUT)
    during = (counter[0] - c0) / (time.perf_counter() - t0)
    stop.set()
    t.join(JOIN_TIMEOUT)
    assert done.is_set()
    return during, alone, spans


@pytest.mark.parametrize("name", ["softmax", "log_softmax", "logsumexp", "logsumexp_b", "jvp", "vjp"])
def test_gil_released_during_kernels(name):
    """Another Python thread keeps counting while a big kernel call runs (workers=1).

    With the GIL held for the whole kernel, the counter would advance only in the short Python
    parts of each call; released, it runs at (nearly) its solo speed on a second core."""
    x = np.random.default_rng(3).standard_normal((64, 1 << 16))  # 4M elements, ~10-40 ms a call
    v = np.ones_like(x)
    out = np.empty_like(x)
    res = np.empty(64)
    call = {
        "softmax": lambda: sm.softmax(x, axis=1, out=out, workers=1),
        "log_softmax": lambda: sm.log_softmax(x, axis=1, out=out, workers=1),
        "logsumexp": lambda: sm.logsumexp(x, axis=1, workers=1),
        "logsumexp_b": lambda: sm.logsumexp(x, axis=1, b=v, workers=1),
        "jvp": lambda: sm.softmax_jvp(x, v, axis=1, out=out, workers=1),
        "vjp": lambda: sm.softmax_vjp(x, v, axis=1, out=out, workers=1),
    }[name]
    call()
    del res
    during, alone, spans = _progress_while(call)
    assert spans and min(spans) > 0.002, "calls too short to tell"
    assert during > 0.25 * alone, (f"counter ran at {during:.3g}/s during {name} calls of "
                                   f"{np.median(spans) * 1e3:.1f} ms vs {alone:.3g}/s alone: GIL held?")

"""Run-time choices, each made in one place: the ISA variant and the thread count.

ISA: the kernels are one Cython source compiled once per entry of the ISA table
(``softmax/_isa.py``) into ``softmax._kernels_<isa>``; ``softmax._core`` (compiled
once) holds the entry points and calls every kernel through the table of the
installed variant. At import, the best variant that is built and that this CPU and
OS run is chosen, and only its module is imported. ``SOFTMAX_ISA=<name>`` (a name
of the table, or ``baseline``: sse2 on x86-64, neon on arm64) forces one; an
unknown, unbuilt or unsupported one raises ImportError rather than crash later with
an illegal instruction.

Threads: ``resolve_workers`` turns the public ``workers=`` argument into a
thread count, following scipy.fft: None is the default, a negative count counts
back from the CPU count (-1 = all), 0 is an error. The default is OpenMP's own
(``OMP_NUM_THREADS``, or whatever threadpoolctl set), and small inputs never
start threads. A count is capped at the CPU count, and a process forked after
its parent used threads runs single-threaded (the libgomp fork pitfall).
"""
import contextlib
import importlib
import importlib.util
import os
import platform

from . import _core, _isa

#: The machine, as the ISA table names architectures.
ARCH = _isa.arch_of(platform.machine())

#: The variants this architecture builds, best first.
LEVELS = tuple(entry["name"] for entry in _isa.isas_for(ARCH))

#: Below this many elements a call runs on the calling thread only.
PARALLEL_MIN_ELEMENTS = 1 << 17


def _module_name(level):
    return f"softmax._kernels_{level}"


def _built(level):
    """The variant's module is present (found, not imported)."""
    try:
        return importlib.util.find_spec(_module_name(level)) is not None
    except (ImportError, ValueError):
        return False


def compiled_isas():
    """The kernel variants this installation holds, best first (whether or not this CPU
    runs them)."""
    return [level for level in LEVELS if _built(level)]


def available_isas():
    """The kernel variants that are built and that this CPU can run, best first."""
    features = _core.cpu_features()
    return [entry["name"] for entry in _isa.isas_for(ARCH)
            if all(features.get(f, False) for f in entry["cpu"]) and _built(entry["name"])]


def _load(level):
    """The variant's module (imported on first use)."""
    return importlib.import_module(_module_name(level))


def _install(level):
    """Route every kernel call of softmax._core through this variant's table."""
    name = _core._set_table(_load(level).table())
    if name != level:
        raise ImportError(f"{_module_name(level)} holds the kernels of {name!r}, not {level!r}: "
                          f"a build that mixed up its ISA flags")


def _resolve(level, usable):
    """A variant name or alias as the name of a usable variant; None if it is not one."""
    name = _isa.resolve(level, ARCH) if isinstance(level, str) else None
    return name if name in usable else None


def _choose():
    forced = os.environ.get("SOFTMAX_ISA", "").strip().lower()
    usable = available_isas()
    if forced:
        names = [entry["name"] for entry in _isa.ISAS] + list(_isa.ALIASES)
        if _isa.resolve(forced, ARCH) is None:
            raise ImportError(f"SOFTMAX_ISA must be one of {', '.join(names)}; "
                              f"got SOFTMAX_ISA={forced!r}")
        level = _resolve(forced, usable)
        if level is None:
            raise ImportError(f"SOFTMAX_ISA={forced!r} is not built or not supported by this CPU "
                              f"(usable: {', '.join(usable)})")
        return level
    if not usable:
        raise ImportError(f"no kernel variant of softmax is built for this machine ({ARCH}; "
                          f"looked for {', '.join(map(_module_name, LEVELS))})")
    return usable[0]


_current = _choose()
_install(_current)
#: The module every public function calls: the entry points, whose kernels are the
#: installed variant's.
kernels = _core


def current_isa():
    """Name of the kernel variant in use."""
    return _current


@contextlib.contextmanager
def using_isa(level):
    """Temporarily route every public function to another kernel variant (for tests):
    imports it if need be, installs its table, and restores the previous one after.
    ``level`` is a name of ``available_isas()`` or ``"baseline"``."""
    global _current
    usable = available_isas()
    name = _resolve(level, usable)
    if name is None:
        raise ValueError(f"level must be one of {usable} (or 'baseline'), got level={level!r}")
    saved = _current
    _install(name)
    _current = name
    try:
        yield kernels
    finally:
        _install(saved)
        _current = saved


def cpu_count():
    """CPUs this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def default_workers():
    """The thread count used when workers=None."""
    return max(1, int(_core.max_threads()))


def resolve_workers(workers, n_elements):
    """Threads for one call: validate ``workers`` and apply the size threshold."""
    if workers is None:
        n = default_workers()
    else:
        if isinstance(workers, bool) or not hasattr(workers, "__index__"):
            raise TypeError(f"workers must be an integer or None, got workers={workers!r}")
        n = workers.__index__()
        if n == 0:
            raise ValueError("workers must be nonzero (None, a positive count, or a negative "
                             "count back from the CPU count), got workers=0")
        if n < 0:
            ncpu = cpu_count()
            if n < -ncpu:
                raise ValueError(f"workers={n} asks for fewer than one of the {ncpu} CPUs")
            n = ncpu + 1 + n
    if n_elements < PARALLEL_MIN_ELEMENTS:
        return 1
    # a huge count must not make OpenMP try to start millions of threads (libgomp aborts)
    n = min(n, max(cpu_count(), default_workers()))
    if n > 1:
        if _omp["forked_after_team"]:
            return 1
        _omp["team_used"] = True
    return n


# GNU libgomp cannot start a thread team in a fork()ed child once the parent has used one: the
# child would wait forever for pool threads that fork did not copy. Such a child runs on one
# thread (resolve_workers).
_omp = {"team_used": False, "forked_after_team": False}


def _after_fork_in_child():
    if _omp["team_used"]:
        _omp["forked_after_team"] = True


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)

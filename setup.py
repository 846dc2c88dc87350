"""Build the extensions: ``softmax._core`` once, the kernels once per ISA.

``softmax._core`` (entry points, small-call shortcuts, CPU detection) is compiled
with the baseline flags. The kernels, ``_kernels.pyx``, are compiled once per entry
of the ISA table ``src/softmax/_isa.py`` that this machine's architecture builds,
as ``softmax._kernels_<isa>`` (a stub that includes ``_kernels.pyx``) with the
entry's flags and its ``-D`` macro: on x86-64 avx512, avx2, sse2 and scalar; on
arm64 neon and scalar; elsewhere scalar. ``softmax._dispatch`` picks one at import
from the CPU's features. Never tuned for the build host's own CPU: wheels run on
CPUs we never see.

Environment switches (for development and CI):

* ``SOFTMAX_NO_OPENMP=1``  build without OpenMP (kernels then run on one thread).
* ``SOFTMAX_SANITIZE=1``   build with AddressSanitizer + UBSan and Cython bounds checks.
* ``SOFTMAX_BUILD_JOBS=N`` Cython and the C compiler run N at a time (default: one per
  CPU; 1 builds one file after another).

Each kernel variant is the whole kernel source, so a build is mostly five long Cython
runs and five long compiles; they run in parallel (Cython's processes only where they
fork, Linux before Python 3.14: spawned or forkserver ones would re-run this file).
"""
import glob
import multiprocessing
import os
import platform
import runpy
import sys
import tempfile

import numpy as np
from Cython.Build import cythonize
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext
from setuptools.errors import CompileError

# Cython directives: set here, in one place, for every variant.
DIRECTIVES = {
    "language_level": 3,
    "boundscheck": False,
    "wraparound": False,
    "initializedcheck": False,
    "cdivision": True,
    "nonecheck": False,
    "embedsignature": True,
    # Safe without the GIL (no mutable module state; see docs/building.md, "Wheels and platforms"):
    # free-threaded CPython keeps the GIL off when it imports the kernels. Cython >= 3.1.
    "freethreading_compatible": True,
}

HERE = os.path.dirname(os.path.abspath(__file__))
# The ISA table (plain data: the package itself is not importable while it is built).
ISA = runpy.run_path(os.path.join(HERE, "src", "softmax", "_isa.py"))
IS_MSVC = sys.platform == "win32"
FAMILY = "msvc" if IS_MSVC else "gcc"   # the ISA table's compiler families (gcc: also clang)
MACHINE = platform.machine()
SANITIZE = os.environ.get("SOFTMAX_SANITIZE", "") not in ("", "0")
OPENMP = os.environ.get("SOFTMAX_NO_OPENMP", "") in ("", "0")
FORK = sys.platform.startswith("linux") and multiprocessing.get_start_method() == "fork"
CPUS = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
JOBS = max(1, int(os.environ.get("SOFTMAX_BUILD_JOBS", "0") or 0) or CPUS)

if SANITIZE:
    DIRECTIVES.update(boundscheck=True, wraparound=True, initializedcheck=True)

if IS_MSVC:
    BASE_FLAGS = ["/O2", "/fp:precise"]
    OMP_COMPILE, OMP_LINK = (["/openmp"], []) if OPENMP else ([], [])
else:
    # -ffp-contract=off: no silent FMA contraction, so every variant rounds the
    # error-free transformations (TwoSum, Cody-Waite) exactly as written; FMAs
    # are requested explicitly in the kernels where they help.
    # -fwrapv and NDEBUG (below, in `extension`): CPython's own CFLAGS, which setuptools
    # replaces by the environment's CFLAGS when that is set (the wheels set CFLAGS=-g0): the
    # modules are then compiled alike however they are built (the wheels' were 50 KB larger
    # with asserts of CPython's headers compiled in).
    BASE_FLAGS = ["-O3", "-fwrapv", "-ffp-contract=off", "-fno-math-errno", "-fno-trapping-math"]
    OMP_COMPILE, OMP_LINK = (["-fopenmp"], ["-fopenmp"]) if OPENMP else ([], [])
    if sys.platform == "darwin":
        # Apple clang has no -fopenmp; the wheel build supplies libomp (see docs/building.md).
        OMP_COMPILE, OMP_LINK = (["-Xpreprocessor", "-fopenmp"], ["-lomp"]) if (
            OPENMP and os.environ.get("SOFTMAX_MACOS_OPENMP")) else ([], [])

SAN_FLAGS = ["-fsanitize=address,undefined", "-fno-omit-frame-pointer", "-O1", "-g"]

# The kernels' inlining, for every variant: the compiler inlines what the source marks
# `cdef inline` (the per-element helpers, the exp) and keeps every other function (a loop
# of its own: "exp in a loop body of its own", see _kernels.pyx) out of line. gcc left to
# its heuristics inlines whole kernels into the drivers, and its budget for a unit's
# growth by inlining (inline-unit-growth, 40% of a module that now holds only kernels) then
# runs out before the exp and the row max are inlined into their loops: the float64
# log_softmax VJP ran 3x slower so. No clones of a function for its constant arguments
# (-fno-ipa-cp-clone): they were 30% of a kernel module, which must stay under 1 MiB without
# debug information (tools/build_wheel_check.sh), at no measured speed (benchmarks/README.md).
# Each group is used if the compiler accepts it (clang: the first only; MSVC /Ob1: only
# functions marked inline).
KERNEL_INLINING = {
    "gcc": [["-fno-inline-functions"], ["-fno-inline-functions-called-once"],
            ["--param", "inline-unit-growth=100"], ["-fno-ipa-cp-clone"]],
    "msvc": [["/Ob1"]],
}


def extension(name, source, extra, macros=()):
    compile_args = BASE_FLAGS + extra + OMP_COMPILE
    link_args = list(OMP_LINK)
    if SANITIZE and not IS_MSVC:
        compile_args += SAN_FLAGS
        link_args += ["-fsanitize=address,undefined"]
    return Extension(
        name,
        [source],
        include_dirs=[np.get_include(), "src/softmax"],   # (simd/*.h)
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_25_API_VERSION"), *macros,
                       *([] if SANITIZE or IS_MSVC else [("NDEBUG", None)])],
        extra_compile_args=compile_args,
        extra_link_args=link_args,
        depends=sorted(glob.glob("src/softmax/simd/*.h")),    # rebuilt when a header changes
    )


def _accepts(compiler, flags):
    """The compiler compiles a trivial file with flags and no warning."""
    if compiler.compiler_type == "msvc":
        return True
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "probe.c")
        with open(src, "w") as f:
            f.write("int softmax_probe(void) { return 0; }\n")
        try:
            compiler.compile([src], output_dir=tmp, extra_postargs=[*flags, "-Werror"])
        except CompileError:
            return False
    return True


class BuildExt(build_ext):
    """Adds KERNEL_INLINING (the groups this compiler accepts) to the kernel variants; compiles
    JOBS extensions at a time unless told otherwise (``-j``)."""

    def finalize_options(self):
        super().finalize_options()
        if not self.parallel and JOBS > 1:
            self.parallel = JOBS

    def build_extensions(self):
        flags = [flag for group in KERNEL_INLINING[FAMILY] if _accepts(self.compiler, group)
                 for flag in group]
        for ext in self.extensions:
            if ext.name.startswith("softmax._kernels_"):
                ext.extra_compile_args = ext.extra_compile_args + flags
        super().build_extensions()


extensions = [extension("softmax._core", "src/softmax/_core.pyx", [])]
for entry in ISA["isas_for"](MACHINE):
    extensions.append(extension(f"softmax._kernels_{entry['name']}",
                                f"src/softmax/_kernels_{entry['name']}.pyx",
                                entry["flags"][FAMILY], [(entry["macro"], "1")]))

setup(ext_modules=cythonize(extensions, compiler_directives=DIRECTIVES,
                            compile_time_env={"SOFTMAX_OPENMP": OPENMP},
                            nthreads=JOBS if JOBS > 1 and FORK else 0),
      cmdclass={"build_ext": BuildExt})

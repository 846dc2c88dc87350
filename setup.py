"""Build the kernels: one Cython source compiled once per x86-64 ISA level.

``softmax._kernels`` is the portable baseline (x86-64 SSE2 / arm64 NEON);
``_kernels_avx2`` and ``_kernels_avx512`` are the same source (they only
``include`` it) compiled with wider vector ISAs. ``softmax._dispatch`` picks one
at import time from the CPU's features. Never tuned for the build host's own
CPU: wheels run on CPUs we never see.

Environment switches (for development and CI):

* ``SOFTMAX_NO_OPENMP=1``  build without OpenMP (kernels then run on one thread).
* ``SOFTMAX_SANITIZE=1``   build with AddressSanitizer + UBSan and Cython bounds checks.
"""
import os
import platform
import sys

import numpy as np
from Cython.Build import cythonize
from setuptools import Extension, setup

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

IS_MSVC = sys.platform == "win32"
MACHINE = platform.machine().lower()
IS_X86_64 = MACHINE in ("x86_64", "amd64", "x64")
SANITIZE = os.environ.get("SOFTMAX_SANITIZE", "") not in ("", "0")
OPENMP = os.environ.get("SOFTMAX_NO_OPENMP", "") in ("", "0")

if SANITIZE:
    DIRECTIVES.update(boundscheck=True, wraparound=True, initializedcheck=True)

if IS_MSVC:
    BASE_FLAGS = ["/O2", "/fp:precise"]
    VARIANT_FLAGS = {"avx2": ["/arch:AVX2"], "avx512": ["/arch:AVX512"]}
    OMP_COMPILE, OMP_LINK = (["/openmp"], []) if OPENMP else ([], [])
else:
    # -ffp-contract=off: no silent FMA contraction, so every variant rounds the
    # error-free transformations (TwoSum, Cody-Waite) exactly as written; FMAs
    # are requested explicitly in the kernels where they help.
    BASE_FLAGS = ["-O3", "-ffp-contract=off", "-fno-math-errno", "-fno-trapping-math"]
    VARIANT_FLAGS = {
        "avx2": ["-mavx2", "-mfma", "-mbmi", "-mbmi2"],
        "avx512": ["-mavx512f", "-mavx512dq", "-mavx512bw", "-mavx512vl", "-mavx2", "-mfma",
                   "-mbmi", "-mbmi2", "-mprefer-vector-width=512"],
    }
    OMP_COMPILE, OMP_LINK = (["-fopenmp"], ["-fopenmp"]) if OPENMP else ([], [])
    if sys.platform == "darwin":
        # Apple clang has no -fopenmp; the wheel build supplies libomp (see docs/building.md).
        OMP_COMPILE, OMP_LINK = (["-Xpreprocessor", "-fopenmp"], ["-lomp"]) if (
            OPENMP and os.environ.get("SOFTMAX_MACOS_OPENMP")) else ([], [])

SAN_FLAGS = ["-fsanitize=address,undefined", "-fno-omit-frame-pointer", "-O1", "-g"]


def extension(name, source, extra):
    compile_args = BASE_FLAGS + extra + OMP_COMPILE
    link_args = list(OMP_LINK)
    if SANITIZE and not IS_MSVC:
        compile_args += SAN_FLAGS
        link_args += ["-fsanitize=address,undefined"]
    return Extension(
        name,
        [source],
        include_dirs=[np.get_include()],
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_25_API_VERSION")],
        extra_compile_args=compile_args,
        extra_link_args=link_args,
    )


extensions = [extension("softmax._kernels", "src/softmax/_kernels.pyx", [])]
if IS_X86_64:
    for isa, flags in VARIANT_FLAGS.items():
        extensions.append(extension(f"softmax._kernels_{isa}", f"src/softmax/_kernels_{isa}.pyx", flags))

setup(ext_modules=cythonize(extensions, compiler_directives=DIRECTIVES,
                            compile_time_env={"SOFTMAX_OPENMP": OPENMP}))

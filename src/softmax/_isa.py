"""The kernel variants: one table, read by ``setup.py`` (which builds them) and by
``softmax._dispatch`` (which picks one at import).

Plain data, no imports: ``setup.py`` loads this file with ``runpy.run_path`` because the
package is not importable while it is being built.

Each variant is the per-ISA kernel source ``_kernels.pyx`` compiled into the extension
``softmax._kernels_<name>`` with the entry's flags and its ``-D`` macro (the C code keys on
the macro). An entry:

* ``name``: what ``SOFTMAX_ISA`` accepts, and the module suffix;
* ``arch``: the machines (``platform.machine()``, lower case, normalised by ``arch_of``)
  it is built on;
* ``flags``: extra compile flags per compiler family, ``"gcc"`` (gcc and clang) and
  ``"msvc"``;
* ``macro``: the C macro defined when it is compiled;
* ``cpu``: the run-time requirements, names of ``softmax._core.cpu_features()`` that must
  all be true (``os_ymm``/``os_zmm``: the OS saves the wider registers).

Best first: dispatch takes the first entry that is built and that the CPU runs.
"""

ISAS = (
    {
        "name": "avx512",
        "arch": ("x86_64",),
        "flags": {
            "gcc": ["-mavx512f", "-mavx512dq", "-mavx512bw", "-mavx512vl", "-mavx2", "-mfma",
                    "-mbmi", "-mbmi2", "-mprefer-vector-width=512"],
            "msvc": ["/arch:AVX512"],
        },
        "macro": "SMX_ISA_AVX512",
        "cpu": ("avx512f", "avx512dq", "avx512bw", "avx512vl", "avx2", "fma", "bmi1", "bmi2",
                "os_zmm"),
    },
    {
        "name": "avx2",
        "arch": ("x86_64",),
        "flags": {
            "gcc": ["-mavx2", "-mfma", "-mbmi", "-mbmi2"],
            "msvc": ["/arch:AVX2"],
        },
        "macro": "SMX_ISA_AVX2",
        "cpu": ("avx2", "fma", "bmi1", "bmi2", "os_ymm"),
    },
    {
        "name": "sse2",            # the x86-64 baseline: every x86-64 CPU has it
        "arch": ("x86_64",),
        "flags": {"gcc": [], "msvc": []},
        "macro": "SMX_ISA_SSE2",
        "cpu": (),
    },
    {
        "name": "neon",            # the arm64 baseline
        "arch": ("aarch64",),
        "flags": {"gcc": [], "msvc": []},
        "macro": "SMX_ISA_NEON",
        "cpu": (),
    },
    {
        "name": "scalar",          # plain C, not vectorised: every architecture
        "arch": ("*",),
        "flags": {"gcc": ["-fno-tree-vectorize"], "msvc": []},
        "macro": "SMX_ISA_SCALAR",
        "cpu": (),
    },
)

#: The variant every CPU of an architecture runs; SOFTMAX_ISA=baseline names it.
BASELINE = {"x86_64": "sse2", "aarch64": "neon"}

#: Accepted by SOFTMAX_ISA besides the names above.
ALIASES = ("baseline",)

_MACHINES = {"x86_64": "x86_64", "amd64": "x86_64", "x64": "x86_64",
             "aarch64": "aarch64", "arm64": "aarch64"}


def arch_of(machine):
    """The architecture name the table uses for ``platform.machine()``."""
    machine = machine.lower()
    return _MACHINES.get(machine, machine)


def isas_for(machine):
    """The entries built on this machine, best first."""
    arch = arch_of(machine)
    return [e for e in ISAS if arch in e["arch"] or "*" in e["arch"]]


def resolve(name, machine):
    """A SOFTMAX_ISA value as a variant name (``baseline``: the architecture's baseline, or
    ``scalar`` where it has none); None for an unknown name."""
    name = name.strip().lower()
    if name == "baseline":
        return BASELINE.get(arch_of(machine), "scalar")
    return name if any(e["name"] == name for e in ISAS) else None

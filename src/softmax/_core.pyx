"""The kernels' Python entry points, compiled once (private: use ``softmax._api``).

The numeric kernels live in the per-ISA modules ``softmax._kernels_<isa>`` (one source,
``_kernels.pyx``, compiled once per entry of ``softmax/_isa.py``), which export nothing but
a table of GIL-free driver functions (``_kernel_table.pxd``). This module holds what does
not depend on the instruction set: the entry points ``softmax._api`` calls, the small-call
shortcuts (argument checks on Python objects at C level), the public functions' front
doors (``_core_front.pxi``, which try those shortcuts first), the CPU detection, and the
table in use, installed by ``softmax._dispatch`` through ``_set_table``. Every kernel call
goes through that table; a driver that could not allocate its scratch memory returns a
nonzero status, raised here as MemoryError.

Compiled with the baseline flags: nothing here may need more than every CPU of the
architecture has.
"""
from libc.math cimport fabs, INFINITY, NAN
from cpython.pycapsule cimport PyCapsule_GetPointer
cimport numpy as cnp

from softmax._kernel_table cimport (Op, OP_SOFTMAX, OP_LOG_SOFTMAX, OP_LSE, OP_JVP,
                                    OP_LOG_JVP, OP_VJP, OP_LOG_VJP, KernelTable,
                                    KERNEL_TABLE_ABI, KERNEL_TABLE_CAPSULE)

cnp.import_array()

cdef extern from *:
    """
    #ifdef _OPENMP
    #  include <omp.h>
    #  define SMX_OPENMP 1
    static int smx_max_threads(void) { return omp_get_max_threads(); }
    #else
    #  define SMX_OPENMP 0
    static int smx_max_threads(void) { return 1; }
    #endif
    #if defined(__clang__)
    #  define SMX_COMPILER "clang " __clang_version__
    #elif defined(__GNUC__)
    #  define SMX_COMPILER "gcc " __VERSION__
    #elif defined(_MSC_VER)
    #  define SMX_COMPILER "msvc"
    #else
    #  define SMX_COMPILER "unknown"
    #endif

    /* Run-time CPU features, f[] in the order of _FEATURES (_core.pyx). os_ymm / os_zmm: the
       OS saves the YMM / the ZMM and opmask registers. gcc's and clang's
       __builtin_cpu_supports report AVX, FMA and AVX2 only when the OS saves the YMM state and
       the AVX-512 features only when it saves the ZMM state (compiler-rt knows that macOS
       enables the latter lazily), so the OS state is theirs too; MSVC reads cpuid and XCR0. */
    enum { SMX_F_SSE2, SMX_F_AVX2, SMX_F_FMA, SMX_F_BMI1, SMX_F_BMI2, SMX_F_AVX512F,
           SMX_F_AVX512DQ, SMX_F_AVX512BW, SMX_F_AVX512VL, SMX_F_OS_YMM, SMX_F_OS_ZMM,
           SMX_F_NEON, SMX_NFEATURES };
    #if (defined(__GNUC__) || defined(__clang__)) && (defined(__x86_64__) || defined(__i386__))
    static void smx_cpu_features(int* f) {
        __builtin_cpu_init();
        f[SMX_F_SSE2] = __builtin_cpu_supports("sse2");
        f[SMX_F_AVX2] = __builtin_cpu_supports("avx2");
        f[SMX_F_FMA] = __builtin_cpu_supports("fma");
        f[SMX_F_BMI1] = __builtin_cpu_supports("bmi");
        f[SMX_F_BMI2] = __builtin_cpu_supports("bmi2");
        f[SMX_F_AVX512F] = __builtin_cpu_supports("avx512f");
        f[SMX_F_AVX512DQ] = __builtin_cpu_supports("avx512dq");
        f[SMX_F_AVX512BW] = __builtin_cpu_supports("avx512bw");
        f[SMX_F_AVX512VL] = __builtin_cpu_supports("avx512vl");
        f[SMX_F_OS_YMM] = __builtin_cpu_supports("avx");
        f[SMX_F_OS_ZMM] = __builtin_cpu_supports("avx512f");
    }
    #elif defined(_MSC_VER) && (defined(_M_X64) || defined(_M_IX86))
    #  include <intrin.h>
    static int smx_cpuid_bit(int leaf, int sub, int reg, int bit) {
        int r[4]; __cpuidex(r, leaf, sub); return (r[reg] >> bit) & 1;
    }
    static void smx_cpu_features(int* f) {
        int r[4], leaf7;
        unsigned long long xcr0 = 0;
        __cpuidex(r, 0, 0);
        leaf7 = r[0] >= 7;
        f[SMX_F_SSE2] = smx_cpuid_bit(1, 0, 3, 26);
        if (smx_cpuid_bit(1, 0, 2, 27)) xcr0 = _xgetbv(0);                  /* OSXSAVE */
        f[SMX_F_OS_YMM] = (xcr0 & 6) == 6;                                  /* XMM, YMM */
        f[SMX_F_OS_ZMM] = f[SMX_F_OS_YMM] && (xcr0 & 0xe6) == 0xe6;         /* opmask, ZMM */
        f[SMX_F_FMA] = smx_cpuid_bit(1, 0, 2, 12);
        f[SMX_F_AVX2] = leaf7 && smx_cpuid_bit(7, 0, 1, 5);
        f[SMX_F_BMI1] = leaf7 && smx_cpuid_bit(7, 0, 1, 3);
        f[SMX_F_BMI2] = leaf7 && smx_cpuid_bit(7, 0, 1, 8);
        f[SMX_F_AVX512F] = leaf7 && smx_cpuid_bit(7, 0, 1, 16);
        f[SMX_F_AVX512DQ] = leaf7 && smx_cpuid_bit(7, 0, 1, 17);
        f[SMX_F_AVX512BW] = leaf7 && smx_cpuid_bit(7, 0, 1, 30);
        f[SMX_F_AVX512VL] = leaf7 && smx_cpuid_bit(7, 0, 1, 31);
    }
    #elif defined(__aarch64__) || defined(_M_ARM64)
    static void smx_cpu_features(int* f) { f[SMX_F_NEON] = 1; }   /* part of arm64 */
    #else
    static void smx_cpu_features(int* f) { (void)f; }
    #endif
    """
    const bint SMX_OPENMP
    const char* SMX_COMPILER
    int SMX_NFEATURES
    int smx_max_threads() noexcept nogil
    void smx_cpu_features(int* f) noexcept nogil

cdef extern from "numpy/arrayobject.h":
    object PyArray_Scalar(void* data, cnp.PyArray_Descr* descr, void* base)

# The names of smx_cpu_features' f[], in order: what the "cpu" entries of softmax/_isa.py name.
_FEATURES = ("sse2", "avx2", "fma", "bmi1", "bmi2", "avx512f", "avx512dq", "avx512bw",
             "avx512vl", "os_ymm", "os_zmm", "neon")

# --------------------------------------------------------------------------
# The kernel table in use
# --------------------------------------------------------------------------
cdef const KernelTable* _table = NULL
cdef object _table_capsule = None   # keeps what _table points into referenced


def _set_table(object capsule):
    """Route every kernel call through the table in ``capsule`` (a kernel variant module's
    ``table()``); returns the variant's name. ImportError if the table is of another ABI
    (a variant module left from another build)."""
    global _table, _table_capsule
    cdef const KernelTable* t = <const KernelTable*>PyCapsule_GetPointer(capsule,
                                                                        KERNEL_TABLE_CAPSULE)
    if t.abi != KERNEL_TABLE_ABI or t.size != <Py_ssize_t>sizeof(KernelTable):
        raise ImportError(f"kernel table of ABI {t.abi} (size {t.size}); this softmax._core "
                          f"needs ABI {<int>KERNEL_TABLE_ABI} (size {sizeof(KernelTable)}): "
                          f"the extension modules come from different builds")
    _table = t
    _table_capsule = capsule
    return t.name.decode()


cdef inline const KernelTable* _kt() except NULL:
    if _table is NULL:
        raise RuntimeError("no kernel variant installed (softmax._dispatch does that at import)")
    return _table


cdef inline int _check(int status) except -1:
    if status != 0:
        raise MemoryError("softmax: the kernels could not allocate their scratch memory")
    return 0

# --------------------------------------------------------------------------
# Python entry points: arrays are C-contiguous, of one dtype (float32 or float64),
# of the (outer, K, inner) size given; checked by the caller.
# --------------------------------------------------------------------------
cdef inline bint _is_f32(cnp.ndarray a):
    return cnp.PyArray_TYPE(a) == cnp.NPY_FLOAT32

#: A one-thread call of fewer elements than this runs with the GIL held: releasing and
#: taking it back costs more than such a kernel (numpy's ufuncs keep it below 500).
DEF GIL_HELD_BELOW = 1024

cdef int _call(Op op, cnp.ndarray x, cnp.ndarray v, cnp.ndarray out, Py_ssize_t outer,
               Py_ssize_t K, Py_ssize_t inner, double temperature, int nthreads) except -1:
    return _call_to(op, x, v, cnp.PyArray_DATA(out), outer, K, inner, temperature, nthreads)

cdef inline bint _keep_gil(Py_ssize_t n, int nthreads) noexcept nogil:
    """Whether a kernel of n elements on nthreads runs with the GIL held (see GIL_HELD_BELOW)."""
    return nthreads == 1 and n < GIL_HELD_BELOW

cdef int _call_to(Op op, cnp.ndarray x, cnp.ndarray v, void* po, Py_ssize_t outer,
                  Py_ssize_t K, Py_ssize_t inner, double temperature, int nthreads) except -1:
    """_call with the output a buffer of x's dtype at po."""
    cdef const KernelTable* kt = _kt()
    cdef void* px = cnp.PyArray_DATA(x)
    cdef void* pv = cnp.PyArray_DATA(v) if v is not None else NULL
    cdef int status
    if _is_f32(x):
        if _keep_gil(outer * K * inner, nthreads):
            status = kt.run_f32(op, <float*>px, <float*>pv, <float*>po, outer, K, inner,
                                temperature, nthreads)
        else:
            with nogil:
                status = kt.run_f32(op, <float*>px, <float*>pv, <float*>po, outer, K, inner,
                                    temperature, nthreads)
    elif _keep_gil(outer * K * inner, nthreads):
        status = kt.run_f64(op, <double*>px, <double*>pv, <double*>po, outer, K, inner,
                            temperature, nthreads)
    else:
        with nogil:
            status = kt.run_f64(op, <double*>px, <double*>pv, <double*>po, outer, K, inner,
                                temperature, nthreads)
    return _check(status)

cdef int _call_lse_b(cnp.ndarray x, cnp.ndarray b, cnp.ndarray out, cnp.ndarray sign,
                     Py_ssize_t outer, Py_ssize_t K, Py_ssize_t inner, double temperature,
                     int nthreads) except -1:
    cdef const KernelTable* kt = _kt()
    cdef void* px = cnp.PyArray_DATA(x)
    cdef void* pb = cnp.PyArray_DATA(b)
    cdef void* po = cnp.PyArray_DATA(out)
    cdef void* ps = cnp.PyArray_DATA(sign)
    cdef int status
    if _is_f32(x):
        if _keep_gil(outer * K * inner, nthreads):
            status = kt.lse_b_f32(<float*>px, <float*>pb, <float*>po, <float*>ps, outer, K,
                                  inner, temperature, nthreads)
        else:
            with nogil:
                status = kt.lse_b_f32(<float*>px, <float*>pb, <float*>po, <float*>ps, outer,
                                      K, inner, temperature, nthreads)
    elif _keep_gil(outer * K * inner, nthreads):
        status = kt.lse_b_f64(<double*>px, <double*>pb, <double*>po, <double*>ps, outer, K,
                              inner, temperature, nthreads)
    else:
        with nogil:
            status = kt.lse_b_f64(<double*>px, <double*>pb, <double*>po, <double*>ps, outer,
                                  K, inner, temperature, nthreads)
    return _check(status)


def softmax(cnp.ndarray x, cnp.ndarray out, Py_ssize_t outer, Py_ssize_t K, Py_ssize_t inner,
            double temperature, bint log, int nthreads):
    """out = softmax (or log_softmax) of x along K."""
    _call(OP_LOG_SOFTMAX if log else OP_SOFTMAX, x, None, out, outer, K, inner,
          temperature, nthreads)


include "_core_small.pxi"     # the small-call shortcuts and the Jacobian's assembly
include "_core_front.pxi"     # the public functions' front doors


def logsumexp(cnp.ndarray x, cnp.ndarray out, Py_ssize_t outer, Py_ssize_t K, Py_ssize_t inner,
              double temperature, int nthreads):
    """out[outer, inner] = T * logsumexp(x / T) along K."""
    _call(OP_LSE, x, None, out, outer, K, inner, temperature, nthreads)


def logsumexp_b(cnp.ndarray x, cnp.ndarray b, cnp.ndarray out, cnp.ndarray sign,
                Py_ssize_t outer, Py_ssize_t K, Py_ssize_t inner, double temperature,
                int nthreads):
    """Weighted logsumexp and the sign of the weighted sum, along K."""
    _call_lse_b(x, b, out, sign, outer, K, inner, temperature, nthreads)


def jvp(cnp.ndarray x, cnp.ndarray v, cnp.ndarray out, Py_ssize_t outer, Py_ssize_t K,
        Py_ssize_t inner, double temperature, bint log, int nthreads):
    """out = J(x) v for softmax (or log_softmax) of x / T along K."""
    _call(OP_LOG_JVP if log else OP_JVP, x, v, out, outer, K, inner, temperature, nthreads)


def vjp(cnp.ndarray y, cnp.ndarray g, cnp.ndarray out, Py_ssize_t outer, Py_ssize_t K,
        Py_ssize_t inner, double temperature, bint log, int nthreads):
    """out = g^T J from the saved output y of softmax (or log_softmax) along K."""
    _call(OP_LOG_VJP if log else OP_VJP, y, g, out, outer, K, inner, temperature, nthreads)


def stats(cnp.ndarray x, cnp.ndarray m, cnp.ndarray s_hi, cnp.ndarray s_lo, Py_ssize_t outer,
          Py_ssize_t K, Py_ssize_t inner, double temperature, int nthreads):
    """The partial statistics of every slice of x along K: m, s_hi, s_lo (float64, C
    contiguous, outer * inner each)."""
    cdef const KernelTable* kt = _kt()
    cdef void* px = cnp.PyArray_DATA(x)
    cdef double* pm = <double*>cnp.PyArray_DATA(m)
    cdef double* ph = <double*>cnp.PyArray_DATA(s_hi)
    cdef double* pl = <double*>cnp.PyArray_DATA(s_lo)
    cdef int status
    if _is_f32(x):
        with nogil:
            status = kt.stats_f32(<float*>px, pm, ph, pl, outer, K, inner, temperature, nthreads)
    else:
        with nogil:
            status = kt.stats_f64(<double*>px, pm, ph, pl, outer, K, inner, temperature,
                                  nthreads)
    _check(status)


def finish(cnp.ndarray x, cnp.ndarray m, cnp.ndarray s_hi, cnp.ndarray s_lo, cnp.ndarray out,
           Py_ssize_t outer, Py_ssize_t K, Py_ssize_t inner, double temperature, bint log,
           int nthreads):
    """out = softmax (or log_softmax) of x along K given the merged statistics (m, s_hi,
    s_lo) of its slices."""
    cdef const KernelTable* kt = _kt()
    cdef void* px = cnp.PyArray_DATA(x)
    cdef void* po = cnp.PyArray_DATA(out)
    cdef const double* pm = <double*>cnp.PyArray_DATA(m)
    cdef const double* ph = <double*>cnp.PyArray_DATA(s_hi)
    cdef const double* pl = <double*>cnp.PyArray_DATA(s_lo)
    cdef int status
    if _is_f32(x):
        with nogil:
            status = kt.finish_f32(<float*>px, pm, ph, pl, <float*>po, outer, K, inner,
                                   temperature, log, nthreads)
    else:
        with nogil:
            status = kt.finish_f64(<double*>px, pm, ph, pl, <double*>po, outer, K, inner,
                                   temperature, log, nthreads)
    _check(status)


def exp(cnp.ndarray x, cnp.ndarray out, cnp.ndarray tail):
    """out + tail = the kernels' exp(x), elementwise (for measuring its accuracy)."""
    cdef const KernelTable* kt = _kt()
    cdef Py_ssize_t n = cnp.PyArray_SIZE(x)
    cdef void* px = cnp.PyArray_DATA(x)
    cdef void* po = cnp.PyArray_DATA(out)
    cdef void* pt = cnp.PyArray_DATA(tail)
    if _is_f32(x):
        with nogil:
            kt.exp_f32(<float*>px, <float*>po, <float*>pt, n)
    else:
        with nogil:
            kt.exp_f64(<double*>px, <double*>po, <double*>pt, n)


def exp_f32(cnp.ndarray h, cnp.ndarray out):
    """out = the float32 kernels' exp (_exp_f32) of h elementwise, float64 in and out (for
    measuring its accuracy)."""
    cdef const KernelTable* kt = _kt()
    cdef Py_ssize_t n = cnp.PyArray_SIZE(h)
    cdef double* ph = <double*>cnp.PyArray_DATA(h)
    cdef double* po = <double*>cnp.PyArray_DATA(out)
    with nogil:
        kt.exp_of_f32(ph, po, n)


def build_info():
    """Facts fixed when this build was compiled: the compiler and OpenMP, and of the kernel
    variant in use its name (isa; None before one is installed) and whether it has FMA."""
    return {
        "isa": _table.name.decode() if _table is not NULL else None,
        "fma": bool(_table.fma) if _table is not NULL else None,
        "openmp": bool(SMX_OPENMP) and (_table is NULL or bool(_table.openmp)),
        "compiler": SMX_COMPILER.decode(),
    }


def cpu_features():
    """{feature: bool} of this CPU and OS (see _FEATURES; os_ymm / os_zmm: the OS saves the
    wider registers)."""
    cdef int f[32]
    cdef int i
    for i in range(32):
        f[i] = 0
    smx_cpu_features(f)
    return {name: bool(f[i]) for i, name in enumerate(_FEATURES)}


def max_threads():
    """OpenMP's current default team size (honours OMP_NUM_THREADS, threadpoolctl)."""
    return smx_max_threads()

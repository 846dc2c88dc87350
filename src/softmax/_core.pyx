"""The kernels' Python entry points, compiled once (private: use ``softmax._api``).

The numeric kernels live in the per-ISA modules ``softmax._kernels_<isa>`` (one source,
``_kernels.pyx``, compiled once per entry of ``softmax/_isa.py``), which export nothing but
a table of GIL-free driver functions (``_kernel_table.pxd``). This module holds what does
not depend on the instruction set: the entry points ``softmax._api`` calls, the small-call
shortcuts (argument checks on Python objects at C level), the CPU detection, and the
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

cdef int _call(Op op, cnp.ndarray x, cnp.ndarray v, cnp.ndarray out, Py_ssize_t outer,
               Py_ssize_t K, Py_ssize_t inner, double temperature, int nthreads) except -1:
    cdef const KernelTable* kt = _kt()
    cdef void* px = cnp.PyArray_DATA(x)
    cdef void* pv = cnp.PyArray_DATA(v) if v is not None else NULL
    cdef void* po = cnp.PyArray_DATA(out)
    cdef int status
    if _is_f32(x):
        with nogil:
            status = kt.run_f32(op, <float*>px, <float*>pv, <float*>po, outer, K, inner,
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
        with nogil:
            status = kt.lse_b_f32(<float*>px, <float*>pb, <float*>po, <float*>ps, outer, K,
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


cdef bint _small_temp(object temperature, bint derivative, double* t):
    """T of a small call: a finite Python float, or a Python int below 2**53 in magnitude;
    nonzero for a derivative. False for anything else (the general path checks it)."""
    cdef double v
    if type(temperature) is float:
        v = <double>temperature
        if not (fabs(v) < INFINITY):
            return False
    elif type(temperature) is int:
        if not (-9007199254740992 < temperature < 9007199254740992):
            return False
        v = <double>temperature
    else:
        return False
    if derivative and v == 0:
        return False
    t[0] = v
    return True

cdef object _small_view(object x, object axis, Py_ssize_t max_size, Py_ssize_t* shape):
    """x as a native float32/float64, aligned, C-contiguous ndarray of 1 to 64 dimensions
    with fewer than max_size elements, reduced along one axis (an int in range) or all
    (None); shape[0:4] = (outer, K, inner, axis; -1 for all). None for anything else (the
    small-call shortcuts' one test)."""
    cdef cnp.ndarray a
    cdef int typ, nd, ax, i
    cdef Py_ssize_t n, outer = 1, inner = 1
    if type(x) is not cnp.ndarray:
        return None
    a = <cnp.ndarray>x
    typ = cnp.PyArray_TYPE(a)
    nd = cnp.PyArray_NDIM(a)
    if ((typ != cnp.NPY_FLOAT and typ != cnp.NPY_DOUBLE) or nd == 0
            or not cnp.PyArray_ISNOTSWAPPED(a) or not cnp.PyArray_ISALIGNED(a)
            or not cnp.PyArray_IS_C_CONTIGUOUS(a)):
        return None
    n = cnp.PyArray_SIZE(a)
    if n >= max_size:
        return None
    if axis is None:
        shape[0], shape[1], shape[2], shape[3] = 1, n, 1, -1
        return a
    if type(axis) is not int or not (-nd <= axis < nd):   # compared as Python ints: any size
        return None
    ax = <int>(axis % nd)
    for i in range(ax):
        outer *= cnp.PyArray_DIMS(a)[i]
    for i in range(ax + 1, nd):
        inner *= cnp.PyArray_DIMS(a)[i]
    shape[0], shape[1], shape[2], shape[3] = outer, cnp.PyArray_DIMS(a)[ax], inner, ax
    return a

cdef bint _same_layout(cnp.ndarray a, object b):
    """b is an ndarray of a's dtype and shape, native, aligned and C-contiguous."""
    cdef cnp.ndarray o
    cdef int i
    if type(b) is not cnp.ndarray:
        return False
    o = <cnp.ndarray>b
    if (cnp.PyArray_TYPE(o) != cnp.PyArray_TYPE(a) or cnp.PyArray_NDIM(o) != cnp.PyArray_NDIM(a)
            or not cnp.PyArray_ISNOTSWAPPED(o) or not cnp.PyArray_ISALIGNED(o)
            or not cnp.PyArray_IS_C_CONTIGUOUS(o)):
        return False
    for i in range(cnp.PyArray_NDIM(a)):
        if cnp.PyArray_DIMS(o)[i] != cnp.PyArray_DIMS(a)[i]:
            return False
    return True

cdef bint _overlap(cnp.ndarray a, cnp.ndarray b):
    """The (contiguous) byte ranges of a and b intersect."""
    cdef char* pa = <char*>cnp.PyArray_DATA(a)
    cdef char* pb = <char*>cnp.PyArray_DATA(b)
    return pa < pb + cnp.PyArray_NBYTES(b) and pb < pa + cnp.PyArray_NBYTES(a)


def small_softmax(object x, object axis, object temperature, bint log, Py_ssize_t max_size,
                  object out=None):
    """softmax (or log_softmax) of a small call (see _small_view and _small_temp) on the
    calling thread, into out when given (of x's dtype and shape, C-contiguous and writeable;
    x itself or not overlapping it); None for any other call, which the caller sends down
    its general path. A dispatch shortcut for small calls, where Python-level checks cost
    more than the work: it raises nothing and validates nothing else."""
    cdef Py_ssize_t shape[4]
    cdef double t
    cdef object a = _small_view(x, axis, max_size, shape)
    cdef cnp.ndarray res
    if a is None or not _small_temp(temperature, False, &t):
        return None
    if out is None:
        res = cnp.PyArray_EMPTY(cnp.PyArray_NDIM(<cnp.ndarray>a), cnp.PyArray_DIMS(<cnp.ndarray>a),
                                cnp.PyArray_TYPE(<cnp.ndarray>a), 0)
    else:
        if not _same_layout(<cnp.ndarray>a, out) or not cnp.PyArray_ISWRITEABLE(<cnp.ndarray>out):
            return None
        res = <cnp.ndarray>out
        if (cnp.PyArray_DATA(res) != cnp.PyArray_DATA(<cnp.ndarray>a)
                and _overlap(res, <cnp.ndarray>a)):
            return None
    if cnp.PyArray_SIZE(res) > 0:
        _call(OP_LOG_SOFTMAX if log else OP_SOFTMAX, <cnp.ndarray>a, None, res, shape[0],
                  shape[1], shape[2], t, 1)
    return res


def small_logsumexp(object x, object axis, object temperature, Py_ssize_t max_size,
                    object b=None):
    """logsumexp of a small call (see _small_view and _small_temp) with a non-empty axis,
    weighted by b when given (of x's dtype and shape; a negative total gives NaN): the
    result array (the input's shape without the reduced axis, or a NumPy scalar when that is
    0-d); None for any other call."""
    cdef Py_ssize_t shape[4]
    cdef Py_ssize_t j
    cdef cnp.npy_intp dims[64]
    cdef double t
    cdef object a = _small_view(x, axis, max_size, shape)
    cdef cnp.ndarray res, sign
    cdef int nd = 0, i
    if a is None or shape[1] == 0 or not _small_temp(temperature, False, &t):
        return None
    if b is not None and not _same_layout(<cnp.ndarray>a, b):
        return None
    if shape[3] >= 0:
        for i in range(cnp.PyArray_NDIM(<cnp.ndarray>a)):
            if i != shape[3]:
                dims[nd] = cnp.PyArray_DIMS(<cnp.ndarray>a)[i]
                nd += 1
    res = cnp.PyArray_EMPTY(nd, dims, cnp.PyArray_TYPE(<cnp.ndarray>a), 0)
    if cnp.PyArray_SIZE(<cnp.ndarray>a) > 0:
        if b is None:
            _call(OP_LSE, <cnp.ndarray>a, None, res, shape[0], shape[1], shape[2], t, 1)
        else:
            sign = cnp.PyArray_EMPTY(nd, dims, cnp.PyArray_TYPE(<cnp.ndarray>a), 0)
            _call_lse_b(<cnp.ndarray>a, <cnp.ndarray>b, res, sign, shape[0], shape[1],
                        shape[2], t, 1)
            if cnp.PyArray_TYPE(res) == cnp.NPY_FLOAT:   # a negative total has no real log
                for j in range(cnp.PyArray_SIZE(res)):
                    if (<float*>cnp.PyArray_DATA(sign))[j] < 0:
                        (<float*>cnp.PyArray_DATA(res))[j] = NAN
            else:
                for j in range(cnp.PyArray_SIZE(res)):
                    if (<double*>cnp.PyArray_DATA(sign))[j] < 0:
                        (<double*>cnp.PyArray_DATA(res))[j] = NAN
    return res[()] if nd == 0 else res


def small_derivative(object x, object v, object axis, object temperature, bint vjp, bint log,
                     Py_ssize_t max_size, object out=None):
    """The JVP (or, with vjp, the VJP) of softmax (or log_softmax) of a small call: x as in
    _small_view, v of the same dtype and shape, T as in _small_temp and nonzero, into out
    when given (as small_softmax's, overlapping neither x nor v); None for any other call."""
    cdef Py_ssize_t shape[4]
    cdef double t
    cdef object a = _small_view(x, axis, max_size, shape)
    cdef cnp.ndarray res
    cdef Op op
    if (a is None or not _same_layout(<cnp.ndarray>a, v)
            or not _small_temp(temperature, True, &t)):
        return None
    if out is None:
        res = cnp.PyArray_EMPTY(cnp.PyArray_NDIM(<cnp.ndarray>a), cnp.PyArray_DIMS(<cnp.ndarray>a),
                                cnp.PyArray_TYPE(<cnp.ndarray>a), 0)
    else:
        if not _same_layout(<cnp.ndarray>a, out) or not cnp.PyArray_ISWRITEABLE(<cnp.ndarray>out):
            return None
        res = <cnp.ndarray>out
        if _overlap(res, <cnp.ndarray>a) or _overlap(res, <cnp.ndarray>v):
            return None
    if vjp:
        op = OP_LOG_VJP if log else OP_VJP
    else:
        op = OP_LOG_JVP if log else OP_JVP
    if cnp.PyArray_SIZE(res) > 0:
        _call(op, <cnp.ndarray>a, <cnp.ndarray>v, res, shape[0], shape[1], shape[2], t, 1)
    return res


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

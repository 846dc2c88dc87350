"""Typed, GIL-free kernels of the softmax family (private: use ``softmax._api``).

Design
======
The Python layer hands every kernel a contiguous float32/float64 buffer seen as
(outer, K, inner): K is the reduced length, ``inner`` the distance between two
consecutive elements of one slice. Two loop shapes cover every axis of every
contiguous layout without transposing anything:

* rows (inner == 1): each slice is contiguous; loops run along K and reduce
  into LANES independent accumulators, so gcc vectorises them without
  reassociating floating-point sums (no -ffast-math, which breaks NaN/inf).
* columns (inner > 1): a chunk of W adjacent columns is processed at once; the
  loops run across the W contiguous elements of one row (vectorised), with one
  accumulator per column, and the chunk (K x W) is sized to stay in cache.

Passes over memory, per slice (rows; columns the same on a cached chunk):

* softmax:      max | exp -> out, sum        | out /= sum
* log_softmax:  max | exp -> stack, sum      | out = (x - max)/T - log(sum)
* logsumexp:    max | exp -> stack, sum      | one value
* *_jvp:        max | exp -> out, sum, dot   | out from v and the saved exps
* *_vjp:        dot (or sum)                 | out from y and g
The exp pass works on blocks of BLK elements and re-reads each block from L1
for the sum, so exp and sum are separate, simple, vectorisable loops. Loops are
written one per case (T == 1 or not, hard limit or not) and keep the exp in a
loop body of its own: gcc if-converts a test inside a loop (both sides run)
and stops inlining the exp into a big body (then it runs as a scalar call).
Rows of K <= SMALL_K go a block of rows at a time (_small_rows; the derivatives
through _small_rows_vjp and, float32, _small_rows_jvp_f32), one long row on
several threads is split into parts (_row_split), and a row with NaN, +-inf or
T == 0 goes to the general kernel.

Accuracy (the reason for the pair arithmetic below): ``x - max`` is carried as
an unevaluated pair hi + lo (TwoSum; times 1/T as a double-double when T != 1),
and lo is folded into the reduced argument of exp, so the exp sees the exact
difference. The maxima (exps exactly 1) are counted apart and the rest is
summed compensated (TwoSum per lane; plainly in double for float32 terms), so
``sum - 1`` keeps full precision and log_softmax of the dominant entry,
-log1p(sum - 1), is accurate. The final division uses one Newton correction
(its residual by FMA, or by Dekker's exact product on the baseline ISA).
float32 data (softmax, log_softmax, logsumexp) is exponentiated in double
(_exp_f32): x - max is exact there, the exp good to 1e-10, so the only
rounding of an exp is its final one to float32 (or none: short rows keep it in
double until the division), and no pairs or tails are needed; sums run plainly
in double. Double lanes are half as wide as float32 ones, but this costs fewer
instructions per element than float32 lanes with TwoSum and tails. The float32
derivative kernels still use float32 lanes with tails (_exp2k). A pair whose
leading part is +-inf drops its (NaN) low part.

Special values are decided per slice by the NaN-propagating max m: m is NaN
(some NaN) -> NaN; m == -inf (all -inf) -> NaN (logsumexp -inf); m == +inf or
T == 0 -> the "hard" arg-max limit, where exp is replaced by the indicator
(x == m), so the 1 is split evenly between tied maxima.

Nothing here raises, allocates on the heap or touches a Python object inside
``nogil`` code; arguments are checked in ``softmax._api``.

Map
===
Which kernel serves which op and layout:

  op                  rows (inner == 1)                     columns (inner > 1)
                      K > SMALL_K      K <= SMALL_K
  softmax,            _softmax_row     _small_rows          _softmax_cols
    log_softmax
  logsumexp           _lse_row         _small_rows          _lse_cols
  logsumexp with b=   _lse_b_slice: one strided slice at a time, any layout
  JVPs      float32   _jvp_row_f32     _small_rows_jvp_f32  _jvp_cols
            float64   _jvp_row         _jvp_row             _jvp_cols
  VJPs                _vjp_row         _small_rows_vjp      _vjp_cols

One long row on several threads (softmax, log_softmax, logsumexp with few rows):
_row_split. Rows with NaN, +-inf or T == 0 leave the short-row and split paths
for the row kernels.

Files (included below): _k_consts.pxi (sizes, Temp), _k_pair.pxi (TwoSum and
pair arithmetic), _k_exp.pxi (the exps and their arguments), _k_rows.pxi (row
reductions and the row kernels, _lse_b_slice), _k_columns.pxi,
_k_short_rows.pxi, _k_derivatives.pxi (JVP/VJP rows and columns),
_k_drivers.pxi (_run, _run_lse_b, _row_split: work items and threads).
"""
from cython cimport floating
from cython.parallel cimport prange
from libc.math cimport log, log1p, fabs, fabsf, fma, fmaf, INFINITY, NAN
from libc.string cimport memcpy
from libc.stdint cimport uint32_t, uint64_t, int32_t, int64_t
cimport numpy as cnp

cnp.import_array()

cdef extern from *:
    """
    #if defined(__FMA__) || defined(__aarch64__) || defined(_M_ARM64) || \
        (defined(_MSC_VER) && defined(__AVX2__))
    #  define SMX_HAS_FMA 1
    #else
    #  define SMX_HAS_FMA 0
    #endif
    #if defined(__AVX512F__)
    #  define SMX_ISA_NAME "avx512"
    #elif defined(__AVX2__)
    #  define SMX_ISA_NAME "avx2"
    #elif defined(__aarch64__) || defined(_M_ARM64)
    #  define SMX_ISA_NAME "baseline (arm64 NEON)"
    #else
    #  define SMX_ISA_NAME "baseline"
    #endif
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

    /* Run-time CPU features, including the OS's support for the wider registers. */
    #if (defined(__GNUC__) || defined(__clang__)) && (defined(__x86_64__) || defined(__i386__))
    static int smx_cpu_has_avx2(void) {
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    }
    static int smx_cpu_has_avx512(void) {
        __builtin_cpu_init();
        return smx_cpu_has_avx2() && __builtin_cpu_supports("avx512f")
            && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512bw")
            && __builtin_cpu_supports("avx512vl");
    }
    #elif defined(_MSC_VER) && (defined(_M_X64) || defined(_M_IX86))
    #  include <intrin.h>
    static int smx_cpuid_bit(int leaf, int sub, int reg, int bit) {
        int r[4]; __cpuidex(r, leaf, sub); return (r[reg] >> bit) & 1;
    }
    static int smx_cpu_has_avx2(void) {
        unsigned long long xcr0;
        if (!smx_cpuid_bit(1, 0, 2, 27)) return 0;          /* OSXSAVE */
        xcr0 = _xgetbv(0);
        if ((xcr0 & 6) != 6) return 0;                       /* XMM and YMM state */
        return smx_cpuid_bit(7, 0, 1, 5) && smx_cpuid_bit(1, 0, 2, 12);  /* AVX2, FMA */
    }
    static int smx_cpu_has_avx512(void) {
        if (!smx_cpu_has_avx2()) return 0;
        if ((_xgetbv(0) & 0xe6) != 0xe6) return 0;           /* opmask and ZMM state */
        return smx_cpuid_bit(7, 0, 1, 16) && smx_cpuid_bit(7, 0, 1, 17)
            && smx_cpuid_bit(7, 0, 1, 30) && smx_cpuid_bit(7, 0, 1, 31);
    }
    #else
    static int smx_cpu_has_avx2(void) { return 0; }
    static int smx_cpu_has_avx512(void) { return 0; }
    #endif
    """
    const bint SMX_HAS_FMA
    const bint SMX_OPENMP
    const char* SMX_ISA_NAME
    const char* SMX_COMPILER
    int smx_max_threads() noexcept nogil
    int smx_cpu_has_avx2() noexcept nogil
    int smx_cpu_has_avx512() noexcept nogil

include "_k_consts.pxi"
include "_k_pair.pxi"
include "_k_exp.pxi"
include "_k_rows.pxi"
include "_k_columns.pxi"
include "_k_short_rows.pxi"
include "_k_derivatives.pxi"
include "_k_drivers.pxi"

# --------------------------------------------------------------------------
# Python entry points: arrays are C-contiguous, of one dtype (float32 or float64),
# of the (outer, K, inner) size given; checked by the caller.
# --------------------------------------------------------------------------
cdef inline bint _is_f32(cnp.ndarray a):
    return cnp.PyArray_TYPE(a) == cnp.NPY_FLOAT32

cdef void _dispatch(Op op, cnp.ndarray x, cnp.ndarray v, cnp.ndarray out, Py_ssize_t outer,
                    Py_ssize_t K, Py_ssize_t inner, double temperature, int nthreads):
    cdef Temp t = _make_temp(temperature)
    cdef void* px = cnp.PyArray_DATA(x)
    cdef void* pv = cnp.PyArray_DATA(v) if v is not None else NULL
    if op == OP_SOFTMAX or op == OP_LOG_SOFTMAX or op == OP_LSE:
        t = _limit_temp(t)
    cdef void* po = cnp.PyArray_DATA(out)
    if _is_f32(x):
        with nogil:
            _run[float](op, <float*>px, <float*>pv, <float*>po, outer, K, inner, t, nthreads)
    else:
        with nogil:
            _run[double](op, <double*>px, <double*>pv, <double*>po, outer, K, inner, t, nthreads)


def softmax(cnp.ndarray x, cnp.ndarray out, Py_ssize_t outer, Py_ssize_t K, Py_ssize_t inner,
            double temperature, bint log, int nthreads):
    """out = softmax (or log_softmax) of x along K."""
    _dispatch(OP_LOG_SOFTMAX if log else OP_SOFTMAX, x, None, out, outer, K, inner,
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
        _dispatch(OP_LOG_SOFTMAX if log else OP_SOFTMAX, <cnp.ndarray>a, None, res, shape[0],
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
            _dispatch(OP_LSE, <cnp.ndarray>a, None, res, shape[0], shape[1], shape[2], t, 1)
        else:
            sign = cnp.PyArray_EMPTY(nd, dims, cnp.PyArray_TYPE(<cnp.ndarray>a), 0)
            logsumexp_b(<cnp.ndarray>a, <cnp.ndarray>b, res, sign, shape[0], shape[1],
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
        _dispatch(op, <cnp.ndarray>a, <cnp.ndarray>v, res, shape[0], shape[1], shape[2], t, 1)
    return res


def logsumexp(cnp.ndarray x, cnp.ndarray out, Py_ssize_t outer, Py_ssize_t K, Py_ssize_t inner,
              double temperature, int nthreads):
    """out[outer, inner] = T * logsumexp(x / T) along K."""
    _dispatch(OP_LSE, x, None, out, outer, K, inner, temperature, nthreads)


def logsumexp_b(cnp.ndarray x, cnp.ndarray b, cnp.ndarray out, cnp.ndarray sign,
                Py_ssize_t outer, Py_ssize_t K, Py_ssize_t inner, double temperature,
                int nthreads):
    """Weighted logsumexp and the sign of the weighted sum, along K."""
    cdef Temp t = _limit_temp(_make_temp(temperature))
    cdef void* px = cnp.PyArray_DATA(x)
    cdef void* pb = cnp.PyArray_DATA(b)
    cdef void* po = cnp.PyArray_DATA(out)
    cdef void* ps = cnp.PyArray_DATA(sign)
    if _is_f32(x):
        with nogil:
            _run_lse_b[float](<float*>px, <float*>pb, <float*>po, <float*>ps, outer, K, inner,
                              t, nthreads)
    else:
        with nogil:
            _run_lse_b[double](<double*>px, <double*>pb, <double*>po, <double*>ps, outer, K,
                               inner, t, nthreads)


def jvp(cnp.ndarray x, cnp.ndarray v, cnp.ndarray out, Py_ssize_t outer, Py_ssize_t K,
        Py_ssize_t inner, double temperature, bint log, int nthreads):
    """out = J(x) v for softmax (or log_softmax) of x / T along K."""
    _dispatch(OP_LOG_JVP if log else OP_JVP, x, v, out, outer, K, inner, temperature, nthreads)


def vjp(cnp.ndarray y, cnp.ndarray g, cnp.ndarray out, Py_ssize_t outer, Py_ssize_t K,
        Py_ssize_t inner, double temperature, bint log, int nthreads):
    """out = g^T J from the saved output y of softmax (or log_softmax) along K."""
    _dispatch(OP_LOG_VJP if log else OP_VJP, y, g, out, outer, K, inner, temperature, nthreads)


def exp(cnp.ndarray x, cnp.ndarray out, cnp.ndarray tail):
    """out + tail = the kernels' exp(x), elementwise (for measuring its accuracy)."""
    cdef Py_ssize_t n = cnp.PyArray_SIZE(x)
    cdef void* px = cnp.PyArray_DATA(x)
    cdef void* po = cnp.PyArray_DATA(out)
    cdef void* pt = cnp.PyArray_DATA(tail)
    if _is_f32(x):
        with nogil:
            _exp_array[float](<float*>px, <float*>po, <float*>pt, n)
    else:
        with nogil:
            _exp_array[double](<double*>px, <double*>po, <double*>pt, n)


def exp_f32(cnp.ndarray h, cnp.ndarray out):
    """out = _exp_f32(h) elementwise, float64 in and out (for measuring its accuracy)."""
    cdef Py_ssize_t i, n = cnp.PyArray_SIZE(h)
    cdef double* ph = <double*>cnp.PyArray_DATA(h)
    cdef double* po = <double*>cnp.PyArray_DATA(out)
    with nogil:
        for i in range(n):
            po[i] = _exp_f32(ph[i])


def build_info():
    """Facts fixed when this variant was compiled."""
    return {
        "isa": SMX_ISA_NAME.decode(),
        "fma": bool(SMX_HAS_FMA),
        "openmp": bool(SMX_OPENMP),
        "compiler": SMX_COMPILER.decode(),
    }


def cpu_features():
    """ISA levels this CPU (and OS) can run."""
    return {"avx2": bool(smx_cpu_has_avx2()), "avx512": bool(smx_cpu_has_avx512())}


def max_threads():
    """OpenMP's current default team size (honours OMP_NUM_THREADS, threadpoolctl)."""
    return smx_max_threads()

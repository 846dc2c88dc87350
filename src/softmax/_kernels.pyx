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

# --------------------------------------------------------------------------
# Constants
# --------------------------------------------------------------------------
DEF LANES = 32     # independent accumulators of a row reduction (> 16: gcc would fully unroll;
                   # _fold, _lanes_total and _max_row halve exactly 32)
DEF BLK = 1024     # elements exponentiated before they are summed (from L1)
DEF ARG_BLK = 256  # scaled exp arguments computed ahead of the exps (on the stack)
DEF JVP_SHIFT = 64      # the JVP keeps its exps times 2**64: subnormal ones keep full precision
DEF SPLIT_MIN = 1 << 18  # a row at least this long is split across threads when rows are few
DEF SMALL_K = 64        # rows this short go through _small_rows
DEF SMALL_ROWS = 4096   # rows per thread work item there
DEF CW = 256       # at most this many columns per chunk (column layout)
DEF CHUNK_BYTES = 1048576  # a column chunk (K x W) stays within L2

# exp(h): h = n ln2 + r, |r| <= ln2/2 (Cody-Waite, LN2_HI has trailing zero
# bits so n * LN2_HI is exact), exp(r) = 1 + r + r^2 Q(r) with Q a Chebyshev
# fit: 0.09 ulp (float32, degree 6) and 0.07 ulp (float64, degree 11) on the
# reduced range. 2**n is applied in two factors, so results underflow gradually
# through the subnormals and overflow to inf like a correctly rounded exp.
cdef extern from *:
    """
    static const float LOG2E_F = 1.44269504088896341f;
    static const float SHIFT_F = 12582912.0f;
    static const float LN2HI_F = 0.693145751953125f;
    static const float LN2LO_F = 1.428606765330187045e-06f;
    static const float EXP_LO_F = -104.0f;
    static const float EXP_HI_F = 89.0f;
    static const unsigned int SHIFT_BITS_F = 0x4B400000u;
    static const float QF4 = 0.0013926213141530752f;
    static const float QF3 = 0.008363203145563602f;
    static const float QF2 = 0.041666556149721146f;
    static const float QF1 = 0.16666576266288757f;
    static const float QF0 = 0.5f;
    static const double LOG2E_D = 1.4426950408889634;
    static const double SHIFT_D = 6755399441055744.0;
    static const double LN2HI_D = 6.93147180369123816490e-01;
    static const double LN2LO_D = 1.90821492927058770002e-10;
    static const double EXP_LO_D = -746.0;
    static const double EXP_HI_D = 710.0;
    static const unsigned long long SHIFT_BITS_D = 0x4338000000000000ull;
    static const double QD9 = 2.5100424157005067e-08;
    static const double QD8 = 2.7620138719733994e-07;
    static const double QD7 = 2.7557268378684192e-06;
    static const double QD6 = 2.480152119021773e-05;
    static const double QD5 = 0.00019841269863105968;
    static const double QD4 = 0.0013888888917281794;
    static const double QD3 = 0.008333333333330051;
    static const double QD2 = 0.04166666666662399;
    static const double QD1 = 0.16666666666666669;
    static const double QD0 = 0.5000000000000001;
    /* exp for float32 data, evaluated in double: exp(r) = 1 + r Q(r), Q of degree 6
       (Chebyshev interpolant), 1.1e-10 relative on |r| <= ln2/2. */
    static const double LN2_D = 0.6931471805599453;
    static const double EXPF_LO = -700.0;
    static const double QE6 = 0.00019899283127150665;
    static const double QE5 = 0.0013941116406758567;
    static const double QE4 = 0.008333298472605688;
    static const double QE3 = 0.04166635280101729;
    static const double QE2 = 0.16666666719023374;
    static const double QE1 = 0.5000000047139316;
    """
    const float LOG2E_F
    const float SHIFT_F
    const float LN2HI_F
    const float LN2LO_F
    const float EXP_LO_F
    const float EXP_HI_F
    const uint32_t SHIFT_BITS_F
    const float QF4
    const float QF3
    const float QF2
    const float QF1
    const float QF0
    const double LOG2E_D
    const double SHIFT_D
    const double LN2HI_D
    const double LN2LO_D
    const double EXP_LO_D
    const double EXP_HI_D
    const uint64_t SHIFT_BITS_D
    const double QD9
    const double QD8
    const double QD7
    const double QD6
    const double QD5
    const double QD4
    const double QD3
    const double QD2
    const double QD1
    const double QD0
    const double LN2_D
    const double EXPF_LO
    const double QE6
    const double QE5
    const double QE4
    const double QE3
    const double QE2
    const double QE1

ctypedef struct Temp:
    double sgn         # sign of T: the slice is sgn * x, so T < 0 is the arg-min side
    double inv         # 1/|T| rounded (1 when |T| == 1 or T == 0)
    double inv_lo      # 1/|T| - inv, exactly representable remainder
    double abs_t       # |T|
    double inv_signed  # 1/T: the chain-rule factor of the derivative kernels
    double inv_signed_lo  # 1/T - inv_signed (sgn * inv_lo): float64 derivatives use the pair
    bint scaled        # |T| != 1
    bint hard          # T == 0: the arg-max limit

cdef Temp _make_temp(double temperature) noexcept nogil:
    cdef Temp t
    t.sgn = -1.0 if temperature < 0 else 1.0
    t.abs_t = fabs(temperature)
    t.hard = t.abs_t == 0
    t.scaled = (not t.hard) and t.abs_t != 1.0
    t.inv = 1.0 / t.abs_t if t.scaled else 1.0
    t.inv_lo = -fma(t.inv, t.abs_t, -1.0) / t.abs_t if t.scaled else 0.0
    t.inv_signed = t.sgn * t.inv if not t.hard else 0.0
    t.inv_signed_lo = t.sgn * t.inv_lo if not t.hard else 0.0
    return t

cdef Temp _limit_temp(Temp t) noexcept nogil:
    """For softmax, log_softmax and logsumexp: a |T| whose inverse overflows (below
    ~5.6e-309) is the arg-max limit (exp((x - m)/T) is 0 or 1 in floating point),
    with |T| kept for the log-softmax of the non-maxima, (x - m)/|T| - log(count)."""
    if t.scaled and not (t.inv < INFINITY):
        t.hard = True
        t.scaled = False
        t.inv = 1.0
        t.inv_lo = 0.0
        t.inv_signed = 0.0
        t.inv_signed_lo = 0.0
    return t

# --------------------------------------------------------------------------
# Per-element helpers
# --------------------------------------------------------------------------
cdef inline floating _madd(floating a, floating b, floating c) noexcept nogil:
    """a * b + c, fused when the ISA has FMA."""
    if SMX_HAS_FMA:
        if floating is float:
            return fmaf(a, b, c)
        else:
            return fma(a, b, c)
    return a * b + c

cdef inline double _prod_err(double a, double b, double p) noexcept nogil:
    """The exact rounding error a*b - p of p = fl(a*b) (FMA, else Dekker)."""
    cdef double c, ah, al, bh, bl
    if SMX_HAS_FMA:
        return fma(a, b, -p)
    c = 134217729.0 * a
    ah = c - (c - a)
    al = a - ah
    c = 134217729.0 * b
    bh = c - (c - b)
    bl = b - bh
    return ((ah * bh - p) + ah * bl + al * bh) + al * bl

cdef inline double _resid(double q, double s, double e) noexcept nogil:
    """e - q*s rounded once, for q*s close to e (a division's residual): one FMA,
    else Dekker's exact product, whose difference from e is then exact (Sterbenz)."""
    cdef double p
    if SMX_HAS_FMA:
        return fma(-q, s, e)
    p = q * s
    return (e - p) - _prod_err(q, s, p)

cdef inline double _lo_ok(double hi, double lo) noexcept nogil:
    """The low part of a pair, 0 when hi is +-inf or NaN (TwoSum makes it NaN there)."""
    return lo if fabs(hi) < INFINITY else 0.0

cdef inline double _fin_times(double p, double r, double f, double f_lo) noexcept nogil:
    """(p + r) * (f + f_lo) rounded once (nearly): r the low part of a pair (or 0), f + f_lo
    the pair 1/T. Multiplying the rounded p + r by the rounded 1/T instead costs two more
    roundings: float64 derivatives with T != 1 reached 2.4 ulp. p * f where that is not finite
    (the corrections are NaN there)."""
    cdef double q = p * f
    cdef double res = q + ((_prod_err(p, f, q) + p * f_lo) + r * f)
    return res if fabs(q) < INFINITY else q

cdef inline float _scale_f(float p, float t, int k) noexcept nogil:
    """p * 2**(n + k), n = t - SHIFT_F held in the low mantissa bits of t, n in [-150, 128].

    2**n is applied as two normal factors 2**(n//2) * 2**(n - n//2), so results
    underflow gradually into subnormals and overflow to inf, as exp does."""
    cdef uint32_t b, tb
    cdef int32_t n, n1
    cdef float f1, f2
    memcpy(&b, &t, 4)
    tb = SHIFT_BITS_F
    n = <int32_t>(b - tb) + k
    n1 = n >> 1
    b = <uint32_t>(n1 + 127) << 23
    memcpy(&f1, &b, 4)
    b = <uint32_t>(n - n1 + 127) << 23
    memcpy(&f2, &b, 4)
    return p * f1 * f2

cdef inline double _scale_d(double p, double t, int k) noexcept nogil:
    cdef uint64_t b, tb
    cdef int64_t n, n1
    cdef double f1, f2
    memcpy(&b, &t, 8)
    tb = SHIFT_BITS_D
    n = <int64_t>(b - tb) + k
    n1 = n >> 1
    b = <uint64_t>(n1 + 1023) << 52
    memcpy(&f1, &b, 8)
    b = <uint64_t>(n - n1 + 1023) << 52
    memcpy(&f2, &b, 8)
    return p * f1 * f2

cdef inline (floating, floating) _reduced(floating r1, floating p, floating lo) noexcept nogil:
    """r = r1 + p + lo rounded, and its rounding error (two TwoSums)."""
    cdef floating r2 = r1 + p, r, bb, err
    bb = r2 - r1
    err = (r1 - (r2 - bb)) + (p - bb)
    r = r2 + lo
    bb = r - r2
    err += (r2 - (r - bb)) + (lo - bb)
    return r, err

cdef inline floating _exp2(floating h, floating lo, floating* tail) noexcept nogil:
    return _exp2k(h, lo, tail, 0)

cdef inline floating _exp2k(floating h, floating lo, floating* tail, int k) noexcept nogil:
    """exp(h + lo) * 2**k = result + tail[0] (|lo| tiny). Branch-free: vectorises.

    k scales the result exactly (in its exponent), so exps far below the smallest
    normal keep their full precision (the JVP uses k = 64). The tail collects the rounding errors of the reduced argument r, of
    s = r + r^2 Q(r) and of 1 + s, scaled: the compensated sums use it, so a sum
    of exps (and sum - 1) is exact to far below one ulp."""
    cdef floating c, t, n, r, q, w, s, p, e, er, zero = 0, one = 1
    if floating is float:
        c = EXP_LO_F if h < EXP_LO_F else h
        c = EXP_HI_F if c > EXP_HI_F else c
        t = c * LOG2E_F + SHIFT_F
        n = t - SHIFT_F
        r = _madd(-n, LN2HI_F, c)
        r = _madd(-n, LN2LO_F, r) + lo       # float32: its rounding (<= 0.25 ulp) is not tracked
        er = 0
        q = _madd(_madd(_madd(_madd(QF4, r, QF3), r, QF2), r, QF1), r, QF0)
        w = (r * r) * q
        s = r + w
        p = one + s
        e = _scale_f(p, t, k)
        tail[0] = zero if (h < EXP_LO_F) | (h > EXP_HI_F) else _scale_f(
            ((one - p) + s) + ((w - (s - r)) + er * p), t, k)
        e = zero if h < EXP_LO_F else e
        return <float>INFINITY if h > EXP_HI_F else e
    else:
        c = EXP_LO_D if h < EXP_LO_D else h
        c = EXP_HI_D if c > EXP_HI_D else c
        t = c * LOG2E_D + SHIFT_D
        n = t - SHIFT_D
        r = _madd(-n, LN2HI_D, c)
        r, er = _reduced(r, -n * LN2LO_D, lo)
        q = _madd(_madd(_madd(_madd(_madd(QD9, r, QD8), r, QD7), r, QD6), r, QD5), r, QD4)
        q = _madd(_madd(_madd(_madd(q, r, QD3), r, QD2), r, QD1), r, QD0)
        w = (r * r) * q
        s = r + w
        p = one + s
        e = _scale_d(p, t, k)
        tail[0] = zero if (h < EXP_LO_D) | (h > EXP_HI_D) else _scale_d(
            ((one - p) + s) + ((w - (s - r)) + er * p), t, k)
        e = zero if h < EXP_LO_D else e
        return INFINITY if h > EXP_HI_D else e

cdef inline double _exp_f32(double h) noexcept nogil:
    """exp(h) for h <= 0 (or -inf) in double, to 1.1e-10 relative: the exp of the
    float32 kernels. x - m of float32 data is exact in double (and (x - m)/|T| good to
    2**-53), so rounding this to float32 is the only rounding of an exp. Below EXPF_LO
    (exp(-700) = 1e-304) it is 0, as exp(-inf) must be (a JVP multiplies it by v - mu,
    which may be infinite or 1e38); a NaN h gives NaN."""
    cdef double c = EXPF_LO if h < EXPF_LO else h   # -inf clamped, NaN kept
    cdef double tt = _madd(c, LOG2E_D, SHIFT_D)   # n = round(c / ln2) in tt's low bits
    cdef double n = tt - SHIFT_D
    cdef double r = _madd(-n, LN2_D, c)
    cdef double q = _madd(_madd(_madd(_madd(_madd(QE6, r, QE5), r, QE4), r, QE3), r, QE2), r, QE1)
    cdef double p = _madd(_madd(q, r, 1.0), r, 1.0)   # 1 + r Q(r); exactly 1 at r == 0
    cdef uint64_t b, tb
    memcpy(&b, &p, 8)
    memcpy(&tb, &tt, 8)
    b += tb << 52                                  # times 2**n: n >= -1010, stays normal
    memcpy(&p, &b, 8)
    return 0.0 if h < EXPF_LO else p

cdef inline floating _arg(floating v, floating m, Temp t, floating* lo) noexcept nogil:
    """(v - m) / |T| as hi + lo[0], with hi the returned value."""
    cdef double dd
    cdef floating h, l, bb, p
    if floating is float:
        if t.scaled:
            dd = (<double>v - <double>m) * t.inv  # exact enough in double
            h = <float>dd
            l = <float>(dd - <double>h)
        else:
            h = v - m                             # TwoSum, in float lanes
            bb = h - v
            l = (v - (h - bb)) + (-m - bb)
        lo[0] = l if fabsf(h) < <float>1e30 else 0  # -inf (and NaN) carry no pair
        return h
    else:
        h = v - m                                  # TwoSum: h + l == v - m exactly
        bb = h - v
        l = (v - (h - bb)) + (-m - bb)
        if t.scaled:
            p = h * t.inv
            l = _prod_err(h, t.inv, p) + (h * t.inv_lo + l * t.inv)
            h = p
        lo[0] = l if fabs(h) < 1e300 else 0
        return h

cdef inline floating _exp_arg(floating v, floating m, Temp t, int k) noexcept nogil:
    """exp((v - m)/|T|) * 2**k, rounded."""
    cdef floating lo, tail
    cdef floating h = _arg(v, m, t, &lo)
    return _exp2k(h, lo, &tail, k)

cdef inline floating _log_elem(floating v, floating m, Temp t, double lse,
                               double lse_lo) noexcept nogil:
    """(v - m)/|T| - (lse + lse_lo), the log-softmax of one element."""
    cdef floating lo, h
    if floating is float:
        return <float>(((<double>v - <double>m) * t.inv - lse) - lse_lo)
    else:
        h = _arg(v, m, t, &lo)
        if h == -INFINITY:   # v - m or (v - m)/|T| overflowed; the latter may be finite
            h = v * t.inv - m * t.inv   # NaN (-inf + inf) only where it truly overflows
            return h - lse if h == h else -INFINITY
        return (h - lse) + (lo - lse_lo)

cdef inline floating _div_elem(floating e, double s_hi, double s_lo, double inv) noexcept nogil:
    """e / (s_hi + s_lo), rounded once (Newton step on the reciprocal)."""
    cdef double q, rem
    if floating is float:
        return <float>(<double>e * inv)
    else:
        q = e * inv
        rem = _resid(q, s_hi, e) - q * s_lo
        return _madd(rem, inv, q)

cdef inline void _scale_f32(float* out, Py_ssize_t n, double inv) noexcept nogil:
    """out[i] * inv rounded once to float32: with FMA as fma(e, ih, e * il) * 2**-24, (ih, il)
    the float32 pair of inv * 2**24 (together good to 2**-48; scaled so that e * il does not
    underflow while the result is normal, and the final scaling is exact there), three
    float32 operations per element instead of a round trip through float64; without FMA
    in float64."""
    cdef Py_ssize_t i
    cdef double inv_s = inv * 16777216.0
    cdef float ih = <float>inv_s, il = <float>(inv_s - <double>ih), down = 5.9604644775390625e-08
    if SMX_HAS_FMA:
        for i in range(n):
            out[i] = fmaf(out[i], ih, out[i] * il) * down
    else:
        for i in range(n):
            out[i] = <float>(<double>out[i] * inv)

cdef inline double _mean_lo(double q, double d_hi, double d_lo, double s_hi, double s_lo,
                            double inv) noexcept nogil:
    """The residual of q ~ (d_hi + d_lo) / (s_hi + s_lo)."""
    return ((_resid(q, s_hi, d_hi) + d_lo) - q * s_lo) * inv

cdef inline double _mean_pair(double d_hi, double d_lo, double s_hi, double s_lo, double q,
                              double* mu_lo) noexcept nogil:
    """mu + mu_lo[0] = (d_hi + d_lo) / (s_hi + s_lo), q = 1/(s_hi + s_lo) rounded; a pair
    whose leading part is +-inf or NaN carries no low part."""
    cdef double mu
    d_lo = _lo_ok(d_hi, d_lo)
    mu = (d_hi + d_lo) * q
    mu_lo[0] = _lo_ok(mu, _mean_lo(mu, d_hi, d_lo, s_hi, s_lo, q))
    return mu

cdef inline void _norm_pair(double* hi, double* lo) noexcept nogil:
    """A compensated sum (hi, lo) as (hi + lo rounded, what that rounding left out); the low
    part 0 where the leading part is +-inf or NaN."""
    cdef double c, l = _lo_ok(hi[0], lo[0])
    c = hi[0] + l
    lo[0] = _lo_ok(c, (hi[0] - c) + l)
    hi[0] = c

cdef inline double _diff_lo(double v, double a, double c_hi, double c_lo) noexcept nogil:
    """With a = fl(v - c_hi): the low part of v - (c_hi + c_lo) (TwoSum)."""
    cdef double bb = a - v
    return ((v - (a - bb)) + (-c_hi - bb)) - c_lo

cdef inline floating _jvp_elem(floating e, floating v, double s_hi, double s_lo, double inv,
                               double mu, double mu_lo, double f, double f_lo) noexcept nogil:
    """(e / S) * (v - mu) * f, S = s_hi + s_lo, mu = mu + mu_lo: products and
    differences carried as pairs in float64, so only the last step rounds."""
    cdef double q, q_lo, a, a_lo, p
    if floating is float:
        return <float>((<double>e * inv) * ((<double>v - mu) - mu_lo) * f)
    q = e * inv
    q_lo = (_resid(q, s_hi, e) - q * s_lo) * inv
    a = v - mu
    a_lo = _diff_lo(v, a, mu, mu_lo)
    p = q * a
    return _fin_times(p, _prod_err(q, a, p) + (q * a_lo + q_lo * a), f, f_lo)

cdef inline floating _dlog_elem(floating v, double mu, double mu_lo, double f,
                                double f_lo) noexcept nogil:
    """(v - mu) * f for the log-softmax JVP, the difference carried as a pair."""
    cdef double a
    if floating is float:
        return <float>(((<double>v - mu) - mu_lo) * f)
    a = v - mu
    return _fin_times(a, _diff_lo(v, a, mu, mu_lo), f, f_lo)

cdef inline floating _vjp_elem(floating y, floating g, double c_hi, double c_lo, double f,
                               double f_lo) noexcept nogil:
    """y * (g - c) * f, c = c_hi + c_lo, one rounding of the product in float64."""
    cdef double a, p
    if floating is float:
        return <float>(y * ((<double>g - c_hi) - c_lo) * f)
    a = g - c_hi
    p = y * a
    return _fin_times(p, _prod_err(y, a, p) + y * _diff_lo(g, a, c_hi, c_lo), f, f_lo)

cdef inline floating _log_vjp_elem(double e, double tail, floating g, double c_hi, double c_lo,
                                   double f, double f_lo) noexcept nogil:
    """(g - exp(y) * c) * f from e + tail = exp(y) (_exp_block): exp(y) * c as a pair."""
    cdef double p, pe, a
    if floating is float:
        return <float>((g - e * (c_hi + c_lo)) * f)
    p = e * c_hi
    pe = _prod_err(e, c_hi, p) + (tail * c_hi + e * c_lo)
    a = g - p
    return _fin_times(a, _diff_lo(g, a, p, pe), f, f_lo)

cdef void _exp_block(const floating* y, Py_ssize_t n, Py_ssize_t stride, double* e,
                     double* tail) noexcept nogil:
    """e[i] + tail[i] = exp(y[i * stride]) in double, a loop of its own so that it vectorises
    (inside a bigger loop body gcc stops inlining the exp). float32 y (the log-softmax VJP
    uses e only) all <= 0, as log-probabilities are: _exp_f32 (1e-10), 2.5x cheaper."""
    cdef Py_ssize_t i, above = 0   # an integer count: a float sum in order does not vectorise
    if floating is float:
        for i in range(n):
            above += 0 if y[i * stride] <= 0 else 1   # > 0 or NaN
        if above == 0:
            for i in range(n):
                e[i] = _exp_f32(<double>y[i * stride])
                tail[i] = 0
            return
    for i in range(n):
        e[i] = _exp2k[double](<double>y[i * stride], 0.0, &tail[i], 0)

cdef inline void _two_sum_into(double* hi, double* lo, double v) noexcept nogil:
    cdef double s = hi[0] + v
    cdef double bb = s - hi[0]
    lo[0] += (hi[0] - (s - bb)) + (v - bb)
    hi[0] = s

# --------------------------------------------------------------------------
# Contiguous reductions (rows)
# --------------------------------------------------------------------------
# Row reductions run as column reductions over the (n // LANES, LANES) view of
# the row: gcc vectorises a loop over a runtime number of adjacent columns (it
# if-converts the selects there), while a fixed 16-lane inner loop is unrolled
# first and left scalar.
cdef inline floating _nanmax(floating a, floating b) noexcept nogil:
    """max(a, b), NaN if either is NaN. Written as "b unless b <= a or a is NaN": gcc
    vectorises a tree of these (spelt "b > a or b is NaN" it does not)."""
    return b if (not (b <= a)) & (a == a) else a

cdef inline void _col_max(const floating* x, Py_ssize_t K, Py_ssize_t stride, Py_ssize_t W,
                   floating sgn, floating* m, bint pairs) noexcept nogil:
    """m[j] = max over k of sgn * x[k*stride + j]; NaN if any is NaN.

    pairs (a constant: rows pass True): two rows a step. m[j] goes through memory every
    step (W is a runtime length), and for a row's 32 lanes one row a step is a chain of
    store-load latencies (13% of a float32 softmax's profile); two rows' max joins it once.
    gcc does not vectorise four. Column chunks (up to CW lanes) keep one row a step: pairs
    measured no gain there."""
    cdef Py_ssize_t k, j, kb = K - K % 2 if pairs else 0
    cdef const floating* r0
    cdef const floating* r1
    for j in range(W):
        m[j] = -INFINITY
    for k in range(0, kb, 2):
        r0 = x + k * stride
        r1 = r0 + stride
        for j in range(W):
            m[j] = _nanmax(m[j], _nanmax(sgn * r0[j], sgn * r1[j]))
    for k in range(kb, K):
        r0 = x + k * stride
        for j in range(W):
            m[j] = _nanmax(m[j], sgn * r0[j])

cdef inline void _col_sum(const floating* x, Py_ssize_t K, Py_ssize_t stride, Py_ssize_t W,
                   double* sh, double* sl) noexcept nogil:
    """(sh[j], sl[j]) += sum over k of x[k*stride + j], compensated (TwoSum)."""
    cdef Py_ssize_t k, j
    cdef const floating* row
    cdef double a, v, s, bb
    for k in range(K):
        row = x + k * stride
        for j in range(W):
            a = sh[j]
            v = row[j]
            s = a + v
            bb = s - a
            sl[j] += (a - (s - bb)) + (v - bb)
            sh[j] = s

cdef inline void _col_dot(const floating* x, const floating* y, Py_ssize_t K, Py_ssize_t stride,
                   Py_ssize_t W, double* sh, double* sl) noexcept nogil:
    """(sh[j], sl[j]) += sum over k of x*y at [k*stride + j], compensated."""
    cdef Py_ssize_t k, j
    cdef const floating* xr
    cdef const floating* yr
    cdef double a, p, s, bb
    for k in range(K):
        xr = x + k * stride
        yr = y + k * stride
        for j in range(W):
            a = sh[j]
            p = <double>xr[j] * <double>yr[j]
            s = a + p
            bb = s - a
            sl[j] += (a - (s - bb)) + (p - bb)
            if floating is double:
                sl[j] += _prod_err(xr[j], yr[j], p)
            sh[j] = s

cdef inline void _col_sum_rest(const floating* x, Py_ssize_t K, Py_ssize_t stride, Py_ssize_t W,
                        double* sh, double* sl, double* ones) noexcept nogil:
    """Like _col_sum for a sum of exps, but the exact 1.0s (the maxima) are only
    counted, in ones[j]: the rest is then compensated at its own scale, so a
    small rest (log_softmax of a confident slice) keeps full relative precision."""
    cdef Py_ssize_t k, j
    cdef const floating* row
    cdef double a, v, s, bb
    cdef bint one
    for k in range(K):
        row = x + k * stride
        for j in range(W):
            v = row[j]
            one = v == 1.0
            ones[j] += 1.0 if one else 0.0
            v = 0.0 if one else v
            if floating is float:  # float32 terms: a plain sum in double is exact enough
                sh[j] += v
            else:
                a = sh[j]
                s = a + v
                bb = s - a
                sl[j] += (a - (s - bb)) + (v - bb)
                sh[j] = s

cdef inline void _combine(double ones, double r_hi, double r_lo, double* s_hi,
                          double* s_lo) noexcept nogil:
    """(s_hi, s_lo) = ones + r_hi + r_lo, with s_lo = the exact error + r_lo."""
    cdef double s = ones + r_hi
    cdef double bb = s - ones
    s_lo[0] = ((ones - (s - bb)) + (r_hi - bb)) + r_lo
    s_hi[0] = s

cdef inline void _half(double* sh, double* sl, Py_ssize_t h) noexcept nogil:
    """Lanes j and j + h (j < h) summed into lane j, compensated (TwoSum); h a constant
    once inlined, so the step is a few vector instructions."""
    cdef Py_ssize_t j
    cdef double a, b, s, bb
    for j in range(h):
        a = sh[j]
        b = sh[j + h]
        s = a + b
        bb = s - a
        sl[j] = (sl[j] + sl[j + h]) + ((a - (s - bb)) + (b - bb))
        sh[j] = s

cdef inline void _fold(double* sh, double* sl, Py_ssize_t W, double* hi,
                       double* lo) noexcept nogil:
    """(hi, lo) += the compensated partial sums of all LANES lanes (the callers zero the
    ones beyond W), halved pairwise: a lane-by-lane fold is a chain of dependent TwoSums
    that costs more than a short row's whole loop."""
    _half(sh, sl, 16)
    _half(sh, sl, 8)
    _half(sh, sl, 4)
    _half(sh, sl, 2)
    _half(sh, sl, 1)
    _two_sum_into(hi, lo, sh[0])
    lo[0] += sl[0]

cdef inline double _lanes_total(double* a) noexcept nogil:
    """The plain sum of a[:LANES], halved pairwise (vector steps, not a chain of LANES adds)."""
    cdef Py_ssize_t j
    for j in range(16):
        a[j] += a[j + 16]
    for j in range(8):
        a[j] += a[j + 8]
    for j in range(4):
        a[j] += a[j + 4]
    return ((a[0] + a[2]) + (a[1] + a[3]))

cdef inline void _max_half(floating* acc, Py_ssize_t h) noexcept nogil:
    """Lane j (j < h) takes the NaN-propagating max of lanes j and j + h."""
    cdef Py_ssize_t l
    for l in range(h):
        acc[l] = acc[l + h] if (acc[l + h] > acc[l]) | (acc[l + h] != acc[l + h]) else acc[l]

cdef floating _max_row(const floating* x, Py_ssize_t n, floating sgn) noexcept nogil:
    """max of sgn*x, NaN if any element is NaN."""
    cdef floating acc[LANES]
    cdef floating v, m = -INFINITY
    cdef Py_ssize_t i, l, L = min(<Py_ssize_t>LANES, n), nb
    if L == 0:
        return m
    nb = n - n % L
    if sgn == 1:   # a constant sign: gcc drops the multiply (x * 1 is x, x * -1 is -x)
        _col_max(x, nb // L, L, L, <floating>1, acc, True)
    else:
        _col_max(x, nb // L, L, L, <floating>-1, acc, True)
    for i in range(nb, n):
        v = sgn * x[i]
        m = v if (v > m) | (v != v) else m
    if L == LANES:   # halve pairwise (vector steps) rather than a chain of 32 compares
        _max_half(acc, 16)
        _max_half(acc, 8)
        _max_half(acc, 4)
        _max_half(acc, 2)
        L = 2
    for l in range(L):
        m = acc[l] if (acc[l] > m) | (acc[l] != acc[l]) else m
    return m

cdef void _sum_row(const floating* e, Py_ssize_t n, double* hi, double* lo) noexcept nogil:
    """(hi, lo) += sum(e), compensated."""
    cdef double sh[LANES]
    cdef double sl[LANES]
    cdef Py_ssize_t l, L = max(<Py_ssize_t>1, min(<Py_ssize_t>LANES, n)), nb = n - n % L
    for l in range(LANES):  # fixed length: vector stores (a variable one becomes rep stos)
        sh[l] = 0
        sl[l] = 0
    _col_sum(e, nb // L, L, L, sh, sl)
    _col_sum(e + nb, 1, 0, n - nb, sh, sl)
    _fold(sh, sl, L, hi, lo)

cdef void _dot_row(const floating* a, const floating* b, Py_ssize_t n,
                   double* hi, double* lo) noexcept nogil:
    """(hi, lo) += sum(a * b), compensated (TwoSum + exact products)."""
    cdef double sh[LANES]
    cdef double sl[LANES]
    cdef Py_ssize_t l, L = max(<Py_ssize_t>1, min(<Py_ssize_t>LANES, n)), nb = n - n % L
    for l in range(LANES):  # fixed length: vector stores (a variable one becomes rep stos)
        sh[l] = 0
        sl[l] = 0
    _col_dot(a, b, nb // L, L, L, sh, sl)
    _col_dot(a + nb, b + nb, 1, 0, n - nb, sh, sl)
    _fold(sh, sl, L, hi, lo)

cdef inline void _fill(floating* out, Py_ssize_t n, Py_ssize_t stride, floating value) noexcept nogil:
    cdef Py_ssize_t i
    for i in range(n):
        out[i * stride] = value

cdef void _exp_map(const floating* x, floating* dst, floating* tail, Py_ssize_t n, floating m,
                   Temp t, bint hard, int k) noexcept nogil:
    """dst + tail = exp((sgn*x - m)/|T|), or the indicator sgn*x == m in the hard limit."""
    cdef Py_ssize_t i, b0, nb
    cdef floating sgn = <floating>t.sgn, one = 1, zero = 0, lo, h
    cdef floating hs[ARG_BLK]
    cdef floating ls[ARG_BLK]
    if hard:
        for i in range(n):
            dst[i] = one if sgn * x[i] == m else zero
            tail[i] = zero
    elif t.scaled:   # one loop per case: a test inside the loop is if-converted (both run)
        for b0 in range(0, n, ARG_BLK):   # and the argument a loop of its own: with the
            nb = min(<Py_ssize_t>ARG_BLK, n - b0)   # exp in one body gcc stops inlining
            for i in range(nb):
                hs[i] = _arg(sgn * x[b0 + i], m, t, &ls[i])
            for i in range(nb):
                dst[b0 + i] = _exp2k(hs[i], ls[i], &tail[b0 + i], k)
    else:
        for i in range(n):
            h = _arg(sgn * x[i], m, t, &lo)
            dst[i] = _exp2k(h, lo, &tail[i], k)

cdef inline double _sum_plain(const floating* a, Py_ssize_t n) noexcept nogil:
    """Plain sum in double (for the tiny tails of the exps)."""
    cdef double acc[LANES]
    cdef double total = 0
    cdef Py_ssize_t i, j, k, nb = n - n % LANES
    if nb == 0:
        for i in range(n):
            total += a[i]
        return total
    for j in range(LANES):
        acc[j] = 0
    for k in range(nb // LANES):
        for j in range(LANES):
            acc[j] += a[k * LANES + j]
    for i in range(nb, n):
        total += a[i]
    return total + _lanes_total(acc)

cdef inline double _h_f32(float v, double sgn, double m, double inv, bint scaled) noexcept nogil:
    """(sgn*v - m)/|T| in double for float32 data (sgn*v - m exact or nearly: one rounding)."""
    cdef double h = _madd(<double>v, sgn, -m)
    return h * inv if scaled else h

cdef inline void _exp_lanes_f32(const float* x, float* dst, Py_ssize_t K, double sgn, double m,
                                double inv, bint scaled, bint keep, double* acc,
                                double* on, const float* xt, float* dt) noexcept nogil:
    """The body of _exp_sum_f32 for one case (scaled, keep: constants once inlined, so
    every case is a loop of its own and gcc vectorises each: a test inside a loop is
    if-converted, both sides computed). The last K % LANES elements come from xt (padded
    to LANES with -inf: exp 0) and go to dt, so a row's tail runs in vector lanes too (a
    scalar exp costs about what a vector step of 8 does)."""
    cdef Py_ssize_t j, k, nfull = K // LANES, nblk = (K + LANES - 1) // LANES
    cdef const float* xr
    cdef float* dr
    cdef double e
    for k in range(nblk):
        xr = x + k * LANES if k < nfull else xt
        dr = (dst + k * LANES if k < nfull else dt) if keep else <float*>NULL
        for j in range(LANES):
            e = _exp_f32(_h_f32(xr[j], sgn, m, inv, scaled))
            if keep:
                dr[j] = <float>e
                acc[j] += e
            else:
                on[j] += 1.0 if e == 1.0 else 0.0
                acc[j] += 0.0 if e == 1.0 else e

cdef void _exp_sum_f32(const float* x, float* dst, Py_ssize_t K, float m, Temp t, bint keep,
                       double* ones_out, double* rest_out) noexcept nogil:
    """The exp pass of a float32 row in one loop: exps in double (_exp_f32), summed in
    double lanes (float32 terms: a plain double sum is exact enough) and, when keep, stored
    rounded to float32 in dst. Without keep the exact 1.0s (the maxima) are counted apart
    (ones_out), so a small rest keeps its relative precision for log1p."""
    cdef double acc[LANES]
    cdef double on[LANES]
    cdef float xt[LANES]
    cdef float dt[LANES]
    cdef double md = m, inv = t.inv, sgn = t.sgn
    cdef float pad = <float>(-t.sgn * INFINITY)   # sgn * pad == -inf: exp 0, no NaN
    cdef Py_ssize_t i, j, nb = K - K % LANES
    for j in range(LANES):
        acc[j] = 0
        on[j] = 0
        xt[j] = x[nb + j] if nb + j < K else pad
    if keep:
        if t.scaled:
            _exp_lanes_f32(x, dst, K, sgn, md, inv, True, True, acc, on, xt, dt)
        else:
            _exp_lanes_f32(x, dst, K, sgn, md, inv, False, True, acc, on, xt, dt)
        for i in range(nb, K):
            dst[i] = dt[i - nb]
    else:
        if t.scaled:
            _exp_lanes_f32(x, dst, K, sgn, md, inv, True, False, acc, on, xt, dt)
        else:
            _exp_lanes_f32(x, dst, K, sgn, md, inv, False, False, acc, on, xt, dt)
    ones_out[0] = _lanes_total(on)
    rest_out[0] = _lanes_total(acc)

cdef void _exp_sum_parts(const floating* x, floating* dst, Py_ssize_t K, floating m, Temp t,
                         bint hard, bint keep, double* ones_out, double* rest_hi,
                         double* rest_lo) noexcept nogil:
    """Sum of exps of a row as (count of exact 1.0s) + (rest_hi + rest_lo), block by
    block; the exps land in dst when keep, else on the stack."""
    cdef floating buf[BLK]
    cdef floating tails[BLK]
    cdef double sh[LANES]
    cdef double sl[LANES]
    cdef double on[LANES]
    cdef floating* d
    cdef double r_hi = 0, r_lo = 0, ones = 0
    cdef Py_ssize_t b0, n, nb, l, L = max(<Py_ssize_t>1, min(<Py_ssize_t>LANES, K))
    if floating is float:
        if not hard:
            _exp_sum_f32(x, dst, K, m, t, keep, ones_out, rest_hi)
            rest_lo[0] = 0
            return
    for l in range(LANES):  # fixed length: vector stores (a variable one becomes rep stos)
        sh[l] = 0
        sl[l] = 0
        on[l] = 0
    for b0 in range(0, K, BLK):
        n = min(<Py_ssize_t>BLK, K - b0)
        d = dst + b0 if keep else &buf[0]
        _exp_map(x + b0, d, tails, n, m, t, hard, 0)
        nb = n - n % L
        _col_sum_rest(d, nb // L, L, L, sh, sl, on)
        _col_sum_rest(d + nb, 1, 0, n - nb, sh, sl, on)
        r_lo += _sum_plain(tails, n)
    _fold(sh, sl, L, &r_hi, &r_lo)
    for l in range(L):
        ones += on[l]
    ones_out[0] = ones
    rest_hi[0] = r_hi
    rest_lo[0] = r_lo

cdef void _exp_sum_row(const floating* x, floating* dst, Py_ssize_t K, floating m, Temp t,
                       bint hard, bint keep, double* s_hi, double* s_lo) noexcept nogil:
    """Sum of exps of a row as a pair (s_hi, s_lo); see _exp_sum_parts."""
    cdef double ones, r_hi, r_lo
    _exp_sum_parts(x, dst, K, m, t, hard, keep, &ones, &r_hi, &r_lo)
    _combine(ones, r_hi, r_lo, s_hi, s_lo)

cdef inline double _log_sum(double s_hi, double s_lo, double* lo) noexcept nogil:
    """log(s_hi + s_lo) = result + lo[0], for a sum of exps (>= 1).

    log1p keeps sum - 1 exact; one Newton step, L + (S - exp(L)) / S, with the
    exp pair (whose tail holds its rounding) recovers the rounding of the log,
    so m + log(S) stays accurate when m and log(S) nearly cancel."""
    cdef double L = log1p((s_hi - 1.0) + s_lo), e, tail
    e = _exp2(L, <double>0.0, &tail)
    lo[0] = ((s_hi - e) + (s_lo - tail)) / s_hi
    return L

# --------------------------------------------------------------------------
# softmax / log_softmax
# --------------------------------------------------------------------------
cdef void _softmax_row(const floating* x, floating* out, Py_ssize_t K, Temp t,
                       bint log_out) noexcept nogil:
    cdef floating sgn = <floating>t.sgn
    cdef floating m = _max_row(x, K, sgn)
    cdef double s_hi, s_lo, lse, lse_lo, inv
    cdef bint hard
    cdef Py_ssize_t i
    if not (m > -INFINITY):                  # a NaN, or all -inf
        _fill(out, K, 1, <floating>NAN)
        return
    hard = t.hard or m == INFINITY
    _exp_sum_row(x, out, K, m, t, hard, not log_out, &s_hi, &s_lo)
    if log_out:
        lse = _log_sum(s_hi, s_lo, &lse_lo)
        if hard:
            for i in range(K):
                out[i] = <floating>(-lse - lse_lo) if sgn * x[i] == m else <floating>(
                    (sgn * x[i] - m) / t.abs_t - lse)   # -inf but for a tiny |T| (_limit_temp)
        else:
            for i in range(K):
                out[i] = _log_elem(sgn * x[i], m, t, lse, lse_lo)
    else:
        inv = 1.0 / (s_hi + s_lo)
        if floating is float:
            _scale_f32(out, K, inv)
        else:
            for i in range(K):
                out[i] = _div_elem(out[i], s_hi, s_lo, inv)

cdef inline floating _col_exp(floating v, floating m, bint hard, Temp t, double* tail) noexcept nogil:
    """exp((v - m)/|T|) with its tail, or the indicator v == m for a hard column."""
    cdef floating lo, h, tl = 0, e, one = 1, zero = 0
    h = _arg(v, m, t, &lo)  # sets lo: keep it out of _exp2's argument list (order unspecified)
    e = _exp2(h, lo, &tl)
    tail[0] = zero if hard else tl
    return (one if v == m else zero) if hard else e

cdef void _col_exps(const floating* row, const floating* m, const unsigned char* hard, Temp t,
                    Py_ssize_t W, floating* dst, double* tl) noexcept nogil:
    """dst[j] + tl[j] = the exps of one row of a column chunk: a loop of its own (one copy
    per case: a test inside it would be if-converted, both sides computed)."""
    cdef Py_ssize_t j
    cdef floating sgn = <floating>t.sgn
    if t.scaled:
        for j in range(W):
            dst[j] = _col_exp(sgn * row[j], m[j], hard[j], t, &tl[j])
    else:
        for j in range(W):
            dst[j] = _col_exp(sgn * row[j], m[j], hard[j], t, &tl[j])

cdef inline void _col_exp_sum_f32_case(const float* x, float* out, Py_ssize_t K,
                                       Py_ssize_t stride, Py_ssize_t W, const float* m,
                                       double sgn, double inv,
                                       bint scaled, bint keep, double* sh,
                                       double* ones) noexcept nogil:
    """_col_exp_sum of float32 columns without a hard one, for one case (scaled, keep:
    constants once inlined): exps in double (_exp_f32)."""
    cdef Py_ssize_t k, j
    cdef const float* row
    cdef float* d
    cdef double e
    for k in range(K):
        row = x + k * stride
        d = out + k * stride if keep else <float*>NULL
        for j in range(W):
            e = _exp_f32(_h_f32(row[j], sgn, m[j], inv, scaled))
            if keep:            # softmax: only the sum's relative precision matters
                d[j] = <float>e
                sh[j] += e      # float32 terms: a plain double sum
            else:               # log: the maxima counted apart (sum - 1 kept for log1p)
                ones[j] += 1.0 if e == 1.0 else 0.0
                sh[j] += 0.0 if e == 1.0 else e

cdef inline void _col_exp_sum(const floating* x, floating* out, Py_ssize_t K, Py_ssize_t stride,
                       Py_ssize_t W, const floating* m, const unsigned char* hard, Temp t,
                       bint keep, double* sh, double* sl) noexcept nogil:
    """Per-column compensated sums of exps; the exps go to out when keep."""
    cdef Py_ssize_t k, j
    cdef floating eb[CW]
    cdef double tl[CW]
    cdef double ones[CW]
    cdef floating* d
    cdef floating e
    cdef bint one, any_hard
    for j in range(W):
        sh[j] = 0
        sl[j] = 0
        ones[j] = 0
    any_hard = False
    for j in range(W):
        any_hard = any_hard or hard[j]
    if floating is float and not any_hard:
        if keep and t.scaled:
            _col_exp_sum_f32_case(x, out, K, stride, W, m, t.sgn, t.inv, True, True, sh, ones)
        elif keep:
            _col_exp_sum_f32_case(x, out, K, stride, W, m, t.sgn, t.inv, False, True, sh, ones)
        elif t.scaled:
            _col_exp_sum_f32_case(x, out, K, stride, W, m, t.sgn, t.inv, True, False, sh, ones)
        else:
            _col_exp_sum_f32_case(x, out, K, stride, W, m, t.sgn, t.inv, False, False, sh, ones)
        for j in range(W):
            _combine(ones[j], sh[j], 0.0, &sh[j], &sl[j])
        return
    for k in range(K):
        d = out + k * stride if keep else &eb[0]
        _col_exps(x + k * stride, m, hard, t, W, d, tl)
        for j in range(W):
            e = d[j]
            one = e == 1          # the maxima are counted apart (see _col_sum_rest)
            ones[j] += 1.0 if one else 0.0
            if floating is float:  # float32 terms: a plain sum in double is exact enough
                sh[j] += 0.0 if one else <double>e
            else:
                _two_sum_into(&sh[j], &sl[j], 0.0 if one else e)
            sl[j] += tl[j]
    for j in range(W):
        _combine(ones[j], sh[j], sl[j], &sh[j], &sl[j])

cdef inline void _col_hard(const floating* m, Py_ssize_t W, bint t_hard, unsigned char* hard) noexcept nogil:
    cdef Py_ssize_t j
    for j in range(W):
        hard[j] = (m[j] == INFINITY) or (t_hard and m[j] > -INFINITY)

cdef void _softmax_cols(const floating* x, floating* out, Py_ssize_t K, Py_ssize_t stride,
                        Py_ssize_t W, Temp t, bint log_out) noexcept nogil:
    cdef float ih[CW]
    cdef float il[CW]
    cdef floating m[CW]
    cdef unsigned char hard[CW]
    cdef double sh[CW]
    cdef double sl[CW]
    cdef double aux[CW]
    cdef double aux_lo[CW]
    cdef Py_ssize_t k, j
    cdef const floating* row
    cdef floating* orow
    cdef floating sgn = <floating>t.sgn, v
    cdef bint any_hard
    _col_max(x, K, stride, W, sgn, m, False)
    _col_hard(m, W, t.hard, hard)
    _col_exp_sum(x, out, K, stride, W, m, hard, t, not log_out, sh, sl)
    if log_out:
        any_hard = False
        for j in range(W):
            aux[j] = _log_sum(sh[j], sl[j], &aux_lo[j])
            any_hard = any_hard or hard[j]
        if not any_hard:   # the common case without the hard test (gcc would compute both sides)
            for k in range(K):
                row = x + k * stride
                orow = out + k * stride
                for j in range(W):
                    orow[j] = _log_elem(sgn * row[j], m[j], t, aux[j], aux_lo[j])
            return
        for k in range(K):
            row = x + k * stride
            orow = out + k * stride
            for j in range(W):
                v = sgn * row[j]
                if hard[j]:
                    orow[j] = <floating>(-aux[j] - aux_lo[j]) if v == m[j] else <floating>(
                        (v - m[j]) / t.abs_t - aux[j])
                else:
                    orow[j] = _log_elem(v, m[j], t, aux[j], aux_lo[j])
    else:
        for j in range(W):
            aux[j] = 1.0 / (sh[j] + sl[j])
        if floating is float and SMX_HAS_FMA:   # as _scale_f32, one pair per column
            for j in range(W):
                ih[j] = <float>(aux[j] * 16777216.0)
                il[j] = <float>(aux[j] * 16777216.0 - <double>ih[j])
            for k in range(K):
                orow = out + k * stride
                for j in range(W):
                    orow[j] = fmaf(orow[j], ih[j], orow[j] * il[j]) * <float>5.9604644775390625e-08
            return
        for k in range(K):
            orow = out + k * stride
            for j in range(W):
                orow[j] = _div_elem(orow[j], sh[j], sl[j], aux[j])

# --------------------------------------------------------------------------
# logsumexp
# --------------------------------------------------------------------------
cdef inline double _lse_value(floating m, double s_hi, double s_lo, Temp t) noexcept nogil:
    """T * logsumexp(x / T) from the shifted sum: sgn * (m + |T| log(sum))."""
    if m != m:
        return NAN
    cdef double L, L_lo, p, p_lo, r, bb
    if m == -INFINITY or m == INFINITY:  # sgn*x all -inf, or some +inf: the limit
        return t.sgn * m
    if floating is float:   # a float32 result needs log's low part only where m and
        L = log1p((s_hi - 1.0) + s_lo)     # |T| log(sum) nearly cancel (then go on below)
        p = t.abs_t * L
        r = m + p
        if fabs(r) >= 1e-6 * p:
            return t.sgn * r
    L = _log_sum(s_hi, s_lo, &L_lo)
    p, p_lo = L, L_lo
    if t.abs_t != 1.0:
        p = t.abs_t * L
        p_lo = _prod_err(t.abs_t, L, p) + t.abs_t * L_lo
    r = m + p                            # m + p with its rounding error (TwoSum)
    bb = r - m
    return t.sgn * (r + (((m - (r - bb)) + (p - bb)) + p_lo))

cdef void _lse_row(const floating* x, floating* res, Py_ssize_t K, Temp t) noexcept nogil:
    cdef floating m = _max_row(x, K, <floating>t.sgn)
    cdef double s_hi = 0, s_lo = 0
    if m > -INFINITY and m < INFINITY:
        _exp_sum_row(x, <floating*>NULL, K, m, t, t.hard, False, &s_hi, &s_lo)
    res[0] = <floating>_lse_value(m, s_hi, s_lo, t)

cdef void _lse_cols(const floating* x, floating* res, Py_ssize_t K, Py_ssize_t stride,
                    Py_ssize_t W, Temp t) noexcept nogil:
    cdef floating m[CW]
    cdef unsigned char hard[CW]
    cdef double sh[CW]
    cdef double sl[CW]
    cdef Py_ssize_t j
    _col_max(x, K, stride, W, <floating>t.sgn, m, False)
    _col_hard(m, W, t.hard, hard)
    _col_exp_sum(x, <floating*>NULL, K, stride, W, m, hard, t, False, sh, sl)
    for j in range(W):
        res[j] = <floating>_lse_value(m[j], sh[j], sl[j], t)

cdef void _lse_b_slice(const floating* x, const floating* b, floating* res, floating* sign,
                       Py_ssize_t K, Py_ssize_t stride, Temp t) noexcept nogil:
    """Weighted logsumexp of one (strided) slice; entries with b == 0 are left out."""
    cdef floating sgn = <floating>t.sgn, v, m = -INFINITY
    cdef double s_hi = 0, s_lo = 0, e, p, total, r
    cdef Py_ssize_t k, used = 0
    cdef bint hard, wild = False
    for k in range(K):
        if b[k * stride] != 0:
            used += 1
            v = sgn * x[k * stride]
            m = v if (v > m) | (v != v) else m
            wild = wild or not (fabs(<double>b[k * stride]) < INFINITY)
    if m != m or (m == -INFINITY and wild):  # a NaN; or an inf/NaN weight times exp(-inf) = 0
        res[0] = NAN
        sign[0] = NAN
        return
    if m == -INFINITY:  # nothing left in (-inf); all the sgn*x left are -inf: the limit
        res[0] = <floating>(t.sgn * m) if used else -INFINITY
        sign[0] = 0
        return
    hard = t.hard or m == INFINITY
    for k in range(K):
        if b[k * stride] != 0:
            v = sgn * x[k * stride]
            if hard:
                e = 1.0 if v == m else 0.0
            else:   # in double: no float32 underflow
                e = _exp_arg[double](<double>v, <double>m, t, 0)
            p = e * b[k * stride]
            if p != p and e == 0 and not hard and v > -INFINITY:
                p = b[k * stride]   # an infinite weight times an exp that underflowed: inf
            _two_sum_into(&s_hi, &s_lo, p)
            s_lo += _prod_err(e, <double>b[k * stride], p)
    s_lo = _lo_ok(s_hi, s_lo)
    total = s_hi + s_lo
    if total == 0:      # the weights cancel: T * log(0)
        res[0] = NAN if m == INFINITY else <floating>(-t.sgn * INFINITY)
        sign[0] = 0
        return
    if total != total:
        res[0] = NAN
        sign[0] = NAN
        return
    sign[0] = 1 if total > 0 else -1
    if m == INFINITY:   # some sgn*x = +inf: T * log(inf)
        res[0] = <floating>(t.sgn * INFINITY)
        return
    if t.hard:          # T == 0: the max (T * log|total| -> 0, even for an infinite total)
        res[0] = <floating>(t.sgn * m)
        return
    if total < 0:
        s_hi = -s_hi
        s_lo = -s_lo
    r = log(s_hi) + s_lo / s_hi
    res[0] = <floating>(t.sgn * (m + t.abs_t * r))

# --------------------------------------------------------------------------
# Jacobian-vector products: softmax_jvp, log_softmax_jvp
# --------------------------------------------------------------------------
cdef inline void _jvp_acc_f32(const float* x, const float* v, float* dst, Py_ssize_t i,
                              Py_ssize_t j, double sgn, double m, double inv, bint keep,
                              double* sh, double* sl, double* dh, double* dl) noexcept nogil:
    """One element of the float32 JVP's exp pass into lane j: e = exp((sgn*x - m)/|T|) in
    double, summed compensated in (sh[j], sl[j]) (mu = dot/sum multiplies the sum's
    relative error by |mu|, and v - mu may cancel: 1 + 1e-67 must stay a pair);
    (dh[j], dl[j]) += e * v compensated (TwoSum, exact product error); dst[i] = e * 2**64
    rounded when keep (scaled, so a subnormal exp keeps its bits)."""
    cdef double e = _exp_f32(_h_f32(x[i], sgn, m, inv, True))
    cdef double vi = v[i], p = e * vi, a = sh[j], t2, bb
    if keep:
        dst[i] = <float>(e * 18446744073709551616.0)
    t2 = a + e
    bb = t2 - a
    sl[j] += (a - (t2 - bb)) + (e - bb)
    sh[j] = t2
    a = dh[j]
    t2 = a + p
    bb = t2 - a
    dl[j] += ((a - (t2 - bb)) + (p - bb)) + _prod_err(e, vi, p)
    dh[j] = t2

cdef inline void _jvp_lanes_f32(const float* x, const float* v, float* dst, Py_ssize_t K,
                                double sgn, double m, double inv, bint keep, double* sh,
                                double* sl, double* dh, double* dl) noexcept nogil:
    """_jvp_acc_f32 over a float32 row, one loop per keep (a constant once inlined). One
    case for every T (times inv = 1 when |T| == 1 is exact): with a flag for that too, the
    four inlined copies outgrew gcc's inlining limits after an unrelated edit (14f60a2)
    and the loop ran out of line and scalar, 4x slower. After edits here, compare
    tools/vector_report.py before and after, and time the JVP."""
    cdef Py_ssize_t i, j, k, nb = K - K % LANES
    for k in range(nb // LANES):
        for j in range(LANES):
            _jvp_acc_f32(x, v, dst, k * LANES + j, j, sgn, m, inv, keep, sh, sl, dh, dl)
    for i in range(nb, K):
        _jvp_acc_f32(x, v, dst, i, i - nb, sgn, m, inv, keep, sh, sl, dh, dl)

cdef void _jvp_row_f32(const float* x, const float* v, float* out, Py_ssize_t K, float m,
                       Temp t, bint log_out) noexcept nogil:
    """The JVP of a float32 row with a finite maximum: one pass for the exps (in double,
    _exp_f32), their sum and their dot with v, then one for the output from the saved exps
    (softmax) or from v alone (log_softmax)."""
    cdef double sh[LANES]
    cdef double sl[LANES]
    cdef double dh[LANES]
    cdef double dl[LANES]
    cdef double sgn = t.sgn, md = m, inv = t.inv, f = t.inv_signed, f_lo = t.inv_signed_lo
    cdef double s_hi, s_lo, r_hi = 0, r_lo = 0, d_hi = 0, d_lo = 0, mu, mu_lo, q
    cdef Py_ssize_t i, j
    for j in range(LANES):
        sh[j] = 0
        sl[j] = 0
        dh[j] = 0
        dl[j] = 0
    if log_out:
        _jvp_lanes_f32(x, v, out, K, sgn, md, inv, False, sh, sl, dh, dl)
    else:
        _jvp_lanes_f32(x, v, out, K, sgn, md, inv, True, sh, sl, dh, dl)
    _fold(sh, sl, LANES, &r_hi, &r_lo)
    s_lo = _lo_ok(r_hi, r_lo)
    s_hi = r_hi
    _fold(dh, dl, LANES, &d_hi, &d_lo)
    q = 1.0 / (s_hi + s_lo)
    mu = _mean_pair(d_hi, d_lo, s_hi, s_lo, q, &mu_lo)
    if log_out:
        for i in range(K):
            out[i] = <float>(((<double>v[i] - mu) - mu_lo) * f)
    else:
        q *= 5.421010862427522e-20   # 2**-64: the saved exps are scaled by 2**64
        for i in range(K):
            out[i] = <float>((<double>out[i] * q) * ((<double>v[i] - mu) - mu_lo) * f)

cdef void _jvp_row(const floating* x, const floating* v, floating* out, Py_ssize_t K, Temp t,
                   bint log_out) noexcept nogil:
    cdef floating sgn = <floating>t.sgn
    cdef floating m = _max_row(x, K, sgn)
    cdef floating buf[BLK]
    cdef floating tails[BLK]
    cdef floating* d
    cdef double s_hi = 0, s_lo = 0, d_hi = 0, d_lo = 0, inv, mu, mu_lo, f = t.inv_signed, f_lo = t.inv_signed_lo
    cdef Py_ssize_t b0, n, i
    cdef bint hard
    if not (m > -INFINITY):
        _fill(out, K, 1, <floating>NAN)
        return
    hard = m == INFINITY
    if floating is float:
        if not hard:
            _jvp_row_f32(x, v, out, K, m, t, log_out)
            return
    for b0 in range(0, K, BLK):
        n = min(<Py_ssize_t>BLK, K - b0)
        d = &buf[0] if log_out else out + b0
        _exp_map(x + b0, d, tails, n, m, t, hard, JVP_SHIFT)
        _sum_row(d, n, &s_hi, &s_lo)
        s_lo += _sum_plain(tails, n)
        _dot_row(d, v + b0, n, &d_hi, &d_lo)
        if floating is float:   # a float32 exp is 2**-24 off without its tail
            _dot_row(tails, v + b0, n, &d_hi, &d_lo)
    inv = 1.0 / (s_hi + s_lo)
    mu = _mean_pair(d_hi, d_lo, s_hi, s_lo, inv, &mu_lo)
    if log_out:
        for i in range(K):
            out[i] = _dlog_elem(v[i], mu, mu_lo, f, f_lo)
    else:
        for i in range(K):
            out[i] = _jvp_elem(out[i], v[i], s_hi, s_lo, inv, mu, mu_lo, f, f_lo)

cdef void _jvp_cols(const floating* x, const floating* v, floating* out, Py_ssize_t K,
                    Py_ssize_t stride, Py_ssize_t W, Temp t, bint log_out) noexcept nogil:
    cdef floating m[CW]
    cdef unsigned char hard[CW]
    cdef double sh[CW]
    cdef double sl[CW]
    cdef double dh[CW]
    cdef double dl[CW]
    cdef double mu[CW]
    cdef double mu_lo[CW]
    cdef double inv[CW]
    cdef Py_ssize_t k, j
    cdef const floating* row
    cdef const floating* vrow
    cdef floating* orow
    cdef floating sgn = <floating>t.sgn, e, one = 1, zero = 0, xv
    cdef double p, a, s, bb, f = t.inv_signed, f_lo = t.inv_signed_lo
    _col_max(x, K, stride, W, sgn, m, False)
    _col_hard(m, W, False, hard)
    for j in range(W):
        sh[j] = 0
        sl[j] = 0
        dh[j] = 0
        dl[j] = 0
    for k in range(K):
        row = x + k * stride
        vrow = v + k * stride
        orow = out + k * stride
        for j in range(W):
            xv = sgn * row[j]
            e = _exp_arg(xv, m[j], t, JVP_SHIFT)
            e = (one if xv == m[j] else zero) if hard[j] else e
            if not log_out:
                orow[j] = e
            _two_sum_into(&sh[j], &sl[j], e)
            p = <double>e * <double>vrow[j]
            _two_sum_into(&dh[j], &dl[j], p)
            if floating is double:
                dl[j] += _prod_err(e, vrow[j], p)
    for j in range(W):
        inv[j] = 1.0 / (sh[j] + sl[j])
        mu[j] = _mean_pair(dh[j], dl[j], sh[j], sl[j], inv[j], &mu_lo[j])
        if not (m[j] > -INFINITY):
            mu[j] = NAN
    for k in range(K):
        vrow = v + k * stride
        orow = out + k * stride
        if log_out:
            for j in range(W):
                orow[j] = _dlog_elem(vrow[j], mu[j], mu_lo[j], f, f_lo)
        else:
            for j in range(W):
                orow[j] = _jvp_elem(orow[j], vrow[j], sh[j], sl[j], inv[j], mu[j], mu_lo[j], f, f_lo)

# --------------------------------------------------------------------------
# Vector-Jacobian products from a saved output: softmax_vjp, log_softmax_vjp
# --------------------------------------------------------------------------
cdef void _vjp_row(const floating* y, const floating* g, floating* out, Py_ssize_t K, Temp t,
                   bint log_out) noexcept nogil:
    cdef double hi = 0, lo = 0, f = t.inv_signed, f_lo = t.inv_signed_lo
    cdef double eb[BLK]
    cdef double tb[BLK]
    cdef Py_ssize_t i, b0, n
    if log_out:
        _sum_row(g, K, &hi, &lo)
        _norm_pair(&hi, &lo)
        for b0 in range(0, K, BLK):
            n = min(<Py_ssize_t>BLK, K - b0)
            _exp_block(y + b0, n, 1, eb, tb)
            for i in range(n):
                out[b0 + i] = _log_vjp_elem(eb[i], tb[i], g[b0 + i], hi, lo, f, f_lo)
    else:
        _dot_row(y, g, K, &hi, &lo)
        _norm_pair(&hi, &lo)
        for i in range(K):
            out[i] = _vjp_elem(y[i], g[i], hi, lo, f, f_lo)

cdef inline void _vjp_acc(floating y, floating g, bint log_out, double* hi,
                          double* lo) noexcept nogil:
    """(hi, lo) += g (log_out: the log-softmax VJP sums g) or y * g, compensated (TwoSum;
    float64 adds the product's exact error): one element of a VJP's reduction, shared by
    the column kernel (lane = column) and the short-row kernel (lane = row)."""
    cdef double p
    if log_out:
        _two_sum_into(hi, lo, g)
    else:
        p = <double>y * <double>g
        _two_sum_into(hi, lo, p)
        if floating is double:
            lo[0] += _prod_err(y, g, p)

cdef void _vjp_cols(const floating* y, const floating* g, floating* out, Py_ssize_t K,
                    Py_ssize_t stride, Py_ssize_t W, Temp t, bint log_out) noexcept nogil:
    cdef double hi[CW]
    cdef double lo[CW]
    cdef double eb[CW]
    cdef double tb[CW]
    cdef Py_ssize_t k, j
    cdef const floating* yrow
    cdef const floating* grow
    cdef floating* orow
    cdef double f = t.inv_signed, f_lo = t.inv_signed_lo
    for j in range(W):
        hi[j] = 0
        lo[j] = 0
    for k in range(K):
        yrow = y + k * stride
        grow = g + k * stride
        for j in range(W):
            _vjp_acc(yrow[j], grow[j], log_out, &hi[j], &lo[j])
    for j in range(W):
        _norm_pair(&hi[j], &lo[j])
    for k in range(K):
        yrow = y + k * stride
        grow = g + k * stride
        orow = out + k * stride
        if log_out:
            _exp_block(yrow, W, 1, eb, tb)
            for j in range(W):
                orow[j] = _log_vjp_elem(eb[j], tb[j], grow[j], hi[j], lo[j], f, f_lo)
        else:
            for j in range(W):
                orow[j] = _vjp_elem(yrow[j], grow[j], hi[j], lo[j], f, f_lo)

# --------------------------------------------------------------------------
# Drivers: split (outer, K, inner) into independent work items, one thread each
# --------------------------------------------------------------------------
cdef inline Py_ssize_t _chunk_width(Py_ssize_t K, Py_ssize_t inner, Py_ssize_t itemsize) noexcept nogil:
    """Columns per chunk: K * W * itemsize within CHUNK_BYTES, W a multiple of 16 (a
    whole number of vectors: a scalar remainder loop on every row costs more than
    the vector body), at most CW, at most inner."""
    cdef Py_ssize_t w = CHUNK_BYTES // (K * itemsize) if K > 0 else CW
    w = max(<Py_ssize_t>16, min(w, <Py_ssize_t>CW))
    w -= w % 16
    return min(w, inner)

ctypedef enum Op:
    OP_SOFTMAX, OP_LOG_SOFTMAX, OP_LSE, OP_JVP, OP_LOG_JVP, OP_VJP, OP_LOG_VJP

cdef void _run_item(Op op, const floating* x, const floating* v, floating* out,
                    Py_ssize_t item, Py_ssize_t nchunks, Py_ssize_t W, Py_ssize_t K,
                    Py_ssize_t inner, Temp t) noexcept nogil:
    """One slice (rows) or one chunk of columns of one outer index."""
    cdef Py_ssize_t o = item // nchunks
    cdef Py_ssize_t j0 = (item % nchunks) * W
    cdef Py_ssize_t w = min(W, inner - j0)
    cdef Py_ssize_t base = o * K * inner + j0
    if inner == 1:
        if op == OP_SOFTMAX or op == OP_LOG_SOFTMAX:
            _softmax_row(x + base, out + base, K, t, op == OP_LOG_SOFTMAX)
        elif op == OP_LSE:
            _lse_row(x + base, out + o, K, t)
        elif op == OP_JVP or op == OP_LOG_JVP:
            _jvp_row(x + base, v + base, out + base, K, t, op == OP_LOG_JVP)
        else:
            _vjp_row(x + base, v + base, out + base, K, t, op == OP_LOG_VJP)
    else:
        if op == OP_SOFTMAX or op == OP_LOG_SOFTMAX:
            _softmax_cols(x + base, out + base, K, inner, w, t, op == OP_LOG_SOFTMAX)
        elif op == OP_LSE:
            _lse_cols(x + base, out + o * inner + j0, K, inner, w, t)
        elif op == OP_JVP or op == OP_LOG_JVP:
            _jvp_cols(x + base, v + base, out + base, K, inner, w, t, op == OP_LOG_JVP)
        else:
            _vjp_cols(x + base, v + base, out + base, K, inner, w, t, op == OP_LOG_VJP)

cdef void _small_block_f32(Op op, const float* xb, float* ob, Py_ssize_t nr, Py_ssize_t K,
                           const float* rm, const float* mm, Temp t, double* sr, double* on,
                           double* aux, double* aux_lo) noexcept nogil:
    """_small_rows for one block of float32 rows without a special one: exps in double
    (_exp_f32), kept unrounded for the softmax division; the row sums plain in double
    (float32 terms), the maxima counted apart where a log follows."""
    cdef double ed[BLK]
    cdef double sgn = t.sgn, inv = t.inv, e
    cdef Py_ssize_t n = nr * K, i, r, k
    if t.scaled:    # one loop per case (a test inside one is if-converted)
        for i in range(n):
            ed[i] = _exp_f32(_h_f32(xb[i], sgn, mm[i], inv, True))
    else:
        for i in range(n):
            ed[i] = _exp_f32(_h_f32(xb[i], sgn, mm[i], inv, False))
    for r in range(nr):
        on[r] = 0
        sr[r] = 0
    if op == OP_SOFTMAX:
        for k in range(K):        # across rows: one lane per row
            for r in range(nr):
                sr[r] += ed[r * K + k]
        for r in range(nr):
            aux[r] = 1.0 / sr[r]
        for r in range(nr):
            for k in range(K):
                ob[r * K + k] = <float>(ed[r * K + k] * aux[r])
        return
    for k in range(K):
        for r in range(nr):
            e = ed[r * K + k]
            on[r] += 1.0 if e == 1.0 else 0.0
            sr[r] += 0.0 if e == 1.0 else e
    if op == OP_LSE:
        for r in range(nr):
            _combine(on[r], sr[r], 0.0, &aux[r], &aux_lo[r])
            ob[r] = <float>_lse_value(rm[r], aux[r], aux_lo[r], t)
        return
    for r in range(nr):   # log_softmax: (x - m)/|T| and -log(sum) have one sign, so
        aux[r] = log1p((on[r] - 1.0) + sr[r])   # log's rounding is far below float32's
    for r in range(nr):
        for k in range(K):
            i = r * K + k
            ob[i] = <float>(_h_f32(xb[i], sgn, rm[r], inv, t.scaled) - aux[r])

cdef void _small_rows(Op op, const floating* x, floating* out, Py_ssize_t rows, Py_ssize_t K,
                      Temp t) noexcept nogil:
    """Many short rows (K <= SMALL_K) a block at a time: one vectorised exp over the
    block's BLK // K whole rows, each element next to its row's maximum, so the
    per-row work is a few scalar steps instead of a full row kernel. A block with
    a special row (NaN, +-inf, T == 0) goes row by row through the general kernels."""
    cdef floating mm[BLK]
    cdef floating e[BLK]
    cdef floating tl[BLK]
    cdef floating rm[BLK]
    cdef double s_hi[BLK]
    cdef double s_lo[BLK]
    cdef double aux[BLK]
    cdef double aux_lo[BLK]
    cdef double on[BLK]
    cdef Py_ssize_t R = BLK // K, blk, r0, nr, n, r, k, i
    cdef const floating* xb
    cdef floating* ob
    cdef floating sgn = <floating>t.sgn, h, lo, v
    cdef double a, ss, bb
    cdef bint special, one
    for blk in range((rows + R - 1) // R):
        r0 = blk * R
        nr = min(R, rows - r0)
        n = nr * K
        xb = x + r0 * K
        ob = out + (r0 if op == OP_LSE else r0 * K)
        special = t.hard
        for r in range(nr):
            rm[r] = -INFINITY
        for k in range(K):        # across rows: one lane per row (strided loads)
            for r in range(nr):
                v = sgn * xb[r * K + k]
                rm[r] = v if (v > rm[r]) | (v != v) else rm[r]
        for r in range(nr):
            special = special or not (rm[r] > -INFINITY) or rm[r] == INFINITY
        if special:
            for r in range(nr):
                if op == OP_LSE:
                    _lse_row(xb + r * K, ob + r, K, t)
                else:
                    _softmax_row(xb + r * K, ob + r * K, K, t, op == OP_LOG_SOFTMAX)
            continue
        for r in range(nr):
            for k in range(K):
                mm[r * K + k] = rm[r]
        if floating is float:
            _small_block_f32(op, xb, ob, nr, K, rm, mm, t, s_hi, on, aux, aux_lo)
            continue
        for i in range(n):
            h = _arg(sgn * xb[i], mm[i], t, &lo)
            e[i] = _exp2(h, lo, &tl[i])
        for r in range(nr):
            on[r] = 0
            s_hi[r] = 0
            s_lo[r] = 0
        for k in range(K):        # the sum of each row, across rows: maxima counted apart,
            for r in range(nr):   # the rest compensated (TwoSum), tails added
                i = r * K + k
                a = e[i]
                one = a == 1.0
                on[r] += 1.0 if one else 0.0
                a = 0.0 if one else a
                ss = s_hi[r] + a
                bb = ss - s_hi[r]
                s_lo[r] += ((s_hi[r] - (ss - bb)) + (a - bb)) + tl[i]
                s_hi[r] = ss
        for r in range(nr):
            _combine(on[r], s_hi[r], s_lo[r], &s_hi[r], &s_lo[r])
        if op == OP_LSE:
            for r in range(nr):
                ob[r] = <floating>_lse_value(rm[r], s_hi[r], s_lo[r], t)
        elif op == OP_LOG_SOFTMAX:
            for r in range(nr):
                aux[r] = _log_sum(s_hi[r], s_lo[r], &aux_lo[r])
            for r in range(nr):
                for k in range(K):
                    i = r * K + k
                    ob[i] = _log_elem(sgn * xb[i], rm[r], t, aux[r], aux_lo[r])
        else:
            for r in range(nr):
                aux[r] = 1.0 / (s_hi[r] + s_lo[r])
            for r in range(nr):
                for k in range(K):
                    i = r * K + k
                    ob[i] = _div_elem(e[i], s_hi[r], s_lo[r], aux[r])

cdef void _small_rows_vjp(Op op, const floating* y, const floating* g, floating* out,
                          Py_ssize_t rows, Py_ssize_t K, Temp t) noexcept nogil:
    """The VJPs of many short rows (K <= SMALL_K) a block at a time, as _small_rows: the
    per-row dot (or sum of g) across rows, compensated as in _vjp_row, then one loop over
    the block; log_softmax's exp(y) in one vectorised loop over the block."""
    cdef double hi[BLK]
    cdef double lo[BLK]
    cdef double eb[BLK]
    cdef double tb[BLK]
    cdef Py_ssize_t R = BLK // K, blk, r0, nr, n, r, k, i
    cdef const floating* yb
    cdef const floating* gb
    cdef floating* ob
    cdef double f = t.inv_signed, f_lo = t.inv_signed_lo
    cdef bint log_out = op == OP_LOG_VJP
    for blk in range((rows + R - 1) // R):
        r0 = blk * R
        nr = min(R, rows - r0)
        n = nr * K
        yb = y + r0 * K
        gb = g + r0 * K
        ob = out + r0 * K
        for r in range(nr):
            hi[r] = 0
            lo[r] = 0
        for k in range(K):         # across rows: one lane per row
            for r in range(nr):
                i = r * K + k
                _vjp_acc(yb[i], gb[i], log_out, &hi[r], &lo[r])
        for r in range(nr):
            _norm_pair(&hi[r], &lo[r])
        if log_out:
            _exp_block(yb, n, 1, eb, tb)
            for r in range(nr):
                for k in range(K):
                    i = r * K + k
                    ob[i] = _log_vjp_elem(eb[i], tb[i], gb[i], hi[r], lo[r], f, f_lo)
        else:
            for r in range(nr):
                for k in range(K):
                    i = r * K + k
                    ob[i] = _vjp_elem(yb[i], gb[i], hi[r], lo[r], f, f_lo)

cdef void _small_rows_jvp_f32(Op op, const float* x, const float* v, float* out,
                              Py_ssize_t rows, Py_ssize_t K, Temp t) noexcept nogil:
    """The JVPs of many short float32 rows (K <= SMALL_K) a block at a time, as
    _small_rows and _jvp_row_f32: exps in double over the block, per-row sums and
    compensated dots with v across rows, then one loop over the block. A block with a
    special row (NaN, +-inf) goes row by row through _jvp_row."""
    cdef float mm[BLK]
    cdef float rm[BLK]
    cdef double ed[BLK]
    cdef double sr[BLK]
    cdef double sl[BLK]
    cdef double dh[BLK]
    cdef double dl[BLK]
    cdef double mu[BLK]
    cdef double mu_lo[BLK]
    cdef double q[BLK]
    cdef Py_ssize_t R = BLK // K, blk, r0, nr, n, r, k, i
    cdef const float* xb
    cdef const float* vb
    cdef float* ob
    cdef float sgn = <float>t.sgn, w
    cdef double e, p, vi, inv = t.inv, f = t.inv_signed, f_lo = t.inv_signed_lo
    cdef bint special, log_out = op == OP_LOG_JVP
    for blk in range((rows + R - 1) // R):
        r0 = blk * R
        nr = min(R, rows - r0)
        n = nr * K
        xb = x + r0 * K
        vb = v + r0 * K
        ob = out + r0 * K
        special = False
        for r in range(nr):
            rm[r] = -INFINITY
        for k in range(K):
            for r in range(nr):
                w = sgn * xb[r * K + k]
                rm[r] = w if (w > rm[r]) | (w != w) else rm[r]
        for r in range(nr):
            special = special or not (rm[r] > -INFINITY) or rm[r] == INFINITY
        if special:
            for r in range(nr):
                _jvp_row(xb + r * K, vb + r * K, ob + r * K, K, t, log_out)
            continue
        for r in range(nr):
            for k in range(K):
                mm[r * K + k] = rm[r]
        if t.scaled:   # one loop per case
            for i in range(n):
                ed[i] = _exp_f32(_h_f32(xb[i], t.sgn, mm[i], inv, True))
        else:
            for i in range(n):
                ed[i] = _exp_f32(_h_f32(xb[i], t.sgn, mm[i], inv, False))
        for r in range(nr):
            sr[r] = 0
            sl[r] = 0
            dh[r] = 0
            dl[r] = 0
        for k in range(K):         # across rows: one lane per row; sums as _jvp_acc_f32
            for r in range(nr):
                i = r * K + k
                e = ed[i]
                vi = vb[i]
                _two_sum_into(&sr[r], &sl[r], e)
                p = e * vi
                _two_sum_into(&dh[r], &dl[r], p)
                dl[r] += _prod_err(e, vi, p)
        for r in range(nr):
            q[r] = 1.0 / (sr[r] + sl[r])
            mu[r] = _mean_pair(dh[r], dl[r], sr[r], sl[r], q[r], &mu_lo[r])
        if log_out:
            for r in range(nr):
                for k in range(K):
                    i = r * K + k
                    ob[i] = <float>(((<double>vb[i] - mu[r]) - mu_lo[r]) * f)
        else:
            for r in range(nr):
                for k in range(K):
                    i = r * K + k
                    ob[i] = <float>((ed[i] * q[r]) * ((<double>vb[i] - mu[r]) - mu_lo[r]) * f)

cdef void _small_deriv(Op op, const floating* x, const floating* v, floating* out,
                       Py_ssize_t rows, Py_ssize_t K, Temp t) noexcept nogil:
    if op == OP_VJP or op == OP_LOG_VJP:
        _small_rows_vjp(op, x, v, out, rows, K, t)
    elif floating is float:
        _small_rows_jvp_f32(op, x, v, out, rows, K, t)

cdef void _row_split(Op op, const floating* x, floating* out, Py_ssize_t K, Temp t,
                     int P) noexcept nogil:
    """One long row on P threads: the max, the sum of exps and the output each run over P
    parts (2 reads and 1 write of memory in all, as on one thread); the partial sums
    combine exactly (counts of maxima + compensated rests). Special rows (NaN, +-inf,
    T == 0) go to the one-thread kernel."""
    cdef floating mp[64]
    cdef double on[64]
    cdef double rh[64]
    cdef double rl[64]
    cdef Py_ssize_t p, i, off, n, chunk = (K + P - 1) // P
    cdef floating m = -INFINITY, sgn = <floating>t.sgn
    cdef double ones = 0, r_hi = 0, r_lo = 0, s_hi, s_lo, lse = 0, lse_lo = 0, inv = 0
    cdef bint log_out = op == OP_LOG_SOFTMAX, keep = op == OP_SOFTMAX
    chunk = (chunk + 63) // 64 * 64   # part boundaries on whole cache lines (P * chunk >= K)
    for p in prange(P, num_threads=P, schedule="static"):
        off = p * chunk
        n = min(chunk, K - off)
        mp[p] = _max_row(x + off, n, sgn) if n > 0 else -INFINITY
    for p in range(P):
        m = mp[p] if (mp[p] > m) | (mp[p] != mp[p]) else m
    if not (m > -INFINITY) or m == INFINITY or t.hard:
        if op == OP_LSE:
            _lse_row(x, out, K, t)
        else:
            _softmax_row(x, out, K, t, log_out)
        return
    for p in prange(P, num_threads=P, schedule="static"):
        off = p * chunk
        n = min(chunk, K - off)
        on[p] = 0
        rh[p] = 0
        rl[p] = 0
        if n > 0:
            _exp_sum_parts(x + off, out + off if keep else <floating*>NULL, n, m, t, False, keep,
                           &on[p], &rh[p], &rl[p])
    for p in range(P):
        ones += on[p]
        _two_sum_into(&r_hi, &r_lo, rh[p])
        r_lo += rl[p]
    _combine(ones, r_hi, r_lo, &s_hi, &s_lo)
    if op == OP_LSE:
        out[0] = <floating>_lse_value(m, s_hi, s_lo, t)
        return
    if log_out:
        lse = _log_sum(s_hi, s_lo, &lse_lo)
    else:
        inv = 1.0 / (s_hi + s_lo)
    for p in prange(P, num_threads=P, schedule="static"):
        off = p * chunk
        n = min(chunk, K - off)
        if log_out:
            for i in range(off, off + n):
                out[i] = _log_elem(sgn * x[i], m, t, lse, lse_lo)
        elif floating is float:
            _scale_f32(out + off, n, inv)
        else:
            for i in range(off, off + n):
                out[i] = _div_elem(out[i], s_hi, s_lo, inv)

cdef void _run(Op op, const floating* x, const floating* v, floating* out, Py_ssize_t outer,
               Py_ssize_t K, Py_ssize_t inner, Temp t, int nthreads) noexcept nogil:
    cdef Py_ssize_t W = 1, nchunks = 1, item, nitems
    if inner > 1:
        W = _chunk_width(K, inner, sizeof(floating))
        nchunks = (inner + W - 1) // W
    nitems = outer * nchunks
    if (nthreads > 1 and inner == 1 and outer < nthreads and K >= SPLIT_MIN
            and (op == OP_SOFTMAX or op == OP_LOG_SOFTMAX or op == OP_LSE)):
        for item in range(outer):   # few long rows: split each one instead
            _row_split(op, x + item * K, out + (item if op == OP_LSE else item * K), K, t,
                       min(nthreads, 64))
        return
    if inner == 1 and K <= SMALL_K and (op == OP_VJP or op == OP_LOG_VJP or (
            floating is float and (op == OP_JVP or op == OP_LOG_JVP))):
        nitems = (outer + SMALL_ROWS - 1) // SMALL_ROWS   # blocks of rows, as below
        if nthreads > 1 and nitems > 1:
            for item in prange(nitems, num_threads=nthreads, schedule="static"):
                _small_deriv(op, x + item * SMALL_ROWS * K, v + item * SMALL_ROWS * K,
                             out + item * SMALL_ROWS * K,
                             min(<Py_ssize_t>SMALL_ROWS, outer - item * SMALL_ROWS), K, t)
        else:
            for item in range(nitems):
                _small_deriv(op, x + item * SMALL_ROWS * K, v + item * SMALL_ROWS * K,
                             out + item * SMALL_ROWS * K,
                             min(<Py_ssize_t>SMALL_ROWS, outer - item * SMALL_ROWS), K, t)
        return
    if inner == 1 and K <= SMALL_K and (op == OP_SOFTMAX or op == OP_LOG_SOFTMAX or op == OP_LSE):
        nitems = (outer + SMALL_ROWS - 1) // SMALL_ROWS   # blocks of rows, one thread each
        if nthreads > 1 and nitems > 1:
            for item in prange(nitems, num_threads=nthreads, schedule="static"):
                _small_rows(op, x + item * SMALL_ROWS * K,
                            out + item * SMALL_ROWS * (1 if op == OP_LSE else K),
                            min(<Py_ssize_t>SMALL_ROWS, outer - item * SMALL_ROWS), K, t)
        else:   # no parallel region at all: entering one costs more than a small call
            for item in range(nitems):
                _small_rows(op, x + item * SMALL_ROWS * K,
                            out + item * SMALL_ROWS * (1 if op == OP_LSE else K),
                            min(<Py_ssize_t>SMALL_ROWS, outer - item * SMALL_ROWS), K, t)
        return
    if nthreads > 1 and nitems > 1:
        for item in prange(nitems, num_threads=nthreads, schedule="static"):
            _run_item(op, x, v, out, item, nchunks, W, K, inner, t)
    else:
        for item in range(nitems):
            _run_item(op, x, v, out, item, nchunks, W, K, inner, t)

cdef void _run_lse_b(const floating* x, const floating* b, floating* res, floating* sign,
                     Py_ssize_t outer, Py_ssize_t K, Py_ssize_t inner, Temp t,
                     int nthreads) noexcept nogil:
    cdef Py_ssize_t item, o, j, nitems = outer * inner
    if nthreads > 1 and nitems > 1:
        for item in prange(nitems, num_threads=nthreads, schedule="static"):
            o = item // inner
            j = item % inner
            _lse_b_slice(x + o * K * inner + j, b + o * K * inner + j, res + item, sign + item,
                         K, inner, t)
    else:
        for item in range(nitems):
            o = item // inner
            j = item % inner
            _lse_b_slice(x + o * K * inner + j, b + o * K * inner + j, res + item, sign + item,
                         K, inner, t)

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
    cdef Py_ssize_t shape[4], j
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


cdef void _exp_array(const floating* x, floating* out, floating* tail, Py_ssize_t n) noexcept nogil:
    cdef Py_ssize_t i
    for i in range(n):
        out[i] = _exp2(x[i], <floating>0, &tail[i])


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

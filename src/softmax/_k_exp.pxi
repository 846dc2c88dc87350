# The exponentials: _exp2k (float32 and float64, with the tail of its rounding) and
# _exp_f32 (float32 data, evaluated in double); their arguments (v - m)/|T| as pairs; the
# block loops around them. No libm, no SVML. Part of the per-ISA kernel source.

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
    cdef floating r2, r, err, err2
    r2 = _two_sum(r1, p, &err)
    r = _two_sum(r2, lo, &err2)
    err += err2
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
    cdef floating h, l, p
    if floating is float:
        if t.scaled:
            dd = (<double>v - <double>m) * t.inv  # exact enough in double
            h = <float>dd
            l = <float>(dd - <double>h)
        else:
            h = v - m                             # exactly h + l, in float lanes
            l = _two_sum_err(v, -m, h)
        lo[0] = l if fabsf(h) < <float>1e30 else 0  # -inf (and NaN) carry no pair
        return h
    else:
        h = v - m                                  # h + l == v - m exactly
        l = _two_sum_err(v, -m, h)
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

cdef inline double _h_f32(float v, double sgn, double m, double inv, bint scaled) noexcept nogil:
    """(sgn*v - m)/|T| in double for float32 data (sgn*v - m exact or nearly: one rounding)."""
    cdef double h = _madd(<double>v, sgn, -m)
    return h * inv if scaled else h

cdef void _exp_map(const floating* x, floating* dst, floating* tail, Py_ssize_t n, floating m,
                   Temp t, bint hard, int k, char_r ws) noexcept nogil:
    """dst + tail = exp((sgn*x - m)/|T|), or the indicator sgn*x == m in the hard limit.
    Scratch: WS_EXP_MAP."""
    cdef Py_ssize_t i, b0, nb
    cdef floating sgn = <floating>t.sgn, one = 1, zero = 0, lo, h
    cdef floating* hs = <floating*>_ws(&ws, ARG_BLK * sizeof(floating))
    cdef floating* ls = <floating*>_ws(&ws, ARG_BLK * sizeof(floating))
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

cdef void _exp_block(const floating* y, Py_ssize_t n, Py_ssize_t stride, double_r e,
                     double_r tail) noexcept nogil:
    """e[i] + tail[i] = exp(y[i * stride]) in double, a loop of its own so that it vectorises
    (inside a bigger loop body gcc stops inlining the exp). float32 y (the log-softmax VJP
    uses e only) all <= 0, as log-probabilities are: the cheaper _exp_f32 (1e-10)."""
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

cdef void _exp_array(const floating* x, floating* out, floating* tail, Py_ssize_t n) noexcept nogil:
    cdef Py_ssize_t i
    for i in range(n):
        out[i] = _exp2(x[i], <floating>0, &tail[i])

# For measuring the exps (softmax._core.exp and exp_f32, through the table):
cdef void _exp_array_f32(const float* x, float* out, float* tail, Py_ssize_t n) noexcept nogil:
    _exp_array[float](x, out, tail, n)

cdef void _exp_array_f64(const double* x, double* out, double* tail,
                         Py_ssize_t n) noexcept nogil:
    _exp_array[double](x, out, tail, n)

cdef void _exp_f32_array(const double* h, double* out, Py_ssize_t n) noexcept nogil:
    cdef Py_ssize_t i
    for i in range(n):
        out[i] = _exp_f32(h[i])

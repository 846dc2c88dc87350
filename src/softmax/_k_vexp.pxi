# The vector exps of the kernels, written once against the primitives of _simd.pxd. Part of the
# per-ISA kernel source (included by _kernels.pyx); the scalar exps of the general kernels are
# in _k_exp.pxi.
from libc.math cimport ceilf

cdef extern from *:
    """
    static const float V32_LOG2E = 1.44269504088896341f;
    static const float V32_SHIFT64 = 12582976.0f;  /* 1.5 * 2**23 + 64: (t << 23) holds (n + 64) << 23 */
    static const float V32_LN2HI = 0.693145751953125f;
    static const float V32_LN2LO = 1.428606765330187045e-06f;
    static const float V32_TWOM64 = 5.421010862427522e-20f;
    static const double V64_SHIFT = 6755399441055744.0;  /* 1.5 * 2**52 */
    static const float V32_SHIFT = 12582912.0f;  /* 1.5 * 2**23: (t << 23) holds n << 23 */

    /* The least float above y (y not NaN, not +inf): its bits plus or minus one. */
    static inline float smx__next_up_f32(float y)
    {
        uint32_t b;
        if (y == 0.0f) return 1.40129846e-45f;
        memcpy(&b, &y, 4);
        b = y > 0.0f ? b + 1u : b - 1u;
        memcpy(&y, &b, 4);
        return y;
    }
    /* ulp(a) for a normal float a >= 2**-100 (then a power of two >= 2**-123, normal). */
    static inline float smx__ulp_f32(float a)
    {
        uint32_t b;
        memcpy(&b, &a, 4);
        b = (b & 0x7f800000u) - (23u << 23);
        memcpy(&a, &b, 4);
        return a;
    }
    /* 1/g for a power of two g whose inverse is normal (2**-126 < g < 2**127): exact. */
    static inline float smx__recip_pow2_f32(float g)
    {
        uint32_t b;
        memcpy(&b, &g, 4);
        b = (254u << 23) - b;
        memcpy(&g, &b, 4);
        return g;
    }
    """
    const float V32_LOG2E
    const float V32_SHIFT64
    const float V32_LN2HI
    const float V32_LN2LO
    const float V32_TWOM64
    const double V64_SHIFT
    const float V32_SHIFT
    float smx__next_up_f32(float y) noexcept nogil
    float smx__ulp_f32(float a) noexcept nogil
    float smx__recip_pow2_f32(float g) noexcept nogil

# The compile-time cases of the vector kernels: the sign of T (T < 0 reduces sgn * x = -x)
# and whether |T| != 1 ("scaled"), as a fused type of four empty markers. Cython writes one
# copy of a function per case, in which `neg` and `scaled` are C constants: no test of them
# is left in a loop, whatever gcc decides to inline. _tcase(t) picks the case of a call.
ctypedef struct Pos1:
    char _
ctypedef struct PosT:
    char _
ctypedef struct Neg1:
    char _
ctypedef struct NegT:
    char _
ctypedef fused TCase:
    Pos1
    PosT
    Neg1
    NegT

# Whether a loop's double-lane exps clamp their arguments at EXPF_LO (the same kind of
# marker: a copy of the loop for each, whatever gcc inlines).
ctypedef struct Clamped:
    char _
ctypedef struct Unclamped:
    char _
ctypedef fused ClampCase:
    Clamped
    Unclamped

cdef inline int _tcase(Temp t) noexcept nogil:
    """0: Pos1, 1: PosT, 2: Neg1, 3: NegT."""
    return (2 if t.sgn < 0 else 0) + (1 if t.scaled else 0)

ctypedef struct Row32:      # the per-row constants of the float32 vector kernels
    float m          # max of y = sgn * x
    float ylo        # y below this is exp 0 in float32: (ylo - m) / |T| <= -104
    float inv_hi     # 1/|T| as a float32 pair
    float inv_lo

cdef inline float _ylo32(float m, double abs_t) noexcept nogil:
    """The least float32 y with (y - m) / |T| >= -104: below it exp is 0 in float32 (exp(-104)
    is under half the least subnormal), at and above it _vexp32m's n stays in range."""
    cdef double lim = <double>m - 104.0 * abs_t
    cdef float y = <float>lim
    return smx__next_up_f32(y) if <double>y < lim else y

cdef inline Row32 _row32(float m, Temp t) noexcept nogil:
    cdef Row32 c
    cdef double inv = t.inv + t.inv_lo
    c.m = m
    c.ylo = _ylo32(m, t.abs_t)
    c.inv_hi = <float>inv
    c.inv_lo = <float>(inv - <double>c.inv_hi)
    return c

cdef inline bint _row32_ok(Row32 c) noexcept nogil:
    """The vector kernels can take the row: some y < m is at or above ylo (else the row is
    its arg-max limit: |T| below about ulp(m) / 104) and 1/|T| is finite in float32."""
    return c.ylo < c.m and c.inv_hi < INFINITY

cdef inline smx_vf64 _vexp_low(smx_vf64 h) noexcept nogil:
    """exp(h) for h <= 0 in double lanes, to 1.1e-10 relative (the Chebyshev fit QE6..QE1 of
    _exp_f32): the exp of float32 data where a sum must be good to far below float32's
    precision, and of every float32 kernel on ISAs without FMA. Below -700 it gives
    exp(-700) (1e-304: nothing next to the 1 of a row's maximum)."""
    return _vexp_core64(smx_max_f64(h, smx_setall_f64(EXPF_LO)), V64_SHIFT)

cdef inline smx_vf64 _vexp_core64(smx_vf64 c, double shift) noexcept nogil:
    """_vexp_low's exp of c in [EXPF_LO, 0] (no clamp), times 2**k: k = 0 with shift
    V64_SHIFT, 64 with V64_SHIFT64. Callers that know every argument at or above EXPF_LO
    (a row's (max - min)/|T| <= EXPD_SPAN) skip the clamp: the same bits."""
    cdef smx_vf64 t = smx_muladd_f64(c, smx_setall_f64(LOG2E_D), smx_setall_f64(shift))
    cdef smx_vf64 n = smx_sub_f64(t, smx_setall_f64(shift))
    cdef smx_vf64 r = smx_nmuladd_f64(n, smx_setall_f64(LN2_D), c)
    cdef smx_vf64 q = smx_muladd_f64(smx_setall_f64(QE6), r, smx_setall_f64(QE5))
    q = smx_muladd_f64(q, r, smx_setall_f64(QE4))
    q = smx_muladd_f64(q, r, smx_setall_f64(QE3))
    q = smx_muladd_f64(q, r, smx_setall_f64(QE2))
    q = smx_muladd_f64(q, r, smx_setall_f64(QE1))
    q = smx_muladd_f64(smx_muladd_f64(q, r, smx_setall_f64(1.0)), r, smx_setall_f64(1.0))
    return smx_as_f64_i64(smx_add_i64(smx_as_i64_f64(q), smx_shli_i64(smx_as_i64_f64(t), 52)))

cdef inline smx_vf32 _reduced32(smx_vf32 d, smx_vf32 lo, smx_vf32 n) noexcept nogil:
    """The reduced argument r = (d + lo) - n ln2 of the float32 vector exps (FMA; |d| <= 104,
    lo the argument's tiny low part) with one rounding that counts: d - n LN2HI is exact
    (Cody-Waite: n LN2HI has at most 23 bits, the difference is a multiple of min(ulp(d),
    2**-16) below 0.36), lo - n LN2LO is below 2.2e-4 (its rounding below 2**-36), and their
    sum is rounded once. r - n LN2LO and then + lo, rounded twice, erred by up to 2**-25 and
    took float32 softmax outputs to 2.03 ulp (benchmarks/README.md)."""
    return smx_add_f32(smx_nmuladd_f32(n, smx_setall_f32(V32_LN2HI), d),
                       smx_nmuladd_f32(n, smx_setall_f32(V32_LN2LO), lo))

cdef inline smx_vf32 _vexp32m(smx_vf32 y, smx_vf32 vm, smx_vf32 vylo, float inv_hi, float inv_lo,
                              bint scaled, bint clamp) noexcept nogil:
    """exp((y - m) / |T|) for y <= m (m and ylo per lane: a row's splatted, or one per
    column; y may be -inf), rounded to float32.

    y - m is carried exactly (TwoSum; times 1/|T| as a float32 pair) and its low part added
    to the reduced argument r = (y - m)/|T| - n ln2, so the exp sees the exact difference;
    exp(r) is a degree-6 polynomial (QF4..QF0, 0.09 ulp); 2**n goes into the exponent bits
    as 2**(n + 64), then times 2**-64, so that a result below the smallest normal rounds
    once. Lanes below ylo (exp 0: -inf, a tail's padding) are computed as y = m and then
    zeroed, so nothing underflows there (an underflow costs a microcode assist). ylo must make
    (y - m)/|T| >= -104 on the other lanes (_ylo32), or else clamp (a constant) clamps it there.
    Without FMA (SSE2, scalar) the polynomial's unfused roundings would cost ~0.4 ulp:
    there the exp runs in double lanes (_vexp_low; the difference exact in double)."""
    cdef smx_mf32 gone = smx_cmplt_f32(y, vylo)
    cdef smx_vf32 nm, d, lo, h, ih, t, n, r, p
    cdef smx_vf64 lo64, hi64, inv
    y = smx_select_f32(gone, vm, y)
    if not SMX_HAS_FMA:
        lo64 = smx_sub_f64(smx_cvt_lo_f32_f64(y), smx_cvt_lo_f32_f64(vm))
        hi64 = smx_sub_f64(smx_cvt_hi_f32_f64(y), smx_cvt_hi_f32_f64(vm))
        if scaled:
            inv = smx_setall_f64(<double>inv_hi + <double>inv_lo)
            lo64 = smx_mul_f64(lo64, inv)
            hi64 = smx_mul_f64(hi64, inv)
        p = smx_cvt_f64x2_f32(_vexp_low(lo64), _vexp_low(hi64))
        return smx_select_f32(gone, smx_zero_f32(), p)
    nm = smx_neg_f32(vm)
    d = smx_add_f32(y, nm)
    lo = _two_sum_lo32(y, nm, d)
    if scaled:
        ih = smx_setall_f32(inv_hi)
        h = smx_mul_f32(d, ih)
        lo = smx_add_f32(_two_prod_lo32(d, ih, h),
                         smx_muladd_f32(lo, ih, smx_mul_f32(d, smx_setall_f32(inv_lo))))
        d = h
    if clamp:
        d = smx_max_f32(d, smx_setall_f32(-104.0))
    t = smx_muladd_f32(d, smx_setall_f32(V32_LOG2E), smx_setall_f32(V32_SHIFT64))
    n = smx_sub_f32(t, smx_setall_f32(V32_SHIFT64))
    r = _reduced32(d, lo, n)
    p = smx_muladd_f32(smx_setall_f32(QF4), r, smx_setall_f32(QF3))
    p = smx_muladd_f32(p, r, smx_setall_f32(QF2))
    p = smx_muladd_f32(p, r, smx_setall_f32(QF1))
    p = smx_muladd_f32(p, r, smx_setall_f32(QF0))
    p = smx_muladd_f32(p, r, smx_setall_f32(1.0))
    p = smx_muladd_f32(p, r, smx_setall_f32(1.0))
    if SMX_HAS_SCALEF:         # p 2**n rounded once: the same bits, one instruction for three
        p = smx_scale2_f32(p, n)
    else:
        p = smx_mul_f32(smx_as_f32_i32(smx_add_i32(smx_as_i32_f32(p),
                                                   smx_shli_i32(smx_as_i32_f32(t), 23))),
                        smx_setall_f32(V32_TWOM64))
    return smx_select_f32(gone, smx_zero_f32(), p)

cdef inline smx_vf32 _vexp32(smx_vf32 y, smx_vf32 nm, Row32 c, bint scaled) noexcept nogil:
    """_vexp32m of a row (its m and ylo splatted; nm = -m, kept for the callers' loops)."""
    return _vexp32m(y, smx_setall_f32(c.m), smx_setall_f32(c.ylo), c.inv_hi, c.inv_lo, scaled, False)

# ---------------------------------------------------------------- the fast path of float32 rows
ctypedef struct Fast32:     # the per-row constants of a row on the fast path
    float mt         # the max rounded up to a multiple of G = ulp(max |y|): every y - mt by Fast2Sum
    float inv_hi     # 1/|T| as a float32 pair
    float inv_lo
    double span      # (mt - min y) / |T| <= FAST_SPAN: every exp normal, 2**n into the exponent
    bint f2s         # mt a multiple of ulp(max |y|): y - mt exact by Fast2Sum (else TwoSum)

DEF FAST_SPAN = 86.5        # exp(-86.5) > 2**-125: n >= -125 and p * 2**n normal

cdef inline float _grid32(float m, float mn) noexcept nogil:
    """G = ulp(max |y|) of a row of finite y (max m, min mn): every y is a multiple of it;
    0 when max |y| is below 2**-100 (the fast path's limit) or not finite."""
    cdef float a = m if m > -mn else -mn
    if not (a >= 7.888609052210118e-31 and a < INFINITY):    # 2**-100
        return 0.0
    return smx__ulp_f32(a)

cdef inline float _grid_up32(float m, float g) noexcept nogil:
    """m rounded up to a multiple of g = _grid32(...) != 0: ceil(m / g) * g, the quotient as
    m * (1/g) (1/g exact: the same rounding as the division, without its latency)."""
    return ceilf(m * smx__recip_pow2_f32(g)) * g

cdef inline bint _fast32(float m, float mn, Temp t, Fast32* c) noexcept nogil:
    """The fast path's constants of a row of finite y (max m, min mn): False when it cannot
    take the row (no FMA; (max - min)/|T| above FAST_SPAN; max |y| below 2**-100).

    mt = m rounded up to a multiple of G = ulp(max |y|) (G >= ulp(y) for every y of the row):
    with a = -mt a multiple of ulp(y), Fast2Sum(a, y) is exact: d = y - mt, lo = y - (d + mt)
    gives d + lo == y - mt (checked exhaustively in reduced precision and on 2e8 random float32
    cases), 3 operations where TwoSum takes 6. Every y <= mt, so every exp <= 1 (the anchored
    sums hold); mt - m < G is a relative 2**-23 of max |y|."""
    cdef float g = _grid32(m, mn)
    cdef double inv = t.inv + t.inv_lo
    if not SMX_HAS_FMA or t.hard or g == 0.0:
        return False
    c.mt = _grid_up32(m, g)
    c.f2s = True
    c.span = (<double>c.mt - <double>mn) * inv
    c.inv_hi = <float>inv
    c.inv_lo = <float>(inv - <double>c.inv_hi)
    return c.span <= FAST_SPAN and c.inv_hi < INFINITY

cdef inline smx_vf32 _vexp32f(smx_vf32 y, smx_vf32 nmt, float inv_hi, float inv_lo,
                              bint scaled) noexcept nogil:
    """exp((y - mt)/|T|) rounded to float32, for a row on the fast path (_fast32; nmt = -mt):
    _vexp32m's algorithm without its guards. y - mt exact by Fast2Sum (no TwoSum), every
    argument in [-FAST_SPAN, 0] (no -inf lanes to blend away, no clamp), 2**n with n >= -125
    straight into the exponent bits (every result normal: no times 2**-64). FMA only."""
    cdef smx_vf32 d = smx_add_f32(y, nmt)
    return _vexp32d(d, _fast2sum_lo32(y, nmt, d), inv_hi, inv_lo, scaled)

cdef inline smx_vf32 _vexp32d(smx_vf32 d, smx_vf32 lo, float inv_hi, float inv_lo,
                              bint scaled) noexcept nogil:
    """_vexp32f from the exact difference d + lo = y - mt (d rounded)."""
    cdef smx_vf32 h, ih, t, n, r, p
    if scaled:
        ih = smx_setall_f32(inv_hi)
        h = smx_mul_f32(d, ih)
        lo = smx_add_f32(_two_prod_lo32(d, ih, h),
                         smx_muladd_f32(lo, ih, smx_mul_f32(d, smx_setall_f32(inv_lo))))
        d = h
    t = smx_muladd_f32(d, smx_setall_f32(V32_LOG2E), smx_setall_f32(V32_SHIFT))
    n = smx_sub_f32(t, smx_setall_f32(V32_SHIFT))
    r = _reduced32(d, lo, n)
    p = smx_muladd_f32(smx_setall_f32(QF4), r, smx_setall_f32(QF3))
    p = smx_muladd_f32(p, r, smx_setall_f32(QF2))
    p = smx_muladd_f32(p, r, smx_setall_f32(QF1))
    p = smx_muladd_f32(p, r, smx_setall_f32(QF0))
    p = smx_muladd_f32(p, r, smx_setall_f32(1.0))
    p = smx_muladd_f32(p, r, smx_setall_f32(1.0))
    if SMX_HAS_SCALEF:
        return smx_scale2_f32(p, n)
    return smx_as_f32_i32(smx_add_i32(smx_as_i32_f32(p), smx_shli_i32(smx_as_i32_f32(t), 23)))

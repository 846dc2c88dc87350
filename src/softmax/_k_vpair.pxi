# Error-free transformations on vectors (the vector side of _k_pair.pxi). Part of the per-ISA
# kernel source (included by _kernels.pyx).

cdef inline smx_vf32 _two_sum_lo32(smx_vf32 a, smx_vf32 b, smx_vf32 s) noexcept nogil:
    """a + b - s exactly, for s = fl(a + b) (Knuth's TwoSum)."""
    cdef smx_vf32 bb = smx_sub_f32(s, a)
    return smx_add_f32(smx_sub_f32(a, smx_sub_f32(s, bb)), smx_sub_f32(b, bb))

cdef inline smx_vf32 _two_prod_lo32(smx_vf32 a, smx_vf32 b, smx_vf32 p) noexcept nogil:
    """a * b - p exactly, for p = fl(a * b): one FMA, else Dekker's split product."""
    cdef smx_vf32 c, ah, al, bh, bl, k
    if SMX_HAS_FMA:
        return smx_mulsub_f32(a, b, p)
    k = smx_setall_f32(4097.0)
    c = smx_mul_f32(k, a)
    ah = smx_sub_f32(c, smx_sub_f32(c, a))
    al = smx_sub_f32(a, ah)
    c = smx_mul_f32(k, b)
    bh = smx_sub_f32(c, smx_sub_f32(c, b))
    bl = smx_sub_f32(b, bh)
    return smx_add_f32(smx_add_f32(smx_add_f32(smx_sub_f32(smx_mul_f32(ah, bh), p),
                                               smx_mul_f32(ah, bl)), smx_mul_f32(al, bh)),
                       smx_mul_f32(al, bl))

cdef inline void _fast_acc32(smx_vf32* s, smx_vf32* c, smx_vf32 e) noexcept nogil:
    """(s, c) += e, compensated (Fast2Sum: needs |s| >= |e|, so the callers start s at 1 and
    add exps <= 1); c collects the exact rounding errors."""
    cdef smx_vf32 t = smx_add_f32(s[0], e)
    c[0] = smx_add_f32(c[0], smx_sub_f32(e, smx_sub_f32(t, s[0])))
    s[0] = t

cdef inline double _anchored_total32(smx_vf32 s0, smx_vf32 s1, smx_vf32 c, int nanchored) noexcept nogil:
    """The total of _fast_acc32 accumulators s0, s1 (each lane started at 1; nanchored of
    them in all) and their compensation c: each s - 1 is exact in double."""
    cdef smx_vf64 a = smx_add_f64(smx_add_f64(smx_cvt_lo_f32_f64(s0), smx_cvt_hi_f32_f64(s0)),
                                  smx_add_f64(smx_cvt_lo_f32_f64(s1), smx_cvt_hi_f32_f64(s1)))
    return ((smx_reduce_add_f64(a) - <double>nanchored)
            + smx_reduce_add_f64(smx_add_f64(smx_cvt_lo_f32_f64(c), smx_cvt_hi_f32_f64(c))))

cdef inline double _sum64_of32(smx_vf32 v) noexcept nogil:
    """The lanes of v summed in double."""
    return smx_reduce_add_f64(smx_add_f64(smx_cvt_lo_f32_f64(v), smx_cvt_hi_f32_f64(v)))

cdef inline smx_vf64 _two_sum_lo64(smx_vf64 a, smx_vf64 b, smx_vf64 s) noexcept nogil:
    """a + b - s exactly, for s = fl(a + b) (TwoSum)."""
    cdef smx_vf64 bb = smx_sub_f64(s, a)
    return smx_add_f64(smx_sub_f64(a, smx_sub_f64(s, bb)), smx_sub_f64(b, bb))

cdef inline smx_vf64 _fast_two_sum_lo64(smx_vf64 a, smx_vf64 b, smx_vf64 s) noexcept nogil:
    """a + b - s exactly, for s = fl(a + b) and |a| >= |b| (Fast2Sum)."""
    return smx_sub_f64(b, smx_sub_f64(s, a))

cdef inline smx_vf64 _sub_m64(smx_vf64 a, smx_vf64 b) noexcept nogil:
    """a - b as a - 1 * b: the same rounding, issued to the multiply pipe (the add pipe is
    the busier one in these loops)."""
    return smx_nmuladd_f64(smx_setall_f64(1.0), b, a)

cdef inline smx_vf64 _two_sum_lo64m(smx_vf64 a, smx_vf64 b, smx_vf64 s) noexcept nogil:
    """_two_sum_lo64 with two of its subtractions on the multiply pipe (_sub_m64)."""
    cdef smx_vf64 bb = _sub_m64(s, a)
    return smx_add_f64(smx_sub_f64(a, smx_sub_f64(s, bb)), _sub_m64(b, bb))

cdef inline smx_vf64 _fast_two_sum_lo64m(smx_vf64 a, smx_vf64 b, smx_vf64 s) noexcept nogil:
    """_fast_two_sum_lo64 with s - a on the multiply pipe (_sub_m64)."""
    return smx_sub_f64(b, _sub_m64(s, a))

cdef inline smx_vf64 _two_prod_lo64(smx_vf64 a, smx_vf64 b, smx_vf64 p) noexcept nogil:
    """a * b - p exactly, for p = fl(a * b) (FMA; Dekker's split without it)."""
    cdef smx_vf64 c, ah, al, bh, bl, k
    if SMX_HAS_FMA:
        return smx_mulsub_f64(a, b, p)
    k = smx_setall_f64(V64_SPLIT)
    c = smx_mul_f64(k, a)
    ah = smx_sub_f64(c, smx_sub_f64(c, a))
    al = smx_sub_f64(a, ah)
    c = smx_mul_f64(k, b)
    bh = smx_sub_f64(c, smx_sub_f64(c, b))
    bl = smx_sub_f64(b, bh)
    return smx_add_f64(smx_add_f64(smx_add_f64(smx_sub_f64(smx_mul_f64(ah, bh), p),
                                               smx_mul_f64(ah, bl)), smx_mul_f64(al, bh)),
                       smx_mul_f64(al, bl))

cdef inline smx_vf64 _resid64(smx_vf64 q, smx_vf64 s, smx_vf64 e) noexcept nogil:
    """e - q*s rounded once, for q*s close to e (a division's residual): one FMA, else
    Dekker's exact product, whose difference from e is then exact (Sterbenz)."""
    cdef smx_vf64 p
    if SMX_HAS_FMA:
        return smx_nmuladd_f64(q, s, e)
    p = smx_mul_f64(q, s)
    return smx_sub_f64(smx_sub_f64(e, p), _two_prod_lo64(q, s, p))

cdef inline smx_vf64 _pair_times64(smx_vf64 d, smx_vf64 lo, smx_vf64 iv, smx_vf64 il,
                                   smx_vf64* res_lo) noexcept nogil:
    """(d + lo) * (iv + il) as hi (returned) + res_lo[0], for a pair d + lo and the pair
    1/|T| (_arg's double-double product)."""
    cdef smx_vf64 h = smx_mul_f64(d, iv)
    res_lo[0] = smx_add_f64(_two_prod_lo64(d, iv, h), smx_muladd_f64(lo, iv, smx_mul_f64(d, il)))
    return h

cdef inline void _fast_acc64(smx_vf64* s, smx_vf64* c, smx_vf64 e) noexcept nogil:
    """(s, c) += e, compensated; needs |s| >= |e| (Fast2Sum): the caller starts s at 2**64
    and adds exps times 2**64, all <= 2**64."""
    cdef smx_vf64 t = smx_add_f64(s[0], e)
    c[0] = smx_add_f64(c[0], _fast_two_sum_lo64m(s[0], e, t))
    s[0] = t

cdef inline void _two_acc64(smx_vf64* s, smx_vf64* c, smx_vf64 e) noexcept nogil:
    """(s, c) += e, compensated (TwoSum: any magnitudes)."""
    cdef smx_vf64 t = smx_add_f64(s[0], e)
    c[0] = smx_add_f64(c[0], _two_sum_lo64m(s[0], e, t))
    s[0] = t

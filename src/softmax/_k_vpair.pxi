# Error-free transformations on vectors (the vector side of _k_pair.pxi). Part of the per-ISA
# kernel source (included by _kernels.pyx).

cdef inline smx_vf32 _sub_m32(smx_vf32 a, smx_vf32 b) noexcept nogil:
    """a - b, as a - 1 * b where FMA exists: the same rounding, issued to the multiply pipe,
    for loops whose add pipe is the busier (the compensated sums). The fast exp's own
    Fast2Sum subtracts on the add pipe: its loops keep the multiply pipe the busier (on a
    Zen 4 core 14 multiply-pipe and 10 add-pipe operations a vector in the fused softmax
    pass; benchmarks/README.md)."""
    if SMX_HAS_FMA:
        return smx_nmuladd_f32(smx_setall_f32(1.0), b, a)
    return smx_sub_f32(a, b)

cdef inline smx_vf32 _two_sum_lo32(smx_vf32 a, smx_vf32 b, smx_vf32 s) noexcept nogil:
    """a + b - s exactly, for s = fl(a + b) (Knuth's TwoSum; two of its subtractions on the
    multiply pipe, _sub_m32)."""
    cdef smx_vf32 bb = _sub_m32(s, a)
    return smx_add_f32(smx_sub_f32(a, smx_sub_f32(s, bb)), _sub_m32(b, bb))

cdef inline smx_vf32 _fast2sum_lo32(smx_vf32 a, smx_vf32 b, smx_vf32 s) noexcept nogil:
    """a + b - s for s = fl(a + b), exact where Fast2Sum is (the fast path: b = -mt a multiple
    of ulp(a), _fast32); both subtractions on the add pipe."""
    return smx_sub_f32(a, smx_sub_f32(s, b))

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
    c[0] = smx_add_f32(c[0], smx_sub_f32(e, _sub_m32(t, s[0])))
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

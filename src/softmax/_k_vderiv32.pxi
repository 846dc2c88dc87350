# float32 Jacobian products on vectors: softmax_jvp, log_softmax_jvp (from x and v),
# softmax_vjp, log_softmax_vjp (from the saved y and g); rows (the JVP's: _k_vjvp32.pxi),
# columns and short rows. Part of the per-ISA kernel source (included by _kernels.pyx).
#
# Numerics (those of the general float32 kernels in _k_derivatives.pxi): the exps of the JVP and
# of the log-softmax VJP run in double lanes (_vexp_z64: x - m exact in double, the exp good to
# 1e-10), summed in double, so the sums are good to far below float32's precision; the softmax
# JVP saves its exps for the output pass, which is evaluated in double and rounded once: rows
# of up to JVP_SC_MAX_K elements keep e and p = e (v - c) in double scratch (the output
# (p - mu e) / sum(e), no conversion on the way), longer rows and the columns keep e rounded
# to float32 in out (times 2**64: a subnormal exp keeps its bits). Sums of float32 terms (exact
# products in double) run plainly in double: K * 2**-53 is far below 2**-24.
# The JVP's mean mu = sum(s v) is carried relative to an anchor c, the v of an element at the
# row's max (its exp exactly 1): mu - c = sum(e (v - c)) / sum(e), in which that element adds
# exactly 0, so v - mu = (v - c) - (mu - c) keeps its relative precision where it cancels (the
# max of a confident row, s ~ 1): the output is accurate componentwise, not only on the scale
# of its terms.
# A special slice (NaN, +-inf in x or a log-softmax y, y > 0, all -inf, T == 0, 1/|T| not
# finite) goes to the general kernel, untouched. Every function with a loop is specialised on
# the case of T (TCase).

cdef extern from *:
    """
    static const double V64_SHIFT64 = 6755399441055808.0;  /* 1.5 * 2**52 + 64: 2**(n + 64) */
    """
    const double V64_SHIFT64

cdef inline smx_vf64 _vexp_z64(smx_vf64 h, double shift) noexcept nogil:
    """exp(h) * 2**k for h <= 0 in double lanes (_vexp_low's polynomial, 1.1e-10 relative),
    k = 64 with shift V64_SHIFT64, 0 with V64_SHIFT; exactly 0 below -700 (exp(-inf) times an
    infinite v must stay NaN, as in the general kernels). h must not be NaN."""
    return _vexp_zc64(h, shift, True)

cdef inline smx_vf64 _vexp_zc64(smx_vf64 h, double shift, bint clamp) noexcept nogil:
    """_vexp_z64; without clamp for h known to be at or above EXPF_LO (the same bits)."""
    cdef smx_vf64 q = _vexp_core64(smx_max_f64(h, smx_setall_f64(EXPF_LO)) if clamp else h,
                                   shift)
    if not clamp:
        return q
    return smx_select_f64(smx_cmplt_f64(h, smx_setall_f64(EXPF_LO)), smx_zero_f64(), q)

cdef inline smx_vf64 _lo64(smx_vf32 a) noexcept nogil:
    return smx_cvt_lo_f32_f64(a)

cdef inline smx_vf64 _hi64(smx_vf32 a) noexcept nogil:
    return smx_cvt_hi_f32_f64(a)

cdef inline smx_vf32 _times_f32(smx_vf64 a, smx_vf64 b, smx_vf64 f, bint neg,
                                bint scaled) noexcept nogil:
    """The double halves a, b times the chain-rule factor f = 1/T (skipped for T == 1,
    a negation for T == -1), rounded once to float32."""
    if scaled:
        a = smx_mul_f64(a, f)
        b = smx_mul_f64(b, f)
    elif neg:
        a = smx_neg_f64(a)
        b = smx_neg_f64(b)
    return smx_cvt_f64x2_f32(a, b)

# ---------------------------------------------------------------- VJP rows
# The softmax VJP on ISAs with FMA: y (g - c) in float32 lanes from the float32 pair of c,
# g - c as a pair (TwoSum) and the product rounded once; sum(y g) in double lanes (the
# products exact, FMA) for rows up to VJP_FUSE_MAX_K (the fused loop: its four conversions
# a vector cost less than a compensated float32 dot's ten operations, -3 ... -11% at K = 96
# to 256), longer rows in float32 lanes as a compensated dot (TwoSum, the products' exact
# errors: _dot_acc32; there the conversions cost more, float <-> double two a vector on
# Zen 4). Without FMA, and for the log-softmax VJP (exp(y) in double), in double lanes. The
# loops load y and g with smx_load_keep_f32: each is used two or three times, and gcc
# otherwise loads it again for each use (9 loads a vector instead of 4 in the fused pass).

cdef inline void _dot_acc32(smx_vf32* s, smx_vf32* c, smx_vf32 a, smx_vf32 b) noexcept nogil:
    """(s, c) += a * b, compensated: TwoSum, and the product's exact error into c."""
    cdef smx_vf32 p = smx_mul_f32(a, b)
    cdef smx_vf32 t = smx_add_f32(s[0], p)
    c[0] = smx_add_f32(c[0], smx_add_f32(_two_sum_lo32(s[0], p, t), _two_prod_lo32(a, b, p)))
    s[0] = t

cdef inline smx_vf32 _vjp_elem32(smx_vf32 y, smx_vf32 g, smx_vf32 c1, smx_vf32 c2, smx_vf32 f1,
                                 smx_vf32 f2, bint neg, bint scaled, bint* low) noexcept nogil:
    """y (g - c) f with c = c1 + c2 and f = f1 + f2 (1/T) float32 pairs: g - c as a pair
    a + al (TwoSum), y (a + al) and its product with f rounded once (FMA; the low parts'
    roundings are far below). low[0] = True when a nonzero y (g - c) or result is below
    2**-100: the low parts are then subnormal, too coarse (the caller redoes it in double)."""
    cdef smx_vf32 a = smx_sub_f32(g, c1)
    cdef smx_vf32 al = smx_sub_f32(_two_sum_lo32(g, smx_neg_f32(c1), a), c2)
    cdef smx_vf32 p = smx_mul_f32(y, a), pl, r, lim = smx_setall_f32(7.888609052210118e-31)
    cdef smx_vf32 z = smx_zero_f32()
    if not scaled:
        r = smx_muladd_f32(y, a, smx_mul_f32(y, al))
        r = smx_neg_f32(r) if neg else r
    else:
        pl = smx_muladd_f32(y, al, _two_prod_lo32(y, a, p))
        r = smx_muladd_f32(p, f1, smx_muladd_f32(p, f2, smx_mul_f32(pl, f1)))
        p = smx_min_f32(smx_abs_f32(p), smx_abs_f32(r))
    low[0] = smx_any_mf32(smx_and_mf32(smx_cmplt_f32(smx_abs_f32(p), lim), smx_cmpneq_f32(r, z)))
    return r

cdef inline bint _vjp_c_ok32(double c) noexcept nogil:
    """A softmax VJP's c = sum(y g) that the float32 output passes can take: finite as the
    float32 pair c1 + c2 (_vjp_pairs32). A sum in double lanes may pass FLT_MAX with every
    product finite; c1 would then be inf and the output NaN (the general kernel's then)."""
    return fabsf(<float>c) < INFINITY

cdef bint _vjp_sum32(const float* y, const float* g, Py_ssize_t K, bint log_out, TCase k,
                     double* res) noexcept nogil:
    """res[0] = sum(y g) (softmax: float32 lanes compensated with FMA past VJP_FUSE_MAX_K,
    else double lanes) or sum(g) (log_softmax); False when that is not finite (an inf or NaN
    in y or g; softmax: not finite in float32, _vjp_c_ok32) or a log-softmax y is above 0 or
    NaN (the general kernel)."""
    cdef smx_vf64 z = smx_zero_f64(), s0 = z, s1 = z, s2 = z, s3 = z
    cdef smx_vf32 a, b, a2, b2, zf = smx_zero_f32(), t0 = zf, t1 = zf, u0 = zf, u1 = zf
    cdef smx_mf32 bad = smx_cmpneq_f32(zf, zf)
    cdef bint lanes32 = SMX_HAS_FMA and K > VJP_FUSE_MAX_K
    cdef Py_ssize_t i = 0
    while i + 2 * SMX_NF32 <= K:
        a = smx_load_keep_f32(y + i)
        b = smx_load_keep_f32(g + i)
        a2 = smx_load_keep_f32(y + i + SMX_NF32)
        b2 = smx_load_keep_f32(g + i + SMX_NF32)
        if log_out:
            bad = smx_or_mf32(bad, smx_not_mf32(smx_cmple_f32(a, zf)))
            bad = smx_or_mf32(bad, smx_not_mf32(smx_cmple_f32(a2, zf)))
            s0 = smx_add_f64(s0, _lo64(b))
            s1 = smx_add_f64(s1, _hi64(b))
            s2 = smx_add_f64(s2, _lo64(b2))
            s3 = smx_add_f64(s3, _hi64(b2))
        elif lanes32:
            _dot_acc32(&t0, &u0, a, b)
            _dot_acc32(&t1, &u1, a2, b2)
        else:
            s0 = smx_muladd_f64(_lo64(a), _lo64(b), s0)
            s1 = smx_muladd_f64(_hi64(a), _hi64(b), s1)
            s2 = smx_muladd_f64(_lo64(a2), _lo64(b2), s2)
            s3 = smx_muladd_f64(_hi64(a2), _hi64(b2), s3)
        i += 2 * SMX_NF32
    while i < K:
        a = smx_load_till_f32(y + i, K - i, 0.0)
        b = smx_load_till_f32(g + i, K - i, 0.0)
        if log_out:
            bad = smx_or_mf32(bad, smx_not_mf32(smx_cmple_f32(a, zf)))
            s0 = smx_add_f64(s0, _lo64(b))
            s1 = smx_add_f64(s1, _hi64(b))
        elif lanes32:
            _dot_acc32(&t0, &u0, a, b)
        else:
            s0 = smx_muladd_f64(_lo64(a), _lo64(b), s0)
            s1 = smx_muladd_f64(_hi64(a), _hi64(b), s1)
        i += SMX_NF32
    res[0] = smx_reduce_add_f64(smx_add_f64(smx_add_f64(s0, s1), smx_add_f64(s2, s3)))
    if lanes32 and not log_out:    # the float32 lanes' total in double: s exactly, then c
        res[0] = (_sum64_of32(t0) + _sum64_of32(t1)) + _sum64_of32(smx_add_f32(u0, u1))
    if smx_any_mf32(bad):
        return False
    return fabs(res[0]) < INFINITY if log_out else _vjp_c_ok32(res[0])

cdef inline smx_vf32 _vjp_unit32(smx_vf32 y, smx_vf32 g, smx_vf32 c1, smx_vf32 nc1,
                                 smx_vf32 c2) noexcept nogil:
    """y (g - c) for T = 1, c = c1 + c2 (nc1 = -c1): g - c as a pair a + al (TwoSum), then
    fma(y, a, y al). Within 0.5 ulp (and 2**-47 relative) of y (g - c) but where y al falls
    below the least normal: its rounding, at most 2**-150, adds up to 1 ulp to results in
    [2**-126, 2**-102] and stays under 2**-149 absolute below them. So no lane needs the
    double-lane redo that _vjp_elem32 flags."""
    cdef smx_vf32 a = smx_sub_f32(g, c1)
    cdef smx_vf32 al = smx_sub_f32(_two_sum_lo32(g, nc1, a), c2)
    return smx_muladd_f32(y, a, smx_mul_f32(y, al))

cdef inline void _vjp_pairs32(double cs, Temp t, smx_vf32* c1, smx_vf32* nc1, smx_vf32* c2,
                              smx_vf32* f1, smx_vf32* f2) noexcept nogil:
    """The float32 pairs of an output pass: c = cs as c1 + c2 (nc1 = -c1), 1/T (signed) as
    f1 + f2."""
    cdef float h = <float>cs, fh = <float>t.inv_signed
    c1[0] = smx_setall_f32(h)
    nc1[0] = smx_setall_f32(-h)
    c2[0] = smx_setall_f32(<float>(cs - <double>h))
    f1[0] = smx_setall_f32(fh)
    f2[0] = smx_setall_f32(<float>((t.inv_signed - <double>fh) + t.inv_signed_lo))

cdef inline smx_vf32 _vjp_val32(smx_vf32 y, smx_vf32 g, smx_vf32 c1, smx_vf32 nc1, smx_vf32 c2,
                                smx_vf32 f1, smx_vf32 f2, smx_vf64 vc, smx_vf64 vf, bint neg,
                                bint scaled) noexcept nogil:
    """The softmax VJP of one vector, y (g - c) / T (FMA): T = +-1 _vjp_unit32; else
    _vjp_elem32, and a vector it flags redone in double lanes (vc = c, vf = 1/T)."""
    cdef smx_vf32 r
    cdef bint low
    if not scaled:
        r = _vjp_unit32(y, g, c1, nc1, c2)
        return smx_neg_f32(r) if neg else r
    r = _vjp_elem32(y, g, c1, c2, f1, f2, neg, True, &low)
    if not low:
        return r
    return _times_f32(smx_mul_f64(_lo64(y), smx_sub_f64(_lo64(g), vc)),
                      smx_mul_f64(_hi64(y), smx_sub_f64(_hi64(g), vc)), vf, neg, True)

cdef void _vjp_out_pass32(const float* y, const float* g, float* out, Py_ssize_t K, double cs,
                          Temp t, TCase k) noexcept nogil:
    """The softmax VJP's output pass (FMA only): out = y (g - c) / T (_vjp_val32), c = cs."""
    cdef bint neg = t.sgn < 0         # (at run time: one copy for T = +-1)
    cdef bint scaled = TCase is PosT or TCase is NegT
    cdef smx_vf32 c1, nc1, c2, f1, f2, r0, r1
    cdef smx_vf64 vc = smx_setall_f64(cs), vf = smx_setall_f64(t.inv_signed)
    cdef Py_ssize_t i = 0
    _vjp_pairs32(cs, t, &c1, &nc1, &c2, &f1, &f2)
    while i + 2 * SMX_NF32 <= K:
        r0 = _vjp_val32(smx_load_keep_f32(y + i), smx_load_keep_f32(g + i), c1, nc1, c2, f1,
                        f2, vc, vf, neg, scaled)
        r1 = _vjp_val32(smx_load_keep_f32(y + i + SMX_NF32), smx_load_keep_f32(g + i + SMX_NF32),
                        c1, nc1, c2, f1, f2, vc, vf, neg, scaled)
        smx_store_f32(out + i, r0)
        smx_store_f32(out + i + SMX_NF32, r1)
        i += 2 * SMX_NF32
    while i < K:
        r0 = _vjp_val32(smx_load_till_f32(y + i, K - i, 0.0), smx_load_till_f32(g + i, K - i, 0.0),
                        c1, nc1, c2, f1, f2, vc, vf, neg, scaled)
        smx_store_till_f32(out + i, K - i, r0)
        i += SMX_NF32

cdef double _vjp_out_dot32(const float* y, const float* g, float* out, Py_ssize_t K, double cs,
                           Temp t, const float* ny, const float* ng, TCase k) noexcept nogil:
    """_vjp_out_pass32 of one row (y, g -> out, c = cs) with a later row's sum(y g) (ny, ng)
    on the way, returned: the accumulation of _vjp_sum32 (double lanes, K <=
    VJP_FUSE_MAX_K), the same bits. (One body for both, the dot behind a constant flag, was
    measured with the earlier float32-lane dot: 4-10% faster on rows of 96 and 256, 12-15%
    slower on rows of 200; two loops kept.)"""
    cdef bint neg = t.sgn < 0         # (at run time: one copy for T = +-1)
    cdef bint scaled = TCase is PosT or TCase is NegT
    cdef smx_vf32 c1, nc1, c2, f1, f2, r0, r1
    cdef smx_vf64 z = smx_zero_f64(), s0 = z, s1 = z, s2 = z, s3 = z
    cdef smx_vf32 a, b, a2, b2
    cdef smx_vf64 vc = smx_setall_f64(cs), vf = smx_setall_f64(t.inv_signed)
    cdef Py_ssize_t i = 0
    _vjp_pairs32(cs, t, &c1, &nc1, &c2, &f1, &f2)
    while i + 2 * SMX_NF32 <= K:
        r0 = _vjp_val32(smx_load_keep_f32(y + i), smx_load_keep_f32(g + i), c1, nc1, c2, f1,
                        f2, vc, vf, neg, scaled)
        r1 = _vjp_val32(smx_load_keep_f32(y + i + SMX_NF32), smx_load_keep_f32(g + i + SMX_NF32),
                        c1, nc1, c2, f1, f2, vc, vf, neg, scaled)
        smx_store_f32(out + i, r0)
        smx_store_f32(out + i + SMX_NF32, r1)
        a = smx_load_keep_f32(ny + i)
        b = smx_load_keep_f32(ng + i)
        a2 = smx_load_keep_f32(ny + i + SMX_NF32)
        b2 = smx_load_keep_f32(ng + i + SMX_NF32)
        s0 = smx_muladd_f64(_lo64(a), _lo64(b), s0)
        s1 = smx_muladd_f64(_hi64(a), _hi64(b), s1)
        s2 = smx_muladd_f64(_lo64(a2), _lo64(b2), s2)
        s3 = smx_muladd_f64(_hi64(a2), _hi64(b2), s3)
        i += 2 * SMX_NF32
    while i < K:
        r0 = _vjp_val32(smx_load_till_f32(y + i, K - i, 0.0), smx_load_till_f32(g + i, K - i, 0.0),
                        c1, nc1, c2, f1, f2, vc, vf, neg, scaled)
        smx_store_till_f32(out + i, K - i, r0)
        a = smx_load_till_f32(ny + i, K - i, 0.0)
        b = smx_load_till_f32(ng + i, K - i, 0.0)
        s0 = smx_muladd_f64(_lo64(a), _lo64(b), s0)
        s1 = smx_muladd_f64(_hi64(a), _hi64(b), s1)
        i += SMX_NF32
    return smx_reduce_add_f64(smx_add_f64(smx_add_f64(s0, s1), smx_add_f64(s2, s3)))

cdef void _vvjp_rows32_case(const float* y, const float* g, float* out, Py_ssize_t R,
                            Py_ssize_t K, Temp t, TCase k, char_r ws) noexcept nogil:
    """_vvjp_rows32 of one case of T (FMA; |T| in (1e-30, 1e30))."""
    cdef Pos1 p1
    cdef double cur = 0, nxt = 0, far = 0       # the dots of rows r, r + 1, r + 2
    cdef bint ok, ok_n, ok_f
    cdef Py_ssize_t r, nr
    if K > VJP_FUSE_MAX_K:
        for r in range(R):
            if _vjp_sum32(y + r * K, g + r * K, K, False, p1, &cur):
                _vjp_out_pass32(y + r * K, g + r * K, out + r * K, K, cur, t, k)
            else:
                _vjp_row(y + r * K, g + r * K, out + r * K, K, t, False, ws)
        return
    ok = _vjp_sum32(y, g, K, False, p1, &cur)
    ok_n = R > 1 and _vjp_sum32(y + K, g + K, K, False, p1, &nxt)
    for r in range(R):
        nr = r + 2 if r + 2 < R else r       # the row whose dot this row's pass takes
        if ok:
            far = _vjp_out_dot32(y + r * K, g + r * K, out + r * K, K, cur, t, y + nr * K,
                                 g + nr * K, k)
            ok_f = _vjp_c_ok32(far)
        else:
            _vjp_row(y + r * K, g + r * K, out + r * K, K, t, False, ws)
            ok_f = _vjp_sum32(y + nr * K, g + nr * K, K, False, p1, &far)
        cur, ok = nxt, ok_n
        nxt, ok_n = far, ok_f

cdef void _vvjp_rows32(const float* y, const float* g, float* out, Py_ssize_t R, Py_ssize_t K,
                       Temp t, char_r ws) noexcept nogil:
    """R rows (SMX_NF32 < K) of the softmax VJP. With FMA (and |T| in (1e-30, 1e30), where
    1/T is a normal float32 pair far from overflow): for K <= VJP_FUSE_MAX_K each row's output
    pass takes the sum(y g) of the row two on (_vjp_out_dot32), so a row costs one loop, not
    two, and the horizontal sums that finish a dot run beside the next row's pass; longer
    rows take their sum and output passes (the second from L1), with no software prefetch
    of the next row (on Zen 4 it cost up to 70%: benchmarks/README.md). Otherwise row by
    row (_vderiv_row32). A special row (a sum that is not finite) goes to the general
    kernel. Scratch: WS_ROW."""
    cdef Pos1 p1
    cdef PosT pt
    cdef Py_ssize_t r
    if not SMX_HAS_FMA or not (1e-30 < t.abs_t < 1e30):
        for r in range(R):
            if _vderiv_row32(OP_VJP, y + r * K, g + r * K, out + r * K, K, t) != 0:
                _vjp_row(y + r * K, g + r * K, out + r * K, K, t, False, ws)
    elif t.scaled:              # (the sign of T read at run time: two copies, not four)
        _vvjp_rows32_case(y, g, out, R, K, t, pt, ws)
    else:
        _vvjp_rows32_case(y, g, out, R, K, t, p1, ws)

cdef void _vjp_out32(const float* y, const float* g, float* out, Py_ssize_t K, double cs,
                     Temp t, bint log_out, TCase k) noexcept nogil:
    """softmax: out = y (g - c) f (FMA: _vjp_out_pass32; without it in double); log_softmax:
    out = (g - exp(y) c) f in double; each rounded once (c = cs)."""
    cdef bint neg = TCase is Neg1 or TCase is NegT
    cdef bint scaled = TCase is PosT or TCase is NegT
    cdef Pos1 p1
    cdef PosT pt
    if SMX_HAS_FMA and not log_out:     # (the two copies _vvjp_rows32 takes)
        if scaled:
            _vjp_out_pass32(y, g, out, K, cs, t, pt)
        else:
            _vjp_out_pass32(y, g, out, K, cs, t, p1)
        return
    cdef smx_vf64 vc = smx_setall_f64(cs), vf = smx_setall_f64(t.inv_signed), a0, a1
    cdef smx_vf32 a, b
    cdef Py_ssize_t i = 0, n
    while i < K:
        n = K - i
        if n >= SMX_NF32:
            a = smx_load_f32(y + i)
            b = smx_load_f32(g + i)
        else:
            a = smx_load_till_f32(y + i, n, 0.0)
            b = smx_load_till_f32(g + i, n, 0.0)
        if log_out:
            a0 = smx_nmuladd_f64(_vexp_z64(_lo64(a), V64_SHIFT), vc, _lo64(b))
            a1 = smx_nmuladd_f64(_vexp_z64(_hi64(a), V64_SHIFT), vc, _hi64(b))
        else:
            a0 = smx_mul_f64(_lo64(a), smx_sub_f64(_lo64(b), vc))
            a1 = smx_mul_f64(_hi64(a), smx_sub_f64(_hi64(b), vc))
        _st_till32(out + i, n, _times_f32(a0, a1, vf, neg, scaled))
        i += SMX_NF32

cdef int _vvjp_row32_case(const float* y, const float* g, float* out, Py_ssize_t K, Temp t,
                          bint log_out, TCase k) noexcept nogil:
    cdef double res[1]
    if not (1e-30 < t.abs_t < 1e30):   # 1/T as a float32 pair: normal, far from overflow
        return 1
    if not _vjp_sum32(y, g, K, log_out, k, res):
        return 1
    _vjp_out32(y, g, out, K, res[0], t, log_out, k)
    return 0

cdef int _vderiv_row32(Op op, const float* x, const float* v, float* out, Py_ssize_t K,
                       Temp t) noexcept nogil:
    """One float32 row of a VJP (op OP_VJP or OP_LOG_VJP; the JVPs' rows: _vjvp_rows32): 0
    when done, 1 for a special row (untouched: the general kernel's)."""
    cdef Pos1 p1
    cdef PosT pt
    cdef Neg1 n1
    cdef NegT nt
    cdef int case = _tcase(t)
    cdef bint log_out = op == OP_LOG_VJP
    if op != OP_VJP and op != OP_LOG_VJP:
        return 1               # (not reached: the general kernel's, should a JVP come here)
    if case == 0:
        return _vvjp_row32_case(x, v, out, K, t, log_out, p1)
    if case == 1:
        return _vvjp_row32_case(x, v, out, K, t, log_out, pt)
    if case == 2:
        return _vvjp_row32_case(x, v, out, K, t, log_out, n1)
    return _vvjp_row32_case(x, v, out, K, t, log_out, nt)

# ---------------------------------------------------------------- short rows
cdef void _vshort_deriv32_case(Op op, const float* x, const float* v, float* out,
                               Py_ssize_t R, Py_ssize_t K, Temp t, TCase k,
                               char_r ws) noexcept nogil:
    """Rows of K <= SMX_NF32 elements, one vector each (x, v: y, g for the VJPs). A special
    row goes to the general kernel."""
    cdef bint neg = TCase is Neg1 or TCase is NegT
    cdef bint scaled = TCase is PosT or TCase is NegT
    cdef bint log_out = op == OP_LOG_JVP or op == OP_LOG_VJP
    cdef bint jvp = op == OP_JVP or op == OP_LOG_JVP
    cdef smx_vf32 zf = smx_zero_f32(), y, w
    cdef smx_vf64 iv = smx_setall_f64(t.inv + t.inv_lo), vf = smx_setall_f64(t.inv_signed)
    cdef smx_vf64 h0, h1, a0, a1, md, cd
    cdef float m, c
    cdef double S, q, mu
    cdef bint tok = (not t.hard) and t.inv + t.inv_lo < INFINITY
    cdef Py_ssize_t r
    for r in range(R):
        w = smx_load_till_f32(v + r * K, K, 0.0)
        if jvp:
            # the padding finite (not flagged) and never above the max, then -inf: exp 0 (a
            # row of -FLT_MAX, or |T| near FLT_MAX, would give a finite padding an exp)
            y = _ld_till32(x + r * K, K, -3.4028234663852886e38, neg)
            m = smx_reduce_max_f32(y)
            if not tok or smx_any_mf32(smx_cmpneq_f32(smx_mul_f32(y, zf), zf)):   # NaN, +-inf
                _jvp_row(x + r * K, v + r * K, out + r * K, K, t, log_out, ws)
                continue
            y = smx_select_f32(smx_till_f32(K), y, smx_setall_f32(-INFINITY))
            c = smx_reduce_max_f32(smx_select_f32(smx_cmpeq_f32(y, smx_setall_f32(m)), w,
                                                  smx_setall_f32(-INFINITY)))
            c = c if fabsf(c) < INFINITY else 0.0
            md = smx_setall_f64(<double>m)
            cd = smx_setall_f64(<double>c)
            h0 = smx_sub_f64(_lo64(y), md)
            h1 = smx_sub_f64(_hi64(y), md)
            if scaled:
                h0 = smx_mul_f64(h0, iv)
                h1 = smx_mul_f64(h1, iv)
            h0 = _vexp_z64(h0, V64_SHIFT)
            h1 = _vexp_z64(h1, V64_SHIFT)
            S = smx_reduce_add_f64(smx_add_f64(h0, h1))
            q = 1.0 / S
            a0 = smx_sub_f64(_lo64(w), cd)
            a1 = smx_sub_f64(_hi64(w), cd)
            mu = smx_reduce_add_f64(smx_add_f64(smx_mul_f64(h0, a0), smx_mul_f64(h1, a1))) * q
            a0 = smx_sub_f64(a0, smx_setall_f64(mu))
            a1 = smx_sub_f64(a1, smx_setall_f64(mu))
            if not log_out:   # s = e / S in double: unlike the row kernel's, not rounded
                a0 = smx_mul_f64(a0, smx_mul_f64(h0, smx_setall_f64(q)))
                a1 = smx_mul_f64(a1, smx_mul_f64(h1, smx_setall_f64(q)))
        else:
            y = smx_load_till_f32(x + r * K, K, 0.0)
            if log_out:
                if smx_any_mf32(smx_not_mf32(smx_cmple_f32(y, zf))):   # y > 0 or NaN
                    _vjp_row(x + r * K, v + r * K, out + r * K, K, t, True, ws)
                    continue
                cd = smx_setall_f64(smx_reduce_add_f64(smx_add_f64(_lo64(w), _hi64(w))))
                a0 = smx_nmuladd_f64(_vexp_z64(_lo64(y), V64_SHIFT), cd, _lo64(w))
                a1 = smx_nmuladd_f64(_vexp_z64(_hi64(y), V64_SHIFT), cd, _hi64(w))
            else:
                cd = smx_setall_f64(smx_reduce_add_f64(
                    smx_muladd_f64(_lo64(y), _lo64(w), smx_mul_f64(_hi64(y), _hi64(w)))))
                a0 = smx_mul_f64(_lo64(y), smx_sub_f64(_lo64(w), cd))
                a1 = smx_mul_f64(_hi64(y), smx_sub_f64(_hi64(w), cd))
        smx_store_till_f32(out + r * K, K, _times_f32(a0, a1, vf, neg, scaled))

cdef void _vshort_deriv32(Op op, const float* x, const float* v, float* out, Py_ssize_t R,
                          Py_ssize_t K, Temp t, char_r ws) noexcept nogil:
    """R rows of K <= SMX_NF32 elements; with 8-lane vectors (AVX2) softmax-VJP and JVP rows
    of K < 16 as well (_vshort_vjp32x2_case, _vshort_jvp32x2_case; the driver's choice).
    Scratch: WS_ROW, for a special row's general kernel."""
    cdef Pos1 p1
    cdef PosT pt
    cdef Neg1 n1
    cdef NegT nt
    cdef int case = _tcase(t)
    if K > SMX_NF32 and (op == OP_JVP or op == OP_LOG_JVP):
        if case == 0:
            _vshort_jvp32x2_case(op, x, v, out, R, K, t, p1, ws)
        elif case == 1:
            _vshort_jvp32x2_case(op, x, v, out, R, K, t, pt, ws)
        elif case == 2:
            _vshort_jvp32x2_case(op, x, v, out, R, K, t, n1, ws)
        else:
            _vshort_jvp32x2_case(op, x, v, out, R, K, t, nt, ws)
        return
    if K > SMX_NF32 and op == OP_VJP:
        if case == 0:
            _vshort_vjp32x2_case(x, v, out, R, K, t, p1, ws)
        elif case == 1:
            _vshort_vjp32x2_case(x, v, out, R, K, t, pt, ws)
        elif case == 2:
            _vshort_vjp32x2_case(x, v, out, R, K, t, n1, ws)
        else:
            _vshort_vjp32x2_case(x, v, out, R, K, t, nt, ws)
        return
    if case == 0:
        _vshort_deriv32_case(op, x, v, out, R, K, t, p1, ws)
    elif case == 1:
        _vshort_deriv32_case(op, x, v, out, R, K, t, pt, ws)
    elif case == 2:
        _vshort_deriv32_case(op, x, v, out, R, K, t, n1, ws)
    else:
        _vshort_deriv32_case(op, x, v, out, R, K, t, nt, ws)

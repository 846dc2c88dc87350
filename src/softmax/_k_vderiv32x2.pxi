# AVX2: the float32 softmax VJP and the JVPs of rows of SMX_NF32 < K < 2 * SMX_NF32 elements
# (9-15), each row in two vectors with the one-vector rows' double-lane arithmetic
# (_k_vderiv32.pxi's _vshort_deriv32_case); _vshort_deriv32 sends them here. Part of the
# per-ISA kernel source (included by _kernels.pyx after _k_vderiv32.pxi).

cdef inline int _vshort_vjp32x2_n(const float* y, const float* g, float* out, Py_ssize_t n,
                                   Py_ssize_t K, Temp t, TCase k) noexcept nogil:
    """The softmax VJP of n <= SHORT_N rows of SMX_NF32 < K <= 2 * SMX_NF32 elements (AVX2:
    two vectors a row), phase by phase (independent chains), with the one-vector rows'
    arithmetic (_vshort_deriv32_case: c = sum(y g) of exact products in double lanes, y (g -
    c) / T in double, rounded once). Returns the rows not taken (c not finite: an inf or NaN
    in y or g) as bits j of a mask; nothing is written for them. A row's second vector is
    loaded whole where another row follows in the block (_ld_tail32), and stored whole where
    the next row is taken: the lanes past the row land on the next row's
    first vector, whose own store comes after (every row is loaded before any store, and a
    row not taken is never written on). Masked loads and stores only at the block's end: on
    Zen 3 a masked store costs ~20% of such a row."""
    cdef bint neg = TCase is Neg1 or TCase is NegT
    cdef bint scaled = TCase is PosT or TCase is NegT
    cdef smx_vf32 ya[SHORT_N]
    cdef smx_vf32 yb[SHORT_N]
    cdef smx_vf32 ga[SHORT_N]
    cdef smx_vf32 gb[SHORT_N]
    cdef double c[SHORT_N]
    cdef smx_vf32 vb
    cdef smx_mf32 tb = smx_till_f32(K - SMX_NF32)
    cdef smx_vf64 vf = smx_setall_f64(t.inv_signed), cd
    cdef Py_ssize_t j
    cdef int bad = 0
    for j in range(n):
        ya[j] = smx_load_f32(y + j * K)
        ga[j] = smx_load_f32(g + j * K)
        yb[j] = _ld_tail32(y + j * K + SMX_NF32, K - SMX_NF32, 0.0, False, j + 1 < n, tb)
        gb[j] = _ld_tail32(g + j * K + SMX_NF32, K - SMX_NF32, 0.0, False, j + 1 < n, tb)
    for j in range(n):
        c[j] = smx_reduce_add_f64(smx_add_f64(
            smx_muladd_f64(_lo64(ya[j]), _lo64(ga[j]), smx_mul_f64(_hi64(ya[j]), _hi64(ga[j]))),
            smx_muladd_f64(_lo64(yb[j]), _lo64(gb[j]), smx_mul_f64(_hi64(yb[j]), _hi64(gb[j])))))
        if not (fabs(c[j]) < INFINITY):
            bad |= 1 << j
    for j in range(n):
        if not (bad >> j) & 1:
            cd = smx_setall_f64(c[j])
            smx_store_f32(out + j * K, _times_f32(
                smx_mul_f64(_lo64(ya[j]), smx_sub_f64(_lo64(ga[j]), cd)),
                smx_mul_f64(_hi64(ya[j]), smx_sub_f64(_hi64(ga[j]), cd)), vf, neg, scaled))
            vb = _times_f32(smx_mul_f64(_lo64(yb[j]), smx_sub_f64(_lo64(gb[j]), cd)),
                            smx_mul_f64(_hi64(yb[j]), smx_sub_f64(_hi64(gb[j]), cd)), vf, neg,
                            scaled)
            if j + 1 < n and not (bad >> (j + 1)) & 1:
                smx_store_f32(out + j * K + SMX_NF32, vb)
            else:
                smx_store_till_f32(out + j * K + SMX_NF32, K - SMX_NF32, vb)
    return bad

cdef void _vshort_vjp32x2_case(const float* y, const float* g, float* out, Py_ssize_t R,
                               Py_ssize_t K, Temp t, TCase k, char_r ws) noexcept nogil:
    """R rows of the softmax VJP, SMX_NF32 < K <= 2 * SMX_NF32, _vshort_vjp32x2_n SHORT_N
    rows at a time; a row it does not take, and every row where 1/T is not a normal float32
    pair far from overflow, the general kernel's."""
    cdef Py_ssize_t r = 0, n, j
    cdef int bad
    while r < R:
        n = min(<Py_ssize_t>SHORT_N, R - r)
        if 1e-30 < t.abs_t < 1e30:
            bad = _vshort_vjp32x2_n(y + r * K, g + r * K, out + r * K, n, K, t, k)
        else:
            bad = (1 << n) - 1
        j = 0
        while bad != 0:
            if bad & 1:
                _vjp_row(y + (r + j) * K, g + (r + j) * K, out + (r + j) * K, K, t, False, ws)
            bad >>= 1
            j += 1
        r += n

cdef void _vshort_jvp32x2_case(Op op, const float* x, const float* v, float* out,
                               Py_ssize_t R, Py_ssize_t K, Temp t, TCase k,
                               char_r ws) noexcept nogil:
    """The JVPs (softmax, log_softmax) of rows of SMX_NF32 < K < 2 * SMX_NF32 elements (AVX2:
    two vectors a row), row by row with the one-vector rows' arithmetic (_vshort_deriv32_case:
    the anchor c, the v of the first lane at the max; the exps in double lanes; S, mu and the
    output in double, rounded once). A special row (NaN or +-inf in x, T == 0, 1/|T| not
    finite) goes to the general kernel."""
    cdef bint neg = TCase is Neg1 or TCase is NegT
    cdef bint scaled = TCase is PosT or TCase is NegT
    cdef bint log_out = op == OP_LOG_JVP
    cdef smx_vf32 zf = smx_zero_f32(), ninf = smx_setall_f32(-INFINITY), ya, yb, wa, wb, vm
    cdef smx_vf64 iv = smx_setall_f64(t.inv + t.inv_lo), vf = smx_setall_f64(t.inv_signed)
    cdef smx_vf64 h0, h1, h2, h3, a0, a1, a2, a3, md, cd, vq, vmu
    cdef float m, c
    cdef double q, mu
    cdef bint tok = (not t.hard) and t.inv + t.inv_lo < INFINITY
    cdef smx_mf32 tb = smx_till_f32(K - SMX_NF32)
    cdef Py_ssize_t r
    for r in range(R):
        # the padding finite (not flagged) and never above the max, then -inf: exp 0 (a row
        # of -FLT_MAX, or |T| near FLT_MAX, would give a finite padding an exp)
        ya = _ld32(x + r * K, neg)
        yb = _ld_till32(x + r * K + SMX_NF32, K - SMX_NF32, -3.4028234663852886e38, neg)
        wa = smx_load_f32(v + r * K)
        wb = smx_load_till_f32(v + r * K + SMX_NF32, K - SMX_NF32, 0.0)
        m = smx_reduce_max_f32(smx_max_f32(ya, yb))
        if not tok or smx_any_mf32(smx_or_mf32(smx_cmpneq_f32(smx_mul_f32(ya, zf), zf),
                                               smx_cmpneq_f32(smx_mul_f32(yb, zf), zf))):
            _jvp_row(x + r * K, v + r * K, out + r * K, K, t, log_out, ws)
            continue
        yb = smx_select_f32(tb, yb, smx_setall_f32(-INFINITY))
        vm = smx_setall_f32(m)
        c = smx_reduce_max_f32(smx_max_f32(smx_select_f32(smx_cmpeq_f32(ya, vm), wa, ninf),
                                           smx_select_f32(smx_cmpeq_f32(yb, vm), wb, ninf)))
        c = c if fabsf(c) < INFINITY else 0.0
        md = smx_setall_f64(<double>m)
        cd = smx_setall_f64(<double>c)
        h0 = smx_sub_f64(_lo64(ya), md)
        h1 = smx_sub_f64(_hi64(ya), md)
        h2 = smx_sub_f64(_lo64(yb), md)
        h3 = smx_sub_f64(_hi64(yb), md)
        if scaled:
            h0 = smx_mul_f64(h0, iv)
            h1 = smx_mul_f64(h1, iv)
            h2 = smx_mul_f64(h2, iv)
            h3 = smx_mul_f64(h3, iv)
        h0 = _vexp_z64(h0, V64_SHIFT)
        h1 = _vexp_z64(h1, V64_SHIFT)
        h2 = _vexp_z64(h2, V64_SHIFT)
        h3 = _vexp_z64(h3, V64_SHIFT)
        q = 1.0 / smx_reduce_add_f64(smx_add_f64(smx_add_f64(h0, h1), smx_add_f64(h2, h3)))
        a0 = smx_sub_f64(_lo64(wa), cd)
        a1 = smx_sub_f64(_hi64(wa), cd)
        a2 = smx_sub_f64(_lo64(wb), cd)
        a3 = smx_sub_f64(_hi64(wb), cd)
        mu = smx_reduce_add_f64(smx_add_f64(
            smx_muladd_f64(h0, a0, smx_mul_f64(h1, a1)),
            smx_muladd_f64(h2, a2, smx_mul_f64(h3, a3)))) * q
        vmu = smx_setall_f64(mu)
        a0 = smx_sub_f64(a0, vmu)
        a1 = smx_sub_f64(a1, vmu)
        a2 = smx_sub_f64(a2, vmu)
        a3 = smx_sub_f64(a3, vmu)
        if not log_out:   # s = e / S in double, not rounded
            vq = smx_setall_f64(q)
            a0 = smx_mul_f64(a0, smx_mul_f64(h0, vq))
            a1 = smx_mul_f64(a1, smx_mul_f64(h1, vq))
            a2 = smx_mul_f64(a2, smx_mul_f64(h2, vq))
            a3 = smx_mul_f64(a3, smx_mul_f64(h3, vq))
        smx_store_f32(out + r * K, _times_f32(a0, a1, vf, neg, scaled))
        smx_store_till_f32(out + r * K + SMX_NF32, K - SMX_NF32, _times_f32(a2, a3, vf, neg, scaled))

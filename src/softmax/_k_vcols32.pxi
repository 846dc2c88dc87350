# float32 columns (inner > 1) of softmax, log_softmax and logsumexp on vectors: the reduction
# runs down K rows of a strided slice, one lane per column, SMX_NF32 adjacent columns a group.
# Part of the per-ISA kernel source (included by _kernels.pyx).
#
# A group's three passes (max, exps, output) re-read its K x SMX_NF32 block, which stays in
# L1/L2 between them; rows are taken two at a time so that no reduction is one long chain of
# dependent additions. A group with a special column (NaN, +-inf, T == 0, a |T| below half an
# ulp of the max) goes to the general kernel (_softmax_cols, _lse_cols) as a whole.

cdef inline smx_vf32 _cld32(const float* p, Py_ssize_t n, bint neg) noexcept nogil:
    """y = sgn * x of the n (<= SMX_NF32) columns at p; the others -inf."""
    if n >= SMX_NF32:
        return _ld32(p, neg)
    return _ld_till32(p, n, -INFINITY, neg)

cdef inline bint _cols_max32(const float* x, Py_ssize_t K, Py_ssize_t stride, Py_ssize_t n,
                             bint neg, smx_vf32* m) noexcept nogil:
    """m[0] = the columns' max of y (NaN ignored); True when no x is NaN or +inf (an x of
    -inf is an exp of 0 and stays on the vector path)."""
    cdef smx_vf32 z = smx_zero_f32(), lo = smx_setall_f32(-INFINITY)
    cdef smx_vf32 a0 = lo, a1 = lo, c0 = z, c1 = z, v0, v1
    cdef Py_ssize_t k = 0
    while k + 2 <= K:
        v0 = _cld32(x + k * stride, n, neg)
        v1 = _cld32(x + (k + 1) * stride, n, neg)
        a0 = smx_max_f32(v0, a0)
        a1 = smx_max_f32(v1, a1)
        c0 = smx_muladd_f32(smx_select_f32(smx_cmpeq_f32(v0, lo), z, v0), z, c0)
        c1 = smx_muladd_f32(smx_select_f32(smx_cmpeq_f32(v1, lo), z, v1), z, c1)
        k += 2
    if k < K:
        v0 = _cld32(x + k * stride, n, neg)
        a0 = smx_max_f32(v0, a0)
        c0 = smx_muladd_f32(smx_select_f32(smx_cmpeq_f32(v0, lo), z, v0), z, c0)
    m[0] = smx_max_f32(a0, a1)
    c0 = smx_add_f32(c0, c1)
    return not smx_any_mf32(smx_cmpneq_f32(c0, c0))

cdef inline void _cst32(float* p, Py_ssize_t n, smx_vf32 v) noexcept nogil:
    if n >= SMX_NF32:
        smx_store_f32(p, v)
    else:
        smx_store_till_f32(p, n, v)

cdef inline void _cols_case32(const float* x, float* out, Py_ssize_t K, Py_ssize_t stride,
                              Py_ssize_t n, Temp t, smx_vf32 vm, smx_vf32 vylo, float inv_hi,
                              float inv_lo, int op, bint neg, bint scaled) noexcept nogil:
    """One group of n <= SMX_NF32 columns whose max is vm: softmax (op 0), log_softmax (1),
    logsumexp (2: out[j] per column)."""
    cdef smx_vf32 z = smx_zero_f32(), one = smx_setall_f32(1.0), e0, e1, vh, vl
    cdef smx_vf32 s0 = one, s1 = one, c0 = z, c1 = z, on = z
    cdef smx_vf64 r0 = smx_zero_f64(), r1 = r0, md0, md1, inv, q0, q1
    cdef smx_mf32 k0
    cdef smx_mf64 k64
    cdef float ch[SMX_NF32]
    cdef float cl[SMX_NF32]
    cdef float ms[SMX_NF32]
    cdef double tot[SMX_NF32]
    cdef double rs[SMX_NF32]
    cdef double os[SMX_NF32]
    cdef double s_hi, s_lo, L, C
    cdef Py_ssize_t k, j
    if op == 0:
        k = 0
        while k + 2 <= K:
            e0 = _vexp32m(_cld32(x + k * stride, n, neg), vm, vylo, inv_hi, inv_lo, scaled)
            e1 = _vexp32m(_cld32(x + (k + 1) * stride, n, neg), vm, vylo, inv_hi, inv_lo, scaled)
            _cst32(out + k * stride, n, e0)
            _cst32(out + (k + 1) * stride, n, e1)
            _fast_acc32(&s0, &c0, e0)
            _fast_acc32(&s1, &c1, e1)
            k += 2
        if k < K:
            e0 = _vexp32m(_cld32(x + k * stride, n, neg), vm, vylo, inv_hi, inv_lo, scaled)
            _cst32(out + k * stride, n, e0)
            _fast_acc32(&s0, &c0, e0)
        # per column: (s0 - 1) + (s1 - 1) + c0 + c1 in double, then 1 / total as a pair
        c0 = smx_add_f32(c0, c1)
        q0 = smx_add_f64(smx_add_f64(smx_cvt_lo_f32_f64(s0), smx_cvt_lo_f32_f64(s1)),
                         smx_sub_f64(smx_cvt_lo_f32_f64(c0), smx_setall_f64(2.0)))
        q1 = smx_add_f64(smx_add_f64(smx_cvt_hi_f32_f64(s0), smx_cvt_hi_f32_f64(s1)),
                         smx_sub_f64(smx_cvt_hi_f32_f64(c0), smx_setall_f64(2.0)))
        q0 = smx_div_f64(smx_setall_f64(16777216.0), q0)    # inv * 2**24
        q1 = smx_div_f64(smx_setall_f64(16777216.0), q1)
        vh = smx_cvt_f64x2_f32(q0, q1)
        vl = smx_cvt_f64x2_f32(smx_sub_f64(q0, smx_cvt_lo_f32_f64(vh)),
                               smx_sub_f64(q1, smx_cvt_hi_f32_f64(vh)))
        q0 = smx_mul_f64(q0, smx_setall_f64(5.9604644775390625e-08))
        q1 = smx_mul_f64(q1, smx_setall_f64(5.9604644775390625e-08))
        for k in range(K):
            e0 = smx_load_till_f32(out + k * stride, n, 0.0)
            if SMX_HAS_FMA:
                e0 = smx_mul_f32(smx_muladd_f32(e0, vh, smx_mul_f32(e0, vl)),
                                 smx_setall_f32(5.9604644775390625e-08))
            else:
                e0 = smx_cvt_f64x2_f32(smx_mul_f64(smx_cvt_lo_f32_f64(e0), q0),
                                       smx_mul_f64(smx_cvt_hi_f32_f64(e0), q1))
            _cst32(out + k * stride, n, e0)
        return
    smx_store_f32(ms, vm)
    if op == 2:     # exps in double (1e-10): m + |T| log(sum) may cancel
        md0 = smx_cvt_lo_f32_f64(vm)
        md1 = smx_cvt_hi_f32_f64(vm)
        inv = smx_setall_f64(<double>inv_hi + <double>inv_lo)
        q0 = smx_zero_f64()
        q1 = q0
        for k in range(K):
            e0 = _cld32(x + k * stride, n, neg)
            r0 = smx_sub_f64(smx_cvt_lo_f32_f64(e0), md0)
            r1 = smx_sub_f64(smx_cvt_hi_f32_f64(e0), md1)
            if scaled:
                r0 = smx_mul_f64(r0, inv)
                r1 = smx_mul_f64(r1, inv)
            q0 = smx_add_f64(q0, _vexp_low(r0))
            q1 = smx_add_f64(q1, _vexp_low(r1))
        smx_store_f64(tot, q0)
        smx_store_f64(tot + SMX_NF64, q1)
        for j in range(n):   # the maxima's exps are exactly 1: tot - 1 is the rest, exactly
            _combine(1.0, tot[j] - 1.0, 0.0, &s_hi, &s_lo)
            out[j] = <float>_lse_value[float](ms[j], s_hi, s_lo, t)
        return
    # log_softmax: the exps equal to 1 counted apart, the rest summed in double
    for k in range(K):
        e0 = _vexp32m(_cld32(x + k * stride, n, neg), vm, vylo, inv_hi, inv_lo, scaled)
        k0 = smx_cmplt_f32(e0, one)
        on = smx_add_f32(on, smx_select_f32(k0, z, one))
        e0 = smx_select_f32(k0, e0, z)
        r0 = smx_add_f64(r0, smx_cvt_lo_f32_f64(e0))
        r1 = smx_add_f64(r1, smx_cvt_hi_f32_f64(e0))
    smx_store_f64(rs, r0)
    smx_store_f64(rs + SMX_NF64, r1)
    smx_store_f64(os, smx_cvt_lo_f32_f64(on))
    smx_store_f64(os + SMX_NF64, smx_cvt_hi_f32_f64(on))
    for j in range(SMX_NF32):
        L = log1p((os[j] - 1.0) + rs[j]) if j < n else 0.0
        rs[j] = L
        C = <double>ms[j] + L
        ch[j] = <float>C
        cl[j] = <float>((<double>ms[j] - <double>ch[j]) + L)
    vh = smx_load_f32(ch)
    vl = smx_load_f32(cl)
    md0 = smx_cvt_lo_f32_f64(vm)
    md1 = smx_cvt_hi_f32_f64(vm)
    q0 = smx_load_f64(rs)
    q1 = smx_load_f64(rs + SMX_NF64)
    inv = smx_setall_f64(<double>inv_hi + <double>inv_lo)
    for k in range(K):
        e0 = _ld_till32(x + k * stride, n, 0.0, neg)
        if scaled:
            e0 = smx_cvt_f64x2_f32(
                smx_sub_f64(smx_mul_f64(smx_sub_f64(smx_cvt_lo_f32_f64(e0), md0), inv), q0),
                smx_sub_f64(smx_mul_f64(smx_sub_f64(smx_cvt_hi_f32_f64(e0), md1), inv), q1))
        else:
            e0 = smx_sub_f32(smx_sub_f32(e0, vh), vl)
        _cst32(out + k * stride, n, e0)

cdef void _vcols32(const float* x, float* out, Py_ssize_t K, Py_ssize_t stride,
                   Py_ssize_t W, Temp t, int op) noexcept nogil:
    """W columns of a (K, stride) slice block: softmax (op 0), log_softmax (1), logsumexp
    (2: out[j] per column), SMX_NF32 columns a group."""
    cdef bint neg = t.sgn < 0
    cdef double inv = t.inv + t.inv_lo
    cdef float inv_hi = <float>inv, inv_lo = <float>(inv - <double><float>inv)
    cdef float c104 = <float>(104.0 * t.abs_t)
    cdef smx_vf32 vm, vylo
    cdef Py_ssize_t j, n
    cdef bint ok
    j = -SMX_NF32
    while j + SMX_NF32 < W:
        j += SMX_NF32
        n = min(<Py_ssize_t>SMX_NF32, W - j)
        ok = _cols_max32(x + j, K, stride, n, neg, &vm) and not t.hard and inv_hi < INFINITY
        vylo = smx_sub_f32(vm, smx_setall_f32(c104))
        if not ok or smx_any_mf32(smx_and_mf32(smx_till_f32(n), smx_cmpge_f32(vylo, vm))):
            if op == 2:
                _lse_cols(x + j, out + j, K, stride, n, t)
            else:
                _softmax_cols(x + j, out + j, K, stride, n, t, op == 1)
            continue
        if neg:
            if t.scaled:
                _cols_case32(x + j, out + j, K, stride, n, t, vm, vylo, inv_hi, inv_lo, op, True, True)
            else:
                _cols_case32(x + j, out + j, K, stride, n, t, vm, vylo, inv_hi, inv_lo, op, True, False)
        elif t.scaled:
            _cols_case32(x + j, out + j, K, stride, n, t, vm, vylo, inv_hi, inv_lo, op, False, True)
        else:
            _cols_case32(x + j, out + j, K, stride, n, t, vm, vylo, inv_hi, inv_lo, op, False, False)

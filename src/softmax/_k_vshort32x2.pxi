# AVX2: float32 softmax, log_softmax and logsumexp rows of SMX_NF32 < K <= 2 * SMX_NF32 elements
# (9-16), each row in two vectors, up to SHORT_N rows at a time phase by phase: softmax and
# log_softmax with the arithmetic of the one-vector short rows (_k_vrows32.pxi's
# _vshort32_fastn), logsumexp with the row path's (_lse_vecs32's: the same bits). Part of the per-ISA kernel
# source (included by _kernels.pyx; _vrows32_case sends these rows here on 8-lane vectors).

cdef inline smx_vf32 _ld_tail32(const float* p, Py_ssize_t n, float fill, bint neg, bint whole,
                                smx_mf32 tb) noexcept nogil:
    """_ld_till32(p, n, fill, neg) of a row's second vector (n <= SMX_NF32 lanes, tb their
    mask): where another row of the block follows (whole), a whole load with the lanes past
    the row set to fill instead of a masked load (slower on Zen 3), the same vector."""
    if whole:
        return smx_select_f32(tb, _ld32(p, neg), smx_setall_f32(fill))
    return _ld_till32(p, n, fill, neg)

cdef inline int _vshort32x2_fastn(const float* x, float* out, Py_ssize_t n, Py_ssize_t K,
                                  Temp t, int op, TCase k) noexcept nogil:
    """softmax (op 0; S <= 32 keeps SHORT_SPAN's bound) or log_softmax (1: the exps of 1
    counted apart, the rest summed in double, log1p of the two) of n <= SHORT_N rows, phase
    by phase (independent chains). Each row's bits depend on the row alone. Returns the rows
    not taken (NaN or +-inf, a span past SHORT_SPAN / FAST_SPAN, T == 0 or 1/|T| past the
    float32 range) as bits j of a mask; nothing is written for them."""
    cdef bint neg = TCase is Neg1 or TCase is NegT
    cdef bint scaled = TCase is PosT or TCase is NegT
    cdef smx_vf32 z = smx_zero_f32(), one = smx_setall_f32(1.0), vih, lim, vm, nm, da, db
    cdef smx_vf32 a[SHORT_N]
    cdef smx_vf32 b[SHORT_N]
    cdef smx_mf32 tb = smx_till_f32(K - SMX_NF32), ka, kb
    cdef double inv = t.inv + t.inv_lo
    cdef double iv[SHORT_N]
    cdef LogOut32 o
    cdef float mm[SHORT_N]
    cdef float ih = <float>inv, il = <float>(inv - <double>ih)
    cdef Py_ssize_t j
    cdef int bad = 0
    if t.hard or not (ih < INFINITY):
        return (1 << n) - 1
    vih = smx_setall_f32(ih)
    lim = smx_setall_f32(-SHORT_SPAN if op == 0 else -FAST_SPAN)
    for j in range(n):
        a[j] = _ld32(x + j * K, neg)
        b[j] = _ld_tail32(x + j * K + SMX_NF32, K - SMX_NF32, -3.4028234663852886e38, neg,
                          j + 1 < n, tb)
        mm[j] = smx_reduce_max_f32(smx_max_f32(a[j], b[j]))
    for j in range(n):
        vm = smx_setall_f32(mm[j])
        b[j] = smx_select_f32(tb, b[j], vm)     # the padding: y = max, exp 1
        nm = smx_neg_f32(vm)
        da = smx_add_f32(a[j], nm)
        db = smx_add_f32(b[j], nm)
        if smx_any_mf32(smx_or_mf32(
                smx_or_mf32(smx_cmpneq_f32(smx_mul_f32(a[j], z), z),
                            smx_cmpneq_f32(smx_mul_f32(b[j], z), z)),
                smx_or_mf32(smx_cmplt_f32(smx_mul_f32(da, vih), lim),
                            smx_cmplt_f32(smx_mul_f32(db, vih), lim)))):
            bad |= 1 << j
        a[j] = _vexp32d(da, _two_sum_lo32(a[j], nm, da), ih, il, scaled)
        b[j] = _vexp32d(db, _two_sum_lo32(b[j], nm, db), ih, il, scaled)
    if op == 0:
        for j in range(n):
            iv[j] = 1.0 / ((_sum64_of32(a[j]) + _sum64_of32(b[j])) - <double>(2 * SMX_NF32 - K))
        for j in range(n):
            if not (bad >> j) & 1:
                _inv_direct32(iv[j], &vm, &nm)
                smx_store_f32(out + j * K, _times32d(a[j], vm, nm))
                if j + 1 < n and not (bad >> (j + 1)) & 1:   # (whole: _vshort_vjp32x2_n's
                    smx_store_f32(out + j * K + SMX_NF32, _times32d(b[j], vm, nm))   # stores)
                else:
                    smx_store_till_f32(out + j * K + SMX_NF32, K - SMX_NF32,
                                       _times32d(b[j], vm, nm))
        return bad
    for j in range(n):     # S - 1 = (ones - 1) + rest, the padding's exps of 1 taken out
        ka = smx_cmplt_f32(a[j], one)
        kb = smx_cmplt_f32(b[j], one)
        iv[j] = ((<double>smx_reduce_add_f32(smx_add_f32(smx_select_f32(ka, z, one),
                                                         smx_select_f32(kb, z, one)))
                  - <double>(2 * SMX_NF32 - K + 1))
                 + (_sum64_of32(smx_select_f32(ka, a[j], z))
                    + _sum64_of32(smx_select_f32(kb, b[j], z))))
        if (bad >> j) & 1:
            iv[j] = 0.0       # in _vlog1p64's domain (the row's output is not written)
    for j in range(n, SHORT_N):
        iv[j] = 0.0
    _log1p_lanes(iv, (n + SMX_NF64 - 1) // SMX_NF64 * SMX_NF64)
    for j in range(n):     # out = (y - m)/|T| - L (_log_out32)
        if not (bad >> j) & 1:
            o = _log_consts_m32(mm[j], inv, iv[j])
            smx_store_f32(out + j * K, _log_vec32(_ld32(x + j * K, neg), o, scaled))
            smx_store_till_f32(out + j * K + SMX_NF32, K - SMX_NF32,
                               _log_vec32(_ld_till32(x + j * K + SMX_NF32, K - SMX_NF32, 0.0, neg),
                                          o, scaled))
    return bad

cdef inline int _vshort32x2_lsen(const float* x, float* out, Py_ssize_t n, Py_ssize_t K,
                                  Temp t, TCase k) noexcept nogil:
    """logsumexp (out[j]) of n <= SHORT_N rows of SMX_NF32 < K <= 2 * SMX_NF32 elements,
    phase by phase (independent chains, as _vshort32_lsen), each row's arithmetic that of
    _vrows32_case's (_lse_vecs32: the two vectors' double exps into one set of sums, the
    padding -inf; then _combine, _lse_value): the same bits. Returns the rows not taken (a
    NaN or +-inf, T == 0, a row at its arg-max limit, 1/|T| past the float32 range) as bits
    j of a mask; nothing is written for them."""
    cdef bint neg = TCase is Neg1 or TCase is NegT
    cdef bint scaled = TCase is PosT or TCase is NegT
    cdef smx_vf32 z = smx_zero_f32()
    cdef smx_vf32 a[SHORT_N]
    cdef smx_vf32 b[SHORT_N]
    cdef smx_mf32 tb = smx_till_f32(K - SMX_NF32)
    cdef smx_vf64 inv, o0, o1, r0, r1
    cdef float mm[SHORT_N]
    cdef double on[SHORT_N]
    cdef double re[SHORT_N]
    cdef double s_hi, s_lo
    cdef Row32 c
    cdef Py_ssize_t j
    cdef int bad = 0
    if t.hard:
        return (1 << n) - 1
    c = _row32(1.0, t)         # (inv_hi, inv_lo: the same in every row)
    if not (c.inv_hi < INFINITY):
        return (1 << n) - 1
    inv = smx_setall_f64(<double>c.inv_hi + <double>c.inv_lo)
    for j in range(n):         # the padding finite (not flagged), never the max
        a[j] = _ld32(x + j * K, neg)
        b[j] = _ld_till32(x + j * K + SMX_NF32, K - SMX_NF32, -3.4028234663852886e38, neg)
        mm[j] = smx_reduce_max_f32(smx_max_f32(a[j], b[j]))
    for j in range(n):         # NaN or +-inf; |m| 2**-23 >= ulp(m): then ylo < m (_row32_ok)
        if (smx_any_mf32(smx_or_mf32(smx_cmpneq_f32(smx_mul_f32(a[j], z), z),
                                     smx_cmpneq_f32(smx_mul_f32(b[j], z), z)))
                or not (fabsf(mm[j]) * 1.1920928955078125e-07 <= 104.0 * t.abs_t)):
            bad |= 1 << j
    for j in range(n):
        o0 = o1 = r0 = r1 = smx_zero_f64()
        _lse_acc32(a[j], smx_setall_f64(<double>mm[j]), inv, scaled, True, &o0, &o1, &r0, &r1)
        _lse_acc32(smx_select_f32(tb, b[j], smx_setall_f32(-INFINITY)),
                   smx_setall_f64(<double>mm[j]), inv, scaled, True, &o0, &o1, &r0, &r1)
        on[j] = smx_reduce_add_f64(smx_add_f64(o0, o1))
        re[j] = smx_reduce_add_f64(smx_add_f64(r0, r1))
    for j in range(n):
        if not (bad >> j) & 1:
            _combine(on[j], re[j], 0.0, &s_hi, &s_lo)
            out[j] = <float>_lse_value[float](mm[j], s_hi, s_lo, t)
    return bad

cdef void _vshort32x2_case(const float* x, float* out, Py_ssize_t R, Py_ssize_t K, Temp t,
                           int op, TCase k, char_r ws) noexcept nogil:
    """softmax (op 0), log_softmax (1) or logsumexp (2: out[r]) of R rows of SMX_NF32 < K <=
    2 * SMX_NF32 elements, _vshort32x2_fastn (_vshort32x2_lsen) SHORT_N rows at a time; a
    row it does not take _vrow32_case, then the general kernel."""
    cdef Py_ssize_t r = 0, n, j
    cdef float* o
    cdef int bad
    while r < R:
        n = min(<Py_ssize_t>SHORT_N, R - r)
        if op == 2:
            bad = _vshort32x2_lsen(x + r * K, out + r, n, K, t, k)
        else:
            bad = _vshort32x2_fastn(x + r * K, out + r * K, n, K, t, op, k)
        j = 0
        while bad != 0:
            o = out + (r + j if op == 2 else (r + j) * K)
            if (bad & 1) and _vrow32_case(x + (r + j) * K, o, K, t, op, k) != 0:
                if op == 2:
                    _lse_row(x + (r + j) * K, o, K, t, ws)
                else:
                    _softmax_row(x + (r + j) * K, o, K, t, op == 1, ws)
            bad >>= 1
            j += 1
        r += n

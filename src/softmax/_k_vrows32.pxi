# float32 rows (inner == 1) of softmax, log_softmax and logsumexp on vectors. Part of the
# per-ISA kernel source (included by _kernels.pyx).
#
# A row's kernels return 0 when done, 1 when the row is special (a NaN, +inf, all -inf,
# T == 0, a |T| so small that the row is its arg-max limit): the general kernel
# (_softmax_row, _lse_row) then does it, having been handed the row untouched.
# Every function with a loop is specialised on the case of T (TCase, _k_vexp.pxi).

cdef inline smx_vf32 _ld32(const float* p, bint neg) noexcept nogil:
    """y = sgn * x of a full vector."""
    cdef smx_vf32 v = smx_load_f32(p)
    return smx_neg_f32(v) if neg else v

cdef inline smx_vf32 _ld_till32(const float* p, Py_ssize_t n, float fill, bint neg) noexcept nogil:
    """Lanes i < n of y = sgn * p[i], the others fill."""
    cdef smx_vf32 v = smx_load_till_f32(p, n, -fill if neg else fill)
    return smx_neg_f32(v) if neg else v

cdef inline void _st_till32(float* p, Py_ssize_t n, smx_vf32 v) noexcept nogil:
    if n >= SMX_NF32:
        smx_store_f32(p, v)
    else:
        smx_store_till_f32(p, n, v)

cdef bint _row_max32(const float* x, Py_ssize_t K, TCase k, float* m) noexcept nogil:
    """m[0] = the max of y = sgn * x with NaNs ignored; True when every x is finite
    (x * 0 summed: NaN for a NaN or an inf)."""
    cdef bint neg = TCase is Neg1 or TCase is NegT
    cdef smx_vf32 z = smx_zero_f32(), lo = smx_setall_f32(-INFINITY), v
    cdef smx_vf32 a0 = lo, a1 = lo, a2 = lo, a3 = lo, c0 = z, c1 = z, c2 = z, c3 = z
    cdef Py_ssize_t i = 0
    while i + 4 * SMX_NF32 <= K:
        v = _ld32(x + i, neg)
        a0 = smx_max_f32(v, a0)
        c0 = smx_muladd_f32(v, z, c0)
        v = _ld32(x + i + SMX_NF32, neg)
        a1 = smx_max_f32(v, a1)
        c1 = smx_muladd_f32(v, z, c1)
        v = _ld32(x + i + 2 * SMX_NF32, neg)
        a2 = smx_max_f32(v, a2)
        c2 = smx_muladd_f32(v, z, c2)
        v = _ld32(x + i + 3 * SMX_NF32, neg)
        a3 = smx_max_f32(v, a3)
        c3 = smx_muladd_f32(v, z, c3)
        i += 4 * SMX_NF32
    while i < K:
        v = _ld_till32(x + i, K - i, -INFINITY, neg)
        a0 = smx_max_f32(v, a0)
        c0 = smx_muladd_f32(smx_load_till_f32(x + i, K - i, 0.0), z, c0)
        i += SMX_NF32
    m[0] = smx_reduce_max_f32(smx_max_f32(smx_max_f32(a0, a1), smx_max_f32(a2, a3)))
    c0 = smx_add_f32(smx_add_f32(c0, c1), smx_add_f32(c2, c3))
    return not smx_any_mf32(smx_cmpneq_f32(c0, c0))

cdef bint _has_nan32(const float* x, Py_ssize_t K) noexcept nogil:
    cdef smx_vf32 v
    cdef Py_ssize_t i = 0
    while i < K:
        v = smx_load_till_f32(x + i, K - i, 0.0)
        if smx_any_mf32(smx_cmpneq_f32(v, v)):
            return True
        i += SMX_NF32
    return False

cdef inline bint _row_begin32(const float* x, Py_ssize_t K, Temp t, float m, bint finite,
                              Row32* c) noexcept nogil:
    """The row's constants from its max m (finite: no NaN, no inf seen); False for a special
    row. A row with -inf entries but no NaN, no +inf and a finite max stays here: its -inf
    are exps of 0."""
    if t.hard:
        return False
    if not finite:
        if not (fabsf(m) < INFINITY) or _has_nan32(x, K):
            return False
    c[0] = _row32(m, t)
    return _row32_ok(c[0])

# ---------------------------------------------------------------- softmax
cdef double _exp_store_sum32(const float* x, float* out, Py_ssize_t K, Row32 c,
                             TCase k) noexcept nogil:
    """out = exp((y - m)/|T|); returns the sum of the stored (rounded) exps, compensated."""
    cdef bint neg = TCase is Neg1 or TCase is NegT
    cdef bint scaled = TCase is PosT or TCase is NegT
    cdef smx_vf32 nm = smx_setall_f32(-c.m), one = smx_setall_f32(1.0), z = smx_zero_f32()
    cdef smx_vf32 s0 = one, s1 = one, s2 = one, s3 = one, c0 = z, c1 = z, c2 = z, c3 = z
    cdef smx_vf32 e0, e1, e2, e3
    cdef Py_ssize_t i = 0
    while i + 4 * SMX_NF32 <= K:
        e0 = _vexp32(_ld32(x + i, neg), nm, c, scaled)
        e1 = _vexp32(_ld32(x + i + SMX_NF32, neg), nm, c, scaled)
        e2 = _vexp32(_ld32(x + i + 2 * SMX_NF32, neg), nm, c, scaled)
        e3 = _vexp32(_ld32(x + i + 3 * SMX_NF32, neg), nm, c, scaled)
        smx_store_f32(out + i, e0)
        smx_store_f32(out + i + SMX_NF32, e1)
        smx_store_f32(out + i + 2 * SMX_NF32, e2)
        smx_store_f32(out + i + 3 * SMX_NF32, e3)
        _fast_acc32(&s0, &c0, e0)
        _fast_acc32(&s1, &c1, e1)
        _fast_acc32(&s2, &c2, e2)
        _fast_acc32(&s3, &c3, e3)
        i += 4 * SMX_NF32
    while i < K:
        e0 = _vexp32(_ld_till32(x + i, K - i, -INFINITY, neg), nm, c, scaled)
        _st_till32(out + i, K - i, e0)
        _fast_acc32(&s0, &c0, e0)
        i += SMX_NF32
    c0 = smx_add_f32(smx_add_f32(c0, c1), smx_add_f32(c2, c3))
    return (_anchored_total32(s0, s1, c0, <int>(2 * SMX_NF32))
            + _anchored_total32(s2, s3, z, <int>(2 * SMX_NF32)))

cdef inline smx_vf32 _times32(smx_vf32 e, smx_vf32 vh, smx_vf32 vl, smx_vf64 vi) noexcept nogil:
    """e * inv rounded once: with FMA fma(e, ih, e * il) * 2**-24, (ih, il) the float32 pair of
    inv * 2**24 (scaled so that e * il stays normal while the result is); else in double."""
    if SMX_HAS_FMA:
        return smx_mul_f32(smx_muladd_f32(e, vh, smx_mul_f32(e, vl)),
                           smx_setall_f32(5.9604644775390625e-08))
    return smx_cvt_f64x2_f32(smx_mul_f64(smx_cvt_lo_f32_f64(e), vi),
                             smx_mul_f64(smx_cvt_hi_f32_f64(e), vi))

cdef inline void _inv_pair32(double inv, smx_vf32* vh, smx_vf32* vl, smx_vf64* vi) noexcept nogil:
    cdef double inv_s = inv * 16777216.0
    cdef float ih = <float>inv_s
    vh[0] = smx_setall_f32(ih)
    vl[0] = smx_setall_f32(<float>(inv_s - <double>ih))
    vi[0] = smx_setall_f64(inv)

cdef void _scale32(float* out, Py_ssize_t K, double inv) noexcept nogil:
    """out *= inv, each product rounded once."""
    cdef smx_vf32 vh, vl
    cdef smx_vf64 vi
    cdef Py_ssize_t i = 0
    _inv_pair32(inv, &vh, &vl, &vi)
    while i + SMX_NF32 <= K:
        smx_store_f32(out + i, _times32(smx_load_f32(out + i), vh, vl, vi))
        i += SMX_NF32
    if i < K:
        smx_store_till_f32(out + i, K - i, _times32(smx_load_till_f32(out + i, K - i, 0.0),
                                                    vh, vl, vi))

# ---------------------------------------------------------------- log_softmax, logsumexp
cdef void _exp_count_sum32(const float* x, Py_ssize_t K, Row32 c, TCase k, double* ones,
                           double* rest) noexcept nogil:
    """The sum of exp((y - m)/|T|) as ones (the exps rounded to exactly 1: the maxima) and
    rest (the others, summed in double), so that log1p((ones - 1) + rest) keeps the relative
    precision of a small rest (the log-softmax of a confident row's maximum)."""
    cdef bint neg = TCase is Neg1 or TCase is NegT
    cdef bint scaled = TCase is PosT or TCase is NegT
    cdef smx_vf32 nm = smx_setall_f32(-c.m), one = smx_setall_f32(1.0), z = smx_zero_f32()
    cdef smx_vf32 on0 = z, on1 = z, e0, e1
    cdef smx_vf64 r0 = smx_zero_f64(), r1 = r0, r2 = r0, r3 = r0
    cdef smx_mf32 k0, k1
    cdef Py_ssize_t i = 0
    while i + 2 * SMX_NF32 <= K:
        e0 = _vexp32(_ld32(x + i, neg), nm, c, scaled)
        e1 = _vexp32(_ld32(x + i + SMX_NF32, neg), nm, c, scaled)
        k0 = smx_cmplt_f32(e0, one)
        k1 = smx_cmplt_f32(e1, one)
        on0 = smx_add_f32(on0, smx_select_f32(k0, z, one))
        on1 = smx_add_f32(on1, smx_select_f32(k1, z, one))
        e0 = smx_select_f32(k0, e0, z)
        e1 = smx_select_f32(k1, e1, z)
        r0 = smx_add_f64(r0, smx_cvt_lo_f32_f64(e0))
        r1 = smx_add_f64(r1, smx_cvt_hi_f32_f64(e0))
        r2 = smx_add_f64(r2, smx_cvt_lo_f32_f64(e1))
        r3 = smx_add_f64(r3, smx_cvt_hi_f32_f64(e1))
        i += 2 * SMX_NF32
    while i < K:
        e0 = _vexp32(_ld_till32(x + i, K - i, -INFINITY, neg), nm, c, scaled)
        k0 = smx_cmplt_f32(e0, one)
        on0 = smx_add_f32(on0, smx_select_f32(k0, z, one))
        e0 = smx_select_f32(k0, e0, z)
        r0 = smx_add_f64(r0, smx_cvt_lo_f32_f64(e0))
        r1 = smx_add_f64(r1, smx_cvt_hi_f32_f64(e0))
        i += SMX_NF32
    ones[0] = smx_reduce_add_f32(smx_add_f32(on0, on1))
    rest[0] = smx_reduce_add_f64(smx_add_f64(smx_add_f64(r0, r1), smx_add_f64(r2, r3)))

ctypedef struct LogOut32:   # the constants of _log_out32's output
    smx_vf32 vh      # T == 1: the float32 pair of m + L
    smx_vf32 vl
    smx_vf64 md      # else: m, L, 1/|T| in double
    smx_vf64 Ld
    smx_vf64 inv

cdef inline LogOut32 _log_consts_m32(float m, double inv, double L) noexcept nogil:
    """_log_out32's constants for a row of max m, 1/|T| = inv and log-sum L."""
    cdef LogOut32 o
    cdef double C = <double>m + L
    cdef float c_hi = <float>C
    o.vh = smx_setall_f32(c_hi)
    o.vl = smx_setall_f32(<float>((<double>m - <double>c_hi) + L))
    o.md = smx_setall_f64(<double>m)
    o.Ld = smx_setall_f64(L)
    o.inv = smx_setall_f64(inv)
    return o

cdef inline LogOut32 _log_consts32(Row32 c, double L) noexcept nogil:
    return _log_consts_m32(c.m, <double>c.inv_hi + <double>c.inv_lo, L)

cdef inline smx_vf32 _log_vec32(smx_vf32 y, LogOut32 o, bint scaled) noexcept nogil:
    """One vector of _log_out32's output from y."""
    if scaled:
        return smx_cvt_f64x2_f32(
            smx_sub_f64(smx_mul_f64(smx_sub_f64(smx_cvt_lo_f32_f64(y), o.md), o.inv), o.Ld),
            smx_sub_f64(smx_mul_f64(smx_sub_f64(smx_cvt_hi_f32_f64(y), o.md), o.inv), o.Ld))
    return smx_sub_f32(smx_sub_f32(y, o.vh), o.vl)

cdef void _log_out32(const float* x, float* out, Py_ssize_t K, Row32 c, double L,
                     TCase k) noexcept nogil:
    """out = (y - m)/|T| - L. T == 1: (y - c_hi) - c_lo, with c_hi + c_lo the float32 pair of
    m + L (y - c_hi is exact near the max, so a small -L keeps its precision); else in double."""
    cdef bint neg = TCase is Neg1 or TCase is NegT
    cdef bint scaled = TCase is PosT or TCase is NegT
    cdef LogOut32 o = _log_consts32(c, L)
    cdef Py_ssize_t i = 0
    while i < K:
        _st_till32(out + i, K - i, _log_vec32(_ld_till32(x + i, K - i, 0.0, neg), o, scaled))
        i += SMX_NF32

cdef void _lse_sums32(const float* x, Py_ssize_t K, Row32 c, TCase k, double* ones,
                      double* rest) noexcept nogil:
    """As _exp_count_sum32 with the exps in double (_vexp_low: 1e-10; the difference exact):
    logsumexp's m + |T| log(sum) may cancel, so its sum must be good to far below float32.
    _lse_sums_ahead32 with every exp clamped and no next row."""
    _lse_sums_ahead32(x, K, c, True, NULL, NULL, k, ones, rest)

cdef inline void _lse_acc32(smx_vf32 y, smx_vf64 md, smx_vf64 inv, bint scaled, bint clamp,
                            smx_vf64* o0, smx_vf64* o1, smx_vf64* r0, smx_vf64* r1) noexcept nogil:
    """One vector of _lse_sums32: exp((y - m)/|T|) in double lanes, those equal to 1 counted
    in (o0, o1), the others summed in (r0, r1); clamp False: every (y - m)/|T| is at or above
    EXPF_LO (no -inf padding: _vexp_core64, the same bits)."""
    cdef smx_vf64 one = smx_setall_f64(1.0)
    cdef smx_vf64 e0 = smx_sub_f64(smx_cvt_lo_f32_f64(y), md)
    cdef smx_vf64 e1 = smx_sub_f64(smx_cvt_hi_f32_f64(y), md)
    cdef smx_mf64 k0, k1
    if scaled:
        e0 = smx_mul_f64(e0, inv)
        e1 = smx_mul_f64(e1, inv)
    if clamp:
        e0 = _vexp_low(e0)
        e1 = _vexp_low(e1)
    else:
        e0 = _vexp_core64(e0, V64_SHIFT)
        e1 = _vexp_core64(e1, V64_SHIFT)
    k0 = smx_cmpeq_f64(e0, one)
    k1 = smx_cmpeq_f64(e1, one)
    o0[0] = smx_select_f64(k0, smx_add_f64(o0[0], one), o0[0])    # (masked adds where the
    o1[0] = smx_select_f64(k1, smx_add_f64(o1[0], one), o1[0])    # ISA has them)
    r0[0] = smx_select_f64(k0, r0[0], smx_add_f64(r0[0], e0))
    r1[0] = smx_select_f64(k1, r1[0], smx_add_f64(r1[0], e1))

# ---------------------------------------------------------------- one row, any op
cdef int _vrow32_body(const float* x, float* out, Py_ssize_t K, Temp t, int op, float m,
                      bint finite, TCase k) noexcept nogil:
    """_vrow32_case after its max pass (m, finite: _row_max32's)."""
    cdef double ones, rest, s_hi, s_lo
    cdef Row32 c
    if not _row_begin32(x, K, t, m, finite, &c):
        return 1
    if op == 0:
        _scale32(out, K, 1.0 / _exp_store_sum32(x, out, K, c, k))
    elif op == 1:
        _exp_count_sum32(x, K, c, k, &ones, &rest)
        _log_out32(x, out, K, c, _log1p_sum((ones - 1.0) + rest), k)
    else:
        _lse_sums32(x, K, c, k, &ones, &rest)
        _combine(ones, rest, 0.0, &s_hi, &s_lo)
        out[0] = <float>_lse_value[float](c.m, s_hi, s_lo, t)
    return 0

cdef int _vrow32_case(const float* x, float* out, Py_ssize_t K, Temp t, int op,
                      TCase k) noexcept nogil:
    """softmax (op 0), log_softmax (1) or logsumexp (2, into out[0]) of one float32 row:
    0 when done, 1 for a special row (untouched: the general kernel's)."""
    cdef float m
    cdef bint finite = _row_max32(x, K, k, &m)
    return _vrow32_body(x, out, K, t, op, m, finite, k)

# ---------------------------------------------------------------- short rows
DEF SHORT_SPAN = 56.0       # _vshort32_fast: exp(-56) / 16 * 2**-40 is far above 2**-126
cdef inline int _vshort32_fast(const float* x, float* out, Py_ssize_t K, Temp t,
                               TCase k) noexcept nogil:
    """softmax of a row of K <= SMX_NF32 elements, one vector, on the fast path's exp: 0 when
    done; 1 (nothing written) for a row it does not take: a NaN or +-inf, T == 0, 1/|T|
    overflowing, or (y - max)/|T| below -SHORT_SPAN somewhere. y - max by TwoSum (the exact
    max: no second reduction for a grid), the padding lanes y = max (exp 1, taken back from
    the sum exactly), the sum in double."""
    cdef bint neg = TCase is Neg1 or TCase is NegT
    cdef bint scaled = TCase is PosT or TCase is NegT
    cdef smx_vf32 z = smx_zero_f32(), v, vm, nm, d, e
    cdef double inv = t.inv + t.inv_lo
    cdef float ih = <float>inv, il = <float>(inv - <double>ih)
    cdef float m
    # the padding is finite (not flagged) and below everything else, never the max
    v = _ld_till32(x, K, -3.4028234663852886e38, neg)
    m = smx_reduce_max_f32(v)
    vm = smx_setall_f32(m)
    v = smx_select_f32(smx_till_f32(K), v, vm)
    nm = smx_neg_f32(vm)
    d = smx_add_f32(v, nm)
    if (t.hard or not (ih < INFINITY)
            or smx_any_mf32(smx_or_mf32(smx_cmpneq_f32(smx_mul_f32(v, z), z),   # NaN or +-inf
                                        smx_cmplt_f32(smx_mul_f32(d, smx_setall_f32(ih)),
                                                      smx_setall_f32(-SHORT_SPAN))))):
        return 1
    e = _vexp32d(d, _two_sum_lo32(v, nm, d), ih, il, scaled)
    _inv_direct32(1.0 / (_sum64_of32(e) - <double>(SMX_NF32 - K)), &v, &d)
    smx_store_till_f32(out, K, _times32d(e, v, d))
    return 0

DEF SHORT_N = 16            # rows a step of _vshort32_fastn, phase by phase (benchmarks/README.md)

cdef inline int _vshort32_fastn(const float* x, float* out, Py_ssize_t K, Temp t, int op,
                                TCase k) noexcept nogil:
    """_vshort32_fast of SHORT_N rows at once, phase by phase (independent chains), softmax
    (op 0) or log_softmax (1: the maxima's exps of 1 counted apart, the rest summed in
    double, log1p of the two): 1 (nothing written) when any row is not for it."""
    cdef bint neg = TCase is Neg1 or TCase is NegT
    cdef bint scaled = TCase is PosT or TCase is NegT
    cdef smx_vf32 z = smx_zero_f32(), one = smx_setall_f32(1.0), vih, lim, vh, vl
    cdef smx_vf32 v[SHORT_N]
    cdef smx_vf32 nm[SHORT_N]
    cdef smx_vf32 d[SHORT_N]
    cdef smx_mf32 till = smx_till_f32(K), bad, k1
    cdef double inv = t.inv + t.inv_lo
    cdef double iv[SHORT_N]
    cdef float mm[SHORT_N]
    cdef float ih = <float>inv, il = <float>(inv - <double>ih)
    cdef Py_ssize_t j
    if t.hard or not (ih < INFINITY):
        return 1
    vih = smx_setall_f32(ih)
    lim = smx_setall_f32(-SHORT_SPAN if op == 0 else -FAST_SPAN)
    for j in range(SHORT_N):
        v[j] = _ld_till32(x + j * K, K, -3.4028234663852886e38, neg)
    for j in range(SHORT_N):
        mm[j] = smx_reduce_max_f32(v[j])
        nm[j] = smx_setall_f32(-mm[j])
    bad = smx_cmplt_f32(z, z)
    for j in range(SHORT_N):
        v[j] = smx_select_f32(till, v[j], smx_neg_f32(nm[j]))
        d[j] = smx_add_f32(v[j], nm[j])
        bad = smx_or_mf32(bad, smx_or_mf32(smx_cmpneq_f32(smx_mul_f32(v[j], z), z),
                                           smx_cmplt_f32(smx_mul_f32(d[j], vih), lim)))
    if smx_any_mf32(bad):
        return 1
    for j in range(SHORT_N):
        v[j] = _vexp32d(d[j], _two_sum_lo32(v[j], nm[j], d[j]), ih, il, scaled)
    if op == 0:
        for j in range(SHORT_N):
            iv[j] = 1.0 / (_sum64_of32(v[j]) - <double>(SMX_NF32 - K))
        for j in range(SHORT_N):
            _inv_direct32(iv[j], &vh, &vl)
            smx_store_till_f32(out + j * K, K, _times32d(v[j], vh, vl))
        return 0
    for j in range(SHORT_N):     # S - 1 = (ones - 1) + rest, the padding's exps of 1 taken out
        k1 = smx_cmplt_f32(v[j], one)
        iv[j] = ((<double>smx_reduce_add_f32(smx_select_f32(k1, z, one))
                  - <double>(SMX_NF32 - K + 1)) + _sum64_of32(smx_select_f32(k1, v[j], z)))
    _log1p_lanes(iv, SHORT_N)
    for j in range(SHORT_N):     # out = (y - m)/|T| - L (_log_out32)
        smx_store_till_f32(out + j * K, K, _log_vec32(_ld_till32(x + j * K, K, 0.0, neg),
                                                      _log_consts_m32(mm[j], inv, iv[j]), scaled))
    return 0

cdef inline int _vshort32_lsen(const float* x, float* out, Py_ssize_t K, Temp t,
                               TCase k) noexcept nogil:
    """logsumexp of SHORT_N rows of K <= SMX_NF32 elements (out[j]), phase by phase as
    _vshort32_fastn, each row's arithmetic _vshort32_row's (the same bits): the exps in double
    lanes, the maxima's ones counted apart. 1 (nothing written) when a row is not for it (a
    NaN or +-inf, T == 0, a row at its arg-max limit)."""
    cdef bint neg = TCase is Neg1 or TCase is NegT
    cdef bint scaled = TCase is PosT or TCase is NegT
    cdef smx_vf32 z = smx_zero_f32()
    cdef smx_vf32 v[SHORT_N]
    cdef float mm[SHORT_N]
    cdef float am = 0
    cdef double on[SHORT_N]
    cdef double re[SHORT_N]
    cdef smx_mf32 till = smx_till_f32(K), bad
    cdef smx_vf64 inv, o0, o1, r0, r1
    cdef double s_hi, s_lo
    cdef Row32 c
    cdef Py_ssize_t j
    if t.hard:
        return 1
    for j in range(SHORT_N):     # the padding is finite (not flagged) and never the max
        v[j] = _ld_till32(x + j * K, K, -3.4028234663852886e38, neg)
    bad = smx_cmplt_f32(z, z)
    for j in range(SHORT_N):
        mm[j] = smx_reduce_max_f32(v[j])
        bad = smx_or_mf32(bad, smx_cmpneq_f32(smx_mul_f32(v[j], z), z))   # NaN or +-inf
    if smx_any_mf32(bad):
        return 1
    c = _row32(mm[0], t)         # (inv_hi, inv_lo: the same in every row)
    for j in range(SHORT_N):     # |m| 2**-23 >= ulp(m): then ylo < m (_row32_ok) in every row
        am = am if am >= fabsf(mm[j]) else fabsf(mm[j])
    if not (am * 1.1920928955078125e-07 <= 104.0 * t.abs_t and c.inv_hi < INFINITY):
        return 1
    inv = smx_setall_f64(<double>c.inv_hi + <double>c.inv_lo)
    for j in range(SHORT_N):     # _lse_sums32 of one vector (its padding -inf)
        o0 = o1 = r0 = r1 = smx_zero_f64()
        _lse_acc32(smx_select_f32(till, v[j], smx_setall_f32(-INFINITY)),
                   smx_setall_f64(<double>mm[j]), inv, scaled, True, &o0, &o1, &r0, &r1)
        on[j] = smx_reduce_add_f64(smx_add_f64(o0, o1))
        re[j] = smx_reduce_add_f64(smx_add_f64(r0, r1))
    for j in range(SHORT_N):
        _combine(on[j], re[j], 0.0, &s_hi, &s_lo)
        out[j] = <float>_lse_value[float](mm[j], s_hi, s_lo, t)
    return 0

cdef void _vshort32_row(const float* x, float* out, Py_ssize_t K, Temp t, int op,
                        TCase k, char_r ws) noexcept nogil:
    """One row of K <= SMX_NF32 elements, one vector: no loops over a row, no partial
    accumulators, no epilogues. A special row goes to the general kernel."""
    cdef bint neg = TCase is Neg1 or TCase is NegT
    cdef bint scaled = TCase is PosT or TCase is NegT
    cdef smx_vf32 z = smx_zero_f32(), one = smx_setall_f32(1.0), v, e, vh, vl
    cdef smx_vf64 vi
    cdef smx_mf32 k1
    cdef float m
    cdef double ones, rest, s_hi, s_lo
    cdef Row32 c
    # the padding is finite (not flagged) and below ylo (exp 0), never the max
    v = _ld_till32(x, K, -3.4028234663852886e38, neg)
    m = smx_reduce_max_f32(v)
    c = _row32(m, t)
    if (t.hard or smx_any_mf32(smx_cmpneq_f32(smx_mul_f32(v, z), z))   # NaN or +-inf
            or not _row32_ok(c)):
        if op == 2:
            _lse_row(x, out, K, t, ws)
        elif _vrow32_case(x, out, K, t, op, k) != 0:
            _softmax_row(x, out, K, t, op == 1, ws)
        return
    if op == 2:
        _lse_sums32(x, K, c, k, &ones, &rest)
        _combine(ones, rest, 0.0, &s_hi, &s_lo)
        out[0] = <float>_lse_value[float](m, s_hi, s_lo, t)
        return
    e = _vexp32(v, smx_setall_f32(-m), c, scaled)
    if op == 0:
        _inv_pair32(1.0 / _sum64_of32(e), &vh, &vl, &vi)
        smx_store_till_f32(out, K, _times32(e, vh, vl, vi))
        return
    k1 = smx_cmplt_f32(e, one)
    ones = smx_reduce_add_f32(smx_select_f32(k1, z, one))
    rest = _sum64_of32(smx_select_f32(k1, e, z))
    _log_out32(x, out, K, c, _log1p_sum((ones - 1.0) + rest), k)

cdef void _vshort32_case(const float* x, float* out, Py_ssize_t R, Py_ssize_t K, Temp t,
                         int op, TCase k, char_r ws) noexcept nogil:
    """Rows of K <= SMX_NF32 elements, one vector each: softmax and log_softmax on the fast
    path where they can (_vshort32_fastn, _vshort32_fast), logsumexp SHORT_N rows at a time
    (_vshort32_lsen), the rest _vshort32_row."""
    cdef Py_ssize_t r = 0, j
    if op == 2:
        while r + SHORT_N <= R:
            if _vshort32_lsen(x + r * K, out + r, K, t, k) != 0:
                for j in range(SHORT_N):
                    _vshort32_row(x + (r + j) * K, out + r + j, K, t, op, k, ws)
            r += SHORT_N
    elif SMX_HAS_FMA:
        while r + SHORT_N <= R:
            if _vshort32_fastn(x + r * K, out + r * K, K, t, op, k) != 0:
                for j in range(SHORT_N):
                    if op != 0 or _vshort32_fast(x + (r + j) * K, out + (r + j) * K, K, t, k) != 0:
                        _vshort32_row(x + (r + j) * K, out + (r + j) * K, K, t, op, k, ws)
            r += SHORT_N
    while r < R:
        if op == 0 and SMX_HAS_FMA:
            if _vshort32_fast(x + r * K, out + r * K, K, t, k) == 0:
                r += 1
                continue
        _vshort32_row(x + r * K, out + (r if op == 2 else r * K), K, t, op, k, ws)
        r += 1

cdef void _vshort32(const float* x, float* out, Py_ssize_t R, Py_ssize_t K, Temp t,
                    int op, char_r ws) noexcept nogil:
    """R rows of K <= SMX_NF32 elements: softmax (op 0), log_softmax (1), logsumexp (2:
    out[r] per row). Scratch: WS_ROW, for a special row's general kernel."""
    cdef Pos1 p1 = Pos1(0)      # (the tags initialised: gcc's -Wmaybe-uninitialized)
    cdef PosT pt = PosT(0)
    cdef Neg1 n1 = Neg1(0)
    cdef NegT nt = NegT(0)
    cdef int case = _tcase(t)
    if case == 0:
        _vshort32_case(x, out, R, K, t, op, p1, ws)
    elif case == 1:
        _vshort32_case(x, out, R, K, t, op, pt, ws)
    elif case == 2:
        _vshort32_case(x, out, R, K, t, op, n1, ws)
    else:
        _vshort32_case(x, out, R, K, t, op, nt, ws)

# ---------------------------------------------------------------- long rows (_k_vlong.pxi)
cdef double _exp_sum32(const float* x, Py_ssize_t K, Row32 c, TCase k) noexcept nogil:
    """The sum of exp((y - m)/|T|), each exp rounded to float32 as _exp_store_sum32 stores it,
    compensated (nothing stored)."""
    cdef bint neg = TCase is Neg1 or TCase is NegT
    cdef bint scaled = TCase is PosT or TCase is NegT
    cdef smx_vf32 nm = smx_setall_f32(-c.m), one = smx_setall_f32(1.0), z = smx_zero_f32()
    cdef smx_vf32 s0 = one, s1 = one, c0 = z, c1 = z, e0, e1
    cdef Py_ssize_t i = 0
    while i + 2 * SMX_NF32 <= K:
        e0 = _vexp32(_ld32(x + i, neg), nm, c, scaled)
        e1 = _vexp32(_ld32(x + i + SMX_NF32, neg), nm, c, scaled)
        _fast_acc32(&s0, &c0, e0)
        _fast_acc32(&s1, &c1, e1)
        i += 2 * SMX_NF32
    while i < K:
        e0 = _vexp32(_ld_till32(x + i, K - i, -INFINITY, neg), nm, c, scaled)
        _fast_acc32(&s0, &c0, e0)
        i += SMX_NF32
    return _anchored_total32(s0, s1, smx_add_f32(c0, c1), <int>(2 * SMX_NF32))

cdef void _exp_scale_out32(const float* x, float* out, Py_ssize_t K, Row32 c, double inv,
                           TCase k) noexcept nogil:
    """out = exp((y - m)/|T|) * inv, the exps taken again (the output pass of a long row)."""
    cdef bint neg = TCase is Neg1 or TCase is NegT
    cdef bint scaled = TCase is PosT or TCase is NegT
    cdef smx_vf32 nm = smx_setall_f32(-c.m), vh, vl
    cdef smx_vf64 vi
    cdef Py_ssize_t i = 0
    _inv_pair32(inv, &vh, &vl, &vi)
    while i + SMX_NF32 <= K:
        smx_store_f32(out + i, _times32(_vexp32(_ld32(x + i, neg), nm, c, scaled), vh, vl, vi))
        i += SMX_NF32
    if i < K:
        smx_store_till_f32(out + i, K - i, _times32(_vexp32(_ld_till32(x + i, K - i, -INFINITY, neg),
                                                            nm, c, scaled), vh, vl, vi))

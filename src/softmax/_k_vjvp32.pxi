# float32 JVP rows on vectors (softmax_jvp, log_softmax_jvp from x and v): the max pass, the
# exp pass in double lanes (the next row's max pass inside it; softmax rows up to JVP_SC_MAX_K
# save e and e (v - c) in double scratch, longer ones e in out), the output pass; blocks of rows
# (_vjvp_rows32, the only path of these rows). The numerics are described
# in _k_vderiv32.pxi, whose helpers (_vexp_zc64, _lo64, _times_f32) these use. Part of the
# per-ISA kernel source (included by _kernels.pyx).

ctypedef struct JvpStats:     # what the JVP's max pass learns of a row
    float m                   # the max of y = sgn * x (NaN ignored)
    float c                   # the v of an element at it (the anchor)
    float mn                  # the min of y (NaN ignored)
    bint finite               # every x finite (x * 0 summed: NaN for a NaN or an inf)

cdef inline void _jvp_max_step(const float* x, const float* v, Py_ssize_t n, bint neg,
                               smx_vf32* a, smx_vf32* b, smx_vf32* mn, smx_vf32* f) noexcept nogil:
    """One vector of the max pass (n >= SMX_NF32: a full one; else n lanes, the others
    ignored): a the max, b the anchor, mn the min, f x * 0 summed."""
    cdef smx_vf32 z = smx_zero_f32(), y
    cdef smx_mf32 g
    if n >= SMX_NF32:
        y = _ld32(x, neg)
        g = smx_cmpgt_f32(y, a[0])
        a[0] = smx_select_f32(g, y, a[0])
        b[0] = smx_select_f32(g, smx_load_f32(v), b[0])
        mn[0] = smx_min_f32(y, mn[0])
        f[0] = smx_muladd_f32(y, z, f[0])
    else:
        y = _ld_till32(x, n, -INFINITY, neg)
        g = smx_cmpgt_f32(y, a[0])
        a[0] = smx_select_f32(g, y, a[0])
        b[0] = smx_select_f32(g, smx_load_till_f32(v, n, 0.0), b[0])
        mn[0] = smx_min_f32(smx_select_f32(smx_till_f32(n), y, smx_setall_f32(INFINITY)), mn[0])
        f[0] = smx_muladd_f32(smx_load_till_f32(x, n, 0.0), z, f[0])

cdef inline void _jvp_max_end(smx_vf32 a0, smx_vf32 a1, smx_vf32 b0, smx_vf32 b1, smx_vf32 n0,
                              smx_vf32 n1, smx_vf32 f0, smx_vf32 f1, JvpStats* st) noexcept nogil:
    """st from the max pass's two lanes of accumulators (even and odd vectors)."""
    cdef smx_mf32 g = smx_cmpgt_f32(a1, a0)
    a0 = smx_select_f32(g, a1, a0)
    b0 = smx_select_f32(g, b1, b0)
    st.m = smx_reduce_max_f32(a0)
    st.c = smx_reduce_max_f32(smx_select_f32(smx_cmpeq_f32(a0, smx_setall_f32(st.m)), b0,
                                             smx_setall_f32(-INFINITY)))
    st.mn = smx_reduce_min_f32(smx_min_f32(n0, n1))
    f0 = smx_add_f32(f0, f1)
    st.finite = not smx_any_mf32(smx_cmpneq_f32(f0, f0))

cdef void _jvp_max32(const float* x, const float* v, Py_ssize_t K, TCase k,
                     JvpStats* st) noexcept nogil:
    """st of a row: its vectors in pairs into two sets of accumulators, those left over into
    the first (the order the next-row pass of _jvp_exp32 keeps: the same stats)."""
    cdef bint neg = TCase is Neg1 or TCase is NegT
    cdef smx_vf32 z = smx_zero_f32(), lo = smx_setall_f32(-INFINITY)
    cdef smx_vf32 a0 = lo, a1 = lo, b0 = z, b1 = z, f0 = z, f1 = z
    cdef smx_vf32 n0 = smx_setall_f32(INFINITY), n1 = n0
    cdef Py_ssize_t i = 0
    while i + 2 * SMX_NF32 <= K:
        _jvp_max_step(x + i, v + i, SMX_NF32, neg, &a0, &b0, &n0, &f0)
        _jvp_max_step(x + i + SMX_NF32, v + i + SMX_NF32, SMX_NF32, neg, &a1, &b1, &n1, &f1)
        i += 2 * SMX_NF32
    while i < K:
        _jvp_max_step(x + i, v + i, K - i, neg, &a0, &b0, &n0, &f0)
        i += SMX_NF32
    _jvp_max_end(a0, a1, b0, b1, n0, n1, f0, f1, st)

cdef inline bint _jvp_ok(float m, Temp t) noexcept nogil:
    return (not t.hard) and fabsf(m) < INFINITY and t.inv + t.inv_lo < INFINITY

cdef void _jvp_exp32(const float* x, const float* v, float* out, double* sc, Py_ssize_t K,
                     float m, float c, double inv, double span, int store, const float* nx,
                     const float* nv, JvpStats* nst, Py_ssize_t npf, TCase k,
                     double* res) noexcept nogil:
    """The JVP's exp pass: e = exp((y - m)/|T|) * 2**64 in double lanes; res[0] = sum(e),
    res[1] = sum(e (v - c)); store 1: out = e rounded to float32; store 2: e and
    p = e (v - c) in sc (_jvp_sc32's layout; K <= JVP_SC_MAX_K). span = (m - min y) * inv:
    up to EXPD_SPAN every argument of a full vector is at or above EXPF_LO, and the exps skip
    their clamp (the same bits). With nx not NULL, nst = the stats of the next row (nx, nv;
    K elements; _jvp_max32's), its loads hidden by the exps, and PF32_AHEAD elements past
    those loads prefetched while i < npf (the caller's bound: within the arrays)."""
    if span <= EXPD_SPAN:
        _jvp_exp32_body(x, v, out, sc, K, m, c, inv, store, False, nx, nv, nst, npf, k, res)
    else:
        _jvp_exp32_body(x, v, out, sc, K, m, c, inv, store, True, nx, nv, nst, npf, k, res)

cdef inline double* _jvp_sc32(double* sc, Py_ssize_t i) noexcept nogil:
    """The scratch of the vector at element i of a softmax JVP row (K <= JVP_SC_MAX_K):
    its exps in double (two halves), then its p = e (v - c): 2 * SMX_NF32 doubles."""
    return sc + 2 * i

cdef inline void _jvp_exp32_step(smx_vf32 y, smx_vf32 w, smx_vf64 md, smx_vf64 cd, smx_vf64 iv,
                                 bint scaled, bint clamp, smx_vf64* s0, smx_vf64* s1,
                                 smx_vf64* d0, smx_vf64* d1, float* o, double* sc,
                                 Py_ssize_t n, int store) noexcept nogil:
    """One vector of _jvp_exp32: y, w (n lanes of it real; the others y = -inf, w = 0);
    sc its scratch (_jvp_sc32; store 2)."""
    cdef smx_vf64 p0, p1
    cdef smx_vf64 h0 = smx_sub_f64(_lo64(y), md), h1 = smx_sub_f64(_hi64(y), md)
    if scaled:
        h0 = smx_mul_f64(h0, iv)
        h1 = smx_mul_f64(h1, iv)
    h0 = _vexp_zc64(h0, V64_SHIFT64, clamp)
    h1 = _vexp_zc64(h1, V64_SHIFT64, clamp)
    s0[0] = smx_add_f64(s0[0], h0)
    s1[0] = smx_add_f64(s1[0], h1)
    if store == 2:
        p0 = smx_mul_f64(h0, smx_sub_f64(_lo64(w), cd))
        p1 = smx_mul_f64(h1, smx_sub_f64(_hi64(w), cd))
        d0[0] = smx_add_f64(d0[0], p0)
        d1[0] = smx_add_f64(d1[0], p1)
        smx_store_f64(sc, h0)
        smx_store_f64(sc + SMX_NF64, h1)
        smx_store_f64(sc + SMX_NF32, p0)
        smx_store_f64(sc + SMX_NF32 + SMX_NF64, p1)
        return
    d0[0] = smx_muladd_f64(h0, smx_sub_f64(_lo64(w), cd), d0[0])
    d1[0] = smx_muladd_f64(h1, smx_sub_f64(_hi64(w), cd), d1[0])
    if store == 1:
        _st_till32(o, n, smx_cvt_f64x2_f32(h0, h1))

cdef inline void _jvp_exp32_body(const float* x, const float* v, float* out, double* sc,
                                 Py_ssize_t K, float m, float c, double inv, int store,
                                 bint clamp,
                                 const float* nx, const float* nv, JvpStats* nst,
                                 Py_ssize_t npf, TCase k, double* res) noexcept nogil:
    cdef bint neg = TCase is Neg1 or TCase is NegT
    cdef bint scaled = TCase is PosT or TCase is NegT
    cdef bint ahead = nx != NULL
    cdef smx_vf64 md = smx_setall_f64(<double>m), cd = smx_setall_f64(<double>c)
    cdef smx_vf64 iv = smx_setall_f64(inv), z = smx_zero_f64()
    cdef smx_vf64 s0 = z, s1 = z, d0 = z, d1 = z
    cdef smx_vf32 zf = smx_zero_f32(), lo = smx_setall_f32(-INFINITY)
    cdef smx_vf32 a0 = lo, a1 = lo, b0 = zf, b1 = zf, f0 = zf, f1 = zf
    cdef smx_vf32 n0 = smx_setall_f32(INFINITY), n1 = n0
    cdef Py_ssize_t i = 0, j
    while i + 2 * SMX_NF32 <= K:
        _jvp_exp32_step(_ld32(x + i, neg), smx_load_f32(v + i), md, cd, iv, scaled, clamp,
                        &s0, &s1, &d0, &d1, out + i, _jvp_sc32(sc, i), SMX_NF32, store)
        _jvp_exp32_step(_ld32(x + i + SMX_NF32, neg), smx_load_f32(v + i + SMX_NF32), md, cd,
                        iv, scaled, clamp, &s0, &s1, &d0, &d1, out + i + SMX_NF32,
                        _jvp_sc32(sc, i + SMX_NF32), SMX_NF32, store)
        if ahead:
            _jvp_max_step(nx + i, nv + i, SMX_NF32, neg, &a0, &b0, &n0, &f0)
            _jvp_max_step(nx + i + SMX_NF32, nv + i + SMX_NF32, SMX_NF32, neg, &a1, &b1, &n1,
                          &f1)
            if i < npf:
                smx_prefetch(nx + i + PF32_AHEAD)
                smx_prefetch(nx + i + PF32_AHEAD + SMX_NF32)
                smx_prefetch(nv + i + PF32_AHEAD)
                smx_prefetch(nv + i + PF32_AHEAD + SMX_NF32)
        i += 2 * SMX_NF32
    j = i
    if i + SMX_NF32 <= K:
        _jvp_exp32_step(_ld32(x + i, neg), smx_load_f32(v + i), md, cd, iv, scaled, clamp,
                        &s0, &s1, &d0, &d1, out + i, _jvp_sc32(sc, i), SMX_NF32, store)
        i += SMX_NF32
    if i < K:                  # the padding's -inf needs the clamp
        _jvp_exp32_step(_ld_till32(x + i, K - i, -INFINITY, neg),
                        smx_load_till_f32(v + i, K - i, 0.0), md, cd, iv, scaled, True,
                        &s0, &s1, &d0, &d1, out + i, _jvp_sc32(sc, i), K - i, store)
    res[0] = smx_reduce_add_f64(smx_add_f64(s0, s1))
    res[1] = smx_reduce_add_f64(smx_add_f64(d0, d1))
    if ahead:
        while j < K:
            _jvp_max_step(nx + j, nv + j, K - j, neg, &a0, &b0, &n0, &f0)
            j += SMX_NF32
        _jvp_max_end(a0, a1, b0, b1, n0, n1, f0, f1, nst)

cdef void _jvp_out32(const float* v, float* out, Py_ssize_t K, float c, double mu,
                     double qf, double f, bint log_out, TCase k) noexcept nogil:
    """The JVP's output pass: a = (v - c) - mu in double; softmax out = (e * qf) * a with e
    the saved exp and qf = f / sum(e); log_softmax out = a * f."""
    cdef bint neg = TCase is Neg1 or TCase is NegT
    cdef bint scaled = TCase is PosT or TCase is NegT
    cdef smx_vf64 cd = smx_setall_f64(<double>c), vmu = smx_setall_f64(mu)
    cdef smx_vf64 vq = smx_setall_f64(qf), vf = smx_setall_f64(f), a0, a1
    cdef smx_vf32 w, e
    cdef Py_ssize_t i = 0, n
    while i < K:
        n = K - i
        if n >= SMX_NF32:
            w = smx_load_f32(v + i)
        else:
            w = smx_load_till_f32(v + i, n, 0.0)
        a0 = smx_sub_f64(smx_sub_f64(_lo64(w), cd), vmu)
        a1 = smx_sub_f64(smx_sub_f64(_hi64(w), cd), vmu)
        if log_out:
            _st_till32(out + i, n, _times_f32(a0, a1, vf, neg, scaled))
        else:
            e = smx_load_till_f32(out + i, n, 0.0) if n < SMX_NF32 else smx_load_f32(out + i)
            _st_till32(out + i, n, smx_cvt_f64x2_f32(smx_mul_f64(smx_mul_f64(_lo64(e), vq), a0),
                                                     smx_mul_f64(smx_mul_f64(_hi64(e), vq), a1)))
        i += SMX_NF32

cdef void _jvp_out32_sc(const double* sc, float* out, Py_ssize_t K, double mu,
                        double qf) noexcept nogil:
    """The softmax JVP's output pass from its scratch (_jvp_sc32; store 2 of _jvp_exp32):
    out = (p - mu e) * qf, qf = f / sum(e), rounded once to float32."""
    cdef smx_vf64 vmu = smx_setall_f64(mu), vq = smx_setall_f64(qf)
    cdef const double* b
    cdef Py_ssize_t i = 0
    while i < K:
        b = sc + 2 * i
        _st_till32(out + i, K - i, smx_cvt_f64x2_f32(
            smx_mul_f64(smx_nmuladd_f64(vmu, smx_load_f64(b), smx_load_f64(b + SMX_NF32)), vq),
            smx_mul_f64(smx_nmuladd_f64(vmu, smx_load_f64(b + SMX_NF64),
                                        smx_load_f64(b + SMX_NF32 + SMX_NF64)), vq)))
        i += SMX_NF32

cdef int _vjvp_row32_from(const float* x, const float* v, float* out, Py_ssize_t K, Temp t,
                          bint log_out, JvpStats st, const float* nx, const float* nv,
                          JvpStats* nst, Py_ssize_t npf, TCase k, double* sc) noexcept nogil:
    """A JVP row of max-pass stats st: 0 when done (and, with nx, nst = the next row's
    stats, taken during its exp pass; npf: _jvp_exp32's prefetch bound), 1 for a special
    row (untouched, nst not taken). sc: scratch of 16 * JVP_SC_MAX_K bytes."""
    cdef int store = 0 if log_out else (2 if K <= JVP_SC_MAX_K else 1)
    cdef double res[2]
    cdef double q, inv = t.inv + t.inv_lo
    cdef float c
    if not st.finite:
        if not (fabsf(st.m) < INFINITY) or _has_nan32(x, K):
            return 1
    if not _jvp_ok(st.m, t):
        return 1
    c = st.c if fabsf(st.c) < INFINITY else 0.0    # an infinite v: no anchor (NaN as in general)
    _jvp_exp32(x, v, out, sc, K, st.m, c, inv, (<double>st.m - <double>st.mn) * inv, store,
               nx, nv, nst, npf, k, res)
    q = 1.0 / res[0]
    if store == 2:
        _jvp_out32_sc(sc, out, K, res[1] * q, q * t.inv_signed)
    else:
        _jvp_out32(v, out, K, c, res[1] * q, q * t.inv_signed, t.inv_signed, log_out, k)
    return 0

cdef void _vjvp_rows32_case(const float* x, const float* v, float* out, Py_ssize_t R,
                            Py_ssize_t K, Temp t, bint log_out, TCase k,
                            char_r ws) noexcept nogil:
    """R JVP rows (SMX_NF32 < K), each row's max pass taken during the exp pass of the row
    before it (the same stats: the same bits as one row at a time); a special row the
    general kernel's."""
    cdef JvpStats cur, nxt
    cdef double* sc = <double*>_ws(&ws, 16 * JVP_SC_MAX_K)   # (then a special row's kernel)
    cdef Py_ssize_t r
    if R <= 0:
        return
    _jvp_max32(x, v, K, k, &cur)
    for r in range(R):
        if r + 1 < R:
            if _vjvp_row32_from(x + r * K, v + r * K, out + r * K, K, t, log_out, cur,
                                x + (r + 1) * K, v + (r + 1) * K, &nxt,
                                (R - r - 1) * K - PF32_AHEAD - 2 * SMX_NF32, k, sc) != 0:
                _jvp_row(x + r * K, v + r * K, out + r * K, K, t, log_out, ws)
                _jvp_max32(x + (r + 1) * K, v + (r + 1) * K, K, k, &nxt)
            cur = nxt
        elif _vjvp_row32_from(x + r * K, v + r * K, out + r * K, K, t, log_out, cur,
                              NULL, NULL, NULL, 0, k, sc) != 0:
            _jvp_row(x + r * K, v + r * K, out + r * K, K, t, log_out, ws)

cdef void _vjvp_rows32(const float* x, const float* v, float* out, Py_ssize_t R, Py_ssize_t K,
                       Temp t, bint log_out, char_r ws) noexcept nogil:
    """R float32 JVP rows of SMX_NF32 < K elements (_vjvp_rows32_case). Scratch: WS_JVP32."""
    cdef Pos1 p1
    cdef PosT pt
    cdef Neg1 n1
    cdef NegT nt
    cdef int case = _tcase(t)
    if case == 0:
        _vjvp_rows32_case(x, v, out, R, K, t, log_out, p1, ws)
    elif case == 1:
        _vjvp_rows32_case(x, v, out, R, K, t, log_out, pt, ws)
    elif case == 2:
        _vjvp_rows32_case(x, v, out, R, K, t, log_out, n1, ws)
    else:
        _vjvp_rows32_case(x, v, out, R, K, t, log_out, nt, ws)

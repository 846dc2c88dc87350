# The fast path of float32 softmax and log_softmax columns (inner > 1): the passes of a strip
# (their driver and the entry of the float32 column kernels, _vcols32: _k_vfstrips32.pxi).
# Part of the per-ISA kernel source (included by _kernels.pyx).
#
# A block of W columns goes in strips of FCV vectors of columns (64 float32 columns with
# AVX-512), whose state stays in registers (FcStrip). A strip takes three passes over its K rows:
#   1  each column's max and min (and x * 0 summed: NaN for a NaN or an inf);
#   2  the exps exp((y - mt)/|T|) on the fast exp of the rows (_vexp32f: mt the max rounded up
#      to a multiple of ulp(max |y|), y - mt by Fast2Sum, no guards), summed (anchored
#      Fast2Sum, its compensation flushed into double every LOG_FLUSH rows);
#   3  out = the exps times 1/sum, each product rounded once.
# x is read once from memory and out written once; the exp is taken once per element, where
# the two-pass online form (_vcols32_case) takes it twice. A block of at most one strip's
# width (inner <= 64 with AVX-512) is contiguous: the passes run on x and out themselves, for
# any K (log_softmax: up to FCOL_LOG_CONTIG bytes), and such blocks of consecutive outer
# slices go in runs, each block's pass 1 inside the previous one's pass 2 (_fc_pass2n,
# _fc_blocks32_case). A strip of a wider block (rows far
# apart) is copied by pass 1 into a contiguous buffer, where passes 2 and 3 find it in L2
# (rows a large power of two apart share a few cache sets and would not stay there), and
# pass 1 of the next strip runs inside pass 2 of this one, so that reading memory overlaps
# the exps. A strip with a column the fast exp cannot take (a NaN or inf, a span
# (max - min)/|T| above FAST_SPAN, max |y| below 2**-100; T == 0; no FMA) goes to
# _vcols32_case, which handles every column; nothing is written before that is known.

DEF FCV = 4                    # vectors of columns a strip (the fields of FcStrip)
DEF FC_STRIPS_AHEAD_BYTES = 262144   # (_fc_strips32's prefetch of strips ahead: in L2)
DEF FC_AHEAD = 8               # rows ahead of pass 1 that it prefetches (the strip's rows are
                               # short and far apart: the hardware prefetchers miss them)

ctypedef struct FcStrip:       # a strip's four vectors of columns: pass 1's max a, min b and
    smx_vf32 a0, a1, a2, a3    # x * 0 summed in q0 (one for all four: fewer registers); then
    smx_vf32 b0, b1, b2, b3    # -mt (a) and the anchored sum b + q of pass 2; then the float32
                               # pair b + q of 2**24 / sum
    smx_vf32 q0, q1, q2, q3

cdef inline smx_vf32 _fld32(const float* p, Py_ssize_t n, bint neg) noexcept nogil:
    """x of the n columns at p (n may be <= 0); the other lanes sgn (y = 1 there: a column of
    ones, harmless in every pass)."""
    if n >= SMX_NF32:
        return smx_load_f32(p)
    return smx_load_till_f32(p, n, -1.0 if neg else 1.0)

cdef inline void _fc_stats(const float* p, Py_ssize_t n, float* cp, bint neg, smx_vf32* a,
                           smx_vf32* b, smx_vf32* q) noexcept nogil:
    """Pass 1 on one vector of a row: a = max, b = min, q += y * 0; x copied to cp (not NULL)."""
    cdef smx_vf32 v = _fld32(p, n, neg)
    if cp != NULL:
        smx_store_f32(cp, v)
    if neg:
        v = smx_neg_f32(v)
    a[0] = smx_max_f32(v, a[0])
    b[0] = smx_min_f32(v, b[0])
    q[0] = smx_muladd_f32(v, smx_zero_f32(), q[0])

cdef inline void _fc_start(FcStrip* s) noexcept nogil:
    s.a0 = s.a1 = s.a2 = s.a3 = smx_setall_f32(-INFINITY)
    s.b0 = s.b1 = s.b2 = s.b3 = smx_setall_f32(INFINITY)
    s.q0 = s.q1 = s.q2 = s.q3 = smx_zero_f32()

cdef inline void _fc_row1(const float* p, Py_ssize_t stride, Py_ssize_t w, float* cp, bint neg,
                          FcStrip* s, Py_ssize_t pf) noexcept nogil:
    """Pass 1 on one row of a strip (w columns at p; copied to cp when not NULL); prefetches
    the row FC_AHEAD rows on and, when pf > 0, this row of the strip pf columns on."""
    cdef Py_ssize_t j
    for j in range(0, w, 16):
        smx_prefetch(p + FC_AHEAD * stride + j)
    if pf > 0:
        for j in range(0, FCV * SMX_NF32, 16):
            smx_prefetch(p + pf + j)
    _fc_stats(p, w, cp, neg, &s.a0, &s.b0, &s.q0)
    if w > SMX_NF32 or cp != NULL:     # (a copy has all its lanes; else vectors past w skipped)
        _fc_stats(p + SMX_NF32, w - SMX_NF32, cp + SMX_NF32 if cp != NULL else NULL, neg,
                  &s.a1, &s.b1, &s.q0)
    if w > 2 * SMX_NF32 or cp != NULL:
        _fc_stats(p + 2 * SMX_NF32, w - 2 * SMX_NF32, cp + 2 * SMX_NF32 if cp != NULL else NULL,
                  neg, &s.a2, &s.b2, &s.q0)
    if w > 3 * SMX_NF32 or cp != NULL:
        _fc_stats(p + 3 * SMX_NF32, w - 3 * SMX_NF32, cp + 3 * SMX_NF32 if cp != NULL else NULL,
                  neg, &s.a3, &s.b3, &s.q0)

cdef inline bint _fc_consts(smx_vf32* a, smx_vf32* b, smx_vf32 q, Py_ssize_t n,
                            float inv_hi) noexcept nogil:
    """From a vector's pass 1 (a max, b min; q NaN in a lane where some column of the strip
    in that lane has a NaN or inf): False when one of its n columns cannot take the fast path;
    else a = -mt (mt: the max rounded up to a multiple of ulp(max |y|)), b = 1 (the anchor of
    pass 2's sum)."""
    cdef smx_vf32 z = smx_zero_f32(), one = smx_setall_f32(1.0), v, g, r
    cdef smx_vi32 bits
    cdef smx_mf32 ok
    v = smx_max_f32(a[0], smx_neg_f32(b[0]))                           # max |y|
    ok = smx_and_mf32(smx_cmpeq_f32(q, q),
                      smx_cmpge_f32(v, smx_setall_f32(7.888609052210118e-31)))   # 2**-100
    bits = smx_shli_i32(smx_shri_i32(smx_as_i32_f32(v), 23), 23)       # 2**e <= max |y|
    g = smx_as_f32_i32(smx_sub_i32(bits, smx_setall_i32(23 << 23)))    # ulp(max |y|)
    r = smx_div_f32(a[0], g)                                           # exact: |r| < 2**24
    v = smx_rint_f32(r)
    v = smx_mul_f32(smx_add_f32(v, smx_select_f32(smx_cmplt_f32(v, r), one, z)), g)
    ok = smx_and_mf32(ok, smx_cmple_f32(smx_mul_f32(smx_sub_f32(v, b[0]), smx_setall_f32(inv_hi)),
                                        smx_setall_f32(FAST_SPAN - 0.5)))
    if smx_any_mf32(smx_andnot_mf32(smx_till_f32(n), ok)):
        return False
    a[0] = smx_neg_f32(v)
    b[0] = one
    return True

cdef inline bint _fc_ready(FcStrip* s, Py_ssize_t w, float inv_hi, double* cd) noexcept nogil:
    """After pass 1: whether the strip's w columns take the fast path (then ready for pass 2,
    the compensation's double lanes cd set to 0)."""
    cdef Py_ssize_t j
    if not (_fc_consts(&s.a0, &s.b0, s.q0, w, inv_hi)
            and _fc_consts(&s.a1, &s.b1, s.q0, w - SMX_NF32, inv_hi)
            and _fc_consts(&s.a2, &s.b2, s.q0, w - 2 * SMX_NF32, inv_hi)
            and _fc_consts(&s.a3, &s.b3, s.q0, w - 3 * SMX_NF32, inv_hi)):
        return False
    s.q0 = s.q1 = s.q2 = s.q3 = smx_zero_f32()
    for j in range(FCV * SMX_NF32):
        cd[j] = 0.0
    return True

cdef inline void _fc_exp(const float* p, float* d, Py_ssize_t n, bint neg, smx_vf32 nmt,
                         float inv_hi, float inv_lo, bint scaled, smx_vf32* s,
                         smx_vf32* c) noexcept nogil:
    """Pass 2 on one vector of a row: d = exp((y - mt)/|T|), (s, c) += it."""
    cdef smx_vf32 v = _fld32(p, n, neg)
    cdef smx_vf32 e = _vexp32f(smx_neg_f32(v) if neg else v, nmt, inv_hi, inv_lo, scaled)
    _st_till32(d, n, e)
    _fast_acc32(s, c, e)

cdef inline void _fc_row2(const float* p, float* d, Py_ssize_t w, Py_ssize_t row, bint neg,
                          float inv_hi, float inv_lo, bint scaled, FcStrip* s,
                          double* cd) noexcept nogil:
    """Pass 2 on one row of a strip: the exps of the w columns at p to d, summed; the
    compensation into its double lanes cd every LOG_FLUSH rows (each lane sums K terms: in
    float32 alone its rounding errors grow as K**2 2**-48 of the sum)."""
    _fc_exp(p, d, w, neg, s.a0, inv_hi, inv_lo, scaled, &s.b0, &s.q0)
    if w > SMX_NF32:
        _fc_exp(p + SMX_NF32, d + SMX_NF32, w - SMX_NF32, neg, s.a1, inv_hi, inv_lo, scaled,
                &s.b1, &s.q1)
    if w > 2 * SMX_NF32:
        _fc_exp(p + 2 * SMX_NF32, d + 2 * SMX_NF32, w - 2 * SMX_NF32, neg, s.a2, inv_hi,
                inv_lo, scaled, &s.b2, &s.q2)
    if w > 3 * SMX_NF32:
        _fc_exp(p + 3 * SMX_NF32, d + 3 * SMX_NF32, w - 3 * SMX_NF32, neg, s.a3, inv_hi,
                inv_lo, scaled, &s.b3, &s.q3)
    if row % LOG_FLUSH == LOG_FLUSH - 1:
        _fc_flush4(s, cd)

cdef inline void _fc_inv(smx_vf32* s, smx_vf32* c, double* cd) noexcept nogil:
    """(s, c) = the float32 pair of 2**24 / S, S = (s - 1) + c the anchored sum of pass 2, its
    compensation c flushed into cd (then S = (s - 1) + cd)."""
    cdef smx_vf64 d0, d1
    _fc_flush(c, cd)
    d0 = smx_div_f64(smx_setall_f64(16777216.0), smx_add_f64(
        smx_sub_f64(smx_cvt_lo_f32_f64(s[0]), smx_setall_f64(1.0)), smx_load_f64(cd)))
    d1 = smx_div_f64(smx_setall_f64(16777216.0), smx_add_f64(
        smx_sub_f64(smx_cvt_hi_f32_f64(s[0]), smx_setall_f64(1.0)), smx_load_f64(cd + SMX_NF64)))
    s[0] = smx_cvt_f64x2_f32(d0, d1)
    c[0] = smx_cvt_f64x2_f32(smx_sub_f64(d0, smx_cvt_lo_f32_f64(s[0])),
                             smx_sub_f64(d1, smx_cvt_hi_f32_f64(s[0])))

cdef inline void _fc_out(const float* p, float* o, Py_ssize_t n, smx_vf32 vh,
                         smx_vf32 vl) noexcept nogil:
    """Pass 3 on one vector of a row: o = p * 1/S, rounded once (vh + vl: 2**24 / S)."""
    cdef smx_vf32 e = smx_load_f32(p) if n >= SMX_NF32 else smx_load_till_f32(p, n, 0.0)
    _st_till32(o, n, _times32(e, vh, vl, smx_zero_f64()))

cdef inline void _fc_pass3(const float* d, Py_ssize_t ds, float* out, Py_ssize_t stride, Py_ssize_t K,
                           Py_ssize_t w, FcStrip* s, double* cd) noexcept nogil:
    """Pass 3 of a strip: out = its exps (d, rows ds apart) times 1/sum."""
    cdef Py_ssize_t row
    cdef FcStrip l = s[0]       # (local: in registers, _fc_pass1)
    _fc_inv(&l.b0, &l.q0, cd)
    _fc_inv(&l.b1, &l.q1, cd + SMX_NF32)
    _fc_inv(&l.b2, &l.q2, cd + 2 * SMX_NF32)
    _fc_inv(&l.b3, &l.q3, cd + 3 * SMX_NF32)
    for row in range(K):
        _fc_out(d + row * ds, out + row * stride, w, l.b0, l.q0)
        if w > SMX_NF32:
            _fc_out(d + row * ds + SMX_NF32, out + row * stride + SMX_NF32, w - SMX_NF32,
                    l.b1, l.q1)
        if w > 2 * SMX_NF32:
            _fc_out(d + row * ds + 2 * SMX_NF32, out + row * stride + 2 * SMX_NF32,
                    w - 2 * SMX_NF32, l.b2, l.q2)
        if w > 3 * SMX_NF32:
            _fc_out(d + row * ds + 3 * SMX_NF32, out + row * stride + 3 * SMX_NF32,
                    w - 3 * SMX_NF32, l.b3, l.q3)

# ---------------------------------------------------------------- log_softmax
# The same strips, with the arithmetic of the rows' fast log_softmax (_fexp_sum_log32): mt = m
# (the exact max; y - m by TwoSum), the exps only summed, the float32 compensation flushed into
# double every LOG_FLUSH rows (cd), then per column L = log1p(S - 1) and pass 3
# out = (y - c_hi) - c_lo (c_hi + c_lo = m + L; T == 1) or (y - m)/|T| - L in double. A strip
# with a column whose S - 1 is below _fc_rest_min (a confident column: its rest needs
# double sums) goes to _vcols32_case, which has written nothing before.

cdef inline bint _fc_consts_log(smx_vf32* a, smx_vf32* b, smx_vf32 q, Py_ssize_t n,
                                float inv_hi) noexcept nogil:
    """_fc_consts for log_softmax: a = -m, no grid (mt = m), no least max |y|."""
    cdef smx_mf32 ok = smx_and_mf32(
        smx_cmpeq_f32(q, q), smx_cmple_f32(smx_mul_f32(smx_sub_f32(a[0], b[0]),
                                                       smx_setall_f32(inv_hi)),
                                           smx_setall_f32(FAST_SPAN - 0.5)))
    if smx_any_mf32(smx_andnot_mf32(smx_till_f32(n), ok)):
        return False
    a[0] = smx_neg_f32(a[0])
    b[0] = smx_setall_f32(1.0)
    return True

cdef inline bint _fc_ready_log(FcStrip* s, Py_ssize_t w, float inv_hi, double* cd) noexcept nogil:
    cdef Py_ssize_t j
    if not (_fc_consts_log(&s.a0, &s.b0, s.q0, w, inv_hi)
            and _fc_consts_log(&s.a1, &s.b1, s.q0, w - SMX_NF32, inv_hi)
            and _fc_consts_log(&s.a2, &s.b2, s.q0, w - 2 * SMX_NF32, inv_hi)
            and _fc_consts_log(&s.a3, &s.b3, s.q0, w - 3 * SMX_NF32, inv_hi)):
        return False
    s.q0 = s.q1 = s.q2 = s.q3 = smx_zero_f32()
    for j in range(FCV * SMX_NF32):
        cd[j] = 0.0
    return True

cdef inline void _fc_explog(const float* p, Py_ssize_t n, bint neg, smx_vf32 nm, float inv_hi,
                            float inv_lo, bint scaled, smx_vf32* s, smx_vf32* c) noexcept nogil:
    """log_softmax's pass 2 on one vector of a row (n columns at p): (s, c) += the exps."""
    cdef smx_vf32 y = _fld32(p, n, neg)
    cdef smx_vf32 d
    if neg:
        y = smx_neg_f32(y)
    d = smx_add_f32(y, nm)
    _fast_acc32(s, c, _vexp32d(d, _two_sum_lo32(y, nm, d), inv_hi, inv_lo, scaled))

cdef inline void _fc_flush(smx_vf32* c, double* cd) noexcept nogil:
    """The compensation c into its double lanes cd, c = 0."""
    smx_store_f64(cd, smx_add_f64(smx_load_f64(cd), smx_cvt_lo_f32_f64(c[0])))
    smx_store_f64(cd + SMX_NF64, smx_add_f64(smx_load_f64(cd + SMX_NF64), smx_cvt_hi_f32_f64(c[0])))
    c[0] = smx_zero_f32()

cdef inline void _fc_flush4(FcStrip* s, double* cd) noexcept nogil:
    """_fc_flush of the strip's four compensations s.q into cd."""
    _fc_flush(&s.q0, cd)
    _fc_flush(&s.q1, cd + SMX_NF32)
    _fc_flush(&s.q2, cd + 2 * SMX_NF32)
    _fc_flush(&s.q3, cd + 3 * SMX_NF32)

cdef inline void _fc_row2log(const float* p, Py_ssize_t w, Py_ssize_t row, bint neg,
                             float inv_hi, float inv_lo, bint scaled, FcStrip* s,
                             double* cd) noexcept nogil:
    """log_softmax's pass 2 on one row of a strip (w columns at p)."""
    _fc_explog(p, w, neg, s.a0, inv_hi, inv_lo, scaled, &s.b0, &s.q0)
    if w > SMX_NF32:
        _fc_explog(p + SMX_NF32, w - SMX_NF32, neg, s.a1, inv_hi, inv_lo, scaled, &s.b1, &s.q1)
    if w > 2 * SMX_NF32:
        _fc_explog(p + 2 * SMX_NF32, w - 2 * SMX_NF32, neg, s.a2, inv_hi, inv_lo, scaled, &s.b2,
                   &s.q2)
    if w > 3 * SMX_NF32:
        _fc_explog(p + 3 * SMX_NF32, w - 3 * SMX_NF32, neg, s.a3, inv_hi, inv_lo, scaled, &s.b3,
                   &s.q3)
    if row % LOG_FLUSH == LOG_FLUSH - 1:
        _fc_flush4(s, cd)

cdef inline double _fc_rest_min(Py_ssize_t K) noexcept nogil:
    """The least S - 1 whose float32 lane sums (K terms, the compensation flushed every
    LOG_FLUSH) are good to a relative 2**-28: _log_rest_min's bound with n = K terms a lane."""
    return <double>K * <double>min(K, <Py_ssize_t>LOG_FLUSH) * 1.9073486328125e-06   # 2**-19

cdef bint _fc_end_log(FcStrip* s, double* cd, Py_ssize_t K, Py_ssize_t w, bint scaled,
                      float* ch, float* cl) noexcept nogil:
    """After log_softmax's pass 2: False when a column's S - 1 is below _fc_rest_min; else
    cd = L = log1p(S - 1) per column, and with T == 1 (ch, cl) = the float32 pair of m + L,
    in s.b, s.q (a = -m stays)."""
    cdef float m[FCV * 16]
    cdef double rmin = _fc_rest_min(K), S1
    cdef Py_ssize_t j
    _fc_flush4(s, cd)
    smx_store_f32(ch, s.b0)
    smx_store_f32(ch + SMX_NF32, s.b1)
    smx_store_f32(ch + 2 * SMX_NF32, s.b2)
    smx_store_f32(ch + 3 * SMX_NF32, s.b3)
    smx_store_f32(m, smx_neg_f32(s.a0))
    smx_store_f32(m + SMX_NF32, smx_neg_f32(s.a1))
    smx_store_f32(m + 2 * SMX_NF32, smx_neg_f32(s.a2))
    smx_store_f32(m + 3 * SMX_NF32, smx_neg_f32(s.a3))
    for j in range(w):          # S - 1 = (s - 2) + c, s anchored at 1 (exact in double)
        S1 = (<double>ch[j] - 2.0) + cd[j]
        if not (S1 >= rmin):
            return False
        cd[j] = S1
    for j in range(w, FCV * SMX_NF32):
        cd[j] = 0.0
        ch[j] = cl[j] = 0.0
    _log1p_lanes(cd, FCV * SMX_NF32)
    if not scaled:
        for j in range(w):
            ch[j] = <float>(<double>m[j] + cd[j])
            cl[j] = <float>((<double>m[j] - <double>ch[j]) + cd[j])
    s.b0 = smx_load_f32(ch)
    s.b1 = smx_load_f32(ch + SMX_NF32)
    s.b2 = smx_load_f32(ch + 2 * SMX_NF32)
    s.b3 = smx_load_f32(ch + 3 * SMX_NF32)
    s.q0 = smx_load_f32(cl)
    s.q1 = smx_load_f32(cl + SMX_NF32)
    s.q2 = smx_load_f32(cl + 2 * SMX_NF32)
    s.q3 = smx_load_f32(cl + 3 * SMX_NF32)
    return True

cdef inline void _fc_outlog(const float* p, float* o, Py_ssize_t n, bint neg, bint scaled,
                            smx_vf32 nm, smx_vf32 vh, smx_vf32 vl, const double* L,
                            double inv) noexcept nogil:
    """log_softmax's pass 3 on one vector of a row (_fc_logval)."""
    cdef smx_vf32 y = smx_load_f32(p) if n >= SMX_NF32 else smx_load_till_f32(p, n, 0.0)
    _st_till32(o, n, _fc_logval(y, neg, scaled, nm, vh, vl, L, inv))

cdef inline smx_vf32 _fc_logval(smx_vf32 y, bint neg, bint scaled, smx_vf32 nm, smx_vf32 vh,
                                smx_vf32 vl, const double* L, double inv) noexcept nogil:
    """log_softmax's output of one vector x = y: (y - vh) - vl, or with T != 1
    (y - m)/|T| - L in double (_log_out32's)."""
    cdef smx_vf64 vi, md
    if neg:
        y = smx_neg_f32(y)
    if scaled:
        vi = smx_setall_f64(inv)
        md = smx_neg_f64(smx_cvt_lo_f32_f64(nm))
        y = smx_cvt_f64x2_f32(
            smx_sub_f64(smx_mul_f64(smx_sub_f64(smx_cvt_lo_f32_f64(y), md), vi), smx_load_f64(L)),
            smx_sub_f64(smx_mul_f64(smx_sub_f64(smx_cvt_hi_f32_f64(y),
                                                smx_neg_f64(smx_cvt_hi_f32_f64(nm))), vi),
                        smx_load_f64(L + SMX_NF64)))
    else:
        y = smx_sub_f32(smx_sub_f32(y, vh), vl)
    return y

cdef inline void _fc_pass3log(const float* d, Py_ssize_t ds, float* out, Py_ssize_t stride,
                              Py_ssize_t K, Py_ssize_t w, bint neg, bint scaled, FcStrip* s,
                              const double* L, double inv) noexcept nogil:
    """log_softmax's pass 3 of a strip: out from x (d, rows ds apart)."""
    cdef Py_ssize_t row
    cdef const float* p
    cdef float* o
    cdef FcStrip l = s[0]       # (local: in registers, _fc_pass1)
    for row in range(K):
        p = d + row * ds
        o = out + row * stride
        _fc_outlog(p, o, w, neg, scaled, l.a0, l.b0, l.q0, L, inv)
        if w > SMX_NF32:
            _fc_outlog(p + SMX_NF32, o + SMX_NF32, w - SMX_NF32, neg, scaled, l.a1, l.b1, l.q1,
                       L + SMX_NF32, inv)
        if w > 2 * SMX_NF32:
            _fc_outlog(p + 2 * SMX_NF32, o + 2 * SMX_NF32, w - 2 * SMX_NF32, neg, scaled, l.a2,
                       l.b2, l.q2, L + 2 * SMX_NF32, inv)
        if w > 3 * SMX_NF32:
            _fc_outlog(p + 3 * SMX_NF32, o + 3 * SMX_NF32, w - 3 * SMX_NF32, neg, scaled, l.a3,
                       l.b3, l.q3, L + 3 * SMX_NF32, inv)

cdef void _fc_pass1(const float* x, Py_ssize_t stride, Py_ssize_t K, Py_ssize_t w, float* cp,
                    bint neg, FcStrip* s, Py_ssize_t pf) noexcept nogil:
    """Pass 1 of a strip: w columns of K rows stride apart at x (copied to cp, rows FCV
    vectors apart, when not NULL; pf: _fc_row1's prefetch). (The strip's state is copied to a
    local, whose address no call outside this function sees: gcc keeps it in registers,
    where the caller's, passed on to functions not inlined, stays in memory: a load and a
    store a vector a row.)"""
    cdef FcStrip l = s[0]
    cdef Py_ssize_t row
    for row in range(K):
        _fc_row1(x + row * stride, stride, w, cp + row * FCV * SMX_NF32 if cp != NULL else NULL,
                 neg, &l, pf)
    s[0] = l

cdef void _fc_pass12(const float* cur, const float* x, Py_ssize_t stride, Py_ssize_t K,
                     Py_ssize_t wn, float* nxt, int op, bint neg, float inv_hi, float inv_lo,
                     bint scaled, FcStrip* s, FcStrip* sn, double* cd, Py_ssize_t pf) noexcept nogil:
    """Pass 2 of the copied strip cur (softmax, op 0: its exps in place; log_softmax: summed)
    with, row for row, pass 1 of the next strip (wn > 0 columns at x, copied to nxt). (Local
    state: _fc_pass1.)"""
    cdef FcStrip l = s[0], ln = sn[0]
    cdef Py_ssize_t row, FW = FCV * SMX_NF32
    for row in range(K):
        _fc_row1(x + row * stride, stride, wn, nxt + row * FW, neg, &ln, pf)
        if op == 0:
            _fc_row2(cur + row * FW, <float*>cur + row * FW, FW, row, neg, inv_hi, inv_lo, scaled,
                     &l, cd)
        else:
            _fc_row2log(cur + row * FW, FW, row, neg, inv_hi, inv_lo, scaled, &l, cd)
    s[0] = l
    sn[0] = ln

cdef void _fc_pass2n(const float* x, float* out, const float* xn, Py_ssize_t K, Py_ssize_t w,
                     int op, bint neg, float inv_hi, float inv_lo, bint scaled, FcStrip* s,
                     FcStrip* sn, double* cd) noexcept nogil:
    """Pass 2 over a contiguous (K, w) block x (softmax, op 0: its exps to out; log_softmax:
    summed, out's rows prefetched for writing as _fc_pass2log does) with, row for row, pass 1
    of the next block xn (the same shape; its stats into sn), whose loads the exps hide.
    (Local state: _fc_pass1.)"""
    cdef FcStrip l = s[0], ln = sn[0]
    cdef Py_ssize_t row, j
    for row in range(K):
        _fc_row1(xn + row * w, w, w, NULL, neg, &ln, 0)
        if op == 0:
            _fc_row2(x + row * w, out + row * w, w, row, neg, inv_hi, inv_lo, scaled, &l, cd)
        else:
            _fc_row2log(x + row * w, w, row, neg, inv_hi, inv_lo, scaled, &l, cd)
            for j in range(0, w, 16):
                smx_prefetchw(out + row * w + j)
    s[0] = l
    sn[0] = ln

cdef void _fc_pass2(const float* x, float* out, Py_ssize_t ws, Py_ssize_t K, Py_ssize_t w,
                    bint neg, float inv_hi, float inv_lo, bint scaled, FcStrip* s,
                    double* cd) noexcept nogil:
    """softmax's pass 2 over a block (K rows of w columns, ws apart, to out: the same layout;
    its state local: _fc_pass1)."""
    cdef FcStrip l = s[0]
    cdef Py_ssize_t row
    for row in range(K):
        _fc_row2(x + row * ws, out + row * ws, w, row, neg, inv_hi, inv_lo, scaled, &l, cd)
    s[0] = l

cdef void _fc_pass2log(const float* x, Py_ssize_t ws, Py_ssize_t K, Py_ssize_t w, bint neg,
                       float inv_hi, float inv_lo, bint scaled, FcStrip* s, double* cd,
                       float* pw) noexcept nogil:
    """log_softmax's pass 2 over a block (K rows of w columns, ws apart; its state local:
    _fc_pass1); when pw is not NULL, its rows (the output, same layout) prefetched for
    writing, so that pass 3, a light loop, does not wait for their lines (10-15% for blocks
    from L3)."""
    cdef FcStrip l = s[0]
    cdef Py_ssize_t row, j
    for row in range(K):
        _fc_row2log(x + row * ws, w, row, neg, inv_hi, inv_lo, scaled, &l, cd)
        if pw != NULL:
            for j in range(0, w, 16):
                smx_prefetchw(pw + row * ws + j)
    s[0] = l

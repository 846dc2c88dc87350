# The float32 fast path over blocks of rows (SMX_NF32 < K < SPLIT_MIN, a work item of
# ROWS_ELEMS elements): each row's max and min taken during the previous row's exp pass, rows
# of a small enough span on the fast exp (_vexp32f, _vexp32d: _k_vexp.pxi) with the output
# pass of short rows inside the next row's exp pass; the other rows _vrow32_body
# (_k_vrows32.pxi), special ones the general kernels; with AVX2, softmax and log_softmax rows
# of 9-16 in two vectors (_k_vshort32x2.pxi). Part of the per-ISA kernel source.

ctypedef struct Stats32:    # what the exp pass of a row learns of the next one
    float m                 # max of y, NaN ignored
    float mn                # min of y, NaN ignored
    bint finite             # no NaN, no +-inf seen (x * 0 summed)

cdef inline void _stats_acc32(smx_vf32 v, smx_vf32* a, smx_vf32* b, smx_vf32* q) noexcept nogil:
    """One vector of y into the stats accumulators: a the max, b the min, q y * 0 summed."""
    a[0] = smx_max_f32(v, a[0])
    b[0] = smx_min_f32(v, b[0])
    q[0] = smx_muladd_f32(v, smx_zero_f32(), q[0])

cdef inline void _stats_end32(smx_vf32 a, smx_vf32 b, smx_vf32 q, Stats32* st) noexcept nogil:
    """st from _stats_acc32 accumulators."""
    st.m = smx_reduce_max_f32(a)
    st.mn = smx_reduce_min_f32(b)
    st.finite = not smx_any_mf32(smx_cmpneq_f32(q, q))

cdef inline void _stats_vecs32(const float* x, Py_ssize_t K, TCase k, smx_vf32* a, smx_vf32* b,
                               smx_vf32* q) noexcept nogil:
    """The stats accumulators of y = sgn * x before their horizontal reduction: a (max), b
    (min), q (y * 0 summed), one set of them (the max and min do not depend on the order,
    q's NaN-or-not neither; one set leaves AVX2's 16 registers to the exp loops that take
    these stats on the way), the padding y[0]."""
    cdef bint neg = TCase is Neg1 or TCase is NegT
    cdef smx_vf32 a0 = smx_setall_f32(-INFINITY), b0 = smx_setall_f32(INFINITY)
    cdef smx_vf32 q0 = smx_zero_f32()
    cdef Py_ssize_t i = 0
    while i + 2 * SMX_NF32 <= K:
        _stats_acc32(_ld32(x + i, neg), &a0, &b0, &q0)
        _stats_acc32(_ld32(x + i + SMX_NF32, neg), &a0, &b0, &q0)
        i += 2 * SMX_NF32
    while i < K:
        _stats_acc32(_ld_till32(x + i, K - i, -x[0] if neg else x[0], neg), &a0, &b0, &q0)
        i += SMX_NF32
    a[0] = a0
    b[0] = b0
    q[0] = q0

cdef void _row_stats32(const float* x, Py_ssize_t K, TCase k, Stats32* st) noexcept nogil:
    """st = the max and min of y = sgn * x (NaN ignored) and whether every x is finite
    (_stats_vecs32, the accumulation every pass that takes a next row's stats repeats)."""
    cdef smx_vf32 a, b, q
    _stats_vecs32(x, K, k, &a, &b, &q)
    _stats_end32(a, b, q, st)

cdef inline double _direct_span(Py_ssize_t K) noexcept nogil:
    """The largest span (_fast32) of a row of K elements whose output exp * (1/S) may be
    scaled directly (_times32d): exp(-span) / S >= 2**-85 with S <= K."""
    return 85.0 * 0.6931471805599453 - log(<double>K + 1.0)

cdef inline smx_vf32 _times32d(smx_vf32 e, smx_vf32 vh, smx_vf32 vl) noexcept nogil:
    """e * inv rounded once, (vh, vl) the direct pair of _inv_direct32."""
    return smx_muladd_f32(e, vh, smx_mul_f32(e, vl))

cdef inline void _inv_direct32(double inv, smx_vf32* vh, smx_vf32* vl) noexcept nogil:
    """The float32 pair ih + il of inv, il set to 0 below 2**-40 ih (a relative 2**-40):
    then no e * il underflows where e * inv is far above the least normal (_fscale32)."""
    cdef float ih = <float>inv
    cdef float il = <float>(inv - <double>ih)
    if fabsf(il) < ih * 9.094947017729282e-13:    # 2**-40
        il = 0.0
    vh[0] = smx_setall_f32(ih)
    vl[0] = smx_setall_f32(il)

cdef inline void _prefetch_l2_step(const float* a, const float* b) noexcept nogil:
    """Two vectors at a and at b hinted into L2 (a cache line a hint)."""
    smx_prefetch_l2(a)
    smx_prefetch_l2(b)
    if SMX_NF32 >= 16:
        smx_prefetch_l2(a + SMX_NF32)
        smx_prefetch_l2(b + SMX_NF32)

cdef double _fexp_store_sum32(const float* x, float* out, Py_ssize_t K, Fast32 c,
                              const float* nx, Stats32* st, float* prev, double pinv,
                              const float* pfx, const float* pfo, TCase k) noexcept nogil:
    """The fast path's exp pass: out = exp((y - mt)/|T|) (_vexp32f), returns their sum
    (anchored Fast2Sum: one lane pair, every exp <= 1); on the way st = the stats of the next
    row nx (K elements; x itself when there is none), whose loads the exps hide, and, when
    prev is not NULL, prev *= pinv (the previous row's output pass, direct: _fscale32), whose
    multiplies fill the exps' gaps; pfx, pfo (or NULL): _fexp_acc32's prefetches."""
    cdef smx_vf32 s, cc, a, b, q, vh = smx_zero_f32(), vl = vh
    if prev != NULL:
        _inv_direct32(pinv, &vh, &vl)
    _fexp_acc32(x, out, K, c.mt, c.inv_hi, c.inv_lo, nx, prev, vh, vl, pfx, pfo,
                k, &s, &cc, &a, &b, &q)
    _stats_end32(a, b, q, st)
    return ((smx_reduce_add_f64(smx_add_f64(smx_cvt_lo_f32_f64(s), smx_cvt_hi_f32_f64(s)))
             - <double>SMX_NF32) + <double>smx_reduce_add_f32(cc))

cdef inline void _fexp_acc32(const float* x, float* out, Py_ssize_t K, float mt, float inv_hi,
                             float inv_lo, const float* nx, float* prev, smx_vf32 vh,
                             smx_vf32 vl, const float* pfx, const float* pfo, TCase k,
                             smx_vf32* sv, smx_vf32* cv, smx_vf32* na, smx_vf32* nb,
                             smx_vf32* nq) noexcept nogil:
    """The fast path's exp pass, its results unreduced: out = exp((y - mt)/|T|) (_vexp32f),
    their sum as the anchored Fast2Sum lanes (sv, cv; every lane of s started at 1); on the
    way (na, nb, nq) = _stats_vecs32 of the row nx (K elements), whose loads the exps hide,
    and, when prev is not NULL, prev = _times32d(prev, vh, vl) (another row's output pass,
    direct), whose multiplies fill the exps' gaps; when pfx is not NULL, the K elements at pfx
    and pfo (rows further on: input, output) prefetched into L2."""
    cdef bint neg = TCase is Neg1 or TCase is NegT
    cdef bint scaled = TCase is PosT or TCase is NegT
    cdef bint fuse = prev != NULL
    cdef smx_vf32 nmt = smx_setall_f32(-mt), z = smx_zero_f32()
    cdef smx_vf32 s = smx_setall_f32(1.0), cc = z, e0, e1
    cdef smx_vf32 a0 = smx_setall_f32(-INFINITY), b0 = smx_setall_f32(INFINITY), q0 = z
    cdef Py_ssize_t i = 0
    while i + 2 * SMX_NF32 <= K:
        e0 = _vexp32f(_ld32(x + i, neg), nmt, inv_hi, inv_lo, scaled)
        e1 = _vexp32f(_ld32(x + i + SMX_NF32, neg), nmt, inv_hi, inv_lo, scaled)
        smx_store_f32(out + i, e0)
        smx_store_f32(out + i + SMX_NF32, e1)
        _fast_acc32(&s, &cc, e0)
        _fast_acc32(&s, &cc, e1)
        _stats_acc32(_ld32(nx + i, neg), &a0, &b0, &q0)
        _stats_acc32(_ld32(nx + i + SMX_NF32, neg), &a0, &b0, &q0)
        if pfx != NULL:
            _prefetch_l2_step(pfx + i, pfo + i)
        if fuse:
            smx_store_f32(prev + i, _times32d(smx_load_f32(prev + i), vh, vl))
            smx_store_f32(prev + i + SMX_NF32, _times32d(smx_load_f32(prev + i + SMX_NF32), vh, vl))
        i += 2 * SMX_NF32
    while i < K:
        e0 = _vexp32f(_ld_till32(x + i, K - i, mt, neg), nmt, inv_hi, inv_lo, scaled)
        _st_till32(out + i, K - i, e0)
        _fast_acc32(&s, &cc, smx_select_f32(smx_till_f32(K - i), e0, z))
        _stats_acc32(_ld_till32(nx + i, K - i, -nx[0] if neg else nx[0], neg), &a0, &b0, &q0)
        if fuse:
            _st_till32(prev + i, K - i, _times32d(smx_load_till_f32(prev + i, K - i, 0.0), vh, vl))
        i += SMX_NF32
    sv[0] = s
    cv[0] = cc
    na[0] = a0
    nb[0] = b0
    nq[0] = q0

cdef void _fscale32(float* out, Py_ssize_t K, double inv, bint direct) noexcept nogil:
    """out *= inv, each product rounded once. direct (every out * inv far above the least
    normal): fma(e, ih, e * il) (_inv_direct32); else _scale32's scaled pair."""
    cdef smx_vf32 vh, vl
    cdef Py_ssize_t i = 0
    if not direct:
        _scale32(out, K, inv)
        return
    _inv_direct32(inv, &vh, &vl)
    while i + 2 * SMX_NF32 <= K:
        smx_store_f32(out + i, _times32d(smx_load_f32(out + i), vh, vl))
        smx_store_f32(out + i + SMX_NF32, _times32d(smx_load_f32(out + i + SMX_NF32), vh, vl))
        i += 2 * SMX_NF32
    while i < K:
        smx_store_till_f32(out + i, K - i, _times32d(smx_load_till_f32(out + i, K - i, 0.0), vh, vl))
        i += SMX_NF32

cdef inline smx_vf32 _diff_lo32(smx_vf32 y, smx_vf32 nm, smx_vf32 d, bint f2s) noexcept nogil:
    """y + nm - d exactly, d = fl(y + nm): Fast2Sum where f2s (Fast32.f2s), else TwoSum."""
    if f2s:
        return _fast2sum_lo32(y, nm, d)
    return _two_sum_lo32(y, nm, d)

DEF AHEAD2_MAX_K = 512    # _vrows32_case: softmax rows up to this take their stats two rows on
DEF ROWS_PF_MIN_K = 2048  # softmax / log_softmax rows from this long prefetch rows ahead into
                          # L2 (Zen 4 from L3: 4096 -15% / -22%, 600 +10%: benchmarks/README.md)
DEF LOG_FLUSH = 16          # _fexp_sum_log32: terms a lane between flushes of c into double

cdef double _fexp_sum_log32(const float* x, Py_ssize_t K, Fast32 c, const float* nx,
                            Stats32* st, const float* px, float* pout, float chi, float clo,
                            const float* pfx, const float* pfo, TCase k) noexcept nogil:
    """log_softmax's exp pass on the fast path (_fastlog32: mt = m, the exact max): returns
    S - 1, S the sum of the exps as _fexp_store_sum32 sums them (nothing stored; y - m by
    Fast2Sum or TwoSum, c.f2s); on the way st = the stats of the next row nx, and when pout
    is not NULL (T == 1) pout = (py - chi) - clo (the previous row's output pass,
    _log_out32's); pfx, pfo (or NULL): _fexp_acc32's prefetches."""
    cdef smx_vf64 sw, dw
    cdef smx_vf32 a, b, q
    _flog_vecs32(x, K, c.mt, c.inv_hi, c.inv_lo, c.f2s, nx, px, pout, chi, clo, pfx, pfo, k,
                 &sw, &dw, &a, &b, &q)
    _stats_end32(a, b, q, st)
    return (smx_reduce_add_f64(sw) - <double>(SMX_NF32 + 1)) + smx_reduce_add_f64(dw)

cdef void _flog_vecs32(const float* x, Py_ssize_t K, float mt, float inv_hi, float inv_lo,
                       bint f2s, const float* nx, const float* px, float* pout, float chi,
                       float clo, const float* pfx, const float* pfo, TCase k, smx_vf64* sw,
                       smx_vf64* dw, smx_vf32* na, smx_vf32* nb, smx_vf32* nq) noexcept nogil:
    """_flog_acc32 with a loop for each way of taking y - m (f2s: Fast2Sum, else TwoSum) and
    with and without another row's output pass (pout not NULL)."""
    if pout == NULL:
        if f2s:
            _flog_acc32(x, K, mt, inv_hi, inv_lo, nx, px, pout, chi, clo, pfx, pfo, True, False,
                        k, sw, dw, na, nb, nq)
        else:
            _flog_acc32(x, K, mt, inv_hi, inv_lo, nx, px, pout, chi, clo, pfx, pfo, False, False,
                        k, sw, dw, na, nb, nq)
    elif f2s:
        _flog_acc32(x, K, mt, inv_hi, inv_lo, nx, px, pout, chi, clo, pfx, pfo, True, True, k,
                    sw, dw, na, nb, nq)
    else:
        _flog_acc32(x, K, mt, inv_hi, inv_lo, nx, px, pout, chi, clo, pfx, pfo, False, True, k,
                    sw, dw, na, nb, nq)

cdef inline void _flog_acc32(const float* x, Py_ssize_t K, float mt, float inv_hi,
                             float inv_lo, const float* nx, const float* px, float* pout,
                             float chi, float clo, const float* pfx, const float* pfo, bint f2s,
                             bint fuse, TCase k, smx_vf64* sw, smx_vf64* dw, smx_vf32* na,
                             smx_vf32* nb, smx_vf32* nq) noexcept nogil:
    """log_softmax's exp pass, its results unreduced: the exps exp((y - mt)/|T|) summed as the
    anchored Fast2Sum lanes s (every lane started at 1) and c (flushed into double every
    LOG_FLUSH terms a lane): sw = s's halves added in double, dw = c in double; on the way
    (na, nb, nq) = _stats_vecs32 of the row nx, and when pout is not NULL pout = (py - chi)
    - clo (another row's output pass, _log_out32's for T == 1; fuse: pout is not NULL); pfx,
    pfo: _fexp_acc32's prefetches."""
    cdef bint neg = TCase is Neg1 or TCase is NegT
    cdef bint scaled = TCase is PosT or TCase is NegT
    cdef smx_vf32 nm = smx_setall_f32(-mt), z = smx_zero_f32()
    cdef smx_vf32 s = smx_setall_f32(1.0), cc = z, y, d, e0, e1
    cdef smx_vf32 vh = smx_setall_f32(chi), vl = smx_setall_f32(clo)
    cdef smx_vf32 a0 = smx_setall_f32(-INFINITY), b0 = smx_setall_f32(INFINITY), q0 = z
    cdef smx_vf64 cd = smx_zero_f64()
    cdef Py_ssize_t i = 0, j = 0
    while i + 2 * SMX_NF32 <= K:
        j += 1
        if j == LOG_FLUSH // 2:   # the compensation into double every LOG_FLUSH terms a lane
            cd = smx_add_f64(cd, smx_add_f64(smx_cvt_lo_f32_f64(cc), smx_cvt_hi_f32_f64(cc)))
            cc = z
            j = 0
        y = _ld32(x + i, neg)
        d = smx_add_f32(y, nm)
        e0 = _vexp32d(d, _diff_lo32(y, nm, d, f2s), inv_hi, inv_lo, scaled)
        y = _ld32(x + i + SMX_NF32, neg)
        d = smx_add_f32(y, nm)
        e1 = _vexp32d(d, _diff_lo32(y, nm, d, f2s), inv_hi, inv_lo, scaled)
        _fast_acc32(&s, &cc, e0)
        _fast_acc32(&s, &cc, e1)
        _stats_acc32(_ld32(nx + i, neg), &a0, &b0, &q0)
        _stats_acc32(_ld32(nx + i + SMX_NF32, neg), &a0, &b0, &q0)
        if pfx != NULL:
            _prefetch_l2_step(pfx + i, pfo + i)
        if fuse:
            smx_store_f32(pout + i, smx_sub_f32(smx_sub_f32(_ld32(px + i, neg), vh), vl))
            smx_store_f32(pout + i + SMX_NF32,
                          smx_sub_f32(smx_sub_f32(_ld32(px + i + SMX_NF32, neg), vh), vl))
        i += 2 * SMX_NF32
    while i < K:
        y = _ld_till32(x + i, K - i, mt, neg)
        d = smx_add_f32(y, nm)
        e0 = _vexp32d(d, _diff_lo32(y, nm, d, f2s), inv_hi, inv_lo, scaled)
        _fast_acc32(&s, &cc, smx_select_f32(smx_till_f32(K - i), e0, z))
        _stats_acc32(_ld_till32(nx + i, K - i, -nx[0] if neg else nx[0], neg), &a0, &b0, &q0)
        if fuse:
            _st_till32(pout + i, K - i,
                       smx_sub_f32(smx_sub_f32(_ld_till32(px + i, K - i, 0.0, neg), vh), vl))
        i += SMX_NF32
    sw[0] = smx_add_f64(smx_cvt_lo_f32_f64(s), smx_cvt_hi_f32_f64(s))
    dw[0] = smx_add_f64(cd, smx_add_f64(smx_cvt_lo_f32_f64(cc), smx_cvt_hi_f32_f64(cc)))
    na[0] = a0
    nb[0] = b0
    nq[0] = q0

cdef inline bint _fastlog32(float m, float mn, Temp t, Fast32* c) noexcept nogil:
    """_fast32 for log_softmax: mt = m (its exps of exactly 1 are the maxima); y - m by
    Fast2Sum where m is a multiple of ulp(max |y|) (_fast32's argument; most rows: m and
    min y a binade apart at most), else by TwoSum."""
    cdef double inv = t.inv + t.inv_lo
    cdef float g = _grid32(m, mn)
    if not SMX_HAS_FMA or t.hard:
        return False
    c.mt = m
    c.f2s = g != 0.0 and _grid_up32(m, g) == m
    c.span = (<double>m - <double>mn) * inv
    c.inv_hi = <float>inv
    c.inv_lo = <float>(inv - <double>c.inv_hi)
    return c.span <= FAST_SPAN and c.inv_hi < INFINITY

cdef void _vrows32_case(const float* x, float* out, Py_ssize_t R, Py_ssize_t K, Temp t, int op,
                        TCase k, char_r ws) noexcept nogil:
    """R rows (SMX_NF32 < K < SPLIT_MIN) of softmax (op 0), log_softmax (1), logsumexp (2: out[r]
    per row). A row's max and min come from the exp pass of the row `ahead` before it: two
    for softmax rows up to AHEAD2_MAX_K (the reductions and the row's constants, a chain of
    scalar latencies, then run beside the exps of the row between), else one. Softmax rows of
    finite y with (max - min)/|T| <= FAST_SPAN take the fast path (_fast32), the others
    _vrow32_body; logsumexp rows their sums in double (_lse_sums_ahead32, the next row's stats
    inside); special rows the general kernels. log_softmax rows on the fast path at |T| == 1
    leave their output pass to the next row's exp pass: inside it up to FUSE_MAX_K, right
    after it beyond (the log's latency and the output row's misses then overlap that pass).
    Two vectors of rows or more of a short enough K go a vector of rows at a time instead
    (_vblock32_case, _vblock32_lse: the same bits). With 8-lane vectors (AVX2) rows of K <= 16
    go to _vshort32x2_case (two vectors a row, SHORT_N rows phase by phase; faster on Zen 3:
    benchmarks/README.md): softmax and log_softmax with other bits than the block kernel's in
    places, within the bound; logsumexp with the same bits."""
    cdef Stats32 cur, nxt, far     # the stats of rows r, r + 1, r + 2
    cdef Fast32 c
    cdef Row32 rc
    cdef double ones, rest, s_hi, s_lo
    cdef const float* xr
    cdef const float* nx
    cdef const float* pfx
    cdef const float* pfo
    cdef float* prev = NULL     # a fast row whose output pass (direct, times pinv) is pending
    cdef const float* px = NULL   # log_softmax: a fast row whose output pass is pending ...
    cdef float* pout = NULL
    cdef float chi = 0, clo = 0     # ... out = (y - chi) - clo
    cdef Py_ssize_t r
    cdef double S, pinv = 0, C, L
    cdef double direct_span = _direct_span(K)
    # log_softmax's S - 1 summed in float32 lanes (_fexp_sum_log32) is good to a relative 2**-28
    # from this on: n**2 * 2**-18, n = ceil(K / SMX_NF32) terms a lane (see _log_rest_min)
    cdef double rest_min = _log_rest_min(K)
    cdef Py_ssize_t ahead = 2 if op == 0 and K <= AHEAD2_MAX_K else 1
    cdef bint pf_rows = K >= ROWS_PF_MIN_K    # the exp pass prefetches the row after nx and
    if R <= 0:                                # the next output row into L2
        return
    if (op == 2 or SMX_HAS_FMA) and SMX_NF32 == 8 and K <= 2 * SMX_NF32:   # (AVX2: measured;
        _vshort32x2_case(x, out, R, K, t, op, k, ws)  # benchmarks/README.md)
        return
    if (SMX_HAS_FMA and R >= 2 * SMX_NF32     # (fewer rows: faster row by row; the same bits)
            and ((op == 0 and K <= BLOCK_MAX_K and K <= BLOCK_MAX_VECS * SMX_NF32)
                 or (op == 1 and K <= LOG_BLOCK_MAX_K and K <= LOG_BLOCK_MAX_VECS * SMX_NF32))):
        _vblock32_case(x, out, R, K, t, op, k, ws)
        return
    if (op == 2 and R >= 2 * SMX_NF32 and K <= LSE_BLOCK_MAX_K
            and K <= LSE_BLOCK_MAX_VECS * SMX_NF32):
        _vblock32_lse(x, out, R, K, t, k, ws)
        return
    _row_stats32(x, K, k, &cur)
    nxt = cur
    far = cur
    if ahead == 2 and R > 1:
        _row_stats32(x + K, K, k, &nxt)
    for r in range(R):
        xr = x + r * K
        nx = xr + ahead * K if r + ahead < R else xr    # the row whose stats this pass takes
        pfx = nx + K if pf_rows and r + ahead + 1 < R else NULL     # the rows it prefetches
        pfo = out + (r + 1) * K if pfx != NULL else NULL
        if op == 1 and cur.finite and _fastlog32(cur.m, cur.mn, t, &c):
            if K <= FUSE_MAX_K:     # a pending output pass inside this exp pass ...
                S = _fexp_sum_log32(xr, K, c, nx, &far, px, pout, chi, clo, pfx, pfo, k)
            else:                   # ... or after it, its output row hinted into L2 meanwhile
                if pout != NULL and r + ahead + 1 < R:
                    pfx = nx + K
                    pfo = pout
                S = _fexp_sum_log32(xr, K, c, nx, &far, NULL, NULL, chi, clo, pfx, pfo, k)
                if pout != NULL:
                    _log_pending32(px, pout, K, chi, clo, k)
            pout = NULL
            if S >= rest_min:
                L = _log1p_sum(S)
                C = <double>c.mt + L
                chi = <float>C
                clo = <float>((<double>c.mt - <double>chi) + L)
                if not t.scaled:
                    px = xr
                    pout = out + r * K
                else:
                    _log_out32(xr, out + r * K, K, _row32(c.mt, t), L, k)
            elif _vrow32_body(xr, out + r * K, K, t, op, cur.m, cur.finite, k) != 0:
                _softmax_row(xr, out + r * K, K, t, True, ws)
        elif op == 0 and cur.finite and _fast32(cur.m, cur.mn, t, &c):
            S = _fexp_store_sum32(xr, out + r * K, K, c, nx, &far, prev, pinv, pfx, pfo, k)
            prev = NULL
            if c.span <= direct_span and K <= FUSE_MAX_K:
                prev = out + r * K
                pinv = 1.0 / S
            else:
                _fscale32(out + r * K, K, 1.0 / S, c.span <= direct_span)
        elif op == 2:
            if _row_begin32(xr, K, t, cur.m, cur.finite, &rc):
                _lse_sums_ahead32(xr, K, rc, _lse_clamp(cur.finite, cur.mn, rc),
                                  nx if r + ahead < R else NULL, &far, k, &ones, &rest)
                _combine(ones, rest, 0.0, &s_hi, &s_lo)
                out[r] = <float>_lse_value[float](rc.m, s_hi, s_lo, t)
            else:
                _lse_row(xr, out + r, K, t, ws)
                if r + ahead < R:
                    _row_stats32(nx, K, k, &far)
        else:
            if prev != NULL:
                _fscale32(prev, K, pinv, True)
                prev = NULL
            if pout != NULL:
                _log_pending32(px, pout, K, chi, clo, k)
                pout = NULL
            if _vrow32_body(xr, out + r * K, K, t, op, cur.m, cur.finite, k) != 0:
                _softmax_row(xr, out + r * K, K, t, op == 1, ws)
            if r + ahead < R:
                _row_stats32(nx, K, k, &far)
        if ahead == 2:
            cur = nxt
            nxt = far
        else:
            cur = far
    if prev != NULL:
        _fscale32(prev, K, pinv, True)
    if pout != NULL:
        _log_pending32(px, pout, K, chi, clo, k)

cdef void _log_pending32(const float* x, float* out, Py_ssize_t K, float chi, float clo,
                         TCase k) noexcept nogil:
    """out = (y - chi) - clo: a pending output pass of _vrows32_case (T == 1)."""
    cdef bint neg = TCase is Neg1 or TCase is NegT
    cdef smx_vf32 vh = smx_setall_f32(chi), vl = smx_setall_f32(clo)
    cdef Py_ssize_t i = 0
    while i < K:
        _st_till32(out + i, K - i, smx_sub_f32(smx_sub_f32(_ld_till32(x + i, K - i, 0.0, neg),
                                                           vh), vl))
        i += SMX_NF32

cdef inline double _log_rest_min(Py_ssize_t K) noexcept nogil:
    """The least S - 1 that _fexp_sum_log32's float32 lanes give to a relative 2**-28.

    With S - 1 below 2, each lane sum s stays below 3 (ulp 2**-22), so each of the n exact
    Fast2Sum errors in the compensation c is at most 2**-23; c is summed in float32 over
    b = min(n, LOG_FLUSH) terms, then in double: each float32 part errs by at most
    b 2**-24 * b 2**-23, all of them by n b 2**-47 = 2**-28 (n b 2**-19), below 2**-28 (S - 1)
    when S - 1 >= n b 2**-19. From S - 1 >= 2 on, relative to S the same bound is smaller
    still. Rows below it (a confident maximum: the rest tiny) take _vrow32_body, which sums
    the rest in double."""
    cdef double n = <double>((K + SMX_NF32 - 1) // SMX_NF32)
    return n * (n if n < LOG_FLUSH else LOG_FLUSH) * 1.9073486328125e-06    # 2**-19

cdef inline bint _lse_clamp(bint finite, float mn, Row32 c) noexcept nogil:
    """Whether a logsumexp row's exps need their clamp: not every (y - m)/|T| of a finite row
    at or above -EXPD_SPAN (m = c.m, mn the row's min)."""
    return not (finite and (<double>c.m - <double>mn) * (<double>c.inv_hi + <double>c.inv_lo)
                <= EXPD_SPAN)

cdef void _lse_sums_ahead32(const float* x, Py_ssize_t K, Row32 c, bint clamp, const float* nx,
                            Stats32* st, TCase k, double* ones, double* rest) noexcept nogil:
    """logsumexp's sums of row x (_lse_sums32's: the ones counted, the rest summed in double,
    vector by vector in the same accumulators); clamp False where (m - min y)/|T| <=
    EXPD_SPAN: the full vectors' exps skip their clamp (the same bits). With nx not NULL,
    st = _row_stats32 of the next row nx (K elements), its loads hidden by the exps."""
    cdef smx_vf64 vo, vr
    cdef smx_vf32 a, b, q
    _lse_vecs32(x, K, c, clamp, nx, k, &vo, &vr, &a, &b, &q)
    ones[0] = smx_reduce_add_f64(vo)
    rest[0] = smx_reduce_add_f64(vr)
    if nx != NULL:
        _stats_end32(a, b, q, st)

cdef void _lse_vecs32(const float* x, Py_ssize_t K, Row32 c, bint clamp, const float* nx,
                      TCase k, smx_vf64* vo, smx_vf64* vr, smx_vf32* na, smx_vf32* nb,
                      smx_vf32* nq) noexcept nogil:
    """_lse_sums_ahead32's sums and stats unreduced: vo (the ones), vr (the rest), (na, nb,
    nq) = _stats_vecs32 of nx where nx is not NULL; a loop with and one without the clamp."""
    cdef Clamped on
    cdef Unclamped off
    if clamp:
        _lse_vecs32_body(x, K, c, nx, k, on, vo, vr, na, nb, nq)
    else:
        _lse_vecs32_body(x, K, c, nx, k, off, vo, vr, na, nb, nq)

cdef inline void _lse_vecs32_body(const float* x, Py_ssize_t K, Row32 c, const float* nx,
                                  TCase k, ClampCase cl, smx_vf64* vo, smx_vf64* vr,
                                  smx_vf32* na, smx_vf32* nb, smx_vf32* nq) noexcept nogil:
    cdef bint clamp = ClampCase is Clamped
    cdef bint neg = TCase is Neg1 or TCase is NegT
    cdef bint scaled = TCase is PosT or TCase is NegT
    cdef bint ahead = nx != NULL
    cdef smx_vf64 md = smx_setall_f64(<double>c.m)
    cdef smx_vf64 inv = smx_setall_f64(<double>c.inv_hi + <double>c.inv_lo)
    cdef smx_vf64 z = smx_zero_f64()
    cdef smx_vf64 r0 = z, r1 = z, o0 = z, o1 = z
    cdef smx_vf32 zf = smx_zero_f32()
    cdef smx_vf32 a0 = smx_setall_f32(-INFINITY), b0 = smx_setall_f32(INFINITY), q0 = zf
    cdef Py_ssize_t i = 0, j
    while i + 2 * SMX_NF32 <= K:
        _lse_acc32(_ld32(x + i, neg), md, inv, scaled, clamp, &o0, &o1, &r0, &r1)
        _lse_acc32(_ld32(x + i + SMX_NF32, neg), md, inv, scaled, clamp, &o0, &o1, &r0, &r1)
        if ahead:
            _stats_acc32(_ld32(nx + i, neg), &a0, &b0, &q0)
            _stats_acc32(_ld32(nx + i + SMX_NF32, neg), &a0, &b0, &q0)
        i += 2 * SMX_NF32
    j = i
    if i + SMX_NF32 <= K:
        _lse_acc32(_ld32(x + i, neg), md, inv, scaled, clamp, &o0, &o1, &r0, &r1)
        i += SMX_NF32
    if i < K:                  # the padding's -inf needs the clamp
        _lse_acc32(_ld_till32(x + i, K - i, -INFINITY, neg), md, inv, scaled, True,
                   &o0, &o1, &r0, &r1)
    vo[0] = smx_add_f64(o0, o1)
    vr[0] = smx_add_f64(r0, r1)
    if ahead:
        while j < K:
            _stats_acc32(_ld_till32(nx + j, K - j, -nx[0] if neg else nx[0], neg), &a0, &b0, &q0)
            j += SMX_NF32
        na[0] = a0
        nb[0] = b0
        nq[0] = q0

cdef void _vrows32(const float* x, float* out, Py_ssize_t R, Py_ssize_t K, Temp t,
                   int op, char_r ws) noexcept nogil:
    """R rows of SMX_NF32 < K < SPLIT_MIN elements, one after the other (_vrows32_case).
    Scratch: WS_VROWS32 (_vblock32_case's, then a special row's general kernel)."""
    cdef Pos1 p1
    cdef PosT pt
    cdef Neg1 n1
    cdef NegT nt
    cdef int case = _tcase(t)
    if case == 0:
        _vrows32_case(x, out, R, K, t, op, p1, ws)
    elif case == 1:
        _vrows32_case(x, out, R, K, t, op, pt, ws)
    elif case == 2:
        _vrows32_case(x, out, R, K, t, op, n1, ws)
    else:
        _vrows32_case(x, out, R, K, t, op, nt, ws)

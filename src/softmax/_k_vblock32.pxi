# float32 softmax rows of SMX_NF32 < K <= BLOCK_MAX_K and log_softmax rows up to
# LOG_BLOCK_MAX_K, SMX_NF32 rows at a time, phase by phase, the per-row work done once for the
# block in vector lanes (one lane a row): the rows' stats (_stats_vecs32's accumulators),
# reduced across rows at once (smx_rows_*); the fast path's constants of every row (_fast32's
# or _fastlog32's, lane by lane); every row's exp pass (_fexp_acc32 or _flog_acc32,
# _k_vfast32.pxi, taking the stats of the next block's row on the way), its sums again reduced
# across rows (1/S for all rows in two divisions; log_softmax S - 1 and its log in float64
# lanes, _k_vlog.pxi); then every row's output pass (log_softmax with |T| == 1 and rows of
# LOG_FUSE_MIN_VECS vectors or more: inside the exp pass of the next block's row in the same
# lane, its stores beside the exps). Rows off the fast path take _vrow32_body or the general
# kernel. A row's arithmetic does not depend on the block it falls in nor on its place there
# (each lane of smx_rows_* reduces its own row in one order): the bits are those of
# _vrows32_case's row by row path, and do not depend on how the rows are split across threads.
# logsumexp rows of up to LSE_BLOCK_MAX_K elements likewise (_vblock32_lse, any build), their
# sums in double (_lse_vecs32) reduced across rows. Part of the per-ISA kernel source.

cdef inline smx_vf32 _grid_up32v(smx_vf32 m, smx_vf32 mn, smx_mf32* ok) noexcept nogil:
    """_grid32 and _grid_up32 lane by lane: mt = m rounded up to a multiple of G = ulp(max
    |y|); ok where max |y| is in [2**-100, inf) (_grid32 != 0)."""
    cdef smx_vf32 a = smx_max_f32(m, smx_neg_f32(mn)), g, rg, z, r
    ok[0] = smx_and_mf32(smx_cmpge_f32(a, smx_setall_f32(7.888609052210118e-31)),   # 2**-100
                         smx_cmplt_f32(a, smx_setall_f32(INFINITY)))
    a = smx_select_f32(ok[0], a, smx_setall_f32(1.0))
    g = smx_as_f32_i32(smx_sub_i32(smx_shli_i32(smx_shri_i32(smx_as_i32_f32(a), 23), 23),
                                   smx_setall_i32(23 << 23)))                  # smx__ulp_f32
    rg = smx_as_f32_i32(smx_sub_i32(smx_setall_i32(254 << 23), smx_as_i32_f32(g)))  # 1 / g
    z = smx_mul_f32(m, rg)
    r = smx_rint_f32(z)
    r = smx_select_f32(smx_cmplt_f32(r, z), smx_add_f32(r, smx_setall_f32(1.0)), r)  # ceil
    return smx_mul_f32(r, g)

cdef void _vblock32_case(const float* x, float* out, Py_ssize_t R, Py_ssize_t K, Temp t,
                         int op, TCase k, char_r ws) noexcept nogil:
    """softmax (op 0) or log_softmax (1) of R rows of SMX_NF32 < K <= BLOCK_MAX_K (log_softmax:
    LOG_BLOCK_MAX_K) elements, SMX_NF32 rows a block; a block's stats taken during the
    previous block's exp passes (row j's beside row j's). Scratch: WS_VBLOCK, then WS_ROW (a
    special row's general kernel)."""
    cdef float m[BLOCK_LANES]
    cdef float mt[BLOCK_LANES]
    cdef float mn[BLOCK_LANES]
    cdef float okf[BLOCK_LANES]       # 1 where the row is finite (no NaN, no inf)
    cdef float gok[BLOCK_LANES]       # 1 where its grid is (_grid32 != 0)
    cdef double span[BLOCK_LANES]
    cdef double sv[BLOCK_LANES]       # softmax: 1/S; log_softmax: S - 1, then its log
    cdef bint fast[BLOCK_LANES]
    cdef bint pend[BLOCK_LANES]       # log_softmax, T == 1: row j of the previous block (from
    cdef float pch[BLOCK_LANES]       # rp) awaits its output pass (y - pch) - pcl, done in
    cdef float pcl[BLOCK_LANES]       # row j's exp pass (its stores beside the exps)
    # the vector arrays from the scratch block (WS_VBLOCK; 64 bytes a vector whatever the ISA):
    cdef smx_vf32* ca = <smx_vf32*>_ws(&ws, BLOCK_LANES * 64)   # this block's stats, then the
    cdef smx_vf32* cb = <smx_vf32*>_ws(&ws, BLOCK_LANES * 64)   # next block's (a0, b0, q0 of
    cdef smx_vf32* cq = <smx_vf32*>_ws(&ws, BLOCK_LANES * 64)   # _stats_vecs32 a row)
    cdef smx_vf32* na = <smx_vf32*>_ws(&ws, BLOCK_LANES * 64)   # the other block's
    cdef smx_vf32* nb = <smx_vf32*>_ws(&ws, BLOCK_LANES * 64)
    cdef smx_vf32* nq = <smx_vf32*>_ws(&ws, BLOCK_LANES * 64)
    cdef smx_vf32* vs = <smx_vf32*>_ws(&ws, BLOCK_LANES * 64)   # softmax's sum lanes s
    cdef smx_vf32* vc = <smx_vf32*>_ws(&ws, BLOCK_LANES * 64)   # and compensations c
    cdef smx_vf64* vw = <smx_vf64*>_ws(&ws, BLOCK_LANES * 64)   # s in double, a row's halves added
    cdef smx_vf64* vd = <smx_vf64*>_ws(&ws, BLOCK_LANES * 64)   # log_softmax's c in double
    cdef smx_vf32* sw
    cdef smx_vf32 one = smx_setall_f32(1.0), z = smx_zero_f32()
    cdef const float* xr
    cdef const float* pfx           # the rows an exp pass prefetches (or NULL)
    cdef const float* pfo
    cdef float* o
    cdef double tinv = t.inv + t.inv_lo, L, C
    cdef float inv_hi = <float>tinv
    cdef float inv_lo = <float>(tinv - <double>inv_hi)
    cdef double direct_span = _direct_span(K)
    cdef double rest_min = _log_rest_min(K)
    cdef bint can = SMX_HAS_FMA and not t.hard and inv_hi < INFINITY, pf
    cdef Py_ssize_t r0 = 0, rp = 0, n, nn, j
    n = R if R < SMX_NF32 else SMX_NF32
    for j in range(SMX_NF32):
        _blk_stats32(x, K, j, n, k, ca, cb, cq)
        pend[j] = False
    while r0 < R:
        n = R - r0 if R - r0 < SMX_NF32 else SMX_NF32
        nn = R - r0 - n if R - r0 - n < SMX_NF32 else SMX_NF32     # rows of the next block
        pf = r0 + 3 * n <= R    # the exp passes prefetch the next block's output rows and
        _blk_reduce32(ca, cb, cq, tinv, op == 1, m, mn, mt, okf, gok, span)   # the input rows
                                # of the one after into L2 (benchmarks/README.md)
        for j in range(SMX_NF32):
            xr = x + (r0 + j) * K
            pfx = xr + 2 * n * K if pf else NULL
            pfo = out + (r0 + j + n) * K if pf else NULL
            fast[j] = (can and j < n and okf[j] != 0 and (op == 1 or gok[j] != 0)
                       and span[j] <= FAST_SPAN)
            if not fast[j]:
                vw[j] = smx_zero_f64()
                vd[j] = smx_zero_f64()
                vs[j] = one
                vc[j] = z
            elif op == 0:
                _fexp_acc32(xr, out + (r0 + j) * K, K, mt[j], inv_hi, inv_lo,
                            xr + n * K if j < nn else xr, NULL, z, z, pfx, pfo, k,
                            &vs[j], &vc[j], &na[j], &nb[j], &nq[j])
            else:
                _flog_vecs32(xr, K, m[j], inv_hi, inv_lo, gok[j] != 0 and mt[j] == m[j],
                             xr + n * K if j < nn else xr, x + (rp + j) * K,
                             out + (rp + j) * K if pend[j] else NULL, pch[j], pcl[j],
                             pfx, pfo, k, &vw[j], &vd[j], &na[j], &nb[j], &nq[j])
                pend[j] = False
            if pend[j]:
                _log_pending32(x + (rp + j) * K, out + (rp + j) * K, K, pch[j], pcl[j], k)
                pend[j] = False
            if not fast[j] or j >= nn:
                _blk_stats32(x + (r0 + n) * K, K, j, nn, k, na, nb, nq)
        if op == 0:
            _blk_inv32(vs, vc, vw, sv)
        else:
            _blk_logs32(vw, vd, rest_min, fast, sv)
        for j in range(n):
            xr = x + (r0 + j) * K
            o = out + (r0 + j) * K
            if fast[j] and op == 0:
                _fscale32(o, K, sv[j], span[j] <= direct_span)
            elif fast[j]:
                L = sv[j]
                if t.scaled:
                    _log_out32(xr, o, K, _row32(m[j], t), L, k)
                else:
                    C = <double>m[j] + L
                    pch[j] = <float>C
                    pcl[j] = <float>((<double>m[j] - <double>pch[j]) + L)
                    if K >= LOG_FUSE_MIN_VECS * SMX_NF32:   # (short rows: faster on their own)
                        pend[j] = True
                    else:
                        _log_pending32(xr, o, K, pch[j], pcl[j], k)
            elif _vrow32_body(xr, o, K, t, op, m[j], okf[j] != 0, k) != 0:
                _softmax_row(xr, o, K, t, op == 1, ws)
        sw = ca; ca = na; na = sw
        sw = cb; cb = nb; nb = sw
        sw = cq; cq = nq; nq = sw
        rp = r0
        r0 += n
    for j in range(SMX_NF32):
        if pend[j]:
            _log_pending32(x + (rp + j) * K, out + (rp + j) * K, K, pch[j], pcl[j], k)

cdef void _vblock32_lse(const float* x, float* out, Py_ssize_t R, Py_ssize_t K, Temp t,
                        TCase k, char_r ws) noexcept nogil:
    """logsumexp (out[r]) of R rows of SMX_NF32 < K <= LSE_BLOCK_MAX_K elements, SMX_NF32 rows
    a block as _vblock32_case: the stats reduced across rows, each row's sums in double
    (_lse_vecs32: _vrows32_case's, unreduced, the next block's row's stats on the way)
    reduced across rows, then each row's value. Scratch: WS_VBLOCK, then WS_ROW."""
    cdef float m[BLOCK_LANES]
    cdef float mn[BLOCK_LANES]
    cdef float mt[BLOCK_LANES]        # (_blk_reduce32's mt, gok, span: unused)
    cdef float gok[BLOCK_LANES]
    cdef double span[BLOCK_LANES]
    cdef float okf[BLOCK_LANES]       # 1 where the row is finite (no NaN, no inf)
    cdef double on[BLOCK_LANES]       # the exps equal to 1 counted
    cdef double re[BLOCK_LANES]       # the others summed
    cdef bint fast[BLOCK_LANES]
    cdef smx_vf32* ca = <smx_vf32*>_ws(&ws, BLOCK_LANES * 64)   # as _vblock32_case's
    cdef smx_vf32* cb = <smx_vf32*>_ws(&ws, BLOCK_LANES * 64)
    cdef smx_vf32* cq = <smx_vf32*>_ws(&ws, BLOCK_LANES * 64)
    cdef smx_vf32* na = <smx_vf32*>_ws(&ws, BLOCK_LANES * 64)
    cdef smx_vf32* nb = <smx_vf32*>_ws(&ws, BLOCK_LANES * 64)
    cdef smx_vf32* nq = <smx_vf32*>_ws(&ws, BLOCK_LANES * 64)
    cdef smx_vf64* vo = <smx_vf64*>_ws(&ws, BLOCK_LANES * 64)
    cdef smx_vf64* vr = <smx_vf64*>_ws(&ws, BLOCK_LANES * 64)
    cdef smx_vf32* sw
    cdef const float* xr
    cdef double s_hi, s_lo
    cdef Row32 rc
    cdef Py_ssize_t r0 = 0, n, nn, j
    n = R if R < SMX_NF32 else SMX_NF32
    for j in range(SMX_NF32):
        _blk_stats32(x, K, j, n, k, ca, cb, cq)
    while r0 < R:
        n = R - r0 if R - r0 < SMX_NF32 else SMX_NF32
        nn = R - r0 - n if R - r0 - n < SMX_NF32 else SMX_NF32
        _blk_reduce32(ca, cb, cq, 1.0, True, m, mn, mt, okf, gok, span)
        for j in range(SMX_NF32):
            xr = x + (r0 + j) * K
            fast[j] = j < n and _row_begin32(xr, K, t, m[j], okf[j] != 0, &rc)
            if fast[j]:
                _lse_vecs32(xr, K, rc, _lse_clamp(okf[j] != 0, mn[j], rc),
                            xr + n * K if j < nn else NULL, k, &vo[j], &vr[j],
                            &na[j], &nb[j], &nq[j])
            else:
                vo[j] = smx_zero_f64()
                vr[j] = smx_zero_f64()
            if not fast[j] or j >= nn:
                _blk_stats32(x + (r0 + n) * K, K, j, nn, k, na, nb, nq)
        _blk_sums64(vo, on)
        _blk_sums64(vr, re)
        for j in range(n):
            if fast[j]:
                _combine(on[j], re[j], 0.0, &s_hi, &s_lo)
                out[r0 + j] = <float>_lse_value[float](m[j], s_hi, s_lo, t)
            else:
                _lse_row(x + (r0 + j) * K, out + r0 + j, K, t, ws)
        sw = ca; ca = na; na = sw
        sw = cb; cb = nb; nb = sw
        sw = cq; cq = nq; nq = sw
        r0 += n

cdef void _blk_reduce32(smx_vf32* ca, smx_vf32* cb, smx_vf32* cq, double tinv, bint log,
                        float* m, float* mn, float* mt, float* okf, float* gok,
                        double* span) noexcept nogil:
    """A block's stats from its rows' accumulators (ca max, cb min, cq y * 0), reduced across
    rows: m, mn, okf (1 where the row is finite), mt and gok (_grid_up32v: m on its grid, 1
    where there is one), span = (top - mn) / |T| with top = m (log) or mt. One function for
    every block kernel (not inlined: once a block)."""
    cdef smx_vf32 one = smx_setall_f32(1.0), z = smx_zero_f32(), vm, vmn, vmt
    cdef smx_vf64 vinv = smx_setall_f64(tinv)
    cdef smx_mf32 ok
    vm = smx_rows_max_f32(ca)
    vmn = smx_rows_min_f32(cb)
    ok = smx_cmpeq_f32(smx_rows_add_f32(cq), z)                # finite: no NaN, no inf
    smx_store_f32(okf, smx_select_f32(ok, one, z))
    vmt = _grid_up32v(vm, vmn, &ok)
    smx_store_f32(gok, smx_select_f32(ok, one, z))
    smx_store_f32(m, vm)
    smx_store_f32(mn, vmn)
    smx_store_f32(mt, vmt)
    if log:         # (_fastlog32: mt = m, the span from m, y - m by Fast2Sum where m is on
        vmt = vm    # its grid)
    smx_store_f64(span, smx_mul_f64(smx_sub_f64(smx_cvt_lo_f32_f64(vmt),
                                                smx_cvt_lo_f32_f64(vmn)), vinv))
    smx_store_f64(span + SMX_NF64, smx_mul_f64(smx_sub_f64(smx_cvt_hi_f32_f64(vmt),
                                                           smx_cvt_hi_f32_f64(vmn)), vinv))

cdef void _blk_sums64(smx_vf64* v, double* s) noexcept nogil:
    """s[j] = the lanes of v[j] summed (smx_reduce_add_f64's order), j < SMX_NF32."""
    smx_store_f64(s, smx_rows_add_f64(v))
    smx_store_f64(s + SMX_NF64, smx_rows_add_f64(v + SMX_NF64))

cdef void _blk_logs32(smx_vf64* vw, smx_vf64* vd, double rest_min, bint* fast,
                      double* L) noexcept nogil:
    """L[j] = log S of the block's row j from _flog_acc32's (sw, dw), where
    fast[j] and S - 1 >= rest_min; elsewhere fast[j] = False (L[j] = 0, never used)."""
    cdef double d[BLOCK_LANES]
    cdef Py_ssize_t j
    _blk_sums64(vw, L)
    _blk_sums64(vd, d)
    for j in range(SMX_NF32):
        L[j] = (L[j] - <double>(SMX_NF32 + 1)) + d[j]     # S - 1, _fexp_sum_log32's
        fast[j] = fast[j] and L[j] >= rest_min
        L[j] = L[j] if fast[j] else 0.0
    _log1p_lanes(L, SMX_NF32)

cdef void _blk_inv32(smx_vf32* vs, smx_vf32* vc, smx_vf64* vw, double* inv) noexcept nogil:
    """inv[j] = 1/S of the block's row j from its sum lanes (_fexp_acc32's s, c): the sum of
    _fexp_store_sum32, reduced across rows (the same bits), in two divisions."""
    cdef smx_vf32 c
    cdef Py_ssize_t j
    for j in range(SMX_NF32):
        vw[j] = smx_add_f64(smx_cvt_lo_f32_f64(vs[j]), smx_cvt_hi_f32_f64(vs[j]))
    c = smx_rows_add_f32(vc)
    smx_store_f64(inv, smx_div_f64(
        smx_setall_f64(1.0), smx_add_f64(smx_sub_f64(smx_rows_add_f64(vw),
                                                     smx_setall_f64(<double>SMX_NF32)),
                                         smx_cvt_lo_f32_f64(c))))
    smx_store_f64(inv + SMX_NF64, smx_div_f64(
        smx_setall_f64(1.0), smx_add_f64(smx_sub_f64(smx_rows_add_f64(vw + SMX_NF64),
                                                     smx_setall_f64(<double>SMX_NF32)),
                                         smx_cvt_hi_f32_f64(c))))

cdef inline void _blk_stats32(const float* x, Py_ssize_t K, Py_ssize_t j, Py_ssize_t n,
                              TCase k, smx_vf32* a, smx_vf32* b, smx_vf32* q) noexcept nogil:
    """Row j's stats accumulators of a block of n rows from x: _stats_vecs32's where j < n,
    zeros (a row off the fast path, never used) past them."""
    if j < n:
        _stats_vecs32(x + j * K, K, k, &a[j], &b[j], &q[j])
    else:
        a[j] = smx_zero_f32()
        b[j] = smx_zero_f32()
        q[j] = smx_zero_f32()

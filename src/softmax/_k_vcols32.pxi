# float32 columns (inner > 1) of softmax, log_softmax and logsumexp on vectors: the reduction
# runs down K rows of a strided block of W <= VCW columns, one lane per column. Part of the
# per-ISA kernel source (included by _kernels.pyx); the entry, _vcols32, and the fast path of
# softmax are in _k_vfcols32.pxi.
#
# Two passes, each visiting a row once for the whole block (up to 4 KB contiguous: a strided
# strip of one vector a row defeats the prefetchers and walks a page per vector):
#   A  the running max of each column and the sum of exps relative to it, rescaled in double
#      when the max grows (rare after the first rows: the first rows set the max first);
#   B  the output, the exps taken again (softmax) or not at all (log_softmax).
# x is read twice and out written once; the three-pass form (max | exps to out | scale out)
# re-read a block too large for L2 and cost twice as much. Rows come four a visit, so a
# column's state goes through memory once per four rows. A vector of columns with a special
# one (NaN, +inf, all -inf, T == 0, a |T| below about ulp(max) / 104) goes to the general
# kernel (_softmax_cols, _lse_cols); x is not written before that is known.

DEF VROWS = 4                  # rows a visit

cdef inline Py_ssize_t _vchunk_width(Py_ssize_t K, Py_ssize_t inner) noexcept nogil:
    """Columns per block of the float32 column kernels: as wide as the state allows (the
    passes stream rows; the block need not stay in cache)."""
    return min(<Py_ssize_t>VCW, inner)

cdef inline smx_vf32 _cld32(const float* p, Py_ssize_t n, bint neg) noexcept nogil:
    """y = sgn * x of the n columns at p (n < SMX_NF32: the others -inf)."""
    if n >= SMX_NF32:
        return _ld32(p, neg)
    return _ld_till32(p, n, -INFINITY, neg)

cdef inline void _cst32(float* p, Py_ssize_t n, smx_vf32 v) noexcept nogil:
    if n >= SMX_NF32:
        smx_store_f32(p, v)
    else:
        smx_store_till_f32(p, n, v)

cdef inline void _rescale64(smx_vf32 m_old, smx_vf32 m_new, double inv, smx_vf64* f0,
                            smx_vf64* f1) noexcept nogil:
    """f = exp((m_old - m_new) / |T|) in double (the difference exact): the factor that takes a
    sum relative to the old max to the new one; 0 where m_old is -inf, exactly 1 where the max
    did not grow (_vexp_low(0) need not be)."""
    cdef smx_vf64 vi = smx_setall_f64(inv)
    f0[0] = _vexp_low(smx_mul_f64(smx_sub_f64(smx_cvt_lo_f32_f64(m_old), smx_cvt_lo_f32_f64(m_new)), vi))
    f1[0] = _vexp_low(smx_mul_f64(smx_sub_f64(smx_cvt_hi_f32_f64(m_old), smx_cvt_hi_f32_f64(m_new)), vi))
    f0[0] = smx_select_f64(smx_cmpeq_f64(smx_cvt_lo_f32_f64(m_old), smx_cvt_lo_f32_f64(m_new)),
                           smx_setall_f64(1.0), f0[0])
    f1[0] = smx_select_f64(smx_cmpeq_f64(smx_cvt_hi_f32_f64(m_old), smx_cvt_hi_f32_f64(m_new)),
                           smx_setall_f64(1.0), f1[0])
    f0[0] = smx_select_f64(smx_cmpeq_f64(smx_cvt_lo_f32_f64(m_old), smx_setall_f64(-INFINITY)),
                           smx_zero_f64(), f0[0])
    f1[0] = smx_select_f64(smx_cmpeq_f64(smx_cvt_hi_f32_f64(m_old), smx_setall_f64(-INFINITY)),
                           smx_zero_f64(), f1[0])

cdef void _cols_stats32(const float* x, Py_ssize_t K, Py_ssize_t stride, Py_ssize_t W,
                        float inv_hi, float inv_lo, float c104, int op, TCase k, float* am,
                        float* ac, float* s, float* c, double* r) noexcept nogil:
    """Pass A. am: the columns' max of y (NaN ignored); ac: the sum of max(lowest, y) * 0 (NaN
    where a column has a NaN or +inf); and the exps' sums relative to am: softmax s + c
    (anchored Fast2Sum: s starts at 1), log_softmax c = the count of exps equal to 1 and r the
    others summed in double, logsumexp r = the exps taken in double, summed."""
    cdef bint neg = TCase is Neg1 or TCase is NegT
    cdef bint scaled = TCase is PosT or TCase is NegT
    cdef double inv = <double>inv_hi + <double>inv_lo
    cdef smx_vf32 z = smx_zero_f32(), one = smx_setall_f32(1.0), lo = smx_setall_f32(-INFINITY)
    cdef smx_vf32 lowest = smx_setall_f32(-3.4028234663852886e38)
    cdef smx_vf32 v[VROWS]
    cdef smx_vf32 vm, vmax, vlo, ss, cc, chk, e, sh
    cdef smx_vf64 r0, r1, f0, f1, d0, d1
    cdef smx_mf32 k1
    cdef Py_ssize_t row, j, i, nr, n
    j = 0
    while j < W:
        smx_store_f32(am + j, lo)
        smx_store_f32(ac + j, z)
        smx_store_f32(s + j, one if op == 0 else z)
        smx_store_f32(c + j, z)
        smx_store_f64(r + j, smx_zero_f64())
        smx_store_f64(r + j + SMX_NF64, smx_zero_f64())
        j += SMX_NF32
    row = 0
    while row < K:
        nr = min(<Py_ssize_t>VROWS, K - row)
        j = 0
        while j < W:
            n = W - j
            vm = smx_load_f32(am + j)
            chk = smx_load_f32(ac + j)
            vmax = vm
            for i in range(nr):
                v[i] = _cld32(x + (row + i) * stride + j, n, neg)
                vmax = smx_max_f32(v[i], vmax)
                chk = smx_muladd_f32(smx_max_f32(lowest, v[i]), z, chk)
            smx_store_f32(ac + j, chk)
            ss = smx_load_f32(s + j)
            cc = smx_load_f32(c + j)
            r0 = smx_load_f64(r + j)
            r1 = smx_load_f64(r + j + SMX_NF64)
            if smx_any_mf32(smx_cmpgt_f32(vmax, vm)):     # the max grew: rescale the sums
                _rescale64(vm, vmax, inv, &f0, &f1)
                if op == 0:          # s - 1 + c in double, times f, split again around 1
                    d0 = smx_add_f64(smx_mul_f64(smx_add_f64(smx_sub_f64(smx_cvt_lo_f32_f64(ss),
                                     smx_setall_f64(1.0)), smx_cvt_lo_f32_f64(cc)), f0), smx_setall_f64(1.0))
                    d1 = smx_add_f64(smx_mul_f64(smx_add_f64(smx_sub_f64(smx_cvt_hi_f32_f64(ss),
                                     smx_setall_f64(1.0)), smx_cvt_hi_f32_f64(cc)), f1), smx_setall_f64(1.0))
                    ss = smx_cvt_f64x2_f32(d0, d1)
                    cc = smx_cvt_f64x2_f32(smx_sub_f64(d0, smx_cvt_lo_f32_f64(ss)),
                                           smx_sub_f64(d1, smx_cvt_hi_f32_f64(ss)))
                elif op == 1:        # where the max grew, the old maxima's exps become f: into
                    k1 = smx_cmpgt_f32(vmax, vm)     # the rest (elsewhere the count stays
                    e = smx_select_f32(k1, cc, z)     # apart: a small rest keeps its precision)
                    r0 = smx_mul_f64(smx_add_f64(r0, smx_cvt_lo_f32_f64(e)), f0)
                    r1 = smx_mul_f64(smx_add_f64(r1, smx_cvt_hi_f32_f64(e)), f1)
                    cc = smx_select_f32(k1, z, cc)
                else:
                    r0 = smx_mul_f64(r0, f0)
                    r1 = smx_mul_f64(r1, f1)
                vm = vmax
                smx_store_f32(am + j, vm)
            vlo = smx_sub_f32(vm, smx_setall_f32(c104))
            for i in range(nr):
                if op == 2:          # exps in double (1e-10): m + |T| log(sum) may cancel
                    d0 = smx_sub_f64(smx_cvt_lo_f32_f64(v[i]), smx_cvt_lo_f32_f64(vm))
                    d1 = smx_sub_f64(smx_cvt_hi_f32_f64(v[i]), smx_cvt_hi_f32_f64(vm))
                    if scaled:
                        d0 = smx_mul_f64(d0, smx_setall_f64(inv))
                        d1 = smx_mul_f64(d1, smx_setall_f64(inv))
                    r0 = smx_add_f64(r0, _vexp_low(d0))
                    r1 = smx_add_f64(r1, _vexp_low(d1))
                    continue
                e = _vexp32m(v[i], vm, vlo, inv_hi, inv_lo, scaled, True)
                if op == 0:
                    _fast_acc32(&ss, &cc, e)
                else:
                    k1 = smx_cmplt_f32(e, one)
                    cc = smx_add_f32(cc, smx_select_f32(k1, z, one))
                    e = smx_select_f32(k1, e, z)
                    r0 = smx_add_f64(r0, smx_cvt_lo_f32_f64(e))
                    r1 = smx_add_f64(r1, smx_cvt_hi_f32_f64(e))
            smx_store_f32(s + j, ss)
            smx_store_f32(c + j, cc)
            smx_store_f64(r + j, r0)
            smx_store_f64(r + j + SMX_NF64, r1)
            j += SMX_NF32
        row += nr

cdef void _cols_out32(const float* x, float* out, Py_ssize_t K, Py_ssize_t stride,
                      Py_ssize_t W, const unsigned char* sp, const float* am, const float* fa,
                      const float* fb, const double* fd, float inv_hi, float inv_lo, float c104,
                      int op, TCase k) noexcept nogil:
    """Pass B over the ordinary vectors (sp[v] == 0): softmax out = exp((y - m)/|T|) times the
    column's 1/sum (fa + fb: the float32 pair of 1/sum * 2**24; fd = 1/sum for ISAs without
    FMA); log_softmax out = (y - fa) - fb with fa + fb the float32 pair of m + log(sum), or,
    when T != 1, (y - m) * inv - fd in double, fd = log(sum)."""
    cdef bint neg = TCase is Neg1 or TCase is NegT
    cdef bint scaled = TCase is PosT or TCase is NegT
    cdef smx_vf32 e, va, vb, vm, vlo
    cdef smx_vf64 vi = smx_setall_f64(<double>inv_hi + <double>inv_lo), q0, q1
    cdef Py_ssize_t row, j, i, nr, n
    row = 0
    while row < K:
        nr = min(<Py_ssize_t>VROWS, K - row)
        j = 0
        while j < W:
            if sp[j // SMX_NF32]:
                j += SMX_NF32
                continue
            n = W - j
            va = smx_load_f32(fa + j)
            vb = smx_load_f32(fb + j)
            vm = smx_load_f32(am + j)
            vlo = smx_sub_f32(vm, smx_setall_f32(c104))
            q0 = smx_load_f64(fd + j)
            q1 = smx_load_f64(fd + j + SMX_NF64)
            for i in range(nr):
                e = _cld32(x + (row + i) * stride + j, n, neg)
                if op == 0:
                    e = _vexp32m(e, vm, vlo, inv_hi, inv_lo, scaled, True)
                    if SMX_HAS_FMA:
                        e = smx_mul_f32(smx_muladd_f32(e, va, smx_mul_f32(e, vb)),
                                        smx_setall_f32(5.9604644775390625e-08))
                    else:
                        e = smx_cvt_f64x2_f32(smx_mul_f64(smx_cvt_lo_f32_f64(e), q0),
                                              smx_mul_f64(smx_cvt_hi_f32_f64(e), q1))
                elif scaled:
                    e = smx_cvt_f64x2_f32(
                        smx_sub_f64(smx_mul_f64(smx_sub_f64(smx_cvt_lo_f32_f64(e),
                                                            smx_cvt_lo_f32_f64(vm)), vi), q0),
                        smx_sub_f64(smx_mul_f64(smx_sub_f64(smx_cvt_hi_f32_f64(e),
                                                            smx_cvt_hi_f32_f64(vm)), vi), q1))
                else:
                    e = smx_sub_f32(smx_sub_f32(e, va), vb)
                _cst32(out + (row + i) * stride + j, n, e)
            j += SMX_NF32
        row += nr

cdef void _vcols32_case(const float* x, float* out, Py_ssize_t K, Py_ssize_t stride,
                        Py_ssize_t W, Temp t, int op, TCase k, char* scratch,
                        char_r ws) noexcept nogil:
    cdef bint scaled = TCase is PosT or TCase is NegT
    cdef double* fd = <double*>scratch                 # VCW doubles, then 6 x VCW floats
    cdef float* am = <float*>(scratch + 8 * VCW)
    cdef float* ac = am + VCW
    cdef float* fa = ac + VCW
    cdef float* fb = fa + VCW
    cdef unsigned char* sp = <unsigned char*>(fb + VCW)
    cdef double inv = t.inv + t.inv_lo, L, tot, s_hi, s_lo
    cdef float inv_hi = <float>inv, inv_lo = <float>(inv - <double><float>inv)
    cdef float c104 = <float>(104.0 * t.abs_t)
    cdef Py_ssize_t j, jv, n, nvec = (W + SMX_NF32 - 1) // SMX_NF32
    cdef bint any_ok = False
    cdef smx_mf32 bad
    cdef smx_vf32 vm
    _cols_stats32(x, K, stride, W, inv_hi, inv_lo, c104, op, k, am, ac, fa, fb, fd)
    for jv in range(nvec):       # which vectors of columns are ordinary
        j = jv * SMX_NF32
        n = min(<Py_ssize_t>SMX_NF32, W - j)
        vm = smx_load_f32(am + j)
        bad = smx_cmpneq_f32(smx_load_f32(ac + j), smx_load_f32(ac + j))      # NaN or +inf
        bad = smx_or_mf32(bad, smx_cmpeq_f32(vm, smx_setall_f32(-INFINITY)))  # all -inf
        bad = smx_or_mf32(bad, smx_cmpge_f32(smx_sub_f32(vm, smx_setall_f32(c104)), vm))
        sp[jv] = (t.hard or not (inv_hi < INFINITY)
                  or smx_any_mf32(smx_and_mf32(smx_till_f32(n), bad)))
        if sp[jv]:
            if op == 2:
                _lse_cols(x + j, out + j, K, stride, n, t, ws)
            else:
                _softmax_cols(x + j, out + j, K, stride, n, t, op == 1, ws)
        else:
            any_ok = True
    if not any_ok:
        return
    for j in range(W):           # per column: the sums' totals, then the output's factors
        if sp[j // SMX_NF32]:
            continue
        if op == 0:              # fa: s (anchored at 1), fb: its compensation
            tot = (<double>fa[j] - 1.0) + <double>fb[j]
            fd[j] = 1.0 / tot
            fa[j] = <float>(fd[j] * 16777216.0)
            fb[j] = <float>(fd[j] * 16777216.0 - <double>fa[j])
        elif op == 2:            # fd: the sum of exps in double, the maxima's exactly 1
            _combine(1.0, fd[j] - 1.0, 0.0, &s_hi, &s_lo)
            out[j] = <float>_lse_value[float](am[j], s_hi, s_lo, t)
        else:                    # fb: the count of exps equal to 1, fd: the rest
            L = _log1p_sum((<double>fb[j] - 1.0) + fd[j])
            if scaled:
                fd[j] = L
            else:
                fa[j] = <float>(<double>am[j] + L)
                fb[j] = <float>((<double>am[j] - <double>fa[j]) + L)
    if op != 2:
        _cols_out32(x, out, K, stride, W, sp, am, fa, fb, fd, inv_hi, inv_lo, c104, op, k)

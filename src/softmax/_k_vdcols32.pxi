# float32 Jacobian products on vectors, columns (inner > 1): one lane per column of a (K, stride)
# block of W <= VCW columns; each pass visits a row once for the whole block, the per-column state
# in small arrays (scratch, from _vderiv_cols32). The numerics are those of the rows
# (_k_vderiv32.pxi). A vector of columns with a special one goes to the general kernel
# (_jvp_cols, _vjp_cols). Part of the per-ISA kernel source (included by _kernels.pyx).

DEF DCHUNK_BYTES = 2097152     # a block of each input within the last-level cache

cdef inline Py_ssize_t _dchunk_width(Py_ssize_t K, Py_ssize_t inner, Py_ssize_t itemsize) noexcept nogil:
    """Columns per block of the vector derivative kernels: K * W * itemsize within
    DCHUNK_BYTES, a multiple of 64, at most VCW and inner."""
    cdef Py_ssize_t w = DCHUNK_BYTES // (K * itemsize) if K > 0 else VCW
    w = max(<Py_ssize_t>64, min(w, <Py_ssize_t>VCW))
    return min(w - w % 64, inner)

cdef inline smx_vf32 _cldv32(const float* p, Py_ssize_t n) noexcept nogil:
    """The n values at p (n < SMX_NF32: the others 0)."""
    if n >= SMX_NF32:
        return smx_load_f32(p)
    return smx_load_till_f32(p, n, 0.0)

cdef void _cjvp_max32(const float* x, const float* v, Py_ssize_t K, Py_ssize_t stride,
                      Py_ssize_t W, TCase k, float* am, float* av, float* ac) noexcept nogil:
    """Per column: am = the max of y (NaN ignored), av = the v of an element at it, ac = the
    sum of y * 0 over the entries other than -inf (NaN for a NaN or +inf)."""
    cdef bint neg = TCase is Neg1 or TCase is NegT
    cdef smx_vf32 z = smx_zero_f32(), lo = smx_setall_f32(-INFINITY), y, a
    cdef smx_mf32 g
    cdef Py_ssize_t r, j
    j = 0
    while j < W:
        smx_store_f32(am + j, lo)
        smx_store_f32(av + j, z)
        smx_store_f32(ac + j, z)
        j += SMX_NF32
    for r in range(K):
        j = 0
        while j < W:
            y = _cld32(x + r * stride + j, W - j, neg)
            a = smx_load_f32(am + j)
            g = smx_cmpgt_f32(y, a)
            smx_store_f32(am + j, smx_select_f32(g, y, a))
            smx_store_f32(av + j, smx_select_f32(g, _cldv32(v + r * stride + j, W - j),
                                                 smx_load_f32(av + j)))
            smx_store_f32(ac + j, smx_muladd_f32(smx_select_f32(smx_cmpeq_f32(y, lo), z, y), z,
                                                 smx_load_f32(ac + j)))
            j += SMX_NF32

cdef void _cjvp_exp32(const float* x, const float* v, float* out, Py_ssize_t K,
                      Py_ssize_t stride, Py_ssize_t W, const unsigned char* sp, const double* md,
                      const double* cd, double inv, bint store, TCase k, double* S,
                      double* D) noexcept nogil:
    """The exp pass over the ordinary vectors of columns: per column S = sum(e), D =
    sum(e (v - c)), e = exp((y - m)/|T|) * 2**64 in double; with store out = e rounded."""
    cdef bint neg = TCase is Neg1 or TCase is NegT
    cdef bint scaled = TCase is PosT or TCase is NegT
    cdef smx_vf64 iv = smx_setall_f64(inv), z = smx_zero_f64(), h0, h1
    cdef smx_vf32 y, w
    cdef Py_ssize_t r, j
    j = 0
    while j < W:
        smx_store_f64(S + j, z)
        smx_store_f64(S + j + SMX_NF64, z)
        smx_store_f64(D + j, z)
        smx_store_f64(D + j + SMX_NF64, z)
        j += SMX_NF32
    for r in range(K):
        j = 0
        while j < W:
            if sp[j // SMX_NF32]:
                j += SMX_NF32
                continue
            y = _cld32(x + r * stride + j, W - j, neg)
            w = _cldv32(v + r * stride + j, W - j)
            h0 = smx_sub_f64(_lo64(y), smx_load_f64(md + j))
            h1 = smx_sub_f64(_hi64(y), smx_load_f64(md + j + SMX_NF64))
            if scaled:
                h0 = smx_mul_f64(h0, iv)
                h1 = smx_mul_f64(h1, iv)
            h0 = _vexp_z64(h0, V64_SHIFT64)
            h1 = _vexp_z64(h1, V64_SHIFT64)
            smx_store_f64(S + j, smx_add_f64(smx_load_f64(S + j), h0))
            smx_store_f64(S + j + SMX_NF64, smx_add_f64(smx_load_f64(S + j + SMX_NF64), h1))
            smx_store_f64(D + j, smx_muladd_f64(h0, smx_sub_f64(_lo64(w), smx_load_f64(cd + j)),
                                                smx_load_f64(D + j)))
            smx_store_f64(D + j + SMX_NF64, smx_muladd_f64(
                h1, smx_sub_f64(_hi64(w), smx_load_f64(cd + j + SMX_NF64)),
                smx_load_f64(D + j + SMX_NF64)))
            if store:
                _cst32(out + r * stride + j, W - j, smx_cvt_f64x2_f32(h0, h1))
            j += SMX_NF32

cdef void _cjvp_out32(const float* v, float* out, Py_ssize_t K, Py_ssize_t stride,
                      Py_ssize_t W, const unsigned char* sp, const double* cd, const double* mu,
                      const double* qf, double f, bint log_out, TCase k) noexcept nogil:
    """The output pass (_jvp_out32 per column: its c, mu and qf from arrays)."""
    cdef bint neg = TCase is Neg1 or TCase is NegT
    cdef bint scaled = TCase is PosT or TCase is NegT
    cdef smx_vf64 vf = smx_setall_f64(f), a0, a1
    cdef smx_vf32 w, e
    cdef Py_ssize_t r, j
    for r in range(K):
        j = 0
        while j < W:
            if sp[j // SMX_NF32]:
                j += SMX_NF32
                continue
            w = _cldv32(v + r * stride + j, W - j)
            a0 = smx_sub_f64(smx_sub_f64(_lo64(w), smx_load_f64(cd + j)), smx_load_f64(mu + j))
            a1 = smx_sub_f64(smx_sub_f64(_hi64(w), smx_load_f64(cd + j + SMX_NF64)),
                             smx_load_f64(mu + j + SMX_NF64))
            if log_out:
                e = _times_f32(a0, a1, vf, neg, scaled)
            else:
                e = _cldv32(out + r * stride + j, W - j)
                e = smx_cvt_f64x2_f32(
                    smx_mul_f64(smx_mul_f64(_lo64(e), smx_load_f64(qf + j)), a0),
                    smx_mul_f64(smx_mul_f64(_hi64(e), smx_load_f64(qf + j + SMX_NF64)), a1))
            _cst32(out + r * stride + j, W - j, e)
            j += SMX_NF32

cdef bint _cvjp_sum32(const float* y, const float* g, Py_ssize_t K, Py_ssize_t stride,
                      Py_ssize_t W, bint log_out, TCase k, double* cs, float* bd) noexcept nogil:
    """Per column cs = sum(y g) (softmax) or sum(g) (log_softmax) in double; log_softmax:
    bd = 1 where a column has a y above 0 or NaN. True when some column has."""
    cdef smx_vf32 zf = smx_zero_f32(), one = smx_setall_f32(1.0), a, b
    cdef smx_vf64 z = smx_zero_f64()
    cdef Py_ssize_t r, j
    j = 0
    while j < W:
        smx_store_f64(cs + j, z)
        smx_store_f64(cs + j + SMX_NF64, z)
        smx_store_f32(bd + j, zf)
        j += SMX_NF32
    for r in range(K):
        j = 0
        while j < W:
            a = _cldv32(y + r * stride + j, W - j)
            b = _cldv32(g + r * stride + j, W - j)
            if log_out:
                smx_store_f32(bd + j, smx_select_f32(smx_cmple_f32(a, zf), smx_load_f32(bd + j),
                                                     one))
                smx_store_f64(cs + j, smx_add_f64(smx_load_f64(cs + j), _lo64(b)))
                smx_store_f64(cs + j + SMX_NF64, smx_add_f64(smx_load_f64(cs + j + SMX_NF64),
                                                             _hi64(b)))
            else:
                smx_store_f64(cs + j, smx_muladd_f64(_lo64(a), _lo64(b), smx_load_f64(cs + j)))
                smx_store_f64(cs + j + SMX_NF64, smx_muladd_f64(
                    _hi64(a), _hi64(b), smx_load_f64(cs + j + SMX_NF64)))
            j += SMX_NF32
    return False

cdef void _cvjp_out32(const float* y, const float* g, float* out, Py_ssize_t K,
                      Py_ssize_t stride, Py_ssize_t W, const unsigned char* sp, const double* cs,
                      double f, bint log_out, TCase k) noexcept nogil:
    cdef bint neg = TCase is Neg1 or TCase is NegT
    cdef bint scaled = TCase is PosT or TCase is NegT
    cdef smx_vf64 vf = smx_setall_f64(f), a0, a1, c0, c1
    cdef smx_vf32 a, b
    cdef Py_ssize_t r, j
    for r in range(K):
        j = 0
        while j < W:
            if sp[j // SMX_NF32]:
                j += SMX_NF32
                continue
            a = _cldv32(y + r * stride + j, W - j)
            b = _cldv32(g + r * stride + j, W - j)
            c0 = smx_load_f64(cs + j)
            c1 = smx_load_f64(cs + j + SMX_NF64)
            if log_out:
                a0 = smx_nmuladd_f64(_vexp_z64(_lo64(a), V64_SHIFT), c0, _lo64(b))
                a1 = smx_nmuladd_f64(_vexp_z64(_hi64(a), V64_SHIFT), c1, _hi64(b))
            else:
                a0 = smx_mul_f64(_lo64(a), smx_sub_f64(_lo64(b), c0))
                a1 = smx_mul_f64(_hi64(a), smx_sub_f64(_hi64(b), c1))
            _cst32(out + r * stride + j, W - j, _times_f32(a0, a1, vf, neg, scaled))
            j += SMX_NF32

# ---------------------------------------------------------------- softmax VJP, contiguous block
# A contiguous (K, w) block, w <= FCV * SMX_NF32 (an axis whose inner size is at most 64 with
# AVX-512), at T = +-1 with FMA: the arithmetic of the rows' float32 lanes (_vjp_sum32's
# compensated dot per column, _vjp_unit32's output), the state of its FCV vectors of columns
# in registers, none in scratch arrays; the dot's compensation flushed into double every
# LOG_FLUSH rows (each column's dot takes K terms in one lane, the rows' K / (2 SMX_NF32)).

cdef inline void _cvjp_pair(smx_vf32 t, const double* cd, smx_vf32* c1, smx_vf32* nc1,
                            smx_vf32* c2) noexcept nogil:
    """c = t + cd per column (t exactly, the flushed compensation cd in double) as the
    float32 pair c1 + c2 (nc1 = -c1)."""
    cdef smx_vf64 d0 = smx_add_f64(smx_cvt_lo_f32_f64(t), smx_load_f64(cd))
    cdef smx_vf64 d1 = smx_add_f64(smx_cvt_hi_f32_f64(t), smx_load_f64(cd + SMX_NF64))
    c1[0] = smx_cvt_f64x2_f32(d0, d1)
    nc1[0] = smx_neg_f32(c1[0])
    c2[0] = smx_cvt_f64x2_f32(smx_sub_f64(d0, smx_cvt_lo_f32_f64(c1[0])),
                              smx_sub_f64(d1, smx_cvt_hi_f32_f64(c1[0])))

cdef inline void _cvjp_out1(const float* y, const float* g, float* o, Py_ssize_t n,
                            smx_vf32 c1, smx_vf32 nc1, smx_vf32 c2, bint neg) noexcept nogil:
    """One vector of a row's output: o = y (g - c), negated for T = -1 (n columns)."""
    cdef smx_vf32 r = _vjp_unit32(_cldv32(y, n), _cldv32(g, n), c1, nc1, c2)
    _cst32(o, n, smx_neg_f32(r) if neg else r)

cdef bint _cvjp_unit32(const float* y, const float* g, float* out, Py_ssize_t K, Py_ssize_t w,
                       bint neg) noexcept nogil:
    """The softmax VJP of a contiguous (K, w) block at T = 1 (T = -1: neg), FMA only. False,
    nothing written, when a column's sum(y g) is not finite as a float32 pair (the general
    path then)."""
    cdef smx_vf32 zf = smx_zero_f32(), t0 = zf, t1 = zf, t2 = zf, t3 = zf
    cdef smx_vf32 u0 = zf, u1 = zf, u2 = zf, u3 = zf
    cdef smx_vf32 a0, a1, a2, a3, n0, n1, n2, n3, b0, b1, b2, b3
    cdef double cd[FCV * 16]
    cdef Py_ssize_t row, j
    cdef const float* p
    cdef const float* q
    cdef float* o
    for j in range(FCV * SMX_NF32):
        cd[j] = 0.0
    for row in range(K):        # (the vectors past w skipped: a branch the same every row)
        p = y + row * w
        q = g + row * w
        _dot_acc32(&t0, &u0, _cldv32(p, w), _cldv32(q, w))
        if w > SMX_NF32:
            _dot_acc32(&t1, &u1, _cldv32(p + SMX_NF32, w - SMX_NF32),
                       _cldv32(q + SMX_NF32, w - SMX_NF32))
        if w > 2 * SMX_NF32:
            _dot_acc32(&t2, &u2, _cldv32(p + 2 * SMX_NF32, w - 2 * SMX_NF32),
                       _cldv32(q + 2 * SMX_NF32, w - 2 * SMX_NF32))
        if w > 3 * SMX_NF32:
            _dot_acc32(&t3, &u3, _cldv32(p + 3 * SMX_NF32, w - 3 * SMX_NF32),
                       _cldv32(q + 3 * SMX_NF32, w - 3 * SMX_NF32))
        if row % LOG_FLUSH == LOG_FLUSH - 1:
            _fc_flush(&u0, cd)
            _fc_flush(&u1, cd + SMX_NF32)
            _fc_flush(&u2, cd + 2 * SMX_NF32)
            _fc_flush(&u3, cd + 3 * SMX_NF32)
    _fc_flush(&u0, cd)
    _fc_flush(&u1, cd + SMX_NF32)
    _fc_flush(&u2, cd + 2 * SMX_NF32)
    _fc_flush(&u3, cd + 3 * SMX_NF32)
    _cvjp_pair(t0, cd, &a0, &n0, &b0)
    _cvjp_pair(t1, cd + SMX_NF32, &a1, &n1, &b1)
    _cvjp_pair(t2, cd + 2 * SMX_NF32, &a2, &n2, &b2)
    _cvjp_pair(t3, cd + 3 * SMX_NF32, &a3, &n3, &b3)
    if not smx_all_mf32(smx_and_mf32(      # (the lanes past w: 0)
            smx_and_mf32(smx_cmplt_f32(smx_abs_f32(a0), smx_setall_f32(INFINITY)),
                         smx_cmplt_f32(smx_abs_f32(a1), smx_setall_f32(INFINITY))),
            smx_and_mf32(smx_cmplt_f32(smx_abs_f32(a2), smx_setall_f32(INFINITY)),
                         smx_cmplt_f32(smx_abs_f32(a3), smx_setall_f32(INFINITY))))):
        return False
    for row in range(K):
        p = y + row * w
        q = g + row * w
        o = out + row * w
        _cvjp_out1(p, q, o, w, a0, n0, b0, neg)
        if w > SMX_NF32:
            _cvjp_out1(p + SMX_NF32, q + SMX_NF32, o + SMX_NF32, w - SMX_NF32, a1, n1, b1, neg)
        if w > 2 * SMX_NF32:
            _cvjp_out1(p + 2 * SMX_NF32, q + 2 * SMX_NF32, o + 2 * SMX_NF32, w - 2 * SMX_NF32,
                       a2, n2, b2, neg)
        if w > 3 * SMX_NF32:
            _cvjp_out1(p + 3 * SMX_NF32, q + 3 * SMX_NF32, o + 3 * SMX_NF32, w - 3 * SMX_NF32,
                       a3, n3, b3, neg)
    return True

cdef void _vderiv_cols32_case(Op op, const float* x, const float* v, float* out, Py_ssize_t K,
                              Py_ssize_t stride, Py_ssize_t W, Temp t, TCase k,
                              char* scratch, char_r ws) noexcept nogil:
    cdef bint log_out = op == OP_LOG_JVP or op == OP_LOG_VJP
    cdef double* S = <double*>scratch                 # 4 x VCW doubles, then 3 x VCW floats
    cdef double* D = S + VCW
    cdef double* md = D + VCW
    cdef double* cd = md + VCW
    cdef float* am = <float*>(cd + VCW)
    cdef float* av = am + VCW
    cdef float* ac = av + VCW
    cdef unsigned char* sp = <unsigned char*>(ac + VCW)
    cdef Py_ssize_t j, jv, n, nvec = (W + SMX_NF32 - 1) // SMX_NF32
    cdef bint any_ok = False, tok = (not t.hard) and t.inv + t.inv_lo < INFINITY
    cdef smx_mf32 mk
    cdef double q
    if op == OP_VJP or op == OP_LOG_VJP:
        _cvjp_sum32(x, v, K, stride, W, log_out, k, S, am)
        for jv in range(nvec):
            j = jv * SMX_NF32
            n = min(<Py_ssize_t>SMX_NF32, W - j)
            sp[jv] = log_out and smx_any_mf32(smx_and_mf32(
                smx_till_f32(n), smx_cmpneq_f32(smx_load_f32(am + j), smx_zero_f32())))
            if sp[jv]:
                _vjp_cols(x + j, v + j, out + j, K, stride, n, t, True, ws)
        _cvjp_out32(x, v, out, K, stride, W, sp, S, t.inv_signed, log_out, k)
        return
    _cjvp_max32(x, v, K, stride, W, k, am, av, ac)
    for jv in range(nvec):       # which vectors of columns are ordinary
        j = jv * SMX_NF32
        n = min(<Py_ssize_t>SMX_NF32, W - j)
        mk = smx_till_f32(n)
        sp[jv] = (not tok
                  or smx_any_mf32(smx_and_mf32(mk, smx_cmpneq_f32(smx_load_f32(ac + j),
                                                                  smx_load_f32(ac + j))))
                  or smx_any_mf32(smx_and_mf32(mk, smx_cmpeq_f32(smx_load_f32(am + j),
                                                                 smx_setall_f32(-INFINITY)))))
        if sp[jv]:
            _jvp_cols(x + j, v + j, out + j, K, stride, n, t, log_out, ws)
        else:
            any_ok = True
    if not any_ok:
        return
    for j in range(nvec * SMX_NF32):   # the lanes past W too: finite, never stored
        md[j] = am[j] if fabsf(am[j]) < INFINITY else 0.0
        cd[j] = av[j] if fabsf(av[j]) < INFINITY else 0.0
    _cjvp_exp32(x, v, out, K, stride, W, sp, md, cd, t.inv + t.inv_lo, not log_out, k, S, D)
    for j in range(W):           # per column: S -> qf = f / S, D -> mu - c
        q = 1.0 / S[j]
        D[j] = D[j] * q
        S[j] = q * t.inv_signed
    _cjvp_out32(v, out, K, stride, W, sp, cd, D, S, t.inv_signed, log_out, k)

cdef void _vderiv_cols32(Op op, const float* x, const float* v, float* out, Py_ssize_t K,
                         Py_ssize_t stride, Py_ssize_t W, Temp t, char_r ws) noexcept nogil:
    """A JVP or VJP of W <= VCW float32 columns of a (K, stride) block. Scratch: WS_COL (its
    state, then a general kernel's)."""
    cdef char* scratch = _ws(&ws, 45 * VCW)
    cdef Pos1 p1
    cdef PosT pt
    cdef Neg1 n1
    cdef NegT nt
    cdef int case = _tcase(t)
    if (op == OP_VJP and SMX_HAS_FMA and not t.scaled and stride <= FCV * SMX_NF32
            and _cvjp_unit32(x, v, out, K, W, t.sgn < 0)):
        return
    if case == 0:
        _vderiv_cols32_case(op, x, v, out, K, stride, W, t, p1, scratch, ws)
    elif case == 1:
        _vderiv_cols32_case(op, x, v, out, K, stride, W, t, pt, scratch, ws)
    elif case == 2:
        _vderiv_cols32_case(op, x, v, out, K, stride, W, t, n1, scratch, ws)
    else:
        _vderiv_cols32_case(op, x, v, out, K, stride, W, t, nt, scratch, ws)

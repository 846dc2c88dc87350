# float32 Jacobian products on vectors, columns (inner > 1): one lane per column of a (K, stride)
# block of W <= VCW columns; each pass visits a row once for the whole block, the per-column state
# in small arrays (scratch, from _vderiv_cols32), or in registers for a contiguous block of at
# most FCV vectors. The numerics are those of the rows (_k_vderiv32.pxi), but for the softmax
# VJP at |T| = 1, whose dot is the rows' compensated float32 one with its compensation flushed
# into double every LOG_FLUSH rows. A vector of columns with a special one goes to the general
# kernel (_jvp_cols, _vjp_cols; a JVP block's with all its columns). Part of the per-ISA kernel
# source (included by _kernels.pyx).

DEF DCHUNK_BYTES = 2097152     # a block of each input within the last-level cache
DEF CVJP_AHEAD = 4             # _cvjp_sweep32: rows ahead that its passes prefetch, where its
DEF CVJP_GAP = 64              # rows' W columns lie at least CVJP_GAP elements apart

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

# One vector of columns of the JVP's passes (the column kernels below hold their state in
# scratch arrays, the contiguous block's in registers: the same steps, the same bits).

cdef inline void _cjvp_max1(const float* x, const float* v, Py_ssize_t n, bint neg, smx_vf32* a,
                            smx_vf32* b, smx_vf32* q) noexcept nogil:
    """The max pass on one vector of a row (n columns): a max, b anchor, q y * 0 summed."""
    cdef smx_vf32 z = smx_zero_f32()
    cdef smx_vf32 y = _cld32(x, n, neg)
    cdef smx_mf32 g = smx_cmpgt_f32(y, a[0])
    a[0] = smx_select_f32(g, y, a[0])
    b[0] = smx_select_f32(g, _cldv32(v, n), b[0])
    q[0] = smx_muladd_f32(smx_select_f32(smx_cmpeq_f32(y, smx_setall_f32(-INFINITY)), z, y), z,
                          q[0])

cdef inline void _cjvp_exp1(const float* x, const float* v, float* out, Py_ssize_t n, bint neg,
                            bint scaled, bint store, smx_vf64 iv, const double* md,
                            const double* cd, smx_vf64* s0, smx_vf64* s1, smx_vf64* d0,
                            smx_vf64* d1) noexcept nogil:
    """The exp pass on one vector of a row (md, cd: its columns' max and anchor; s0, s1 the
    sums of e, d0, d1 of e (v - c), in double)."""
    cdef smx_vf32 y = _cld32(x, n, neg)
    cdef smx_vf32 w = _cldv32(v, n)
    cdef smx_vf64 h0 = smx_sub_f64(_lo64(y), smx_load_f64(md))
    cdef smx_vf64 h1 = smx_sub_f64(_hi64(y), smx_load_f64(md + SMX_NF64))
    if scaled:
        h0 = smx_mul_f64(h0, iv)
        h1 = smx_mul_f64(h1, iv)
    h0 = _vexp_z64(h0, V64_SHIFT64)
    h1 = _vexp_z64(h1, V64_SHIFT64)
    s0[0] = smx_add_f64(s0[0], h0)
    s1[0] = smx_add_f64(s1[0], h1)
    d0[0] = smx_muladd_f64(h0, smx_sub_f64(_lo64(w), smx_load_f64(cd)), d0[0])
    d1[0] = smx_muladd_f64(h1, smx_sub_f64(_hi64(w), smx_load_f64(cd + SMX_NF64)), d1[0])
    if store:
        _cst32(out, n, smx_cvt_f64x2_f32(h0, h1))

cdef inline void _cjvp_out1(const float* v, float* out, Py_ssize_t n, bint neg, bint scaled,
                            bint log_out, smx_vf64 vf, const double* cd, const double* mu,
                            const double* qf) noexcept nogil:
    """The output pass on one vector of a row (cd, mu, qf: its columns')."""
    cdef smx_vf32 w = _cldv32(v, n), e
    cdef smx_vf64 a0 = smx_sub_f64(smx_sub_f64(_lo64(w), smx_load_f64(cd)), smx_load_f64(mu))
    cdef smx_vf64 a1 = smx_sub_f64(smx_sub_f64(_hi64(w), smx_load_f64(cd + SMX_NF64)),
                                   smx_load_f64(mu + SMX_NF64))
    if log_out:
        e = _times_f32(a0, a1, vf, neg, scaled)
    else:
        e = _cldv32(out, n)
        e = smx_cvt_f64x2_f32(smx_mul_f64(smx_mul_f64(_lo64(e), smx_load_f64(qf)), a0),
                              smx_mul_f64(smx_mul_f64(_hi64(e), smx_load_f64(qf + SMX_NF64)), a1))
    _cst32(out, n, e)

cdef inline bint _cjvp_special(const float* am, const float* ac, Py_ssize_t n) noexcept nogil:
    """Whether one of the n columns of a vector is special after the max pass: a NaN or +inf
    (ac NaN), or all -inf (am -inf)."""
    cdef smx_vf32 a = smx_load_f32(ac)
    return smx_any_mf32(smx_and_mf32(smx_till_f32(n), smx_or_mf32(
        smx_cmpneq_f32(a, a), smx_cmpeq_f32(smx_load_f32(am), smx_setall_f32(-INFINITY)))))

cdef inline void _cjvp_anchors(const float* am, const float* av, Py_ssize_t n, double* md,
                               double* cd) noexcept nogil:
    """md, cd = the max and the anchor of n columns in double, 0 where not finite (the lanes
    past the block's width too: finite, never stored)."""
    cdef Py_ssize_t j
    for j in range(n):
        md[j] = am[j] if fabsf(am[j]) < INFINITY else 0.0
        cd[j] = av[j] if fabsf(av[j]) < INFINITY else 0.0

cdef void _cjvp_max32(const float* x, const float* v, Py_ssize_t K, Py_ssize_t stride,
                      Py_ssize_t W, TCase k, float* am, float* av, float* ac) noexcept nogil:
    """Per column: am = the max of y (NaN ignored), av = the v of an element at it, ac = the
    sum of y * 0 over the entries other than -inf (NaN for a NaN or +inf)."""
    cdef bint neg = TCase is Neg1 or TCase is NegT
    cdef smx_vf32 z = smx_zero_f32(), lo = smx_setall_f32(-INFINITY), a, b, q
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
            a = smx_load_f32(am + j)
            b = smx_load_f32(av + j)
            q = smx_load_f32(ac + j)
            _cjvp_max1(x + r * stride + j, v + r * stride + j, W - j, neg, &a, &b, &q)
            smx_store_f32(am + j, a)
            smx_store_f32(av + j, b)
            smx_store_f32(ac + j, q)
            j += SMX_NF32

cdef void _cjvp_exp32(const float* x, const float* v, float* out, Py_ssize_t K,
                      Py_ssize_t stride, Py_ssize_t W, const unsigned char* sp, const double* md,
                      const double* cd, double inv, bint store, TCase k, double* S,
                      double* D) noexcept nogil:
    """The exp pass over the ordinary vectors of columns: per column S = sum(e), D =
    sum(e (v - c)), e = exp((y - m)/|T|) * 2**64 in double; with store out = e rounded."""
    cdef bint neg = TCase is Neg1 or TCase is NegT
    cdef bint scaled = TCase is PosT or TCase is NegT
    cdef smx_vf64 iv = smx_setall_f64(inv), z = smx_zero_f64(), s0, s1, d0, d1
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
            s0 = smx_load_f64(S + j)
            s1 = smx_load_f64(S + j + SMX_NF64)
            d0 = smx_load_f64(D + j)
            d1 = smx_load_f64(D + j + SMX_NF64)
            _cjvp_exp1(x + r * stride + j, v + r * stride + j, out + r * stride + j, W - j, neg,
                       scaled, store, iv, md + j, cd + j, &s0, &s1, &d0, &d1)
            smx_store_f64(S + j, s0)
            smx_store_f64(S + j + SMX_NF64, s1)
            smx_store_f64(D + j, d0)
            smx_store_f64(D + j + SMX_NF64, d1)
            j += SMX_NF32

cdef void _cjvp_out32(const float* v, float* out, Py_ssize_t K, Py_ssize_t stride,
                      Py_ssize_t W, const unsigned char* sp, const double* cd, const double* mu,
                      const double* qf, double f, bint log_out, TCase k) noexcept nogil:
    """The output pass (_jvp_out32 per column: its c, mu and qf from arrays)."""
    cdef bint neg = TCase is Neg1 or TCase is NegT
    cdef bint scaled = TCase is PosT or TCase is NegT
    cdef smx_vf64 vf = smx_setall_f64(f)
    cdef Py_ssize_t r, j
    for r in range(K):
        j = 0
        while j < W:
            if sp[j // SMX_NF32]:
                j += SMX_NF32
                continue
            _cjvp_out1(v + r * stride + j, out + r * stride + j, W - j, neg, scaled, log_out, vf,
                       cd + j, mu + j, qf + j)
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
# AVX-512), at T = +-1 with FMA: the arithmetic of the rows' float32 lanes (the compensated
# dot _dot_acc32 per column, _vjp_unit32's output), the state of its FCV vectors of columns
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

cdef inline void _cvjp_flush(smx_vf32* u0, smx_vf32* u1, smx_vf32* u2, smx_vf32* u3,
                             double* cd) noexcept nogil:
    """The four vectors' dot compensations into their double lanes cd (_fc_flush)."""
    _fc_flush(u0, cd)
    _fc_flush(u1, cd + SMX_NF32)
    _fc_flush(u2, cd + 2 * SMX_NF32)
    _fc_flush(u3, cd + 3 * SMX_NF32)

cdef bint _cvjp_unit32(const float* y, const float* g, float* out, Py_ssize_t K, Py_ssize_t w,
                       bint neg) noexcept nogil:
    """The softmax VJP of a contiguous (K, w) block at T = 1 (T = -1: neg), FMA only. False,
    nothing written, when a column's sum(y g) is not finite as a float32 pair (_cvjp_sweep32
    then)."""
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
            _cvjp_flush(&u0, &u1, &u2, &u3, cd)
    _cvjp_flush(&u0, &u1, &u2, &u3, cd)
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

# The same arithmetic on rows stride > FCV * SMX_NF32 apart (and on a contiguous block that
# _cvjp_unit32 gave back): each pass sweeps the W columns of every row, rather than strips of
# FCV vectors (_cvjp_unit32 on a strided block reads each row FCV vectors at a time: from
# memory 2-3x slower than whole rows), the state in arrays (a load and a store of t and u a
# vector), each column's operations those of _cvjp_unit32 in the same order, a special vector
# of columns to the general kernel: the same bits as the same columns in a contiguous block.

cdef inline void _cvjp_flush_all(float* us, double* cd, Py_ssize_t W) noexcept nogil:
    """_fc_flush of the W columns' compensations us into cd."""
    cdef smx_vf32 u
    cdef Py_ssize_t j = 0
    while j < W:
        u = smx_load_f32(us + j)
        _fc_flush(&u, cd + j)
        smx_store_f32(us + j, u)
        j += SMX_NF32

cdef void _cvjp_sweep32(const float* y, const float* g, float* out, Py_ssize_t K,
                        Py_ssize_t stride, Py_ssize_t W, bint neg, Temp t, char* scratch,
                        char_r ws) noexcept nogil:
    """The softmax VJP of W <= VCW columns of a (K, stride) block at T = 1 (T = -1: neg), FMA
    only: _cvjp_unit32's operations per column; a vector of columns whose sum(y g) is not
    finite as a float32 pair goes to the general kernel (_vjp_cols, scratch from ws). Its
    state in scratch: 3 VCW floats, VCW doubles, VCW / SMX_NF32 flags (at most 20.25 VCW
    bytes)."""
    cdef float* ts = <float*>scratch           # t, then c1
    cdef float* us = ts + VCW                   # u, then c2
    cdef float* ns = us + VCW                   # -c1
    cdef double* cd = <double*>(ns + VCW)
    cdef unsigned char* sp = <unsigned char*>(cd + VCW)
    cdef smx_vf32 a, b, c
    cdef Py_ssize_t row, j, nv = (W + SMX_NF32 - 1) // SMX_NF32
    cdef bint apart = stride - W >= CVJP_GAP     # (else the hardware prefetchers see a stream)
    cdef const float* p
    cdef const float* q
    cdef float* o
    for j in range(nv * SMX_NF32):
        ts[j] = us[j] = 0.0
        cd[j] = 0.0
    for row in range(K):
        p = y + row * stride
        q = g + row * stride
        j = 0
        while j < W:
            if apart and (SMX_NF32 >= 16 or j % 16 == 0):     # (a line a step)
                smx_prefetch(p + CVJP_AHEAD * stride + j)
                smx_prefetch(q + CVJP_AHEAD * stride + j)
            a = smx_load_f32(ts + j)
            b = smx_load_f32(us + j)
            _dot_acc32(&a, &b, _cldv32(p + j, W - j), _cldv32(q + j, W - j))
            smx_store_f32(ts + j, a)
            smx_store_f32(us + j, b)
            j += SMX_NF32
        if row % LOG_FLUSH == LOG_FLUSH - 1:
            _cvjp_flush_all(us, cd, W)
    _cvjp_flush_all(us, cd, W)
    j = 0
    while j < W:
        _cvjp_pair(smx_load_f32(ts + j), cd + j, &a, &b, &c)
        sp[j // SMX_NF32] = not smx_all_mf32(smx_cmplt_f32(smx_abs_f32(a),
                                                           smx_setall_f32(INFINITY)))
        if sp[j // SMX_NF32]:
            _vjp_cols(y + j, g + j, out + j, K, stride, min(<Py_ssize_t>SMX_NF32, W - j), t,
                      False, ws)
        smx_store_f32(ts + j, a)
        smx_store_f32(ns + j, b)
        smx_store_f32(us + j, c)
        j += SMX_NF32
    for row in range(K):
        p = y + row * stride
        q = g + row * stride
        o = out + row * stride
        j = 0
        while j < W:
            if apart and (SMX_NF32 >= 16 or j % 16 == 0):
                smx_prefetch(p + CVJP_AHEAD * stride + j)
                smx_prefetch(q + CVJP_AHEAD * stride + j)
                smx_prefetchw(o + CVJP_AHEAD * stride + j)
            if not sp[j // SMX_NF32]:
                _cvjp_out1(p + j, q + j, o + j, W - j, smx_load_f32(ts + j), smx_load_f32(ns + j),
                           smx_load_f32(us + j), neg)
            j += SMX_NF32

# ---------------------------------------------------------------- JVP, contiguous block
# A contiguous (K, w) block, w <= FCV * SMX_NF32: the passes of _vderiv_cols32_case, each over
# a group of two vectors of columns at a time, the group's state (max, anchor, sums in double)
# in registers, not in scratch arrays (where each row cost a load and a store a vector of
# every sum); the same operations, the same bits. A special column sends the whole block to
# _vderiv_cols32_case before anything is written.

cdef void _cjvp_group32(const float* x, const float* v, float* out, Py_ssize_t K, Py_ssize_t w,
                        Py_ssize_t j, Temp t, bint log_out, double* md, double* cd,
                        TCase k) noexcept nogil:
    """The exp and output passes of the group of columns j, j + 2 SMX_NF32 of the block (md, cd
    from _cjvp_block32); the sums in registers, mu and qf in small arrays."""
    cdef bint neg = TCase is Neg1 or TCase is NegT
    cdef bint scaled = TCase is PosT or TCase is NegT
    cdef smx_vf64 z = smx_zero_f64(), iv = smx_setall_f64(t.inv + t.inv_lo)
    cdef smx_vf64 vf = smx_setall_f64(t.inv_signed), one = smx_setall_f64(1.0), q
    cdef smx_vf64 s0 = z, s1 = z, s2 = z, s3 = z, d0 = z, d1 = z, d2 = z, d3 = z
    cdef double mu[2 * 16]
    cdef double qf[2 * 16]
    cdef Py_ssize_t row, n0 = w - j, n1 = w - j - SMX_NF32
    cdef const float* p
    cdef const float* pv
    cdef float* o
    for row in range(K):
        p = x + row * w + j
        pv = v + row * w + j
        o = out + row * w + j
        _cjvp_exp1(p, pv, o, n0, neg, scaled, not log_out, iv, md + j, cd + j, &s0, &s1, &d0, &d1)
        if n1 > 0:
            _cjvp_exp1(p + SMX_NF32, pv + SMX_NF32, o + SMX_NF32, n1, neg, scaled, not log_out,
                       iv, md + j + SMX_NF32, cd + j + SMX_NF32, &s2, &s3, &d2, &d3)
    q = smx_div_f64(one, s0)            # per column: mu - c = D / S, qf = f / S
    smx_store_f64(mu, smx_mul_f64(d0, q))
    smx_store_f64(qf, smx_mul_f64(q, vf))
    q = smx_div_f64(one, s1)
    smx_store_f64(mu + SMX_NF64, smx_mul_f64(d1, q))
    smx_store_f64(qf + SMX_NF64, smx_mul_f64(q, vf))
    q = smx_div_f64(one, s2)
    smx_store_f64(mu + SMX_NF32, smx_mul_f64(d2, q))
    smx_store_f64(qf + SMX_NF32, smx_mul_f64(q, vf))
    q = smx_div_f64(one, s3)
    smx_store_f64(mu + SMX_NF32 + SMX_NF64, smx_mul_f64(d3, q))
    smx_store_f64(qf + SMX_NF32 + SMX_NF64, smx_mul_f64(q, vf))
    for row in range(K):
        pv = v + row * w + j
        o = out + row * w + j
        _cjvp_out1(pv, o, n0, neg, scaled, log_out, vf, cd + j, mu, qf)
        if n1 > 0:
            _cjvp_out1(pv + SMX_NF32, o + SMX_NF32, n1, neg, scaled, log_out, vf,
                       cd + j + SMX_NF32, mu + SMX_NF32, qf + SMX_NF32)

cdef bint _cjvp_block32(const float* x, const float* v, float* out, Py_ssize_t K, Py_ssize_t w,
                        Temp t, bint log_out, TCase k) noexcept nogil:
    """The JVP of a contiguous (K, w) block, w <= FCV * SMX_NF32; False, nothing written,
    when a column is special (_vderiv_cols32_case's test)."""
    cdef bint neg = TCase is Neg1 or TCase is NegT
    cdef smx_vf32 lo = smx_setall_f32(-INFINITY), zf = smx_zero_f32()
    cdef smx_vf32 a0, a1, b0, b1, q0, q1
    cdef float am[FCV * 16]
    cdef float av[FCV * 16]
    cdef float ac[FCV * 16]
    cdef double md[FCV * 16]
    cdef double cd[FCV * 16]
    cdef Py_ssize_t row, j, nv = (w + SMX_NF32 - 1) // SMX_NF32
    if t.hard or not (t.inv + t.inv_lo < INFINITY):
        return False
    j = 0
    while j < nv * SMX_NF32:        # the max pass, a group of two vectors at a time
        a0 = a1 = lo
        b0 = b1 = q0 = q1 = zf
        for row in range(K):
            _cjvp_max1(x + row * w + j, v + row * w + j, w - j, neg, &a0, &b0, &q0)
            if w - j > SMX_NF32:
                _cjvp_max1(x + row * w + j + SMX_NF32, v + row * w + j + SMX_NF32,
                           w - j - SMX_NF32, neg, &a1, &b1, &q1)
        smx_store_f32(am + j, a0)
        smx_store_f32(av + j, b0)
        smx_store_f32(ac + j, q0)
        smx_store_f32(am + j + SMX_NF32, a1)
        smx_store_f32(av + j + SMX_NF32, b1)
        smx_store_f32(ac + j + SMX_NF32, q1)
        j += 2 * SMX_NF32
    j = 0
    while j < w:
        if _cjvp_special(am + j, ac + j, w - j):
            return False
        j += SMX_NF32
    _cjvp_anchors(am, av, nv * SMX_NF32, md, cd)
    j = 0
    while j < w:
        _cjvp_group32(x, v, out, K, w, j, t, log_out, md, cd, k)
        j += 2 * SMX_NF32
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
        sp[jv] = not tok or _cjvp_special(am + j, ac + j, n)
        if sp[jv]:
            _jvp_cols(x + j, v + j, out + j, K, stride, n, t, log_out, ws)
        else:
            any_ok = True
    if not any_ok:
        return
    _cjvp_anchors(am, av, nvec * SMX_NF32, md, cd)
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
    if op == OP_VJP and SMX_HAS_FMA and not t.scaled:
        if stride > FCV * SMX_NF32 or not _cvjp_unit32(x, v, out, K, W, t.sgn < 0):
            _cvjp_sweep32(x, v, out, K, stride, W, t.sgn < 0, t, scratch, ws)
        return
    if (op == OP_JVP or op == OP_LOG_JVP) and stride <= FCV * SMX_NF32:
        if case == 0:
            if _cjvp_block32(x, v, out, K, W, t, op == OP_LOG_JVP, p1):
                return
        elif case == 1:
            if _cjvp_block32(x, v, out, K, W, t, op == OP_LOG_JVP, pt):
                return
        elif case == 2:
            if _cjvp_block32(x, v, out, K, W, t, op == OP_LOG_JVP, n1):
                return
        elif _cjvp_block32(x, v, out, K, W, t, op == OP_LOG_JVP, nt):
            return
    if case == 0:
        _vderiv_cols32_case(op, x, v, out, K, stride, W, t, p1, scratch, ws)
    elif case == 1:
        _vderiv_cols32_case(op, x, v, out, K, stride, W, t, pt, scratch, ws)
    elif case == 2:
        _vderiv_cols32_case(op, x, v, out, K, stride, W, t, n1, scratch, ws)
    else:
        _vderiv_cols32_case(op, x, v, out, K, stride, W, t, nt, scratch, ws)

# float32 columns (inner > 1) of softmax, log_softmax and logsumexp on vectors: the reduction
# runs down K rows of a strided block of W <= VCW columns, one lane per column. Part of the
# per-ISA kernel source (included by _kernels.pyx).
#
# Each pass visits a row once for the whole block (W columns: up to 4 KB contiguous, so a page
# is walked once per row and pass, not once per vector: a page walk costs more than a vector's
# exps), the per-column state (max, sums, factors) in arrays on the heap; x's and out's block
# stay in the last-level cache between the passes (_vchunk_width). A vector of columns with a
# special one (NaN, +inf, all -inf, T == 0, a |T| below half an ulp of the max) goes to the
# general kernel (_softmax_cols, _lse_cols); the others stay here.

DEF VCW = 1024                 # at most this many float32 columns a block
DEF VCHUNK_BYTES = 4194304     # a block of x (and one of out) within the last-level cache

cdef inline Py_ssize_t _vchunk_width(Py_ssize_t K, Py_ssize_t inner) noexcept nogil:
    """Columns per block of the float32 column kernels: K * W * 4 within VCHUNK_BYTES, a
    multiple of 64, at most VCW and inner."""
    cdef Py_ssize_t w = VCHUNK_BYTES // (K * 4) if K > 0 else VCW
    w = max(<Py_ssize_t>64, min(w, <Py_ssize_t>VCW))
    return min(w - w % 64, inner)

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

cdef void _cols_max32(const float* x, Py_ssize_t K, Py_ssize_t stride, Py_ssize_t W,
                      TCase k, float* am, float* ac) noexcept nogil:
    """am = the columns' max of y (NaN ignored); ac = the sum of y * 0 over the entries other
    than -inf: NaN where a column has a NaN or +inf (-inf entries are exps of 0)."""
    cdef bint neg = TCase is Neg1 or TCase is NegT
    cdef smx_vf32 z = smx_zero_f32(), lo = smx_setall_f32(-INFINITY), v
    cdef Py_ssize_t r, j
    j = 0
    while j < W:
        smx_store_f32(am + j, lo)
        smx_store_f32(ac + j, z)
        j += SMX_NF32
    for r in range(K):
        j = 0
        while j < W:
            v = _cld32(x + r * stride + j, W - j, neg)
            smx_store_f32(am + j, smx_max_f32(v, smx_load_f32(am + j)))
            smx_store_f32(ac + j, smx_muladd_f32(smx_select_f32(smx_cmpeq_f32(v, lo), z, v), z,
                                                 smx_load_f32(ac + j)))
            j += SMX_NF32

cdef void _cols_exp_store32(const float* x, float* out, Py_ssize_t K, Py_ssize_t stride,
                            Py_ssize_t W, const float* am, const unsigned char* sp, float inv_hi,
                            float inv_lo, float c104, TCase k, float* s, float* c) noexcept nogil:
    """softmax's exp pass over the ordinary vectors (sp[v] == 0): out = the exps, and their
    sums per column (anchored Fast2Sum: s starts at 1, c the compensation)."""
    cdef bint neg = TCase is Neg1 or TCase is NegT
    cdef bint scaled = TCase is PosT or TCase is NegT
    cdef smx_vf32 one = smx_setall_f32(1.0), vm, e, ss, cc
    cdef Py_ssize_t r, j
    j = 0
    while j < W:
        smx_store_f32(s + j, one)
        smx_store_f32(c + j, smx_zero_f32())
        j += SMX_NF32
    for r in range(K):
        j = 0
        while j < W:
            if not sp[j // SMX_NF32]:
                vm = smx_load_f32(am + j)
                e = _vexp32m(_cld32(x + r * stride + j, W - j, neg), vm,
                             smx_sub_f32(vm, smx_setall_f32(c104)), inv_hi, inv_lo, scaled)
                _cst32(out + r * stride + j, W - j, e)
                ss = smx_load_f32(s + j)
                cc = smx_load_f32(c + j)
                _fast_acc32(&ss, &cc, e)
                smx_store_f32(s + j, ss)
                smx_store_f32(c + j, cc)
            j += SMX_NF32

cdef void _cols_count_sum32(const float* x, Py_ssize_t K, Py_ssize_t stride, Py_ssize_t W,
                            const float* am, const unsigned char* sp, float inv_hi,
                            float inv_lo, float c104, TCase k, float* ones,
                            double* rest) noexcept nogil:
    """log_softmax's exp pass: per column the exps equal to 1 counted (ones) and the rest
    summed in double."""
    cdef bint neg = TCase is Neg1 or TCase is NegT
    cdef bint scaled = TCase is PosT or TCase is NegT
    cdef smx_vf32 z = smx_zero_f32(), one = smx_setall_f32(1.0), vm, e
    cdef smx_mf32 k1
    cdef Py_ssize_t r, j
    j = 0
    while j < W:
        smx_store_f32(ones + j, z)
        smx_store_f64(rest + j, smx_zero_f64())
        smx_store_f64(rest + j + SMX_NF64, smx_zero_f64())
        j += SMX_NF32
    for r in range(K):
        j = 0
        while j < W:
            if not sp[j // SMX_NF32]:
                vm = smx_load_f32(am + j)
                e = _vexp32m(_cld32(x + r * stride + j, W - j, neg), vm,
                             smx_sub_f32(vm, smx_setall_f32(c104)), inv_hi, inv_lo, scaled)
                k1 = smx_cmplt_f32(e, one)
                smx_store_f32(ones + j, smx_add_f32(smx_load_f32(ones + j), smx_select_f32(k1, z, one)))
                e = smx_select_f32(k1, e, z)
                smx_store_f64(rest + j, smx_add_f64(smx_load_f64(rest + j), smx_cvt_lo_f32_f64(e)))
                smx_store_f64(rest + j + SMX_NF64, smx_add_f64(smx_load_f64(rest + j + SMX_NF64),
                                                               smx_cvt_hi_f32_f64(e)))
            j += SMX_NF32

cdef void _cols_lse_sum32(const float* x, Py_ssize_t K, Py_ssize_t stride, Py_ssize_t W,
                          const float* am, const unsigned char* sp, double inv, TCase k,
                          double* tot) noexcept nogil:
    """logsumexp's exp pass: per column the sum of exps taken in double (_vexp_low)."""
    cdef bint neg = TCase is Neg1 or TCase is NegT
    cdef bint scaled = TCase is PosT or TCase is NegT
    cdef smx_vf64 vi = smx_setall_f64(inv), r0, r1
    cdef smx_vf32 vm, y
    cdef Py_ssize_t r, j
    j = 0
    while j < W:
        smx_store_f64(tot + j, smx_zero_f64())
        smx_store_f64(tot + j + SMX_NF64, smx_zero_f64())
        j += SMX_NF32
    for r in range(K):
        j = 0
        while j < W:
            if not sp[j // SMX_NF32]:
                vm = smx_load_f32(am + j)
                y = _cld32(x + r * stride + j, W - j, neg)
                r0 = smx_sub_f64(smx_cvt_lo_f32_f64(y), smx_cvt_lo_f32_f64(vm))
                r1 = smx_sub_f64(smx_cvt_hi_f32_f64(y), smx_cvt_hi_f32_f64(vm))
                if scaled:
                    r0 = smx_mul_f64(r0, vi)
                    r1 = smx_mul_f64(r1, vi)
                smx_store_f64(tot + j, smx_add_f64(smx_load_f64(tot + j), _vexp_low(r0)))
                smx_store_f64(tot + j + SMX_NF64,
                              smx_add_f64(smx_load_f64(tot + j + SMX_NF64), _vexp_low(r1)))
            j += SMX_NF32

cdef void _cols_out32(const float* x, float* out, Py_ssize_t K, Py_ssize_t stride,
                      Py_ssize_t W, const unsigned char* sp, const float* fa, const float* fb,
                      const double* fd, double inv, int op, TCase k) noexcept nogil:
    """The output pass over the ordinary vectors: softmax out *= its column's 1/sum (fa + fb
    the float32 pair of 1/sum * 2**24; fd = 1/sum, for ISAs without FMA); log_softmax
    out = (y - fa) - fb with fa + fb the float32 pair of m + log(sum), or, when T != 1,
    (y - fb) * inv - fd in double with fb = m and fd = log(sum)."""
    cdef bint neg = TCase is Neg1 or TCase is NegT
    cdef bint scaled = TCase is PosT or TCase is NegT
    cdef smx_vf32 e, va, vb
    cdef smx_vf64 vi = smx_setall_f64(inv)
    cdef Py_ssize_t r, j
    for r in range(K):
        j = 0
        while j < W:
            if sp[j // SMX_NF32]:
                j += SMX_NF32
                continue
            va = smx_load_f32(fa + j)
            vb = smx_load_f32(fb + j)
            if op == 0:
                e = smx_load_till_f32(out + r * stride + j, W - j, 0.0)
                if SMX_HAS_FMA:
                    e = smx_mul_f32(smx_muladd_f32(e, va, smx_mul_f32(e, vb)),
                                    smx_setall_f32(5.9604644775390625e-08))
                else:
                    e = smx_cvt_f64x2_f32(smx_mul_f64(smx_cvt_lo_f32_f64(e), smx_load_f64(fd + j)),
                                          smx_mul_f64(smx_cvt_hi_f32_f64(e),
                                                      smx_load_f64(fd + j + SMX_NF64)))
            elif scaled:
                e = _ld_till32(x + r * stride + j, W - j, 0.0, neg)
                e = smx_cvt_f64x2_f32(
                    smx_sub_f64(smx_mul_f64(smx_sub_f64(smx_cvt_lo_f32_f64(e), smx_cvt_lo_f32_f64(vb)),
                                            vi), smx_load_f64(fd + j)),
                    smx_sub_f64(smx_mul_f64(smx_sub_f64(smx_cvt_hi_f32_f64(e), smx_cvt_hi_f32_f64(vb)),
                                            vi), smx_load_f64(fd + j + SMX_NF64)))
            else:
                e = _ld_till32(x + r * stride + j, W - j, 0.0, neg)
                e = smx_sub_f32(smx_sub_f32(e, va), vb)
            _cst32(out + r * stride + j, W - j, e)
            j += SMX_NF32

cdef void _vcols32_case(const float* x, float* out, Py_ssize_t K, Py_ssize_t stride,
                        Py_ssize_t W, Temp t, int op, TCase k, char* scratch) noexcept nogil:
    cdef bint scaled = TCase is PosT or TCase is NegT
    cdef double* fd = <double*>scratch                 # VCW doubles, then 4 x VCW floats
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
    _cols_max32(x, K, stride, W, k, am, ac)
    for jv in range(nvec):       # which vectors of columns are ordinary
        j = jv * SMX_NF32
        n = min(<Py_ssize_t>SMX_NF32, W - j)
        sp[jv] = (t.hard or not (inv_hi < INFINITY)
                  or smx_any_mf32(smx_and_mf32(smx_till_f32(n), smx_cmpneq_f32(smx_load_f32(ac + j),
                                                                                smx_load_f32(ac + j))))
                  or smx_any_mf32(smx_and_mf32(smx_till_f32(n), smx_cmpge_f32(
                      smx_sub_f32(smx_load_f32(am + j), smx_setall_f32(c104)), smx_load_f32(am + j)))))
        if sp[jv]:
            if op == 2:
                _lse_cols(x + j, out + j, K, stride, n, t)
            else:
                _softmax_cols(x + j, out + j, K, stride, n, t, op == 1)
        else:
            any_ok = True
    if not any_ok:
        return
    if op == 0:
        _cols_exp_store32(x, out, K, stride, W, am, sp, inv_hi, inv_lo, c104, k, fa, fb)
    elif op == 1:
        _cols_count_sum32(x, K, stride, W, am, sp, inv_hi, inv_lo, c104, k, fb, fd)
    else:
        _cols_lse_sum32(x, K, stride, W, am, sp, <double>inv_hi + <double>inv_lo, k, fd)
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
            L = log1p((<double>fb[j] - 1.0) + fd[j])
            if scaled:
                fd[j] = L
                fb[j] = am[j]
            else:
                fa[j] = <float>(<double>am[j] + L)
                fb[j] = <float>((<double>am[j] - <double>fa[j]) + L)
    if op != 2:
        _cols_out32(x, out, K, stride, W, sp, fa, fb, fd, <double>inv_hi + <double>inv_lo, op, k)

cdef void _vcols32(const float* x, float* out, Py_ssize_t K, Py_ssize_t stride,
                   Py_ssize_t W, Temp t, int op) noexcept nogil:
    """W <= VCW columns of a (K, stride) block: softmax (op 0), log_softmax (1), logsumexp
    (2: out[j] per column)."""
    cdef char* scratch = <char*>malloc(25 * VCW)
    cdef Pos1 p1
    cdef PosT pt
    cdef Neg1 n1
    cdef NegT nt
    cdef int case = _tcase(t)
    cdef Py_ssize_t j
    if scratch == NULL:     # no memory for the block's state: the general kernel, CW at a time
        for j in range(0, W, CW):
            if op == 2:
                _lse_cols(x + j, out + j, K, stride, min(<Py_ssize_t>CW, W - j), t)
            else:
                _softmax_cols(x + j, out + j, K, stride, min(<Py_ssize_t>CW, W - j), t, op == 1)
        return
    if case == 0:
        _vcols32_case(x, out, K, stride, W, t, op, p1, scratch)
    elif case == 1:
        _vcols32_case(x, out, K, stride, W, t, op, pt, scratch)
    elif case == 2:
        _vcols32_case(x, out, K, stride, W, t, op, n1, scratch)
    else:
        _vcols32_case(x, out, K, stride, W, t, op, nt, scratch)
    free(scratch)

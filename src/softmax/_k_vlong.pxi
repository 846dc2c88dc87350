# Long rows (K >= SPLIT_MIN) of softmax, log_softmax and logsumexp on vectors, in blocks of
# LBLK elements: the partial statistics of each block (its max and its sum of exps relative to
# it), merged in block order, then the output block by block. Part of the per-ISA kernel
# source (included by _kernels.pyx).
#
# Pass 1 reads a block for its max and min and again, from L2, for its exps (on one thread,
# softmax and log_softmax on the fast path: a block's max and min inside the exp pass of the
# block before, _long_pass1_32, _long_pass1_log32); pass 2 reads the row again and writes the
# output (softmax takes its exps again; from STREAM_MIN elements past the caches): the row is
# read twice and written once, as memory-bound data wants. The blocks are the work items of
# the threads, and the merge runs in block order whatever the thread count: the bits do not
# depend on it.

DEF LONG_AHEAD = 1024          # floats ahead of its loads that the long-row passes prefetch
                               # (pass 1: of the next block, into L2; pass 2: into L1)
DEF LBLK = 16384               # elements a block (64 KB of float32: in L2 between its passes)

ctypedef struct Block32:       # the partial statistics of a block of a float32 row
    float m                    # its max of y (NaN ignored)
    float mn                   # softmax: its min of y (NaN ignored)
    float a                    # the anchor of the sums: m, or softmax's fast path mt (_fast32)
    bint finite                # no NaN, no +-inf in it
    double ones                # log_softmax, logsumexp: the exps equal to 1 ...
    double rest                # ... and the others' sum; softmax: rest = the sum of all

cdef inline void _block_init32(Block32* b, float m, float mn, bint finite) noexcept nogil:
    """b = a block of max m, min mn (softmax; else m), anchored at m, its sums not taken."""
    b.m = m
    b.mn = mn
    b.finite = finite
    b.a = m
    b.ones = 0
    b.rest = 0

cdef void _block_stats32(const float* x, Py_ssize_t n, Temp t, int op, TCase k,
                         Block32* b) noexcept nogil:
    """b = block x's statistics (n elements): softmax's sum on the fast path where it takes
    the block (_fast32), log_softmax's S - 1 likewise (_fastlog32: in float32 lanes, good to
    2**-28 from _log_rest_min on; ones = 1, rest = S - 1), else in double (ones and rest:
    _exp_count_sum32; logsumexp's always, _lse_sums32)."""
    cdef Row32 c
    cdef Stats32 st
    cdef Fast32 f
    cdef float m
    cdef bint finite
    cdef double S
    if op == 2:
        finite = _row_max32(x, n, k, &m)
        _block_init32(b, m, m, finite)    # (mn unused)
    else:
        _row_stats32(x, n, k, &st)
        _block_init32(b, st.m, st.mn if op == 0 else st.m, st.finite)
    if not (fabsf(b.m) < INFINITY):
        return                 # all -inf (or NaN, +inf: the row is special)
    if op == 0 and b.finite and _fast32(b.m, b.mn, t, &f):
        b.a = f.mt
        b.rest = _fexp_sum32(x, n, f, k)
        return
    if op == 1 and b.finite and _fastlog32(b.m, st.mn, t, &f):
        # (nx = x: the pass takes this block's stats again, unused; a copy of the loop
        # without them would grow every module, and the next block's instead measured slower)
        S = _fexp_sum_log32(x, n, f, x, &st, NULL, NULL, 0.0, 0.0, NULL, NULL, k)
        if S >= _log_rest_min(n):
            b.ones = 1.0
            b.rest = S
            return
    c = _row32(b.m, t)
    if op == 0:
        b.rest = _exp_sum32(x, n, c, k)
    elif op == 1:
        _exp_count_sum32(x, n, c, k, &b.ones, &b.rest)
    else:
        _lse_sums32(x, n, c, k, &b.ones, &b.rest)

cdef inline double _fexp_sum32(const float* x, Py_ssize_t K, Fast32 c, TCase k) noexcept nogil:
    """The sum of exp((y - mt)/|T|) on the fast path (_vexp32f), compensated, nothing stored."""
    return _fexp_sum_ahead32(x, K, c, x, 0, NULL, k)

cdef double _fexp_sum_ahead32(const float* x, Py_ssize_t K, Fast32 c, const float* nx,
                              Py_ssize_t nn, Stats32* st, TCase k) noexcept nogil:
    """_fexp_sum32 of x (the same sum, the same bits) and, on the way, st = the stats of the
    next block nx (nn <= K elements, _row_stats32's; none when nn is 0): its loads from
    memory hidden by the exps (_long_pass1_32)."""
    cdef bint neg = TCase is Neg1 or TCase is NegT
    cdef bint scaled = TCase is PosT or TCase is NegT
    cdef smx_vf32 nmt = smx_setall_f32(-c.mt), z = smx_zero_f32()
    cdef smx_vf32 s0 = smx_setall_f32(1.0), s1 = s0, c0 = z, c1 = z, e0, e1, v
    cdef smx_vf32 a0 = smx_setall_f32(-INFINITY), a1 = a0, b0 = smx_setall_f32(INFINITY), b1 = b0
    cdef smx_vf32 q0 = z, q1 = z
    cdef Py_ssize_t i = 0, j = 0
    while i + 2 * SMX_NF32 <= K:
        e0 = _vexp32f(_ld32(x + i, neg), nmt, c.inv_hi, c.inv_lo, scaled)
        e1 = _vexp32f(_ld32(x + i + SMX_NF32, neg), nmt, c.inv_hi, c.inv_lo, scaled)
        _fast_acc32(&s0, &c0, e0)
        _fast_acc32(&s1, &c1, e1)
        if i + 2 * SMX_NF32 <= nn:
            smx_prefetch_l2(nx + i + LONG_AHEAD)
            smx_prefetch_l2(nx + i + LONG_AHEAD + 16)
            v = _ld32(nx + i, neg)
            a0 = smx_max_f32(v, a0)
            b0 = smx_min_f32(v, b0)
            q0 = smx_muladd_f32(v, z, q0)
            v = _ld32(nx + i + SMX_NF32, neg)
            a1 = smx_max_f32(v, a1)
            b1 = smx_min_f32(v, b1)
            q1 = smx_muladd_f32(v, z, q1)
            j = i + 2 * SMX_NF32
        i += 2 * SMX_NF32
    while i < K:
        e0 = _vexp32f(_ld_till32(x + i, K - i, c.mt, neg), nmt, c.inv_hi, c.inv_lo, scaled)
        _fast_acc32(&s0, &c0, smx_select_f32(smx_till_f32(K - i), e0, z))
        i += SMX_NF32
    if nn > 0:                 # the rest of the next block's stats (its padding: y[0])
        while j < nn:
            v = _ld_till32(nx + j, nn - j, -nx[0] if neg else nx[0], neg)
            a0 = smx_max_f32(v, a0)
            b0 = smx_min_f32(v, b0)
            q0 = smx_muladd_f32(v, z, q0)
            j += SMX_NF32
        st.m = smx_reduce_max_f32(smx_max_f32(a0, a1))
        st.mn = smx_reduce_min_f32(smx_min_f32(b0, b1))
        q0 = smx_add_f32(q0, q1)
        st.finite = not smx_any_mf32(smx_cmpneq_f32(q0, q0))
    return _anchored_total32(s0, s1, smx_add_f32(c0, c1), <int>(2 * SMX_NF32))

cdef void _long_pass1_log32(const float* x, Py_ssize_t K, Temp t, TCase k,
                            Block32* blocks) noexcept nogil:
    """_long_pass1_32 for log_softmax: block b + 1's stats taken during block b's exps on
    the fast path (_fexp_sum_log32) where block b + 1 is as long as block b, the lines
    LONG_AHEAD past those loads hinted into L2 (pf: both of the pass's prefetch pointers;
    within the row). Without the hints the next block's loads ran no faster than a stats
    pass of their own (benchmarks/README.md)."""
    cdef Py_ssize_t nb = (K + LBLK - 1) // LBLK, b, off, n, nn
    cdef Stats32 st, nst
    cdef Fast32 f
    cdef double S
    cdef const float* pf
    _row_stats32(x, min(<Py_ssize_t>LBLK, K), k, &st)
    nst = st
    for b in range(nb):
        off = b * LBLK
        n = min(<Py_ssize_t>LBLK, K - off)
        nn = min(<Py_ssize_t>LBLK, K - off - n) if b + 1 < nb else 0
        _block_init32(&blocks[b], st.m, st.m, st.finite)
        if (fabsf(st.m) < INFINITY and st.finite and _fastlog32(st.m, st.mn, t, &f)):
            pf = x + off + n + LONG_AHEAD if off + 2 * n + LONG_AHEAD <= K else NULL
            S = _fexp_sum_log32(x + off, n, f, x + off + n if nn == n else x + off, &nst,
                                NULL, NULL, 0.0, 0.0, pf, pf, k)
            if nn != n and nn > 0:
                _row_stats32(x + off + n, nn, k, &nst)
            if S >= _log_rest_min(n):
                blocks[b].ones = 1.0
                blocks[b].rest = S
            else:
                _exp_count_sum32(x + off, n, _row32(st.m, t), k, &blocks[b].ones,
                                 &blocks[b].rest)
        else:
            if fabsf(st.m) < INFINITY:
                _exp_count_sum32(x + off, n, _row32(st.m, t), k, &blocks[b].ones,
                                 &blocks[b].rest)
            if nn > 0:
                _row_stats32(x + off + n, nn, k, &nst)
        st = nst

cdef void _long_pass1_32(const float* x, Py_ssize_t K, Temp t, TCase k,
                         Block32* blocks) noexcept nogil:
    """Pass 1 of a long softmax row on one thread: blocks[b] as _block_stats32 makes it, the
    stats of block b + 1 taken during block b's exps on the fast path (_fexp_sum_ahead32),
    so that block b + 1 comes from memory beside the arithmetic instead of in a pass of its
    own (a block's stats pass ran at memory speed)."""
    cdef Py_ssize_t nb = (K + LBLK - 1) // LBLK, b, off, n, nn
    cdef Stats32 st, nst
    cdef Fast32 f
    _row_stats32(x, min(<Py_ssize_t>LBLK, K), k, &st)
    nst = st
    for b in range(nb):
        off = b * LBLK
        n = min(<Py_ssize_t>LBLK, K - off)
        nn = min(<Py_ssize_t>LBLK, K - off - n) if b + 1 < nb else 0
        _block_init32(&blocks[b], st.m, st.mn, st.finite)
        if fabsf(st.m) < INFINITY and st.finite and _fast32(st.m, st.mn, t, &f):
            blocks[b].a = f.mt
            blocks[b].rest = _fexp_sum_ahead32(x + off, n, f, x + off + n, nn, &nst, k)
        else:
            if fabsf(st.m) < INFINITY:
                blocks[b].rest = _exp_sum32(x + off, n, _row32(st.m, t), k)
            if nn > 0:
                _row_stats32(x + off + n, nn, k, &nst)
        st = nst

cdef inline smx_vf32 _fexp_out32(const float* x, smx_vf32 nmt, Fast32 c, smx_vf32 vh, smx_vf32 vl,
                                 smx_vf64 vi, bint neg, bint scaled, bint direct) noexcept nogil:
    """exp((y - mt)/|T|) * inv of a full vector (_fexp_scale_out32)."""
    cdef smx_vf32 e = _vexp32f(_ld32(x, neg), nmt, c.inv_hi, c.inv_lo, scaled)
    return _times32d(e, vh, vl) if direct else _times32(e, vh, vl, vi)

cdef inline Py_ssize_t _fexp_out_loop32(const float* x, float* out, Py_ssize_t i, Py_ssize_t n,
                                        smx_vf32 nmt, Fast32 c, smx_vf32 vh, smx_vf32 vl,
                                        smx_vf64 vi, bint neg, bint scaled, bint direct,
                                        bint stream) noexcept nogil:
    """_fexp_out32 of the full vectors from i on; returns where it stopped."""
    while i + SMX_NF32 <= n:
        smx_prefetch(x + i + LONG_AHEAD)
        if stream:
            smx_stream_f32(out + i, _fexp_out32(x + i, nmt, c, vh, vl, vi, neg, scaled, direct))
        else:
            smx_store_f32(out + i, _fexp_out32(x + i, nmt, c, vh, vl, vi, neg, scaled, direct))
        i += SMX_NF32
    return i

cdef inline Py_ssize_t _stream_head32(const float* out, Py_ssize_t n) noexcept nogil:
    """The elements before out's first vector-aligned one (at most n): stored plainly ahead
    of a pass that streams the rest (smx_stream_f32 needs the alignment)."""
    cdef Py_ssize_t a = (<Py_ssize_t>out // <Py_ssize_t>sizeof(float)) % SMX_NF32
    cdef Py_ssize_t i = (SMX_NF32 - a) % SMX_NF32
    return i if i < n else n

cdef void _fexp_scale_out32(const float* x, float* out, Py_ssize_t n, Fast32 c, double inv,
                            Py_ssize_t K, bint stream, TCase k) noexcept nogil:
    """out = exp((y - mt)/|T|) * inv on the fast path, the exps taken again: the output pass
    of a long row of K elements (this block n of them); direct scaling where every product
    stays far above the least normal (as _vrows32_case decides it). stream: the output stored
    past the caches (from the first vector-aligned element of out on)."""
    cdef bint neg = TCase is Neg1 or TCase is NegT
    cdef bint scaled = TCase is PosT or TCase is NegT
    cdef bint direct = c.span <= _direct_span(K)
    cdef smx_vf32 nmt = smx_setall_f32(-c.mt), vh, vl, e
    cdef smx_vf64 vi = smx_setall_f64(inv)
    cdef Py_ssize_t i = 0
    if direct:
        _inv_direct32(inv, &vh, &vl)
    else:
        _inv_pair32(inv, &vh, &vl, &vi)
    if stream:                 # a head up to out's first vector-aligned element
        i = _stream_head32(out, n)
        if i > 0:
            e = _vexp32f(_ld_till32(x, i, c.mt, neg), nmt, c.inv_hi, c.inv_lo, scaled)
            smx_store_till_f32(out, i, _times32d(e, vh, vl) if direct else _times32(e, vh, vl, vi))
    if direct and stream:
        i = _fexp_out_loop32(x, out, i, n, nmt, c, vh, vl, vi, neg, scaled, True, True)
    elif direct:
        i = _fexp_out_loop32(x, out, i, n, nmt, c, vh, vl, vi, neg, scaled, True, False)
    elif stream:
        i = _fexp_out_loop32(x, out, i, n, nmt, c, vh, vl, vi, neg, scaled, False, True)
    else:
        i = _fexp_out_loop32(x, out, i, n, nmt, c, vh, vl, vi, neg, scaled, False, False)
    if stream:
        smx_stream_fence()
    if i < n:
        e = _vexp32f(_ld_till32(x + i, n - i, c.mt, neg), nmt, c.inv_hi, c.inv_lo, scaled)
        smx_store_till_f32(out + i, n - i, _times32d(e, vh, vl) if direct else _times32(e, vh, vl, vi))

cdef void _log_out_long32(const float* x, float* out, Py_ssize_t n, Row32 c, double L,
                          bint stream, TCase k) noexcept nogil:
    """_log_out32 of a block of a long row (n elements); stream: the output stored past the
    caches from out's first vector-aligned element on (as _fexp_scale_out32)."""
    cdef bint neg = TCase is Neg1 or TCase is NegT
    cdef bint scaled = TCase is PosT or TCase is NegT
    cdef LogOut32 o
    cdef Py_ssize_t i
    if not stream:
        _log_out32(x, out, n, c, L, k)
        return
    o = _log_consts32(c, L)
    i = _stream_head32(out, n)
    _log_out32(x, out, i, c, L, k)
    while i + SMX_NF32 <= n:
        smx_prefetch(x + i + LONG_AHEAD)
        smx_stream_f32(out + i, _log_vec32(_ld32(x + i, neg), o, scaled))
        i += SMX_NF32
    smx_stream_fence()
    _log_out32(x + i, out + i, n - i, c, L, k)

cdef int _vlong32_case(const float* x, float* out, Py_ssize_t K, Temp t, int op, int P,
                       TCase k, Block32* blocks) noexcept nogil:
    cdef Py_ssize_t nb = (K + LBLK - 1) // LBLK, b, off, n
    cdef double inv = t.inv + t.inv_lo, f, ones = 0, rest = 0, s_hi, s_lo, L
    cdef float m = -INFINITY, mn = INFINITY, a
    cdef bint finite = True, fast
    cdef bint stream = K >= STREAM_MIN and (<Py_ssize_t>out) % sizeof(float) == 0
    cdef Row32 c
    cdef Fast32 fc
    fc.mt = 0
    if P > 1:
        for b in prange(nb, num_threads=P, schedule="static"):
            off = b * LBLK
            _block_stats32(x + off, min(<Py_ssize_t>LBLK, K - off), t, op, k, &blocks[b])
    elif op == 0:
        _long_pass1_32(x, K, t, k, blocks)
    elif op == 1:
        _long_pass1_log32(x, K, t, k, blocks)
    else:
        for b in range(nb):
            off = b * LBLK
            _block_stats32(x + off, min(<Py_ssize_t>LBLK, K - off), t, op, k, &blocks[b])
    for b in range(nb):
        m = blocks[b].m if blocks[b].m > m else m
        mn = blocks[b].mn if blocks[b].mn < mn else mn
        finite = finite and blocks[b].finite
    if not (fabsf(m) < INFINITY) or (not finite and _has_nan32(x, K)):
        return 1               # a NaN, +inf or all -inf: the general kernel
    c = _row32(m, t)
    fast = op == 0 and finite and _fast32(m, mn, t, &fc)
    if not fast and not _row32_ok(c):
        return 1
    a = fc.mt if fast else m   # the anchor of the row's sum
    for b in range(nb):        # the merge, in block order: sums relative to a
        if blocks[b].a == a:
            ones += blocks[b].ones
            rest += blocks[b].rest
        elif blocks[b].m > -INFINITY:
            f = libm_exp((<double>blocks[b].a - <double>a) * inv)
            rest += (blocks[b].ones + blocks[b].rest) * f
    if op == 2:
        _combine(ones, rest, 0.0, &s_hi, &s_lo)
        out[0] = <float>_lse_value[float](m, s_hi, s_lo, t)
        return 0
    L = 1.0 / rest if op == 0 else _log1p_sum((ones - 1.0) + rest)
    if P > 1:
        for b in prange(nb, num_threads=P, schedule="static"):
            off = b * LBLK
            n = min(<Py_ssize_t>LBLK, K - off)
            if fast:
                _fexp_scale_out32(x + off, out + off, n, fc, L, K, stream, k)
            elif op == 0:
                _exp_scale_out32(x + off, out + off, n, c, L, k)
            else:
                _log_out_long32(x + off, out + off, n, c, L, stream, k)
    else:
        for b in range(nb):
            off = b * LBLK
            n = min(<Py_ssize_t>LBLK, K - off)
            if fast:
                _fexp_scale_out32(x + off, out + off, n, fc, L, K, stream, k)
            elif op == 0:
                _exp_scale_out32(x + off, out + off, n, c, L, k)
            else:
                _log_out_long32(x + off, out + off, n, c, L, stream, k)
    return 0

cdef int _vlong32(const float* x, float* out, Py_ssize_t K, Temp t, int op, int P) noexcept nogil:
    """softmax (op 0), log_softmax (1) or logsumexp (2: out[0]) of one long float32 row on P
    threads: 0 when done, 1 for a special row (untouched: the general kernel's) or no memory
    for the blocks' statistics."""
    cdef Block32* blocks
    cdef Pos1 p1
    cdef PosT pt
    cdef Neg1 n1
    cdef NegT nt
    cdef int case = _tcase(t), st
    if t.hard:
        return 1
    p1._ = pt._ = n1._ = nt._ = 0     # tags only; set for the compiler's sake
    blocks = <Block32*>malloc(((K + LBLK - 1) // LBLK) * sizeof(Block32))
    if blocks == NULL:
        return 1
    if case == 0:
        st = _vlong32_case(x, out, K, t, op, P, p1, blocks)
    elif case == 1:
        st = _vlong32_case(x, out, K, t, op, P, pt, blocks)
    elif case == 2:
        st = _vlong32_case(x, out, K, t, op, P, n1, blocks)
    else:
        st = _vlong32_case(x, out, K, t, op, P, nt, blocks)
    free(blocks)
    return st

# Long rows (K >= SPLIT_MIN) of softmax, log_softmax and logsumexp on vectors, in blocks of
# LBLK elements: the partial statistics of each block (its max and its sum of exps relative to
# it), merged in block order, then the output block by block. Part of the per-ISA kernel
# source (included by _kernels.pyx).
#
# Pass 1 reads a block from memory once for its max and again, from L2, for its exps; pass 2
# reads the row again and writes the output (softmax takes its exps again): the row is read
# twice and written once, as memory-bound data wants. The blocks are the work items of the
# threads, and the merge runs in block order whatever the thread count: the bits do not
# depend on it.

DEF LBLK = 16384               # elements a block (64 KB of float32: in L2 between its passes)

ctypedef struct Block32:       # the partial statistics of a block of a float32 row
    float m                    # its max of y (NaN ignored)
    bint finite                # no NaN, no +-inf in it
    double ones                # log_softmax, logsumexp: the exps equal to 1 ...
    double rest                # ... and the others' sum; softmax: rest = the sum of all

cdef inline void _block_stats32(const float* x, Py_ssize_t n, Temp t, int op, TCase k,
                                Block32* b) noexcept nogil:
    cdef Row32 c
    b.finite = _row_max32(x, n, k, &b.m)
    b.ones = 0
    b.rest = 0
    if not (fabsf(b.m) < INFINITY):
        return                 # all -inf (or NaN, +inf: the row is special)
    c = _row32(b.m, t)
    if op == 0:
        b.rest = _exp_sum32(x, n, c, k)
    elif op == 1:
        _exp_count_sum32(x, n, c, k, &b.ones, &b.rest)
    else:
        _lse_sums32(x, n, c, k, &b.ones, &b.rest)

cdef int _vlong32_case(const float* x, float* out, Py_ssize_t K, Temp t, int op, int P,
                       TCase k, Block32* blocks) noexcept nogil:
    cdef Py_ssize_t nb = (K + LBLK - 1) // LBLK, b, off, n
    cdef double inv = t.inv + t.inv_lo, f, ones = 0, rest = 0, s_hi, s_lo, L
    cdef float m = -INFINITY
    cdef bint finite = True
    cdef Row32 c
    if P > 1:
        for b in prange(nb, num_threads=P, schedule="static"):
            off = b * LBLK
            _block_stats32(x + off, min(<Py_ssize_t>LBLK, K - off), t, op, k, &blocks[b])
    else:
        for b in range(nb):
            off = b * LBLK
            _block_stats32(x + off, min(<Py_ssize_t>LBLK, K - off), t, op, k, &blocks[b])
    for b in range(nb):
        m = blocks[b].m if blocks[b].m > m else m
        finite = finite and blocks[b].finite
    if not (fabsf(m) < INFINITY) or (not finite and _has_nan32(x, K)):
        return 1               # a NaN, +inf or all -inf: the general kernel
    c = _row32(m, t)
    if not _row32_ok(c):
        return 1
    for b in range(nb):        # the merge, in block order: sums relative to m
        if blocks[b].m == m:
            ones += blocks[b].ones
            rest += blocks[b].rest
        elif blocks[b].m > -INFINITY:
            f = libm_exp((<double>blocks[b].m - <double>m) * inv)
            rest += (blocks[b].ones + blocks[b].rest) * f
    if op == 2:
        _combine(ones, rest, 0.0, &s_hi, &s_lo)
        out[0] = <float>_lse_value[float](m, s_hi, s_lo, t)
        return 0
    L = 1.0 / rest if op == 0 else log1p((ones - 1.0) + rest)
    if P > 1:
        for b in prange(nb, num_threads=P, schedule="static"):
            off = b * LBLK
            n = min(<Py_ssize_t>LBLK, K - off)
            if op == 0:
                _exp_scale_out32(x + off, out + off, n, c, L, k)
            else:
                _log_out32(x + off, out + off, n, c, L, k)
    else:
        for b in range(nb):
            off = b * LBLK
            n = min(<Py_ssize_t>LBLK, K - off)
            if op == 0:
                _exp_scale_out32(x + off, out + off, n, c, L, k)
            else:
                _log_out32(x + off, out + off, n, c, L, k)
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

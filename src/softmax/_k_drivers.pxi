# Drivers: split (outer, K, inner) into independent work items and run them on threads;
# one long row over several threads. Part of the per-ISA kernel source.

# --------------------------------------------------------------------------
# Drivers: split (outer, K, inner) into independent work items, one thread each
# --------------------------------------------------------------------------
cdef inline Py_ssize_t _chunk_width(Py_ssize_t K, Py_ssize_t inner, Py_ssize_t itemsize) noexcept nogil:
    """Columns per chunk: K * W * itemsize within CHUNK_BYTES, W a multiple of 16 (a
    whole number of vectors: a scalar remainder loop on every row costs more than
    the vector body), at most CW, at most inner."""
    cdef Py_ssize_t w = CHUNK_BYTES // (K * itemsize) if K > 0 else CW
    w = max(<Py_ssize_t>16, min(w, <Py_ssize_t>CW))
    w -= w % 16
    return min(w, inner)

ctypedef enum Op:
    OP_SOFTMAX, OP_LOG_SOFTMAX, OP_LSE, OP_JVP, OP_LOG_JVP, OP_VJP, OP_LOG_VJP

cdef void _run_item(Op op, const floating* x, const floating* v, floating* out,
                    Py_ssize_t item, Py_ssize_t nchunks, Py_ssize_t W, Py_ssize_t K,
                    Py_ssize_t inner, Temp t) noexcept nogil:
    """One slice (rows) or one chunk of columns of one outer index."""
    cdef Py_ssize_t o = item // nchunks
    cdef Py_ssize_t j0 = (item % nchunks) * W
    cdef Py_ssize_t w = min(W, inner - j0)
    cdef Py_ssize_t base = o * K * inner + j0
    if inner == 1:
        # (rows of SPLIT_MIN or more keep the general kernel: the bits of _row_split, which
        # splits them across threads, whatever the thread count)
        if op == OP_SOFTMAX or op == OP_LOG_SOFTMAX:
            if floating is float and K >= SPLIT_MIN:
                if _vlong32(x + base, out + base, K, t, 1 if op == OP_LOG_SOFTMAX else 0, 1) == 0:
                    return
            elif K < SPLIT_MIN:
                if floating is float:
                    if _vrow32(x + base, out + base, K, t, 1 if op == OP_LOG_SOFTMAX else 0) == 0:
                        return
                elif _softmax_row64(x + base, out + base, K, t,
                                    1 if op == OP_LOG_SOFTMAX else 0) == 0:
                    return
            _softmax_row(x + base, out + base, K, t, op == OP_LOG_SOFTMAX)
        elif op == OP_LSE:
            if floating is float and K >= SPLIT_MIN:
                if _vlong32(x + base, out + o, K, t, 2, 1) == 0:
                    return
            elif K < SPLIT_MIN:
                if floating is float:
                    if _vrow32(x + base, out + o, K, t, 2) == 0:
                        return
                elif _softmax_row64(x + base, out + o, K, t, 2) == 0:
                    return
            _lse_row(x + base, out + o, K, t)
        else:
            if floating is float:
                if _vderiv_row32(op, x + base, v + base, out + base, K, t) == 0:
                    return
            else:
                if _vderiv_row64(op, x + base, v + base, out + base, K, t) == 0:
                    return
            if op == OP_JVP or op == OP_LOG_JVP:
                _jvp_row(x + base, v + base, out + base, K, t, op == OP_LOG_JVP)
            else:
                _vjp_row(x + base, v + base, out + base, K, t, op == OP_LOG_VJP)
    else:
        if op == OP_SOFTMAX or op == OP_LOG_SOFTMAX:
            if floating is float:
                _vcols32(x + base, out + base, K, inner, w, t, 1 if op == OP_LOG_SOFTMAX else 0)
            else:
                _softmax_cols(x + base, out + base, K, inner, w, t, op == OP_LOG_SOFTMAX)
        elif op == OP_LSE:
            if floating is float:
                _vcols32(x + base, out + o * inner + j0, K, inner, w, t, 2)
            else:
                _lse_cols(x + base, out + o * inner + j0, K, inner, w, t)
        elif floating is float:
            _vderiv_cols32(op, x + base, v + base, out + base, K, inner, w, t)
        elif op == OP_JVP or op == OP_LOG_JVP:
            _jvp_cols(x + base, v + base, out + base, K, inner, w, t, op == OP_LOG_JVP)
        else:
            _vjp_cols(x + base, v + base, out + base, K, inner, w, t, op == OP_LOG_VJP)

cdef void _row_split(Op op, const floating* x, floating* out, Py_ssize_t K, Temp t,
                     int P) noexcept nogil:
    """One long row on P threads: the max, the sum of exps and the output each run over P
    parts (2 reads and 1 write of memory in all, as on one thread); the partial sums
    combine exactly (counts of maxima + compensated rests). Special rows (NaN, +-inf,
    T == 0) go to the one-thread kernel."""
    cdef floating mp[64]
    cdef double on[64]
    cdef double rh[64]
    cdef double rl[64]
    cdef Py_ssize_t p, i, off, n, chunk = (K + P - 1) // P
    cdef floating m = -INFINITY, sgn = <floating>t.sgn
    cdef double ones = 0, r_hi = 0, r_lo = 0, s_hi, s_lo, lse = 0, lse_lo = 0, inv = 0
    cdef bint log_out = op == OP_LOG_SOFTMAX, keep = op == OP_SOFTMAX
    chunk = (chunk + 63) // 64 * 64   # part boundaries on whole cache lines (P * chunk >= K)
    for p in prange(P, num_threads=P, schedule="static"):
        off = p * chunk
        n = min(chunk, K - off)
        mp[p] = _max_row(x + off, n, sgn) if n > 0 else -INFINITY
    for p in range(P):
        m = mp[p] if (mp[p] > m) | (mp[p] != mp[p]) else m
    if not (m > -INFINITY) or m == INFINITY or t.hard:
        if op == OP_LSE:
            _lse_row(x, out, K, t)
        else:
            _softmax_row(x, out, K, t, log_out)
        return
    for p in prange(P, num_threads=P, schedule="static"):
        off = p * chunk
        n = min(chunk, K - off)
        on[p] = 0
        rh[p] = 0
        rl[p] = 0
        if n > 0:
            _exp_sum_parts(x + off, out + off if keep else <floating*>NULL, n, m, t, False, keep,
                           &on[p], &rh[p], &rl[p])
    for p in range(P):
        ones += on[p]
        _two_sum_into(&r_hi, &r_lo, rh[p])
        r_lo += rl[p]
    _combine(ones, r_hi, r_lo, &s_hi, &s_lo)
    if op == OP_LSE:
        out[0] = <floating>_lse_value(m, s_hi, s_lo, t)
        return
    if log_out:
        lse = _log_sum(s_hi, s_lo, &lse_lo)
    else:
        inv = 1.0 / (s_hi + s_lo)
    for p in prange(P, num_threads=P, schedule="static"):
        off = p * chunk
        n = min(chunk, K - off)
        if log_out:
            for i in range(off, off + n):
                out[i] = _log_elem(sgn * x[i], m, t, lse, lse_lo)
        elif floating is float:
            _scale_f32(out + off, n, inv)
        else:
            for i in range(off, off + n):
                out[i] = _div_elem(out[i], s_hi, s_lo, inv)

cdef inline void _short_rows_op(Op op, const floating* x, floating* out, Py_ssize_t rows,
                                Py_ssize_t K, Temp t) noexcept nogil:
    """Rows of softmax, log_softmax or logsumexp: float32 one vector a row (K <= SMX_NF32) or
    a block of rows (_vrows32: each row's max from the previous row's pass), float64 a block
    of short rows at a time."""
    if floating is float:
        if K <= SMX_NF32:
            _vshort32(x, out, rows, K, t, 0 if op == OP_SOFTMAX else (1 if op == OP_LOG_SOFTMAX else 2))
        else:
            _vrows32(x, out, rows, K, t, 0 if op == OP_SOFTMAX else (1 if op == OP_LOG_SOFTMAX else 2))
    else:
        _small_rows(op, x, out, rows, K, t)

cdef void _run(Op op, const floating* x, const floating* v, floating* out, Py_ssize_t outer,
               Py_ssize_t K, Py_ssize_t inner, Temp t, int nthreads) noexcept nogil:
    cdef Py_ssize_t W = 1, nchunks = 1, item, nitems
    if inner > 1:
        if floating is float and (op == OP_SOFTMAX or op == OP_LOG_SOFTMAX or op == OP_LSE):
            W = _vchunk_width(K, inner)
        elif floating is float:
            W = _dchunk_width(K, inner, sizeof(floating))
        else:
            W = _chunk_width(K, inner, sizeof(floating))
        nchunks = (inner + W - 1) // W
    nitems = outer * nchunks
    if (nthreads > 1 and inner == 1 and outer < nthreads and K >= SPLIT_MIN
            and (op == OP_SOFTMAX or op == OP_LOG_SOFTMAX or op == OP_LSE)):
        for item in range(outer):   # few long rows: split each one instead
            if floating is float:
                if _vlong32(x + item * K, out + (item if op == OP_LSE else item * K), K, t,
                            0 if op == OP_SOFTMAX else (1 if op == OP_LOG_SOFTMAX else 2),
                            nthreads) == 0:
                    continue
                if op == OP_LSE:
                    _lse_row(x + item * K, out + item, K, t)
                else:
                    _softmax_row(x + item * K, out + item * K, K, t, op == OP_LOG_SOFTMAX)
                continue
            _row_split(op, x + item * K, out + (item if op == OP_LSE else item * K), K, t,
                       min(nthreads, 64))
        return
    if floating is float and inner == 1 and K <= SMX_NF32 and (
            op == OP_VJP or op == OP_LOG_VJP or op == OP_JVP or op == OP_LOG_JVP):
        nitems = (outer + SMALL_ROWS - 1) // SMALL_ROWS   # blocks of rows, as below
        if nthreads > 1 and nitems > 1:
            for item in prange(nitems, num_threads=nthreads, schedule="static"):
                _small_deriv(op, x + item * SMALL_ROWS * K, v + item * SMALL_ROWS * K,
                             out + item * SMALL_ROWS * K,
                             min(<Py_ssize_t>SMALL_ROWS, outer - item * SMALL_ROWS), K, t)
        else:
            for item in range(nitems):
                _small_deriv(op, x + item * SMALL_ROWS * K, v + item * SMALL_ROWS * K,
                             out + item * SMALL_ROWS * K,
                             min(<Py_ssize_t>SMALL_ROWS, outer - item * SMALL_ROWS), K, t)
        return
    if (inner == 1 and (K <= SMALL_K if floating is double else K < SPLIT_MIN)
            and (op == OP_SOFTMAX or op == OP_LOG_SOFTMAX or op == OP_LSE)):
        # blocks of rows, one thread each (float32 rows longer than a vector: ROWS_ELEMS
        # elements a block; every row's result is the same whatever the blocks)
        W = SMALL_ROWS if K <= SMX_NF32 or floating is double else max(1, ROWS_ELEMS // K)
        nitems = (outer + W - 1) // W
        if nthreads > 1 and nitems > 1:
            for item in prange(nitems, num_threads=nthreads, schedule="static"):
                _short_rows_op(op, x + item * W * K, out + item * W * (1 if op == OP_LSE else K),
                               min(W, outer - item * W), K, t)
        else:   # no parallel region at all: entering one costs more than a small call
            for item in range(nitems):
                _short_rows_op(op, x + item * W * K, out + item * W * (1 if op == OP_LSE else K),
                               min(W, outer - item * W), K, t)
        return
    if nthreads > 1 and nitems > 1:
        for item in prange(nitems, num_threads=nthreads, schedule="static"):
            _run_item(op, x, v, out, item, nchunks, W, K, inner, t)
    else:
        for item in range(nitems):
            _run_item(op, x, v, out, item, nchunks, W, K, inner, t)

cdef void _run_lse_b(const floating* x, const floating* b, floating* res, floating* sign,
                     Py_ssize_t outer, Py_ssize_t K, Py_ssize_t inner, Temp t,
                     int nthreads) noexcept nogil:
    cdef Py_ssize_t item, o, j, nitems = outer * inner
    if nthreads > 1 and nitems > 1:
        for item in prange(nitems, num_threads=nthreads, schedule="static"):
            o = item // inner
            j = item % inner
            _lse_b_slice(x + o * K * inner + j, b + o * K * inner + j, res + item, sign + item,
                         K, inner, t)
    else:
        for item in range(nitems):
            o = item // inner
            j = item % inner
            _lse_b_slice(x + o * K * inner + j, b + o * K * inner + j, res + item, sign + item,
                         K, inner, t)

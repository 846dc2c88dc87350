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

cdef inline Py_ssize_t _chunk_for(Op op, Py_ssize_t K, Py_ssize_t inner,
                                 Py_ssize_t itemsize) noexcept nogil:
    """Columns per work item: the float32 vector kernels take up to VCW (their state in the
    scratch block), the general ones CW."""
    if itemsize == 4 and (op == OP_SOFTMAX or op == OP_LOG_SOFTMAX or op == OP_LSE):
        return _vchunk_width(K, inner)
    if itemsize == 4:
        return _dchunk_width(K, inner, itemsize)
    return _chunk_width(K, inner, itemsize)

cdef inline Py_ssize_t _rows_block(Py_ssize_t K, Py_ssize_t outer, int nthreads) noexcept nogil:
    """Rows a work item of the row-block kernels (_vrows32, _vrows64, the float64 VJP rows):
    ROWS_ELEMS elements, but at least BLOCK_MIN_ROWS rows (a block's first row takes a max
    pass of its own, the others theirs inside the previous row's pass: with one row a block
    every long row took one), and at most a thread's share."""
    return max(<Py_ssize_t>1, min(max(ROWS_ELEMS // K, <Py_ssize_t>BLOCK_MIN_ROWS),
                                  (outer + nthreads - 1) // nthreads))

cdef void _run_item(Op op, const floating* x, const floating* v, floating* out,
                    Py_ssize_t item, Py_ssize_t nchunks, Py_ssize_t W, Py_ssize_t K,
                    Py_ssize_t inner, Temp t, char_r ws) noexcept nogil:
    """One slice (rows) or one chunk of columns of one outer index: the vector kernel, and
    the general one for a special slice. Scratch: WS_ROW (rows), WS_COL (columns)."""
    cdef Py_ssize_t o = item // nchunks
    cdef Py_ssize_t j0 = (item % nchunks) * W
    cdef Py_ssize_t w = min(W, inner - j0)
    cdef Py_ssize_t base = o * K * inner + j0
    cdef int vop = 0 if op == OP_SOFTMAX else (1 if op == OP_LOG_SOFTMAX else 2)
    if inner == 1:
        if op == OP_SOFTMAX or op == OP_LOG_SOFTMAX or op == OP_LSE:
            # (K >= SPLIT_MIN: shorter rows take PATH_SHORT; float64 ones this long the
            # general kernel: _row_split's bits, on any number of threads)
            if floating is float:
                if _vlong32(x + base, out + (o if op == OP_LSE else base), K, t, vop, 1) == 0:
                    return
            if op == OP_LSE:
                _lse_row(x + base, out + o, K, t, ws)
            else:
                _softmax_row(x + base, out + base, K, t, op == OP_LOG_SOFTMAX, ws)
            return
        if floating is float:
            if _vderiv_row32(op, x + base, v + base, out + base, K, t) == 0:
                return
        elif _vderiv_row64(op, x + base, v + base, out + base, K, t) == 0:
            return
        if op == OP_JVP or op == OP_LOG_JVP:
            _jvp_row(x + base, v + base, out + base, K, t, op == OP_LOG_JVP, ws)
        else:
            _vjp_row(x + base, v + base, out + base, K, t, op == OP_LOG_VJP, ws)
        return
    if floating is float:
        if op == OP_SOFTMAX or op == OP_LOG_SOFTMAX or op == OP_LSE:
            _vcols32(x + base, out + (o * inner + j0 if op == OP_LSE else base), K, inner, w, t,
                     vop, ws)
        else:
            _vderiv_cols32(op, x + base, v + base, out + base, K, inner, w, t, ws)
    elif op == OP_SOFTMAX or op == OP_LOG_SOFTMAX:
        _softmax_cols(x + base, out + base, K, inner, w, t, op == OP_LOG_SOFTMAX, ws)
    elif op == OP_LSE:
        _lse_cols(x + base, out + o * inner + j0, K, inner, w, t, ws)
    elif op == OP_JVP or op == OP_LOG_JVP:
        _jvp_cols(x + base, v + base, out + base, K, inner, w, t, op == OP_LOG_JVP, ws)
    else:
        _vjp_cols(x + base, v + base, out + base, K, inner, w, t, op == OP_LOG_VJP, ws)

cdef int _row_split(Op op, const floating* x, floating* out, Py_ssize_t K, Temp t,
                    int P, char_r ws) noexcept nogil:
    """One long row on P <= MAX_PARTS threads: the max, the sum of exps and the output each
    run over P parts (2 reads and 1 write of memory in all, as on one thread); the partial
    sums combine exactly (counts of maxima + compensated rests). Special rows (NaN, +-inf,
    T == 0) go to the one-thread kernel. Scratch: WS_SPLIT, and WS_ROW allocated by each
    worker of the exp pass; 0, or nonzero when such an allocation failed."""
    cdef floating* mp = <floating*>_ws(&ws, MAX_PARTS * sizeof(floating))
    cdef double* on = <double*>_ws(&ws, MAX_PARTS * sizeof(double))
    cdef double* rh = <double*>_ws(&ws, MAX_PARTS * sizeof(double))
    cdef double* rl = <double*>_ws(&ws, MAX_PARTS * sizeof(double))
    cdef char* pws = NULL
    cdef Py_ssize_t p, i, off, n, failed = 0, chunk = (K + P - 1) // P
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
            _lse_row(x, out, K, t, ws)
        else:
            _softmax_row(x, out, K, t, log_out, ws)
        return 0
    with parallel(num_threads=P):
        pws = smx_ws_alloc(WS_ROW)
        for p in prange(P, schedule="static"):
            off = p * chunk
            n = min(chunk, K - off)
            on[p] = 0
            rh[p] = 0
            rl[p] = 0
            if pws == NULL:
                failed += 1
            elif n > 0:
                _exp_sum_parts(x + off, out + off if keep else <floating*>NULL, n, m, t, False,
                               keep, &on[p], &rh[p], &rl[p], pws)
        smx_ws_free(pws)
    if failed:
        return 1
    for p in range(P):
        ones += on[p]
        _two_sum_into(&r_hi, &r_lo, rh[p])
        r_lo += rl[p]
    _combine(ones, r_hi, r_lo, &s_hi, &s_lo)
    if op == OP_LSE:
        out[0] = <floating>_lse_value(m, s_hi, s_lo, t)
        return 0
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
    return 0

ctypedef enum Path:
    PATH_ITEMS,         # _run_item: a row or a chunk of columns
    PATH_SHORT,         # _short_rows: a block of rows (any K < SPLIT_MIN)
    PATH_SHORT_DERIV,   # _small_deriv: a block of SMALL_ROWS short rows of the derivatives
    PATH_VJP_ROWS,      # _vjp_rows: a block of softmax-VJP rows (float32: SMX_NF32 < K <
                        # SPLIT_MIN, the VJP with AVX2 from 16; float64: K > SMALL_K)
    PATH_JVP_ROWS,      # _jvp_rows: a block of JVP rows (float32: SMX_NF32 < K; float64:
                        # K < SPLIT_MIN)
    PATH_COL_BLOCKS     # _col_blocks: float32 softmax / log_softmax columns, consecutive
                        # outer slices of at most one strip of columns (_vcol_blocks32)

cdef inline void _short_rows(Op op, const floating* x, floating* out, Py_ssize_t rows,
                             Py_ssize_t K, Temp t, char_r ws) noexcept nogil:
    """A block of rows of softmax, log_softmax or logsumexp: float32 one vector a row
    (_vshort32, K <= SMX_NF32) or row after row, each row's max from the previous row's pass
    (_vrows32, K < SPLIT_MIN); float64 a block of short rows at a time (_small_rows, K <=
    SMALL_K64) or row after row (_vrows64). Scratch: WS_SHORT (float32: WS_VROWS32,
    _vrows32's)."""
    cdef int vop = 0 if op == OP_SOFTMAX else (1 if op == OP_LOG_SOFTMAX else 2)
    if floating is float:
        if K <= SMX_NF32:
            _vshort32(x, out, rows, K, t, vop, ws)
        else:
            _vrows32(x, out, rows, K, t, vop, ws)
    elif K <= SMALL_K64:
        _small_rows(op, x, out, rows, K, t, ws)
    elif K <= VSHORT64_MAX_K:
        _vshort64(x, out, rows, K, t, vop, ws)
    else:
        _vrows64(x, out, rows, K, t, vop, ws)

cdef inline void _vjp_rows(const floating* y, const floating* g, floating* out,
                           Py_ssize_t rows, Py_ssize_t K, Temp t, char_r ws) noexcept nogil:
    """A block of softmax-VJP rows (_vvjp_rows32, _vvjp_rows64). Scratch: WS_ROW."""
    if floating is float:
        _vvjp_rows32(y, g, out, rows, K, t, ws)
    else:
        _vvjp_rows64(y, g, out, rows, K, t, ws)

cdef inline void _col_blocks(Op op, const floating* x, floating* out, Py_ssize_t nb,
                             Py_ssize_t K, Py_ssize_t inner, Temp t, char_r ws) noexcept nogil:
    """nb consecutive outer slices of float32 softmax or log_softmax columns
    (_vcol_blocks32). Scratch: WS_COL."""
    if floating is float:
        _vcol_blocks32(x, out, nb, K, inner, t, 0 if op == OP_SOFTMAX else 1, ws)

cdef inline void _jvp_rows(Op op, const floating* x, const floating* v, floating* out,
                           Py_ssize_t rows, Py_ssize_t K, Temp t, char_r ws) noexcept nogil:
    """A block of JVP rows (_vjvp_rows32, _vjvp_rows64). Scratch: WS_JVP32 (float32), WS_ROW."""
    if floating is float:
        _vjvp_rows32(x, v, out, rows, K, t, op == OP_LOG_JVP, ws)
    else:
        _vjvp_rows64(x, v, out, rows, K, t, op == OP_LOG_JVP, ws)

cdef int _run(Op op, const floating* x, const floating* v, floating* out, Py_ssize_t outer,
              Py_ssize_t K, Py_ssize_t inner, Temp t, int nthreads) noexcept nogil:
    """op over the (outer, K, inner) buffer on nthreads threads, each with one scratch
    block for all its work items; 0, or nonzero when a scratch block could not be
    allocated (the output is then incomplete)."""
    cdef Py_ssize_t W = 1, nchunks = 1, B = SMALL_ROWS, item, nitems, r0, failed = 0
    cdef Path path = PATH_ITEMS
    cdef size_t need = WS_ROW if inner == 1 else WS_COL
    cdef char* ws = NULL
    cdef int status = 0
    cdef bint reduce_op = op == OP_SOFTMAX or op == OP_LOG_SOFTMAX or op == OP_LSE
    if inner > 1:
        W = _chunk_for(op, K, inner, sizeof(floating))
        nchunks = (inner + W - 1) // W
    nitems = outer * nchunks
    if nthreads > 1 and inner == 1 and outer < nthreads and K >= SPLIT_MIN and reduce_op:
        ws = smx_ws_serial(WS_SPLIT)
        if ws == NULL:
            return 1
        for item in range(outer):   # few long rows: each on all the threads
            if floating is float:   # (blocks on the threads, the same bits as on one)
                if _vlong32(x + item * K, out + (item if op == OP_LSE else item * K), K, t,
                            0 if op == OP_SOFTMAX else (1 if op == OP_LOG_SOFTMAX else 2),
                            nthreads) == 0:
                    continue
                if op == OP_LSE:
                    _lse_row(x + item * K, out + item, K, t, ws)
                else:
                    _softmax_row(x + item * K, out + item * K, K, t, op == OP_LOG_SOFTMAX, ws)
            else:
                status = _row_split(op, x + item * K, out + (item if op == OP_LSE else item * K),
                                    K, t, min(nthreads, MAX_PARTS), ws)
                if status != 0:
                    break
        return status
    if inner == 1 and not reduce_op and ((
            K <= SMX_NF32 or (SMX_NF32 == 8 and K < 2 * SMX_NF32 and (
                op == OP_VJP or op == OP_JVP or op == OP_LOG_JVP)))
            if floating is float else (K <= SMALL_K and (op == OP_VJP or op == OP_LOG_VJP))):
        path = PATH_SHORT_DERIV     # (float32 VJP and JVP rows of 9-15 with AVX2: two vectors
                                    # a row; 16, no tail: faster on the row blocks)
    elif floating is float and inner == 1 and op == OP_VJP and K > SMX_NF32 and K < SPLIT_MIN:
        path = PATH_VJP_ROWS
        B = _rows_block(K, outer, nthreads)         # (a row's bits: the same in any block)
    elif floating is double and inner == 1 and op == OP_VJP:    # (K > SMALL_K; the same)
        path = PATH_VJP_ROWS
        B = _rows_block(K, outer, nthreads)
    elif floating is float and inner == 1 and (op == OP_JVP or op == OP_LOG_JVP):
        path = PATH_JVP_ROWS        # (K > SMX_NF32; a row's bits: the same in any block)
        B = max(<Py_ssize_t>1, min(JVP_ROWS_ELEMS // K, (outer + nthreads - 1) // nthreads))
    elif floating is double and inner == 1 and (op == OP_JVP or op == OP_LOG_JVP) and (
            K < SPLIT_MIN):
        path = PATH_JVP_ROWS        # (a row's bits: the same in any block)
        B = _rows_block(K, outer, nthreads)
    elif floating is float and (op == OP_SOFTMAX or op == OP_LOG_SOFTMAX) and (
            1 < inner <= FCV * SMX_NF32):
        path = PATH_COL_BLOCKS      # (a block's bits: the same in any run of blocks)
        B = max(<Py_ssize_t>1, min(max(COL_BLOCKS_ELEMS // (K * inner), <Py_ssize_t>2),
                                   (outer + nthreads - 1) // nthreads))
    elif inner == 1 and reduce_op and K < SPLIT_MIN:
        path = PATH_SHORT
        if (K > SMX_NF32 if floating is float else K > SMALL_K64):
            B = _rows_block(K, outer, nthreads)    # (a row's bits: the same in any block)
    if path != PATH_ITEMS:
        nitems = (outer + B - 1) // B   # blocks of B rows, one thread each
        need = WS_ROW if floating is float and path != PATH_SHORT_DERIV else WS_SHORT
        if floating is float and path == PATH_SHORT:
            need = WS_VROWS32
        if floating is float and path == PATH_JVP_ROWS:
            need = WS_JVP32
        if path == PATH_COL_BLOCKS:
            need = WS_COL
    if nthreads > 1 and nitems > 1:
        with parallel(num_threads=nthreads):
            ws = smx_ws_alloc(need)            # one scratch block per worker
            for item in prange(nitems, schedule="static"):
                r0 = item * B
                if ws == NULL:
                    failed += 1
                elif path == PATH_SHORT:
                    _short_rows(op, x + r0 * K, out + r0 * (1 if op == OP_LSE else K),
                                min(B, outer - r0), K, t, ws)
                elif path == PATH_SHORT_DERIV:
                    _small_deriv(op, x + r0 * K, v + r0 * K, out + r0 * K,
                                 min(B, outer - r0), K, t, ws)
                elif path == PATH_VJP_ROWS:
                    _vjp_rows(x + r0 * K, v + r0 * K, out + r0 * K, min(B, outer - r0), K, t, ws)
                elif path == PATH_JVP_ROWS:
                    _jvp_rows(op, x + r0 * K, v + r0 * K, out + r0 * K, min(B, outer - r0), K,
                              t, ws)
                elif path == PATH_COL_BLOCKS:
                    _col_blocks(op, x + r0 * K * inner, out + r0 * K * inner, min(B, outer - r0),
                                K, inner, t, ws)
                else:
                    _run_item(op, x, v, out, item, nchunks, W, K, inner, t, ws)
            smx_ws_free(ws)
        return failed != 0
    # On the calling thread: no parallel region at all (entering one costs more than a
    # small call), and its kept scratch block.
    ws = smx_ws_serial(need)
    if ws == NULL:
        return 1
    for item in range(nitems):
        r0 = item * B
        if path == PATH_SHORT:
            _short_rows(op, x + r0 * K, out + r0 * (1 if op == OP_LSE else K),
                        min(B, outer - r0), K, t, ws)
        elif path == PATH_SHORT_DERIV:
            _small_deriv(op, x + r0 * K, v + r0 * K, out + r0 * K,
                         min(B, outer - r0), K, t, ws)
        elif path == PATH_VJP_ROWS:
            _vjp_rows(x + r0 * K, v + r0 * K, out + r0 * K, min(B, outer - r0), K, t, ws)
        elif path == PATH_JVP_ROWS:
            _jvp_rows(op, x + r0 * K, v + r0 * K, out + r0 * K, min(B, outer - r0), K, t, ws)
        elif path == PATH_COL_BLOCKS:
            _col_blocks(op, x + r0 * K * inner, out + r0 * K * inner, min(B, outer - r0), K,
                        inner, t, ws)
        else:
            _run_item(op, x, v, out, item, nchunks, W, K, inner, t, ws)
    return 0

cdef int _run_lse_b(const floating* x, const floating* b, floating* res, floating* sign,
                     Py_ssize_t outer, Py_ssize_t K, Py_ssize_t inner, Temp t,
                     int nthreads) noexcept nogil:
    """Weighted logsumexp of every slice; 0."""
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
    return 0

# --------------------------------------------------------------------------
# The drivers in the table (typed as in _kernel_table.pxd)
# --------------------------------------------------------------------------
cdef inline Temp _op_temp(Op op, double temperature) noexcept nogil:
    """Temp of T for op: softmax, log_softmax and logsumexp take a T whose inverse
    overflows as the limit T -> 0 (_limit_temp)."""
    cdef Temp t = _make_temp(temperature)
    if op == OP_SOFTMAX or op == OP_LOG_SOFTMAX or op == OP_LSE:
        t = _limit_temp(t)
    return t

cdef int _drive_f32(Op op, const float* x, const float* v, float* out, Py_ssize_t outer,
                    Py_ssize_t K, Py_ssize_t inner, double temperature,
                    int nthreads) noexcept nogil:
    return _run[float](op, x, v, out, outer, K, inner, _op_temp(op, temperature), nthreads)

cdef int _drive_f64(Op op, const double* x, const double* v, double* out, Py_ssize_t outer,
                    Py_ssize_t K, Py_ssize_t inner, double temperature,
                    int nthreads) noexcept nogil:
    return _run[double](op, x, v, out, outer, K, inner, _op_temp(op, temperature), nthreads)

cdef int _drive_lse_b_f32(const float* x, const float* b, float* res, float* sign,
                          Py_ssize_t outer, Py_ssize_t K, Py_ssize_t inner,
                          double temperature, int nthreads) noexcept nogil:
    return _run_lse_b[float](x, b, res, sign, outer, K, inner,
                             _limit_temp(_make_temp(temperature)), nthreads)

cdef int _drive_lse_b_f64(const double* x, const double* b, double* res, double* sign,
                          Py_ssize_t outer, Py_ssize_t K, Py_ssize_t inner,
                          double temperature, int nthreads) noexcept nogil:
    return _run_lse_b[double](x, b, res, sign, outer, K, inner,
                              _limit_temp(_make_temp(temperature)), nthreads)

cdef int _drive_stats_f32(const float* x, double* m, double* s_hi, double* s_lo,
                          Py_ssize_t outer, Py_ssize_t K, Py_ssize_t inner,
                          double temperature, int nthreads) noexcept nogil:
    _run_stats[float](x, outer, K, inner, _limit_temp(_make_temp(temperature)), m, s_hi, s_lo,
                      nthreads)
    return 0

cdef int _drive_stats_f64(const double* x, double* m, double* s_hi, double* s_lo,
                          Py_ssize_t outer, Py_ssize_t K, Py_ssize_t inner,
                          double temperature, int nthreads) noexcept nogil:
    _run_stats[double](x, outer, K, inner, _limit_temp(_make_temp(temperature)), m, s_hi,
                       s_lo, nthreads)
    return 0

cdef int _drive_finish_f32(const float* x, const double* m, const double* s_hi,
                           const double* s_lo, float* out, Py_ssize_t outer, Py_ssize_t K,
                           Py_ssize_t inner, double temperature, int log_out,
                           int nthreads) noexcept nogil:
    _run_finish[float](x, out, outer, K, inner, _limit_temp(_make_temp(temperature)), m, s_hi,
                       s_lo, log_out, nthreads)
    return 0

cdef int _drive_finish_f64(const double* x, const double* m, const double* s_hi,
                           const double* s_lo, double* out, Py_ssize_t outer, Py_ssize_t K,
                           Py_ssize_t inner, double temperature, int log_out,
                           int nthreads) noexcept nogil:
    _run_finish[double](x, out, outer, K, inner, _limit_temp(_make_temp(temperature)), m,
                        s_hi, s_lo, log_out, nthreads)
    return 0

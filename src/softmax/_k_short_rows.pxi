# Short float64 rows (K <= SMALL_K64; the VJPs K <= SMALL_K) a block of rows at a time: one
# vectorised exp over the block, per-row reductions across rows. softmax, log_softmax,
# logsumexp and the derivatives.
# Part of the per-ISA kernel source (included by _kernels.pyx).

cdef void _small_rows(Op op, const double* x, double* out, Py_ssize_t rows, Py_ssize_t K,
                      Temp t, char_r ws) noexcept nogil:
    """Many float64 short rows (K <= SMALL_K64; float32 ones: _vshort32) a block at a time:
    one vectorised exp over the block's BLK // K whole rows, each element next to its row's
    maximum, so the per-row work is a few scalar steps instead of a full row kernel. A block with
    a special row (NaN, +-inf, T == 0) goes row by row through the general kernels.
    Scratch: WS_SHORT."""
    cdef double* mm = <double*>_ws(&ws, BLK * sizeof(double))
    cdef double* e = <double*>_ws(&ws, BLK * sizeof(double))
    cdef double* tl = <double*>_ws(&ws, BLK * sizeof(double))
    cdef double* rm = <double*>_ws(&ws, BLK * sizeof(double))
    cdef double* s_hi = <double*>_ws(&ws, BLK * sizeof(double))
    cdef double* s_lo = <double*>_ws(&ws, BLK * sizeof(double))
    cdef double* aux = <double*>_ws(&ws, BLK * sizeof(double))
    cdef double* aux_lo = <double*>_ws(&ws, BLK * sizeof(double))
    cdef double* on = <double*>_ws(&ws, BLK * sizeof(double))
    cdef Py_ssize_t R = BLK // K, blk, r0, nr, n, r, k, i
    cdef const double* xb
    cdef double* ob
    cdef double sgn = t.sgn, h, lo, v
    cdef double a, err
    cdef bint special, one
    for blk in range((rows + R - 1) // R):
        r0 = blk * R
        nr = min(R, rows - r0)
        n = nr * K
        xb = x + r0 * K
        ob = out + (r0 if op == OP_LSE else r0 * K)
        special = t.hard
        for r in range(nr):
            rm[r] = -INFINITY
        for k in range(K):        # across rows: one lane per row (strided loads)
            for r in range(nr):
                v = sgn * xb[r * K + k]
                rm[r] = v if (v > rm[r]) | (v != v) else rm[r]
        for r in range(nr):
            special = special or not (rm[r] > -INFINITY) or rm[r] == INFINITY
        if special:
            for r in range(nr):
                if op == OP_LSE:
                    _lse_row(xb + r * K, ob + r, K, t, ws)
                else:
                    _softmax_row(xb + r * K, ob + r * K, K, t, op == OP_LOG_SOFTMAX, ws)
            continue
        for r in range(nr):
            for k in range(K):
                mm[r * K + k] = rm[r]
        for i in range(n):
            h = _arg(sgn * xb[i], mm[i], t, &lo)
            e[i] = _exp2(h, lo, &tl[i])
        for r in range(nr):
            on[r] = 0
            s_hi[r] = 0
            s_lo[r] = 0
        for k in range(K):        # the sum of each row, across rows: maxima counted apart,
            for r in range(nr):   # the rest compensated (TwoSum), tails added
                i = r * K + k
                a = e[i]
                one = a == 1.0
                on[r] += 1.0 if one else 0.0
                s_hi[r] = _two_sum(s_hi[r], 0.0 if one else a, &err)
                s_lo[r] += err + tl[i]
        for r in range(nr):
            _combine(on[r], s_hi[r], s_lo[r], &s_hi[r], &s_lo[r])
        if op == OP_LSE:
            for r in range(nr):
                ob[r] = _lse_value(rm[r], s_hi[r], s_lo[r], t)
        elif op == OP_LOG_SOFTMAX:
            for r in range(nr):
                aux[r] = _log_sum(s_hi[r], s_lo[r], &aux_lo[r])
            for r in range(nr):
                for k in range(K):
                    i = r * K + k
                    ob[i] = _log_elem(sgn * xb[i], rm[r], t, aux[r], aux_lo[r])
        else:
            for r in range(nr):
                aux[r] = 1.0 / (s_hi[r] + s_lo[r])
            for r in range(nr):
                for k in range(K):
                    i = r * K + k
                    ob[i] = _div_elem(e[i], s_hi[r], s_lo[r], aux[r])

cdef void _small_rows_vjp(Op op, const floating* y, const floating* g, floating* out,
                          Py_ssize_t rows, Py_ssize_t K, Temp t, char_r ws) noexcept nogil:
    """The VJPs of many short rows (K <= SMALL_K) a block at a time, as _small_rows: the
    per-row dot (or sum of g) across rows, compensated as in _vjp_row, then one loop over
    the block; log_softmax's exp(y) in one vectorised loop over the block. Scratch: 4 BLK
    doubles (within WS_SHORT)."""
    cdef double* hi = <double*>_ws(&ws, BLK * sizeof(double))
    cdef double* lo = <double*>_ws(&ws, BLK * sizeof(double))
    cdef double* eb = <double*>_ws(&ws, BLK * sizeof(double))
    cdef double* tb = <double*>_ws(&ws, BLK * sizeof(double))
    cdef Py_ssize_t R = BLK // K, blk, r0, nr, n, r, k, i
    cdef const floating* yb
    cdef const floating* gb
    cdef floating* ob
    cdef double f = t.inv_signed, f_lo = t.inv_signed_lo
    cdef bint log_out = op == OP_LOG_VJP
    for blk in range((rows + R - 1) // R):
        r0 = blk * R
        nr = min(R, rows - r0)
        n = nr * K
        yb = y + r0 * K
        gb = g + r0 * K
        ob = out + r0 * K
        for r in range(nr):
            hi[r] = 0
            lo[r] = 0
        for k in range(K):         # across rows: one lane per row
            for r in range(nr):
                i = r * K + k
                _vjp_acc(yb[i], gb[i], log_out, &hi[r], &lo[r])
        for r in range(nr):
            _norm_pair(&hi[r], &lo[r])
        if log_out:
            _exp_block(yb, n, 1, eb, tb)
            for r in range(nr):
                for k in range(K):
                    i = r * K + k
                    ob[i] = _log_vjp_elem(eb[i], tb[i], gb[i], hi[r], lo[r], f, f_lo)
        else:
            for r in range(nr):
                for k in range(K):
                    i = r * K + k
                    ob[i] = _vjp_elem(yb[i], gb[i], hi[r], lo[r], f, f_lo)

cdef void _small_deriv(Op op, const floating* x, const floating* v, floating* out,
                       Py_ssize_t rows, Py_ssize_t K, Temp t, char_r ws) noexcept nogil:
    """The derivatives of many short rows: float32 one vector a row (_vshort_deriv32),
    float64 VJPs a block of rows at a time. Scratch: WS_SHORT."""
    if floating is float:
        _vshort_deriv32(op, x, v, out, rows, K, t, ws)
    elif op == OP_VJP or op == OP_LOG_VJP:
        _small_rows_vjp(op, x, v, out, rows, K, t, ws)

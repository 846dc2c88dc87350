# Columns (inner > 1): a chunk of W adjacent columns at once, loops across the chunk's
# contiguous rows, one accumulator per column: softmax, log_softmax and logsumexp. Part of
# the per-ISA kernel source (included by _kernels.pyx).

cdef inline floating _col_exp(floating v, floating m, bint hard, Temp t, double* tail) noexcept nogil:
    """exp((v - m)/|T|) with its tail, or the indicator v == m for a hard column."""
    cdef floating lo, h, tl = 0, e, one = 1, zero = 0
    h = _arg(v, m, t, &lo)  # sets lo: keep it out of _exp2's argument list (order unspecified)
    e = _exp2(h, lo, &tl)
    tail[0] = zero if hard else tl
    return (one if v == m else zero) if hard else e

cdef void _col_exps(const floating* row, const floating* m, const unsigned char* hard, Temp t,
                    Py_ssize_t W, floating* dst, double* tl) noexcept nogil:
    """dst[j] + tl[j] = the exps of one row of a column chunk: a loop of its own (one copy
    per case: a test inside it would be if-converted, both sides computed)."""
    cdef Py_ssize_t j
    cdef floating sgn = <floating>t.sgn
    if t.scaled:
        for j in range(W):
            dst[j] = _col_exp(sgn * row[j], m[j], hard[j], t, &tl[j])
    else:
        for j in range(W):
            dst[j] = _col_exp(sgn * row[j], m[j], hard[j], t, &tl[j])

cdef inline void _col_exp_sum_f32_case(const float* x, float* out, Py_ssize_t K,
                                       Py_ssize_t stride, Py_ssize_t W, const float* m,
                                       double sgn, double inv,
                                       bint scaled, bint keep, double* sh,
                                       double* ones) noexcept nogil:
    """_col_exp_sum of float32 columns without a hard one, for one case (scaled, keep:
    constants once inlined): exps in double (_exp_f32)."""
    cdef Py_ssize_t k, j
    cdef const float* row
    cdef float* d
    cdef double e
    for k in range(K):
        row = x + k * stride
        d = out + k * stride if keep else <float*>NULL
        for j in range(W):
            e = _exp_f32(_h_f32(row[j], sgn, m[j], inv, scaled))
            if keep:            # softmax: only the sum's relative precision matters
                d[j] = <float>e
                sh[j] += e      # float32 terms: a plain double sum
            else:               # log: the maxima counted apart (sum - 1 kept for log1p)
                ones[j] += 1.0 if e == 1.0 else 0.0
                sh[j] += 0.0 if e == 1.0 else e

cdef inline void _col_add_exps(const floating* d, const double* tl, Py_ssize_t W, double* sh,
                               double* sl, double* ones) noexcept nogil:
    """One row of a chunk's exps d (tails tl) into the per-column sums: the maxima counted
    apart (see _col_sum_rest), the rest compensated (TwoSum), tails added."""
    cdef Py_ssize_t j
    cdef floating e
    cdef bint one
    for j in range(W):
        e = d[j]
        one = e == 1
        ones[j] += 1.0 if one else 0.0
        if floating is float:  # float32 terms: a plain sum in double is exact enough
            sh[j] += 0.0 if one else <double>e
        else:
            _two_sum_into(&sh[j], &sl[j], 0.0 if one else e)
        sl[j] += tl[j]

cdef inline void _col_exp_sum(const floating* x, floating* out, Py_ssize_t K, Py_ssize_t stride,
                       Py_ssize_t W, const floating* m, const unsigned char* hard, Temp t,
                       bint keep, double_r sh, double_r sl, char_r ws) noexcept nogil:
    """Per-column compensated sums of exps; the exps go to out when keep. Scratch:
    3 CW doubles."""
    cdef Py_ssize_t k, j
    cdef floating* eb = <floating*>_ws(&ws, CW * sizeof(floating))
    cdef double* tl = <double*>_ws(&ws, CW * sizeof(double))
    cdef double_r ones = <double*>_ws(&ws, CW * sizeof(double))
    cdef floating* d
    cdef bint any_hard
    for j in range(W):
        sh[j] = 0
        sl[j] = 0
        ones[j] = 0
    any_hard = False
    for j in range(W):
        any_hard = any_hard or hard[j]
    if floating is float and not any_hard:
        if keep and t.scaled:
            _col_exp_sum_f32_case(x, out, K, stride, W, m, t.sgn, t.inv, True, True, sh, ones)
        elif keep:
            _col_exp_sum_f32_case(x, out, K, stride, W, m, t.sgn, t.inv, False, True, sh, ones)
        elif t.scaled:
            _col_exp_sum_f32_case(x, out, K, stride, W, m, t.sgn, t.inv, True, False, sh, ones)
        else:
            _col_exp_sum_f32_case(x, out, K, stride, W, m, t.sgn, t.inv, False, False, sh, ones)
        for j in range(W):
            _combine(ones[j], sh[j], 0.0, &sh[j], &sl[j])
        return
    for k in range(K):   # a copy per destination of the exps, so that gcc knows which
        if keep:         # memory the sums read (out, or scratch apart from the sums)
            d = out + k * stride
            _col_exps(x + k * stride, m, hard, t, W, d, tl)
            _col_add_exps(d, tl, W, sh, sl, ones)
        else:
            _col_exps(x + k * stride, m, hard, t, W, eb, tl)
            _col_add_exps(eb, tl, W, sh, sl, ones)
    for j in range(W):
        _combine(ones[j], sh[j], sl[j], &sh[j], &sl[j])

cdef inline void _col_hard(const floating* m, Py_ssize_t W, bint t_hard, unsigned char* hard) noexcept nogil:
    cdef Py_ssize_t j
    for j in range(W):
        hard[j] = (m[j] == INFINITY) or (t_hard and m[j] > -INFINITY)

cdef void _softmax_cols(const floating* x, floating* out, Py_ssize_t K, Py_ssize_t stride,
                        Py_ssize_t W, Temp t, bint log_out, char_r ws) noexcept nogil:
    """softmax (or log_softmax) of a chunk of W <= CW columns. Scratch: WS_COL."""
    cdef float* ih = <float*>_ws(&ws, CW * sizeof(float))
    cdef float* il = <float*>_ws(&ws, CW * sizeof(float))
    cdef floating* m = <floating*>_ws(&ws, CW * sizeof(floating))
    cdef unsigned char* hard = <unsigned char*>_ws(&ws, CW)
    cdef double* sh = <double*>_ws(&ws, CW * sizeof(double))
    cdef double* sl = <double*>_ws(&ws, CW * sizeof(double))
    cdef double* aux = <double*>_ws(&ws, CW * sizeof(double))
    cdef double* aux_lo = <double*>_ws(&ws, CW * sizeof(double))
    cdef Py_ssize_t k, j
    cdef const floating* row
    cdef floating* orow
    cdef floating sgn = <floating>t.sgn, v
    cdef bint any_hard
    _col_max(x, K, stride, W, sgn, m, False)
    _col_hard(m, W, t.hard, hard)
    _col_exp_sum(x, out, K, stride, W, m, hard, t, not log_out, sh, sl, ws)
    if log_out:
        any_hard = False
        for j in range(W):
            aux[j] = _log_sum(sh[j], sl[j], &aux_lo[j])
            any_hard = any_hard or hard[j]
        if not any_hard:   # the common case without the hard test (gcc would compute both sides)
            for k in range(K):
                row = x + k * stride
                orow = out + k * stride
                for j in range(W):
                    orow[j] = _log_elem(sgn * row[j], m[j], t, aux[j], aux_lo[j])
            return
        for k in range(K):
            row = x + k * stride
            orow = out + k * stride
            for j in range(W):
                v = sgn * row[j]
                if hard[j]:
                    orow[j] = <floating>(-aux[j] - aux_lo[j]) if v == m[j] else <floating>(
                        (v - m[j]) / t.abs_t - aux[j])
                else:
                    orow[j] = _log_elem(v, m[j], t, aux[j], aux_lo[j])
    else:
        for j in range(W):
            aux[j] = 1.0 / (sh[j] + sl[j])
        if floating is float and SMX_HAS_FMA:   # as _scale_f32, one pair per column
            for j in range(W):
                ih[j] = <float>(aux[j] * 16777216.0)
                il[j] = <float>(aux[j] * 16777216.0 - <double>ih[j])
            for k in range(K):
                orow = out + k * stride
                for j in range(W):
                    orow[j] = fmaf(orow[j], ih[j], orow[j] * il[j]) * <float>5.9604644775390625e-08
            return
        for k in range(K):
            orow = out + k * stride
            for j in range(W):
                orow[j] = _div_elem(orow[j], sh[j], sl[j], aux[j])

cdef void _lse_cols(const floating* x, floating* res, Py_ssize_t K, Py_ssize_t stride,
                    Py_ssize_t W, Temp t, char_r ws) noexcept nogil:
    """logsumexp of a chunk of W <= CW columns. Scratch: WS_COL."""
    cdef floating* m = <floating*>_ws(&ws, CW * sizeof(floating))
    cdef unsigned char* hard = <unsigned char*>_ws(&ws, CW)
    cdef double* sh = <double*>_ws(&ws, CW * sizeof(double))
    cdef double* sl = <double*>_ws(&ws, CW * sizeof(double))
    cdef Py_ssize_t j
    _col_max(x, K, stride, W, <floating>t.sgn, m, False)
    _col_hard(m, W, t.hard, hard)
    _col_exp_sum(x, <floating*>NULL, K, stride, W, m, hard, t, False, sh, sl, ws)
    for j in range(W):
        res[j] = <floating>_lse_value(m[j], sh[j], sl[j], t)

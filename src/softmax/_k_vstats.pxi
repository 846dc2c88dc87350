# Partial statistics of slices and the output given them: the kernels of softmax's streaming
# and distributed form (one block of a slice at a time, the statistics merged across blocks,
# then each block's output). Part of the per-ISA kernel source (included by _kernels.pyx).
#
# The statistics of a slice of y = sgn * x: its max m and S = sum(exp((y - m)/|T|)) as a
# double-double s_hi + s_lo (good to far below float64's precision, so that merges and
# logsumexp's m + |T| log(S), which may cancel, keep the 2-ulp bound). A NaN gives m = NaN
# and S = NaN; an empty or all -inf slice m = -inf, S = 0; +inf entries or T == 0 the
# limit: S counts the entries equal to m.

cdef void _stats_general(const floating* x, Py_ssize_t K, Py_ssize_t stride, Temp t,
                         double* m_out, double* s_hi, double* s_lo) noexcept nogil:
    """The statistics of one strided slice, scalar: any values, any T (the vector kernels'
    special slices, and columns)."""
    cdef double sgn = t.sgn, v, m = -INFINITY, h, lo, e, tail, hi = 0, low = 0
    cdef Py_ssize_t k
    for k in range(K):
        v = sgn * <double>x[k * stride]
        m = v if (v > m) | (v != v) else m
    m_out[0] = m
    s_lo[0] = 0
    if m != m:
        s_hi[0] = NAN
        return
    if m == -INFINITY:
        s_hi[0] = 0
        return
    for k in range(K):
        v = sgn * <double>x[k * stride]
        if t.hard or m == INFINITY:
            e = 1.0 if v == m else 0.0
            tail = 0
        else:          # (v - m)/|T| exactly as a pair, its exp and the exp's tail
            h = _arg[double](v, m, t, &lo)
            e = _exp2k[double](h, lo, &tail, 0)
        _two_sum_into(&hi, &low, e)
        low += tail
    _norm_pair(&hi, &low)
    s_hi[0] = hi
    s_lo[0] = low

cdef void _stats_row(const floating* x, Py_ssize_t K, Temp t, double* m, double* s_hi,
                     double* s_lo) noexcept nogil:
    """The statistics of one contiguous row: the vector kernels' max and exp passes
    (float32: exps in double, the maxima counted apart), else _stats_general."""
    cdef Row32 c
    cdef Row64 c64
    cdef float m32
    cdef double ones, rest, mn
    cdef double r[3]
    cdef Ahead64 a
    cdef Pos1 p1
    cdef PosT pt
    cdef Neg1 n1
    cdef NegT nt
    cdef int case = _tcase(t)
    if floating is float:
        if not t.hard and (_row_max32(x, K, p1, &m32) if case == 0 else
                           _row_max32(x, K, pt, &m32) if case == 1 else
                           _row_max32(x, K, n1, &m32) if case == 2 else
                           _row_max32(x, K, nt, &m32)) and fabsf(m32) < INFINITY:
            c = _row32(m32, t)
            if _row32_ok(c):
                if case == 0:
                    _lse_sums32(x, K, c, p1, &ones, &rest)
                elif case == 1:
                    _lse_sums32(x, K, c, pt, &ones, &rest)
                elif case == 2:
                    _lse_sums32(x, K, c, n1, &ones, &rest)
                else:
                    _lse_sums32(x, K, c, nt, &ones, &rest)
                m[0] = m32
                _combine(ones, rest, 0.0, s_hi, s_lo)
                return
    else:
        if not t.hard and t.inv < INFINITY:
            if case == 0:
                m[0] = _row_max64(x, K, p1, &mn, <double*>NULL)
            elif case == 1:
                m[0] = _row_max64(x, K, pt, &mn, <double*>NULL)
            elif case == 2:
                m[0] = _row_max64(x, K, n1, &mn, <double*>NULL)
            else:
                m[0] = _row_max64(x, K, nt, &mn, <double*>NULL)
            if fabs(m[0]) < INFINITY:
                c64 = _row_consts64(m[0], mn, t)
                a.end = NULL
                if c64.ylo < m[0] and (
                        _exp_pass64(x, <double*>NULL, K, c64, p1, 2, x, r, &a, NULL) if case == 0 else
                        _exp_pass64(x, <double*>NULL, K, c64, pt, 2, x, r, &a, NULL) if case == 1 else
                        _exp_pass64(x, <double*>NULL, K, c64, n1, 2, x, r, &a, NULL) if case == 2 else
                        _exp_pass64(x, <double*>NULL, K, c64, nt, 2, x, r, &a, NULL)):
                    _combine(r[0], r[1], r[2], s_hi, s_lo)
                    return
    _stats_general(x, K, 1, t, m, s_hi, s_lo)

cdef void _finish_general(const floating* x, floating* out, Py_ssize_t K, Py_ssize_t stride,
                          Temp t, double m, double s_hi, double s_lo, bint log_out) noexcept nogil:
    """softmax (or log_softmax) of one strided slice given its statistics (m, S), scalar:
    exp((y - m)/|T|) / S rounded once, or (y - m)/|T| - log(S)."""
    cdef double sgn = t.sgn, v, h, lo, e, tail, L, L_lo, inv
    cdef Py_ssize_t k
    if m != m or s_hi != s_hi or not (s_hi > 0):     # a NaN, or no entry above -inf
        for k in range(K):
            out[k * stride] = <floating>NAN
        return
    if log_out:
        L = _log_sum(s_hi, s_lo, &L_lo) if s_hi >= 1 else log(s_hi + s_lo)
        L_lo = L_lo if s_hi >= 1 else 0.0
        for k in range(K):
            v = sgn * <double>x[k * stride]
            if t.hard or m == INFINITY:
                out[k * stride] = <floating>(-L - L_lo) if v == m else <floating>-INFINITY
            else:
                out[k * stride] = <floating>_log_elem[double](v, m, t, L, L_lo)
        return
    inv = 1.0 / (s_hi + s_lo)
    for k in range(K):
        v = sgn * <double>x[k * stride]
        if t.hard or m == INFINITY:
            e = 1.0 if v == m else 0.0
        else:
            h = _arg[double](v, m, t, &lo)
            e = _exp2k[double](h, lo, &tail, 0)
            e = e + tail
        out[k * stride] = <floating>_div_elem[double](e, s_hi, s_lo, inv)

cdef void _finish_row(const floating* x, floating* out, Py_ssize_t K, Temp t, double m,
                      double s_hi, double s_lo, bint log_out) noexcept nogil:
    """_finish_general of one contiguous row on the vector kernels where they apply."""
    cdef Row32 c
    cdef Row64 c64
    cdef Ahead64 a
    cdef double L, L_lo
    cdef double r[2]
    cdef Pos1 p1
    cdef PosT pt
    cdef Neg1 n1
    cdef NegT nt
    cdef int case = _tcase(t)
    if floating is float:
        if not t.hard and fabs(m) < INFINITY and s_hi >= 1:
            c = _row32(<float>m, t)
            if _row32_ok(c) and <double>c.m == m:
                if log_out:
                    L = log1p((s_hi - 1.0) + s_lo)
                    if case == 0:
                        _log_out32(x, out, K, c, L, p1)
                    elif case == 1:
                        _log_out32(x, out, K, c, L, pt)
                    elif case == 2:
                        _log_out32(x, out, K, c, L, n1)
                    else:
                        _log_out32(x, out, K, c, L, nt)
                elif case == 0:
                    _exp_scale_out32(x, out, K, c, 1.0 / (s_hi + s_lo), p1)
                elif case == 1:
                    _exp_scale_out32(x, out, K, c, 1.0 / (s_hi + s_lo), pt)
                elif case == 2:
                    _exp_scale_out32(x, out, K, c, 1.0 / (s_hi + s_lo), n1)
                else:
                    _exp_scale_out32(x, out, K, c, 1.0 / (s_hi + s_lo), nt)
                return
    else:
        if not t.hard and t.inv < INFINITY and fabs(m) < INFINITY and s_hi >= 1:
            c64 = _row_consts64(m, NAN, t)
            a.end = NULL
            if c64.ylo < m:
                if log_out:
                    L = _log_sum64(s_hi, s_lo, &L_lo)
                    if case == 0:
                        _log_out64(x, out, K, c64, p1, L, L_lo)
                    elif case == 1:
                        _log_out64(x, out, K, c64, pt, L, L_lo)
                    elif case == 2:
                        _log_out64(x, out, K, c64, n1, L, L_lo)
                    else:
                        _log_out64(x, out, K, c64, nt, L, L_lo)
                    return
                if (_exp_pass64(x, out, K, c64, p1, 0, x, r, &a, NULL) if case == 0 else
                        _exp_pass64(x, out, K, c64, pt, 0, x, r, &a, NULL) if case == 1 else
                        _exp_pass64(x, out, K, c64, n1, 0, x, r, &a, NULL) if case == 2 else
                        _exp_pass64(x, out, K, c64, nt, 0, x, r, &a, NULL)):
                    _div_row64(out, K, s_hi, s_lo)      # the exps (times 2**64) by the given S
                    return
    _finish_general(x, out, K, 1, t, m, s_hi, s_lo, log_out)

cdef void _run_stats(const floating* x, Py_ssize_t outer, Py_ssize_t K, Py_ssize_t inner,
                     Temp t, double* m, double* s_hi, double* s_lo, int nthreads) noexcept nogil:
    """The statistics of every (outer, inner) slice of the (outer, K, inner) buffer, into
    m, s_hi, s_lo (outer * inner each)."""
    cdef Py_ssize_t item, n = outer * inner, o, j
    if nthreads > 1 and n > 1:
        for item in prange(n, num_threads=nthreads, schedule="static"):
            o = item // inner
            j = item % inner
            if inner == 1:
                _stats_row(x + o * K, K, t, &m[item], &s_hi[item], &s_lo[item])
            else:
                _stats_general(x + o * K * inner + j, K, inner, t, &m[item], &s_hi[item],
                               &s_lo[item])
    else:
        for item in range(n):
            o = item // inner
            j = item % inner
            if inner == 1:
                _stats_row(x + o * K, K, t, &m[item], &s_hi[item], &s_lo[item])
            else:
                _stats_general(x + o * K * inner + j, K, inner, t, &m[item], &s_hi[item],
                               &s_lo[item])

cdef void _run_finish(const floating* x, floating* out, Py_ssize_t outer, Py_ssize_t K,
                      Py_ssize_t inner, Temp t, const double* m, const double* s_hi,
                      const double* s_lo, bint log_out, int nthreads) noexcept nogil:
    """softmax (or log_softmax) of every slice of the (outer, K, inner) buffer given its
    statistics (m, s_hi, s_lo: outer * inner each, as _run_stats gives them, merged)."""
    cdef Py_ssize_t item, n = outer * inner, o, j
    if nthreads > 1 and n > 1:
        for item in prange(n, num_threads=nthreads, schedule="static"):
            o = item // inner
            j = item % inner
            if inner == 1:
                _finish_row(x + o * K, out + o * K, K, t, m[item], s_hi[item], s_lo[item],
                            log_out)
            else:
                _finish_general(x + o * K * inner + j, out + o * K * inner + j, K, inner, t,
                                m[item], s_hi[item], s_lo[item], log_out)
    else:
        for item in range(n):
            o = item // inner
            j = item % inner
            if inner == 1:
                _finish_row(x + o * K, out + o * K, K, t, m[item], s_hi[item], s_lo[item],
                            log_out)
            else:
                _finish_general(x + o * K * inner + j, out + o * K * inner + j, K, inner, t,
                                m[item], s_hi[item], s_lo[item], log_out)

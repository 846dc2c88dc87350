# float64 short rows (SMALL_K64 < K <= VSHORT64_MAX_K) of softmax, log_softmax and logsumexp a
# block of rows at a time, phase by phase: every row's max, then every row's exp pass, then
# every row's output. A row's arithmetic is _vrows64's (the same bits: its max pass, its
# _exp_pass64, its division, log or value); what changes is the order. Row after row, a short
# row's chain of dependent steps (its max reduced across lanes, its consts, its exps, its sum
# folded across lanes, the inverse or the log, its output pass) ran nearly alone: with each
# phase over all the block's rows in turn, the rows' chains are independent neighbours and
# overlap. Part of the per-ISA kernel source (included by _kernels.pyx after _k_vrows64.pxi).

DEF VSHORT64_ROWS = 32     # rows a block (their consts and sums on the stack)

# The TCase-specialised row kernels it calls, chosen per call by the case of T (_tcase): one
# copy of the block loop instead of four (the kernel module's size; a switch a row costs
# nothing measurable).
cdef inline double _row_max64_t(const double* x, Py_ssize_t K, int case, double* mn,
                                double* m2) noexcept nogil:
    cdef Pos1 p1
    cdef PosT pt
    cdef Neg1 n1
    cdef NegT nt
    if case == 0:
        return _row_max64(x, K, p1, mn, m2)
    if case == 1:
        return _row_max64(x, K, pt, mn, m2)
    if case == 2:
        return _row_max64(x, K, n1, mn, m2)
    return _row_max64(x, K, nt, mn, m2)

cdef inline bint _exp_pass64_t(const double* x, double* out, Py_ssize_t K, Row64 c, int case,
                               int mode, double* res, Ahead64* a) noexcept nogil:
    """_exp_pass64 of one row alone (its own next row, nothing pending)."""
    cdef Pos1 p1
    cdef PosT pt
    cdef Neg1 n1
    cdef NegT nt
    if case == 0:
        return _exp_pass64(x, out, K, c, p1, mode, x, res, a, <Pend64*>NULL)
    if case == 1:
        return _exp_pass64(x, out, K, c, pt, mode, x, res, a, <Pend64*>NULL)
    if case == 2:
        return _exp_pass64(x, out, K, c, n1, mode, x, res, a, <Pend64*>NULL)
    return _exp_pass64(x, out, K, c, nt, mode, x, res, a, <Pend64*>NULL)

cdef inline void _log_out64_t(const double* x, double* out, Py_ssize_t K, Row64 c, int case,
                              double L, double L_lo) noexcept nogil:
    cdef Pos1 p1
    cdef PosT pt
    cdef Neg1 n1
    cdef NegT nt
    if case == 0:
        _log_out64(x, out, K, c, p1, L, L_lo)
    elif case == 1:
        _log_out64(x, out, K, c, pt, L, L_lo)
    elif case == 2:
        _log_out64(x, out, K, c, n1, L, L_lo)
    else:
        _log_out64(x, out, K, c, nt, L, L_lo)

cdef void _vshort64(const double* x, double* out, Py_ssize_t R, Py_ssize_t K, Temp t, int op,
                    char_r ws) noexcept nogil:
    """R rows of op 0 softmax, 1 log_softmax, 2 logsumexp (out[r] per row); a special row
    (_softmax_row64a's cases) the general kernels'. Scratch: WS_ROW."""
    cdef Row64 c[VSHORT64_ROWS]
    cdef double res[VSHORT64_ROWS][3]
    cdef bint bad[VSHORT64_ROWS]
    cdef int mode[VSHORT64_ROWS]      # each row's exp pass (_exp_pass64's modes)
    cdef Ahead64 a
    cdef const double* xr
    cdef double m, mn, m2, s_hi, s_lo, L, L_lo
    cdef bint hard = t.hard or not (t.inv < INFINITY)
    cdef int case = _tcase(t)
    cdef Py_ssize_t r0, nr, j
    a.end = NULL
    for r0 in range(0, R, VSHORT64_ROWS):
        nr = min(<Py_ssize_t>VSHORT64_ROWS, R - r0)
        for j in range(nr):                 # every row's max and consts
            bad[j] = hard
            if not hard:
                m = _row_max64_t(x + (r0 + j) * K, K, case, &mn, &m2 if op != 0 else <double*>NULL)
                bad[j] = not (fabs(m) < INFINITY) or (op == 1 and not ((m - mn) * t.inv < INFINITY))
                if not bad[j]:
                    c[j] = _row_consts64(m, mn, t)
                    bad[j] = not (c[j].ylo < m)
                    mode[j] = 0 if op == 0 else _sum_mode64(m, m2, t.inv)
        for j in range(nr):                 # every row's exp pass
            if not bad[j]:
                xr = x + (r0 + j) * K
                bad[j] = not _exp_pass64_t(xr, out + (r0 + j) * K if op == 0 else <double*>NULL,
                                           K, c[j], case, mode[j], res[j], &a)
        for j in range(nr):                 # every row's output
            xr = x + (r0 + j) * K
            if bad[j]:
                if op == 2:
                    _lse_row(xr, out + r0 + j, K, t, ws)
                else:
                    _softmax_row(xr, out + (r0 + j) * K, K, t, op == 1, ws)
            elif op == 0:
                _div_row64(out + (r0 + j) * K, K, res[j][0], res[j][1])
            else:
                _sum_pair64(mode[j], res[j], &s_hi, &s_lo)
                if op == 1:
                    L = _log_sum64(s_hi, s_lo, &L_lo)
                    _log_out64_t(xr, out + (r0 + j) * K, K, c[j], case, L, L_lo)
                else:
                    out[r0 + j] = _lse_value64(c[j].m, s_hi, s_lo, t)

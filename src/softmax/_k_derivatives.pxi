# Jacobian products: the JVPs of softmax and log_softmax from x and v, the VJPs from the
# saved output y and g; rows and columns. Part of the per-ISA kernel source.

cdef inline floating _jvp_elem(floating e, floating v, double s_hi, double s_lo, double inv,
                               double mu, double mu_lo, double f, double f_lo) noexcept nogil:
    """(e / S) * (v - mu) * f, S = s_hi + s_lo, mu = mu + mu_lo: products and
    differences carried as pairs in float64, so only the last step rounds."""
    cdef double q, q_lo, a, a_lo, p
    if floating is float:
        return <float>((<double>e * inv) * ((<double>v - mu) - mu_lo) * f)
    else:
        q = e * inv
        q_lo = (_resid(q, s_hi, e) - q * s_lo) * inv
        a = _diff(v, mu, mu_lo, &a_lo)
        p = q * a
        return _fin_times(p, _prod_err(q, a, p) + (q * a_lo + q_lo * a), f, f_lo)

cdef inline floating _dlog_elem(floating v, double mu, double mu_lo, double f,
                                double f_lo) noexcept nogil:
    """(v - mu) * f for the log-softmax JVP, the difference carried as a pair."""
    cdef double a, a_lo
    if floating is float:
        return <float>(((<double>v - mu) - mu_lo) * f)
    else:
        a = _diff(v, mu, mu_lo, &a_lo)
        return _fin_times(a, a_lo, f, f_lo)

cdef inline floating _vjp_elem(floating y, floating g, double c_hi, double c_lo, double f,
                               double f_lo) noexcept nogil:
    """y * (g - c) * f, c = c_hi + c_lo, one rounding of the product in float64."""
    cdef double a, a_lo, p
    if floating is float:
        return <float>(y * ((<double>g - c_hi) - c_lo) * f)
    else:
        a = _diff(g, c_hi, c_lo, &a_lo)
        p = y * a
        return _fin_times(p, _prod_err(y, a, p) + y * a_lo, f, f_lo)

cdef inline floating _log_vjp_elem(double e, double tail, floating g, double c_hi, double c_lo,
                                   double f, double f_lo) noexcept nogil:
    """(g - exp(y) * c) * f from e + tail = exp(y) (_exp_block): exp(y) * c as a pair."""
    cdef double p, pe, a, a_lo
    if floating is float:
        return <float>((g - e * (c_hi + c_lo)) * f)
    else:
        p = e * c_hi
        pe = _prod_err(e, c_hi, p) + (tail * c_hi + e * c_lo)
        a = _diff(g, p, pe, &a_lo)
        return _fin_times(a, a_lo, f, f_lo)

# --------------------------------------------------------------------------
# Jacobian-vector products: softmax_jvp, log_softmax_jvp
# --------------------------------------------------------------------------
cdef inline void _jvp_acc_f32(const float* x, const float* v, float* dst, Py_ssize_t i,
                              Py_ssize_t j, double sgn, double m, double inv, bint keep,
                              double* sh, double* sl, double* dh, double* dl) noexcept nogil:
    """One element of the float32 JVP's exp pass into lane j: e = exp((sgn*x - m)/|T|) in
    double, summed compensated in (sh[j], sl[j]) (mu = dot/sum multiplies the sum's
    relative error by |mu|, and v - mu may cancel: 1 + 1e-67 must stay a pair);
    (dh[j], dl[j]) += e * v compensated (TwoSum, exact product error); dst[i] = e * 2**64
    rounded when keep (scaled, so a subnormal exp keeps its bits)."""
    cdef double e = _exp_f32(_h_f32(x[i], sgn, m, inv, True))
    cdef double vi = v[i], p = e * vi, err
    if keep:
        dst[i] = <float>(e * 18446744073709551616.0)
    _two_sum_into(&sh[j], &sl[j], e)
    dh[j] = _two_sum(dh[j], p, &err)
    dl[j] += err + _prod_err(e, vi, p)

cdef inline void _jvp_lanes_f32(const float* x, const float* v, float* dst, Py_ssize_t K,
                                double sgn, double m, double inv, bint keep, double* sh,
                                double* sl, double* dh, double* dl) noexcept nogil:
    """_jvp_acc_f32 over a float32 row, one loop per keep (a constant once inlined). One
    case for every T (times inv = 1 when |T| == 1 is exact): with a flag for that too, the
    four inlined copies outgrow gcc's inlining limits and the loop runs out of line and
    scalar. After edits here, compare tools/vector_report.py before and after, and time
    the JVP (benchmarks/README.md, "Kernel measurement history")."""
    cdef Py_ssize_t i, j, k, nb = K - K % LANES
    for k in range(nb // LANES):
        for j in range(LANES):
            _jvp_acc_f32(x, v, dst, k * LANES + j, j, sgn, m, inv, keep, sh, sl, dh, dl)
    for i in range(nb, K):
        _jvp_acc_f32(x, v, dst, i, i - nb, sgn, m, inv, keep, sh, sl, dh, dl)

cdef void _jvp_row_f32(const float* x, const float* v, float* out, Py_ssize_t K, float m,
                       Temp t, bint log_out) noexcept nogil:
    """The JVP of a float32 row with a finite maximum: one pass for the exps (in double,
    _exp_f32), their sum and their dot with v, then one for the output from the saved exps
    (softmax) or from v alone (log_softmax)."""
    cdef double sh[LANES]
    cdef double sl[LANES]
    cdef double dh[LANES]
    cdef double dl[LANES]
    cdef double sgn = t.sgn, md = m, inv = t.inv, f = t.inv_signed, f_lo = t.inv_signed_lo
    cdef double s_hi, s_lo, r_hi = 0, r_lo = 0, d_hi = 0, d_lo = 0, mu, mu_lo, q
    cdef Py_ssize_t i, j
    for j in range(LANES):
        sh[j] = 0
        sl[j] = 0
        dh[j] = 0
        dl[j] = 0
    if log_out:
        _jvp_lanes_f32(x, v, out, K, sgn, md, inv, False, sh, sl, dh, dl)
    else:
        _jvp_lanes_f32(x, v, out, K, sgn, md, inv, True, sh, sl, dh, dl)
    _fold(sh, sl, LANES, &r_hi, &r_lo)
    s_lo = _lo_ok(r_hi, r_lo)
    s_hi = r_hi
    _fold(dh, dl, LANES, &d_hi, &d_lo)
    q = 1.0 / (s_hi + s_lo)
    mu = _mean_pair(d_hi, d_lo, s_hi, s_lo, q, &mu_lo)
    if log_out:
        for i in range(K):
            out[i] = <float>(((<double>v[i] - mu) - mu_lo) * f)
    else:
        q *= 5.421010862427522e-20   # 2**-64: the saved exps are scaled by 2**64
        for i in range(K):
            out[i] = <float>((<double>out[i] * q) * ((<double>v[i] - mu) - mu_lo) * f)

cdef void _jvp_row(const floating* x, const floating* v, floating* out, Py_ssize_t K, Temp t,
                   bint log_out, char_r ws) noexcept nogil:
    """The JVP of softmax (or log_softmax) of one row. Scratch: WS_ROW."""
    cdef floating sgn = <floating>t.sgn
    cdef floating m = _max_row(x, K, sgn)
    cdef floating* buf = <floating*>_ws(&ws, BLK * sizeof(floating))
    cdef floating* tails = <floating*>_ws(&ws, BLK * sizeof(floating))
    cdef floating* d
    cdef double s_hi = 0, s_lo = 0, d_hi = 0, d_lo = 0, inv, mu, mu_lo, f = t.inv_signed, f_lo = t.inv_signed_lo
    cdef Py_ssize_t b0, n, i
    cdef bint hard
    if not (m > -INFINITY):
        _fill(out, K, 1, <floating>NAN)
        return
    hard = m == INFINITY
    if floating is float:
        if not hard:
            _jvp_row_f32(x, v, out, K, m, t, log_out)
            return
    for b0 in range(0, K, BLK):
        n = min(<Py_ssize_t>BLK, K - b0)
        d = buf if log_out else out + b0
        _exp_map(x + b0, d, tails, n, m, t, hard, JVP_SHIFT, ws)
        _sum_row(d, n, &s_hi, &s_lo)
        s_lo += _sum_plain(tails, n)
        _dot_row(d, v + b0, n, &d_hi, &d_lo)
        if floating is float:   # a float32 exp is 2**-24 off without its tail
            _dot_row(tails, v + b0, n, &d_hi, &d_lo)
    inv = 1.0 / (s_hi + s_lo)
    mu = _mean_pair(d_hi, d_lo, s_hi, s_lo, inv, &mu_lo)
    if log_out:
        for i in range(K):
            out[i] = _dlog_elem(v[i], mu, mu_lo, f, f_lo)
    else:
        for i in range(K):
            out[i] = _jvp_elem(out[i], v[i], s_hi, s_lo, inv, mu, mu_lo, f, f_lo)

cdef void _jvp_cols(const floating* x, const floating* v, floating* out, Py_ssize_t K,
                    Py_ssize_t stride, Py_ssize_t W, Temp t, bint log_out,
                    char_r ws) noexcept nogil:
    """The JVP of a chunk of W <= CW columns. Scratch: WS_COL."""
    cdef floating* m = <floating*>_ws(&ws, CW * sizeof(floating))
    cdef unsigned char* hard = <unsigned char*>_ws(&ws, CW)
    cdef double* sh = <double*>_ws(&ws, CW * sizeof(double))
    cdef double* sl = <double*>_ws(&ws, CW * sizeof(double))
    cdef double* dh = <double*>_ws(&ws, CW * sizeof(double))
    cdef double* dl = <double*>_ws(&ws, CW * sizeof(double))
    cdef double* mu = <double*>_ws(&ws, CW * sizeof(double))
    cdef double* mu_lo = <double*>_ws(&ws, CW * sizeof(double))
    cdef double* inv = <double*>_ws(&ws, CW * sizeof(double))
    cdef Py_ssize_t k, j
    cdef const floating* row
    cdef const floating* vrow
    cdef floating* orow
    cdef floating sgn = <floating>t.sgn, e, one = 1, zero = 0, xv
    cdef double p, f = t.inv_signed, f_lo = t.inv_signed_lo
    _col_max(x, K, stride, W, sgn, m, False)
    _col_hard(m, W, False, hard)
    for j in range(W):
        sh[j] = 0
        sl[j] = 0
        dh[j] = 0
        dl[j] = 0
    for k in range(K):
        row = x + k * stride
        vrow = v + k * stride
        orow = out + k * stride
        for j in range(W):
            xv = sgn * row[j]
            e = _exp_arg(xv, m[j], t, JVP_SHIFT)
            e = (one if xv == m[j] else zero) if hard[j] else e
            if not log_out:
                orow[j] = e
            _two_sum_into(&sh[j], &sl[j], e)
            p = <double>e * <double>vrow[j]
            _two_sum_into(&dh[j], &dl[j], p)
            if floating is double:
                dl[j] += _prod_err(e, vrow[j], p)
    for j in range(W):
        inv[j] = 1.0 / (sh[j] + sl[j])
        mu[j] = _mean_pair(dh[j], dl[j], sh[j], sl[j], inv[j], &mu_lo[j])
        if not (m[j] > -INFINITY):
            mu[j] = NAN
    for k in range(K):
        vrow = v + k * stride
        orow = out + k * stride
        if log_out:
            for j in range(W):
                orow[j] = _dlog_elem(vrow[j], mu[j], mu_lo[j], f, f_lo)
        else:
            for j in range(W):
                orow[j] = _jvp_elem(orow[j], vrow[j], sh[j], sl[j], inv[j], mu[j], mu_lo[j], f, f_lo)

# --------------------------------------------------------------------------
# Vector-Jacobian products from a saved output: softmax_vjp, log_softmax_vjp
# --------------------------------------------------------------------------
cdef void _vjp_row(const floating* y, const floating* g, floating* out, Py_ssize_t K, Temp t,
                   bint log_out, char_r ws) noexcept nogil:
    """The VJP of one row. Scratch: 2 BLK doubles (within WS_ROW)."""
    cdef double hi = 0, lo = 0, f = t.inv_signed, f_lo = t.inv_signed_lo
    cdef double* eb = <double*>_ws(&ws, BLK * sizeof(double))
    cdef double* tb = <double*>_ws(&ws, BLK * sizeof(double))
    cdef Py_ssize_t i, b0, n
    if log_out:
        _sum_row(g, K, &hi, &lo)
        _norm_pair(&hi, &lo)
        for b0 in range(0, K, BLK):
            n = min(<Py_ssize_t>BLK, K - b0)
            _exp_block(y + b0, n, 1, eb, tb)
            for i in range(n):
                out[b0 + i] = _log_vjp_elem(eb[i], tb[i], g[b0 + i], hi, lo, f, f_lo)
    else:
        _dot_row(y, g, K, &hi, &lo)
        _norm_pair(&hi, &lo)
        for i in range(K):
            out[i] = _vjp_elem(y[i], g[i], hi, lo, f, f_lo)

cdef inline void _vjp_acc(floating y, floating g, bint log_out, double* hi,
                          double* lo) noexcept nogil:
    """(hi, lo) += g (log_out: the log-softmax VJP sums g) or y * g, compensated (TwoSum;
    float64 adds the product's exact error): one element of a VJP's reduction, shared by
    the column kernel (lane = column) and the short-row kernel (lane = row)."""
    cdef double p
    if log_out:
        _two_sum_into(hi, lo, g)
    else:
        p = <double>y * <double>g
        _two_sum_into(hi, lo, p)
        if floating is double:
            lo[0] += _prod_err(y, g, p)

cdef void _vjp_cols(const floating* y, const floating* g, floating* out, Py_ssize_t K,
                    Py_ssize_t stride, Py_ssize_t W, Temp t, bint log_out,
                    char_r ws) noexcept nogil:
    """The VJP of a chunk of W <= CW columns. Scratch: 4 CW doubles."""
    cdef double* hi = <double*>_ws(&ws, CW * sizeof(double))
    cdef double* lo = <double*>_ws(&ws, CW * sizeof(double))
    cdef double* eb = <double*>_ws(&ws, CW * sizeof(double))
    cdef double* tb = <double*>_ws(&ws, CW * sizeof(double))
    cdef Py_ssize_t k, j
    cdef const floating* yrow
    cdef const floating* grow
    cdef floating* orow
    cdef double f = t.inv_signed, f_lo = t.inv_signed_lo
    for j in range(W):
        hi[j] = 0
        lo[j] = 0
    for k in range(K):
        yrow = y + k * stride
        grow = g + k * stride
        for j in range(W):
            _vjp_acc(yrow[j], grow[j], log_out, &hi[j], &lo[j])
    for j in range(W):
        _norm_pair(&hi[j], &lo[j])
    for k in range(K):
        yrow = y + k * stride
        grow = g + k * stride
        orow = out + k * stride
        if log_out:
            _exp_block(yrow, W, 1, eb, tb)
            for j in range(W):
                orow[j] = _log_vjp_elem(eb[j], tb[j], grow[j], hi[j], lo[j], f, f_lo)
        else:
            for j in range(W):
                orow[j] = _vjp_elem(yrow[j], grow[j], hi[j], lo[j], f, f_lo)

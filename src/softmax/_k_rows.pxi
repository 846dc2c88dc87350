# Rows (inner == 1, each slice contiguous): reductions into LANES accumulators, the exp
# passes, and softmax, log_softmax and logsumexp of one row; the weighted logsumexp of one
# (strided) slice. Part of the per-ISA kernel source (included by _kernels.pyx).

# Row reductions run as column reductions over the (n // LANES, LANES) view of
# the row: gcc vectorises a loop over a runtime number of adjacent columns (it
# if-converts the selects there), while a fixed 16-lane inner loop is unrolled
# first and left scalar.
cdef inline floating _nanmax(floating a, floating b) noexcept nogil:
    """max(a, b), NaN if either is NaN. Written as "b unless b <= a or a is NaN": gcc
    vectorises a tree of these (spelt "b > a or b is NaN" it does not)."""
    return b if (not (b <= a)) & (a == a) else a

cdef inline void _col_max(const floating* x, Py_ssize_t K, Py_ssize_t stride, Py_ssize_t W,
                   floating sgn, floating* m, bint pairs) noexcept nogil:
    """m[j] = max over k of sgn * x[k*stride + j]; NaN if any is NaN.

    pairs (a constant: rows pass True): two rows a step. m[j] goes through memory every
    step (W is a runtime length), and for a row's 32 lanes one row a step is a chain of
    store-load latencies; two rows' max joins it once. gcc does not vectorise four. Column
    chunks (up to CW lanes) keep one row a step: their chain is short next to their width."""
    cdef Py_ssize_t k, j, kb = K - K % 2 if pairs else 0
    cdef const floating* r0
    cdef const floating* r1
    for j in range(W):
        m[j] = -INFINITY
    for k in range(0, kb, 2):
        r0 = x + k * stride
        r1 = r0 + stride
        for j in range(W):
            m[j] = _nanmax(m[j], _nanmax(sgn * r0[j], sgn * r1[j]))
    for k in range(kb, K):
        r0 = x + k * stride
        for j in range(W):
            m[j] = _nanmax(m[j], sgn * r0[j])

cdef inline void _col_sum(const floating* x, Py_ssize_t K, Py_ssize_t stride, Py_ssize_t W,
                   double* sh, double* sl) noexcept nogil:
    """(sh[j], sl[j]) += sum over k of x[k*stride + j], compensated (TwoSum)."""
    cdef Py_ssize_t k, j
    cdef const floating* row
    for k in range(K):
        row = x + k * stride
        for j in range(W):
            _two_sum_into(&sh[j], &sl[j], row[j])

cdef inline void _col_dot(const floating* x, const floating* y, Py_ssize_t K, Py_ssize_t stride,
                   Py_ssize_t W, double* sh, double* sl) noexcept nogil:
    """(sh[j], sl[j]) += sum over k of x*y at [k*stride + j], compensated."""
    cdef Py_ssize_t k, j
    cdef const floating* xr
    cdef const floating* yr
    cdef double p
    for k in range(K):
        xr = x + k * stride
        yr = y + k * stride
        for j in range(W):
            p = <double>xr[j] * <double>yr[j]
            _two_sum_into(&sh[j], &sl[j], p)
            if floating is double:
                sl[j] += _prod_err(xr[j], yr[j], p)

cdef inline void _col_sum_rest(const floating* x, Py_ssize_t K, Py_ssize_t stride, Py_ssize_t W,
                        double* sh, double* sl, double* ones) noexcept nogil:
    """Like _col_sum for a sum of exps, but the exact 1.0s (the maxima) are only
    counted, in ones[j]: the rest is then compensated at its own scale, so a
    small rest (log_softmax of a confident slice) keeps full relative precision."""
    cdef Py_ssize_t k, j
    cdef const floating* row
    cdef double v
    cdef bint one
    for k in range(K):
        row = x + k * stride
        for j in range(W):
            v = row[j]
            one = v == 1.0
            ones[j] += 1.0 if one else 0.0
            v = 0.0 if one else v
            if floating is float:  # float32 terms: a plain sum in double is exact enough
                sh[j] += v
            else:
                _two_sum_into(&sh[j], &sl[j], v)

cdef inline double _lanes_total(double* a) noexcept nogil:
    """The plain sum of a[:LANES], halved pairwise (vector steps, not a chain of LANES adds)."""
    cdef Py_ssize_t j
    for j in range(16):
        a[j] += a[j + 16]
    for j in range(8):
        a[j] += a[j + 8]
    for j in range(4):
        a[j] += a[j + 4]
    return ((a[0] + a[2]) + (a[1] + a[3]))

cdef inline void _max_half(floating* acc, Py_ssize_t h) noexcept nogil:
    """Lane j (j < h) takes the NaN-propagating max of lanes j and j + h."""
    cdef Py_ssize_t l
    for l in range(h):
        acc[l] = acc[l + h] if (acc[l + h] > acc[l]) | (acc[l + h] != acc[l + h]) else acc[l]

cdef floating _max_row(const floating* x, Py_ssize_t n, floating sgn) noexcept nogil:
    """max of sgn*x, NaN if any element is NaN."""
    cdef floating acc[LANES]
    cdef floating v, m = -INFINITY
    cdef Py_ssize_t i, l, L = min(<Py_ssize_t>LANES, n), nb
    if L == 0:
        return m
    nb = n - n % L
    if sgn == 1:   # a constant sign: gcc drops the multiply (x * 1 is x, x * -1 is -x)
        _col_max(x, nb // L, L, L, <floating>1, acc, True)
    else:
        _col_max(x, nb // L, L, L, <floating>-1, acc, True)
    for i in range(nb, n):
        v = sgn * x[i]
        m = v if (v > m) | (v != v) else m
    if L == LANES:   # halve pairwise (vector steps) rather than a chain of 32 compares
        _max_half(acc, 16)
        _max_half(acc, 8)
        _max_half(acc, 4)
        _max_half(acc, 2)
        L = 2
    for l in range(L):
        m = acc[l] if (acc[l] > m) | (acc[l] != acc[l]) else m
    return m

cdef void _sum_row(const floating* e, Py_ssize_t n, double* hi, double* lo) noexcept nogil:
    """(hi, lo) += sum(e), compensated."""
    cdef double sh[LANES]
    cdef double sl[LANES]
    cdef Py_ssize_t l, L = max(<Py_ssize_t>1, min(<Py_ssize_t>LANES, n)), nb = n - n % L
    for l in range(LANES):  # fixed length: vector stores (a variable one becomes rep stos)
        sh[l] = 0
        sl[l] = 0
    _col_sum(e, nb // L, L, L, sh, sl)
    _col_sum(e + nb, 1, 0, n - nb, sh, sl)
    _fold(sh, sl, L, hi, lo)

cdef void _dot_row(const floating* a, const floating* b, Py_ssize_t n,
                   double* hi, double* lo) noexcept nogil:
    """(hi, lo) += sum(a * b), compensated (TwoSum + exact products)."""
    cdef double sh[LANES]
    cdef double sl[LANES]
    cdef Py_ssize_t l, L = max(<Py_ssize_t>1, min(<Py_ssize_t>LANES, n)), nb = n - n % L
    for l in range(LANES):  # fixed length: vector stores (a variable one becomes rep stos)
        sh[l] = 0
        sl[l] = 0
    _col_dot(a, b, nb // L, L, L, sh, sl)
    _col_dot(a + nb, b + nb, 1, 0, n - nb, sh, sl)
    _fold(sh, sl, L, hi, lo)

cdef inline void _fill(floating* out, Py_ssize_t n, Py_ssize_t stride, floating value) noexcept nogil:
    cdef Py_ssize_t i
    for i in range(n):
        out[i * stride] = value

cdef inline double _sum_plain(const floating* a, Py_ssize_t n) noexcept nogil:
    """Plain sum in double (for the tiny tails of the exps)."""
    cdef double acc[LANES]
    cdef double total = 0
    cdef Py_ssize_t i, j, k, nb = n - n % LANES
    if nb == 0:
        for i in range(n):
            total += a[i]
        return total
    for j in range(LANES):
        acc[j] = 0
    for k in range(nb // LANES):
        for j in range(LANES):
            acc[j] += a[k * LANES + j]
    for i in range(nb, n):
        total += a[i]
    return total + _lanes_total(acc)

cdef inline void _exp_lanes_f32(const float* x, float* dst, Py_ssize_t K, double sgn, double m,
                                double inv, bint scaled, bint keep, double* acc,
                                double* on, const float* xt, float* dt) noexcept nogil:
    """The body of _exp_sum_f32 for one case (scaled, keep: constants once inlined, so
    every case is a loop of its own and gcc vectorises each: a test inside a loop is
    if-converted, both sides computed). The last K % LANES elements come from xt (padded
    to LANES with -inf: exp 0) and go to dt, so a row's tail runs in vector lanes too (a
    scalar exp costs about what a whole vector step does)."""
    cdef Py_ssize_t j, k, nfull = K // LANES, nblk = (K + LANES - 1) // LANES
    cdef const float* xr
    cdef float* dr
    cdef double e
    for k in range(nblk):
        xr = x + k * LANES if k < nfull else xt
        dr = (dst + k * LANES if k < nfull else dt) if keep else <float*>NULL
        for j in range(LANES):
            e = _exp_f32(_h_f32(xr[j], sgn, m, inv, scaled))
            if keep:
                dr[j] = <float>e
                acc[j] += e
            else:
                on[j] += 1.0 if e == 1.0 else 0.0
                acc[j] += 0.0 if e == 1.0 else e

cdef void _exp_sum_f32(const float* x, float* dst, Py_ssize_t K, float m, Temp t, bint keep,
                       double* ones_out, double* rest_out) noexcept nogil:
    """The exp pass of a float32 row in one loop: exps in double (_exp_f32), summed in
    double lanes (float32 terms: a plain double sum is exact enough) and, when keep, stored
    rounded to float32 in dst. Without keep the exact 1.0s (the maxima) are counted apart
    (ones_out), so a small rest keeps its relative precision for log1p."""
    cdef double acc[LANES]
    cdef double on[LANES]
    cdef float xt[LANES]
    cdef float dt[LANES]
    cdef double md = m, inv = t.inv, sgn = t.sgn
    cdef float pad = <float>(-t.sgn * INFINITY)   # sgn * pad == -inf: exp 0, no NaN
    cdef Py_ssize_t i, j, nb = K - K % LANES
    for j in range(LANES):
        acc[j] = 0
        on[j] = 0
        xt[j] = x[nb + j] if nb + j < K else pad
    if keep:
        if t.scaled:
            _exp_lanes_f32(x, dst, K, sgn, md, inv, True, True, acc, on, xt, dt)
        else:
            _exp_lanes_f32(x, dst, K, sgn, md, inv, False, True, acc, on, xt, dt)
        for i in range(nb, K):
            dst[i] = dt[i - nb]
    else:
        if t.scaled:
            _exp_lanes_f32(x, dst, K, sgn, md, inv, True, False, acc, on, xt, dt)
        else:
            _exp_lanes_f32(x, dst, K, sgn, md, inv, False, False, acc, on, xt, dt)
    ones_out[0] = _lanes_total(on)
    rest_out[0] = _lanes_total(acc)

cdef void _exp_sum_parts(const floating* x, floating* dst, Py_ssize_t K, floating m, Temp t,
                         bint hard, bint keep, double* ones_out, double* rest_hi,
                         double* rest_lo, char_r ws) noexcept nogil:
    """Sum of exps of a row as (count of exact 1.0s) + (rest_hi + rest_lo), block by
    block; the exps land in dst when keep, else in scratch (WS_ROW)."""
    cdef floating* buf = <floating*>_ws(&ws, BLK * sizeof(floating))
    cdef floating* tails = <floating*>_ws(&ws, BLK * sizeof(floating))
    cdef double sh[LANES]
    cdef double sl[LANES]
    cdef double on[LANES]
    cdef floating* d
    cdef double r_hi = 0, r_lo = 0, ones = 0
    cdef Py_ssize_t b0, n, nb, l, L = max(<Py_ssize_t>1, min(<Py_ssize_t>LANES, K))
    if floating is float:
        if not hard:
            _exp_sum_f32(x, dst, K, m, t, keep, ones_out, rest_hi)
            rest_lo[0] = 0
            return
    for l in range(LANES):  # fixed length: vector stores (a variable one becomes rep stos)
        sh[l] = 0
        sl[l] = 0
        on[l] = 0
    for b0 in range(0, K, BLK):
        n = min(<Py_ssize_t>BLK, K - b0)
        d = dst + b0 if keep else buf
        _exp_map(x + b0, d, tails, n, m, t, hard, 0, ws)
        nb = n - n % L
        _col_sum_rest(d, nb // L, L, L, sh, sl, on)
        _col_sum_rest(d + nb, 1, 0, n - nb, sh, sl, on)
        r_lo += _sum_plain(tails, n)
    _fold(sh, sl, L, &r_hi, &r_lo)
    for l in range(L):
        ones += on[l]
    ones_out[0] = ones
    rest_hi[0] = r_hi
    rest_lo[0] = r_lo

cdef void _exp_sum_row(const floating* x, floating* dst, Py_ssize_t K, floating m, Temp t,
                       bint hard, bint keep, double* s_hi, double* s_lo,
                       char_r ws) noexcept nogil:
    """Sum of exps of a row as a pair (s_hi, s_lo); see _exp_sum_parts."""
    cdef double ones, r_hi, r_lo
    _exp_sum_parts(x, dst, K, m, t, hard, keep, &ones, &r_hi, &r_lo, ws)
    _combine(ones, r_hi, r_lo, s_hi, s_lo)

cdef inline double _log_sum(double s_hi, double s_lo, double* lo) noexcept nogil:
    """log(s_hi + s_lo) = result + lo[0], for a sum of exps (>= 1).

    log1p keeps sum - 1 exact; one Newton step, L + (S - exp(L)) / S, with the
    exp pair (whose tail holds its rounding) recovers the rounding of the log,
    so m + log(S) stays accurate when m and log(S) nearly cancel."""
    cdef double L = log1p((s_hi - 1.0) + s_lo), e, tail
    e = _exp2(L, <double>0.0, &tail)
    lo[0] = ((s_hi - e) + (s_lo - tail)) / s_hi
    return L

cdef inline floating _log_elem(floating v, floating m, Temp t, double lse,
                               double lse_lo) noexcept nogil:
    """(v - m)/|T| - (lse + lse_lo), the log-softmax of one element."""
    cdef floating lo, h
    if floating is float:
        return <float>(((<double>v - <double>m) * t.inv - lse) - lse_lo)
    else:
        h = _arg(v, m, t, &lo)
        if h == -INFINITY:   # v - m or (v - m)/|T| overflowed; the latter may be finite
            h = v * t.inv - m * t.inv   # NaN (-inf + inf) only where it truly overflows
            return h - lse if h == h else -INFINITY
        return (h - lse) + (lo - lse_lo)

cdef inline floating _div_elem(floating e, double s_hi, double s_lo, double inv) noexcept nogil:
    """e / (s_hi + s_lo), rounded once (Newton step on the reciprocal)."""
    cdef double q, rem
    if floating is float:
        return <float>(<double>e * inv)
    else:
        q = e * inv
        rem = _resid(q, s_hi, e) - q * s_lo
        return _madd(rem, inv, q)

cdef inline void _scale_f32(float* out, Py_ssize_t n, double inv) noexcept nogil:
    """out[i] * inv rounded once to float32: with FMA as fma(e, ih, e * il) * 2**-24, (ih, il)
    the float32 pair of inv * 2**24 (together good to 2**-48; scaled so that e * il does not
    underflow while the result is normal, and the final scaling is exact there), three
    float32 operations per element instead of a round trip through float64; without FMA
    in float64."""
    cdef Py_ssize_t i
    cdef double inv_s = inv * 16777216.0
    cdef float ih = <float>inv_s, il = <float>(inv_s - <double>ih), down = 5.9604644775390625e-08
    if SMX_HAS_FMA:
        for i in range(n):
            out[i] = fmaf(out[i], ih, out[i] * il) * down
    else:
        for i in range(n):
            out[i] = <float>(<double>out[i] * inv)

# --------------------------------------------------------------------------
# softmax / log_softmax
# --------------------------------------------------------------------------
cdef void _softmax_row(const floating* x, floating* out, Py_ssize_t K, Temp t,
                       bint log_out, char_r ws) noexcept nogil:
    """softmax (or log_softmax) of one row. Scratch: WS_ROW."""
    cdef floating sgn = <floating>t.sgn
    cdef floating m = _max_row(x, K, sgn)
    cdef double s_hi, s_lo, lse, lse_lo, inv
    cdef bint hard
    cdef Py_ssize_t i
    if not (m > -INFINITY):                  # a NaN, or all -inf
        _fill(out, K, 1, <floating>NAN)
        return
    hard = t.hard or m == INFINITY
    _exp_sum_row(x, out, K, m, t, hard, not log_out, &s_hi, &s_lo, ws)
    if log_out:
        lse = _log_sum(s_hi, s_lo, &lse_lo)
        if hard:
            for i in range(K):
                out[i] = <floating>(-lse - lse_lo) if sgn * x[i] == m else <floating>(
                    (sgn * x[i] - m) / t.abs_t - lse)   # -inf but for a tiny |T| (_limit_temp)
        else:
            for i in range(K):
                out[i] = _log_elem(sgn * x[i], m, t, lse, lse_lo)
    else:
        inv = 1.0 / (s_hi + s_lo)
        if floating is float:
            _scale_f32(out, K, inv)
        else:
            for i in range(K):
                out[i] = _div_elem(out[i], s_hi, s_lo, inv)

# --------------------------------------------------------------------------
# logsumexp
# --------------------------------------------------------------------------
cdef inline double _lse_value(floating m, double s_hi, double s_lo, Temp t) noexcept nogil:
    """T * logsumexp(x / T) from the shifted sum: sgn * (m + |T| log(sum))."""
    if m != m:
        return NAN
    cdef double L, L_lo, p, p_lo, r, err
    if m == -INFINITY or m == INFINITY:  # sgn*x all -inf, or some +inf: the limit
        return t.sgn * m
    if floating is float:   # a float32 result needs log's low part only where m and
        # |T| log(sum) nearly cancel (then go on below); the pair's log: log(s) + err / s
        L = log(s_hi) + s_lo / s_hi if s_hi > 0.0 else log1p((s_hi - 1.0) + s_lo)
        p = t.abs_t * L
        r = m + p
        if fabs(r) >= 1e-6 * p:
            return t.sgn * r
    L = _log_sum(s_hi, s_lo, &L_lo)
    p, p_lo = L, L_lo
    if t.abs_t != 1.0:
        p = t.abs_t * L
        p_lo = _prod_err(t.abs_t, L, p) + t.abs_t * L_lo
    r = _two_sum(<double>m, p, &err)     # m + p with its rounding error
    return t.sgn * (r + (err + p_lo))

cdef void _lse_row(const floating* x, floating* res, Py_ssize_t K, Temp t,
                   char_r ws) noexcept nogil:
    """logsumexp of one row. Scratch: WS_ROW."""
    cdef floating m = _max_row(x, K, <floating>t.sgn)
    cdef double s_hi = 0, s_lo = 0
    if m > -INFINITY and m < INFINITY:
        _exp_sum_row(x, <floating*>NULL, K, m, t, t.hard, False, &s_hi, &s_lo, ws)
    res[0] = <floating>_lse_value(m, s_hi, s_lo, t)

cdef void _lse_b_slice(const floating* x, const floating* b, floating* res, floating* sign,
                       Py_ssize_t K, Py_ssize_t stride, Temp t) noexcept nogil:
    """Weighted logsumexp of one (strided) slice; entries with b == 0 are left out."""
    cdef floating sgn = <floating>t.sgn, v, m = -INFINITY
    cdef double s_hi = 0, s_lo = 0, e, p, total, r
    cdef Py_ssize_t k, used = 0
    cdef bint hard, wild = False
    for k in range(K):
        if b[k * stride] != 0:
            used += 1
            v = sgn * x[k * stride]
            m = v if (v > m) | (v != v) else m
            wild = wild or not (fabs(<double>b[k * stride]) < INFINITY)
    if m != m or (m == -INFINITY and wild):  # a NaN; or an inf/NaN weight times exp(-inf) = 0
        res[0] = NAN
        sign[0] = NAN
        return
    if m == -INFINITY:  # nothing left in (-inf); all the sgn*x left are -inf: the limit
        res[0] = <floating>(t.sgn * m) if used else -INFINITY
        sign[0] = 0
        return
    hard = t.hard or m == INFINITY
    for k in range(K):
        if b[k * stride] != 0:
            v = sgn * x[k * stride]
            if hard:
                e = 1.0 if v == m else 0.0
            else:   # in double: no float32 underflow
                e = _exp_arg[double](<double>v, <double>m, t, 0)
            p = e * b[k * stride]
            if p != p and e == 0 and not hard and v > -INFINITY:
                p = b[k * stride]   # an infinite weight times an exp that underflowed: inf
            _two_sum_into(&s_hi, &s_lo, p)
            s_lo += _prod_err(e, <double>b[k * stride], p)
    s_lo = _lo_ok(s_hi, s_lo)
    total = s_hi + s_lo
    if total == 0:      # the weights cancel: T * log(0)
        res[0] = NAN if m == INFINITY else <floating>(-t.sgn * INFINITY)
        sign[0] = 0
        return
    if total != total:
        res[0] = NAN
        sign[0] = NAN
        return
    sign[0] = 1 if total > 0 else -1
    if m == INFINITY:   # some sgn*x = +inf: T * log(inf)
        res[0] = <floating>(t.sgn * INFINITY)
        return
    if t.hard:          # T == 0: the max (T * log|total| -> 0, even for an infinite total)
        res[0] = <floating>(t.sgn * m)
        return
    if total < 0:
        s_hi = -s_hi
        s_lo = -s_lo
    r = log(s_hi) + s_lo / s_hi
    res[0] = <floating>(t.sgn * (m + t.abs_t * r))

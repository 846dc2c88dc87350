# float64 rows (inner == 1) of softmax, log_softmax and logsumexp on vectors. Part of the
# per-ISA kernel source (included by _kernels.pyx). As the float32 rows (_k_vrows32.pxi): a
# row's kernel returns 0 when done, 1 for a special row, which the general kernel then does
# (out may have been written: a NaN is found through the sums).

cdef inline smx_vf64 _ld64(const double* p, bint neg) noexcept nogil:
    """y = sgn * x of a full vector."""
    cdef smx_vf64 v = smx_load_f64(p)
    return smx_neg_f64(v) if neg else v

cdef inline smx_vf64 _ld_till64(const double* p, Py_ssize_t n, double fill, bint neg) noexcept nogil:
    """Lanes i < n of y = sgn * p[i], the others fill."""
    cdef smx_vf64 v = smx_load_till_f64(p, n, -fill if neg else fill)
    return smx_neg_f64(v) if neg else v

cdef inline smx_vf64 _second_acc64(smx_vf64 q, smx_vf64 v, smx_vf64 a) noexcept nogil:
    """q, the lanes' runners-up, as v joins lane maxima a (before a takes v in): the lesser
    of v and a."""
    return smx_max_f64(q, smx_min_f64(v, a))

cdef inline smx_vf64 _drop64(smx_vf64 a, smx_vf64 m) noexcept nogil:
    """The lanes of a below m (those equal to m made -inf)."""
    return smx_select_f64(smx_cmpeq_f64(a, m), smx_setall_f64(-INFINITY), a)

cdef double _row_max64(const double* x, Py_ssize_t K, TCase k, double* mn,
                       double* m2) noexcept nogil:
    """The max of y = sgn * x (NaN ignored: the exp pass propagates it), mn[0] its min, and
    unless m2 is NULL m2[0] a second largest (_second64)."""
    cdef bint neg = TCase is Neg1 or TCase is NegT, sec = m2 != NULL
    cdef smx_vf64 lo = smx_setall_f64(-INFINITY), hi = smx_setall_f64(INFINITY)
    cdef smx_vf64 a0 = lo, a1 = lo, a2 = lo, a3 = lo, b0 = hi, b1 = hi, q0 = lo, q1 = lo, v
    cdef double m
    cdef Py_ssize_t i = 0
    while i + 4 * SMX_NF64 <= K:
        v = _ld64(x + i, neg)
        if sec:
            q0 = _second_acc64(q0, v, a0)
        a0 = smx_max_f64(v, a0)
        b0 = smx_min_f64(v, b0)
        v = _ld64(x + i + SMX_NF64, neg)
        if sec:
            q1 = _second_acc64(q1, v, a1)
        a1 = smx_max_f64(v, a1)
        b1 = smx_min_f64(v, b1)
        v = _ld64(x + i + 2 * SMX_NF64, neg)
        if sec:
            q0 = _second_acc64(q0, v, a2)
        a2 = smx_max_f64(v, a2)
        b0 = smx_min_f64(v, b0)
        v = _ld64(x + i + 3 * SMX_NF64, neg)
        if sec:
            q1 = _second_acc64(q1, v, a3)
        a3 = smx_max_f64(v, a3)
        b1 = smx_min_f64(v, b1)
        i += 4 * SMX_NF64
    while i < K:
        v = _ld_till64(x + i, K - i, -INFINITY, neg)
        if sec:
            q0 = _second_acc64(q0, v, a0)
        a0 = smx_max_f64(v, a0)
        b0 = smx_min_f64(_ld_till64(x + i, K - i, INFINITY, neg), b0)
        i += SMX_NF64
    mn[0] = smx_reduce_min_f64(smx_min_f64(b0, b1))
    m = smx_reduce_max_f64(smx_max_f64(smx_max_f64(a0, a1), smx_max_f64(a2, a3)))
    if sec:
        m2[0] = _second64(smx_max_f64(q0, q1), a0, a1, a2, a3, m)
    return m

cdef inline double _second64(smx_vf64 q, smx_vf64 a0, smx_vf64 a1, smx_vf64 a2, smx_vf64 a3,
                             double m) noexcept nogil:
    """A second largest of a row: the largest of the lanes' runners-up q (_second_acc64) and
    the lane maxima a0..a3 below the max m. Every element is a lane max or was a runner-up
    (the lesser of a pair), so this is the largest after one occurrence of m is taken out,
    or less where m is a lane max more than once: it may overstate how far the max stands
    out, never understate it."""
    cdef smx_vf64 vm = smx_setall_f64(m)
    return smx_reduce_max_f64(smx_max_f64(
        smx_max_f64(q, smx_max_f64(_drop64(a0, vm), _drop64(a1, vm))),
        smx_max_f64(_drop64(a2, vm), _drop64(a3, vm))))

cdef inline void _fold_lanes64(smx_vf64 s, smx_vf64 c, double* hi, double* lo) noexcept nogil:
    """hi + lo = the sum of the lanes of s and c: s halved pairwise with TwoSum (_half), c
    plainly (compensations)."""
    cdef double a[8]
    cdef double l[8]
    cdef double v, t, bb
    cdef Py_ssize_t h = SMX_NF64 // 2, j
    smx_store_f64(a, s)
    for j in range(SMX_NF64):
        l[j] = 0
    while h >= 1:
        for j in range(h):
            v = a[j + h]
            t = a[j] + v
            bb = t - a[j]
            l[j] = (l[j] + l[j + h]) + ((a[j] - (t - bb)) + (v - bb))
            a[j] = t
        h = h // 2
    hi[0] = a[0]
    lo[0] = l[0] + smx_reduce_add_f64(c)

# ---------------------------------------------------------------- the exp pass
cdef bint _exp_pass64(const double* x, double* out, Py_ssize_t K, Row64 c, TCase k,
                      int mode, const double* nx, double* res, Ahead64* ahead,
                      const Pend64* pend) noexcept nogil:
    """The exps of a row, e = exp((sgn*x - m)/|T|), and their sum; on the way the max and
    min of the next row nx (K elements; the caller passes x itself when there is none) into
    ahead.m and ahead.mn, and in modes 1 and 2 a second largest (_second64) into
    ahead.m2; PF64_AHEAD elements past those
    loads (below ahead.end) prefetched: the hardware prefetchers alone left the loop
    waiting on the next row's loads (from L3). The loop works with E = e * 2**64
    (_vexp64x2); the sums are scaled back at the end.

    mode 0 (softmax): out = E; res[0] + res[1] = the sum of the e plus their tails:
    anchored Fast2Sum, the lanes start at 2**64 (every E is <= 2**64). mode 1 (log_softmax
    and logsumexp, nothing stored): the same sum, for rows whose max does not dominate
    (_sum_mode64). mode 2 (nothing stored): res[0] = the number of exps equal to 1 (the maxima),
    res[1] + res[2] = the others (TwoSum per lane) plus the tails, so that log1p((ones - 1)
    + rest) keeps the full relative precision of a small rest. Here the E are scaled back
    (rounded) first: the clamped entries must add exactly 0 (their E is exp(-745.2) *
    2**64, rounded to 0 only by that scaling), a rest below the smallest normal being the
    result's own precision.
    With pend not NULL (pend.x not NULL; modes 1 and 2), the pending output pass of the previous
    row (log_softmax, the same K and T) runs in the same loop: pend.out = _log_out64's.
    Returns False when the sum is NaN (a NaN in x: the clamp max(ylo, y) keeps it; -inf
    entries are clamped to ylo, exp 0, as they should be).

    One loop, two vectors a step (the row's end by masked loads and stores). Where the exp
    is inlined is gcc's choice: copies in too many places exhaust its inline-unit-growth and
    the exp is left out of line (a call per vector, every accumulator spilled around it).
    So the specialisations are by the case of T only (TCase), each called from few places
    (never absorbed into the row kernel), `mode` a run-time value tested in the loop
    (predictable; one inlined exp per specialisation)."""
    cdef bint neg = TCase is Neg1 or TCase is NegT
    cdef bint scaled = TCase is PosT or TCase is NegT
    cdef smx_vf64 nm = smx_setall_f64(-c.m), ylo = smx_setall_f64(c.ylo)
    cdef smx_vf64 one = smx_setall_f64(1.0), top = smx_setall_f64(V64_TWO64), z = smx_zero_f64()
    cdef smx_vf64 down = smx_setall_f64(V64_TWOM64)
    cdef smx_vf64 lo = smx_setall_f64(-INFINITY), hi = smx_setall_f64(INFINITY)
    cdef smx_vf64 s0, s1, c0 = z, c1 = z, o0 = z, o1 = z, t = z, y0, y1, v0, v1, w0, w1
    cdef smx_vf64 a0 = lo, a1 = lo, b0 = hi, b1 = hi, q0 = lo, q1 = lo
    cdef smx_vf64 e[2]
    cdef smx_vf64 tl[2]
    cdef smx_mf64 k0, k1
    cdef bint count = mode == 2, fuse = pend != NULL
    cdef smx_vf64 pA = z, pB = z, pL = z, pLl = z
    cdef const double* pf = nx + (K if K < PF64_AHEAD else PF64_AHEAD)
    cdef Py_ssize_t i = 0, n, npf = 0
    if nx != x and ahead.end != NULL and ahead.end - pf > 2 * SMX_NF64:
        npf = ahead.end - pf - 2 * SMX_NF64      # (prefetches stay within the rows)
    if fuse:
        _log_consts64(-pend.nm, pend.L, pend.L_lo, scaled, &pA, &pB)
        pL = smx_setall_f64(pend.L)
        pLl = smx_setall_f64(pend.L_lo)
    if count:
        s0 = z
        s1 = z
    else:
        s0 = top
        s1 = top
    while i < K:
        n = K - i
        if n >= 2 * SMX_NF64:
            y0 = _ld64(x + i, neg)
            y1 = _ld64(x + i + SMX_NF64, neg)
            v0 = _ld64(nx + i, neg)
            v1 = _ld64(nx + i + SMX_NF64, neg)
            if i < npf:
                smx_prefetch(pf + i)
                smx_prefetch(pf + i + SMX_NF64)
            w0 = v0
            w1 = v1
        else:          # the fill -inf (+inf when neg) is clamped to ylo: exp 0
            y0 = _ld_till64(x + i, n, -INFINITY, neg)
            y1 = _ld_till64(x + i + SMX_NF64, n - SMX_NF64, -INFINITY, neg)
            v0 = _ld_till64(nx + i, n, -INFINITY, neg)
            v1 = _ld_till64(nx + i + SMX_NF64, n - SMX_NF64, -INFINITY, neg)
            w0 = _ld_till64(nx + i, n, INFINITY, neg)
            w1 = _ld_till64(nx + i + SMX_NF64, n - SMX_NF64, INFINITY, neg)
        if mode != 0:
            q0 = _second_acc64(q0, v0, a0)
            q1 = _second_acc64(q1, v1, a1)
        a0 = smx_max_f64(v0, a0)
        a1 = smx_max_f64(v1, a1)
        _vexp64x2(smx_max_f64(ylo, y0), smx_max_f64(ylo, y1), nm, c, scaled, e, tl)
        t = smx_add_f64(t, smx_add_f64(tl[0], tl[1]))
        b0 = smx_min_f64(w0, b0)
        b1 = smx_min_f64(w1, b1)
        if count:      # (== 1 is false for NaN: it goes to the rest)
            e[0] = smx_mul_f64(e[0], down)
            e[1] = smx_mul_f64(e[1], down)
            k0 = smx_cmpeq_f64(e[0], one)
            k1 = smx_cmpeq_f64(e[1], one)
            o0 = smx_add_f64(o0, smx_select_f64(k0, one, z))
            o1 = smx_add_f64(o1, smx_select_f64(k1, one, z))
            _two_acc64(&s0, &c0, smx_select_f64(k0, z, e[0]))
            _two_acc64(&s1, &c1, smx_select_f64(k1, z, e[1]))
        else:
            if mode == 0 and n >= 2 * SMX_NF64:
                smx_store_f64(out + i, e[0])
                smx_store_f64(out + i + SMX_NF64, e[1])
            elif mode == 0:
                smx_store_till_f64(out + i, n, e[0])
                smx_store_till_f64(out + i + SMX_NF64, n - SMX_NF64, e[1])
            _fast_acc64(&s0, &c0, e[0])
            _fast_acc64(&s1, &c1, e[1])
        if fuse and n >= 2 * SMX_NF64:
            smx_store_f64(pend.out + i, _log_elem64(_ld64(pend.x + i, neg), pA, pB, c, scaled,
                                                    pL, pLl))
            smx_store_f64(pend.out + i + SMX_NF64,
                          _log_elem64(_ld64(pend.x + i + SMX_NF64, neg), pA, pB, c, scaled,
                                      pL, pLl))
        elif fuse:
            smx_store_till_f64(pend.out + i, n, _log_elem64(
                _ld_till64(pend.x + i, n, 0.0, neg), pA, pB, c, scaled, pL, pLl))
            smx_store_till_f64(pend.out + i + SMX_NF64, n - SMX_NF64, _log_elem64(
                _ld_till64(pend.x + i + SMX_NF64, n - SMX_NF64, 0.0, neg), pA, pB, c, scaled,
                pL, pLl))
        i += 2 * SMX_NF64
    ahead.m = smx_reduce_max_f64(smx_max_f64(a0, a1))
    ahead.mn = smx_reduce_min_f64(smx_min_f64(b0, b1))
    if mode != 0:
        ahead.m2 = _second64(smx_max_f64(q0, q1), a0, a1, a0, a1, ahead.m)
    if count:
        c0 = smx_muladd_f64(t, down, smx_add_f64(c0, c1))
        res[0] = smx_reduce_add_f64(smx_add_f64(o0, o1))
        _two_acc64(&s0, &c0, s1)
        _fold_lanes64(s0, c0, &res[1], &res[2])
        return res[1] == res[1] and res[2] == res[2]
    c0 = smx_add_f64(t, smx_add_f64(c0, c1))
    _two_acc64(&s0, &c0, smx_sub_f64(s1, top))   # s - 2**64 is exact (s >= 2**64): the
    _fold_lanes64(smx_sub_f64(s0, top), c0, &res[0], &res[1])   # lanes started there
    _norm_pair(&res[0], &res[1])
    res[0] *= V64_TWOM64
    res[1] *= V64_TWOM64
    return res[0] == res[0] and res[1] == res[1]

# ---------------------------------------------------------------- softmax
cdef void _div_row64(double* out, Py_ssize_t K, double s_hi, double s_lo) noexcept nogil:
    """out = (out * 2**-64) / (s_hi + s_lo) for the E = e * 2**64 of _exp_pass64, each
    rounded once: with FMA fma(E, ih, E * il) * 2**-64, ih + il the inverse of the sum as a
    pair (good to 2**-104; _scale32's form), E * il normal wherever the result needs it;
    without FMA _div_elem's Newton step, the residual by Dekker's product."""
    cdef double ih = 1.0 / s_hi, il
    cdef smx_vf64 vh = smx_setall_f64(ih), down = smx_setall_f64(V64_TWOM64), vl, sh, sl
    cdef smx_vf64 e, e1, q, r
    cdef Py_ssize_t i = 0
    if SMX_HAS_FMA:
        il = (fma(-ih, s_hi, 1.0) - ih * s_lo) * ih
        vl = smx_setall_f64(il)
        while i + 2 * SMX_NF64 <= K:
            e = smx_load_f64(out + i)
            e1 = smx_load_f64(out + i + SMX_NF64)
            smx_store_f64(out + i, smx_mul_f64(smx_muladd_f64(e, vh, smx_mul_f64(e, vl)), down))
            smx_store_f64(out + i + SMX_NF64,
                          smx_mul_f64(smx_muladd_f64(e1, vh, smx_mul_f64(e1, vl)), down))
            i += 2 * SMX_NF64
        while i < K:
            e = smx_load_till_f64(out + i, K - i, 0.0)
            smx_store_till_f64(out + i, K - i,
                               smx_mul_f64(smx_muladd_f64(e, vh, smx_mul_f64(e, vl)), down))
            i += SMX_NF64
        return
    sh = smx_setall_f64(s_hi)
    sl = smx_setall_f64(s_lo)
    while i < K:
        e = smx_load_till_f64(out + i, K - i, 0.0)
        q = smx_mul_f64(e, vh)
        r = smx_nmuladd_f64(q, sl, _resid64(q, sh, e))
        smx_store_till_f64(out + i, K - i, smx_mul_f64(smx_muladd_f64(r, vh, q), down))
        i += SMX_NF64

# ---------------------------------------------------------------- log_softmax, logsumexp
cdef double _log_sum64(double s_hi, double s_lo, double* lo) noexcept nogil:
    """log(s_hi + s_lo) = result + lo[0], for a sum of exps (>= 1): log1p keeps sum - 1
    exact; one Newton step, L + (S - exp(L)) / S, with the exp pair (whose tail holds its
    rounding) recovers the rounding of the log (_log_sum)."""
    cdef double L = log1p((s_hi - 1.0) + s_lo), e, tail
    cdef smx_vf64 u
    cdef Row64 c
    c.m = 0.0
    c.ylo = -750.0
    c.inv = 1.0
    c.inv_lo = 0.0
    c.f2s = False
    e = smx_get_f64(_vexp64(smx_setall_f64(L), smx_zero_f64(), c, False, &u), 0) * V64_TWOM64
    tail = smx_get_f64(u, 0) * V64_TWOM64
    lo[0] = ((s_hi - e) + (s_lo - tail)) / s_hi
    return L

cdef double _lse_value64(double m, double s_hi, double s_lo, Temp t) noexcept nogil:
    """T * logsumexp(x / T) from the shifted sum: sgn * (m + |T| log(sum)) (_lse_value;
    m finite here)."""
    cdef double L, L_lo, p, p_lo, r, bb
    L = _log_sum64(s_hi, s_lo, &L_lo)
    p, p_lo = L, L_lo
    if t.abs_t != 1.0:
        p = t.abs_t * L
        p_lo = _prod_err(t.abs_t, L, p) + t.abs_t * L_lo
    r = m + p                            # m + p with its rounding error (TwoSum)
    bb = r - m
    return t.sgn * (r + (((m - (r - bb)) + (p - bb)) + p_lo))

cdef inline void _log_consts64(double m, double L, double L_lo, bint scaled, smx_vf64* a,
                               smx_vf64* b) noexcept nogil:
    """_log_elem64's constants: scaled, a = -m; else a + b = m + L + L_lo (a = m + L rounded,
    b its error (TwoSum) + L_lo, rounded)."""
    cdef double h, err
    if scaled:
        a[0] = smx_setall_f64(-m)
        b[0] = smx_zero_f64()
        return
    h = _two_sum(m, L, &err)
    a[0] = smx_setall_f64(h)
    b[0] = smx_setall_f64(err + L_lo)

cdef inline smx_vf64 _log_elem64(smx_vf64 y, smx_vf64 a, smx_vf64 b, Row64 c, bint scaled,
                                 smx_vf64 L, smx_vf64 L_lo) noexcept nogil:
    """(y - m)/|T| - (L + L_lo), a and b _log_consts64's. |T| = 1: (y - a) - b, two
    roundings: y - a is exact where it cancels (Sterbenz; y <= m <= a), then |b| <= |result|
    and b's own rounding costs below an ulp at worst; where y - a rounds, b is below an ulp
    of it. scaled: y - m as a TwoSum pair (a = -m), times 1/|T| as a pair, then L + L_lo off
    (_log_elem; no overflow here: the caller checked (m - min) / |T|)."""
    cdef smx_vf64 d, lo
    if not scaled:
        return _sub_m64(smx_sub_f64(y, a), b)
    d = smx_add_f64(y, a)
    lo = _two_sum_lo64m(y, a, d)
    d = _pair_times64(d, lo, smx_setall_f64(c.inv), smx_setall_f64(c.inv_lo), &lo)
    return smx_add_f64(_sub_m64(d, L), _sub_m64(lo, L_lo))

cdef void _log_out64(const double* x, double* out, Py_ssize_t K, Row64 c, TCase k, double L,
                     double L_lo) noexcept nogil:
    cdef bint neg = TCase is Neg1 or TCase is NegT
    cdef bint scaled = TCase is PosT or TCase is NegT
    cdef smx_vf64 va, vb, vL = smx_setall_f64(L), vLl = smx_setall_f64(L_lo)
    cdef Py_ssize_t i = 0
    _log_consts64(c.m, L, L_lo, scaled, &va, &vb)
    while i + 2 * SMX_NF64 <= K:
        smx_store_f64(out + i, _log_elem64(_ld64(x + i, neg), va, vb, c, scaled, vL, vLl))
        smx_store_f64(out + i + SMX_NF64,
                      _log_elem64(_ld64(x + i + SMX_NF64, neg), va, vb, c, scaled, vL, vLl))
        i += 2 * SMX_NF64
    while i < K:
        smx_store_till_f64(out + i, K - i, _log_elem64(_ld_till64(x + i, K - i, 0.0, neg), va,
                                                       vb, c, scaled, vL, vLl))
        i += SMX_NF64

cdef inline int _sum_mode64(double m, double m2, double inv) noexcept nogil:
    """The exp pass of a log_softmax or logsumexp row (_exp_pass64's mode) whose max m stands
    (m - m2) / |T| above the rest (m2 = _second64's): S - 1 >= exp(-(m - m2) / |T|), so below
    LOGSUM_GAP mode 1's compensated sum (good to ~2**-78 of S for K <= SPLIT_MIN) leaves
    S - 1 good to 2**-58; beyond it mode 2, the maxima counted apart (the relative precision
    of a small S - 1)."""
    return 2 if (m - m2) * inv > LOGSUM_GAP else 1

cdef inline void _sum_pair64(int mode, const double* res, double* s_hi,
                             double* s_lo) noexcept nogil:
    """s_hi + s_lo = the sum of a row's exps (>= 1), from res, its mode 1 or 2 pass's."""
    if mode == 2:
        _combine(res[0], res[1], res[2], s_hi, s_lo)
    else:
        s_hi[0] = res[0]
        s_lo[0] = res[1]

cdef inline int _log_softmax64(const double* x, double* out, Py_ssize_t K, Row64 c, TCase k,
                               int mode, const double* nx, Ahead64* ahead, const Pend64* pin,
                               Pend64* pout) noexcept nogil:
    """One row; pin (pin.x not NULL): the previous row's pending output pass, done inside
    this row's exp pass; pout not NULL: this row's output pass left pending (pout.x = x),
    else done here."""
    cdef double r[3]
    cdef double s_hi, s_lo, L, L_lo
    if not _exp_pass64(x, <double*>NULL, K, c, k, mode, nx, r, ahead,
                       pin if pin != NULL and pin.x != NULL else <Pend64*>NULL):
        return 1
    _sum_pair64(mode, r, &s_hi, &s_lo)
    L = _log_sum64(s_hi, s_lo, &L_lo)
    if pout != NULL:
        pout.x = x
        pout.out = out
        pout.nm = -c.m
        pout.L = L
        pout.L_lo = L_lo
    else:
        _log_out64(x, out, K, c, k, L, L_lo)
    return 0

cdef inline int _lse64(const double* x, double* out, Py_ssize_t K, Row64 c, Temp t, TCase k,
                       int mode, const double* nx, Ahead64* ahead) noexcept nogil:
    cdef double r[3]
    cdef double s_hi, s_lo
    if not _exp_pass64(x, <double*>NULL, K, c, k, mode, nx, r, ahead, <Pend64*>NULL):
        return 1
    _sum_pair64(mode, r, &s_hi, &s_lo)
    out[0] = _lse_value64(c.m, s_hi, s_lo, t)
    return 0

cdef inline int _softmax64(const double* x, double* out, Py_ssize_t K, Row64 c, TCase k,
                           const double* nx, Ahead64* ahead) noexcept nogil:
    cdef double r[2]
    if not _exp_pass64(x, out, K, c, k, 0, nx, r, ahead, <Pend64*>NULL):
        return 1
    _div_row64(out, K, r[0], r[1])
    return 0

# ---------------------------------------------------------------- the row kernel
cdef inline void _pend_flush64(const Pend64* p, Py_ssize_t K, Temp t, TCase k) noexcept nogil:
    """The pending output pass p (if any) on its own (_log_out64)."""
    cdef Row64 c
    if p == NULL or p.x == NULL:
        return
    c.m = -p.nm
    c.ylo = c.m
    c.inv = t.inv
    c.inv_lo = t.inv_lo
    c.f2s = False
    _log_out64(p.x, p.out, K, c, k, p.L, p.L_lo)

cdef int _softmax_row64a_case(const double* x, double* out, Py_ssize_t K, Temp t, int op,
                              const Ahead64* cur, const double* nxt, Ahead64* ahead,
                              const Pend64* pin, Pend64* pout, TCase k) noexcept nogil:
    cdef double m, mn = 0, m2 = 0
    cdef const double* nx = nxt if nxt != NULL else x
    cdef Row64 c
    cdef bint special
    ahead.ok = False
    if pout != NULL:
        pout.x = NULL
    if cur != NULL and cur.ok:
        m = cur.m
        mn = cur.mn
        m2 = cur.m2
    else:
        m = _row_max64(x, K, k, &mn, &m2 if op != 0 else <double*>NULL)
    special = not (fabs(m) < INFINITY) or (op == 1 and not ((m - mn) * t.inv < INFINITY))
    if not special:
        c = _row_consts64(m, mn, t)
        special = not (c.ylo < m)
    if special:
        _pend_flush64(pin, K, t, k)
        return 1
    ahead.ok = nxt != NULL
    if op == 1:
        return _log_softmax64(x, out, K, c, k, _sum_mode64(m, m2, t.inv), nx, ahead, pin, pout)
    _pend_flush64(pin, K, t, k)
    if op == 0:
        return _softmax64(x, out, K, c, k, nx, ahead)
    return _lse64(x, out, K, c, t, k, _sum_mode64(m, m2, t.inv), nx, ahead)

cdef int _softmax_row64a(const double* x, double* out, Py_ssize_t K, Temp t, int op,
                         const Ahead64* cur, const double* nxt, Ahead64* ahead,
                         const Pend64* pin, Pend64* pout) noexcept nogil:
    """op 0 softmax, 1 log_softmax, 2 logsumexp (out[0] = the value) of one row. 0: done; 1:
    a special row, which the general kernel must do (out may have been written): a NaN,
    +inf, all -inf, T == 0, 1/|T| overflowing, 746 |T| below half an ulp of the max, and for
    log_softmax a -inf or (max - min) / |T| overflowing. (-inf entries with a finite max are
    exact here for softmax and logsumexp: exp 0.) cur (when not NULL and cur.ok) holds this
    row's max (and min) from the previous row's pass, and when nxt is not NULL the next
    row's (K elements) are computed into ahead (ahead.ok tells whether they were: not when
    the row is left early as special). pin: a pending log_softmax output pass of the
    previous row (K elements), done here in any case; pout (log_softmax, not NULL): this
    row's, left pending (pout.x not NULL) or done."""
    cdef Pos1 p1 = Pos1(0)
    cdef PosT pt = PosT(0)
    cdef Neg1 n1 = Neg1(0)
    cdef NegT nt = NegT(0)
    cdef int case = _tcase(t)
    ahead.ok = False
    if t.hard or not (t.inv < INFINITY):     # (then no row of the block left one pending)
        if pout != NULL:
            pout.x = NULL
        return 1
    if case == 0:
        return _softmax_row64a_case(x, out, K, t, op, cur, nxt, ahead, pin, pout, p1)
    if case == 1:
        return _softmax_row64a_case(x, out, K, t, op, cur, nxt, ahead, pin, pout, pt)
    if case == 2:
        return _softmax_row64a_case(x, out, K, t, op, cur, nxt, ahead, pin, pout, n1)
    return _softmax_row64a_case(x, out, K, t, op, cur, nxt, ahead, pin, pout, nt)

cdef void _vrows64(const double* x, double* out, Py_ssize_t R, Py_ssize_t K, Temp t, int op,
                   char_r ws) noexcept nogil:
    """R rows (VSHORT64_MAX_K < K < SPLIT_MIN; any K > 1 works) of softmax (op 0), log_softmax (1),
    logsumexp (2: out[r] per row), each row's max (and min) taken during the previous row's exp
    pass (_softmax_row64a; the same max as _row_max64's: the same bits in any block);
    log_softmax rows with their output pass inside the next row's exp pass (the same bits); a
    special row the general kernels'. Scratch: WS_ROW."""
    cdef Ahead64 cur, nxt
    cdef Pend64 pin, pout
    cdef Py_ssize_t r
    cur.ok = False
    pin.x = NULL
    nxt.end = x + R * K
    for r in range(R):
        if _softmax_row64a(x + r * K, out + (r if op == 2 else r * K), K, t, op, &cur,
                           x + (r + 1) * K if r + 1 < R else <double*>NULL, &nxt, &pin,
                           &pout) != 0:
            if op == 2:
                _lse_row(x + r * K, out + r, K, t, ws)
            else:
                _softmax_row(x + r * K, out + r * K, K, t, op == 1, ws)
        cur = nxt
        pin = pout
    _pend_done64(&pin, K, t)

cdef void _pend_done64(const Pend64* p, Py_ssize_t K, Temp t) noexcept nogil:
    """_pend_flush64 of the case of T."""
    cdef Pos1 p1 = Pos1(0)
    cdef PosT pt = PosT(0)
    cdef Neg1 n1 = Neg1(0)
    cdef NegT nt = NegT(0)
    cdef int case = _tcase(t)
    if p.x == NULL:
        return
    if case == 0:
        _pend_flush64(p, K, t, p1)
    elif case == 1:
        _pend_flush64(p, K, t, pt)
    elif case == 2:
        _pend_flush64(p, K, t, n1)
    else:
        _pend_flush64(p, K, t, nt)

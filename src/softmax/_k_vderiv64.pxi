# float64 Jacobian products on vectors: the JVPs of softmax and log_softmax and the VJPs from
# the saved y; rows (any K) and columns. Part of the per-ISA kernel source (included by
# _kernels.pyx).
#
# Numerics (those of the general kernels, _k_derivatives.pxi, vectorised): the JVP's exps by
# _vexp64x2 (x - m exact, every exp with its tail), times 2**64 (a subnormal exp keeps its
# bits) and saved in out for the output pass; the sum of exps compensated (anchored Fast2Sum,
# the tails added), the dot with v compensated (TwoSum, the products' exact errors, the
# tails' products); mu = dot / sum as a pair; every output element from pairs rounded once:
# e * F * (v - mu) with F = (1/T) / sum a double-double, (v - mu) * (1/T) (log_softmax),
# y (g - c) (1/T) with c = sum(y g) compensated, (g - exp(y) c) (1/T) with exp(y)'s tail.
# A special slice (NaN, +-inf, T == 0, a 1/T or a sum far from 1 that the pairs cannot carry,
# a log-softmax y above 0) goes to the general kernel, untouched.

cdef inline smx_vf64 _ldt64(const double* p, Py_ssize_t n, double fill) noexcept nogil:
    """The values at p, lanes i >= n (n < SMX_NF64) fill."""
    if n >= SMX_NF64:
        return smx_load_f64(p)
    return smx_load_till_f64(p, n, fill)

cdef inline smx_vf64 _ldtk64(const double* p, Py_ssize_t n, double fill) noexcept nogil:
    """_ldt64, a full vector held in a register (smx_load_keep_f64)."""
    if n >= SMX_NF64:
        return smx_load_keep_f64(p)
    return smx_load_till_f64(p, n, fill)

cdef inline void _stt64(double* p, Py_ssize_t n, smx_vf64 v) noexcept nogil:
    if n >= SMX_NF64:
        smx_store_f64(p, v)
    else:
        smx_store_till_f64(p, n, v)

cdef inline smx_vf64 _fin64(smx_vf64 p, smx_vf64 r, smx_vf64 f, smx_vf64 fl, bint neg,
                            bint scaled) noexcept nogil:
    """(p + r) (f + fl) rounded once (nearly) (_fin_times); p + r when T == 1, -(p + r) when
    T == -1; p f where that is not finite (the corrections are NaN there)."""
    cdef smx_vf64 q, res
    if not scaled:
        res = smx_add_f64(p, r)
        res = smx_neg_f64(res) if neg else res
        return smx_select_f64(smx_cmplt_f64(smx_abs_f64(p), smx_setall_f64(INFINITY)), res,
                              smx_neg_f64(p) if neg else p)
    q = smx_mul_f64(p, f)
    res = smx_add_f64(q, smx_muladd_f64(r, f, smx_muladd_f64(p, fl, _two_prod_lo64(p, f, q))))
    return smx_select_f64(smx_cmplt_f64(smx_abs_f64(q), smx_setall_f64(INFINITY)), res, q)

cdef inline void _acc_prod64(smx_vf64* s, smx_vf64* c, smx_vf64 a, smx_vf64 b) noexcept nogil:
    """(s, c) += a * b, compensated (TwoSum, the product's exact error)."""
    cdef smx_vf64 p = smx_mul_f64(a, b)
    cdef smx_vf64 t = smx_add_f64(s[0], p)
    c[0] = smx_add_f64(c[0], smx_add_f64(_two_sum_lo64(s[0], p, t), _two_prod_lo64(a, b, p)))
    s[0] = t

cdef inline void _fold64(smx_vf64 s0, smx_vf64 c0, smx_vf64 s1, smx_vf64 c1, double* hi,
                         double* lo) noexcept nogil:
    """hi + lo = the total of two compensated accumulators, normalised (|lo| <= ulp(hi)/2):
    the lanes halved pairwise with TwoSum (_fold_lanes64 of the prototype)."""
    cdef smx_vf64 t = smx_add_f64(s0, s1)
    cdef double a[8]
    cdef double l[8]
    cdef double h, v, u, bb
    cdef Py_ssize_t w = SMX_NF64 // 2, j
    c0 = smx_add_f64(smx_add_f64(c0, c1), _two_sum_lo64(s0, s1, t))
    smx_store_f64(a, t)
    for j in range(SMX_NF64):
        l[j] = 0
    while w >= 1:
        for j in range(w):
            v = a[j + w]
            u = a[j] + v
            bb = u - a[j]
            l[j] = (l[j] + l[j + w]) + ((a[j] - (u - bb)) + (v - bb))
            a[j] = u
        w = w // 2
    h = a[0]
    if not (fabs(h) < INFINITY):    # an inf (its TwoSum errors are NaN) or a NaN term
        hi[0] = h
        lo[0] = 0.0
        return
    v = l[0] + smx_reduce_add_f64(c0)
    u = h + v
    lo[0] = (h - u) + v if fabs(u) < INFINITY else 0.0
    hi[0] = u

# ---------------------------------------------------------------- JVP rows
cdef bint _jvp_max64(const double* x, const double* v, Py_ssize_t K, TCase k, double* m,
                     double* c, double* mn) noexcept nogil:
    """m[0] = the max of y = sgn * x (NaN ignored), c[0] = the v of an element at it, mn[0]
    the min of y (for _row_consts64's f2s); True when every x is finite."""
    cdef bint neg = TCase is Neg1 or TCase is NegT
    cdef smx_vf64 z = smx_zero_f64(), lo = smx_setall_f64(-INFINITY), y
    cdef smx_vf64 a0 = lo, b0 = z, f0 = z, n0 = smx_setall_f64(INFINITY)
    cdef smx_mf64 g
    cdef Py_ssize_t i = 0
    while i < K:
        y = _ldt64(x + i, K - i, 0.0)
        f0 = smx_muladd_f64(y, z, f0)
        if K - i < SMX_NF64:
            y = smx_select_f64(smx_till_f64(K - i), y, smx_setall_f64(INFINITY if neg else -INFINITY))
        y = smx_neg_f64(y) if neg else y
        g = smx_cmpgt_f64(y, a0)
        a0 = smx_select_f64(g, y, a0)
        b0 = smx_select_f64(g, _ldt64(v + i, K - i, 0.0), b0)
        if K - i < SMX_NF64:                   # (the fill -inf as y: no min)
            y = smx_select_f64(smx_till_f64(K - i), y, smx_setall_f64(INFINITY))
        n0 = smx_min_f64(y, n0)
        i += SMX_NF64
    m[0] = smx_reduce_max_f64(a0)
    mn[0] = smx_reduce_min_f64(n0)
    c[0] = smx_reduce_max_f64(smx_select_f64(smx_cmpeq_f64(a0, smx_setall_f64(m[0])), b0, lo))
    return not smx_any_mf64(smx_cmpneq_f64(f0, f0))

cdef bint _jvp_exp64(const double* x, const double* v, double* out, Py_ssize_t K, Row64 rc,
                     double c, const double* px, const double* pv, TCase k,
                     double* res) noexcept nogil:
    """The exp pass: out = E = exp((y - m)/|T|) * 2**64 (_vexp64x2); res[0] + res[1] = the
    sum of the E and their tails (anchored Fast2Sum: the lanes start at 2**64), res[2] +
    res[3] = the sum of (E + tail) (v - c) (TwoSum, exact products). False when not finite.
    px, pv (K elements each, when px is not NULL: the next row) prefetched on the way."""
    cdef bint neg = TCase is Neg1 or TCase is NegT
    cdef bint scaled = TCase is PosT or TCase is NegT
    cdef smx_vf64 nm = smx_setall_f64(-rc.m), ylo = smx_setall_f64(rc.ylo), cv = smx_setall_f64(c)
    cdef smx_vf64 top = smx_setall_f64(V64_TWO64), z = smx_zero_f64()
    cdef smx_vf64 s0 = top, s1 = top, c0 = z, c1 = z, d0 = z, d1 = z, e0 = z, e1 = z, ts = z
    cdef smx_vf64 y0, y1, w0, w1
    cdef smx_vf64 e[2]
    cdef smx_vf64 tl[2]
    cdef Py_ssize_t i = 0, n
    cdef double fill = INFINITY if neg else -INFINITY
    while i < K:
        n = K - i
        if n >= 2 * SMX_NF64:
            y0 = _ld64(x + i, neg)
            y1 = _ld64(x + i + SMX_NF64, neg)
            w0 = smx_load_f64(v + i)
            w1 = smx_load_f64(v + i + SMX_NF64)
        else:          # the fill (-inf as y) is clamped to ylo: exp 0
            y0 = smx_load_till_f64(x + i, n, fill)
            y1 = smx_load_till_f64(x + i + SMX_NF64, n - SMX_NF64, fill)
            y0 = smx_neg_f64(y0) if neg else y0
            y1 = smx_neg_f64(y1) if neg else y1
            w0 = smx_load_till_f64(v + i, n, c)
            w1 = smx_load_till_f64(v + i + SMX_NF64, n - SMX_NF64, c)
        if px != NULL and n >= 2 * SMX_NF64:
            smx_prefetch(px + i)
            smx_prefetch(px + i + SMX_NF64)
            smx_prefetch(pv + i)
            smx_prefetch(pv + i + SMX_NF64)
        _vexp64x2(smx_max_f64(ylo, y0), smx_max_f64(ylo, y1), nm, rc, scaled, e, tl)
        e[0] = smx_select_f64(smx_cmplt_f64(y0, ylo), z, e[0])   # exp 0 below ylo (-inf)
        e[1] = smx_select_f64(smx_cmplt_f64(y1, ylo), z, e[1])
        if n >= 2 * SMX_NF64:
            smx_store_f64(out + i, e[0])
            smx_store_f64(out + i + SMX_NF64, e[1])
        else:
            smx_store_till_f64(out + i, n, e[0])
            smx_store_till_f64(out + i + SMX_NF64, n - SMX_NF64, e[1])
        _fast_acc64(&s0, &c0, e[0])
        _fast_acc64(&s1, &c1, e[1])
        ts = smx_add_f64(ts, smx_add_f64(tl[0], tl[1]))
        w0 = smx_sub_f64(w0, cv)
        w1 = smx_sub_f64(w1, cv)
        _acc_prod64(&d0, &e0, e[0], w0)
        _acc_prod64(&d1, &e1, e[1], w1)
        e0 = smx_muladd_f64(tl[0], w0, e0)
        e1 = smx_muladd_f64(tl[1], w1, e1)
        i += 2 * SMX_NF64
    _fold64(smx_sub_f64(s0, top), smx_add_f64(c0, ts), smx_sub_f64(s1, top), c1, &res[0], &res[1])
    _fold64(d0, e0, d1, e1, &res[2], &res[3])
    return fabs(res[0]) < INFINITY and fabs(res[2]) < INFINITY and res[3] == res[3]

cdef void _jvp_out64(const double* v, double* out, Py_ssize_t K, double M, double Ml,
                     double Fh, double Fl, Temp t, bint log_out, TCase k) noexcept nogil:
    """softmax: out = E F (v - mu), F = Fh + Fl = (1/T) / sum(E), computed times 2**64 and
    scaled back once at the end (Dekker's products, without FMA, would underflow below the
    smallest normal where the result is just above it); log_softmax:
    out = (v - mu) / T; v - mu as a pair, mu = M + Ml, every product as a pair, rounded
    once."""
    cdef bint neg = TCase is Neg1 or TCase is NegT
    cdef bint scaled = TCase is PosT or TCase is NegT
    cdef smx_vf64 nmu = smx_setall_f64(-M), mul = smx_setall_f64(Ml)
    cdef smx_vf64 vF = smx_setall_f64(Fh * V64_TWO64), vFl = smx_setall_f64(Fl * V64_TWO64)
    cdef smx_vf64 down = smx_setall_f64(V64_TWOM64)
    cdef smx_vf64 f = smx_setall_f64(t.inv_signed), fl = smx_setall_f64(t.inv_signed_lo)
    cdef smx_vf64 w, a, al, E, P, Pl, p
    cdef Py_ssize_t i = 0, n
    while i < K:
        n = K - i
        w = _ldt64(v + i, n, 0.0)
        a = smx_add_f64(w, nmu)
        al = smx_sub_f64(_two_sum_lo64(w, nmu, a), mul)
        if log_out:
            _stt64(out + i, n, _fin64(a, al, f, fl, neg, scaled))
        else:
            E = _ldt64(out + i, n, 0.0)
            P = smx_mul_f64(E, vF)
            Pl = smx_muladd_f64(E, vFl, _two_prod_lo64(E, vF, P))
            p = smx_mul_f64(P, a)         # (times 2**64: no product of the pair arithmetic
            _stt64(out + i, n, smx_mul_f64(_fin64(    # underflows where the result is normal)
                p, smx_add_f64(_two_prod_lo64(P, a, p), smx_muladd_f64(P, al, smx_mul_f64(Pl, a))),
                f, fl, False, False), down))
        i += SMX_NF64

cdef int _vjvp_row64_case(const double* x, const double* v, double* out, Py_ssize_t K, Temp t,
                          bint log_out, const double* px, const double* pv,
                          TCase k) noexcept nogil:
    """One JVP row (px, pv: the next row to prefetch, or NULL): 0 when done, 1 for a special
    row (the general kernel's; out may have been written)."""
    cdef double res[4]
    cdef double m, c, mn, q, mu, mu_lo, Fh, Fl, M, Ml, bb, f = t.inv_signed
    cdef Row64 rc
    if t.hard or not (t.inv < INFINITY) or not (1e-250 < fabs(f) < 1e250):
        return 1
    if not _jvp_max64(x, v, K, k, &m, &c, &mn) or not (fabs(m) < INFINITY):
        return 1
    c = c if fabs(c) < INFINITY else 0.0
    rc = _row_consts64(m, mn, t)
    if not (rc.ylo < m):
        return 1
    _jvp_exp64(x, v, out, K, rc, c, px, pv, k, res)   # out written: no way back (out may be x)
    q = 1.0 / res[0]
    mu = _mean_pair(res[2], res[3], res[0], res[1], q, &mu_lo)   # mean of v - c
    M = c + mu                                # c + mu + mu_lo as M + Ml (TwoSum)
    bb = M - c
    Ml = _lo_ok(M, ((c - (M - bb)) + (mu - bb)) + mu_lo)
    Fh = f * q                                # (f + f_lo) / (s_hi + s_lo) as a pair
    Fl = ((fma(-Fh, res[0], f) + t.inv_signed_lo) - Fh * res[1]) * q
    _jvp_out64(v, out, K, M, Ml, Fh, Fl, t, log_out, k)
    return 0

cdef void _vjvp_rows64_case(const double* x, const double* v, double* out, Py_ssize_t R,
                            Py_ssize_t K, Temp t, bint log_out, char_r ws,
                            TCase k) noexcept nogil:
    cdef Py_ssize_t r, nr
    for r in range(R):
        nr = r + 1 if r + 1 < R and K <= JVP64_PF_MAX_K else -1     # the row prefetched
        if _vjvp_row64_case(x + r * K, v + r * K, out + r * K, K, t, log_out,
                            x + nr * K if nr >= 0 else <double*>NULL,
                            v + nr * K if nr >= 0 else <double*>NULL, k) != 0:
            _jvp_row(x + r * K, v + r * K, out + r * K, K, t, log_out, ws)

cdef void _vjvp_rows64(const double* x, const double* v, double* out, Py_ssize_t R,
                       Py_ssize_t K, Temp t, bint log_out, char_r ws) noexcept nogil:
    """R float64 JVP rows, one by one (_vjvp_row64_case: the same bits as one row a work
    item), each row's exp pass prefetching the next row for its max pass (rows up to
    JVP64_PF_MAX_K); a special row the general kernel's (_jvp_row). Scratch: WS_ROW."""
    cdef Pos1 p1 = Pos1(0)
    cdef PosT pt = PosT(0)
    cdef Neg1 n1 = Neg1(0)
    cdef NegT nt = NegT(0)
    cdef int case = _tcase(t)
    if case == 0:
        _vjvp_rows64_case(x, v, out, R, K, t, log_out, ws, p1)
    elif case == 1:
        _vjvp_rows64_case(x, v, out, R, K, t, log_out, ws, pt)
    elif case == 2:
        _vjvp_rows64_case(x, v, out, R, K, t, log_out, ws, n1)
    else:
        _vjvp_rows64_case(x, v, out, R, K, t, log_out, ws, nt)

# ---------------------------------------------------------------- VJP rows
cdef bint _vjp_sum64(const double* y, const double* g, Py_ssize_t K, bint log_out, TCase k,
                     double* res) noexcept nogil:
    """res[0] + res[1] = sum(y g) (softmax; exact products) or sum(g) (log_softmax),
    compensated; False when not finite, or a log-softmax y is above 0 or NaN."""
    cdef smx_vf64 z = smx_zero_f64(), s0 = z, s1 = z, c0 = z, c1 = z, a, b, a2, b2, t
    cdef smx_mf64 bad = smx_cmpneq_f64(z, z)
    cdef Py_ssize_t i = 0
    while i < K:
        a = _ldtk64(y + i, K - i, 0.0)
        b = _ldtk64(g + i, K - i, 0.0)
        a2 = _ldtk64(y + i + SMX_NF64, K - i - SMX_NF64, 0.0)
        b2 = _ldtk64(g + i + SMX_NF64, K - i - SMX_NF64, 0.0)
        if log_out:
            bad = smx_or_mf64(bad, smx_or_mf64(smx_not_mf64(smx_cmple_f64(a, z)),
                                               smx_not_mf64(smx_cmple_f64(a2, z))))
            t = smx_add_f64(s0, b)
            c0 = smx_add_f64(c0, _two_sum_lo64(s0, b, t))
            s0 = t
            t = smx_add_f64(s1, b2)
            c1 = smx_add_f64(c1, _two_sum_lo64(s1, b2, t))
            s1 = t
        else:
            _acc_prod64(&s0, &c0, a, b)
            _acc_prod64(&s1, &c1, a2, b2)
        i += 2 * SMX_NF64
    _fold64(s0, c0, s1, c1, &res[0], &res[1])
    return fabs(res[0]) < INFINITY and res[1] == res[1] and not smx_any_mf64(bad)

cdef void _vjp_out64(const double* y, const double* g, double* out, Py_ssize_t K, double ch,
                     double cl, Temp t, bint log_out, TCase k) noexcept nogil:
    """softmax: out = y (g - c) / T; log_softmax: out = (g - exp(y) c) / T, exp(y) with its
    tail (_vexp64x2 of y - 0); pairs throughout, rounded once."""
    cdef bint neg = TCase is Neg1 or TCase is NegT
    cdef bint scaled = TCase is PosT or TCase is NegT
    cdef smx_vf64 nc = smx_setall_f64(-ch), vcl = smx_setall_f64(cl), vch = smx_setall_f64(ch)
    cdef smx_vf64 f = smx_setall_f64(t.inv_signed), fl = smx_setall_f64(t.inv_signed_lo)
    cdef smx_vf64 down = smx_setall_f64(V64_TWOM64), ylo = smx_setall_f64(-746.0), z = smx_zero_f64()
    cdef smx_vf64 a, b, a2, b2, d, dl, p, pe
    cdef smx_vf64 e[2]
    cdef smx_vf64 tl[2]
    cdef Row64 rc
    cdef Py_ssize_t i = 0, n, j
    rc.m = 0.0
    rc.ylo = -746.0
    rc.inv = 1.0
    rc.inv_lo = 0.0
    rc.f2s = False
    while i < K:
        n = K - i
        a = _ldt64(y + i, n, 0.0)
        b = _ldt64(g + i, n, 0.0)
        if log_out:
            a2 = _ldt64(y + i + SMX_NF64, n - SMX_NF64, 0.0)
            b2 = _ldt64(g + i + SMX_NF64, n - SMX_NF64, 0.0)
            _vexp64x2(smx_max_f64(ylo, a), smx_max_f64(ylo, a2), z, rc, False, e, tl)
            for j in range(2):
                p = smx_mul_f64(smx_mul_f64(e[j], down), vch)       # exp(y) c as p + pe
                pe = smx_muladd_f64(smx_mul_f64(tl[j], down), vch,
                                    smx_muladd_f64(smx_mul_f64(e[j], down), vcl,
                                                   _two_prod_lo64(smx_mul_f64(e[j], down), vch, p)))
                d = smx_sub_f64(b if j == 0 else b2, p)
                dl = smx_sub_f64(_two_sum_lo64(b if j == 0 else b2, smx_neg_f64(p), d), pe)
                _stt64(out + i + j * SMX_NF64, n - j * SMX_NF64, _fin64(d, dl, f, fl, neg, scaled))
            i += 2 * SMX_NF64
            continue
        _stt64(out + i, n, _vjp_vec64(a, b, nc, vcl, f, fl, neg, scaled))
        i += SMX_NF64

cdef inline smx_vf64 _vjp_vec64(smx_vf64 a, smx_vf64 b, smx_vf64 nc, smx_vf64 vcl, smx_vf64 f,
                                smx_vf64 fl, bint neg, bint scaled) noexcept nogil:
    """One vector of the softmax VJP's output: y (g - c) / T (a = y, b = g, nc = -c_hi, vcl =
    c_lo); g - c as a pair d + dl (TwoSum). |T| = 1 with FMA: fma(y, d, y dl), negated for
    T = -1 (as the float32 VJP's fma(y, a, y al)): one rounding of the result and one of the
    tiny y dl, 5 operations fewer than the pair product and _fin64's check. Otherwise the
    pairs (Dekker's exact product without FMA) times 1/T, rounded once."""
    cdef smx_vf64 d = smx_add_f64(b, nc)
    cdef smx_vf64 dl = smx_sub_f64(_two_sum_lo64m(b, nc, d), vcl)
    cdef smx_vf64 p
    if SMX_HAS_FMA and not scaled:
        p = smx_muladd_f64(a, d, smx_mul_f64(a, dl))
        return smx_neg_f64(p) if neg else p
    p = smx_mul_f64(a, d)
    return _fin64(p, smx_muladd_f64(a, dl, _two_prod_lo64(a, d, p)), f, fl, neg, scaled)

cdef int _vvjp_row64_case(const double* y, const double* g, double* out, Py_ssize_t K, Temp t,
                          bint log_out, TCase k) noexcept nogil:
    cdef double res[2]
    if not _vjp_sum64(y, g, K, log_out, k, res):
        return 1
    _vjp_out64(y, g, out, K, res[0], res[1], t, log_out, k)
    return 0

cdef bint _vjp_out_sum64(const double* y, const double* g, double* out, Py_ssize_t K,
                         double ch, double cl, Temp t, const double* ny, const double* ng,
                         Py_ssize_t npf, double* nres, TCase k) noexcept nogil:
    """The softmax VJP's output pass of a row (_vjp_out64's) and, in the same loop, the sum
    pass of the next row ny, ng (_vjp_sum64's accumulators in its order: the same nres, the
    same return): the next row's loads from memory beside this row's arithmetic. The
    elements PF64_AHEAD past those loads (_exp_pass64's distance) prefetched while i < npf."""
    cdef Py_ssize_t pa = K if K < PF64_AHEAD else PF64_AHEAD
    cdef const double* py = ny + pa
    cdef const double* pg = ng + pa
    cdef bint neg = TCase is Neg1 or TCase is NegT
    cdef bint scaled = TCase is PosT or TCase is NegT
    cdef smx_vf64 nc = smx_setall_f64(-ch), vcl = smx_setall_f64(cl)
    cdef smx_vf64 f = smx_setall_f64(t.inv_signed), fl = smx_setall_f64(t.inv_signed_lo)
    cdef smx_vf64 z = smx_zero_f64(), s0 = z, s1 = z, c0 = z, c1 = z
    cdef Py_ssize_t i = 0, n
    while i < K:
        n = K - i
        _stt64(out + i, n, _vjp_vec64(_ldtk64(y + i, n, 0.0), _ldtk64(g + i, n, 0.0), nc, vcl,
                                      f, fl, neg, scaled))
        if n > SMX_NF64:
            _stt64(out + i + SMX_NF64, n - SMX_NF64,
                   _vjp_vec64(_ldtk64(y + i + SMX_NF64, n - SMX_NF64, 0.0),
                              _ldtk64(g + i + SMX_NF64, n - SMX_NF64, 0.0), nc, vcl, f, fl,
                              neg, scaled))
        if i < npf:
            smx_prefetch(py + i)
            smx_prefetch(py + i + SMX_NF64)
            smx_prefetch(pg + i)
            smx_prefetch(pg + i + SMX_NF64)
        _acc_prod64(&s0, &c0, _ldtk64(ny + i, n, 0.0), _ldtk64(ng + i, n, 0.0))
        _acc_prod64(&s1, &c1, _ldtk64(ny + i + SMX_NF64, n - SMX_NF64, 0.0),
                    _ldtk64(ng + i + SMX_NF64, n - SMX_NF64, 0.0))
        i += 2 * SMX_NF64
    _fold64(s0, c0, s1, c1, &nres[0], &nres[1])
    return fabs(nres[0]) < INFINITY and nres[1] == nres[1]

cdef void _vvjp_rows64_case(const double* y, const double* g, double* out, Py_ssize_t R,
                            Py_ssize_t K, Temp t, char_r ws, TCase k) noexcept nogil:
    """R rows of the float64 softmax VJP: up to VJP_FUSE_MAX_K each row's output pass takes
    the next row's sum pass in its loop (_vjp_out_sum64), longer rows their two passes one
    after the other (the second from L1); a special row the general kernel."""
    cdef double cur[2]
    cdef double nxt[2]
    cdef bint ok, ok_n = False
    cdef Py_ssize_t r, o
    cdef Py_ssize_t pa = K if K < PF64_AHEAD else PF64_AHEAD
    ok = _vjp_sum64(y, g, K, False, k, cur)
    for r in range(R):
        o = r * K
        if ok and r + 1 < R and K <= VJP_FUSE_MAX_K:
            ok_n = _vjp_out_sum64(y + o, g + o, out + o, K, cur[0], cur[1], t, y + o + K,
                                  g + o + K, (R - r - 1) * K - pa - 2 * SMX_NF64, nxt, k)
        else:
            if ok:
                _vjp_out64(y + o, g + o, out + o, K, cur[0], cur[1], t, False, k)
            else:
                _vjp_row(y + o, g + o, out + o, K, t, False, ws)
            if r + 1 < R:
                ok_n = _vjp_sum64(y + o + K, g + o + K, K, False, k, nxt)
        ok = ok_n
        cur[0] = nxt[0]
        cur[1] = nxt[1]

cdef void _vvjp_rows64(const double* y, const double* g, double* out, Py_ssize_t R,
                       Py_ssize_t K, Temp t, char_r ws) noexcept nogil:
    """R rows of the float64 softmax VJP (_vvjp_rows64_case: up to VJP_FUSE_MAX_K each row's
    output pass with the next row's sum pass; a row's bits: _vvjp_row64_case's); a special
    row the general kernel's (_vjp_row). Scratch: WS_ROW."""
    cdef Pos1 p1 = Pos1(0)
    cdef PosT pt = PosT(0)
    cdef Neg1 n1 = Neg1(0)
    cdef NegT nt = NegT(0)
    cdef int case = _tcase(t)
    if case == 0:
        _vvjp_rows64_case(y, g, out, R, K, t, ws, p1)
    elif case == 1:
        _vvjp_rows64_case(y, g, out, R, K, t, ws, pt)
    elif case == 2:
        _vvjp_rows64_case(y, g, out, R, K, t, ws, n1)
    else:
        _vvjp_rows64_case(y, g, out, R, K, t, ws, nt)

cdef int _vderiv_row64(Op op, const double* x, const double* v, double* out, Py_ssize_t K,
                       Temp t) noexcept nogil:
    """One float64 row of a JVP or VJP: 0 when done, 1 for a special row (the general
    kernel's; out may have been written, x and v are untouched)."""
    cdef Pos1 p1
    cdef PosT pt
    cdef Neg1 n1
    cdef NegT nt
    cdef int case = _tcase(t)
    cdef bint log_out = op == OP_LOG_JVP or op == OP_LOG_VJP
    if op == OP_JVP or op == OP_LOG_JVP:
        if case == 0:
            return _vjvp_row64_case(x, v, out, K, t, log_out, NULL, NULL, p1)
        if case == 1:
            return _vjvp_row64_case(x, v, out, K, t, log_out, NULL, NULL, pt)
        if case == 2:
            return _vjvp_row64_case(x, v, out, K, t, log_out, NULL, NULL, n1)
        return _vjvp_row64_case(x, v, out, K, t, log_out, NULL, NULL, nt)
    if case == 0:
        return _vvjp_row64_case(x, v, out, K, t, log_out, p1)
    if case == 1:
        return _vvjp_row64_case(x, v, out, K, t, log_out, pt)
    if case == 2:
        return _vvjp_row64_case(x, v, out, K, t, log_out, n1)
    return _vvjp_row64_case(x, v, out, K, t, log_out, nt)

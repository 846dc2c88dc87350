# The float64 vector exp (with each element's tail), the pair arithmetic on float64 vectors and
# the float64 row constants. Part of the per-ISA kernel source (included by _kernels.pyx).

cdef extern from *:
    """
    static const double V64_SHIFTX = 6755399441056831.0;  /* 1.5 * 2**52 + 1087: (t << 52) holds 2**(n + 64) */
    static const double V64_TWOM64 = 5.421010862427522e-20;  /* 2**-64 */
    static const double V64_TWO64 = 18446744073709551616.0;  /* 2**64 */
    static const double V64_SPLIT = 134217729.0;             /* 2**27 + 1: Dekker's split */
    /* exp(r) = 1 + r + r^2 Q(r), |r| <= 0.3467: Q of degree 9 (as _exp2k's QD0..QD9), its
       coefficients a minimax fit of the relative error of exp (weighted Remez in mpmath,
       rounded to double one coefficient at a time, the others refitted): 0.081 * 2**-53
       at most, where QD0..QD9 reach 0.162 * 2**-53 (at r = -ln2/2). With QD the
       logsumexp of two entries reached 1.83 ulp where the result cancels (the Newton step
       of _log_sum64 and the sum both carry the polynomial's error): 1.50 with QV. */
    static const double QV0 = 0.5000000000000011;
    static const double QV1 = 0.16666666666666435;
    static const double QV2 = 0.041666666666525735;
    static const double QV3 = 0.008333333333475685;
    static const double QV4 = 0.0013888888944890725;
    static const double QV5 = 0.00019841269556059049;
    static const double QV6 = 2.4801491690646587e-05;
    static const double QV7 = 2.7557535188045014e-06;
    static const double QV8 = 2.7630764843310426e-07;
    static const double QV9 = 2.5017692273410708e-08;
        """
    const double V64_SHIFTX
    const double V64_TWOM64
    const double V64_TWO64
    const double V64_SPLIT
    const double QV0
    const double QV1
    const double QV2
    const double QV3
    const double QV4
    const double QV5
    const double QV6
    const double QV7
    const double QV8
    const double QV9

ctypedef struct Row64:      # per-row constants of the float64 vector kernels
    double m         # max of y = sgn * x
    double ylo       # y is clamped to [ylo, m]: (ylo - m) / |T| in [-752, -745.2], exp 0 there
    double inv       # 1/|T| as a pair (Temp's inv, inv_lo)
    double inv_lo
    bint f2s         # m a multiple of ulp(max |y|): y - m exact by Fast2Sum (else TwoSum)

# The next row's max (and min), computed during this row's exp pass: its loads then overlap
# that pass's arithmetic instead of stalling a max pass of their own (15% of a softmax of
# rows that come from memory).
ctypedef struct Ahead64:
    double m         # max of the next row's y = sgn * x (NaN ignored)
    double mn        # its min
    double m2        # (modes 1, 2) a second largest y: the largest but for one lane's max
    bint ok          # computed
    const double* end  # in: the end of the rows; the pass prefetches below it (NULL: none)

# A log_softmax row whose output pass runs inside the next row's exp pass (_vrows64): its
# stores then overlap that pass's arithmetic instead of streaming out on their own.
ctypedef struct Pend64:
    const double* x  # the row (NULL: nothing pending)
    double* out
    double nm        # -max of its y
    double L         # its log(sum) as a pair (_log_sum64)
    double L_lo

# ---------------------------------------------------------------- pair arithmetic (f64)
cdef inline smx_vf64 _two_sum_lo64(smx_vf64 a, smx_vf64 b, smx_vf64 s) noexcept nogil:
    """a + b - s exactly, for s = fl(a + b) (TwoSum)."""
    cdef smx_vf64 bb = smx_sub_f64(s, a)
    return smx_add_f64(smx_sub_f64(a, smx_sub_f64(s, bb)), smx_sub_f64(b, bb))

cdef inline smx_vf64 _fast_two_sum_lo64(smx_vf64 a, smx_vf64 b, smx_vf64 s) noexcept nogil:
    """a + b - s exactly, for s = fl(a + b) and |a| >= |b| (Fast2Sum)."""
    return smx_sub_f64(b, smx_sub_f64(s, a))

cdef inline smx_vf64 _sub_m64(smx_vf64 a, smx_vf64 b) noexcept nogil:
    """a - b as a - 1 * b: the same rounding, issued to the multiply pipe (the add pipe is
    the busier one in these loops)."""
    return smx_nmuladd_f64(smx_setall_f64(1.0), b, a)

cdef inline smx_vf64 _two_sum_lo64m(smx_vf64 a, smx_vf64 b, smx_vf64 s) noexcept nogil:
    """_two_sum_lo64 with two of its subtractions on the multiply pipe (_sub_m64)."""
    cdef smx_vf64 bb = _sub_m64(s, a)
    return smx_add_f64(smx_sub_f64(a, smx_sub_f64(s, bb)), _sub_m64(b, bb))

cdef inline smx_vf64 _fast_two_sum_lo64m(smx_vf64 a, smx_vf64 b, smx_vf64 s) noexcept nogil:
    """_fast_two_sum_lo64 with s - a on the multiply pipe (_sub_m64)."""
    return smx_sub_f64(b, _sub_m64(s, a))

cdef inline smx_vf64 _two_prod_lo64(smx_vf64 a, smx_vf64 b, smx_vf64 p) noexcept nogil:
    """a * b - p exactly, for p = fl(a * b) (FMA; Dekker's split without it). Without FMA,
    where a split overflows (|a| or |b| above ~1.3e300) the low part is not finite and 0 is
    returned instead: next to such a p it is below half an ulp (as FMA's, where p is finite)."""
    cdef smx_vf64 c, ah, al, bh, bl, k, r
    if SMX_HAS_FMA:
        return smx_mulsub_f64(a, b, p)
    k = smx_setall_f64(V64_SPLIT)
    c = smx_mul_f64(k, a)
    ah = smx_sub_f64(c, smx_sub_f64(c, a))
    al = smx_sub_f64(a, ah)
    c = smx_mul_f64(k, b)
    bh = smx_sub_f64(c, smx_sub_f64(c, b))
    bl = smx_sub_f64(b, bh)
    r = smx_add_f64(smx_add_f64(smx_add_f64(smx_sub_f64(smx_mul_f64(ah, bh), p),
                                            smx_mul_f64(ah, bl)), smx_mul_f64(al, bh)),
                    smx_mul_f64(al, bl))
    return smx_select_f64(smx_cmplt_f64(smx_abs_f64(r), smx_setall_f64(INFINITY)), r,
                          smx_zero_f64())

cdef inline smx_vf64 _resid64(smx_vf64 q, smx_vf64 s, smx_vf64 e) noexcept nogil:
    """e - q*s rounded once, for q*s close to e (a division's residual): one FMA, else
    Dekker's exact product, whose difference from e is then exact (Sterbenz)."""
    cdef smx_vf64 p
    if SMX_HAS_FMA:
        return smx_nmuladd_f64(q, s, e)
    p = smx_mul_f64(q, s)
    return smx_sub_f64(smx_sub_f64(e, p), _two_prod_lo64(q, s, p))

cdef inline smx_vf64 _pair_times64(smx_vf64 d, smx_vf64 lo, smx_vf64 iv, smx_vf64 il,
                                   smx_vf64* res_lo) noexcept nogil:
    """(d + lo) * (iv + il) as hi (returned) + res_lo[0], for a pair d + lo and the pair
    1/|T| (_arg's double-double product)."""
    cdef smx_vf64 h = smx_mul_f64(d, iv)
    res_lo[0] = smx_add_f64(_two_prod_lo64(d, iv, h), smx_muladd_f64(lo, iv, smx_mul_f64(d, il)))
    return h

cdef inline void _fast_acc64(smx_vf64* s, smx_vf64* c, smx_vf64 e) noexcept nogil:
    """(s, c) += e, compensated; needs |s| >= |e| (Fast2Sum): the caller starts s at 2**64
    and adds exps times 2**64, all <= 2**64."""
    cdef smx_vf64 t = smx_add_f64(s[0], e)
    c[0] = smx_add_f64(c[0], _fast_two_sum_lo64m(s[0], e, t))
    s[0] = t

cdef inline void _two_acc64(smx_vf64* s, smx_vf64* c, smx_vf64 e) noexcept nogil:
    """(s, c) += e, compensated (TwoSum: any magnitudes)."""
    cdef smx_vf64 t = smx_add_f64(s[0], e)
    c[0] = smx_add_f64(c[0], _two_sum_lo64m(s[0], e, t))
    s[0] = t

# ---------------------------------------------------------------- exp
cdef inline void _vexp64x2(smx_vf64 y0, smx_vf64 y1, smx_vf64 nm, Row64 c, bint scaled,
                           smx_vf64* e, smx_vf64* tail64) noexcept nogil:
    """e[j] = exp((yj - m) / |T|) * 2**64 for ylo <= yj <= m (nm = -m), two vectors, and
    tail64[j] their tails (times 2**64 too). The callers scale by 2**-64 once, where a
    result is rounded for good (the division, the sums).

    y - m is carried exactly (TwoSum; Fast2Sum where c.f2s: -m is then a multiple of ulp(y),
    and d + lo the same pair; _row_consts64 on lanes clamped below the min), times 1/|T| as a
    double-double when scaled: d + lo.
    Cody-Waite: n = round(d / ln2), r1 = d - n LN2HI_D (exact), and lo - n LN2LO_D merged
    into one small term a (|a| < 3e-7): the reduced argument is r1 + a. Instead of a TwoSum
    of r1 + a, 1 + r1 is split exactly (u + eps, Fast2Sum) and a joins eps:
    exp(r1 + a) = u + ((eps + a) + r^2 Q(r)) with r = fl(r1 + a) and Q of degree 9
    (QV: _exp2k's degree, refitted; evaluated as even and odd parts in r^2: the same 9
    FMAs, half the latency),
    so the rounding of the argument never reaches the result and p = u + s2 is its one
    rounding that matters: the tail is that rounding (Fast2Sum again). 2**n is built in the
    exponent bits as 2**(n + 64) (SHIFTX puts n + 1087 in t's low bits; n >= -1086 keeps
    it normal): p * 2**(n + 64) is exact, normal down to exp(-752), and the one times
    2**-64 later rounds once, so results below the smallest normal round once, as a
    correctly rounded exp's would (and the division of a softmax sees the exp unrounded:
    storing e * 2**-64 rounded and dividing it cost 2 ulp just above the smallest normal,
    where the product with the inverse's low part is subnormal).

    Two vectors, each step written for both: gcc keeps the source order, and with one
    exp after the other the out-of-order window holds too little independent work (a
    chain of ~30 dependent operations each): 10% slower."""
    cdef smx_vf64 one = smx_setall_f64(1.0), shift = smx_setall_f64(V64_SHIFTX)
    cdef smx_vf64 d0 = smx_add_f64(y0, nm), d1 = smx_add_f64(y1, nm)
    cdef smx_vf64 l0, l1, iv, il, t0, t1, n0, n1, r0, r1, u0, u1, z0, z1, v0, v1, w0, w1, p0, p1
    if c.f2s:
        l0 = _fast_two_sum_lo64(nm, y0, d0)
        l1 = _fast_two_sum_lo64(nm, y1, d1)
    else:
        l0 = _two_sum_lo64(y0, nm, d0)
        l1 = _two_sum_lo64(y1, nm, d1)
    if scaled:
        iv = smx_setall_f64(c.inv)
        il = smx_setall_f64(c.inv_lo)
        d0 = _pair_times64(d0, l0, iv, il, &l0)
        d1 = _pair_times64(d1, l1, iv, il, &l1)
    t0 = smx_muladd_f64(d0, smx_setall_f64(LOG2E_D), shift)
    t1 = smx_muladd_f64(d1, smx_setall_f64(LOG2E_D), shift)
    n0 = smx_sub_f64(t0, shift)
    n1 = smx_sub_f64(t1, shift)
    d0 = smx_nmuladd_f64(n0, smx_setall_f64(LN2HI_D), d0)         # r1, exact
    d1 = smx_nmuladd_f64(n1, smx_setall_f64(LN2HI_D), d1)
    l0 = smx_nmuladd_f64(n0, smx_setall_f64(LN2LO_D), l0)         # a
    l1 = smx_nmuladd_f64(n1, smx_setall_f64(LN2LO_D), l1)
    r0 = smx_add_f64(d0, l0)
    r1 = smx_add_f64(d1, l1)
    u0 = smx_add_f64(one, d0)
    u1 = smx_add_f64(one, d1)
    l0 = smx_add_f64(_fast_two_sum_lo64(one, d0, u0), l0)         # 1 + r1 + a - u
    l1 = smx_add_f64(_fast_two_sum_lo64(one, d1, u1), l1)
    z0 = smx_mul_f64(r0, r0)
    z1 = smx_mul_f64(r1, r1)
    v0 = smx_muladd_f64(smx_setall_f64(QV9), z0, smx_setall_f64(QV7))   # odd part
    v1 = smx_muladd_f64(smx_setall_f64(QV9), z1, smx_setall_f64(QV7))
    w0 = smx_muladd_f64(smx_setall_f64(QV8), z0, smx_setall_f64(QV6))   # even part
    w1 = smx_muladd_f64(smx_setall_f64(QV8), z1, smx_setall_f64(QV6))
    v0 = smx_muladd_f64(v0, z0, smx_setall_f64(QV5))
    v1 = smx_muladd_f64(v1, z1, smx_setall_f64(QV5))
    w0 = smx_muladd_f64(w0, z0, smx_setall_f64(QV4))
    w1 = smx_muladd_f64(w1, z1, smx_setall_f64(QV4))
    v0 = smx_muladd_f64(v0, z0, smx_setall_f64(QV3))
    v1 = smx_muladd_f64(v1, z1, smx_setall_f64(QV3))
    w0 = smx_muladd_f64(w0, z0, smx_setall_f64(QV2))
    w1 = smx_muladd_f64(w1, z1, smx_setall_f64(QV2))
    v0 = smx_muladd_f64(v0, z0, smx_setall_f64(QV1))
    v1 = smx_muladd_f64(v1, z1, smx_setall_f64(QV1))
    w0 = smx_muladd_f64(w0, z0, smx_setall_f64(QV0))
    w1 = smx_muladd_f64(w1, z1, smx_setall_f64(QV0))
    v0 = smx_muladd_f64(z0, smx_muladd_f64(v0, r0, w0), l0)     # s2 = (eps + a) + r^2 Q(r)
    v1 = smx_muladd_f64(z1, smx_muladd_f64(v1, r1, w1), l1)
    p0 = smx_add_f64(u0, v0)
    p1 = smx_add_f64(u1, v1)
    t0 = smx_as_f64_i64(smx_shli_i64(smx_as_i64_f64(t0), 52))    # 2**(n + 64)
    t1 = smx_as_f64_i64(smx_shli_i64(smx_as_i64_f64(t1), 52))
    tail64[0] = smx_mul_f64(_fast_two_sum_lo64m(u0, v0, p0), t0)
    tail64[1] = smx_mul_f64(_fast_two_sum_lo64m(u1, v1, p1), t1)
    e[0] = smx_mul_f64(p0, t0)
    e[1] = smx_mul_f64(p1, t1)

cdef inline smx_vf64 _vexp64(smx_vf64 y, smx_vf64 nm, Row64 c, bint scaled,
                             smx_vf64* tail64) noexcept nogil:
    """One vector of _vexp64x2 (per-row scalar work: the loops take two): exp times 2**64,
    tail64[0] = its tail times 2**64."""
    cdef smx_vf64 e[2]
    cdef smx_vf64 tl[2]
    _vexp64x2(y, y, nm, c, scaled, e, tl)
    tail64[0] = tl[0]
    return e[0]

cdef Row64 _row_consts64(double m, double mn, Temp t) noexcept nogil:
    """ylo = m - 746 |T| rounded, then moved one ulp if the rounding took (m - ylo) / |T| out
    of [745.2, 752]: at or below -745.2 exp rounds to 0 (so clamping changes no result), and
    above -752 2**(n + 64) stays normal. ylo = m (a special row) if that fails: the ulp of m
    is too coarse for |T|. f2s: whether m is a multiple of G = ulp(max |y|) (mn: the min of
    y; NaN: unknown, False): then G, and so -m, is a multiple of the ulp of every y of the
    row, which makes Fast2Sum exact for y - m (as _fast32's, float32) -- most rows: m and -mn
    at most a binade apart. (Lanes clamped to a ylo below the min -- fills, -inf entries --
    may get an inexact pair: their exps, below exp(-745.2) by a margin of 0.067, round to 0
    all the same.)"""
    cdef Row64 c
    cdef double k, a = fabs(m) if fabs(m) >= fabs(mn) else fabs(mn), q
    cdef int e
    c.m = m
    c.f2s = False
    if a >= 1e-290 and a < INFINITY:       # (mn NaN: a NaN, f2s False)
        frexp(a, &e)                       # G = 2**(e - 53)
        q = ldexp(m, 53 - e)               # m / G (|q| < 2**53), rounded where it underflows:
        c.f2s = q == floor(q) and ldexp(q, e - 53) == m     # exact, and then an integer
    c.inv = t.inv
    c.inv_lo = t.inv_lo
    c.ylo = m - 746.0 * t.abs_t
    k = (m - c.ylo) * t.inv
    if k < 745.2:
        c.ylo = nextafter(c.ylo, -INFINITY)
    elif not (k <= 752.0):
        c.ylo = nextafter(c.ylo, m)
    k = (m - c.ylo) * t.inv
    if not (k >= 745.2 and k <= 752.0):
        c.ylo = m
    return c


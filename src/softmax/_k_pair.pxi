# Error-free transformations and pair arithmetic: a value carried as an unevaluated sum
# hi + lo. TwoSum is written out once, in _two_sum_err; everything that needs the exact
# error of a sum calls it (or _two_sum). Part of the per-ISA kernel source.

cdef inline floating _madd(floating a, floating b, floating c) noexcept nogil:
    """a * b + c, fused when the ISA has FMA."""
    if SMX_HAS_FMA:
        if floating is float:
            return fmaf(a, b, c)
        else:
            return fma(a, b, c)
    return a * b + c

cdef inline floating _two_sum_err(floating a, floating b, floating s) noexcept nogil:
    """The exact error (a + b) - s of s = fl(a + b) (Knuth's TwoSum: no condition on the
    magnitudes; branch-free, so it vectorises). NaN where s is +-inf (see _lo_ok). A
    difference v - c passes s = fl(v - c) and b = -c: the same value as fl(v + (-c)), and
    a NaN keeps the sign the subtraction gives it."""
    cdef floating bb = s - a
    return (a - (s - bb)) + (b - bb)

cdef inline floating _two_sum(floating a, floating b, floating* err) noexcept nogil:
    """s = fl(a + b), returned, and err[0] = (a + b) - s exactly."""
    cdef floating s = a + b
    err[0] = _two_sum_err(a, b, s)
    return s

cdef inline double _prod_err(double a, double b, double p) noexcept nogil:
    """The exact rounding error a*b - p of p = fl(a*b) (FMA, else Dekker). Without FMA,
    where a split overflows (|a| or |b| above ~1.3e300) 0 instead of the NaN or inf it gives:
    next to such a p the error is below half an ulp."""
    cdef double c, ah, al, bh, bl, r
    if SMX_HAS_FMA:
        return fma(a, b, -p)
    c = 134217729.0 * a
    ah = c - (c - a)
    al = a - ah
    c = 134217729.0 * b
    bh = c - (c - b)
    bl = b - bh
    r = ((ah * bh - p) + ah * bl + al * bh) + al * bl
    return r if fabs(r) < INFINITY else 0.0

cdef inline double _resid(double q, double s, double e) noexcept nogil:
    """e - q*s rounded once, for q*s close to e (a division's residual): one FMA,
    else Dekker's exact product, whose difference from e is then exact (Sterbenz)."""
    cdef double p
    if SMX_HAS_FMA:
        return fma(-q, s, e)
    p = q * s
    return (e - p) - _prod_err(q, s, p)

cdef inline double _lo_ok(double hi, double lo) noexcept nogil:
    """The low part of a pair, 0 when hi is +-inf or NaN (TwoSum makes it NaN there)."""
    return lo if fabs(hi) < INFINITY else 0.0

cdef inline double _fin_times(double p, double r, double f, double f_lo) noexcept nogil:
    """(p + r) * (f + f_lo) rounded once (nearly): r the low part of a pair (or 0), f + f_lo
    the pair 1/T. Multiplying the rounded p + r by the rounded 1/T instead costs two more
    roundings, too many for the 2-ulp bound. p * f where that is not finite (the corrections
    are NaN there)."""
    cdef double q = p * f
    cdef double res = q + ((_prod_err(p, f, q) + p * f_lo) + r * f)
    return res if fabs(q) < INFINITY else q

cdef inline void _two_sum_into(double* hi, double* lo, double v) noexcept nogil:
    """(hi, lo) += v: hi the rounded sum, lo gathers the exact errors."""
    cdef double err
    hi[0] = _two_sum(hi[0], v, &err)
    lo[0] += err

cdef inline void _combine(double ones, double r_hi, double r_lo, double* s_hi,
                          double* s_lo) noexcept nogil:
    """(s_hi, s_lo) = ones + r_hi + r_lo, with s_lo = the exact error + r_lo."""
    cdef double err
    s_hi[0] = _two_sum(ones, r_hi, &err)
    s_lo[0] = err + r_lo

cdef inline void _half(double* sh, double* sl, Py_ssize_t h) noexcept nogil:
    """Lanes j and j + h (j < h) summed into lane j, compensated (TwoSum); h a constant
    once inlined, so the step is a few vector instructions."""
    cdef Py_ssize_t j
    cdef double err
    for j in range(h):
        sh[j] = _two_sum(sh[j], sh[j + h], &err)
        sl[j] = (sl[j] + sl[j + h]) + err

cdef inline void _fold(double* sh, double* sl, Py_ssize_t W, double* hi,
                       double* lo) noexcept nogil:
    """(hi, lo) += the compensated partial sums of all LANES lanes (the callers zero the
    ones beyond W), halved pairwise: a lane-by-lane fold is a chain of dependent TwoSums
    that costs more than a short row's whole loop."""
    _half(sh, sl, 16)
    _half(sh, sl, 8)
    _half(sh, sl, 4)
    _half(sh, sl, 2)
    _half(sh, sl, 1)
    _two_sum_into(hi, lo, sh[0])
    lo[0] += sl[0]

cdef inline double _mean_lo(double q, double d_hi, double d_lo, double s_hi, double s_lo,
                            double inv) noexcept nogil:
    """The residual of q ~ (d_hi + d_lo) / (s_hi + s_lo)."""
    return ((_resid(q, s_hi, d_hi) + d_lo) - q * s_lo) * inv

cdef inline double _mean_pair(double d_hi, double d_lo, double s_hi, double s_lo, double q,
                              double* mu_lo) noexcept nogil:
    """mu + mu_lo[0] = (d_hi + d_lo) / (s_hi + s_lo), q = 1/(s_hi + s_lo) rounded; a pair
    whose leading part is +-inf or NaN carries no low part."""
    cdef double mu
    d_lo = _lo_ok(d_hi, d_lo)
    mu = (d_hi + d_lo) * q
    mu_lo[0] = _lo_ok(mu, _mean_lo(mu, d_hi, d_lo, s_hi, s_lo, q))
    return mu

cdef inline void _norm_pair(double* hi, double* lo) noexcept nogil:
    """A compensated sum (hi, lo) as (hi + lo rounded, what that rounding left out); the low
    part 0 where the leading part is +-inf or NaN."""
    cdef double c, l = _lo_ok(hi[0], lo[0])
    c = hi[0] + l
    lo[0] = _lo_ok(c, (hi[0] - c) + l)
    hi[0] = c

cdef inline double _diff(double v, double c_hi, double c_lo, double* lo) noexcept nogil:
    """v - (c_hi + c_lo) as the pair a + lo[0]: a = fl(v - c_hi), returned."""
    cdef double a = v - c_hi
    lo[0] = _two_sum_err(v, -c_hi, a) - c_lo
    return a

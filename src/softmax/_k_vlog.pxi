# The natural log of the float32 kernels' sums, in float64 lanes: log_softmax takes
# L = log(S) = log1p(S - 1) of each row (or column), S a sum of exps anchored at 1. Written on
# the vector primitives so that the logs of a block of rows cost a few vector operations a
# row and one row's log (_log1p_sum, lane 0) has the same bits as its lane in a block. Part
# of the per-ISA kernel source.

DEF LOG_SQRT_HALF_OFF = 349415318889743411   # 1100 * 2**52 - the bits of sqrt(1/2)
DEF LOG_LN2_HI = 0.6931467056274414          # ln 2 to 21 bits: k * LOG_LN2_HI exact
DEF LOG_LN2_LO = 4.7493250390316726e-07      # ln 2 - LOG_LN2_HI

cdef inline smx_vf64 _vlog1p64(smx_vf64 f) noexcept nogil:
    """log1p(f), lane by lane, where s = fl(1 + f) is a positive finite number (f > -1); no
    guard: elsewhere (NaN, inf, f <= -1) a finite value of no meaning (_log1p_sum checks).

    s = 2**k m with m in [sqrt(1/2), sqrt(2)) (the exponent bits after an offset); g = m - 1
    (exact), or f itself where k == 0 (nothing of f lost to rounding then); log1p(g) as
    2 atanh(z), z = g / (2 + g), in the form g - (h - z (h + R)), h = g**2 / 2,
    R = sum_j 2 w**j / (2j + 1) for j = 1 ... 9, w = z**2 <= 0.0295 (its tail below
    2**-55 relative); then + k ln 2 in two parts. Where k != 0, |log s| >= 0.34 and the
    rounding of 1 + f (at most 2**-53 s) moves the log by 2**-53 at most. Within a few
    units of double's last place: far below float32's, which is what the callers need."""
    cdef smx_vf64 one = smx_setall_f64(1.0)
    cdef smx_vf64 s = smx_add_f64(one, f), m, kd, g, h, z, w, w2, r, p
    cdef smx_vi64 b = smx_as_i64_f64(s)
    # kk = k + 1100 (b - bits(sqrt(1/2)) + 1100 * 2**52, shifted; wraps as unsigned)
    cdef smx_vi64 kk = smx_shri_i64(smx_add_i64(b, smx_setall_i64(LOG_SQRT_HALF_OFF)), 52)
    m = smx_as_f64_i64(smx_add_i64(smx_sub_i64(b, smx_shli_i64(kk, 52)),
                                   smx_setall_i64(<int64_t>1100 << 52)))
    kd = smx_sub_f64(smx_as_f64_i64(smx_add_i64(kk, smx_setall_i64(<int64_t>0x4330000000000000))),
                     smx_setall_f64(4503599627371596.0))          # 2**52 + kk - (2**52 + 1100)
    g = smx_select_f64(smx_cmpeq_f64(kd, smx_zero_f64()), f, smx_sub_f64(m, one))
    h = smx_mul_f64(smx_mul_f64(g, g), smx_setall_f64(0.5))
    z = smx_div_f64(g, smx_add_f64(smx_setall_f64(2.0), g))
    w = smx_mul_f64(z, z)
    w2 = smx_mul_f64(w, w)
    # R / w = sum_j c_j w**j, c_j = 2 / (2j + 3), j = 0 ... 8, by Estrin's scheme (a short chain)
    r = smx_muladd_f64(w2, smx_setall_f64(0.10526315789473684),          # c6 + c7 w + c8 w2
                       smx_muladd_f64(w, smx_setall_f64(0.11764705882352941),
                                      smx_setall_f64(0.13333333333333333)))
    r = smx_muladd_f64(w2, r, smx_muladd_f64(w, smx_setall_f64(0.15384615384615385),
                                             smx_setall_f64(0.18181818181818182)))   # c4 ...
    p = smx_muladd_f64(w2, smx_muladd_f64(w, smx_setall_f64(0.2222222222222222),
                                          smx_setall_f64(0.2857142857142857)),
                       smx_muladd_f64(w, smx_setall_f64(0.4),
                                      smx_setall_f64(0.6666666666666666)))           # c0 ... c3
    r = smx_mul_f64(smx_muladd_f64(smx_mul_f64(w2, w2), r, p), w)
    r = smx_muladd_f64(z, smx_add_f64(h, r), smx_mul_f64(kd, smx_setall_f64(LOG_LN2_LO)))
    return smx_muladd_f64(kd, smx_setall_f64(LOG_LN2_HI), smx_sub_f64(g, smx_sub_f64(h, r)))

cdef inline void _log1p_lanes(double* a, Py_ssize_t n) noexcept nogil:
    """a[j] = _log1p_sum(a[j]) for j < n, SMX_NF64 lanes at a time (n a multiple of SMX_NF64;
    every a[j] in _vlog1p64's domain)."""
    cdef Py_ssize_t j = 0
    while j < n:
        smx_store_f64(a + j, _vlog1p64(smx_load_f64(a + j)))
        j += SMX_NF64

cdef inline double _log1p_sum(double f) noexcept nogil:
    """log1p(f) for f = a sum of exps less 1: _vlog1p64 in one lane (the same bits as a lane
    of a block's logs); not finite or <= -1: log1p's value."""
    if not (f > -1.0 and f < INFINITY):
        return log1p(f)
    return smx_get_f64(_vlog1p64(smx_setall_f64(f)), 0)

/* smx primitives on SSE2 only (the x86-64 baseline): 4 floats / 2 doubles a vector, all-ones
 * lane masks in float vectors, no FMA (SMX_HAS_FMA 0: muladd is a product then a sum), no
 * SSE4.1 (select is and/andnot/or, rint adds and subtracts 2**23). Contract: README.md.
 * Include smx_simd.h, not this file. */
#ifndef SMX__INSIDE
#  error "include smx_simd.h (with SMX_ISA_SSE2 defined), not smx_sse2.h"
#endif
#include <emmintrin.h>

typedef __m128 smx_vf32;
typedef __m128d smx_vf64;
typedef __m128i smx_vi32;
typedef __m128i smx_vi64;
typedef __m128 smx_mf32;
typedef __m128d smx_mf64;
#define SMX_NF32 4
#define SMX_NF64 2
#define SMX_HAS_FMA 0
#define SMX_HAS_SCALEF 0
#define SMX_ISA_NAME "sse2"

/* ---- memory ---- */
SMX_INLINE smx_vf32 smx_load_f32(const float *p) { return _mm_loadu_ps(p); }
SMX_INLINE smx_vf64 smx_load_f64(const double *p) { return _mm_loadu_pd(p); }
SMX_INLINE void smx_store_f32(float *p, smx_vf32 v) { _mm_storeu_ps(p, v); }
SMX_INLINE void smx_stream_f32(float *p, smx_vf32 v) { _mm_stream_ps(p, v); }
SMX_INLINE void smx_store_f64(double *p, smx_vf64 v) { _mm_storeu_pd(p, v); }

/* ---- tail masks: lanes i < n ---- */
SMX_INLINE smx_mf32 smx_till_f32(ptrdiff_t n)
{
    return _mm_castsi128_ps(_mm_cmpgt_epi32(_mm_set1_epi32((int)SMX__CLAMP_LANES(n, 4)),
                                            _mm_setr_epi32(0, 1, 2, 3)));
}
SMX_INLINE smx_mf64 smx_till_f64(ptrdiff_t n)
{
    return _mm_castsi128_pd(_mm_cmpgt_epi32(_mm_set1_epi32((int)SMX__CLAMP_LANES(n, 2)),
                                            _mm_setr_epi32(0, 0, 1, 1)));
}

/* Partial loads and stores: one branch on n, then 4- and 8-byte moves of lanes i < n only. */
SMX_INLINE smx_vf32 smx_load_till_f32(const float *p, ptrdiff_t n, float fill)
{
    __m128 f = _mm_set1_ps(fill), lo;
    if (n >= 4) return _mm_loadu_ps(p);
    if (n <= 0) return f;
    if (n == 1) return _mm_move_ss(f, _mm_load_ss(p));
    lo = _mm_castsi128_ps(_mm_loadl_epi64((const __m128i *)p));           /* p[0], p[1], 0, 0 */
    if (n == 2) return _mm_movelh_ps(lo, f);
    return _mm_movelh_ps(lo, _mm_move_ss(f, _mm_load_ss(p + 2)));          /* n == 3 */
}
SMX_INLINE smx_vf64 smx_load_till_f64(const double *p, ptrdiff_t n, double fill)
{
    __m128d f = _mm_set1_pd(fill);
    if (n >= 2) return _mm_loadu_pd(p);
    if (n <= 0) return f;
    return _mm_loadl_pd(f, p);
}
SMX_INLINE void smx_store_till_f32(float *p, ptrdiff_t n, smx_vf32 v)
{
    if (n >= 4) { _mm_storeu_ps(p, v); return; }
    if (n <= 0) return;
    if (n == 1) { _mm_store_ss(p, v); return; }
    _mm_storel_epi64((__m128i *)p, _mm_castps_si128(v));
    if (n == 3) _mm_store_ss(p + 2, _mm_movehl_ps(v, v));
}
SMX_INLINE void smx_store_till_f64(double *p, ptrdiff_t n, smx_vf64 v)
{
    if (n >= 2) _mm_storeu_pd(p, v);
    else if (n == 1) _mm_storel_pd(p, v);
}

SMX_INLINE smx_vf64 smx_load_f32_f64(const float *p)
{
    return _mm_cvtps_pd(_mm_castsi128_ps(_mm_loadl_epi64((const __m128i *)p)));
}
SMX_INLINE void smx_store_f64_f32(float *p, smx_vf64 v)
{
    _mm_storel_epi64((__m128i *)p, _mm_castps_si128(_mm_cvtpd_ps(v)));
}

/* ---- constants ---- */
SMX_INLINE smx_vf32 smx_setall_f32(float a) { return _mm_set1_ps(a); }
SMX_INLINE smx_vf64 smx_setall_f64(double a) { return _mm_set1_pd(a); }
SMX_INLINE smx_vf32 smx_zero_f32(void) { return _mm_setzero_ps(); }
SMX_INLINE smx_vf64 smx_zero_f64(void) { return _mm_setzero_pd(); }

/* ---- arithmetic ---- */
SMX_INLINE smx_vf32 smx_add_f32(smx_vf32 a, smx_vf32 b) { return _mm_add_ps(a, b); }
SMX_INLINE smx_vf64 smx_add_f64(smx_vf64 a, smx_vf64 b) { return _mm_add_pd(a, b); }
SMX_INLINE smx_vf32 smx_sub_f32(smx_vf32 a, smx_vf32 b) { return _mm_sub_ps(a, b); }
SMX_INLINE smx_vf64 smx_sub_f64(smx_vf64 a, smx_vf64 b) { return _mm_sub_pd(a, b); }
SMX_INLINE smx_vf32 smx_mul_f32(smx_vf32 a, smx_vf32 b) { return _mm_mul_ps(a, b); }
SMX_INLINE smx_vf64 smx_mul_f64(smx_vf64 a, smx_vf64 b) { return _mm_mul_pd(a, b); }
SMX_INLINE smx_vf32 smx_div_f32(smx_vf32 a, smx_vf32 b) { return _mm_div_ps(a, b); }
SMX_INLINE smx_vf64 smx_div_f64(smx_vf64 a, smx_vf64 b) { return _mm_div_pd(a, b); }
/* no FMA: the product is rounded, then the sum */
SMX_INLINE smx_vf32 smx_muladd_f32(smx_vf32 a, smx_vf32 b, smx_vf32 c) { return _mm_add_ps(_mm_mul_ps(a, b), c); }
SMX_INLINE smx_vf64 smx_muladd_f64(smx_vf64 a, smx_vf64 b, smx_vf64 c) { return _mm_add_pd(_mm_mul_pd(a, b), c); }
SMX_INLINE smx_vf32 smx_nmuladd_f32(smx_vf32 a, smx_vf32 b, smx_vf32 c) { return _mm_sub_ps(c, _mm_mul_ps(a, b)); }
SMX_INLINE smx_vf64 smx_nmuladd_f64(smx_vf64 a, smx_vf64 b, smx_vf64 c) { return _mm_sub_pd(c, _mm_mul_pd(a, b)); }
SMX_INLINE smx_vf32 smx_mulsub_f32(smx_vf32 a, smx_vf32 b, smx_vf32 c) { return _mm_sub_ps(_mm_mul_ps(a, b), c); }
SMX_INLINE smx_vf64 smx_mulsub_f64(smx_vf64 a, smx_vf64 b, smx_vf64 c) { return _mm_sub_pd(_mm_mul_pd(a, b), c); }
SMX_INLINE smx_vf32 smx_neg_f32(smx_vf32 a) { return _mm_xor_ps(a, _mm_set1_ps(-0.0f)); }
SMX_INLINE smx_vf64 smx_neg_f64(smx_vf64 a) { return _mm_xor_pd(a, _mm_set1_pd(-0.0)); }
SMX_INLINE smx_vf32 smx_abs_f32(smx_vf32 a) { return _mm_andnot_ps(_mm_set1_ps(-0.0f), a); }
SMX_INLINE smx_vf64 smx_abs_f64(smx_vf64 a) { return _mm_andnot_pd(_mm_set1_pd(-0.0), a); }
/* maxps/minps: a > b ? a : b, a < b ? a : b (b when either is NaN) */
SMX_INLINE smx_vf32 smx_max_f32(smx_vf32 a, smx_vf32 b) { return _mm_max_ps(a, b); }
SMX_INLINE smx_vf64 smx_max_f64(smx_vf64 a, smx_vf64 b) { return _mm_max_pd(a, b); }
SMX_INLINE smx_vf32 smx_min_f32(smx_vf32 a, smx_vf32 b) { return _mm_min_ps(a, b); }
SMX_INLINE smx_vf64 smx_min_f64(smx_vf64 a, smx_vf64 b) { return _mm_min_pd(a, b); }

/* ---- compares (ordered; cmpneq unordered) and masks ---- */
SMX_INLINE smx_mf32 smx_cmplt_f32(smx_vf32 a, smx_vf32 b) { return _mm_cmplt_ps(a, b); }
SMX_INLINE smx_mf64 smx_cmplt_f64(smx_vf64 a, smx_vf64 b) { return _mm_cmplt_pd(a, b); }
SMX_INLINE smx_mf32 smx_cmple_f32(smx_vf32 a, smx_vf32 b) { return _mm_cmple_ps(a, b); }
SMX_INLINE smx_mf64 smx_cmple_f64(smx_vf64 a, smx_vf64 b) { return _mm_cmple_pd(a, b); }
SMX_INLINE smx_mf32 smx_cmpgt_f32(smx_vf32 a, smx_vf32 b) { return _mm_cmplt_ps(b, a); }
SMX_INLINE smx_mf64 smx_cmpgt_f64(smx_vf64 a, smx_vf64 b) { return _mm_cmplt_pd(b, a); }
SMX_INLINE smx_mf32 smx_cmpge_f32(smx_vf32 a, smx_vf32 b) { return _mm_cmple_ps(b, a); }
SMX_INLINE smx_mf64 smx_cmpge_f64(smx_vf64 a, smx_vf64 b) { return _mm_cmple_pd(b, a); }
SMX_INLINE smx_mf32 smx_cmpeq_f32(smx_vf32 a, smx_vf32 b) { return _mm_cmpeq_ps(a, b); }
SMX_INLINE smx_mf64 smx_cmpeq_f64(smx_vf64 a, smx_vf64 b) { return _mm_cmpeq_pd(a, b); }
SMX_INLINE smx_mf32 smx_cmpneq_f32(smx_vf32 a, smx_vf32 b) { return _mm_cmpneq_ps(a, b); }
SMX_INLINE smx_mf64 smx_cmpneq_f64(smx_vf64 a, smx_vf64 b) { return _mm_cmpneq_pd(a, b); }

SMX_INLINE smx_mf32 smx_and_mf32(smx_mf32 a, smx_mf32 b) { return _mm_and_ps(a, b); }
SMX_INLINE smx_mf64 smx_and_mf64(smx_mf64 a, smx_mf64 b) { return _mm_and_pd(a, b); }
SMX_INLINE smx_mf32 smx_or_mf32(smx_mf32 a, smx_mf32 b) { return _mm_or_ps(a, b); }
SMX_INLINE smx_mf64 smx_or_mf64(smx_mf64 a, smx_mf64 b) { return _mm_or_pd(a, b); }
SMX_INLINE smx_mf32 smx_andnot_mf32(smx_mf32 a, smx_mf32 b) { return _mm_andnot_ps(b, a); }
SMX_INLINE smx_mf64 smx_andnot_mf64(smx_mf64 a, smx_mf64 b) { return _mm_andnot_pd(b, a); }
SMX_INLINE smx_mf32 smx_not_mf32(smx_mf32 a) { return _mm_xor_ps(a, _mm_castsi128_ps(_mm_set1_epi32(-1))); }
SMX_INLINE smx_mf64 smx_not_mf64(smx_mf64 a) { return _mm_xor_pd(a, _mm_castsi128_pd(_mm_set1_epi32(-1))); }
SMX_INLINE int smx_any_mf32(smx_mf32 m) { return _mm_movemask_ps(m) != 0; }
SMX_INLINE int smx_any_mf64(smx_mf64 m) { return _mm_movemask_pd(m) != 0; }
SMX_INLINE int smx_all_mf32(smx_mf32 m) { return _mm_movemask_ps(m) == 0xF; }
SMX_INLINE int smx_all_mf64(smx_mf64 m) { return _mm_movemask_pd(m) == 0x3; }
SMX_INLINE smx_vf32 smx_select_f32(smx_mf32 m, smx_vf32 a, smx_vf32 b)
{
    return _mm_or_ps(_mm_and_ps(m, a), _mm_andnot_ps(m, b));
}
SMX_INLINE smx_vf64 smx_select_f64(smx_mf64 m, smx_vf64 a, smx_vf64 b)
{
    return _mm_or_pd(_mm_and_pd(m, a), _mm_andnot_pd(m, b));
}

/* rint without SSE4.1: for |a| < 2**23, (|a| + 2**23) - 2**23 rounds |a| to an integer (nearest
 * even); the sign is put back (also on a zero result); |a| >= 2**23, inf and NaN pass as they are. */
SMX_INLINE smx_vf32 smx_rint_f32(smx_vf32 a)
{
    const __m128 sgn = _mm_set1_ps(-0.0f), big = _mm_set1_ps(8388608.0f);
    __m128 s = _mm_and_ps(a, sgn), m = _mm_andnot_ps(sgn, a);
    __m128 r = _mm_or_ps(_mm_sub_ps(_mm_add_ps(m, big), big), s);
    return smx_select_f32(_mm_cmplt_ps(m, big), r, a);
}
SMX_INLINE smx_vf64 smx_rint_f64(smx_vf64 a)
{
    const __m128d sgn = _mm_set1_pd(-0.0), big = _mm_set1_pd(4503599627370496.0);
    __m128d s = _mm_and_pd(a, sgn), m = _mm_andnot_pd(sgn, a);
    __m128d r = _mm_or_pd(_mm_sub_pd(_mm_add_pd(m, big), big), s);
    return smx_select_f64(_mm_cmplt_pd(m, big), r, a);
}

/* ---- integer lanes and bits ---- */
SMX_INLINE smx_vi32 smx_as_i32_f32(smx_vf32 v) { return _mm_castps_si128(v); }
SMX_INLINE smx_vf32 smx_as_f32_i32(smx_vi32 i) { return _mm_castsi128_ps(i); }
SMX_INLINE smx_vi64 smx_as_i64_f64(smx_vf64 v) { return _mm_castpd_si128(v); }
SMX_INLINE smx_vf64 smx_as_f64_i64(smx_vi64 i) { return _mm_castsi128_pd(i); }
SMX_INLINE smx_vi32 smx_add_i32(smx_vi32 a, smx_vi32 b) { return _mm_add_epi32(a, b); }
SMX_INLINE smx_vi32 smx_sub_i32(smx_vi32 a, smx_vi32 b) { return _mm_sub_epi32(a, b); }
SMX_INLINE smx_vi64 smx_add_i64(smx_vi64 a, smx_vi64 b) { return _mm_add_epi64(a, b); }
SMX_INLINE smx_vi64 smx_sub_i64(smx_vi64 a, smx_vi64 b) { return _mm_sub_epi64(a, b); }
/* k: an integer constant expression, 0 < k < lane bits */
#define smx_shli_i32(i, k) _mm_slli_epi32((i), (k))
#define smx_shri_i32(i, k) _mm_srli_epi32((i), (k))
#define smx_shli_i64(i, k) _mm_slli_epi64((i), (k))
#define smx_shri_i64(i, k) _mm_srli_epi64((i), (k))
SMX_INLINE smx_vi32 smx_setall_i32(int32_t a) { return _mm_set1_epi32(a); }
SMX_INLINE smx_vi64 smx_setall_i64(int64_t a) { return _mm_set1_epi64x(a); }

/* ---- v * 2**n for integral n in [-252, 254] (f64: [-2044, 2046]): (v * 2**(n - n2)) * 2**n2
 * with n2 = clamp(n, -126, 127); see smx_avx2.h for why this rounds once. ---- */
SMX_INLINE smx_vf32 smx__exp2i_f32(__m128 n)
{
    return _mm_castsi128_ps(_mm_slli_epi32(
        _mm_castps_si128(_mm_add_ps(n, _mm_set1_ps(12583039.0f))), 23));
}
SMX_INLINE smx_vf64 smx__exp2i_f64(__m128d n)
{
    return _mm_castsi128_pd(_mm_slli_epi64(
        _mm_castpd_si128(_mm_add_pd(n, _mm_set1_pd(6755399441056767.0))), 52));
}
SMX_INLINE smx_vf32 smx_scale2_f32(smx_vf32 v, smx_vf32 n)
{
    __m128 n2 = _mm_min_ps(_mm_max_ps(n, _mm_set1_ps(-126.0f)), _mm_set1_ps(127.0f));
    __m128 n1 = _mm_sub_ps(n, n2);
    return _mm_mul_ps(_mm_mul_ps(v, smx__exp2i_f32(n1)), smx__exp2i_f32(n2));
}
SMX_INLINE smx_vf64 smx_scale2_f64(smx_vf64 v, smx_vf64 n)
{
    __m128d n2 = _mm_min_pd(_mm_max_pd(n, _mm_set1_pd(-1022.0)), _mm_set1_pd(1023.0));
    __m128d n1 = _mm_sub_pd(n, n2);
    return _mm_mul_pd(_mm_mul_pd(v, smx__exp2i_f64(n1)), smx__exp2i_f64(n2));
}

/* ---- conversions ---- */
SMX_INLINE smx_vf64 smx_cvt_lo_f32_f64(smx_vf32 v) { return _mm_cvtps_pd(v); }
SMX_INLINE smx_vf64 smx_cvt_hi_f32_f64(smx_vf32 v) { return _mm_cvtps_pd(_mm_movehl_ps(v, v)); }
SMX_INLINE smx_vf32 smx_cvt_f64x2_f32(smx_vf64 lo, smx_vf64 hi)
{
    return _mm_movelh_ps(_mm_cvtpd_ps(lo), _mm_cvtpd_ps(hi));
}

/* ---- horizontal: halving order, r[i] = op(r[i], r[i + w]) for w = 2, 1 (f64: 1) ---- */
SMX_INLINE float smx_reduce_add_f32(smx_vf32 v)
{
    __m128 s2 = _mm_add_ps(v, _mm_movehl_ps(v, v));
    return _mm_cvtss_f32(_mm_add_ss(s2, _mm_shuffle_ps(s2, s2, 1)));
}
SMX_INLINE float smx_reduce_max_f32(smx_vf32 v)
{
    __m128 s2 = _mm_max_ps(v, _mm_movehl_ps(v, v));
    return _mm_cvtss_f32(_mm_max_ss(s2, _mm_shuffle_ps(s2, s2, 1)));
}
SMX_INLINE float smx_reduce_min_f32(smx_vf32 v)
{
    __m128 s2 = _mm_min_ps(v, _mm_movehl_ps(v, v));
    return _mm_cvtss_f32(_mm_min_ss(s2, _mm_shuffle_ps(s2, s2, 1)));
}
SMX_INLINE double smx_reduce_add_f64(smx_vf64 v) { return _mm_cvtsd_f64(_mm_add_sd(v, _mm_unpackhi_pd(v, v))); }
SMX_INLINE double smx_reduce_max_f64(smx_vf64 v) { return _mm_cvtsd_f64(_mm_max_sd(v, _mm_unpackhi_pd(v, v))); }
SMX_INLINE double smx_reduce_min_f64(smx_vf64 v) { return _mm_cvtsd_f64(_mm_min_sd(v, _mm_unpackhi_pd(v, v))); }

/* ---- lane access (tests, scalar epilogues): 0 <= i < lanes ---- */
SMX_INLINE float smx_get_f32(smx_vf32 v, int i) { float b[4]; _mm_storeu_ps(b, v); return b[i & 3]; }
SMX_INLINE double smx_get_f64(smx_vf64 v, int i) { double b[2]; _mm_storeu_pd(b, v); return b[i & 1]; }
SMX_INLINE int32_t smx_get_i32(smx_vi32 v, int i)
{
    int32_t b[4]; _mm_storeu_si128((__m128i *)b, v); return b[i & 3];
}
SMX_INLINE int64_t smx_get_i64(smx_vi64 v, int i)
{
    int64_t b[2]; _mm_storeu_si128((__m128i *)b, v); return b[i & 1];
}

/* smx primitives on AVX2 + FMA: 8 floats / 4 doubles a vector, all-ones-lane masks in float
 * vectors, vmaskmov loads and partial stores for the tails. Contract: README.md. Include
 * smx_simd.h, not this file. */
#ifndef SMX__INSIDE
#  error "include smx_simd.h (with SMX_ISA_AVX2 defined), not smx_avx2.h"
#endif
#if !defined(_MSC_VER) && !(defined(__AVX2__) && defined(__FMA__))
#  error "SMX_ISA_AVX2 needs -mavx2 -mfma"
#endif
#include <immintrin.h>

typedef __m256 smx_vf32;
typedef __m256d smx_vf64;
typedef __m256i smx_vi32;
typedef __m256i smx_vi64;
typedef __m256 smx_mf32;
typedef __m256d smx_mf64;
#define SMX_NF32 8
#define SMX_NF64 4
#define SMX_HAS_FMA 1
#define SMX_HAS_SCALEF 0
#define SMX_ISA_NAME "avx2"

/* ---- memory ---- */
SMX_INLINE smx_vf32 smx_load_f32(const float *p) { return _mm256_loadu_ps(p); }
SMX_INLINE smx_vf64 smx_load_f64(const double *p) { return _mm256_loadu_pd(p); }
SMX_INLINE void smx_store_f32(float *p, smx_vf32 v) { _mm256_storeu_ps(p, v); }
SMX_INLINE void smx_stream_f32(float *p, smx_vf32 v) { _mm256_stream_ps(p, v); }
SMX_INLINE void smx_store_f64(double *p, smx_vf64 v) { _mm256_storeu_pd(p, v); }

/* ---- tail masks: lanes i < n, one broadcast and one compare against 0..7 ---- */
SMX_INLINE __m256i smx__till_i32(ptrdiff_t n)
{
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)SMX__CLAMP_LANES(n, 8)),
                              _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
SMX_INLINE __m256i smx__till_i64(ptrdiff_t n)
{
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)SMX__CLAMP_LANES(n, 4)),
                              _mm256_setr_epi32(0, 0, 1, 1, 2, 2, 3, 3));
}
SMX_INLINE smx_mf32 smx_till_f32(ptrdiff_t n) { return _mm256_castsi256_ps(smx__till_i32(n)); }
SMX_INLINE smx_mf64 smx_till_f64(ptrdiff_t n) { return _mm256_castsi256_pd(smx__till_i64(n)); }

/* Loads: vmaskmov (masked-off lanes are not accessed: no fault), loaded as 0, then blended
 * with fill. Stores: a branch on n, then 16-, 8- and 4-byte moves of lanes i < n only: a
 * vmaskmov store is microcoded on AMD Zen 2/3, 6-8x the cost of these (benchmarks/README.md),
 * where its load is as fast as a plain one. */
SMX_INLINE smx_vf32 smx_load_till_f32(const float *p, ptrdiff_t n, float fill)
{
    __m256i m = smx__till_i32(n);
    return _mm256_blendv_ps(_mm256_set1_ps(fill), _mm256_maskload_ps(p, m), _mm256_castsi256_ps(m));
}
SMX_INLINE smx_vf64 smx_load_till_f64(const double *p, ptrdiff_t n, double fill)
{
    __m256i m = smx__till_i64(n);
    return _mm256_blendv_pd(_mm256_set1_pd(fill), _mm256_maskload_pd(p, m), _mm256_castsi256_pd(m));
}
/* (out of line: a call at each of the kernels' many tail stores, not its branches inlined at
 * each; the kernel modules must stay under 1 MiB) */
SMX_NOINLINE void smx__store_part_f32(float *p, ptrdiff_t n, smx_vf32 v)       /* 0 < n < 8 */
{
    __m128 h = _mm256_castps256_ps128(v);
    if (n >= 4) {
        _mm_storeu_ps(p, h);
        h = _mm256_extractf128_ps(v, 1);
        p += 4;
        n -= 4;
    }
    if (n == 1) {
        _mm_store_ss(p, h);
    } else if (n >= 2) {
        _mm_storel_epi64((__m128i *)p, _mm_castps_si128(h));
        if (n == 3) _mm_store_ss(p + 2, _mm_movehl_ps(h, h));
    }
}
SMX_NOINLINE void smx__store_part_f64(double *p, ptrdiff_t n, smx_vf64 v)      /* 0 < n < 4 */
{
    __m128d h = _mm256_castpd256_pd128(v);
    if (n >= 2) {
        _mm_storeu_pd(p, h);
        if (n == 3) _mm_storel_pd(p + 2, _mm256_extractf128_pd(v, 1));
    } else {
        _mm_storel_pd(p, h);
    }
}
SMX_INLINE void smx_store_till_f32(float *p, ptrdiff_t n, smx_vf32 v)
{
    if (n >= 8) _mm256_storeu_ps(p, v);
    else if (n > 0) smx__store_part_f32(p, n, v);
}
SMX_INLINE void smx_store_till_f64(double *p, ptrdiff_t n, smx_vf64 v)
{
    if (n >= 4) _mm256_storeu_pd(p, v);
    else if (n > 0) smx__store_part_f64(p, n, v);
}

SMX_INLINE smx_vf64 smx_load_f32_f64(const float *p) { return _mm256_cvtps_pd(_mm_loadu_ps(p)); }
SMX_INLINE void smx_store_f64_f32(float *p, smx_vf64 v) { _mm_storeu_ps(p, _mm256_cvtpd_ps(v)); }

/* ---- constants ---- */
SMX_INLINE smx_vf32 smx_setall_f32(float a) { return _mm256_set1_ps(a); }
SMX_INLINE smx_vf64 smx_setall_f64(double a) { return _mm256_set1_pd(a); }
SMX_INLINE smx_vf32 smx_zero_f32(void) { return _mm256_setzero_ps(); }
SMX_INLINE smx_vf64 smx_zero_f64(void) { return _mm256_setzero_pd(); }

/* ---- arithmetic ---- */
SMX_INLINE smx_vf32 smx_add_f32(smx_vf32 a, smx_vf32 b) { return _mm256_add_ps(a, b); }
SMX_INLINE smx_vf64 smx_add_f64(smx_vf64 a, smx_vf64 b) { return _mm256_add_pd(a, b); }
SMX_INLINE smx_vf32 smx_sub_f32(smx_vf32 a, smx_vf32 b) { return _mm256_sub_ps(a, b); }
SMX_INLINE smx_vf64 smx_sub_f64(smx_vf64 a, smx_vf64 b) { return _mm256_sub_pd(a, b); }
SMX_INLINE smx_vf32 smx_mul_f32(smx_vf32 a, smx_vf32 b) { return _mm256_mul_ps(a, b); }
SMX_INLINE smx_vf64 smx_mul_f64(smx_vf64 a, smx_vf64 b) { return _mm256_mul_pd(a, b); }
SMX_INLINE smx_vf32 smx_div_f32(smx_vf32 a, smx_vf32 b) { return _mm256_div_ps(a, b); }
SMX_INLINE smx_vf64 smx_div_f64(smx_vf64 a, smx_vf64 b) { return _mm256_div_pd(a, b); }
SMX_INLINE smx_vf32 smx_muladd_f32(smx_vf32 a, smx_vf32 b, smx_vf32 c) { return _mm256_fmadd_ps(a, b, c); }
SMX_INLINE smx_vf64 smx_muladd_f64(smx_vf64 a, smx_vf64 b, smx_vf64 c) { return _mm256_fmadd_pd(a, b, c); }
SMX_INLINE smx_vf32 smx_nmuladd_f32(smx_vf32 a, smx_vf32 b, smx_vf32 c) { return _mm256_fnmadd_ps(a, b, c); }
SMX_INLINE smx_vf64 smx_nmuladd_f64(smx_vf64 a, smx_vf64 b, smx_vf64 c) { return _mm256_fnmadd_pd(a, b, c); }
SMX_INLINE smx_vf32 smx_mulsub_f32(smx_vf32 a, smx_vf32 b, smx_vf32 c) { return _mm256_fmsub_ps(a, b, c); }
SMX_INLINE smx_vf64 smx_mulsub_f64(smx_vf64 a, smx_vf64 b, smx_vf64 c) { return _mm256_fmsub_pd(a, b, c); }
SMX_INLINE smx_vf32 smx_neg_f32(smx_vf32 a) { return _mm256_xor_ps(a, _mm256_set1_ps(-0.0f)); }
SMX_INLINE smx_vf64 smx_neg_f64(smx_vf64 a) { return _mm256_xor_pd(a, _mm256_set1_pd(-0.0)); }
SMX_INLINE smx_vf32 smx_abs_f32(smx_vf32 a) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), a); }
SMX_INLINE smx_vf64 smx_abs_f64(smx_vf64 a) { return _mm256_andnot_pd(_mm256_set1_pd(-0.0), a); }
/* vmaxps/vminps: a > b ? a : b, a < b ? a : b (b when either is NaN) */
SMX_INLINE smx_vf32 smx_max_f32(smx_vf32 a, smx_vf32 b) { return _mm256_max_ps(a, b); }
SMX_INLINE smx_vf64 smx_max_f64(smx_vf64 a, smx_vf64 b) { return _mm256_max_pd(a, b); }
SMX_INLINE smx_vf32 smx_min_f32(smx_vf32 a, smx_vf32 b) { return _mm256_min_ps(a, b); }
SMX_INLINE smx_vf64 smx_min_f64(smx_vf64 a, smx_vf64 b) { return _mm256_min_pd(a, b); }
SMX_INLINE smx_vf32 smx_rint_f32(smx_vf32 a) { return _mm256_round_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
SMX_INLINE smx_vf64 smx_rint_f64(smx_vf64 a) { return _mm256_round_pd(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }

/* ---- compares (ordered; cmpneq unordered) and masks ---- */
SMX_INLINE smx_mf32 smx_cmplt_f32(smx_vf32 a, smx_vf32 b) { return _mm256_cmp_ps(a, b, _CMP_LT_OQ); }
SMX_INLINE smx_mf64 smx_cmplt_f64(smx_vf64 a, smx_vf64 b) { return _mm256_cmp_pd(a, b, _CMP_LT_OQ); }
SMX_INLINE smx_mf32 smx_cmple_f32(smx_vf32 a, smx_vf32 b) { return _mm256_cmp_ps(a, b, _CMP_LE_OQ); }
SMX_INLINE smx_mf64 smx_cmple_f64(smx_vf64 a, smx_vf64 b) { return _mm256_cmp_pd(a, b, _CMP_LE_OQ); }
SMX_INLINE smx_mf32 smx_cmpgt_f32(smx_vf32 a, smx_vf32 b) { return _mm256_cmp_ps(a, b, _CMP_GT_OQ); }
SMX_INLINE smx_mf64 smx_cmpgt_f64(smx_vf64 a, smx_vf64 b) { return _mm256_cmp_pd(a, b, _CMP_GT_OQ); }
SMX_INLINE smx_mf32 smx_cmpge_f32(smx_vf32 a, smx_vf32 b) { return _mm256_cmp_ps(a, b, _CMP_GE_OQ); }
SMX_INLINE smx_mf64 smx_cmpge_f64(smx_vf64 a, smx_vf64 b) { return _mm256_cmp_pd(a, b, _CMP_GE_OQ); }
SMX_INLINE smx_mf32 smx_cmpeq_f32(smx_vf32 a, smx_vf32 b) { return _mm256_cmp_ps(a, b, _CMP_EQ_OQ); }
SMX_INLINE smx_mf64 smx_cmpeq_f64(smx_vf64 a, smx_vf64 b) { return _mm256_cmp_pd(a, b, _CMP_EQ_OQ); }
SMX_INLINE smx_mf32 smx_cmpneq_f32(smx_vf32 a, smx_vf32 b) { return _mm256_cmp_ps(a, b, _CMP_NEQ_UQ); }
SMX_INLINE smx_mf64 smx_cmpneq_f64(smx_vf64 a, smx_vf64 b) { return _mm256_cmp_pd(a, b, _CMP_NEQ_UQ); }

SMX_INLINE smx_mf32 smx_and_mf32(smx_mf32 a, smx_mf32 b) { return _mm256_and_ps(a, b); }
SMX_INLINE smx_mf64 smx_and_mf64(smx_mf64 a, smx_mf64 b) { return _mm256_and_pd(a, b); }
SMX_INLINE smx_mf32 smx_or_mf32(smx_mf32 a, smx_mf32 b) { return _mm256_or_ps(a, b); }
SMX_INLINE smx_mf64 smx_or_mf64(smx_mf64 a, smx_mf64 b) { return _mm256_or_pd(a, b); }
SMX_INLINE smx_mf32 smx_andnot_mf32(smx_mf32 a, smx_mf32 b) { return _mm256_andnot_ps(b, a); }
SMX_INLINE smx_mf64 smx_andnot_mf64(smx_mf64 a, smx_mf64 b) { return _mm256_andnot_pd(b, a); }
SMX_INLINE smx_mf32 smx_not_mf32(smx_mf32 a)
{
    return _mm256_xor_ps(a, _mm256_castsi256_ps(_mm256_set1_epi32(-1)));
}
SMX_INLINE smx_mf64 smx_not_mf64(smx_mf64 a)
{
    return _mm256_xor_pd(a, _mm256_castsi256_pd(_mm256_set1_epi32(-1)));
}
SMX_INLINE int smx_any_mf32(smx_mf32 m) { return _mm256_movemask_ps(m) != 0; }
SMX_INLINE int smx_any_mf64(smx_mf64 m) { return _mm256_movemask_pd(m) != 0; }
SMX_INLINE int smx_all_mf32(smx_mf32 m) { return _mm256_movemask_ps(m) == 0xFF; }
SMX_INLINE int smx_all_mf64(smx_mf64 m) { return _mm256_movemask_pd(m) == 0xF; }
SMX_INLINE smx_vf32 smx_select_f32(smx_mf32 m, smx_vf32 a, smx_vf32 b) { return _mm256_blendv_ps(b, a, m); }
SMX_INLINE smx_vf64 smx_select_f64(smx_mf64 m, smx_vf64 a, smx_vf64 b) { return _mm256_blendv_pd(b, a, m); }

/* ---- integer lanes and bits ---- */
SMX_INLINE smx_vi32 smx_as_i32_f32(smx_vf32 v) { return _mm256_castps_si256(v); }
SMX_INLINE smx_vf32 smx_as_f32_i32(smx_vi32 i) { return _mm256_castsi256_ps(i); }
SMX_INLINE smx_vi64 smx_as_i64_f64(smx_vf64 v) { return _mm256_castpd_si256(v); }
SMX_INLINE smx_vf64 smx_as_f64_i64(smx_vi64 i) { return _mm256_castsi256_pd(i); }
SMX_INLINE smx_vi32 smx_add_i32(smx_vi32 a, smx_vi32 b) { return _mm256_add_epi32(a, b); }
SMX_INLINE smx_vi32 smx_sub_i32(smx_vi32 a, smx_vi32 b) { return _mm256_sub_epi32(a, b); }
SMX_INLINE smx_vi64 smx_add_i64(smx_vi64 a, smx_vi64 b) { return _mm256_add_epi64(a, b); }
SMX_INLINE smx_vi64 smx_sub_i64(smx_vi64 a, smx_vi64 b) { return _mm256_sub_epi64(a, b); }
/* k: an integer constant expression, 0 < k < lane bits */
#define smx_shli_i32(i, k) _mm256_slli_epi32((i), (k))
#define smx_shri_i32(i, k) _mm256_srli_epi32((i), (k))
#define smx_shli_i64(i, k) _mm256_slli_epi64((i), (k))
#define smx_shri_i64(i, k) _mm256_srli_epi64((i), (k))
SMX_INLINE smx_vi32 smx_setall_i32(int32_t a) { return _mm256_set1_epi32(a); }
SMX_INLINE smx_vi64 smx_setall_i64(int64_t a) { return _mm256_set1_epi64x(a); }

/* ---- v * 2**n for integral n in [-252, 254] (f64: [-2044, 2046]): (v * 2**(n - n2)) * 2**n2
 * with n2 = clamp(n, -126, 127). Both factors are normal; the first product is exact, or it
 * underflows only when n2 = -126 makes the final result round to 0 anyway; the second rounds
 * once. A factor's bits: the integer n + bias sits in the low mantissa bits of
 * n + (1.5 * 2**23 + bias), and a left shift moves it into the exponent field. ---- */
SMX_INLINE smx_vf32 smx__exp2i_f32(__m256 n)
{
    return _mm256_castsi256_ps(_mm256_slli_epi32(
        _mm256_castps_si256(_mm256_add_ps(n, _mm256_set1_ps(12583039.0f))), 23));
}
SMX_INLINE smx_vf64 smx__exp2i_f64(__m256d n)
{
    return _mm256_castsi256_pd(_mm256_slli_epi64(
        _mm256_castpd_si256(_mm256_add_pd(n, _mm256_set1_pd(6755399441056767.0))), 52));
}
SMX_INLINE smx_vf32 smx_scale2_f32(smx_vf32 v, smx_vf32 n)
{
    __m256 n2 = _mm256_min_ps(_mm256_max_ps(n, _mm256_set1_ps(-126.0f)), _mm256_set1_ps(127.0f));
    __m256 n1 = _mm256_sub_ps(n, n2);
    return _mm256_mul_ps(_mm256_mul_ps(v, smx__exp2i_f32(n1)), smx__exp2i_f32(n2));
}
SMX_INLINE smx_vf64 smx_scale2_f64(smx_vf64 v, smx_vf64 n)
{
    __m256d n2 = _mm256_min_pd(_mm256_max_pd(n, _mm256_set1_pd(-1022.0)), _mm256_set1_pd(1023.0));
    __m256d n1 = _mm256_sub_pd(n, n2);
    return _mm256_mul_pd(_mm256_mul_pd(v, smx__exp2i_f64(n1)), smx__exp2i_f64(n2));
}

/* ---- conversions ---- */
SMX_INLINE smx_vf64 smx_cvt_lo_f32_f64(smx_vf32 v) { return _mm256_cvtps_pd(_mm256_castps256_ps128(v)); }
SMX_INLINE smx_vf64 smx_cvt_hi_f32_f64(smx_vf32 v) { return _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)); }
SMX_INLINE smx_vf32 smx_cvt_f64x2_f32(smx_vf64 lo, smx_vf64 hi)
{
    return _mm256_insertf128_ps(_mm256_castps128_ps256(_mm256_cvtpd_ps(lo)), _mm256_cvtpd_ps(hi), 1);
}

/* ---- horizontal: halving order, r[i] = op(r[i], r[i + w]) for w = 4, 2, 1 (f64: 2, 1) ---- */
#define SMX__RED8_F32(v, OP128, OPSS)                                                           \
    __m128 s4 = OP128(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));                  \
    __m128 s2 = OP128(s4, _mm_movehl_ps(s4, s4));                                               \
    return _mm_cvtss_f32(OPSS(s2, _mm_shuffle_ps(s2, s2, 1)))
#define SMX__RED4_F64(v, OP128, OPSD)                                                           \
    __m128d s2 = OP128(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));                 \
    return _mm_cvtsd_f64(OPSD(s2, _mm_unpackhi_pd(s2, s2)))
SMX_INLINE float smx_reduce_add_f32(smx_vf32 v) { SMX__RED8_F32(v, _mm_add_ps, _mm_add_ss); }
SMX_INLINE float smx_reduce_max_f32(smx_vf32 v) { SMX__RED8_F32(v, _mm_max_ps, _mm_max_ss); }
SMX_INLINE float smx_reduce_min_f32(smx_vf32 v) { SMX__RED8_F32(v, _mm_min_ps, _mm_min_ss); }
SMX_INLINE double smx_reduce_add_f64(smx_vf64 v) { SMX__RED4_F64(v, _mm_add_pd, _mm_add_sd); }
SMX_INLINE double smx_reduce_max_f64(smx_vf64 v) { SMX__RED4_F64(v, _mm_max_pd, _mm_max_sd); }
SMX_INLINE double smx_reduce_min_f64(smx_vf64 v) { SMX__RED4_F64(v, _mm_min_pd, _mm_min_sd); }
#undef SMX__RED8_F32
#undef SMX__RED4_F64

/* ---- across rows: r[j] = op over the lanes of v[j], j < lanes (a transposing halving tree:
 * pairs of vectors fold their 128-bit halves together, then 64- and 32-bit units; the inputs
 * are taken in the order that leaves row j in lane j) ---- */
#define SMX__ROWS8_F32(v, OP)                                                                  \
    static const unsigned char o_[8] = {0, 4, 1, 5, 2, 6, 3, 7};               \
    __m256 u_[4], w0_, w1_;                                                                    \
    int i_;                                                                                    \
    for (i_ = 0; i_ < 4; i_++) {                                                               \
        __m256 a_ = v[o_[2 * i_]], b_ = v[o_[2 * i_ + 1]];                                     \
        u_[i_] = OP(_mm256_permute2f128_ps(a_, b_, 0x20), _mm256_permute2f128_ps(a_, b_, 0x31)); \
    }                                                                                          \
    w0_ = OP(_mm256_shuffle_ps(u_[0], u_[1], 0x44), _mm256_shuffle_ps(u_[0], u_[1], 0xEE));    \
    w1_ = OP(_mm256_shuffle_ps(u_[2], u_[3], 0x44), _mm256_shuffle_ps(u_[2], u_[3], 0xEE));    \
    return OP(_mm256_shuffle_ps(w0_, w1_, 0x88), _mm256_shuffle_ps(w0_, w1_, 0xDD))
SMX_INLINE smx_vf32 smx_rows_add_f32(const smx_vf32 *v) { SMX__ROWS8_F32(v, _mm256_add_ps); }
SMX_INLINE smx_vf32 smx_rows_max_f32(const smx_vf32 *v) { SMX__ROWS8_F32(v, _mm256_max_ps); }
SMX_INLINE smx_vf32 smx_rows_min_f32(const smx_vf32 *v) { SMX__ROWS8_F32(v, _mm256_min_ps); }
#undef SMX__ROWS8_F32
SMX_INLINE smx_vf64 smx_rows_add_f64(const smx_vf64 *v)
{
    static const unsigned char o_[4] = {0, 2, 1, 3};
    __m256d u0_ = _mm256_add_pd(_mm256_permute2f128_pd(v[o_[0]], v[o_[1]], 0x20),
                                _mm256_permute2f128_pd(v[o_[0]], v[o_[1]], 0x31));
    __m256d u1_ = _mm256_add_pd(_mm256_permute2f128_pd(v[o_[2]], v[o_[3]], 0x20),
                                _mm256_permute2f128_pd(v[o_[2]], v[o_[3]], 0x31));
    return _mm256_add_pd(_mm256_unpacklo_pd(u0_, u1_), _mm256_unpackhi_pd(u0_, u1_));
}
#define SMX_HAS_ROWS 1

/* ---- lane access (tests, scalar epilogues): 0 <= i < lanes ---- */
SMX_INLINE float smx_get_f32(smx_vf32 v, int i) { float b[8]; _mm256_storeu_ps(b, v); return b[i & 7]; }
SMX_INLINE double smx_get_f64(smx_vf64 v, int i) { double b[4]; _mm256_storeu_pd(b, v); return b[i & 3]; }
SMX_INLINE int32_t smx_get_i32(smx_vi32 v, int i)
{
    int32_t b[8]; _mm256_storeu_si256((__m256i *)b, v); return b[i & 7];
}
SMX_INLINE int64_t smx_get_i64(smx_vi64 v, int i)
{
    int64_t b[4]; _mm256_storeu_si256((__m256i *)b, v); return b[i & 3];
}

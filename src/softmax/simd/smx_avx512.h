/* smx primitives on AVX-512 F/DQ/BW/VL: 16 floats / 8 doubles a vector, __mmask16/__mmask8
 * masks, masked loads and stores for the tails, vscalef for smx_scale2_*. Contract: README.md.
 * Include smx_simd.h, not this file. */
#ifndef SMX__INSIDE
#  error "include smx_simd.h (with SMX_ISA_AVX512 defined), not smx_avx512.h"
#endif
#if !defined(_MSC_VER) && !(defined(__AVX512F__) && defined(__AVX512DQ__) && \
                            defined(__AVX512BW__) && defined(__AVX512VL__) && defined(__FMA__))
#  error "SMX_ISA_AVX512 needs -mavx512f -mavx512dq -mavx512bw -mavx512vl -mavx2 -mfma"
#endif
#include <immintrin.h>

typedef __m512 smx_vf32;
typedef __m512d smx_vf64;
typedef __m512i smx_vi32;
typedef __m512i smx_vi64;
typedef __mmask16 smx_mf32;
typedef __mmask8 smx_mf64;
#define SMX_NF32 16
#define SMX_NF64 8
#define SMX_HAS_FMA 1
#define SMX_HAS_SCALEF 1
#define SMX_ISA_NAME "avx512"

/* ---- memory ---- */
SMX_INLINE smx_vf32 smx_load_f32(const float *p) { return _mm512_loadu_ps(p); }
SMX_INLINE smx_vf64 smx_load_f64(const double *p) { return _mm512_loadu_pd(p); }
SMX_INLINE void smx_store_f32(float *p, smx_vf32 v) { _mm512_storeu_ps(p, v); }
SMX_INLINE void smx_stream_f32(float *p, smx_vf32 v) { _mm512_stream_ps(p, v); }
SMX_INLINE void smx_store_f64(double *p, smx_vf64 v) { _mm512_storeu_pd(p, v); }

/* ---- tail masks: lanes i < n (two compares, a shift and a decrement; no loop) ---- */
SMX_INLINE smx_mf32 smx_till_f32(ptrdiff_t n)
{
    return (__mmask16)((1u << (unsigned)SMX__CLAMP_LANES(n, 16)) - 1u);
}
SMX_INLINE smx_mf64 smx_till_f64(ptrdiff_t n)
{
    return (__mmask8)((1u << (unsigned)SMX__CLAMP_LANES(n, 8)) - 1u);
}

/* Masked loads and stores: masked-off lanes are not accessed (no fault, no read). */
SMX_INLINE smx_vf32 smx_load_till_f32(const float *p, ptrdiff_t n, float fill)
{
    return _mm512_mask_loadu_ps(_mm512_set1_ps(fill), smx_till_f32(n), p);
}
SMX_INLINE smx_vf64 smx_load_till_f64(const double *p, ptrdiff_t n, double fill)
{
    return _mm512_mask_loadu_pd(_mm512_set1_pd(fill), smx_till_f64(n), p);
}
SMX_INLINE void smx_store_till_f32(float *p, ptrdiff_t n, smx_vf32 v)
{
    _mm512_mask_storeu_ps(p, smx_till_f32(n), v);
}
SMX_INLINE void smx_store_till_f64(double *p, ptrdiff_t n, smx_vf64 v)
{
    _mm512_mask_storeu_pd(p, smx_till_f64(n), v);
}

SMX_INLINE smx_vf64 smx_load_f32_f64(const float *p) { return _mm512_cvtps_pd(_mm256_loadu_ps(p)); }
SMX_INLINE void smx_store_f64_f32(float *p, smx_vf64 v) { _mm256_storeu_ps(p, _mm512_cvtpd_ps(v)); }

/* ---- constants ---- */
SMX_INLINE smx_vf32 smx_setall_f32(float a) { return _mm512_set1_ps(a); }
SMX_INLINE smx_vf64 smx_setall_f64(double a) { return _mm512_set1_pd(a); }
SMX_INLINE smx_vf32 smx_zero_f32(void) { return _mm512_setzero_ps(); }
SMX_INLINE smx_vf64 smx_zero_f64(void) { return _mm512_setzero_pd(); }

/* ---- arithmetic ---- */
SMX_INLINE smx_vf32 smx_add_f32(smx_vf32 a, smx_vf32 b) { return _mm512_add_ps(a, b); }
SMX_INLINE smx_vf64 smx_add_f64(smx_vf64 a, smx_vf64 b) { return _mm512_add_pd(a, b); }
SMX_INLINE smx_vf32 smx_sub_f32(smx_vf32 a, smx_vf32 b) { return _mm512_sub_ps(a, b); }
SMX_INLINE smx_vf64 smx_sub_f64(smx_vf64 a, smx_vf64 b) { return _mm512_sub_pd(a, b); }
SMX_INLINE smx_vf32 smx_mul_f32(smx_vf32 a, smx_vf32 b) { return _mm512_mul_ps(a, b); }
SMX_INLINE smx_vf64 smx_mul_f64(smx_vf64 a, smx_vf64 b) { return _mm512_mul_pd(a, b); }
SMX_INLINE smx_vf32 smx_div_f32(smx_vf32 a, smx_vf32 b) { return _mm512_div_ps(a, b); }
SMX_INLINE smx_vf64 smx_div_f64(smx_vf64 a, smx_vf64 b) { return _mm512_div_pd(a, b); }
SMX_INLINE smx_vf32 smx_muladd_f32(smx_vf32 a, smx_vf32 b, smx_vf32 c) { return _mm512_fmadd_ps(a, b, c); }
SMX_INLINE smx_vf64 smx_muladd_f64(smx_vf64 a, smx_vf64 b, smx_vf64 c) { return _mm512_fmadd_pd(a, b, c); }
SMX_INLINE smx_vf32 smx_nmuladd_f32(smx_vf32 a, smx_vf32 b, smx_vf32 c) { return _mm512_fnmadd_ps(a, b, c); }
SMX_INLINE smx_vf64 smx_nmuladd_f64(smx_vf64 a, smx_vf64 b, smx_vf64 c) { return _mm512_fnmadd_pd(a, b, c); }
SMX_INLINE smx_vf32 smx_mulsub_f32(smx_vf32 a, smx_vf32 b, smx_vf32 c) { return _mm512_fmsub_ps(a, b, c); }
SMX_INLINE smx_vf64 smx_mulsub_f64(smx_vf64 a, smx_vf64 b, smx_vf64 c) { return _mm512_fmsub_pd(a, b, c); }
SMX_INLINE smx_vf32 smx_neg_f32(smx_vf32 a) { return _mm512_xor_ps(a, _mm512_set1_ps(-0.0f)); }
SMX_INLINE smx_vf64 smx_neg_f64(smx_vf64 a) { return _mm512_xor_pd(a, _mm512_set1_pd(-0.0)); }
SMX_INLINE smx_vf32 smx_abs_f32(smx_vf32 a) { return _mm512_andnot_ps(_mm512_set1_ps(-0.0f), a); }
SMX_INLINE smx_vf64 smx_abs_f64(smx_vf64 a) { return _mm512_andnot_pd(_mm512_set1_pd(-0.0), a); }
/* vmaxps/vminps: a > b ? a : b, a < b ? a : b (b when either is NaN) */
SMX_INLINE smx_vf32 smx_max_f32(smx_vf32 a, smx_vf32 b) { return _mm512_max_ps(a, b); }
SMX_INLINE smx_vf64 smx_max_f64(smx_vf64 a, smx_vf64 b) { return _mm512_max_pd(a, b); }
SMX_INLINE smx_vf32 smx_min_f32(smx_vf32 a, smx_vf32 b) { return _mm512_min_ps(a, b); }
SMX_INLINE smx_vf64 smx_min_f64(smx_vf64 a, smx_vf64 b) { return _mm512_min_pd(a, b); }
SMX_INLINE smx_vf32 smx_rint_f32(smx_vf32 a)
{
    return _mm512_roundscale_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
}
SMX_INLINE smx_vf64 smx_rint_f64(smx_vf64 a)
{
    return _mm512_roundscale_pd(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
}

/* ---- compares (ordered; cmpneq unordered) and masks ---- */
SMX_INLINE smx_mf32 smx_cmplt_f32(smx_vf32 a, smx_vf32 b) { return _mm512_cmp_ps_mask(a, b, _CMP_LT_OQ); }
SMX_INLINE smx_mf64 smx_cmplt_f64(smx_vf64 a, smx_vf64 b) { return _mm512_cmp_pd_mask(a, b, _CMP_LT_OQ); }
SMX_INLINE smx_mf32 smx_cmple_f32(smx_vf32 a, smx_vf32 b) { return _mm512_cmp_ps_mask(a, b, _CMP_LE_OQ); }
SMX_INLINE smx_mf64 smx_cmple_f64(smx_vf64 a, smx_vf64 b) { return _mm512_cmp_pd_mask(a, b, _CMP_LE_OQ); }
SMX_INLINE smx_mf32 smx_cmpgt_f32(smx_vf32 a, smx_vf32 b) { return _mm512_cmp_ps_mask(a, b, _CMP_GT_OQ); }
SMX_INLINE smx_mf64 smx_cmpgt_f64(smx_vf64 a, smx_vf64 b) { return _mm512_cmp_pd_mask(a, b, _CMP_GT_OQ); }
SMX_INLINE smx_mf32 smx_cmpge_f32(smx_vf32 a, smx_vf32 b) { return _mm512_cmp_ps_mask(a, b, _CMP_GE_OQ); }
SMX_INLINE smx_mf64 smx_cmpge_f64(smx_vf64 a, smx_vf64 b) { return _mm512_cmp_pd_mask(a, b, _CMP_GE_OQ); }
SMX_INLINE smx_mf32 smx_cmpeq_f32(smx_vf32 a, smx_vf32 b) { return _mm512_cmp_ps_mask(a, b, _CMP_EQ_OQ); }
SMX_INLINE smx_mf64 smx_cmpeq_f64(smx_vf64 a, smx_vf64 b) { return _mm512_cmp_pd_mask(a, b, _CMP_EQ_OQ); }
SMX_INLINE smx_mf32 smx_cmpneq_f32(smx_vf32 a, smx_vf32 b) { return _mm512_cmp_ps_mask(a, b, _CMP_NEQ_UQ); }
SMX_INLINE smx_mf64 smx_cmpneq_f64(smx_vf64 a, smx_vf64 b) { return _mm512_cmp_pd_mask(a, b, _CMP_NEQ_UQ); }

SMX_INLINE smx_mf32 smx_and_mf32(smx_mf32 a, smx_mf32 b) { return (__mmask16)(a & b); }
SMX_INLINE smx_mf64 smx_and_mf64(smx_mf64 a, smx_mf64 b) { return (__mmask8)(a & b); }
SMX_INLINE smx_mf32 smx_or_mf32(smx_mf32 a, smx_mf32 b) { return (__mmask16)(a | b); }
SMX_INLINE smx_mf64 smx_or_mf64(smx_mf64 a, smx_mf64 b) { return (__mmask8)(a | b); }
SMX_INLINE smx_mf32 smx_andnot_mf32(smx_mf32 a, smx_mf32 b) { return (__mmask16)(a & ~b); }
SMX_INLINE smx_mf64 smx_andnot_mf64(smx_mf64 a, smx_mf64 b) { return (__mmask8)(a & ~b); }
SMX_INLINE smx_mf32 smx_not_mf32(smx_mf32 a) { return (__mmask16)~a; }
SMX_INLINE smx_mf64 smx_not_mf64(smx_mf64 a) { return (__mmask8)~a; }
SMX_INLINE int smx_any_mf32(smx_mf32 m) { return m != 0; }
SMX_INLINE int smx_any_mf64(smx_mf64 m) { return m != 0; }
SMX_INLINE int smx_all_mf32(smx_mf32 m) { return m == 0xFFFFu; }
SMX_INLINE int smx_all_mf64(smx_mf64 m) { return m == 0xFFu; }
SMX_INLINE smx_vf32 smx_select_f32(smx_mf32 m, smx_vf32 a, smx_vf32 b) { return _mm512_mask_blend_ps(m, b, a); }
SMX_INLINE smx_vf64 smx_select_f64(smx_mf64 m, smx_vf64 a, smx_vf64 b) { return _mm512_mask_blend_pd(m, b, a); }

/* ---- integer lanes and bits ---- */
SMX_INLINE smx_vi32 smx_as_i32_f32(smx_vf32 v) { return _mm512_castps_si512(v); }
SMX_INLINE smx_vf32 smx_as_f32_i32(smx_vi32 i) { return _mm512_castsi512_ps(i); }
SMX_INLINE smx_vi64 smx_as_i64_f64(smx_vf64 v) { return _mm512_castpd_si512(v); }
SMX_INLINE smx_vf64 smx_as_f64_i64(smx_vi64 i) { return _mm512_castsi512_pd(i); }
SMX_INLINE smx_vi32 smx_add_i32(smx_vi32 a, smx_vi32 b) { return _mm512_add_epi32(a, b); }
SMX_INLINE smx_vi32 smx_sub_i32(smx_vi32 a, smx_vi32 b) { return _mm512_sub_epi32(a, b); }
SMX_INLINE smx_vi64 smx_add_i64(smx_vi64 a, smx_vi64 b) { return _mm512_add_epi64(a, b); }
SMX_INLINE smx_vi64 smx_sub_i64(smx_vi64 a, smx_vi64 b) { return _mm512_sub_epi64(a, b); }
/* k: an integer constant expression, 0 < k < lane bits */
#define smx_shli_i32(i, k) _mm512_slli_epi32((i), (k))
#define smx_shri_i32(i, k) _mm512_srli_epi32((i), (k))
#define smx_shli_i64(i, k) _mm512_slli_epi64((i), (k))
#define smx_shri_i64(i, k) _mm512_srli_epi64((i), (k))
SMX_INLINE smx_vi32 smx_setall_i32(int32_t a) { return _mm512_set1_epi32(a); }
SMX_INLINE smx_vi64 smx_setall_i64(int64_t a) { return _mm512_set1_epi64(a); }

/* ---- v * 2**n (n integral): vscalef, one rounding, for any n ---- */
SMX_INLINE smx_vf32 smx_scale2_f32(smx_vf32 v, smx_vf32 n) { return _mm512_scalef_ps(v, n); }
SMX_INLINE smx_vf64 smx_scale2_f64(smx_vf64 v, smx_vf64 n) { return _mm512_scalef_pd(v, n); }

/* ---- conversions ---- */
SMX_INLINE smx_vf64 smx_cvt_lo_f32_f64(smx_vf32 v) { return _mm512_cvtps_pd(_mm512_castps512_ps256(v)); }
SMX_INLINE smx_vf64 smx_cvt_hi_f32_f64(smx_vf32 v) { return _mm512_cvtps_pd(_mm512_extractf32x8_ps(v, 1)); }
SMX_INLINE smx_vf32 smx_cvt_f64x2_f32(smx_vf64 lo, smx_vf64 hi)
{
    return _mm512_insertf32x8(_mm512_castps256_ps512(_mm512_cvtpd_ps(lo)), _mm512_cvtpd_ps(hi), 1);
}

/* ---- horizontal: halving order, r[i] = op(r[i], r[i + w]) for w = 8, 4, 2, 1 (f64: 4, 2, 1) ---- */
#define SMX__RED16_F32(v, OP256, OP128, OPSS)                                                   \
    __m256 s8 = OP256(_mm512_castps512_ps256(v), _mm512_extractf32x8_ps(v, 1));                 \
    __m128 s4 = OP128(_mm256_castps256_ps128(s8), _mm256_extractf128_ps(s8, 1));                \
    __m128 s2 = OP128(s4, _mm_movehl_ps(s4, s4));                                               \
    return _mm_cvtss_f32(OPSS(s2, _mm_shuffle_ps(s2, s2, 1)))
#define SMX__RED8_F64(v, OP256, OP128, OPSD)                                                    \
    __m256d s4 = OP256(_mm512_castpd512_pd256(v), _mm512_extractf64x4_pd(v, 1));                \
    __m128d s2 = OP128(_mm256_castpd256_pd128(s4), _mm256_extractf128_pd(s4, 1));               \
    return _mm_cvtsd_f64(OPSD(s2, _mm_unpackhi_pd(s2, s2)))
SMX_INLINE float smx_reduce_add_f32(smx_vf32 v) { SMX__RED16_F32(v, _mm256_add_ps, _mm_add_ps, _mm_add_ss); }
SMX_INLINE float smx_reduce_max_f32(smx_vf32 v) { SMX__RED16_F32(v, _mm256_max_ps, _mm_max_ps, _mm_max_ss); }
SMX_INLINE float smx_reduce_min_f32(smx_vf32 v) { SMX__RED16_F32(v, _mm256_min_ps, _mm_min_ps, _mm_min_ss); }
SMX_INLINE double smx_reduce_add_f64(smx_vf64 v) { SMX__RED8_F64(v, _mm256_add_pd, _mm_add_pd, _mm_add_sd); }
SMX_INLINE double smx_reduce_max_f64(smx_vf64 v) { SMX__RED8_F64(v, _mm256_max_pd, _mm_max_pd, _mm_max_sd); }
SMX_INLINE double smx_reduce_min_f64(smx_vf64 v) { SMX__RED8_F64(v, _mm256_min_pd, _mm_min_pd, _mm_min_sd); }
#undef SMX__RED16_F32
#undef SMX__RED8_F64

/* ---- across rows: r[j] = op over the lanes of v[j], j < lanes (a transposing halving tree:
 * pairs of vectors fold their halves together, 256-bit, 128-bit, then 64- and 32-bit units;
 * the inputs are taken in the order that leaves row j in lane j) ---- */
#define SMX__ROWS16_F32(v, OP)                                                                 \
    static const unsigned char o_[16] = {0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15};\
    __m512 u_[8], w_[4], z0_, z1_;                                                             \
    int i_;                                                                                    \
    for (i_ = 0; i_ < 8; i_++) {                                                               \
        __m512 a_ = v[o_[2 * i_]], b_ = v[o_[2 * i_ + 1]];                                     \
        u_[i_] = OP(_mm512_shuffle_f32x4(a_, b_, 0x44), _mm512_shuffle_f32x4(a_, b_, 0xEE));   \
    }                                                                                          \
    for (i_ = 0; i_ < 4; i_++)                                                                 \
        w_[i_] = OP(_mm512_shuffle_f32x4(u_[2 * i_], u_[2 * i_ + 1], 0x88),                    \
                    _mm512_shuffle_f32x4(u_[2 * i_], u_[2 * i_ + 1], 0xDD));                   \
    z0_ = OP(_mm512_shuffle_ps(w_[0], w_[1], 0x44), _mm512_shuffle_ps(w_[0], w_[1], 0xEE));    \
    z1_ = OP(_mm512_shuffle_ps(w_[2], w_[3], 0x44), _mm512_shuffle_ps(w_[2], w_[3], 0xEE));    \
    return OP(_mm512_shuffle_ps(z0_, z1_, 0x88), _mm512_shuffle_ps(z0_, z1_, 0xDD))
SMX_INLINE smx_vf32 smx_rows_add_f32(const smx_vf32 *v) { SMX__ROWS16_F32(v, _mm512_add_ps); }
SMX_INLINE smx_vf32 smx_rows_max_f32(const smx_vf32 *v) { SMX__ROWS16_F32(v, _mm512_max_ps); }
SMX_INLINE smx_vf32 smx_rows_min_f32(const smx_vf32 *v) { SMX__ROWS16_F32(v, _mm512_min_ps); }
#undef SMX__ROWS16_F32
SMX_INLINE smx_vf64 smx_rows_add_f64(const smx_vf64 *v)
{
    static const unsigned char o_[8] = {0, 2, 4, 6, 1, 3, 5, 7};
    __m512d u_[4], w0_, w1_;
    int i_;
    for (i_ = 0; i_ < 4; i_++) {
        __m512d a_ = v[o_[2 * i_]], b_ = v[o_[2 * i_ + 1]];
        u_[i_] = _mm512_add_pd(_mm512_shuffle_f64x2(a_, b_, 0x44), _mm512_shuffle_f64x2(a_, b_, 0xEE));
    }
    w0_ = _mm512_add_pd(_mm512_shuffle_f64x2(u_[0], u_[1], 0x88), _mm512_shuffle_f64x2(u_[0], u_[1], 0xDD));
    w1_ = _mm512_add_pd(_mm512_shuffle_f64x2(u_[2], u_[3], 0x88), _mm512_shuffle_f64x2(u_[2], u_[3], 0xDD));
    return _mm512_add_pd(_mm512_shuffle_pd(w0_, w1_, 0x00), _mm512_shuffle_pd(w0_, w1_, 0xFF));
}
#define SMX_HAS_ROWS 1

/* ---- lane access (tests, scalar epilogues): 0 <= i < lanes ---- */
SMX_INLINE float smx_get_f32(smx_vf32 v, int i) { float b[16]; _mm512_storeu_ps(b, v); return b[i & 15]; }
SMX_INLINE double smx_get_f64(smx_vf64 v, int i) { double b[8]; _mm512_storeu_pd(b, v); return b[i & 7]; }
SMX_INLINE int32_t smx_get_i32(smx_vi32 v, int i)
{
    int32_t b[16]; _mm512_storeu_si512((void *)b, v); return b[i & 15];
}
SMX_INLINE int64_t smx_get_i64(smx_vi64 v, int i)
{
    int64_t b[8]; _mm512_storeu_si512((void *)b, v); return b[i & 7];
}

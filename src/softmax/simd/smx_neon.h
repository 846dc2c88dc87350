/* smx primitives on AArch64 Advanced SIMD (NEON): 4 floats / 2 doubles a vector, all-ones lane
 * masks in unsigned vectors, fused multiply-add. Contract: README.md. Include smx_simd.h, not
 * this file. */
#ifndef SMX__INSIDE
#  error "include smx_simd.h (with SMX_ISA_NEON defined), not smx_neon.h"
#endif
#if !(defined(__aarch64__) || defined(_M_ARM64))
#  error "SMX_ISA_NEON needs AArch64 (32-bit ARM NEON has no double lanes)"
#endif
#include <arm_neon.h>

typedef float32x4_t smx_vf32;
typedef float64x2_t smx_vf64;
typedef int32x4_t smx_vi32;
typedef int64x2_t smx_vi64;
typedef uint32x4_t smx_mf32;
typedef uint64x2_t smx_mf64;
#define SMX_NF32 4
#define SMX_NF64 2
#define SMX_HAS_FMA 1
#define SMX_HAS_SCALEF 0
#define SMX_ISA_NAME "neon"

/* ---- memory ---- */
SMX_INLINE smx_vf32 smx_load_f32(const float *p) { return vld1q_f32(p); }
SMX_INLINE smx_vf64 smx_load_f64(const double *p) { return vld1q_f64(p); }
SMX_INLINE void smx_store_f32(float *p, smx_vf32 v) { vst1q_f32(p, v); }
SMX_INLINE void smx_stream_f32(float *p, smx_vf32 v) { vst1q_f32(p, v); }
SMX_INLINE void smx_store_f64(double *p, smx_vf64 v) { vst1q_f64(p, v); }

/* ---- tail masks: lanes i < n ---- */
SMX_INLINE smx_mf32 smx_till_f32(ptrdiff_t n)
{
    static const int32_t iota[4] = {0, 1, 2, 3};
    return vcltq_s32(vld1q_s32(iota), vdupq_n_s32((int32_t)SMX__CLAMP_LANES(n, 4)));
}
SMX_INLINE smx_mf64 smx_till_f64(ptrdiff_t n)
{
    static const int64_t iota[2] = {0, 1};
    return vcltq_s64(vld1q_s64(iota), vdupq_n_s64((int64_t)SMX__CLAMP_LANES(n, 2)));
}

/* Partial loads and stores: one branch on n, then lane and half-vector moves of lanes i < n. */
SMX_INLINE smx_vf32 smx_load_till_f32(const float *p, ptrdiff_t n, float fill)
{
    float32x4_t f = vdupq_n_f32(fill);
    float32x2_t lo;
    if (n >= 4) return vld1q_f32(p);
    if (n <= 0) return f;
    if (n == 1) return vld1q_lane_f32(p, f, 0);
    lo = vld1_f32(p);
    if (n == 2) return vcombine_f32(lo, vget_high_f32(f));
    return vcombine_f32(lo, vld1_lane_f32(p + 2, vget_high_f32(f), 0));    /* n == 3 */
}
SMX_INLINE smx_vf64 smx_load_till_f64(const double *p, ptrdiff_t n, double fill)
{
    float64x2_t f = vdupq_n_f64(fill);
    if (n >= 2) return vld1q_f64(p);
    if (n <= 0) return f;
    return vld1q_lane_f64(p, f, 0);
}
SMX_INLINE void smx_store_till_f32(float *p, ptrdiff_t n, smx_vf32 v)
{
    if (n >= 4) { vst1q_f32(p, v); return; }
    if (n <= 0) return;
    if (n == 1) { vst1q_lane_f32(p, v, 0); return; }
    vst1_f32(p, vget_low_f32(v));
    if (n == 3) vst1q_lane_f32(p + 2, v, 2);
}
SMX_INLINE void smx_store_till_f64(double *p, ptrdiff_t n, smx_vf64 v)
{
    if (n >= 2) vst1q_f64(p, v);
    else if (n == 1) vst1q_lane_f64(p, v, 0);
}

SMX_INLINE smx_vf64 smx_load_f32_f64(const float *p) { return vcvt_f64_f32(vld1_f32(p)); }
SMX_INLINE void smx_store_f64_f32(float *p, smx_vf64 v) { vst1_f32(p, vcvt_f32_f64(v)); }

/* ---- constants ---- */
SMX_INLINE smx_vf32 smx_setall_f32(float a) { return vdupq_n_f32(a); }
SMX_INLINE smx_vf64 smx_setall_f64(double a) { return vdupq_n_f64(a); }
SMX_INLINE smx_vf32 smx_zero_f32(void) { return vdupq_n_f32(0.0f); }
SMX_INLINE smx_vf64 smx_zero_f64(void) { return vdupq_n_f64(0.0); }

/* ---- arithmetic ---- */
SMX_INLINE smx_vf32 smx_add_f32(smx_vf32 a, smx_vf32 b) { return vaddq_f32(a, b); }
SMX_INLINE smx_vf64 smx_add_f64(smx_vf64 a, smx_vf64 b) { return vaddq_f64(a, b); }
SMX_INLINE smx_vf32 smx_sub_f32(smx_vf32 a, smx_vf32 b) { return vsubq_f32(a, b); }
SMX_INLINE smx_vf64 smx_sub_f64(smx_vf64 a, smx_vf64 b) { return vsubq_f64(a, b); }
SMX_INLINE smx_vf32 smx_mul_f32(smx_vf32 a, smx_vf32 b) { return vmulq_f32(a, b); }
SMX_INLINE smx_vf64 smx_mul_f64(smx_vf64 a, smx_vf64 b) { return vmulq_f64(a, b); }
SMX_INLINE smx_vf32 smx_div_f32(smx_vf32 a, smx_vf32 b) { return vdivq_f32(a, b); }
SMX_INLINE smx_vf64 smx_div_f64(smx_vf64 a, smx_vf64 b) { return vdivq_f64(a, b); }
SMX_INLINE smx_vf32 smx_muladd_f32(smx_vf32 a, smx_vf32 b, smx_vf32 c) { return vfmaq_f32(c, a, b); }
SMX_INLINE smx_vf64 smx_muladd_f64(smx_vf64 a, smx_vf64 b, smx_vf64 c) { return vfmaq_f64(c, a, b); }
SMX_INLINE smx_vf32 smx_nmuladd_f32(smx_vf32 a, smx_vf32 b, smx_vf32 c) { return vfmsq_f32(c, a, b); }
SMX_INLINE smx_vf64 smx_nmuladd_f64(smx_vf64 a, smx_vf64 b, smx_vf64 c) { return vfmsq_f64(c, a, b); }
/* a*b - c as (-c) + a*b: the same sign of an exact zero as a fused a*b - c */
SMX_INLINE smx_vf32 smx_mulsub_f32(smx_vf32 a, smx_vf32 b, smx_vf32 c) { return vfmaq_f32(vnegq_f32(c), a, b); }
SMX_INLINE smx_vf64 smx_mulsub_f64(smx_vf64 a, smx_vf64 b, smx_vf64 c) { return vfmaq_f64(vnegq_f64(c), a, b); }
SMX_INLINE smx_vf32 smx_neg_f32(smx_vf32 a) { return vnegq_f32(a); }
SMX_INLINE smx_vf64 smx_neg_f64(smx_vf64 a) { return vnegq_f64(a); }
SMX_INLINE smx_vf32 smx_abs_f32(smx_vf32 a) { return vabsq_f32(a); }
SMX_INLINE smx_vf64 smx_abs_f64(smx_vf64 a) { return vabsq_f64(a); }
/* a > b ? a : b, a < b ? a : b exactly (fmax/fmaxnm treat NaN otherwise): compare and select */
SMX_INLINE smx_vf32 smx_max_f32(smx_vf32 a, smx_vf32 b) { return vbslq_f32(vcgtq_f32(a, b), a, b); }
SMX_INLINE smx_vf64 smx_max_f64(smx_vf64 a, smx_vf64 b) { return vbslq_f64(vcgtq_f64(a, b), a, b); }
SMX_INLINE smx_vf32 smx_min_f32(smx_vf32 a, smx_vf32 b) { return vbslq_f32(vcltq_f32(a, b), a, b); }
SMX_INLINE smx_vf64 smx_min_f64(smx_vf64 a, smx_vf64 b) { return vbslq_f64(vcltq_f64(a, b), a, b); }
SMX_INLINE smx_vf32 smx_rint_f32(smx_vf32 a) { return vrndnq_f32(a); }
SMX_INLINE smx_vf64 smx_rint_f64(smx_vf64 a) { return vrndnq_f64(a); }

/* ---- compares (ordered; cmpneq unordered) and masks ---- */
SMX_INLINE smx_mf32 smx_cmplt_f32(smx_vf32 a, smx_vf32 b) { return vcltq_f32(a, b); }
SMX_INLINE smx_mf64 smx_cmplt_f64(smx_vf64 a, smx_vf64 b) { return vcltq_f64(a, b); }
SMX_INLINE smx_mf32 smx_cmple_f32(smx_vf32 a, smx_vf32 b) { return vcleq_f32(a, b); }
SMX_INLINE smx_mf64 smx_cmple_f64(smx_vf64 a, smx_vf64 b) { return vcleq_f64(a, b); }
SMX_INLINE smx_mf32 smx_cmpgt_f32(smx_vf32 a, smx_vf32 b) { return vcgtq_f32(a, b); }
SMX_INLINE smx_mf64 smx_cmpgt_f64(smx_vf64 a, smx_vf64 b) { return vcgtq_f64(a, b); }
SMX_INLINE smx_mf32 smx_cmpge_f32(smx_vf32 a, smx_vf32 b) { return vcgeq_f32(a, b); }
SMX_INLINE smx_mf64 smx_cmpge_f64(smx_vf64 a, smx_vf64 b) { return vcgeq_f64(a, b); }
SMX_INLINE smx_mf32 smx_cmpeq_f32(smx_vf32 a, smx_vf32 b) { return vceqq_f32(a, b); }
SMX_INLINE smx_mf64 smx_cmpeq_f64(smx_vf64 a, smx_vf64 b) { return vceqq_f64(a, b); }
SMX_INLINE smx_mf32 smx_not_mf32(smx_mf32 a) { return vmvnq_u32(a); }
SMX_INLINE smx_mf64 smx_not_mf64(smx_mf64 a) { return vreinterpretq_u64_u32(vmvnq_u32(vreinterpretq_u32_u64(a))); }
SMX_INLINE smx_mf32 smx_cmpneq_f32(smx_vf32 a, smx_vf32 b) { return vmvnq_u32(vceqq_f32(a, b)); }
SMX_INLINE smx_mf64 smx_cmpneq_f64(smx_vf64 a, smx_vf64 b) { return smx_not_mf64(vceqq_f64(a, b)); }

SMX_INLINE smx_mf32 smx_and_mf32(smx_mf32 a, smx_mf32 b) { return vandq_u32(a, b); }
SMX_INLINE smx_mf64 smx_and_mf64(smx_mf64 a, smx_mf64 b) { return vandq_u64(a, b); }
SMX_INLINE smx_mf32 smx_or_mf32(smx_mf32 a, smx_mf32 b) { return vorrq_u32(a, b); }
SMX_INLINE smx_mf64 smx_or_mf64(smx_mf64 a, smx_mf64 b) { return vorrq_u64(a, b); }
SMX_INLINE smx_mf32 smx_andnot_mf32(smx_mf32 a, smx_mf32 b) { return vbicq_u32(a, b); }
SMX_INLINE smx_mf64 smx_andnot_mf64(smx_mf64 a, smx_mf64 b) { return vbicq_u64(a, b); }
SMX_INLINE int smx_any_mf32(smx_mf32 m) { return vmaxvq_u32(m) != 0; }
SMX_INLINE int smx_any_mf64(smx_mf64 m) { return vmaxvq_u32(vreinterpretq_u32_u64(m)) != 0; }
SMX_INLINE int smx_all_mf32(smx_mf32 m) { return vminvq_u32(m) != 0; }
SMX_INLINE int smx_all_mf64(smx_mf64 m) { return vminvq_u32(vreinterpretq_u32_u64(m)) != 0; }
SMX_INLINE smx_vf32 smx_select_f32(smx_mf32 m, smx_vf32 a, smx_vf32 b) { return vbslq_f32(m, a, b); }
SMX_INLINE smx_vf64 smx_select_f64(smx_mf64 m, smx_vf64 a, smx_vf64 b) { return vbslq_f64(m, a, b); }

/* ---- integer lanes and bits ---- */
SMX_INLINE smx_vi32 smx_as_i32_f32(smx_vf32 v) { return vreinterpretq_s32_f32(v); }
SMX_INLINE smx_vf32 smx_as_f32_i32(smx_vi32 i) { return vreinterpretq_f32_s32(i); }
SMX_INLINE smx_vi64 smx_as_i64_f64(smx_vf64 v) { return vreinterpretq_s64_f64(v); }
SMX_INLINE smx_vf64 smx_as_f64_i64(smx_vi64 i) { return vreinterpretq_f64_s64(i); }
SMX_INLINE smx_vi32 smx_add_i32(smx_vi32 a, smx_vi32 b) { return vaddq_s32(a, b); }
SMX_INLINE smx_vi32 smx_sub_i32(smx_vi32 a, smx_vi32 b) { return vsubq_s32(a, b); }
SMX_INLINE smx_vi64 smx_add_i64(smx_vi64 a, smx_vi64 b) { return vaddq_s64(a, b); }
SMX_INLINE smx_vi64 smx_sub_i64(smx_vi64 a, smx_vi64 b) { return vsubq_s64(a, b); }
/* k: an integer constant expression, 0 < k < lane bits (NEON shifts take immediates only) */
#define smx_shli_i32(i, k) vshlq_n_s32((i), (k))
#define smx_shri_i32(i, k) vreinterpretq_s32_u32(vshrq_n_u32(vreinterpretq_u32_s32(i), (k)))
#define smx_shli_i64(i, k) vshlq_n_s64((i), (k))
#define smx_shri_i64(i, k) vreinterpretq_s64_u64(vshrq_n_u64(vreinterpretq_u64_s64(i), (k)))
SMX_INLINE smx_vi32 smx_setall_i32(int32_t a) { return vdupq_n_s32(a); }
SMX_INLINE smx_vi64 smx_setall_i64(int64_t a) { return vdupq_n_s64(a); }

/* ---- v * 2**n for integral n in [-252, 254] (f64: [-2044, 2046]): (v * 2**(n - n2)) * 2**n2
 * with n2 = clamp(n, -126, 127); see smx_avx2.h for why this rounds once. ---- */
SMX_INLINE smx_vf32 smx__exp2i_f32(float32x4_t n)
{
    return vreinterpretq_f32_s32(vshlq_n_s32(
        vreinterpretq_s32_f32(vaddq_f32(n, vdupq_n_f32(12583039.0f))), 23));
}
SMX_INLINE smx_vf64 smx__exp2i_f64(float64x2_t n)
{
    return vreinterpretq_f64_s64(vshlq_n_s64(
        vreinterpretq_s64_f64(vaddq_f64(n, vdupq_n_f64(6755399441056767.0))), 52));
}
SMX_INLINE smx_vf32 smx_scale2_f32(smx_vf32 v, smx_vf32 n)
{
    float32x4_t n2 = vminq_f32(vmaxq_f32(n, vdupq_n_f32(-126.0f)), vdupq_n_f32(127.0f));
    float32x4_t n1 = vsubq_f32(n, n2);
    return vmulq_f32(vmulq_f32(v, smx__exp2i_f32(n1)), smx__exp2i_f32(n2));
}
SMX_INLINE smx_vf64 smx_scale2_f64(smx_vf64 v, smx_vf64 n)
{
    float64x2_t n2 = vminq_f64(vmaxq_f64(n, vdupq_n_f64(-1022.0)), vdupq_n_f64(1023.0));
    float64x2_t n1 = vsubq_f64(n, n2);
    return vmulq_f64(vmulq_f64(v, smx__exp2i_f64(n1)), smx__exp2i_f64(n2));
}

/* ---- conversions ---- */
SMX_INLINE smx_vf64 smx_cvt_lo_f32_f64(smx_vf32 v) { return vcvt_f64_f32(vget_low_f32(v)); }
SMX_INLINE smx_vf64 smx_cvt_hi_f32_f64(smx_vf32 v) { return vcvt_high_f64_f32(v); }
SMX_INLINE smx_vf32 smx_cvt_f64x2_f32(smx_vf64 lo, smx_vf64 hi) { return vcvt_high_f32_f64(vcvt_f32_f64(lo), hi); }

/* ---- horizontal: halving order, r[i] = op(r[i], r[i + w]) for w = 2, 1 (f64: 1) ---- */
SMX_INLINE float smx_reduce_add_f32(smx_vf32 v)
{
    return vpadds_f32(vadd_f32(vget_low_f32(v), vget_high_f32(v)));
}
SMX_INLINE float smx_reduce_max_f32(smx_vf32 v)
{
    float32x2_t lo = vget_low_f32(v), hi = vget_high_f32(v);
    float32x2_t s = vbsl_f32(vcgt_f32(lo, hi), lo, hi);
    float a = vget_lane_f32(s, 0), b = vget_lane_f32(s, 1);
    return a > b ? a : b;
}
SMX_INLINE float smx_reduce_min_f32(smx_vf32 v)
{
    float32x2_t lo = vget_low_f32(v), hi = vget_high_f32(v);
    float32x2_t s = vbsl_f32(vclt_f32(lo, hi), lo, hi);
    float a = vget_lane_f32(s, 0), b = vget_lane_f32(s, 1);
    return a < b ? a : b;
}
SMX_INLINE double smx_reduce_add_f64(smx_vf64 v) { return vpaddd_f64(v); }
SMX_INLINE double smx_reduce_max_f64(smx_vf64 v)
{
    double a = vgetq_lane_f64(v, 0), b = vgetq_lane_f64(v, 1);
    return a > b ? a : b;
}
SMX_INLINE double smx_reduce_min_f64(smx_vf64 v)
{
    double a = vgetq_lane_f64(v, 0), b = vgetq_lane_f64(v, 1);
    return a < b ? a : b;
}

/* ---- lane access (tests, scalar epilogues): 0 <= i < lanes ---- */
SMX_INLINE float smx_get_f32(smx_vf32 v, int i) { float b[4]; vst1q_f32(b, v); return b[i & 3]; }
SMX_INLINE double smx_get_f64(smx_vf64 v, int i) { double b[2]; vst1q_f64(b, v); return b[i & 1]; }
SMX_INLINE int32_t smx_get_i32(smx_vi32 v, int i) { int32_t b[4]; vst1q_s32(b, v); return b[i & 3]; }
SMX_INLINE int64_t smx_get_i64(smx_vi64 v, int i) { int64_t b[2]; vst1q_s64(b, v); return b[i & 1]; }

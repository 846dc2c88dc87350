/* smx primitives in plain C99, for any other CPU: a vf32 is a struct of 2 floats, a vf64 a
 * struct of 1 double (structs, so that a kernel cannot mix vectors with scalars and still
 * compile here), masks are all-ones lanes. SMX_HAS_FMA 0: muladd is a rounded product then a
 * sum (fma() is a slow library call where the CPU has no FMA; build with -ffp-contract=off so
 * that the compiler does not fuse them either). Contract: README.md. Include smx_simd.h, not
 * this file. */
#ifndef SMX__INSIDE
#  error "include smx_simd.h (with SMX_ISA_SCALAR defined), not smx_scalar.h"
#endif
#include <math.h>
#include <string.h>

typedef struct { float v[2]; } smx_vf32;
typedef struct { double v; } smx_vf64;
typedef struct { uint32_t v[2]; } smx_vi32;   /* unsigned: wrap-around without UB */
typedef struct { uint64_t v; } smx_vi64;
typedef struct { uint32_t v[2]; } smx_mf32;   /* 0 or 0xFFFFFFFF */
typedef struct { uint64_t v; } smx_mf64;
#define SMX_NF32 2
#define SMX_NF64 1
#define SMX_HAS_FMA 0
#define SMX_HAS_SCALEF 0
#define SMX_ISA_NAME "scalar"

/* Lane-wise building blocks (internal). */
#define SMX__F32_1(a, EXPR) smx_vf32 r_; r_.v[0] = EXPR(a.v[0]); r_.v[1] = EXPR(a.v[1]); return r_
#define SMX__F32_2(a, b, OP) smx_vf32 r_; r_.v[0] = a.v[0] OP b.v[0]; r_.v[1] = a.v[1] OP b.v[1]; return r_
#define SMX__F64_2(a, b, OP) smx_vf64 r_; r_.v = a.v OP b.v; return r_
#define SMX__M32_2(a, b, OP) smx_mf32 r_; r_.v[0] = (a.v[0] OP b.v[0]) ? 0xFFFFFFFFu : 0u; \
                             r_.v[1] = (a.v[1] OP b.v[1]) ? 0xFFFFFFFFu : 0u; return r_
#define SMX__M64_2(a, b, OP) smx_mf64 r_; r_.v = (a.v OP b.v) ? ~(uint64_t)0 : 0u; return r_

SMX_INLINE uint32_t smx__bits_f32(float x) { uint32_t u; memcpy(&u, &x, 4); return u; }
SMX_INLINE float smx__from_bits_f32(uint32_t u) { float x; memcpy(&x, &u, 4); return x; }
SMX_INLINE uint64_t smx__bits_f64(double x) { uint64_t u; memcpy(&u, &x, 8); return u; }
SMX_INLINE double smx__from_bits_f64(uint64_t u) { double x; memcpy(&x, &u, 8); return x; }

/* ---- memory ---- */
SMX_INLINE smx_vf32 smx_load_f32(const float *p) { smx_vf32 r; r.v[0] = p[0]; r.v[1] = p[1]; return r; }
SMX_INLINE smx_vf64 smx_load_f64(const double *p) { smx_vf64 r; r.v = p[0]; return r; }
SMX_INLINE void smx_store_f32(float *p, smx_vf32 v) { p[0] = v.v[0]; p[1] = v.v[1]; }
SMX_INLINE void smx_stream_f32(float *p, smx_vf32 v) { smx_store_f32(p, v); }
SMX_INLINE void smx_store_f64(double *p, smx_vf64 v) { p[0] = v.v; }

SMX_INLINE smx_mf32 smx_till_f32(ptrdiff_t n)
{
    smx_mf32 r; r.v[0] = n > 0 ? 0xFFFFFFFFu : 0u; r.v[1] = n > 1 ? 0xFFFFFFFFu : 0u; return r;
}
SMX_INLINE smx_mf64 smx_till_f64(ptrdiff_t n) { smx_mf64 r; r.v = n > 0 ? ~(uint64_t)0 : 0u; return r; }
SMX_INLINE smx_vf32 smx_load_till_f32(const float *p, ptrdiff_t n, float fill)
{
    smx_vf32 r; r.v[0] = n > 0 ? p[0] : fill; r.v[1] = n > 1 ? p[1] : fill; return r;
}
SMX_INLINE smx_vf64 smx_load_till_f64(const double *p, ptrdiff_t n, double fill)
{
    smx_vf64 r; r.v = n > 0 ? p[0] : fill; return r;
}
SMX_INLINE void smx_store_till_f32(float *p, ptrdiff_t n, smx_vf32 v)
{
    if (n > 0) p[0] = v.v[0];
    if (n > 1) p[1] = v.v[1];
}
SMX_INLINE void smx_store_till_f64(double *p, ptrdiff_t n, smx_vf64 v) { if (n > 0) p[0] = v.v; }

SMX_INLINE smx_vf64 smx_load_f32_f64(const float *p) { smx_vf64 r; r.v = (double)p[0]; return r; }
SMX_INLINE void smx_store_f64_f32(float *p, smx_vf64 v) { p[0] = (float)v.v; }

/* ---- constants ---- */
SMX_INLINE smx_vf32 smx_setall_f32(float a) { smx_vf32 r; r.v[0] = a; r.v[1] = a; return r; }
SMX_INLINE smx_vf64 smx_setall_f64(double a) { smx_vf64 r; r.v = a; return r; }
SMX_INLINE smx_vf32 smx_zero_f32(void) { return smx_setall_f32(0.0f); }
SMX_INLINE smx_vf64 smx_zero_f64(void) { return smx_setall_f64(0.0); }

/* ---- arithmetic ---- */
SMX_INLINE smx_vf32 smx_add_f32(smx_vf32 a, smx_vf32 b) { SMX__F32_2(a, b, +); }
SMX_INLINE smx_vf64 smx_add_f64(smx_vf64 a, smx_vf64 b) { SMX__F64_2(a, b, +); }
SMX_INLINE smx_vf32 smx_sub_f32(smx_vf32 a, smx_vf32 b) { SMX__F32_2(a, b, -); }
SMX_INLINE smx_vf64 smx_sub_f64(smx_vf64 a, smx_vf64 b) { SMX__F64_2(a, b, -); }
SMX_INLINE smx_vf32 smx_mul_f32(smx_vf32 a, smx_vf32 b) { SMX__F32_2(a, b, *); }
SMX_INLINE smx_vf64 smx_mul_f64(smx_vf64 a, smx_vf64 b) { SMX__F64_2(a, b, *); }
SMX_INLINE smx_vf32 smx_div_f32(smx_vf32 a, smx_vf32 b) { SMX__F32_2(a, b, /); }
SMX_INLINE smx_vf64 smx_div_f64(smx_vf64 a, smx_vf64 b) { SMX__F64_2(a, b, /); }
/* no FMA: the product is rounded (its own statement), then the sum */
SMX_INLINE smx_vf32 smx_muladd_f32(smx_vf32 a, smx_vf32 b, smx_vf32 c) { return smx_add_f32(smx_mul_f32(a, b), c); }
SMX_INLINE smx_vf64 smx_muladd_f64(smx_vf64 a, smx_vf64 b, smx_vf64 c) { return smx_add_f64(smx_mul_f64(a, b), c); }
SMX_INLINE smx_vf32 smx_nmuladd_f32(smx_vf32 a, smx_vf32 b, smx_vf32 c) { return smx_sub_f32(c, smx_mul_f32(a, b)); }
SMX_INLINE smx_vf64 smx_nmuladd_f64(smx_vf64 a, smx_vf64 b, smx_vf64 c) { return smx_sub_f64(c, smx_mul_f64(a, b)); }
SMX_INLINE smx_vf32 smx_mulsub_f32(smx_vf32 a, smx_vf32 b, smx_vf32 c) { return smx_sub_f32(smx_mul_f32(a, b), c); }
SMX_INLINE smx_vf64 smx_mulsub_f64(smx_vf64 a, smx_vf64 b, smx_vf64 c) { return smx_sub_f64(smx_mul_f64(a, b), c); }
/* sign-bit operations on the bits, so that NaN's sign flips/clears as everywhere else */
SMX_INLINE float smx__neg1_f32(float x) { return smx__from_bits_f32(smx__bits_f32(x) ^ 0x80000000u); }
SMX_INLINE float smx__abs1_f32(float x) { return smx__from_bits_f32(smx__bits_f32(x) & 0x7FFFFFFFu); }
SMX_INLINE smx_vf32 smx_neg_f32(smx_vf32 a) { SMX__F32_1(a, smx__neg1_f32); }
SMX_INLINE smx_vf32 smx_abs_f32(smx_vf32 a) { SMX__F32_1(a, smx__abs1_f32); }
SMX_INLINE smx_vf64 smx_neg_f64(smx_vf64 a)
{
    smx_vf64 r; r.v = smx__from_bits_f64(smx__bits_f64(a.v) ^ ((uint64_t)1 << 63)); return r;
}
SMX_INLINE smx_vf64 smx_abs_f64(smx_vf64 a)
{
    smx_vf64 r; r.v = smx__from_bits_f64(smx__bits_f64(a.v) & ~((uint64_t)1 << 63)); return r;
}
SMX_INLINE smx_vf32 smx_max_f32(smx_vf32 a, smx_vf32 b)
{
    smx_vf32 r; r.v[0] = a.v[0] > b.v[0] ? a.v[0] : b.v[0]; r.v[1] = a.v[1] > b.v[1] ? a.v[1] : b.v[1]; return r;
}
SMX_INLINE smx_vf64 smx_max_f64(smx_vf64 a, smx_vf64 b) { smx_vf64 r; r.v = a.v > b.v ? a.v : b.v; return r; }
SMX_INLINE smx_vf32 smx_min_f32(smx_vf32 a, smx_vf32 b)
{
    smx_vf32 r; r.v[0] = a.v[0] < b.v[0] ? a.v[0] : b.v[0]; r.v[1] = a.v[1] < b.v[1] ? a.v[1] : b.v[1]; return r;
}
SMX_INLINE smx_vf64 smx_min_f64(smx_vf64 a, smx_vf64 b) { smx_vf64 r; r.v = a.v < b.v ? a.v : b.v; return r; }
/* rint: the C library's, in the default rounding mode (nearest even) */
SMX_INLINE float smx__rint1_f32(float x) { return rintf(x); }
SMX_INLINE smx_vf32 smx_rint_f32(smx_vf32 a) { SMX__F32_1(a, smx__rint1_f32); }
SMX_INLINE smx_vf64 smx_rint_f64(smx_vf64 a) { smx_vf64 r; r.v = rint(a.v); return r; }

/* ---- compares (C's operators: ordered, != unordered) and masks ---- */
SMX_INLINE smx_mf32 smx_cmplt_f32(smx_vf32 a, smx_vf32 b) { SMX__M32_2(a, b, <); }
SMX_INLINE smx_mf64 smx_cmplt_f64(smx_vf64 a, smx_vf64 b) { SMX__M64_2(a, b, <); }
SMX_INLINE smx_mf32 smx_cmple_f32(smx_vf32 a, smx_vf32 b) { SMX__M32_2(a, b, <=); }
SMX_INLINE smx_mf64 smx_cmple_f64(smx_vf64 a, smx_vf64 b) { SMX__M64_2(a, b, <=); }
SMX_INLINE smx_mf32 smx_cmpgt_f32(smx_vf32 a, smx_vf32 b) { SMX__M32_2(a, b, >); }
SMX_INLINE smx_mf64 smx_cmpgt_f64(smx_vf64 a, smx_vf64 b) { SMX__M64_2(a, b, >); }
SMX_INLINE smx_mf32 smx_cmpge_f32(smx_vf32 a, smx_vf32 b) { SMX__M32_2(a, b, >=); }
SMX_INLINE smx_mf64 smx_cmpge_f64(smx_vf64 a, smx_vf64 b) { SMX__M64_2(a, b, >=); }
SMX_INLINE smx_mf32 smx_cmpeq_f32(smx_vf32 a, smx_vf32 b) { SMX__M32_2(a, b, ==); }
SMX_INLINE smx_mf64 smx_cmpeq_f64(smx_vf64 a, smx_vf64 b) { SMX__M64_2(a, b, ==); }
SMX_INLINE smx_mf32 smx_cmpneq_f32(smx_vf32 a, smx_vf32 b) { SMX__M32_2(a, b, !=); }
SMX_INLINE smx_mf64 smx_cmpneq_f64(smx_vf64 a, smx_vf64 b) { SMX__M64_2(a, b, !=); }

SMX_INLINE smx_mf32 smx_and_mf32(smx_mf32 a, smx_mf32 b) { smx_mf32 r; r.v[0] = a.v[0] & b.v[0]; r.v[1] = a.v[1] & b.v[1]; return r; }
SMX_INLINE smx_mf64 smx_and_mf64(smx_mf64 a, smx_mf64 b) { smx_mf64 r; r.v = a.v & b.v; return r; }
SMX_INLINE smx_mf32 smx_or_mf32(smx_mf32 a, smx_mf32 b) { smx_mf32 r; r.v[0] = a.v[0] | b.v[0]; r.v[1] = a.v[1] | b.v[1]; return r; }
SMX_INLINE smx_mf64 smx_or_mf64(smx_mf64 a, smx_mf64 b) { smx_mf64 r; r.v = a.v | b.v; return r; }
SMX_INLINE smx_mf32 smx_andnot_mf32(smx_mf32 a, smx_mf32 b) { smx_mf32 r; r.v[0] = a.v[0] & ~b.v[0]; r.v[1] = a.v[1] & ~b.v[1]; return r; }
SMX_INLINE smx_mf64 smx_andnot_mf64(smx_mf64 a, smx_mf64 b) { smx_mf64 r; r.v = a.v & ~b.v; return r; }
SMX_INLINE smx_mf32 smx_not_mf32(smx_mf32 a) { smx_mf32 r; r.v[0] = ~a.v[0]; r.v[1] = ~a.v[1]; return r; }
SMX_INLINE smx_mf64 smx_not_mf64(smx_mf64 a) { smx_mf64 r; r.v = ~a.v; return r; }
SMX_INLINE int smx_any_mf32(smx_mf32 m) { return (m.v[0] | m.v[1]) != 0; }
SMX_INLINE int smx_any_mf64(smx_mf64 m) { return m.v != 0; }
SMX_INLINE int smx_all_mf32(smx_mf32 m) { return (m.v[0] & m.v[1]) != 0; }
SMX_INLINE int smx_all_mf64(smx_mf64 m) { return m.v != 0; }
SMX_INLINE smx_vf32 smx_select_f32(smx_mf32 m, smx_vf32 a, smx_vf32 b)
{
    smx_vf32 r; r.v[0] = m.v[0] ? a.v[0] : b.v[0]; r.v[1] = m.v[1] ? a.v[1] : b.v[1]; return r;
}
SMX_INLINE smx_vf64 smx_select_f64(smx_mf64 m, smx_vf64 a, smx_vf64 b) { smx_vf64 r; r.v = m.v ? a.v : b.v; return r; }

/* ---- integer lanes and bits ---- */
SMX_INLINE smx_vi32 smx_as_i32_f32(smx_vf32 v)
{
    smx_vi32 r; r.v[0] = smx__bits_f32(v.v[0]); r.v[1] = smx__bits_f32(v.v[1]); return r;
}
SMX_INLINE smx_vf32 smx_as_f32_i32(smx_vi32 i)
{
    smx_vf32 r; r.v[0] = smx__from_bits_f32(i.v[0]); r.v[1] = smx__from_bits_f32(i.v[1]); return r;
}
SMX_INLINE smx_vi64 smx_as_i64_f64(smx_vf64 v) { smx_vi64 r; r.v = smx__bits_f64(v.v); return r; }
SMX_INLINE smx_vf64 smx_as_f64_i64(smx_vi64 i) { smx_vf64 r; r.v = smx__from_bits_f64(i.v); return r; }
SMX_INLINE smx_vi32 smx_add_i32(smx_vi32 a, smx_vi32 b) { smx_vi32 r; r.v[0] = a.v[0] + b.v[0]; r.v[1] = a.v[1] + b.v[1]; return r; }
SMX_INLINE smx_vi32 smx_sub_i32(smx_vi32 a, smx_vi32 b) { smx_vi32 r; r.v[0] = a.v[0] - b.v[0]; r.v[1] = a.v[1] - b.v[1]; return r; }
SMX_INLINE smx_vi64 smx_add_i64(smx_vi64 a, smx_vi64 b) { smx_vi64 r; r.v = a.v + b.v; return r; }
SMX_INLINE smx_vi64 smx_sub_i64(smx_vi64 a, smx_vi64 b) { smx_vi64 r; r.v = a.v - b.v; return r; }
/* k: 0 < k < lane bits (functions here; macros on the SIMD ISAs, which need immediates) */
SMX_INLINE smx_vi32 smx_shli_i32(smx_vi32 i, int k) { smx_vi32 r; r.v[0] = i.v[0] << k; r.v[1] = i.v[1] << k; return r; }
SMX_INLINE smx_vi32 smx_shri_i32(smx_vi32 i, int k) { smx_vi32 r; r.v[0] = i.v[0] >> k; r.v[1] = i.v[1] >> k; return r; }
SMX_INLINE smx_vi64 smx_shli_i64(smx_vi64 i, int k) { smx_vi64 r; r.v = i.v << k; return r; }
SMX_INLINE smx_vi64 smx_shri_i64(smx_vi64 i, int k) { smx_vi64 r; r.v = i.v >> k; return r; }
SMX_INLINE smx_vi32 smx_setall_i32(int32_t a) { smx_vi32 r; r.v[0] = (uint32_t)a; r.v[1] = (uint32_t)a; return r; }
SMX_INLINE smx_vi64 smx_setall_i64(int64_t a) { smx_vi64 r; r.v = (uint64_t)a; return r; }

/* ---- v * 2**n for integral n in [-252, 254] (f64: [-2044, 2046]): (v * 2**(n - n2)) * 2**n2
 * with n2 = clamp(n, -126, 127); see smx_avx2.h for why this rounds once. ---- */
SMX_INLINE float smx__scale1_f32(float v, float n)
{
    float n2 = n > -126.0f ? (n < 127.0f ? n : 127.0f) : -126.0f;
    float n1 = n - n2;
    float f1 = smx__from_bits_f32((uint32_t)((int32_t)n1 + 127) << 23);
    float f2 = smx__from_bits_f32((uint32_t)((int32_t)n2 + 127) << 23);
    float p = v * f1;
    return p * f2;
}
SMX_INLINE smx_vf32 smx_scale2_f32(smx_vf32 v, smx_vf32 n)
{
    smx_vf32 r; r.v[0] = smx__scale1_f32(v.v[0], n.v[0]); r.v[1] = smx__scale1_f32(v.v[1], n.v[1]); return r;
}
SMX_INLINE smx_vf64 smx_scale2_f64(smx_vf64 v, smx_vf64 n)
{
    double n2 = n.v > -1022.0 ? (n.v < 1023.0 ? n.v : 1023.0) : -1022.0;
    double n1 = n.v - n2;
    double f1 = smx__from_bits_f64((uint64_t)((int64_t)n1 + 1023) << 52);
    double f2 = smx__from_bits_f64((uint64_t)((int64_t)n2 + 1023) << 52);
    double p = v.v * f1;
    smx_vf64 r; r.v = p * f2; return r;
}

/* ---- conversions ---- */
SMX_INLINE smx_vf64 smx_cvt_lo_f32_f64(smx_vf32 v) { smx_vf64 r; r.v = (double)v.v[0]; return r; }
SMX_INLINE smx_vf64 smx_cvt_hi_f32_f64(smx_vf32 v) { smx_vf64 r; r.v = (double)v.v[1]; return r; }
SMX_INLINE smx_vf32 smx_cvt_f64x2_f32(smx_vf64 lo, smx_vf64 hi)
{
    smx_vf32 r; r.v[0] = (float)lo.v; r.v[1] = (float)hi.v; return r;
}

/* ---- horizontal: r = op(lane 0, lane 1) (f64: lane 0) ---- */
SMX_INLINE float smx_reduce_add_f32(smx_vf32 v) { return v.v[0] + v.v[1]; }
SMX_INLINE float smx_reduce_max_f32(smx_vf32 v) { return v.v[0] > v.v[1] ? v.v[0] : v.v[1]; }
SMX_INLINE float smx_reduce_min_f32(smx_vf32 v) { return v.v[0] < v.v[1] ? v.v[0] : v.v[1]; }
SMX_INLINE double smx_reduce_add_f64(smx_vf64 v) { return v.v; }
SMX_INLINE double smx_reduce_max_f64(smx_vf64 v) { return v.v; }
SMX_INLINE double smx_reduce_min_f64(smx_vf64 v) { return v.v; }

/* ---- lane access: 0 <= i < lanes ---- */
SMX_INLINE float smx_get_f32(smx_vf32 v, int i) { return v.v[i & 1]; }
SMX_INLINE double smx_get_f64(smx_vf64 v, int i) { (void)i; return v.v; }
SMX_INLINE int32_t smx_get_i32(smx_vi32 v, int i) { return (int32_t)v.v[i & 1]; }
SMX_INLINE int64_t smx_get_i64(smx_vi64 v, int i) { (void)i; return (int64_t)v.v; }

#undef SMX__F32_1
#undef SMX__F32_2
#undef SMX__F64_2
#undef SMX__M32_2
#undef SMX__M64_2

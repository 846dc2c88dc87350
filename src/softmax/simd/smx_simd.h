/* Vector primitives for the softmax kernels: one header per instruction set, the same names
 * and semantics on each (the contract: README.md beside this file). This header picks one:
 * the build defines at most one of SMX_ISA_AVX512, SMX_ISA_AVX2, SMX_ISA_SSE2, SMX_ISA_NEON,
 * SMX_ISA_SCALAR; with none, SSE2 on x86-64, NEON on AArch64, scalar elsewhere.
 *
 * Build requirement: compile with floating-point contraction off (gcc/clang
 * -ffp-contract=off; MSVC's default /fp:precise). Otherwise a compiler may fuse smx_mul_*
 * and smx_add_* (and the non-FMA smx_muladd_*) into one FMA, which breaks SMX_HAS_FMA == 0
 * and error-free transformations built from these primitives. */
#ifndef SMX_SIMD_H
#define SMX_SIMD_H

#include <stddef.h>
#include <stdint.h>

#if defined(_MSC_VER) && !defined(__clang__)
#  define SMX_INLINE static __forceinline
#  define SMX_NOINLINE static __declspec(noinline)
#elif defined(__GNUC__) || defined(__clang__)
#  define SMX_INLINE static inline __attribute__((always_inline))
#  define SMX_NOINLINE static __attribute__((noinline, unused))
#else
#  define SMX_INLINE static inline
#  define SMX_NOINLINE static
#endif

#if (defined(SMX_ISA_AVX512) + defined(SMX_ISA_AVX2) + defined(SMX_ISA_SSE2) + \
     defined(SMX_ISA_NEON) + defined(SMX_ISA_SCALAR)) > 1
#  error "smx_simd.h: define at most one SMX_ISA_* macro"
#endif

#if !defined(SMX_ISA_AVX512) && !defined(SMX_ISA_AVX2) && !defined(SMX_ISA_SSE2) && \
    !defined(SMX_ISA_NEON) && !defined(SMX_ISA_SCALAR)
#  if defined(__x86_64__) || defined(_M_X64) || defined(_M_AMD64)
#    define SMX_ISA_SSE2 1
#  elif defined(__aarch64__) || defined(_M_ARM64)
#    define SMX_ISA_NEON 1
#  else
#    define SMX_ISA_SCALAR 1
#  endif
#endif

/* Lane count of a vector, a ptrdiff_t clamped to [0, lanes]: the tails' helper. */
#define SMX__CLAMP_LANES(n, lanes) ((n) < 0 ? 0 : ((n) > (lanes) ? (lanes) : (n)))

#define SMX__INSIDE 1
#if defined(SMX_ISA_AVX512)
#  include "smx_avx512.h"
#elif defined(SMX_ISA_AVX2)
#  include "smx_avx2.h"
#elif defined(SMX_ISA_SSE2)
#  include "smx_sse2.h"
#elif defined(SMX_ISA_NEON)
#  include "smx_neon.h"
#else
#  include "smx_scalar.h"
#endif
#undef SMX__INSIDE

/* smx_rows_{add,max,min}_f32(v), smx_rows_add_f64(v): r[j] = the op over the lanes of v[j],
 * j < lanes (the NaN-free inputs of max and min: the kernels' accumulators), each sum in an
 * order of the ISA's choosing. An ISA header with a transposing version defines SMX_HAS_ROWS;
 * the others get this one, lane by lane through memory. */
#ifndef SMX_HAS_ROWS
#  define SMX__ROWS(T, NL, RED, LOAD)                                                        \
    T b_[NL]; int j_;                                                                          \
    for (j_ = 0; j_ < NL; j_++) b_[j_] = RED(v[j_]);                                          \
    return LOAD(b_)
SMX_INLINE smx_vf32 smx_rows_add_f32(const smx_vf32 *v) { SMX__ROWS(float, SMX_NF32, smx_reduce_add_f32, smx_load_f32); }
SMX_INLINE smx_vf32 smx_rows_max_f32(const smx_vf32 *v) { SMX__ROWS(float, SMX_NF32, smx_reduce_max_f32, smx_load_f32); }
SMX_INLINE smx_vf32 smx_rows_min_f32(const smx_vf32 *v) { SMX__ROWS(float, SMX_NF32, smx_reduce_min_f32, smx_load_f32); }
SMX_INLINE smx_vf64 smx_rows_add_f64(const smx_vf64 *v) { SMX__ROWS(double, SMX_NF64, smx_reduce_add_f64, smx_load_f64); }
#  undef SMX__ROWS
#endif

#if SMX_NF32 != 2 * SMX_NF64
#  error "smx_simd.h: SMX_NF32 must be 2 * SMX_NF64"
#endif

/* smx_load_keep_f32(p), smx_load_keep_f64(p): smx_load_*, the vector then held in a register:
 * the compiler may not fold the load into the instructions that use the value. gcc otherwise
 * reloads a vector used n times from memory n times, each a load slot (two where numpy's
 * 16-byte aligned data puts a 512-bit access across two cache lines). For loops bound by
 * their loads; elsewhere a folded load saves an instruction. An empty asm statement on
 * x86 with gcc or clang ("v": any vector register, xmm16-31 too under AVX-512); a plain
 * load elsewhere (AArch64 has no load-op instructions to fold into; MSVC keeps its own
 * counsel). */
#if (defined(__GNUC__) || defined(__clang__)) && (defined(__x86_64__) || defined(__i386__)) && \
    !defined(SMX_ISA_SCALAR)
#  define SMX__IN_REGISTER(v) __asm__("" : "+v"(v))
#else
#  define SMX__IN_REGISTER(v) ((void)0)
#endif
SMX_INLINE smx_vf32 smx_load_keep_f32(const float *p)
{
    smx_vf32 v = smx_load_f32(p);
    SMX__IN_REGISTER(v);
    return v;
}
SMX_INLINE smx_vf64 smx_load_keep_f64(const double *p)
{
    smx_vf64 v = smx_load_f64(p);
    SMX__IN_REGISTER(v);
    return v;
}

/* A hint to fetch the cache line holding p into the caches, for reading (smx_prefetch) or
 * writing (smx_prefetchw), or into L2 only (smx_prefetch_l2: lines wanted a while later,
 * kept out of L1 until then): no fault whatever p is, no effect on any result. On x86 no
 * variant is built with -mprfchw, so gcc and clang emit prefetcht0 for both (as MSVC does
 * here): smx_prefetchw marks the intent only (a real prefetchw measured no better in the
 * places that use it: benchmarks/README.md). */
#if defined(__GNUC__) || defined(__clang__)
#  define smx_prefetch(p) __builtin_prefetch((const void *)(p), 0, 3)
#  define smx_prefetchw(p) __builtin_prefetch((const void *)(p), 1, 3)
#  define smx_prefetch_l2(p) __builtin_prefetch((const void *)(p), 0, 2)
#elif defined(_MSC_VER) && (defined(_M_X64) || defined(_M_AMD64))
#  include <xmmintrin.h>
#  define smx_prefetch(p) _mm_prefetch((const char *)(p), _MM_HINT_T0)
#  define smx_prefetchw(p) _mm_prefetch((const char *)(p), _MM_HINT_T0)
#  define smx_prefetch_l2(p) _mm_prefetch((const char *)(p), _MM_HINT_T1)
#else
#  define smx_prefetch(p) ((void)(p))
#  define smx_prefetchw(p) ((void)(p))
#  define smx_prefetch_l2(p) ((void)(p))
#endif

/* smx_stream_f32(p, v) (in each ISA's header) stores v at p, aligned to SMX_NF32 floats,
 * past the caches where the ISA can (x86 non-temporal stores; elsewhere a plain store);
 * smx_stream_fence() orders such stores before any later store (x86 sfence; elsewhere none
 * is needed): call it after the last of them, before another thread may read the data. */
#if defined(SMX_ISA_AVX512) || defined(SMX_ISA_AVX2) || defined(SMX_ISA_SSE2)
#  define smx_stream_fence() _mm_sfence()
#else
#  define smx_stream_fence() ((void)0)
#endif

#endif /* SMX_SIMD_H */

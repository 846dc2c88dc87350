/* C-level tests of the smx vector primitives (src/softmax/simd/README.md, "Tests"): every
 * primitive, lane by lane, against plain scalar C on the same machine. Bit-exact except where
 * the contract allows otherwise (NaN payloads of arithmetic; muladd checked against fma() or
 * a*b+c as SMX_HAS_FMA says). One source, compiled once per ISA:
 *
 *   cc -std=c99 -O2 -Wall -Wextra -ffp-contract=off -I src/softmax/simd [-DSMX_ISA_...] [flags]
 *      tests/c/test_simd.c -lm && ./a.out
 *
 * (tools/test_simd.sh does that for every ISA this machine runs, and for AArch64 under qemu.)
 * Needs POSIX (mmap/mprotect for the no-read-beyond-p+n checks). Prints one summary line and
 * exits 1 on any failure.
 *
 * The type-generic part sits between "#ifdef SMX_TEST_TEMPLATE" and its #endif; this file
 * includes itself twice to instantiate it for float and for double. */
#ifndef SMX_TEST_TEMPLATE
#define _DEFAULT_SOURCE 1
#include <float.h>
#include <math.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "smx_simd.h"

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#define STR_(x) #x
#define STR(x) STR_(x)

static long g_checks, g_fails;

static void failf(const char *fmt, ...)
{
    va_list ap;
    g_fails++;
    if (g_fails > 40) return;
    va_start(ap, fmt);
    printf("FAIL ");
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
}

static uint32_t bits_f32(float x) { uint32_t u; memcpy(&u, &x, 4); return u; }
static uint64_t bits_f64(double x) { uint64_t u; memcpy(&u, &x, 8); return u; }
static float from_bits_f32(uint32_t u) { float x; memcpy(&x, &u, 4); return x; }
static double from_bits_f64(uint64_t u) { double x; memcpy(&x, &u, 8); return x; }

/* got == want bit for bit; with nan_any, any NaN matches any NaN */
static int same_f32(float g, float w, int nan_any)
{
    if (nan_any && g != g && w != w) return 1;
    return bits_f32(g) == bits_f32(w);
}
static int same_f64(double g, double w, int nan_any)
{
    if (nan_any && g != g && w != w) return 1;
    return bits_f64(g) == bits_f64(w);
}

static uint64_t g_rng = 0x9E3779B97F4A7C15ull;
static uint64_t rnd(void)
{
    g_rng ^= g_rng >> 12; g_rng ^= g_rng << 25; g_rng ^= g_rng >> 27;
    return g_rng * 0x2545F4914F6CDD1Dull;
}
static double rnd01(void) { return (double)(rnd() >> 11) * 0x1p-53; }

/* ---- reads beyond p + n: an mprotect'ed page, and SIGSEGV caught into a failure ---- */
static sigjmp_buf g_jb;
static volatile sig_atomic_t g_armed;
static void on_segv(int sig)
{
    if (g_armed) { g_armed = 0; siglongjmp(g_jb, 1); }
    signal(sig, SIG_DFL);
    raise(sig);
}
static unsigned char *g_page;   /* a readable/writable page; the page after it is PROT_NONE */
static size_t g_pagesize;
static void setup_pages(void)
{
    struct sigaction sa;
    unsigned char *base;
    g_pagesize = (size_t)sysconf(_SC_PAGESIZE);
    base = mmap(NULL, 2 * g_pagesize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base == MAP_FAILED || mprotect(base + g_pagesize, g_pagesize, PROT_NONE) != 0) {
        perror("mmap/mprotect");
        exit(2);
    }
    g_page = base;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_segv;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, NULL);
    sigaction(SIGBUS, &sa, NULL);
}
#define PAGE_END (g_page + g_pagesize)

/* n values for the tails: -1 .. lanes + 1, and far outside */
static const ptrdiff_t g_far_n[] = {-2, -3, -17, -256, -65536, (ptrdiff_t)(-2147483647 - 1),
    PTRDIFF_MIN, PTRDIFF_MIN + 1, 17, 31, 32, 33, 255, 256, 257, 65536, 2147483647,
    (ptrdiff_t)4294967296LL, (ptrdiff_t)4294967297LL, PTRDIFF_MAX};
#define N_FAR ((int)(sizeof g_far_n / sizeof g_far_n[0]))

/* ================= the float and the double instantiations ================= */
#define SMX_TEST_TEMPLATE 1

#define S f32
#define T float
#define U uint32_t
#define V smx_vf32
#define M smx_mf32
#define N SMX_NF32
#define VI smx_vi32
#define IS i32
#define SI int32_t
#define TBITS 32
#define MANT 23
#define EMAX 127
#define ETINY (-149)
#define NLO (-252)
#define NHI 254
#define T_MAX FLT_MAX
#define T_MIN FLT_MIN
#define T_TRUE_MIN 0x1p-149f   /* FLT_TRUE_MIN is C11 */
#define FMA_ fmaf
#define RINT_ rintf
#define LDEXP_ ldexpf
#include "test_simd.c"
#undef S
#undef T
#undef U
#undef V
#undef M
#undef N
#undef VI
#undef IS
#undef SI
#undef TBITS
#undef MANT
#undef EMAX
#undef ETINY
#undef NLO
#undef NHI
#undef T_MAX
#undef T_MIN
#undef T_TRUE_MIN
#undef FMA_
#undef RINT_
#undef LDEXP_

#define S f64
#define T double
#define U uint64_t
#define V smx_vf64
#define M smx_mf64
#define N SMX_NF64
#define VI smx_vi64
#define IS i64
#define SI int64_t
#define TBITS 64
#define MANT 52
#define EMAX 1023
#define ETINY (-1074)
#define NLO (-2044)
#define NHI 2046
#define T_MAX DBL_MAX
#define T_MIN DBL_MIN
#define T_TRUE_MIN 0x1p-1074
#define FMA_ fma
#define RINT_ rint
#define LDEXP_ ldexp
#include "test_simd.c"

#undef S
#undef T
#undef U
#undef V
#undef M
#undef N
#undef VI
#undef IS
#undef SI
#undef TBITS
#undef MANT
#undef EMAX
#undef ETINY
#undef NLO
#undef NHI
#undef T_MAX
#undef T_MIN
#undef T_TRUE_MIN
#undef FMA_
#undef RINT_
#undef LDEXP_


/* ---- conversions between float and double lanes ---- */
static void test_conversions(void)
{
    float fb[SMX_NF32 + 8], fo[SMX_NF32];
    double db[SMX_NF32], dlo[SMX_NF64], dhi[SMX_NF64];
    int k, i;
    /* widening: exact */
    for (k = 0; k < npool_f32; k += SMX_NF32) {
        smx_vf32 v;
        for (i = 0; i < SMX_NF32; i++) fb[i] = pool_f32[(k + i) % npool_f32];
        v = smx_load_f32(fb);
        smx_store_f64(dlo, smx_cvt_lo_f32_f64(v));
        smx_store_f64(dhi, smx_cvt_hi_f32_f64(v));
        for (i = 0; i < SMX_NF64; i++) {
            check_f64("cvt_lo_f32", i, dlo[i], (double)fb[i], 1, 1, fb[i], 0, 0);
            check_f64("cvt_hi_f32", i, dhi[i], (double)fb[SMX_NF64 + i], 1, 1, fb[SMX_NF64 + i], 0, 0);
        }
        smx_store_f64(dlo, smx_load_f32_f64(fb + 1));
        for (i = 0; i < SMX_NF64; i++)
            check_f64("load_f32", i, dlo[i], (double)fb[1 + i], 1, 1, fb[1 + i], 0, 0);
    }
    /* narrowing: nearest-even, ties, overflow to inf, subnormal results */
    for (k = 0; k < 20000; k++) {
        for (i = 0; i < SMX_NF32; i++) {
            int sel = (int)(rnd() % 12);
            float f = pool_f32[rnd() % npool_f32];
            double d, half = 0;
            if (f == f && fabsf(f) <= FLT_MAX && f != 0) {
                int e;
                frexp((double)f, &e);
                half = ldexp(1, (e - 1 > -126 ? e - 1 : -126) - 24);   /* half an ulp of f */
            }
            switch (sel) {
            case 0: d = (double)f + half; break;                          /* a tie */
            case 1: d = (double)f - half; break;
            case 2: d = (double)f + half * (1 + 0x1p-30); break;           /* just above a tie */
            case 3: d = (double)f + half * (1 - 0x1p-30); break;
            case 4: d = (double)FLT_MAX + ldexp(1, 103) * (double)(rnd() % 3); break;  /* 1: a tie -> inf */
            case 5: d = ldexp(1 + rnd01(), (int)(rnd() % 40) + 120); break;
            case 6: d = ldexp((double)(rnd() % 8), -152) * (rnd() & 1 ? -1 : 1); break; /* ties near 0 */
            case 7: d = ldexp(1 + rnd01(), -(int)(rnd() % 40) - 120); break;
            case 8: d = pool_f64[rnd() % npool_f64]; break;
            default: d = ldexp(rnd01() - 0.5, (int)(rnd() % 200) - 100); break;
            }
            db[i] = d;
        }
        smx_store_f32(fo, smx_cvt_f64x2_f32(smx_load_f64(db), smx_load_f64(db + SMX_NF64)));
        for (i = 0; i < SMX_NF32; i++)
            check_f32("cvt_f64x2", i, fo[i], (float)db[i], 1, 1, (float)db[i], 0, 0);
        for (i = 0; i < SMX_NF32 + 8; i++) fb[i] = -99.0f;
        smx_store_f64_f32(fb + 3, smx_load_f64(db));
        for (i = 0; i < SMX_NF32 + 8; i++) {
            float want = (i >= 3 && i < 3 + SMX_NF64) ? (float)db[i - 3] : -99.0f;
            check_f32("store_f64_f32", i, fb[i], want, 1, 1, want, 0, 0);
        }
    }
}

static const char *arch_name(void)
{
#if defined(__x86_64__) || defined(_M_X64)
    return "x86_64";
#elif defined(__aarch64__) || defined(_M_ARM64)
    return "aarch64";
#else
    return "other";
#endif
}

static const char *compiler_name(void)
{
#if defined(__clang__)
    return "clang " STR(__clang_major__) "." STR(__clang_minor__) "." STR(__clang_patchlevel__);
#elif defined(__GNUC__)
    return "gcc " __VERSION__;
#elif defined(_MSC_VER)
    return "msvc";
#else
    return "cc";
#endif
}

int main(void)
{
    int expect_lanes, expect_fma, expect_scalef = 0;
    setup_pages();
    /* the header's constants */
#if defined(SMX_ISA_AVX512)
    expect_lanes = 16; expect_fma = 1; expect_scalef = 1;
#elif defined(SMX_ISA_AVX2)
    expect_lanes = 8; expect_fma = 1;
#elif defined(SMX_ISA_SSE2)
    expect_lanes = 4; expect_fma = 0;
#elif defined(SMX_ISA_NEON)
    expect_lanes = 4; expect_fma = 1;
#else
    expect_lanes = 2; expect_fma = 0;
#endif
    g_checks += 3;
    if (SMX_NF32 != expect_lanes || SMX_NF64 * 2 != SMX_NF32) failf("lane counts %d/%d", SMX_NF32, SMX_NF64);
    if (SMX_HAS_FMA != expect_fma) failf("SMX_HAS_FMA is %d", SMX_HAS_FMA);
    if (SMX_HAS_SCALEF != expect_scalef) failf("SMX_HAS_SCALEF is %d", SMX_HAS_SCALEF);
    /* the non-fused references must not have been fused by the compiler */
    {
        volatile float a = 1 + 0x1p-12f, c = -(1 + 0x1p-11f);
        volatile double ad = 1 + 0x1p-27, cd = -(1 + 0x1p-26);
        g_checks++;
        if (r_muladd_nf_f32(a, a, c) == fmaf(a, a, c) || r_muladd_nf_f64(ad, ad, cd) == fma(ad, ad, cd)) {
            failf("a*b+c came out fused: build the test with -ffp-contract=off");
        }
    }
    run_all_f32();
    run_all_f64();
    test_conversions();
    /* cache hints: compile on every ISA and compiler, fault on no address (the protected page
     * after the buffers, NULL), change nothing */
    {
        float probe[4] = {1, 2, 3, 4};
        smx_prefetch(probe);
        smx_prefetchw(probe + 2);
        smx_prefetch((const char *)0);
        smx_prefetchw(g_page + g_pagesize);
        smx_prefetch_l2(probe + 1);
        smx_prefetch_l2(g_page + g_pagesize + 64);
        g_checks++;
        if (probe[0] != 1 || probe[3] != 4) failf("a prefetch changed memory");
    }
    /* the streaming store: the lanes at an aligned p, nothing outside them, after the fence */
    {
        static float buf[3 * 64 + 16];
        float *p = buf + 64 - ((uintptr_t)buf / sizeof(float)) % 64;   /* 256-byte aligned */
        float lanes[64];
        int i;
        for (i = 0; i < SMX_NF32; i++) lanes[i] = (float)i * 0.5f - 3.0f;
        for (i = 0; i < 3 * SMX_NF32; i++) p[i] = 99.0f;
        smx_stream_f32(p + SMX_NF32, smx_load_f32(lanes));
        smx_stream_fence();
        for (i = 0; i < 3 * SMX_NF32; i++) {
            float want = (i >= SMX_NF32 && i < 2 * SMX_NF32) ? lanes[i - SMX_NF32] : 99.0f;
            g_checks++;
            if (!(p[i] == want)) failf("smx_stream_f32: element %d is %g, not %g", i, p[i], want);
        }
    }
    printf("test_simd %s on %s (%s; %d/%d lanes, fma %d): %ld checks, %ld failed\n", SMX_ISA_NAME,
           arch_name(), compiler_name(), SMX_NF32, SMX_NF64, SMX_HAS_FMA, g_checks, g_fails);
    return g_fails ? 1 : 0;
}

#else /* ================= SMX_TEST_TEMPLATE: one type ================= */

#define F(name) CAT(name, S)                /* F(smx_add_) -> smx_add_f32 */
#define FI(name) CAT(name, IS)              /* FI(smx_add_) -> smx_add_i32 */
#define BITS F(bits_)
#define FROM_BITS F(from_bits_)
#define SAME F(same_)
#define SIGN ((U)1 << (TBITS - 1))
#define EXPMASK ((U)(2 * EMAX + 1) << MANT)
#define QUIET ((U)1 << (MANT - 1))
#define AS_I CAT(CAT(smx_as_, IS), CAT(_, S))          /* smx_as_i32_f32 */
#define AS_F CAT(CAT(smx_as_, S), CAT(_, IS))          /* smx_as_f32_i32 */

#define NPOOL 160
static T F(pool_)[NPOOL];
static int F(npool_);
#define POOL F(pool_)
#define NP F(npool_)

static void F(add_pool_)(T x) { if (NP < NPOOL) POOL[NP++] = x; }
static void F(add_pool_bits_)(U u) { F(add_pool_)(FROM_BITS(u)); }

/* special values first (the triple tests take the first 48), then random ones */
static void F(make_pool_)(void)
{
    int i;
    const T eps = (T)LDEXP_(1, -MANT);
    F(add_pool_)(0); F(add_pool_)(-(T)0); F(add_pool_)(1); F(add_pool_)(-1);
    F(add_pool_)(0.5); F(add_pool_)(-1.5); F(add_pool_)(2.5); F(add_pool_)(-2.5);
    F(add_pool_)(3); F(add_pool_)((T)0.1); F(add_pool_)((T)1 / 3); F(add_pool_)(-7);
    F(add_pool_)(T_MIN); F(add_pool_)(-T_MIN); F(add_pool_)(T_TRUE_MIN); F(add_pool_)(-T_TRUE_MIN);
    F(add_pool_)(3 * T_TRUE_MIN); F(add_pool_)(T_MIN - T_TRUE_MIN); F(add_pool_)((T)0.75 * T_MIN);
    F(add_pool_)(T_MAX); F(add_pool_)(-T_MAX); F(add_pool_)(T_MAX / 2);
    F(add_pool_)((T)INFINITY); F(add_pool_)(-(T)INFINITY);
    F(add_pool_bits_)(EXPMASK | QUIET);                         /* the quiet NaN */
    F(add_pool_bits_)(~(U)0 >> 1);                              /* NaN, all payload bits */
    F(add_pool_bits_)(SIGN | EXPMASK | QUIET | 0x2345);         /* negative quiet NaN, payload */
    F(add_pool_bits_)(EXPMASK | 0x1234);                        /* signalling NaN */
    F(add_pool_)(1 + eps); F(add_pool_)(1 - eps / 2); F(add_pool_)(-(1 + 2 * eps));
    F(add_pool_)((T)LDEXP_(1, MANT) - (T)0.5); F(add_pool_)((T)LDEXP_(1, MANT));
    F(add_pool_)(-(T)LDEXP_(1, MANT) - 1); F(add_pool_)((T)LDEXP_(1, MANT + 1) + 2);
    F(add_pool_)((T)LDEXP_(3, -EMAX)); F(add_pool_)((T)LDEXP_(1, -EMAX - 14));
    F(add_pool_)((T)LDEXP_(1, EMAX)); F(add_pool_)((T)LDEXP_(-1.75, EMAX - 3));
    F(add_pool_)((T)1e-3); F(add_pool_)((T)-1e30); F(add_pool_)((T)6.5); F(add_pool_)((T)-0.5);
    F(add_pool_)((T)LDEXP_(1, -MANT - 1)); F(add_pool_)((T)1e4); F(add_pool_)((T)-3.75);
    while (NP < 48) F(add_pool_)((T)(rnd01() * 8 - 4));
    for (i = 0; NP < NPOOL; i++) {
        if (i % 3 == 0) {
            F(add_pool_bits_)((U)rnd());                    /* any bit pattern */
        } else {
            int e = ETINY + (int)(rnd() % (uint64_t)(EMAX - ETINY + 1));
            T x = (T)LDEXP_((T)(1 + rnd01()), e);
            F(add_pool_)(rnd() & 1 ? -x : x);
        }
    }
}

/* Vectors from arrays of lanes and back. */
static V F(vec_)(const T *x) { return F(smx_load_)(x); }
static void F(lanes_)(V v, T *out) { F(smx_store_)(out, v); }

/* A mask's lanes: select(m, 1, 0). */
static void F(mask_lanes_)(M m, int *out)
{
    T t[N];
    int i;
    F(lanes_)(F(smx_select_)(m, F(smx_setall_)(1), F(smx_setall_)(0)), t);
    for (i = 0; i < N; i++) out[i] = t[i] == 1 ? 1 : (t[i] == 0 ? 0 : -1);
}

/* ---- unary and binary arithmetic against C ---- */
typedef V (*F(un_t_))(V);
typedef V (*F(bin_t_))(V, V);
typedef V (*F(tri_t_))(V, V, V);
typedef T (*F(run_t_))(T);
typedef T (*F(rbin_t_))(T, T);
typedef T (*F(rtri_t_))(T, T, T);

#define WRAP1(op) static V F(w_##op##_)(V a) { return F(smx_##op##_)(a); }
#define WRAP2(op) static V F(w_##op##_)(V a, V b) { return F(smx_##op##_)(a, b); }
#define WRAP3(op) static V F(w_##op##_)(V a, V b, V c) { return F(smx_##op##_)(a, b, c); }
WRAP2(add) WRAP2(sub) WRAP2(mul) WRAP2(div) WRAP2(max) WRAP2(min)
WRAP3(muladd) WRAP3(nmuladd) WRAP3(mulsub)
WRAP1(neg) WRAP1(abs) WRAP1(rint)
#undef WRAP1
#undef WRAP2
#undef WRAP3

static T F(r_add_)(T a, T b) { return a + b; }
static T F(r_sub_)(T a, T b) { return a - b; }
static T F(r_mul_)(T a, T b) { return a * b; }
static T F(r_div_)(T a, T b) { return a / b; }
static T F(r_max_)(T a, T b) { return a > b ? a : b; }
static T F(r_min_)(T a, T b) { return a < b ? a : b; }
/* the non-fused references round the product in a statement of its own (and the build has
 * -ffp-contract=off: main() checks that they do not come out fused) */
static T F(r_muladd_nf_)(T a, T b, T c) { T p = a * b; return p + c; }
static T F(r_nmuladd_nf_)(T a, T b, T c) { T p = a * b; return c - p; }
static T F(r_mulsub_nf_)(T a, T b, T c) { T p = a * b; return p - c; }
static T F(r_muladd_f_)(T a, T b, T c) { return FMA_(a, b, c); }
static T F(r_nmuladd_f_)(T a, T b, T c) { return FMA_(-a, b, c); }
static T F(r_mulsub_f_)(T a, T b, T c) { return FMA_(a, b, -c); }
static T F(r_neg_)(T a) { return FROM_BITS(BITS(a) ^ SIGN); }
static T F(r_abs_)(T a) { return FROM_BITS(BITS(a) & ~SIGN); }
static T F(r_rint_)(T a) { return RINT_(a); }

static void F(check_)(const char *op, int lane, T got, T want, int nan_any, int nin, T a, T b, T c)
{
    g_checks++;
    if (SAME(got, want, nan_any)) return;
    failf("%s_%s lane %d: got %a (0x%llx), want %a (0x%llx); inputs %a %a %a (%d)", op,
          STR(S), lane, (double)got, (unsigned long long)BITS(got), (double)want,
          (unsigned long long)BITS(want), (double)a, (double)b, (double)c, nin);
}

static void F(test_un_)(const char *op, F(un_t_) f, F(run_t_) r, int nan_any)
{
    T a[N], o[N];
    int k, i;
    for (k = 0; k < NP; k += N) {
        for (i = 0; i < N; i++) a[i] = POOL[(k + i) % NP];
        F(lanes_)(f(F(vec_)(a)), o);
        for (i = 0; i < N; i++) F(check_)(op, i, o[i], r(a[i]), nan_any, 1, a[i], 0, 0);
    }
}

static void F(test_bin_)(const char *op, F(bin_t_) f, F(rbin_t_) r, int nan_any)
{
    T a[N], b[N], o[N];
    long k, total = (long)NP * NP;
    int i;
    for (k = 0; k < total; k += N) {
        for (i = 0; i < N; i++) {
            long j = (k + i) % total;
            a[i] = POOL[j / NP];
            b[i] = POOL[j % NP];
        }
        F(lanes_)(f(F(vec_)(a), F(vec_)(b)), o);
        for (i = 0; i < N; i++) F(check_)(op, i, o[i], r(a[i], b[i]), nan_any, 2, a[i], b[i], 0);
    }
}

/* muladd family: all triples of the first 48 pool values, and products with cancellation
 * (c = -(a*b) rounded, give or take), where fused and unfused results differ. */
static long F(test_tri_)(const char *op, F(tri_t_) f, F(rtri_t_) r, F(rtri_t_) r_other)
{
    T a[N], b[N], c[N], o[N];
    long k, total = 48L * 48 * 48 + 48L * 1024, differ = 0;
    int i;
    for (k = 0; k < total; k += N) {
        for (i = 0; i < N; i++) {
            long j = (k + i) % total;
            if (j < 48L * 48 * 48) {
                a[i] = POOL[j / (48 * 48)];
                b[i] = POOL[(j / 48) % 48];
                c[i] = POOL[j % 48];
            } else {
                a[i] = (T)(1 + rnd01());
                b[i] = (T)((1 + rnd01()) * (rnd() & 1 ? -1 : 1));
                c[i] = (T)(a[i] * b[i]) * (T)(j % 3 == 0 ? 1 : (j % 3 == 1 ? -1 : 0.5));
            }
            if (!SAME(r(a[i], b[i], c[i]), r_other(a[i], b[i], c[i]), 1)) differ++;
        }
        F(lanes_)(f(F(vec_)(a), F(vec_)(b), F(vec_)(c)), o);
        for (i = 0; i < N; i++) F(check_)(op, i, o[i], r(a[i], b[i], c[i]), 1, 3, a[i], b[i], c[i]);
    }
    return differ;
}

static void F(test_arith_)(void)
{
    long differ = 0;
    F(test_bin_)("add", F(w_add_), F(r_add_), 1);
    F(test_bin_)("sub", F(w_sub_), F(r_sub_), 1);
    F(test_bin_)("mul", F(w_mul_), F(r_mul_), 1);
    F(test_bin_)("div", F(w_div_), F(r_div_), 1);
    F(test_bin_)("max", F(w_max_), F(r_max_), 0);        /* a selection: bit-exact, NaN too */
    F(test_bin_)("min", F(w_min_), F(r_min_), 0);
    F(test_un_)("neg", F(w_neg_), F(r_neg_), 0);
    F(test_un_)("abs", F(w_abs_), F(r_abs_), 0);
    F(test_un_)("rint", F(w_rint_), F(r_rint_), 1);
#if SMX_HAS_FMA
    differ += F(test_tri_)("muladd", F(w_muladd_), F(r_muladd_f_), F(r_muladd_nf_));
    differ += F(test_tri_)("nmuladd", F(w_nmuladd_), F(r_nmuladd_f_), F(r_nmuladd_nf_));
    differ += F(test_tri_)("mulsub", F(w_mulsub_), F(r_mulsub_f_), F(r_mulsub_nf_));
#else
    differ += F(test_tri_)("muladd", F(w_muladd_), F(r_muladd_nf_), F(r_muladd_f_));
    differ += F(test_tri_)("nmuladd", F(w_nmuladd_), F(r_nmuladd_nf_), F(r_nmuladd_f_));
    differ += F(test_tri_)("mulsub", F(w_mulsub_), F(r_mulsub_nf_), F(r_mulsub_f_));
#endif
    g_checks++;
    if (differ < 1000) failf("muladd_%s: only %ld triples tell fused from unfused", STR(S), differ);
    /* rint: ties and the ends of the range where it acts */
    {
        T a[N], o[N];
        int k, i;
        for (k = -40; k < 40; k++) {
            for (i = 0; i < N; i++) {
                int sel = (k + 40 + i) % 4;
                T big = (T)LDEXP_(1, MANT);
                a[i] = sel == 0 ? (T)k + (T)0.5 : sel == 1 ? (T)k * (T)0.25
                     : sel == 2 ? big + (T)k * (T)0.5 : -big + (T)k * (T)0.5;
            }
            F(lanes_)(F(smx_rint_)(F(vec_)(a)), o);
            for (i = 0; i < N; i++) F(check_)("rint", i, o[i], RINT_(a[i]), 1, 1, a[i], 0, 0);
        }
    }
}

/* ---- compares, tail masks, mask logic, select ---- */
static void F(test_cmp_)(void)
{
    T a[N], b[N];
    int ml[6][N], i, c;
    long k, total = (long)NP * NP;
    static const char *names[6] = {"cmplt", "cmple", "cmpgt", "cmpge", "cmpeq", "cmpneq"};
    for (k = 0; k < total; k += N) {
        M m[6];
        for (i = 0; i < N; i++) {
            long j = (k + i) % total;
            a[i] = POOL[j / NP];
            b[i] = POOL[j % NP];
        }
        m[0] = F(smx_cmplt_)(F(vec_)(a), F(vec_)(b));
        m[1] = F(smx_cmple_)(F(vec_)(a), F(vec_)(b));
        m[2] = F(smx_cmpgt_)(F(vec_)(a), F(vec_)(b));
        m[3] = F(smx_cmpge_)(F(vec_)(a), F(vec_)(b));
        m[4] = F(smx_cmpeq_)(F(vec_)(a), F(vec_)(b));
        m[5] = F(smx_cmpneq_)(F(vec_)(a), F(vec_)(b));
        for (c = 0; c < 6; c++) F(mask_lanes_)(m[c], ml[c]);
        for (i = 0; i < N; i++) {
            int want[6];
            want[0] = a[i] < b[i]; want[1] = a[i] <= b[i]; want[2] = a[i] > b[i];
            want[3] = a[i] >= b[i]; want[4] = a[i] == b[i]; want[5] = a[i] != b[i];
            for (c = 0; c < 6; c++) {
                g_checks++;
                if (ml[c][i] != want[c])
                    failf("%s_%s lane %d: got %d want %d for %a, %a", names[c], STR(S), i, ml[c][i],
                          want[c], (double)a[i], (double)b[i]);
            }
        }
    }
}

static void F(check_mask_)(const char *what, M m, const int *want, long arg)
{
    int got[N], i, any = 0, all = 1;
    F(mask_lanes_)(m, got);
    for (i = 0; i < N; i++) {
        g_checks++;
        if (got[i] != want[i])
            failf("%s_%s(%ld) lane %d: got %d want %d", what, STR(S), arg, i, got[i], want[i]);
        any |= want[i];
        all &= want[i];
    }
    g_checks += 2;
    if (F(smx_any_m)(m) != any) failf("any_m%s of %s(%ld): got %d", STR(S), what, arg, F(smx_any_m)(m));
    if (F(smx_all_m)(m) != all) failf("all_m%s of %s(%ld): got %d", STR(S), what, arg, F(smx_all_m)(m));
}

static void F(test_masks_)(void)
{
    int want[N], i, k, r;
    ptrdiff_t n;
    for (k = -1; k < N + 2 + N_FAR; k++) {
        n = k < N + 2 ? k : g_far_n[k - N - 2];
        for (i = 0; i < N; i++) want[i] = i < n;
        F(check_mask_)("till", F(smx_till_)(n), want, (long)n);
    }
    /* and/or/andnot/not on masks from compares of random lanes (every pattern, for N <= 8) */
    for (r = 0; r < 600; r++) {
        T x[N], y[N], z[N];
        int wa[N], wb[N], w[N];
        M ma, mb;
        for (i = 0; i < N; i++) {
            x[i] = (T)(rnd() % 4); y[i] = (T)(rnd() % 4); z[i] = (T)(rnd() % 4);
            if (r % 50 == 0) x[i] = z[i] = 9;                    /* all-true / all-false masks */
            if (r % 50 == 1) x[i] = z[i] = -9;
            wa[i] = x[i] < y[i];
            wb[i] = y[i] < z[i];
        }
        ma = F(smx_cmplt_)(F(vec_)(x), F(vec_)(y));
        mb = F(smx_cmplt_)(F(vec_)(y), F(vec_)(z));
        F(check_mask_)("cmplt", ma, wa, r);
        for (i = 0; i < N; i++) w[i] = wa[i] & wb[i];
        F(check_mask_)("and_m", F(smx_and_m)(ma, mb), w, r);
        for (i = 0; i < N; i++) w[i] = wa[i] | wb[i];
        F(check_mask_)("or_m", F(smx_or_m)(ma, mb), w, r);
        for (i = 0; i < N; i++) w[i] = wa[i] & !wb[i];
        F(check_mask_)("andnot_m", F(smx_andnot_m)(ma, mb), w, r);
        for (i = 0; i < N; i++) w[i] = !wa[i];
        F(check_mask_)("not_m", F(smx_not_m)(ma), w, r);
    }
    /* select: a bit-exact choice of lanes, NaN payloads included */
    for (k = 0; k + 2 * N <= NP; k++) {
        T a[N], b[N], o[N];
        int wl[N];
        M m;
        for (i = 0; i < N; i++) { a[i] = POOL[k + i]; b[i] = POOL[NP - 1 - k - i]; }
        m = (k & 1) ? F(smx_till_)(k % (N + 1)) : F(smx_cmplt_)(F(vec_)(a), F(vec_)(b));
        for (i = 0; i < N; i++) wl[i] = (k & 1) ? i < k % (N + 1) : a[i] < b[i];
        F(lanes_)(F(smx_select_)(m, F(vec_)(a), F(vec_)(b)), o);
        for (i = 0; i < N; i++) F(check_)("select", i, o[i], wl[i] ? a[i] : b[i], 0, 2, a[i], b[i], 0);
    }
}

/* ---- memory: full loads/stores, setall/zero/get, and the tails ---- */
static void F(test_memory_)(void)
{
    T buf[4 * N + 8], o[N];
    int i, k;
    for (k = 0; k < 3; k++) {                        /* unaligned by 0, 1, 3 elements */
        int off = k == 0 ? 0 : (k == 1 ? 1 : 3);
        V v;
        for (i = 0; i < 4 * N + 8; i++) buf[i] = POOL[(i * 7 + k) % NP];
        v = F(smx_load_)(buf + off);
        for (i = 0; i < N; i++) {
            F(check_)("load", i, F(smx_get_)(v, i), buf[off + i], 0, 0, 0, 0, 0);
        }
        v = F(smx_load_keep_)(buf + off + 2);
        for (i = 0; i < N; i++) {
            F(check_)("load_keep", i, F(smx_get_)(v, i), buf[off + 2 + i], 0, 0, 0, 0, 0);
        }
        v = F(smx_load_)(buf + off);
        for (i = 0; i < 4 * N + 8; i++) buf[i] = (T)-99;
        F(smx_store_)(buf + off + 1, v);
        for (i = 0; i < 4 * N + 8; i++) {
            T want = (i > off && i <= off + N) ? POOL[((i - 1) * 7 + k) % NP] : (T)-99;
            F(check_)("store", i, buf[i], want, 0, 0, 0, 0, 0);
        }
    }
    for (k = 0; k < NP; k++) {
        F(lanes_)(F(smx_setall_)(POOL[k]), o);
        for (i = 0; i < N; i++) F(check_)("setall", i, o[i], POOL[k], 0, 1, POOL[k], 0, 0);
    }
    F(lanes_)(F(smx_zero_)(), o);
    for (i = 0; i < N; i++) F(check_)("zero", i, o[i], (T)0, 0, 0, 0, 0, 0);
}

/* One load_till / store_till with SIGSEGV armed: 1 if it ran, 0 if it touched the protected page. */
static int F(probe_load_till_)(const T *p, ptrdiff_t n, const T *fill, T *out)
{
    g_armed = 1;
    if (sigsetjmp(g_jb, 1) != 0) return 0;
    F(lanes_)(F(smx_load_till_)(p, n, *fill), out);
    g_armed = 0;
    return 1;
}
static int F(probe_store_till_)(T *p, ptrdiff_t n, const T *src)
{
    g_armed = 1;
    if (sigsetjmp(g_jb, 1) != 0) return 0;
    F(smx_store_till_)(p, n, F(vec_)(src));
    g_armed = 0;
    return 1;
}

static void F(test_tails_)(void)
{
    const T fills[3] = {(T)-7.25, FROM_BITS(EXPMASK | 0x5A), -(T)0};
    int k, i, f;
    for (f = 0; f < 3; f++)
    for (k = -1; k < N + 2 + N_FAR; k++) {
        ptrdiff_t n = k < N + 2 ? k : g_far_n[k - N - 2];
        ptrdiff_t cnt = n < 0 ? 0 : (n > N ? N : n);
        T *p = (T *)PAGE_END - cnt;                 /* p + min(n, lanes) is the protected page */
        T o[N], src[N];
        unsigned char *lo = (unsigned char *)((T *)PAGE_END - 3 * N), *q, *g;
        /* load_till: lanes i < n from p, the others fill; nothing read at or beyond p + n */
        for (i = 0; i < cnt; i++) p[i] = POOL[(i * 5 + k + f) % NP];
        g_checks++;
        if (F(probe_load_till_)(p, n, &fills[f], o)) {
            for (i = 0; i < N; i++)
                F(check_)("load_till", i, o[i], i < cnt ? p[i] : fills[f], 0, 1, (T)n, 0, 0);
        } else {
            failf("load_till_%s(p, n=%ld): read at or beyond p + n (SIGSEGV)", STR(S), (long)n);
        }
        /* store_till writes lanes i < n only: at the page end (a write beyond faults) ... */
        for (i = 0; i < N; i++) src[i] = POOL[(i * 3 + k + 11 * f) % NP];
        memset(lo, 0xA5, (size_t)(PAGE_END - lo));
        g_checks++;
        if (F(probe_store_till_)(p, n, src)) {
            for (i = 0; i < cnt; i++) F(check_)("store_till", i, p[i], src[i], 0, 1, (T)n, 0, 0);
            for (q = lo; q < (unsigned char *)p; q++) {
                g_checks++;
                if (*q != 0xA5) { failf("store_till_%s(n=%ld) wrote before p", STR(S), (long)n); break; }
            }
        } else {
            failf("store_till_%s(p, n=%ld): wrote at or beyond p + n (SIGSEGV)", STR(S), (long)n);
        }
        /* ... and inside a buffer with guard bytes on both sides, p not vector-aligned */
        g = g_page + 256;
        p = (T *)(g + 64 + sizeof(T));
        for (i = 0; i < N; i++) src[i] = POOL[(i * 13 + k + f) % NP];
        memset(g, 0x5A, 1024);
        F(smx_store_till_)(p, n, F(vec_)(src));
        for (i = 0; i < cnt; i++) F(check_)("store_till", i, p[i], src[i], 0, 1, (T)n, 0, 0);
        for (q = g; q < g + 1024; q++) {
            if (q >= (unsigned char *)p && q < (unsigned char *)(p + cnt)) continue;
            g_checks++;
            if (*q != 0x5A) { failf("store_till_%s(n=%ld) wrote a guard byte", STR(S), (long)n); break; }
        }
    }
}

/* ---- horizontal reductions, in the stated halving order ---- */
static T F(ref_reduce_)(const T *x, int op)
{
    T r[N];
    int w, i;
    memcpy(r, x, sizeof r);
    for (w = N / 2; w >= 1; w /= 2)
        for (i = 0; i < w; i++)
            r[i] = op == 0 ? r[i] + r[i + w] : op == 1 ? (r[i] > r[i + w] ? r[i] : r[i + w])
                                                       : (r[i] < r[i + w] ? r[i] : r[i + w]);
    return r[0];
}
static void F(test_reduce_)(void)
{
    int k, i;
    long order_matters = 0;
    for (k = 0; k < 4000; k++) {
        T x[N], seq;
        V v;
        for (i = 0; i < N; i++) {
            T m = (T)LDEXP_((T)(1 + rnd01()), (int)(rnd() % 60) - 30);
            x[i] = rnd() & 1 ? -m : m;
            if (k >= 2000 && rnd() % 4 == 0) x[i] = POOL[rnd() % 48];   /* specials: NaN, inf, 0 */
        }
        v = F(vec_)(x);
        F(check_)("reduce_add", 0, F(smx_reduce_add_)(v), F(ref_reduce_)(x, 0), 1, N, x[0], 0, 0);
        F(check_)("reduce_max", 0, F(smx_reduce_max_)(v), F(ref_reduce_)(x, 1), 0, N, x[0], 0, 0);
        F(check_)("reduce_min", 0, F(smx_reduce_min_)(v), F(ref_reduce_)(x, 2), 0, N, x[0], 0, 0);
        for (seq = x[0], i = 1; i < N; i++) seq += x[i];
        if (!SAME(seq, F(ref_reduce_)(x, 0), 1)) order_matters++;
    }
    g_checks++;
    if (N >= 4 && order_matters < 100)
        failf("reduce_add_%s: the data do not tell the orders apart (%ld)", STR(S), order_matters);
}

/* ---- across rows: lane j of smx_rows_* is the op over the lanes of v[j], whatever the other
 * rows hold and wherever row j sits; sums of data that add exactly are exact (any order) ---- */
static void F(test_rows_)(void)
{
    static T x[N][N], y[N][N];
    T got[N], moved[N];
    V v[N], w[N];
    int k, i, j, p[N];
    for (k = 0; k < 2000; k++) {
        int exact = k % 2 == 0;
        for (j = 0; j < N; j++)
            for (i = 0; i < N; i++) {
                if (exact) {
                    x[j][i] = (T)LDEXP_((T)((int)(rnd() % 2001) - 1000), k % 40 - 20);   /* |sum| < 2**15 */
                } else {
                    T m = (T)LDEXP_((T)(1 + rnd01()), (int)(rnd() % 60) - 30);
                    x[j][i] = rnd() & 1 ? -m : m;
                }
            }
        for (j = 0; j < N; j++) { v[j] = F(vec_)(x[j]); p[j] = j; }
        for (j = N - 1; j > 0; j--) { i = (int)(rnd() % (unsigned)(j + 1)); int t = p[j]; p[j] = p[i]; p[i] = t; }
        for (j = 0; j < N; j++) {    /* row p[j] moved to slot j, the others new */
            memcpy(y[j], x[p[j]], sizeof y[j]);
            w[j] = F(vec_)(y[j]);
        }
        F(lanes_)(F(smx_rows_add_)(v), got);
        F(lanes_)(F(smx_rows_add_)(w), moved);
        for (j = 0; j < N; j++) {
            T seq = 0, ref_abs = 0;
            for (i = 0; i < N; i++) { seq += x[j][i]; ref_abs += x[j][i] < 0 ? -x[j][i] : x[j][i]; }
            if (!SAME(moved[j], got[p[j]], 0))
                failf("rows_add_%s: row %d gives other bits in slot %d", STR(S), p[j], j);
            if (exact ? !SAME(got[j], seq, 0)
                      : !((got[j] - seq <= 0 ? seq - got[j] : got[j] - seq) <= (T)N * (T)LDEXP_((T)1, -MANT) * ref_abs))
                failf("rows_add_%s: row %d: %.17g, want %.17g", STR(S), j, (double)got[j], (double)seq);
        }
#if TBITS == 32
        F(lanes_)(smx_rows_max_f32(v), got);
        F(lanes_)(smx_rows_max_f32(w), moved);
        for (j = 0; j < N; j++)
            if (!SAME(got[j], F(ref_reduce_)(x[j], 1), 0) || !SAME(moved[j], got[p[j]], 0))
                failf("rows_max_f32: row %d", j);
        F(lanes_)(smx_rows_min_f32(v), got);
        F(lanes_)(smx_rows_min_f32(w), moved);
        for (j = 0; j < N; j++)
            if (!SAME(got[j], F(ref_reduce_)(x[j], 2), 0) || !SAME(moved[j], got[p[j]], 0))
                failf("rows_min_f32: row %d", j);
#endif
    }
    g_checks++;
}

/* ---- v * 2**n against ldexp, over the whole exponent range ---- */
static void F(test_scale2_)(void)
{
    T v[N], nn[N], o[N];
    int cnt = 0, n, e, m, i;
    const T mants[4] = {1, (T)1.5, 1 + (T)LDEXP_(1, -MANT), 2 - (T)LDEXP_(1, -MANT)};
    /* every n in range; for float every binade of v, for double the binades whose product
     * lands near the subnormal range or overflow, and some others */
    for (n = NLO; n <= NHI; n++) {
        for (e = ETINY - 1; e <= EMAX + 1; e++) {
            int tgt = e + n, vi;
            if (TBITS == 64 && !(tgt > ETINY - 8 && tgt < -1015) && !(tgt > EMAX - 4 && tgt < EMAX + 3)
                && rnd() % 512 != 0)
                continue;
            for (m = 0; m < 6; m++) {
                T x;
                if (e == ETINY - 1) {             /* specials instead of a binade */
                    const T sp[6] = {0, -(T)0, (T)INFINITY, -(T)INFINITY, (T)NAN, 1};
                    x = sp[m];
                } else if (e == EMAX + 1) {
                    x = POOL[48 + (n * 6 + m + 1000000) % (NP - 48)];
                } else {
                    x = (T)LDEXP_(m < 4 ? mants[m] : (T)(1 + rnd01()), e);
                    if (m == 5 || (m == 2 && (n & 1))) x = -x;
                }
                vi = cnt % N;
                v[vi] = x;
                nn[vi] = (T)n;
                if (++cnt % N == 0) {
                    F(lanes_)(F(smx_scale2_)(F(vec_)(v), F(vec_)(nn)), o);
                    for (i = 0; i < N; i++)
                        F(check_)("scale2", i, o[i], LDEXP_(v[i], (int)nn[i]), 1, 2, v[i], nn[i], 0);
                }
            }
        }
    }
}

/* ---- integer lanes ---- */
static void F(int_lanes_)(VI x, SI *out)
{
    int i;
    for (i = 0; i < N; i++) out[i] = FI(smx_get_)(x, i);
}
static VI F(ivec_)(const U *u)
{
    T t[N];
    memcpy(t, u, sizeof t);                 /* the bits travel in a float vector: no arithmetic */
    return AS_I(F(smx_load_)(t));
}
#define CHECK_INT(op, got, want, x, y)                                                          \
    do {                                                                                        \
        g_checks++;                                                                             \
        if ((U)(got) != (U)(want))                                                              \
            failf("%s_%s lane %d: got 0x%llx want 0x%llx (0x%llx, 0x%llx)", op, STR(IS), i,         \
                  (unsigned long long)(U)(got), (unsigned long long)(U)(want),                  \
                  (unsigned long long)(x), (unsigned long long)(y));                            \
    } while (0)
#define TEST_SHIFT(k)                                                                           \
    do {                                                                                        \
        F(int_lanes_)(FI(smx_shli_)(va, k), r);                                                 \
        for (i = 0; i < N; i++) CHECK_INT("shli", r[i], (U)(a[i] << (k)), a[i], k);             \
        F(int_lanes_)(FI(smx_shri_)(va, k), r);                                                 \
        for (i = 0; i < N; i++) CHECK_INT("shri", r[i], (U)(a[i] >> (k)), a[i], k);             \
    } while (0)

static void F(test_int_)(void)
{
    int k, i;
    for (k = 0; k < 500; k++) {
        U a[N], b[N];
        SI r[N];
        VI va, vb;
        T t[N], o[N];
        for (i = 0; i < N; i++) {
            a[i] = (U)rnd();
            b[i] = (U)rnd();
            if (k % 5 == 1) a[i] = (U)1 << (TBITS - 1) | (U)(i & 1);      /* INT_MIN-ish */
            if (k % 5 == 2) b[i] = ~(U)0 >> (i & 1);                      /* -1, INT_MAX */
        }
        va = F(ivec_)(a);
        vb = F(ivec_)(b);
        F(int_lanes_)(va, r);
        for (i = 0; i < N; i++) CHECK_INT("as_from_float", r[i], a[i], a[i], 0);
        F(int_lanes_)(FI(smx_add_)(va, vb), r);
        for (i = 0; i < N; i++) CHECK_INT("add", r[i], (U)(a[i] + b[i]), a[i], b[i]);
        F(int_lanes_)(FI(smx_sub_)(va, vb), r);
        for (i = 0; i < N; i++) CHECK_INT("sub", r[i], (U)(a[i] - b[i]), a[i], b[i]);
        TEST_SHIFT(1);
        TEST_SHIFT(7);
        TEST_SHIFT(MANT);
        TEST_SHIFT(TBITS - 1);
        F(int_lanes_)(FI(smx_setall_)((SI)a[0]), r);
        for (i = 0; i < N; i++) CHECK_INT("setall", r[i], a[0], a[0], 0);
        /* float -> int -> float bits, NaN payloads included */
        memcpy(t, a, sizeof t);
        F(lanes_)(AS_F(AS_I(F(smx_load_)(t))), o);
        for (i = 0; i < N; i++) CHECK_INT("as_roundtrip", BITS(o[i]), a[i], a[i], 0);
    }
}
#undef CHECK_INT
#undef TEST_SHIFT

static void F(run_all_)(void)
{
    F(make_pool_)();
    F(test_arith_)();
    F(test_cmp_)();
    F(test_masks_)();
    F(test_memory_)();
    F(test_tails_)();
    F(test_reduce_)();
    F(test_rows_)();
    F(test_scale2_)();
    F(test_int_)();
}

#undef F
#undef FI
#undef BITS
#undef FROM_BITS
#undef SAME
#undef SIGN
#undef EXPMASK
#undef QUIET
#undef AS_I
#undef AS_F
#undef NPOOL
#undef POOL
#undef NP
#endif /* SMX_TEST_TEMPLATE */


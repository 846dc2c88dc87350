# Cython declarations of the vector primitives: src/softmax/simd/README.md is the contract.
# One set of names for every ISA; the header picked at C compile time (-DSMX_ISA_AVX512 / _AVX2 /
# _SSE2 / _NEON / _SCALAR, or the architecture's default) gives them their registers. Vector,
# integer-vector and mask types are opaque here: hold them in variables, pass them to the
# primitives, never index them (smx_get_* reads a lane). The extension needs src/softmax on its
# include path. The shifts' k must be a literal or a compile-time constant (they are macros).
from libc.stdint cimport int32_t, int64_t

cdef extern from "simd/smx_simd.h" nogil:
    ctypedef struct smx_vf32:
        pass
    ctypedef struct smx_vf64:
        pass
    ctypedef struct smx_vi32:
        pass
    ctypedef struct smx_vi64:
        pass
    ctypedef struct smx_mf32:
        pass
    ctypedef struct smx_mf64:
        pass

    # lanes (SMX_NF32 == 2 * SMX_NF64), 1 when smx_muladd_* is fused, "avx512" ... "scalar"
    const Py_ssize_t SMX_NF32
    const Py_ssize_t SMX_NF64
    const int SMX_HAS_FMA
    const int SMX_HAS_SCALEF     # 1 when smx_scale2_* is one instruction (vscalef)
    const char *SMX_ISA_NAME

    # ---- f32 ----
    # memory (unaligned pointers allowed); *_till: lanes i < n only, n may be <= 0 or >= lanes
    smx_vf32 smx_load_f32(const float *p) noexcept
    smx_vf32 smx_load_keep_f32(const float *p) noexcept    # held in a register: no reload a use
    void smx_store_f32(float *p, smx_vf32 v) noexcept
    smx_vf32 smx_load_till_f32(const float *p, Py_ssize_t n, float fill) noexcept
    void smx_store_till_f32(float *p, Py_ssize_t n, smx_vf32 v) noexcept
    smx_vf32 smx_setall_f32(float a) noexcept
    smx_vf32 smx_zero_f32() noexcept
    # arithmetic: IEEE, nearest-even; muladd a*b+c, nmuladd c-a*b, mulsub a*b-c (fused iff SMX_HAS_FMA)
    smx_vf32 smx_add_f32(smx_vf32 a, smx_vf32 b) noexcept
    smx_vf32 smx_sub_f32(smx_vf32 a, smx_vf32 b) noexcept
    smx_vf32 smx_mul_f32(smx_vf32 a, smx_vf32 b) noexcept
    smx_vf32 smx_div_f32(smx_vf32 a, smx_vf32 b) noexcept
    smx_vf32 smx_muladd_f32(smx_vf32 a, smx_vf32 b, smx_vf32 c) noexcept
    smx_vf32 smx_nmuladd_f32(smx_vf32 a, smx_vf32 b, smx_vf32 c) noexcept
    smx_vf32 smx_mulsub_f32(smx_vf32 a, smx_vf32 b, smx_vf32 c) noexcept
    smx_vf32 smx_neg_f32(smx_vf32 a) noexcept
    smx_vf32 smx_abs_f32(smx_vf32 a) noexcept
    smx_vf32 smx_max_f32(smx_vf32 a, smx_vf32 b) noexcept      # a > b ? a : b (b if either is NaN)
    smx_vf32 smx_min_f32(smx_vf32 a, smx_vf32 b) noexcept      # a < b ? a : b
    smx_vf32 smx_rint_f32(smx_vf32 a) noexcept            # nearest integral value, ties to even
    # compares (ordered; cmpneq is unordered: true for NaN), tail masks, mask logic
    smx_mf32 smx_cmplt_f32(smx_vf32 a, smx_vf32 b) noexcept
    smx_mf32 smx_cmple_f32(smx_vf32 a, smx_vf32 b) noexcept
    smx_mf32 smx_cmpgt_f32(smx_vf32 a, smx_vf32 b) noexcept
    smx_mf32 smx_cmpge_f32(smx_vf32 a, smx_vf32 b) noexcept
    smx_mf32 smx_cmpeq_f32(smx_vf32 a, smx_vf32 b) noexcept
    smx_mf32 smx_cmpneq_f32(smx_vf32 a, smx_vf32 b) noexcept
    smx_mf32 smx_till_f32(Py_ssize_t n) noexcept
    smx_mf32 smx_and_mf32(smx_mf32 a, smx_mf32 b) noexcept
    smx_mf32 smx_or_mf32(smx_mf32 a, smx_mf32 b) noexcept
    smx_mf32 smx_andnot_mf32(smx_mf32 a, smx_mf32 b) noexcept    # a & ~b
    smx_mf32 smx_not_mf32(smx_mf32 a) noexcept
    int smx_any_mf32(smx_mf32 m) noexcept
    int smx_all_mf32(smx_mf32 m) noexcept
    smx_vf32 smx_select_f32(smx_mf32 m, smx_vf32 a, smx_vf32 b) noexcept  # m ? a : b
    # v * 2**n, n integral: [-252, 254] (f32), [-2044, 2046] (f64); one rounding
    smx_vf32 smx_scale2_f32(smx_vf32 v, smx_vf32 n) noexcept
    # horizontal, in the halving order; lane access (tests, scalar epilogues)
    float smx_reduce_add_f32(smx_vf32 v) noexcept
    float smx_reduce_max_f32(smx_vf32 v) noexcept
    float smx_reduce_min_f32(smx_vf32 v) noexcept
    float smx_get_f32(smx_vf32 v, int i) noexcept
    # across rows: lane j = the op over the lanes of v[j] (v: SMX_NF32 vectors; f64: SMX_NF64),
    # the sums in an order of the ISA's choosing, max and min of NaN-free lanes
    smx_vf32 smx_rows_add_f32(const smx_vf32 *v) noexcept
    smx_vf32 smx_rows_max_f32(const smx_vf32 *v) noexcept
    smx_vf32 smx_rows_min_f32(const smx_vf32 *v) noexcept
    smx_vf64 smx_rows_add_f64(const smx_vf64 *v) noexcept
    # cache hints (any address: no fault, no effect on results)
    void smx_prefetch(const void *p) noexcept
    void smx_prefetchw(const void *p) noexcept
    void smx_prefetch_l2(const void *p) noexcept
    # a store past the caches (p aligned to SMX_NF32 floats; a plain store where the ISA has
    # none), and the fence to call after the last one
    void smx_stream_f32(float *p, smx_vf32 v) noexcept
    void smx_stream_fence() noexcept
    # ---- f64 ----
    # memory (unaligned pointers allowed); *_till: lanes i < n only, n may be <= 0 or >= lanes
    smx_vf64 smx_load_f64(const double *p) noexcept
    smx_vf64 smx_load_keep_f64(const double *p) noexcept
    void smx_store_f64(double *p, smx_vf64 v) noexcept
    smx_vf64 smx_load_till_f64(const double *p, Py_ssize_t n, double fill) noexcept
    void smx_store_till_f64(double *p, Py_ssize_t n, smx_vf64 v) noexcept
    smx_vf64 smx_setall_f64(double a) noexcept
    smx_vf64 smx_zero_f64() noexcept
    # arithmetic: IEEE, nearest-even; muladd a*b+c, nmuladd c-a*b, mulsub a*b-c (fused iff SMX_HAS_FMA)
    smx_vf64 smx_add_f64(smx_vf64 a, smx_vf64 b) noexcept
    smx_vf64 smx_sub_f64(smx_vf64 a, smx_vf64 b) noexcept
    smx_vf64 smx_mul_f64(smx_vf64 a, smx_vf64 b) noexcept
    smx_vf64 smx_div_f64(smx_vf64 a, smx_vf64 b) noexcept
    smx_vf64 smx_muladd_f64(smx_vf64 a, smx_vf64 b, smx_vf64 c) noexcept
    smx_vf64 smx_nmuladd_f64(smx_vf64 a, smx_vf64 b, smx_vf64 c) noexcept
    smx_vf64 smx_mulsub_f64(smx_vf64 a, smx_vf64 b, smx_vf64 c) noexcept
    smx_vf64 smx_neg_f64(smx_vf64 a) noexcept
    smx_vf64 smx_abs_f64(smx_vf64 a) noexcept
    smx_vf64 smx_max_f64(smx_vf64 a, smx_vf64 b) noexcept      # a > b ? a : b (b if either is NaN)
    smx_vf64 smx_min_f64(smx_vf64 a, smx_vf64 b) noexcept      # a < b ? a : b
    smx_vf64 smx_rint_f64(smx_vf64 a) noexcept            # nearest integral value, ties to even
    # compares (ordered; cmpneq is unordered: true for NaN), tail masks, mask logic
    smx_mf64 smx_cmplt_f64(smx_vf64 a, smx_vf64 b) noexcept
    smx_mf64 smx_cmple_f64(smx_vf64 a, smx_vf64 b) noexcept
    smx_mf64 smx_cmpgt_f64(smx_vf64 a, smx_vf64 b) noexcept
    smx_mf64 smx_cmpge_f64(smx_vf64 a, smx_vf64 b) noexcept
    smx_mf64 smx_cmpeq_f64(smx_vf64 a, smx_vf64 b) noexcept
    smx_mf64 smx_cmpneq_f64(smx_vf64 a, smx_vf64 b) noexcept
    smx_mf64 smx_till_f64(Py_ssize_t n) noexcept
    smx_mf64 smx_and_mf64(smx_mf64 a, smx_mf64 b) noexcept
    smx_mf64 smx_or_mf64(smx_mf64 a, smx_mf64 b) noexcept
    smx_mf64 smx_andnot_mf64(smx_mf64 a, smx_mf64 b) noexcept    # a & ~b
    smx_mf64 smx_not_mf64(smx_mf64 a) noexcept
    int smx_any_mf64(smx_mf64 m) noexcept
    int smx_all_mf64(smx_mf64 m) noexcept
    smx_vf64 smx_select_f64(smx_mf64 m, smx_vf64 a, smx_vf64 b) noexcept  # m ? a : b
    # v * 2**n, n integral: [-252, 254] (f32), [-2044, 2046] (f64); one rounding
    smx_vf64 smx_scale2_f64(smx_vf64 v, smx_vf64 n) noexcept
    # horizontal, in the halving order; lane access (tests, scalar epilogues)
    double smx_reduce_add_f64(smx_vf64 v) noexcept
    double smx_reduce_max_f64(smx_vf64 v) noexcept
    double smx_reduce_min_f64(smx_vf64 v) noexcept
    double smx_get_f64(smx_vf64 v, int i) noexcept
    # ---- float <-> double ----
    smx_vf64 smx_load_f32_f64(const float *p) noexcept      # SMX_NF64 floats, widened
    void smx_store_f64_f32(float *p, smx_vf64 v) noexcept   # SMX_NF64 floats, nearest-even
    smx_vf64 smx_cvt_lo_f32_f64(smx_vf32 v) noexcept        # lanes 0 .. NF64-1
    smx_vf64 smx_cvt_hi_f32_f64(smx_vf32 v) noexcept        # lanes NF64 .. NF32-1
    smx_vf32 smx_cvt_f64x2_f32(smx_vf64 lo, smx_vf64 hi) noexcept

    # ---- integer lanes and bits (add/sub wrap around; shri is logical) ----
    smx_vi32 smx_as_i32_f32(smx_vf32 v) noexcept
    smx_vf32 smx_as_f32_i32(smx_vi32 i) noexcept
    smx_vi64 smx_as_i64_f64(smx_vf64 v) noexcept
    smx_vf64 smx_as_f64_i64(smx_vi64 i) noexcept
    smx_vi32 smx_add_i32(smx_vi32 a, smx_vi32 b) noexcept
    smx_vi32 smx_sub_i32(smx_vi32 a, smx_vi32 b) noexcept
    smx_vi64 smx_add_i64(smx_vi64 a, smx_vi64 b) noexcept
    smx_vi64 smx_sub_i64(smx_vi64 a, smx_vi64 b) noexcept
    smx_vi32 smx_shli_i32(smx_vi32 i, int k) noexcept
    smx_vi32 smx_shri_i32(smx_vi32 i, int k) noexcept
    smx_vi64 smx_shli_i64(smx_vi64 i, int k) noexcept
    smx_vi64 smx_shri_i64(smx_vi64 i, int k) noexcept
    smx_vi32 smx_setall_i32(int32_t a) noexcept
    smx_vi64 smx_setall_i64(int64_t a) noexcept
    int32_t smx_get_i32(smx_vi32 v, int i) noexcept
    int64_t smx_get_i64(smx_vi64 v, int i) noexcept

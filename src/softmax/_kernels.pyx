"""Typed, GIL-free kernels of the softmax family: the per-ISA source (private: use
``softmax._api``).

This file is compiled once per entry of the ISA table (``softmax/_isa.py``), as
``softmax._kernels_<isa>`` (a one-line stub that includes it) with that entry's flags and C
macro. A variant module exports one thing: ``table()``, the drivers below as a table of
function pointers (``_kernel_table.pxd``) in a capsule, which ``softmax._dispatch`` installs
in ``softmax._core``, the module the Python layer calls.

Design
======
The Python layer hands every kernel a contiguous float32/float64 buffer seen as
(outer, K, inner): K is the reduced length, ``inner`` the distance between two consecutive
elements of one slice. Rows (inner == 1) reduce along a contiguous slice; columns
(inner > 1) put one column in each vector lane and visit each row of a block of columns once
per pass, so any axis of a contiguous array is computed without a transposed copy.

The hot loops are written once, here, against the vector primitives of ``_simd.pxd`` (one C
header per instruction set under ``simd/``: the same names on avx512, avx2, sse2, neon and a
scalar fallback); the headers hold no algorithm. Every function with a loop is specialised
on the case of the temperature (``TCase``, _k_vexp.pxi: the sign of T and whether |T| != 1 as
compile-time constants), so no such test is left inside a loop.

Passes, per slice:
* softmax        max | exps -> out, their sum     | out *= 1/sum (rounded once)
* log_softmax    max | exps summed                | out = (x - max)/T - log(sum)
* logsumexp      max | exps summed                | one value
* *_jvp          max | exps -> out, sum, dot      | out from v and the saved exps
* *_vjp          dot (or sum)                     | out from y and g
                 (softmax VJP rows of at most VJP_FUSE_MAX_K: each row's output pass takes
                 the dot of a later row, float32 the row two on, float64 the next: one
                 loop a row)
Columns: float32 softmax and log_softmax of finite columns whose span keeps every exp normal
(an FMA build) in strips of four vectors of columns, the three passes above on the fast exp,
a strided strip copied to a contiguous buffer by its max pass, which runs inside the previous
strip's exp pass (_k_vfcols32.pxi); the rest in two passes (a running max with rescaled sums,
then the output: _k_vcols32.pxi). Rows of 2**18 and
more: blocks of partial statistics (max, sum relative to it) merged in block order, then the
output: the bits do not depend on the thread count. Rows of one vector or less: one vector a
row. float32 rows in between go in blocks of rows, each row's max and min found during the
previous row's exp pass; an FMA build takes a row of finite values whose span (max - min)/|T|
keeps every exp normal on a fast path (_k_vfast32.pxi: no guards in the exp; softmax's y - max
by Fast2Sum on a max rounded up to a grid; a short row's output pass inside the next row's exp
pass); softmax rows of at most BLOCK_MAX_K elements and BLOCK_MAX_VECS vectors (log_softmax:
LOG_BLOCK_MAX_K, LOG_BLOCK_MAX_VECS; an FMA build; logsumexp: LSE_BLOCK_MAX_K,
LSE_BLOCK_MAX_VECS, any build) SMX_NF32 rows at a time, the per-row reductions and constants of
all of them at once in vector lanes, one lane a row (_k_vblock32.pxi). float64 rows likewise in
blocks (_k_vrows64.pxi), the next row prefetched 2 KB ahead of its loads; rows of SMALL_K64 <
K <= VSHORT64_MAX_K the same row kernels phase by phase over a block (_k_vshort64.pxi: every
row's max, then every row's exps, then every output). A block holds ROWS_ELEMS elements but
at least BLOCK_MIN_ROWS rows (_rows_block): its first row takes a max pass of its own.

Accuracy: ``x - max`` is carried exactly into the exponential (float32 lanes: TwoSum, its low
part added to the reduced argument; float64: the same, and the exp's own rounding kept as a
tail); exps below the smallest normal are scaled by 2**64 until their one final rounding; the
sums are compensated (anchored Fast2Sum where every term is at most 1, else TwoSum), and the
maxima (exps exactly 1) are counted apart where ``log1p(sum - 1)`` follows, so the
log-softmax of a confident slice keeps its relative precision; a division is rounded once
(a float32 pair of the inverse and an FMA, or a Newton step). logsumexp of float32 data takes
its exps in double: its ``m + T log(sum)`` may cancel.

Special values are decided per slice. The vector kernels take the ordinary slices and leave
the others untouched for the general kernels (_k_rows.pxi, _k_columns.pxi,
_k_short_rows.pxi, _k_derivatives.pxi: scalar code): a NaN -> NaN; all -inf -> NaN
(logsumexp -inf); +inf entries or T == 0 -> the arg-max limit, where exp is the indicator
(x == max), so the 1 is split evenly between tied maxima. -inf entries in an otherwise
finite slice stay on the vector path (their exps are 0, computed without underflow).

Nothing here raises or touches a Python object inside ``nogil`` code; arguments are checked
in ``softmax._api`` and ``softmax._core``. The general kernels' arrays live in scratch
memory, one block per thread that only the drivers allocate (see _k_consts.pxi); a driver
that cannot allocate it returns a nonzero status, which ``softmax._core`` raises as
MemoryError. Functions declared ``cdef inline`` are inlined, the others kept out of line
(setup.py, KERNEL_INLINING): each loop that calls the exp stays a function of its own.

Map
===
Which kernel serves which op and layout (a special slice: the general kernel in brackets):

  op                rows (inner == 1)                                 columns (inner > 1)
  softmax,          _vrows32 / _vrows64 (_softmax_row);               _vcols32: _fcols32_case,
                    float32 softmax, log_softmax, K <= BLOCK_MAX_K,
                    LOG_BLOCK_MAX_K: _vblock32_case; logsumexp,
                    K <= LSE_BLOCK_MAX_K: _vblock32_lse; AVX2 float32
                    soft/log_softmax, K <= 16: _vshort32x2_case        _vcols32_case (_softmax_cols)
    log_softmax,    K <= one vector: _vshort32 (float64: K <= SMALL_K64 _small_rows, <=
                    VSHORT64_MAX_K _vshort64);                        float64: _softmax_cols
    logsumexp       K >= 2**18: _vlong32 (float64: _row_split)
  logsumexp, b=     _lse_b_slice: one strided slice at a time, any layout
  JVPs, VJPs        _vderiv_row32 (VJPs) / _vderiv_row64 (_jvp_row, _vjp_row);  _vderiv_cols32
                    K <= one vector: _vshort_deriv32                 (float64: _jvp_cols, _vjp_cols)
                    float32 softmax VJP, K < 2**18: _vvjp_rows32 (float64: _vvjp_rows64)
                    JVPs, K > one vector: _vjvp_rows32 (float64, K < 2**18: _vjvp_rows64)
  statistics        _stats_row, _finish_row (_stats_general, _finish_general)

Files (included below): _k_consts.pxi (sizes, scratch, Temp); the general kernels _k_pair.pxi,
_k_exp.pxi, _k_rows.pxi, _k_columns.pxi, _k_short_rows.pxi, _k_derivatives.pxi; the vector
kernels _k_vpair.pxi (pair arithmetic on vectors), _k_vlog.pxi (the float32 kernels' log of
their sums, in float64 lanes), _k_vexp.pxi (TCase, the float32 exp), _k_vexp64.pxi (the float64
exp and pairs), _k_vrows32.pxi, _k_vfast32.pxi (blocks of float32 rows, the fast path),
_k_vshort32x2.pxi (AVX2: rows of 9-16 in two vectors),
_k_vblock32.pxi (short softmax and log_softmax rows, a vector of rows at a time) and
_k_vrows64.pxi (rows), _k_vshort64.pxi (short float64 rows), _k_vlong.pxi (long rows),
_k_vcols32.pxi, _k_vfcols32.pxi and _k_vfstrips32.pxi (columns), _k_vderiv32.pxi,
_k_vderiv32x2.pxi (AVX2: VJP and JVP rows of 9-15 in two vectors), _k_vjvp32.pxi (JVP rows), _k_vdcols32.pxi and _k_vderiv64.pxi (derivatives), _k_vstats.pxi (partial
statistics); _k_drivers.pxi (work items, threads, scratch).
"""
from cython cimport floating
from cython.parallel cimport prange, parallel
from libc.math cimport exp as libm_exp, log, log1p, fabs, fabsf, fma, fmaf, INFINITY, NAN
from libc.math cimport nextafter, nextafterf, frexp, ldexp, floor
from libc.string cimport memcpy
from libc.stdlib cimport malloc, free
from libc.stdint cimport uint32_t, uint64_t, int32_t, int64_t
from cpython.pycapsule cimport PyCapsule_New

from softmax._kernel_table cimport (Op, OP_SOFTMAX, OP_LOG_SOFTMAX, OP_LSE, OP_JVP,
                                    OP_LOG_JVP, OP_VJP, OP_LOG_VJP, KernelTable,
                                    KERNEL_TABLE_ABI, KERNEL_TABLE_CAPSULE)
from softmax._simd cimport *

include "_k_consts.pxi"
include "_k_pair.pxi"
include "_k_exp.pxi"
include "_k_rows.pxi"
include "_k_vpair.pxi"
include "_k_vlog.pxi"
include "_k_vexp.pxi"
include "_k_vrows32.pxi"
include "_k_vfast32.pxi"
include "_k_vshort32x2.pxi"
include "_k_vblock32.pxi"
include "_k_vexp64.pxi"
include "_k_vrows64.pxi"
include "_k_vshort64.pxi"
include "_k_vlong.pxi"
include "_k_vstats.pxi"
include "_k_vcols32.pxi"
include "_k_vfcols32.pxi"
include "_k_vfstrips32.pxi"
include "_k_columns.pxi"
include "_k_short_rows.pxi"
include "_k_derivatives.pxi"
include "_k_vderiv32.pxi"
include "_k_vderiv32x2.pxi"
include "_k_vjvp32.pxi"
include "_k_vdcols32.pxi"
include "_k_vderiv64.pxi"
include "_k_drivers.pxi"

# --------------------------------------------------------------------------
# The table: what softmax._core calls (see _kernel_table.pxd)
# --------------------------------------------------------------------------
cdef KernelTable _TABLE
_TABLE.abi = KERNEL_TABLE_ABI
_TABLE.size = sizeof(KernelTable)
_TABLE.name = SMX_ISA_NAME
_TABLE.fma = SMX_HAS_FMA
_TABLE.openmp = SMX_OPENMP
_TABLE.run_f32 = _drive_f32
_TABLE.run_f64 = _drive_f64
_TABLE.lse_b_f32 = _drive_lse_b_f32
_TABLE.lse_b_f64 = _drive_lse_b_f64
_TABLE.stats_f32 = _drive_stats_f32
_TABLE.stats_f64 = _drive_stats_f64
_TABLE.finish_f32 = _drive_finish_f32
_TABLE.finish_f64 = _drive_finish_f64
_TABLE.exp_f32 = _exp_array_f32
_TABLE.exp_f64 = _exp_array_f64
_TABLE.exp_of_f32 = _exp_f32_array


def table():
    """This variant's kernel table, in a capsule for ``softmax._core._set_table``."""
    return PyCapsule_New(<void*>&_TABLE, KERNEL_TABLE_CAPSULE, NULL)

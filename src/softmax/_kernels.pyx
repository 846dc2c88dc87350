"""Typed, GIL-free kernels of the softmax family: the per-ISA source (private: use
``softmax._api``).

This file is compiled once per entry of the ISA table (``softmax/_isa.py``), as
``softmax._kernels_<isa>`` (a one-line stub that includes it) with that entry's
flags and C macro. A variant module exports one thing: ``table()``, the drivers
below as a table of function pointers (``_kernel_table.pxd``) in a capsule, which
``softmax._dispatch`` installs in ``softmax._core``, the module the Python layer
calls.

Design
======
The Python layer hands every kernel a contiguous float32/float64 buffer seen as
(outer, K, inner): K is the reduced length, ``inner`` the distance between two
consecutive elements of one slice. Two loop shapes cover every axis of every
contiguous layout without transposing anything:

* rows (inner == 1): each slice is contiguous; loops run along K and reduce
  into LANES independent accumulators, so gcc vectorises them without
  reassociating floating-point sums (no -ffast-math, which breaks NaN/inf).
* columns (inner > 1): a chunk of W adjacent columns is processed at once; the
  loops run across the W contiguous elements of one row (vectorised), with one
  accumulator per column, and the chunk (K x W) is sized to stay in cache.

Passes over memory, per slice (rows; columns the same on a cached chunk):

* softmax:      max | exp -> out, sum        | out /= sum
* log_softmax:  max | exp -> scratch, sum    | out = (x - max)/T - log(sum)
* logsumexp:    max | exp -> scratch, sum    | one value
* *_jvp:        max | exp -> out, sum, dot   | out from v and the saved exps
* *_vjp:        dot (or sum)                 | out from y and g
The exp pass works on blocks of BLK elements and re-reads each block from L1
for the sum, so exp and sum are separate, simple, vectorisable loops. Loops are
written one per case (T == 1 or not, hard limit or not) and keep the exp in a
loop body of its own: gcc if-converts a test inside a loop (both sides run)
and stops inlining the exp into a big body (then it runs as a scalar call).
Rows of K <= SMALL_K go a block of rows at a time (_small_rows; the derivatives
through _small_rows_vjp and, float32, _small_rows_jvp_f32), one long row on
several threads is split into parts (_row_split), and a row with NaN, +-inf or
T == 0 goes to the general kernel.

Accuracy (the reason for the pair arithmetic below): ``x - max`` is carried as
an unevaluated pair hi + lo (TwoSum; times 1/T as a double-double when T != 1),
and lo is folded into the reduced argument of exp, so the exp sees the exact
difference. The maxima (exps exactly 1) are counted apart and the rest is
summed compensated (TwoSum per lane; plainly in double for float32 terms), so
``sum - 1`` keeps full precision and log_softmax of the dominant entry,
-log1p(sum - 1), is accurate. The final division uses one Newton correction
(its residual by FMA, or by Dekker's exact product on the baseline ISA).
float32 data (softmax, log_softmax, logsumexp) is exponentiated in double
(_exp_f32): x - max is exact there, the exp good to 1e-10, so the only
rounding of an exp is its final one to float32 (or none: short rows keep it in
double until the division), and no pairs or tails are needed; sums run plainly
in double. Double lanes are half as wide as float32 ones, but this costs fewer
instructions per element than float32 lanes with TwoSum and tails. The float32
derivative kernels still use float32 lanes with tails (_exp2k). A pair whose
leading part is +-inf drops its (NaN) low part.

Special values are decided per slice by the NaN-propagating max m: m is NaN
(some NaN) -> NaN; m == -inf (all -inf) -> NaN (logsumexp -inf); m == +inf or
T == 0 -> the "hard" arg-max limit, where exp is replaced by the indicator
(x == m), so the 1 is split evenly between tied maxima.

Nothing here raises or touches a Python object inside ``nogil`` code; arguments
are checked in ``softmax._api`` and ``softmax._core``. The kernels' arrays live in
scratch memory, one block per thread that only the drivers allocate (see
_k_consts.pxi); a driver that cannot allocate it returns a nonzero status, which
``softmax._core`` raises as MemoryError. Functions declared ``cdef inline`` are
inlined, the others kept out of line (setup.py, KERNEL_INLINING): each loop that
calls the exp stays a function of its own.

Map
===
Which kernel serves which op and layout:

  op                  rows (inner == 1)                     columns (inner > 1)
                      K > SMALL_K      K <= SMALL_K
  softmax,            _softmax_row     _small_rows          _softmax_cols
    log_softmax
  logsumexp           _lse_row         _small_rows          _lse_cols
  logsumexp with b=   _lse_b_slice: one strided slice at a time, any layout
  JVPs      float32   _jvp_row_f32     _small_rows_jvp_f32  _jvp_cols
            float64   _jvp_row         _jvp_row             _jvp_cols
  VJPs                _vjp_row         _small_rows_vjp      _vjp_cols

One long row on several threads (softmax, log_softmax, logsumexp with few rows):
_row_split. Rows with NaN, +-inf or T == 0 leave the short-row and split paths
for the row kernels.

Files (included below): _k_consts.pxi (sizes, Temp), _k_pair.pxi (TwoSum and
pair arithmetic), _k_exp.pxi (the exps and their arguments), _k_rows.pxi (row
reductions and the row kernels, _lse_b_slice), _k_columns.pxi,
_k_short_rows.pxi, _k_derivatives.pxi (JVP/VJP rows and columns),
_k_drivers.pxi (_run, _run_lse_b, _row_split: work items and threads).
"""
from cython cimport floating
from cython.parallel cimport prange, parallel
from libc.math cimport log, log1p, fabs, fabsf, fma, fmaf, INFINITY, NAN
from libc.string cimport memcpy
from libc.stdint cimport uint32_t, uint64_t, int32_t, int64_t
from cpython.pycapsule cimport PyCapsule_New

from softmax._kernel_table cimport (Op, OP_SOFTMAX, OP_LOG_SOFTMAX, OP_LSE, OP_JVP,
                                    OP_LOG_JVP, OP_VJP, OP_LOG_VJP, KernelTable,
                                    KERNEL_TABLE_ABI, KERNEL_TABLE_CAPSULE)

include "_k_consts.pxi"
include "_k_pair.pxi"
include "_k_exp.pxi"
include "_k_rows.pxi"
include "_k_columns.pxi"
include "_k_short_rows.pxi"
include "_k_derivatives.pxi"
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
_TABLE.exp_f32 = _exp_array_f32
_TABLE.exp_f64 = _exp_array_f64
_TABLE.exp_of_f32 = _exp_f32_array


def table():
    """This variant's kernel table, in a capsule for ``softmax._core._set_table``."""
    return PyCapsule_New(<void*>&_TABLE, KERNEL_TABLE_CAPSULE, NULL)

"""The layout of a parsed call (``softmax._args._Call``) for the kernels, and its result's
delivery: the values the computation sees (integers shifted exactly by their slice's winning
value, ``_exact_shift``), the zero-copy (outer, K, inner) view of the reduction whenever the
reduced axes are adjacent in a C- or F-contiguous array (``_plan``), the output's memory
(``_target``), and the finish: ``_deliver`` (an elementwise result: into ``out``, in the result
dtype, a 0-d result as a NumPy scalar) or ``_finish_reduction`` (keepdims, 0-d results,
return_sign).
"""
import math
from typing import NamedTuple

import numpy as np


# ---------------------------------------------------------------------------
# Plan: the values the computation sees, and the (outer, K, inner) view
# ---------------------------------------------------------------------------
def _exact_shift(call, keep=None):
    """The first input and, for integers, the integers it was shifted by.

    Integers become floating point only after each slice's winning value (its
    maximum; its minimum for T < 0) is subtracted, exactly: the difference always
    fits in uint64 and is rounded once, so 64-bit integers above 2**53 keep their
    differences and nothing wraps. The results of softmax, log_softmax and their
    JVPs do not change under the shift; logsumexp adds the winners back
    (``_add_shift``); a VJP's y is not shifted (it is no input of a softmax). A
    difference beyond 2**53 is rounded, which can matter only where its exponential
    does not underflow, |T| > 1e13. The winners are taken over the entries ``keep``
    (default: the mask) leaves in. Returns (x as it is, or the integer differences in the real dtype
    of the computation; the winners with keepdims, or None).
    """
    x = call.x
    if x.dtype.kind not in "iu":
        return x, None
    real = np.finfo(call.compute).dtype
    keep = call.mask if keep is None else keep
    wide = x.astype(np.int64 if x.dtype.kind == "i" else np.uint64, copy=False)
    info = np.iinfo(wide.dtype)
    low = call.t < 0
    pick = np.min if low else np.max
    ref = pick(wide, axis=call.axes, keepdims=True, initial=info.max if low else info.min,
               where=True if keep is None else keep)
    u, r = wide.view(np.uint64), ref.view(np.uint64)
    with np.errstate(over="ignore"):
        diff = (u - r if low else r - u).astype(real)  # |x - ref| mod 2**64: exact
    return (diff if low else np.subtract(0, diff, dtype=real)), ref


def _add_shift(res, ref, shape):
    """``res + ref`` (ref: the integers ``_exact_shift`` took away) in res's dtype, rounded as
    once: ref is split into two parts exact in float64, and the sum of three is compensated."""
    ref = ref.reshape(shape)
    if res.dtype.kind == "c":
        return (res + ref.astype(np.finfo(res.dtype).dtype)).astype(res.dtype, copy=False)
    low = ref & ref.dtype.type(2047)   # a NumPy scalar: NumPy 1.x casts a Python int by value
    wide = np.longdouble if res.dtype == np.longdouble else np.float64
    hi, lo, r = (ref - low).astype(wide), low.astype(wide), np.asarray(res, wide)
    with np.errstate(invalid="ignore"):
        p = lo + r
        e1 = (lo - (p - (p - lo))) + (r - (p - lo))   # TwoSum errors
        q = hi + p
        e2 = (hi - (q - (q - hi))) + (p - (q - hi))
        total = np.where(np.isfinite(q), q + (e1 + e2), q)
    return total.astype(res.dtype, copy=False)


class _Plan(NamedTuple):
    layout: str     # "C", "F" (no copy of a contiguous input) or "T" (reduced axes moved last)
    perm: tuple     # for "T": the transpose that puts the reduced axes last
    outer: int
    K: int
    inner: int
    kept: tuple     # shape of a reduction's result (reduced axes dropped)


def _plan(x, axes):
    shape, nd = x.shape, x.ndim
    kept = tuple(s for i, s in enumerate(shape) if i not in axes)
    if not axes:  # reduce over nothing: every element is its own slice
        return _Plan("F" if x.flags.f_contiguous and not x.flags.c_contiguous else "C",
                     tuple(range(nd)), x.size, 1, 1, kept)
    a, b = axes[0], axes[-1]
    K = math.prod(shape[i] for i in axes)
    if axes == tuple(range(a, b + 1)):
        if x.flags.f_contiguous and not x.flags.c_contiguous:
            return _Plan("F", (), math.prod(shape[b + 1:]), K, math.prod(shape[:a]), kept)
        return _Plan("C", (), math.prod(shape[:a]), K, math.prod(shape[b + 1:]), kept)
    perm = tuple(i for i in range(nd) if i not in axes) + axes
    return _Plan("T", perm, math.prod(kept), K, 1, kept)


def _prepare(plan, a, dtype):
    """``a`` laid out for the kernel: contiguous, native ``dtype``; copied only if needed."""
    if plan.layout == "T":
        a = a.transpose(plan.perm)
    a = np.asarray(a, dtype=dtype, order="F" if plan.layout == "F" else "C")
    # The kernels assume natural alignment: copy a misaligned (e.g. frombuffer) array.
    return a if a.flags.aligned else a.copy(order="F" if plan.layout == "F" else "C")


def _kernel_view(plan, arr):
    """The kernel's view of a full-shape output array, or None if its layout does not fit."""
    if plan.layout == "T":
        arr = arr.transpose(plan.perm)
    ok = arr.flags.f_contiguous if plan.layout == "F" else arr.flags.c_contiguous
    return arr if ok and arr.flags.aligned else None


def _alloc(plan, shape, dtype):
    """A fresh full-shape array and its kernel view."""
    if plan.layout == "T":
        t = np.empty(tuple(shape[i] for i in plan.perm), dtype)
        return t.transpose(np.argsort(plan.perm)), t
    arr = np.empty(shape, dtype, order=plan.layout)
    return arr, arr


def _same_memory(a, b):
    return (a.__array_interface__["data"][0] == b.__array_interface__["data"][0]
            and a.strides == b.strides)


def _target(plan, call, inputs, alias_ok):
    """Where the kernel writes: ``call.out`` itself when it fits, else a new array.

    ``alias_ok`` is the one input the kernel may overwrite as it goes (it reads
    each element before writing the same element); any other overlap with an
    input goes through a temporary.
    """
    out = call.out
    if out is not None and call.compute == call.result:
        view = _kernel_view(plan, out)
        if view is not None:
            clash = any(np.may_share_memory(view, a) for a in inputs
                        if not (a is alias_ok and _same_memory(view, a)))
            if not clash:
                return out, view
    return _alloc(plan, call.x.shape, call.compute)


def _excluded(t):
    """The input value a masked entry takes: the one that never wins for this temperature."""
    return np.inf if t < 0 else -np.inf


def _apply_mask(res, mask, axes, masked_fill, empty_fill):
    """Masked entries get ``masked_fill``; fully masked slices get ``empty_fill``."""
    np.copyto(res, masked_fill, where=~mask)
    if res.size:
        np.copyto(res, empty_fill, where=~mask.any(axis=axes, keepdims=True))


# ---------------------------------------------------------------------------
# Finish
# ---------------------------------------------------------------------------
def _scalar_if_0d(a, dtype):
    a = np.asarray(a, dtype)
    return a[()] if a.ndim == 0 else a


def _deliver(res, call):
    """An elementwise result in the result dtype, into ``call.out`` when given; 0-d -> scalar."""
    if call.out is not None:
        if res is not call.out:
            np.copyto(call.out, res, casting="unsafe")
        return call.out
    return _scalar_if_0d(res, call.result)


def _finish_reduction(res, sgn, call):
    """A reduction's result of the kept shape: keepdims, the result dtype, 0-d results as
    scalars, and the (value, sign) pair of return_sign."""
    if call.keepdims:
        full = tuple(1 if i in call.axes else s for i, s in enumerate(call.x.shape))
        res = np.reshape(res, full)
        sgn = None if sgn is None else np.reshape(sgn, full)
    if not call.return_sign:
        return _scalar_if_0d(res, call.result)
    # as scipy: a complex input's result is then the log of the modulus, real; its sign the phase
    real = np.finfo(call.result).dtype if call.result.kind == "c" else call.result
    return _scalar_if_0d(np.real(res), real), _scalar_if_0d(sgn, call.result)

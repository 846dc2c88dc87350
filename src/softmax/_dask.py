"""dask arrays: every public function (but softmax_jacobian) as a lazy graph of kernel calls.

``call`` checks the arguments once, on zero-stride NumPy stand-ins of the dask inputs
(``_args._parse``: the same checks, order and messages as for NumPy input, and nothing
computed), aligns the inputs (dask ones broadcast to the full shape and put on common chunks;
NumPy ones cut into the same chunks; scalars passed as constants), and builds one of two graphs:

- the reduced axes lie within one chunk: one blockwise task per chunk, the NumPy path itself
  (``_api._kernel_call``) on the block (logsumexp's (value, sign) pair: that task, then one
  item of it per output);
- they span chunks: per chunk, its partial statistics (``softmax._stats``: max and
  double-double sum of exponentials; the JVP's sum(e v) too; the VJPs' double-double sums
  sum(y g) or sum(g)), a tree reduction of them (``dask.array.reduction``: the double-double
  merge as combine and aggregate), then per chunk the output given the merged statistics of
  its slices (the kernels' ``finish`` for softmax / log_softmax; ``softmax._stats`` for the
  derivatives) or, for logsumexp, per output block its value from the merged statistics.
  The data are read twice (statistics, then outputs); the whole axis is never put in one chunk.

Tasks per chunk: 1 (blockwise) or at most 3 (statistics, the reduction's identity chunk step,
the output) plus the tree (about a third of the chunks along the reduced axes, split_every 4)
and the outputs of logsumexp (one or two per output block). Inside a task the kernels run on
one thread unless ``workers`` says otherwise: dask owns the parallelism.
"""
import math
import operator
from functools import partial

import numpy as np

from . import _api, _args, _interop, _layout, _stats, _stats_deriv


def is_dask(obj):
    return _interop.kind_of(obj) == "dask"


class _Const:
    """A non-array argument (a Python or NumPy scalar) handed to every block as it is."""
    __slots__ = ("value",)

    def __init__(self, value):
        self.value = value


def _stand_in(obj):
    """A zero-stride NumPy array of a dask array's shape and dtype (for the checks)."""
    if is_dask(obj):
        return np.broadcast_to(np.zeros((), obj.dtype), obj.shape)
    return obj


def _align(objs, shape, da):
    """The inputs as dask arrays of the full ``shape`` on common chunks (scalars as _Const)."""
    nd = len(shape)
    ind = tuple(range(nd))
    lazy = []
    for o in objs:
        if o is not None and is_dask(o):
            lazy.append(o if o.shape == shape else da.broadcast_to(o, shape))
    if len(lazy) > 1 and len({a.chunks for a in lazy}) > 1:
        args = []
        for a in lazy:
            args += [a, ind]
        _, lazy = da.core.unify_chunks(*args)
        lazy = list(lazy)
    chunks = lazy[0].chunks
    out, it = [], iter(lazy)
    for o in objs:
        if o is None:
            out.append(None)
        elif is_dask(o):
            out.append(next(it))
        elif np.ndim(o) == 0:
            out.append(_Const(o))
        else:
            arr = np.asarray(o)
            own = tuple(chunks[nd - arr.ndim + i] if s == shape[nd - arr.ndim + i] else (s,)
                        for i, s in enumerate(arr.shape))
            out.append(da.broadcast_to(da.from_array(arr, chunks=own), shape, chunks=chunks))
    return out, chunks


def _blockwise_args(arrs, ind):
    out = []
    for a in arrs:
        if a is None:
            out += [None, None]
        elif isinstance(a, _Const):
            out += [a.value, None]
        else:
            out += [a, ind]
    return out


def _meta(ndim, dtype):
    return np.empty((0,) * ndim, dtype)


def _result_dtypes(call):
    """The dtypes of a reduction's value and sign (return_sign: a complex input's value is
    real), as ``_layout._finish_reduction`` gives them."""
    res = call.result
    if call.return_sign and res.kind == "c":
        return np.finfo(res).dtype, res
    return res, res


# ---------------------------------------------------------------------------- block functions
def _whole(xb, sb, wb, *, fn, axes, t, dtype, workers, keepdims, return_sign):
    """The NumPy path on a block that holds whole slices."""
    res = _api._kernel_call(fn, xb, sb, axes, t, wb, None, dtype, workers, keepdims, return_sign)
    if return_sign:
        return tuple(np.asarray(r) for r in res)
    return np.asarray(res)


def _block_stats(xb, sb, wb, *, fn, axes, t, dtype, workers, weighted, dot):
    call = _args._parse(fn, xb, sb, axes, t, wb, None, dtype, workers)
    return _stats._stats_of(call, weighted=weighted, dot=dot)


def _block_sums(yb, gb, *, fn, axes, t, workers):
    call = _args._parse(fn, yb, gb, axes, t, None, None, None, workers)
    return _stats_deriv._vjp_sum(call, fn.log)


def _flatten(parts):
    if isinstance(parts, (list, tuple)) and not isinstance(parts, _stats_deriv._Sum):
        out = []
        for p in parts:
            out.extend(_flatten(p))
        return out
    return [parts]


def _identity(block, axis=None, keepdims=None, **kwargs):
    return block


def _merge_blocks(parts, axis=None, keepdims=None, **kwargs):
    items = _flatten(parts)
    if isinstance(items[0], _stats_deriv._Sum):
        return _stats_deriv._merge_sums(items)
    return items[0] if len(items) == 1 else _stats.merge_stats(*items)


def _lse_block(st, *, part, keepdims, return_sign):
    got = _stats.logsumexp_from_stats(st, keepdims=keepdims, return_sign=return_sign)
    return np.asarray(got[part] if return_sign else got)


def _finish_block(xb, wb, st, *, fn, axes, t, dtype, workers):
    call = _args._parse(fn, xb, None, axes, t, wb, None, dtype, workers)
    with np.errstate(all="ignore"):
        return np.asarray(_layout._deliver(_stats._finish(call, st, fn.log), call))


def _jvp_block(xb, vb, wb, st, *, fn, axes, t, workers):
    call = _args._parse(fn, xb, vb, axes, t, wb, None, None, workers)
    return np.asarray(_layout._deliver(_stats_deriv._jvp_finish(call, st, fn.log), call))


def _vjp_block(yb, gb, st, *, fn, axes, t, workers):
    call = _args._parse(fn, yb, gb, axes, t, None, None, None, workers)
    return np.asarray(_layout._deliver(_stats_deriv._vjp_finish(call, st, fn.log), call))


# ---------------------------------------------------------------------------- the graphs
def call(fn, x, second, axis, temperature, where, out, dtype, workers, keepdims, return_sign):
    """The lazy result (dask arrays) of a public call with a dask input."""
    import dask.array as da
    names = (fn.first, fn.second or "second", "where")
    if fn is _args._JACOBIAN:
        raise TypeError("softmax_jacobian does not take dask arrays (its (..., K, K) result is "
                        "meant for small K): call .compute() first")
    if out is not None:
        raise TypeError("out is not supported with dask arrays, which are immutable: use the "
                        "dask array returned (store it with .store() or to_zarr())")
    objs = (x, second, where)
    for name, o in zip(names, objs):
        if o is not None and is_dask(o) and any(math.isnan(s) for s in o.shape):
            raise ValueError(f"{name} has unknown chunk sizes (shape {o.shape}): call "
                             f".compute_chunk_sizes() first")
    # every argument checked as for NumPy input, on stand-ins: nothing is computed
    c = _args._parse(fn, *map(_stand_in, (x, second)), axis, temperature, _stand_in(where),
                    None, dtype, workers, keepdims, return_sign)
    shape, axes = c.x.shape, c.axes
    nd = len(shape)
    ind = tuple(range(nd))
    (xa, sa, wa), chunks = _align(objs, shape, da)
    wk = 1 if workers is None else workers
    if all(len(chunks[a]) == 1 for a in axes):
        return _per_block(da, fn, c, (xa, sa, wa), ind, axes, dtype, wk)
    if not c.fast:
        raise TypeError(f"dask arrays of dtype={c.result} are computed only when the reduced "
                        f"axes {axes} lie within one chunk (complex and longdouble data take "
                        f"the NumPy reference path): rechunk them so")
    kept_ind = tuple(i for i in ind if i not in axes)
    if fn.derivative == "vjp":
        st = da.blockwise(partial(_block_sums, fn=fn, axes=axes, t=c.t, workers=wk), ind,
                          *_blockwise_args((xa, sa), ind), meta=_meta(nd, object))
        red = _tree(da, st, axes, len(kept_ind))
        return da.blockwise(partial(_vjp_block, fn=fn, axes=axes, t=c.t, workers=wk), ind,
                            *_blockwise_args((xa, sa), ind), red, kept_ind, meta=_meta(nd, c.result))
    weighted = fn is _args._LOGSUMEXP and second is not None
    dot = fn.derivative == "jvp"
    st = da.blockwise(partial(_block_stats, fn=fn, axes=axes, t=c.t, dtype=dtype, workers=wk,
                              weighted=weighted, dot=dot),
                      ind, *_blockwise_args((xa, sa, wa), ind), meta=_meta(nd, object))
    red = _tree(da, st, axes, len(kept_ind))
    if fn is _args._LOGSUMEXP:
        out_ind = ind if keepdims else kept_ind
        new_axes = {a: 1 for a in axes} if keepdims else None
        dts = _result_dtypes(c)
        parts = []
        for part in ((0, 1) if return_sign else (None,)):
            f = partial(_lse_block, part=part, keepdims=keepdims, return_sign=return_sign)
            parts.append(da.blockwise(f, out_ind, red, kept_ind, new_axes=new_axes,
                                      meta=_meta(len(out_ind), dts[part or 0])))
        return tuple(parts) if return_sign else parts[0]
    if dot:
        f = partial(_jvp_block, fn=fn, axes=axes, t=c.t, workers=wk)
        return da.blockwise(f, ind, *_blockwise_args((xa, sa, wa), ind), red, kept_ind,
                            meta=_meta(nd, c.result))
    f = partial(_finish_block, fn=fn, axes=axes, t=c.t, dtype=dtype, workers=wk)
    return da.blockwise(f, ind, *_blockwise_args((xa, wa), ind), red, kept_ind, meta=_meta(nd, c.result))


def _tree(da, st, axes, kept_ndim, split_every=None):
    """The tree reduction of per-chunk statistics (an object array, one per chunk) along the
    reduced axes: one merged statistics object per block of the remaining axes."""
    return da.reduction(st, chunk=_identity, combine=_merge_blocks, aggregate=_merge_blocks,
                        axis=axes, keepdims=False, dtype=np.dtype(object), concatenate=False,
                        split_every=split_every, meta=_meta(kept_ndim, object),
                        name="softmax-stats")


def _per_block(da, fn, c, arrs, ind, axes, dtype, wk):
    """The reduced axes within one chunk: the NumPy path on every block."""
    f = partial(_whole, fn=fn, axes=axes, t=c.t, dtype=dtype, workers=wk, keepdims=c.keepdims,
                return_sign=c.return_sign)
    args = _blockwise_args(arrs, ind)
    nd = len(ind)
    if fn is not _args._LOGSUMEXP:
        return da.blockwise(f, ind, *args, meta=_meta(nd, c.result))
    out_ind = ind if c.keepdims else tuple(i for i in ind if i not in axes)
    adjust = {a: 1 for a in axes} if c.keepdims else None
    dts = _result_dtypes(c)
    if not c.return_sign:
        return da.blockwise(f, out_ind, *args, adjust_chunks=adjust, concatenate=True,
                            meta=_meta(len(out_ind), dts[0]))
    pair = da.blockwise(f, out_ind, *args, adjust_chunks=adjust, concatenate=True,
                        meta=_meta(len(out_ind), object))
    return tuple(da.map_blocks(operator.getitem, pair, i, meta=_meta(len(out_ind), dts[i]))
                 for i in (0, 1))

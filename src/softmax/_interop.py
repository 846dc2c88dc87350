"""Every kind of array a user passes: one dispatch on the kind of the inputs, before the parsing.

``_api._call`` sends a call here unless its first and second inputs (x/y/a and v/g/b) and
``where`` are of NumPy's kind (ndarrays, lists, scalars: ``_PLAIN``, tested first, so that
NumPy calls pay one set lookup). ``kind_of`` classifies the rest by type (cached per type):

- ``None``: anything else NumPy takes (ndarray subclasses such as memmap, objects with
  ``__array__``): the NumPy path, as before;
- ``"masked"`` (``numpy.ma.MaskedArray``): the mask acts as ``where=`` (and-ed with a user
  ``where``); the result is a masked array with that mask (``masked_call``);
- ``"pandas"`` (Series, DataFrame): the values go through the NumPy path, the labels come
  back (``pandas_call``);
- ``"array_api"`` (torch tensors, JAX and CuPy arrays, anything with ``__array_namespace__``):
  a CPU array NumPy views without a copy goes through the kernels and comes back in its own
  type; any other (a torch tensor that requires grad, a JAX tracer, a GPU array,
  array-api-strict, ...) goes through ``softmax._array_api`` in its own namespace
  (``array_api_call``);
- ``"xarray"`` (a DataArray backed by NumPy or dask): the data go through the NumPy path or
  the lazy dask path, dims, coordinates, name and attrs come back (``xarray_call``; ``dim=``
  names the reduced dims);
- ``"dask"``: a lazy graph of kernel calls per block (``softmax._dask``), never computed here.

Optional libraries are never imported here: an object of theirs exists only once its library
is imported, so the classes are found in ``sys.modules`` after a look at the type's module.
docs/arrays.md describes the behaviour per kind.
"""
import sys

import numpy as np

#: Types of the NumPy path that need no further look.
_PLAIN = frozenset({np.ndarray, list, tuple, float, int, bool, complex, type(None), np.float64,
                    np.float32, np.float16, np.longdouble, np.int64, np.int32, np.int8,
                    np.uint8, np.bool_, np.complex128, np.complex64})

_KINDS = {}   # type -> kind (None for the NumPy path)

#: Libraries whose arrays take the array-API path, by the top-level module of their types.
_ARRAY_API_MODULES = frozenset({"torch", "jax", "jaxlib", "cupy", "cupyx", "array_api_strict"})


def kind_of(obj):
    """The kind of an input: None (the NumPy path), "masked", "pandas", "array_api",
    "xarray", "dask", or "unsupported" (another object of pandas or xarray)."""
    t = type(obj)
    if t in _PLAIN:
        return None
    try:
        return _KINDS[t]
    except KeyError:
        kind = _KINDS[t] = _classify(t)
        return kind


def _classify(t):
    if issubclass(t, np.ma.MaskedArray):
        return "masked"
    if issubclass(t, (np.ndarray, np.generic)):
        return None
    tops = {(getattr(c, "__module__", None) or "").partition(".")[0] for c in t.__mro__}
    if tops & {"dask", "dask_expr"}:
        return "dask"
    if "pandas" in tops:
        pd = sys.modules.get("pandas")
        if pd is not None and issubclass(t, (pd.Series, pd.DataFrame)):
            return "pandas"
        return None   # Index, Categorical, ...: NumPy's conversion, as before
    if "xarray" in tops:
        xr = sys.modules.get("xarray")
        if xr is not None and issubclass(t, xr.DataArray):
            return "xarray"
        return "unsupported"
    if tops & _ARRAY_API_MODULES or hasattr(t, "__array_namespace__"):
        return "array_api"
    return None


def _typename(obj):
    t = type(obj)
    return f"{t.__module__.partition('.')[0]}.{t.__qualname__}"


def dispatch(fn, x, second, axis, temperature, where, out, dtype, workers, keepdims, return_sign,
             dim=None):
    """The result of a public call (arguments as ``_api._call``), by the kind of its inputs."""
    from . import _api
    kinds = (kind_of(x), kind_of(second), kind_of(where), kind_of(out))
    if "unsupported" in kinds:
        _refuse(fn, (x, second, where, out), kinds)
    if "xarray" in kinds:
        return xarray_call(fn, x, second, axis, temperature, where, out, dtype, workers, keepdims,
                           return_sign, dim)
    if dim is not None:
        lead = x if kinds[0] or not kinds[1] else second
        raise TypeError(f"dim={dim!r} names dims of an xarray DataArray, and "
                        f"{fn.first if lead is x else fn.second} is a {_typename(lead)}: use axis=")
    if "dask" in kinds:
        other = sorted({k for k in kinds if k not in (None, "dask")})
        if other:
            raise TypeError(f"dask arrays and {other[0]} input in one call: pass inputs of one kind")
        from . import _dask
        return _dask.call(fn, x, second, axis, temperature, where, out, dtype, workers, keepdims,
                          return_sign)
    kind = kinds[0] or kinds[1]
    if kinds[0] and kinds[1] and kinds[0] != kinds[1]:
        raise TypeError(f"{fn.first} is a {_typename(x)} and {fn.second} a {_typename(second)}: "
                        f"pass inputs of one kind")
    args = (axis, temperature, where, out, dtype, workers, keepdims, return_sign)
    if kind is None:
        return _api._numpy_call(fn, x, second, *args)
    return _HANDLERS[kind](fn, x, second, *args)


def _refuse(fn, objs, kinds):
    """TypeError for xarray objects other than DataArrays."""
    names = (fn.first, fn.second or "second", "where", "out")
    for name, obj, kind in zip(names, objs, kinds):
        if kind == "unsupported":
            raise TypeError(f"{name} of type {_typename(obj)} is not supported; pass a DataArray, "
                            f"or its .values")


# ---------------------------------------------------------------------------
# numpy.ma.MaskedArray
# ---------------------------------------------------------------------------
def masked_call(fn, x, second, axis, temperature, where, out, dtype, workers, keepdims, return_sign):
    """The masks of the inputs (x, and v, g or b) joined act as ``where`` (an entry masked
    anywhere is left out, as a masked entry of ``where``); a VJP, which takes no ``where``,
    sees its masked entries as the outputs of a masked forward pass (y = 0 for softmax, -inf
    for log_softmax; g = 0). The result is a masked array with the joined mask; a reduction's
    entry is masked where every entry of its slice is. ``out`` must then be a MaskedArray: its
    data takes the values and its mask is set."""
    from . import _api, _args
    ma = np.ma
    xd = ma.getdata(x)
    sd = None if second is None else ma.getdata(second)
    drop = None
    for obj in (x, second):
        m = ma.getmask(obj) if obj is not None else ma.nomask
        if m is not ma.nomask and m.any():
            drop = m if drop is None else np.logical_or(drop, m)
    if out is not None and not isinstance(out, ma.MaskedArray):
        raise TypeError(f"out must be a numpy.ma.MaskedArray for masked input (its data takes "
                        f"the values, its mask the result's mask), got out of type "
                        f"{type(out).__name__}")
    out_data = None if out is None else ma.getdata(out)
    args = (axis, temperature)
    if drop is not None:
        shape = np.broadcast_shapes(np.shape(xd), drop.shape)
        if fn.derivative == "vjp":   # no where: the masked forward pass's values
            drop_full = np.broadcast_to(drop, shape)
            xd = np.where(drop_full, -np.inf if fn.log else 0.0, _args._as_input(xd, fn.first))
            sd = np.where(drop_full, 0.0, _args._as_input(sd, fn.second))
        else:
            keep = ~drop if where is None else _args._mask(where, shape) & ~drop
            where = keep
    res = _api._kernel_call(fn, xd, sd, *args, where, out_data, dtype, workers, keepdims,
                           return_sign)
    if fn.elementwise:
        mask = ma.nomask if drop is None else np.broadcast_to(drop, np.shape(res)).copy()
        if out is not None:
            out.mask = mask
            return out
        return ma.MaskedArray(res, mask=mask)
    if fn is _args._JACOBIAN:
        if drop is None:
            return ma.MaskedArray(res)
        m = _api._slices_last(np.broadcast_to(drop, np.shape(xd)), _args._axes(axis, np.ndim(xd)))
        return ma.MaskedArray(res, mask=m[..., :, None] | m[..., None, :])
    # logsumexp: an entry is masked where its whole slice is
    full = np.broadcast_shapes(np.shape(xd), np.shape(sd) if sd is not None else ())
    if drop is None:
        rmask = None
    else:
        rmask = np.broadcast_to(drop, full).all(axis=_args._axes(axis, len(full)), keepdims=keepdims)
    parts = res if return_sign else (res,)
    wrapped = tuple(_masked_result(p, rmask) for p in parts)
    return wrapped if return_sign else wrapped[0]


def _masked_result(value, mask):
    if np.ndim(value) == 0:   # a scalar, or numpy.ma.masked (as numpy.ma's reductions)
        return np.ma.masked if mask is not None and bool(mask) else value
    return np.ma.MaskedArray(value, mask=np.ma.nomask if mask is None else mask)


# ---------------------------------------------------------------------------
# pandas
# ---------------------------------------------------------------------------
_PANDAS_AXES = {"index": 0, "rows": 0, "columns": 1}


def pandas_call(fn, x, second, axis, temperature, where, out, dtype, workers, keepdims, return_sign):
    """A Series or DataFrame: its values through the NumPy path, its labels back. The labelled
    input is x (else v, g or b); a second pandas input must carry the same labels (no
    alignment is done). axis as for arrays (None: the whole object, as scipy), or 'index' /
    'columns'. Elementwise results are of the input's type and labels; logsumexp along one
    axis of a DataFrame is a Series labelled by the other axis, along all axes a scalar."""
    from . import _api, _args
    pd = sys.modules["pandas"]
    frame = x if isinstance(x, (pd.Series, pd.DataFrame)) else second
    name = fn.first if frame is x else fn.second
    if out is not None:
        raise TypeError("out is not supported for pandas input (the result is a new "
                        f"{type(frame).__name__})")
    if isinstance(keepdims, (bool, np.bool_)) and keepdims:   # (other values: _parse says so)
        raise TypeError("keepdims=True has no pandas counterpart; call .to_numpy() for arrays")
    if isinstance(axis, str):
        if axis not in _PANDAS_AXES or (axis == "columns" and frame.ndim == 1):
            raise ValueError(f"axis={axis!r} is not an axis of a {type(frame).__name__}")
        axis = _PANDAS_AXES[axis]
    values = {}
    for arg, obj in ((fn.first, x), (fn.second, second), ("where", where)):
        if isinstance(obj, (pd.Series, pd.DataFrame)):
            if obj is not frame:
                _check_labels(frame, obj, name, arg)
            values[arg] = _pandas_values(obj, arg, pd)
    xv = values.get(fn.first, x)
    sv = values.get(fn.second, second)
    res = _api._kernel_call(fn, xv, sv, axis, temperature, values.get("where", where), None, dtype,
                           workers, keepdims, return_sign)
    if fn.elementwise:
        return _relabel(frame, res, pd)
    if fn is _args._JACOBIAN:
        return _pandas_jacobian(frame, res, axis, pd)
    axes = _args._axes(axis, frame.ndim)
    parts = tuple(_pandas_reduced(frame, p, axes, pd) for p in (res if return_sign else (res,)))
    return parts if return_sign else parts[0]


def _pandas_values(obj, name, pd):
    """The values of a Series or DataFrame as an ndarray (numeric; nullable dtypes without
    missing values become their NumPy dtype)."""
    dtypes = [obj.dtype] if isinstance(obj, pd.Series) else list(obj.dtypes)
    if all(isinstance(d, np.dtype) for d in dtypes):
        return obj.to_numpy()
    wanted = []
    for d in dtypes:
        if isinstance(d, np.dtype):
            wanted.append(d)
        elif getattr(d, "kind", None) in ("b", "i", "u", "f") and hasattr(d, "numpy_dtype"):
            wanted.append(np.dtype(d.numpy_dtype))
        else:
            raise TypeError(f"{name} has the pandas dtype {d}, not a number: pass numeric data")
    if bool(np.asarray(obj.isna()).any()):
        raise TypeError(f"{name} holds missing values (pd.NA) of a nullable dtype "
                        f"({', '.join(sorted({str(d) for d in dtypes}))}): fill them, or convert "
                        f"to a NumPy dtype (.astype('float64') makes them NaN, which poisons "
                        f"its slice)")
    return obj.to_numpy(dtype=np.result_type(*wanted))


def _check_labels(frame, obj, name, other):
    same = type(obj) is type(frame) and obj.index.equals(frame.index) and (
        frame.ndim == 1 or obj.columns.equals(frame.columns))
    if not same:
        raise ValueError(f"{other} is a {type(obj).__name__} whose labels differ from those of "
                         f"{name}: no alignment is done; align them first (e.g. "
                         f"{other}.reindex_like({name})) or pass arrays")


def _relabel(frame, res, pd):
    if isinstance(frame, pd.Series):
        return pd.Series(res, index=frame.index, name=frame.name)
    return pd.DataFrame(res, index=frame.index, columns=frame.columns)


def _pandas_reduced(frame, value, axes, pd):
    if np.ndim(value) == 0:
        return value
    kept = frame.columns if axes == (0,) else frame.index
    return pd.Series(value, index=kept)


def _pandas_jacobian(frame, res, axis, pd):
    """A Series' Jacobian (K, K) is a DataFrame labelled by its index both ways; a
    DataFrame's with axis=None one labelled by the (row, column) pairs; other Jacobians are
    3-d, which no pandas object holds."""
    if isinstance(frame, pd.Series):
        return pd.DataFrame(res, index=frame.index, columns=frame.index)
    if axis is None:
        pairs = pd.MultiIndex.from_product([frame.index, frame.columns])
        return pd.DataFrame(res, index=pairs, columns=pairs)
    raise TypeError("the Jacobian of a DataFrame along one axis is 3-d, which no pandas object "
                    "holds: pass .to_numpy(), or axis=None")


# ---------------------------------------------------------------------------
# xarray
# ---------------------------------------------------------------------------
def xarray_call(fn, x, second, axis, temperature, where, out, dtype, workers, keepdims, return_sign,
                dim=None):
    """A DataArray backed by NumPy or dask: its data through the NumPy path or the lazy dask
    path (``softmax._dask``), its dims, coordinates, name and attrs back (a reduction drops the
    reduced dims and their coordinates). ``dim`` names the reduced dims (a name or a tuple of
    names); ``axis`` counts them as integers; not both. A second DataArray (v, g, b, where) must
    have the same dims and shape (no alignment)."""
    from . import _api, _args
    xr = sys.modules["xarray"]
    da = x if isinstance(x, xr.DataArray) else second if isinstance(second, xr.DataArray) else where
    name = fn.first if da is x else fn.second if da is second else "where"
    if not isinstance(da, xr.DataArray):
        raise TypeError(f"out is a {_typename(out)}: out is not supported for DataArrays")
    if out is not None:
        raise TypeError("out is not supported for a DataArray input (the result is a new "
                        "DataArray)")
    if fn is _args._JACOBIAN:
        raise TypeError("softmax_jacobian of a DataArray would need names for two new dims; "
                        "pass .values")
    if dim is not None:
        if axis is not None:
            raise TypeError(f"pass dim= or axis=, not both (got dim={dim!r}, axis={axis!r})")
        axis = _axis_of_dims(da, dim)
    elif isinstance(axis, str) or (isinstance(axis, (tuple, list)) and any(isinstance(a, str) for a in axis)):
        raise TypeError(f"axis={axis!r}: axis counts the dims of a DataArray as integers; name "
                        f"them with dim= (its dims are {da.dims})")
    vals = {}
    lazy = False
    for arg, obj in ((fn.first, x), (fn.second, second), ("where", where)):
        if isinstance(obj, xr.DataArray):
            if obj is not da and (obj.dims != da.dims or obj.shape != da.shape):
                raise ValueError(f"{arg} has dims {obj.dims} and shape {obj.shape}, {name} "
                                 f"{da.dims} and {da.shape}: no alignment is done; pass "
                                 f"matching DataArrays or arrays")
            data = obj.data
            kind = kind_of(data)
            if kind == "dask":
                lazy = True
            elif not isinstance(data, np.ndarray):
                raise TypeError(f"{arg} is a DataArray backed by {_typename(data)}; only NumPy- "
                                f"and dask-backed DataArrays are supported: pass its .data")
            vals[arg] = data
        elif kind_of(obj) == "dask":
            lazy = True
        elif kind_of(obj) is not None:
            raise TypeError(f"{arg} is a {_typename(obj)} and {name} a DataArray: pass inputs of "
                            f"one kind")
    args = (vals.get(fn.first, x), vals.get(fn.second, second), axis, temperature,
            vals.get("where", where), None, dtype, workers, keepdims, return_sign)
    if lazy:
        from . import _dask
        res = _dask.call(fn, *args)
    else:
        res = _api._kernel_call(fn, *args)
    if fn.elementwise:
        if res.shape != da.shape:   # b, v or where broadcast a smaller DataArray: no dims for it
            raise ValueError(f"{name} has shape {da.shape}, the result {res.shape}: pass the "
                             f"larger input as the DataArray")
        return da.copy(data=res)
    axes = _args._axes(axis, da.ndim)
    parts = tuple(_xarray_reduced(da, p, axes, keepdims, xr) for p in (res if return_sign else (res,)))
    return parts if return_sign else parts[0]


def _axis_of_dims(da, dim):
    """The axis numbers of the dims named by ``dim`` (a name or a tuple/list of names)."""
    names = dim if isinstance(dim, (tuple, list)) else (dim,)
    out = []
    for d in names:
        if d not in da.dims:
            raise ValueError(f"dim={dim!r}: {d!r} is not a dim of the DataArray (its dims are "
                             f"{da.dims})")
        out.append(da.dims.index(d))
    return tuple(out) if isinstance(dim, (tuple, list)) else out[0]


def _xarray_reduced(da, value, axes, keepdims, xr):
    dims = tuple(d for i, d in enumerate(da.dims) if keepdims or i not in axes)
    gone = {d for i, d in enumerate(da.dims) if i in axes}
    coords = {k: c for k, c in da.coords.items() if not (set(c.dims) & gone)}
    if kind_of(value) != "dask":
        value = np.asarray(value)
    return xr.DataArray(value, dims=dims, coords=coords, name=da.name, attrs=dict(da.attrs))


# ---------------------------------------------------------------------------
# Array-API arrays: torch, JAX, CuPy, array-api-strict, ...
# ---------------------------------------------------------------------------
def array_api_call(fn, x, second, axis, temperature, where, out, dtype, workers, keepdims, return_sign):
    """CPU arrays NumPy views without a copy (plain torch tensors that need no grad, concrete
    JAX arrays) go through the kernels and come back in their own type, on their device;
    everything else through ``softmax._array_api`` in the input's own namespace."""
    from . import _api
    lead = x if kind_of(x) == "array_api" else second
    views = _numpy_views(lead, (x, second, where, out))
    if views is not None:
        xv, sv, wv, ov = views
        if out is not None and _is_jax(out):
            raise TypeError("out is not supported for JAX arrays, which are immutable")
        res = _api._kernel_call(fn, xv, sv, axis, temperature, wv, ov, dtype, workers, keepdims,
                               return_sign)
        if out is not None:
            return out
        if isinstance(res, tuple):
            return tuple(_back(lead, r) for r in res)
        return _back(lead, res)
    from . import _array_api
    return _array_api.call(fn, lead, x, second, axis, temperature, where, out, dtype, workers,
                           keepdims, return_sign)


def _is_jax(obj):
    return type(obj).__module__.partition(".")[0] in ("jax", "jaxlib")


def _numpy_views(lead, objs):
    """NumPy views (no copies) of the inputs, or None when one of them needs the array-API
    path. Objects of NumPy's kind pass as they are."""
    top = type(lead).__module__.partition(".")[0]
    view = _torch_view if top == "torch" else _jax_view if top in ("jax", "jaxlib") else None
    if view is None:
        return None
    out = []
    for obj in objs:
        if obj is None or kind_of(obj) is None:
            out.append(obj)
            continue
        if type(obj).__module__.partition(".")[0] != top:
            return None
        v = view(obj)
        if v is None:
            return None
        out.append(v)
    return out


def _torch_view(t):
    torch = sys.modules["torch"]
    if type(t) not in (torch.Tensor, torch.nn.Parameter):   # subclasses: their own dispatch
        return None
    if (t.device.type != "cpu" or t.layout != torch.strided or (t.requires_grad and torch.is_grad_enabled())
            or t.is_conj() or t.is_neg() or torch.jit.is_tracing()):
        return None
    functorch = getattr(torch._C, "_functorch", None)
    if functorch is not None and functorch.is_functorch_wrapped_tensor(t):   # torch.func transforms
        return None
    try:
        return t.detach().numpy() if t.requires_grad else t.numpy()
    except (TypeError, RuntimeError):   # bfloat16 and other dtypes NumPy lacks
        return None


def _jax_view(a):
    jax = sys.modules["jax"]
    if not isinstance(a, jax.Array) or isinstance(a, jax.core.Tracer):
        return None
    try:
        devices = a.devices()
        if len(devices) != 1 or next(iter(devices)).platform != "cpu":
            return None
        v = np.asarray(a)   # a CPU array: a read-only view of its buffer
    except Exception:   # deleted or not fully addressable arrays: the array-API path says why
        return None
    return v if v.dtype.kind in "biufc" else None   # bfloat16 (ml_dtypes): the array-API path


def _back(lead, res):
    """A NumPy result as an array of the lead input's type and device."""
    res = np.asarray(res)
    top = type(lead).__module__.partition(".")[0]
    if top == "torch":
        torch = sys.modules["torch"]
        if not res.flags.writeable or any(s < 0 for s in res.strides):
            res = res.copy()
        return torch.from_numpy(res)
    jax = sys.modules["jax"]
    out = jax.numpy.asarray(res)   # on the default device (jnp.asarray(device=) is slow)
    return out if out.device == lead.device else jax.device_put(out, lead.device)


_HANDLERS = {"masked": masked_call, "pandas": pandas_call, "xarray": xarray_call,
             "array_api": array_api_call}

# Type stub for softmax's public API; the implementation is softmax/_api.py and
# softmax/_config.py. Keep the signatures here in step with those files:
# tests/test_typing.py runs mypy's stubtest, which fails on any difference.
#
# Result types follow the dtype policy of the README ("Semantics"): a floating or
# complex array keeps its dtype, bool and integer arrays give float64, ``dtype=``
# and ``out=`` decide when given. A 0-d input gives a NumPy scalar where these
# stubs say array (as NumPy's own reductions do). Results that may be an array or a
# scalar depending on the arguments' shapes (logsumexp along an axis) are ``Any``.
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from typing import Any, Literal, SupportsIndex, TypeVar, overload

import numpy as np
from numpy.typing import ArrayLike, DTypeLike, NDArray

__version__: str
__all__ = ["softmax", "log_softmax", "logsumexp", "softmax_jvp", "softmax_vjp",
           "log_softmax_jvp", "log_softmax_vjp", "softmax_jacobian", "partial_stats",
           "merge_stats", "logsumexp_from_stats", "softmax_from_stats", "log_softmax_from_stats",
           "SoftmaxStats", "show_config", "__version__"]

_InexactT = TypeVar("_InexactT", bound=np.inexact[Any])
_ArrayT = TypeVar("_ArrayT", bound=np.ndarray[Any, Any])

# An int, a negative int, a tuple (or list) of ints, or None for the whole array.
_Axis = SupportsIndex | tuple[SupportsIndex, ...] | list[SupportsIndex] | None
# Any finite real; 0 is the arg-max limit (not allowed for derivatives).
_Temperature = float | np.floating[Any] | np.integer[Any]
# None (OpenMP's default), a thread count, or a negative count back from the CPU count.
_Workers = SupportsIndex | None
_IntegerArray = NDArray[np.integer[Any]] | NDArray[np.bool_]
_DType = type[_InexactT] | np.dtype[_InexactT]
# xarray DataArrays only: the name of the reduced dim, or a tuple (or list) of names.
_Dim = Hashable | list[Hashable] | None

# --- softmax ----------------------------------------------------------------
@overload
def softmax(x: NDArray[_InexactT], axis: _Axis = None, *, temperature: _Temperature = 1.0,
            where: ArrayLike | None = None, out: None = None, dtype: None = None,
            workers: _Workers = None, dim: _Dim = None) -> NDArray[_InexactT]: ...
@overload
def softmax(x: _IntegerArray, axis: _Axis = None, *, temperature: _Temperature = 1.0,
            where: ArrayLike | None = None, out: None = None, dtype: None = None,
            workers: _Workers = None, dim: _Dim = None) -> NDArray[np.float64]: ...
@overload
def softmax(x: ArrayLike, axis: _Axis = None, *, temperature: _Temperature = 1.0,
            where: ArrayLike | None = None, out: None = None, dtype: _DType[_InexactT],
            workers: _Workers = None, dim: _Dim = None) -> NDArray[_InexactT]: ...
@overload
def softmax(x: ArrayLike, axis: _Axis = None, *, temperature: _Temperature = 1.0,
            where: ArrayLike | None = None, out: _ArrayT, dtype: DTypeLike | None = None,
            workers: _Workers = None, dim: _Dim = None) -> _ArrayT: ...
@overload
def softmax(x: ArrayLike, axis: _Axis = None, *, temperature: _Temperature = 1.0,
            where: ArrayLike | None = None, out: None = None, dtype: DTypeLike | None = None,
            workers: _Workers = None, dim: _Dim = None) -> NDArray[Any]: ...

# --- log_softmax ------------------------------------------------------------
@overload
def log_softmax(x: NDArray[_InexactT], axis: _Axis = None, *, temperature: _Temperature = 1.0,
                where: ArrayLike | None = None, out: None = None, dtype: None = None,
                workers: _Workers = None, dim: _Dim = None) -> NDArray[_InexactT]: ...
@overload
def log_softmax(x: _IntegerArray, axis: _Axis = None, *, temperature: _Temperature = 1.0,
                where: ArrayLike | None = None, out: None = None, dtype: None = None,
                workers: _Workers = None, dim: _Dim = None) -> NDArray[np.float64]: ...
@overload
def log_softmax(x: ArrayLike, axis: _Axis = None, *, temperature: _Temperature = 1.0,
                where: ArrayLike | None = None, out: None = None, dtype: _DType[_InexactT],
                workers: _Workers = None, dim: _Dim = None) -> NDArray[_InexactT]: ...
@overload
def log_softmax(x: ArrayLike, axis: _Axis = None, *, temperature: _Temperature = 1.0,
                where: ArrayLike | None = None, out: _ArrayT, dtype: DTypeLike | None = None,
                workers: _Workers = None, dim: _Dim = None) -> _ArrayT: ...
@overload
def log_softmax(x: ArrayLike, axis: _Axis = None, *, temperature: _Temperature = 1.0,
                where: ArrayLike | None = None, out: None = None, dtype: DTypeLike | None = None,
                workers: _Workers = None, dim: _Dim = None) -> NDArray[Any]: ...

# --- logsumexp --------------------------------------------------------------
# return_sign=True: (value, sign), each an array or a scalar.
@overload
def logsumexp(a: ArrayLike, axis: _Axis = None, b: ArrayLike | None = None,
              keepdims: bool = False, *, return_sign: Literal[True],
              temperature: _Temperature = 1.0, where: ArrayLike | None = None,
              dtype: DTypeLike | None = None, workers: _Workers = None,
              dim: _Dim = None) -> tuple[Any, Any]: ...
@overload
def logsumexp(a: ArrayLike, axis: _Axis, b: ArrayLike | None, keepdims: bool,
              return_sign: Literal[True], *, temperature: _Temperature = 1.0,
              where: ArrayLike | None = None, dtype: DTypeLike | None = None,
              workers: _Workers = None, dim: _Dim = None) -> tuple[Any, Any]: ...
# The whole array reduced (axis=None, keepdims=False): one NumPy scalar.
@overload
def logsumexp(a: NDArray[_InexactT], axis: None = None, b: None = None,
              keepdims: Literal[False] = False, return_sign: Literal[False] = False, *,
              temperature: _Temperature = 1.0, where: ArrayLike | None = None, dtype: None = None,
              workers: _Workers = None, dim: _Dim = None) -> _InexactT: ...
@overload
def logsumexp(a: ArrayLike, axis: None = None, b: ArrayLike | None = None,
              keepdims: Literal[False] = False, return_sign: Literal[False] = False, *,
              temperature: _Temperature = 1.0, where: ArrayLike | None = None,
              dtype: DTypeLike | None = None, workers: _Workers = None,
              dim: _Dim = None) -> np.inexact[Any]: ...
# Along an axis: an array, or a scalar when the result is 0-d.
@overload
def logsumexp(a: ArrayLike, axis: _Axis = None, b: ArrayLike | None = None,
              keepdims: bool = False, return_sign: bool = False, *,
              temperature: _Temperature = 1.0, where: ArrayLike | None = None,
              dtype: DTypeLike | None = None, workers: _Workers = None,
              dim: _Dim = None) -> Any: ...

# --- derivatives ------------------------------------------------------------
@overload
def softmax_jvp(x: NDArray[_InexactT], v: NDArray[_InexactT], axis: _Axis = None, *,
                temperature: _Temperature = 1.0, where: ArrayLike | None = None,
                out: None = None, workers: _Workers = None,
                dim: _Dim = None) -> NDArray[_InexactT]: ...
@overload
def softmax_jvp(x: ArrayLike, v: ArrayLike, axis: _Axis = None, *,
                temperature: _Temperature = 1.0, where: ArrayLike | None = None,
                out: _ArrayT, workers: _Workers = None, dim: _Dim = None) -> _ArrayT: ...
@overload
def softmax_jvp(x: ArrayLike, v: ArrayLike, axis: _Axis = None, *,
                temperature: _Temperature = 1.0, where: ArrayLike | None = None,
                out: None = None, workers: _Workers = None, dim: _Dim = None) -> NDArray[Any]: ...

@overload
def log_softmax_jvp(x: NDArray[_InexactT], v: NDArray[_InexactT], axis: _Axis = None, *,
                    temperature: _Temperature = 1.0, where: ArrayLike | None = None,
                    out: None = None, workers: _Workers = None,
                    dim: _Dim = None) -> NDArray[_InexactT]: ...
@overload
def log_softmax_jvp(x: ArrayLike, v: ArrayLike, axis: _Axis = None, *,
                    temperature: _Temperature = 1.0, where: ArrayLike | None = None,
                    out: _ArrayT, workers: _Workers = None, dim: _Dim = None) -> _ArrayT: ...
@overload
def log_softmax_jvp(x: ArrayLike, v: ArrayLike, axis: _Axis = None, *,
                    temperature: _Temperature = 1.0, where: ArrayLike | None = None,
                    out: None = None, workers: _Workers = None,
                    dim: _Dim = None) -> NDArray[Any]: ...

@overload
def softmax_vjp(y: NDArray[_InexactT], g: NDArray[_InexactT], axis: _Axis = None, *,
                temperature: _Temperature = 1.0, out: None = None,
                workers: _Workers = None, dim: _Dim = None) -> NDArray[_InexactT]: ...
@overload
def softmax_vjp(y: ArrayLike, g: ArrayLike, axis: _Axis = None, *,
                temperature: _Temperature = 1.0, out: _ArrayT,
                workers: _Workers = None, dim: _Dim = None) -> _ArrayT: ...
@overload
def softmax_vjp(y: ArrayLike, g: ArrayLike, axis: _Axis = None, *,
                temperature: _Temperature = 1.0, out: None = None,
                workers: _Workers = None, dim: _Dim = None) -> NDArray[Any]: ...

@overload
def log_softmax_vjp(y: NDArray[_InexactT], g: NDArray[_InexactT], axis: _Axis = None, *,
                    temperature: _Temperature = 1.0, out: None = None,
                    workers: _Workers = None, dim: _Dim = None) -> NDArray[_InexactT]: ...
@overload
def log_softmax_vjp(y: ArrayLike, g: ArrayLike, axis: _Axis = None, *,
                    temperature: _Temperature = 1.0, out: _ArrayT,
                    workers: _Workers = None, dim: _Dim = None) -> _ArrayT: ...
@overload
def log_softmax_vjp(y: ArrayLike, g: ArrayLike, axis: _Axis = None, *,
                    temperature: _Temperature = 1.0, out: None = None,
                    workers: _Workers = None, dim: _Dim = None) -> NDArray[Any]: ...

# The (..., K, K) Jacobian; axis is one int or None (flatten), not a tuple.
@overload
def softmax_jacobian(x: NDArray[_InexactT], axis: SupportsIndex | None = -1, *,
                     temperature: _Temperature = 1.0) -> NDArray[_InexactT]: ...
@overload
def softmax_jacobian(x: ArrayLike, axis: SupportsIndex | None = -1, *,
                     temperature: _Temperature = 1.0) -> NDArray[Any]: ...

# --- partial statistics: blocks summarised, merged, finished -----------------
@dataclass(frozen=True, eq=False, repr=False)
class SoftmaxStats:
    max: NDArray[Any]               # float64, or int64/uint64 for integer data
    sum_hi: NDArray[np.float64]
    sum_lo: NDArray[np.float64]
    count: NDArray[np.int64]
    temperature: float
    dtype: np.dtype[Any]            # of the results
    axis: tuple[int, ...]
    ndim: int
    weighted: bool = False
    _dot_hi: NDArray[np.float64] | None = None
    _dot_lo: NDArray[np.float64] | None = None
    def __post_init__(self) -> None: ...
    @property
    def shape(self) -> tuple[int, ...]: ...
    @property
    def sum(self) -> NDArray[np.float64]: ...

def partial_stats(x: ArrayLike, axis: _Axis = None, *, temperature: _Temperature = 1.0,
                  where: ArrayLike | None = None, b: ArrayLike | None = None,
                  dtype: DTypeLike | None = None, workers: _Workers = None) -> SoftmaxStats: ...
@overload
def merge_stats(*stats: SoftmaxStats) -> SoftmaxStats: ...
@overload
def merge_stats(stats: Iterable[SoftmaxStats], /) -> SoftmaxStats: ...
@overload
def logsumexp_from_stats(stats: SoftmaxStats, keepdims: bool = False, *,
                         return_sign: Literal[True]) -> tuple[Any, Any]: ...
@overload
def logsumexp_from_stats(stats: SoftmaxStats, keepdims: bool, return_sign: Literal[True]) -> tuple[Any, Any]: ...
@overload
def logsumexp_from_stats(stats: SoftmaxStats, keepdims: bool = False,
                         return_sign: bool = False) -> Any: ...
@overload
def softmax_from_stats(x: ArrayLike, stats: SoftmaxStats, *, where: ArrayLike | None = None,
                       out: _ArrayT, workers: _Workers = None) -> _ArrayT: ...
@overload
def softmax_from_stats(x: ArrayLike, stats: SoftmaxStats, *, where: ArrayLike | None = None,
                       out: None = None, workers: _Workers = None) -> NDArray[Any]: ...
@overload
def log_softmax_from_stats(x: ArrayLike, stats: SoftmaxStats, *, where: ArrayLike | None = None,
                           out: _ArrayT, workers: _Workers = None) -> _ArrayT: ...
@overload
def log_softmax_from_stats(x: ArrayLike, stats: SoftmaxStats, *, where: ArrayLike | None = None,
                           out: None = None, workers: _Workers = None) -> NDArray[Any]: ...

# --- configuration ----------------------------------------------------------
def show_config(print_out: bool = True) -> dict[str, Any]: ...

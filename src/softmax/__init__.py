"""softmax: fast, accurate softmax, log_softmax and logsumexp; a drop-in for scipy.special.

>>> from softmax import softmax
>>> softmax([1.0, 2.0]).round(6)
array([0.268941, 0.731059])
"""
from ._version import __version__
from ._api import (log_softmax, log_softmax_jvp, log_softmax_vjp, logsumexp, softmax,
                   softmax_jacobian, softmax_jvp, softmax_vjp)
from ._config import show_config
from ._stats import (SoftmaxStats, log_softmax_from_stats, logsumexp_from_stats, merge_stats,
                     partial_stats, softmax_from_stats)

__all__ = ["softmax", "log_softmax", "logsumexp", "softmax_jvp", "softmax_vjp",
           "log_softmax_jvp", "log_softmax_vjp", "softmax_jacobian", "partial_stats",
           "merge_stats", "logsumexp_from_stats", "softmax_from_stats", "log_softmax_from_stats",
           "SoftmaxStats", "show_config", "__version__"]

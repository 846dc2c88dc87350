"""softmax: fast, accurate softmax, log_softmax and logsumexp; a drop-in for scipy.special.

>>> from softmax import softmax
>>> softmax([1.0, 2.0]).round(6)
array([0.268941, 0.731059])
"""
from ._version import __version__
from ._api import (log_softmax, log_softmax_jvp, log_softmax_vjp, logsumexp, softmax,
                   softmax_jacobian, softmax_jvp, softmax_vjp)
from ._config import show_config

__all__ = ["softmax", "log_softmax", "logsumexp", "softmax_jvp", "softmax_vjp",
           "log_softmax_jvp", "log_softmax_vjp", "softmax_jacobian", "show_config",
           "__version__"]

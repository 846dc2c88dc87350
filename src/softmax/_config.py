"""Build and run-time facts, for bug reports and for ``python -m softmax``."""
import platform
import sys

import numpy as np

from . import _dispatch
from ._version import __version__


def show_config(print_out=True):
    """Print (and return) how this installation was built and what it runs.

    Parameters
    ----------
    print_out : bool, optional
        Print the report (default). The dictionary is returned either way.

    Returns
    -------
    dict
        ``version``, ``python``, ``numpy``, ``machine``, ``compiler``,
        ``openmp``, ``isa_compiled`` (the kernel variants this installation holds),
        ``isa_built`` (those this CPU can run), ``isa_chosen``, ``fma`` (of the
        chosen variant), ``threads_default``.

    Examples
    --------
    >>> import softmax
    >>> info = softmax.show_config(print_out=False)
    >>> info["isa_chosen"] in info["isa_built"]
    True
    """
    build = _dispatch.kernels.build_info()
    info = {
        "version": __version__,
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "machine": platform.machine(),
        "compiler": build["compiler"],
        "openmp": build["openmp"],
        "isa_compiled": _dispatch.compiled_isas(),
        "isa_built": _dispatch.available_isas(),
        "isa_chosen": _dispatch.current_isa(),
        "fma": build["fma"],
        "threads_default": _dispatch.default_workers(),
    }
    if print_out:
        width = max(map(len, info))
        for key, value in info.items():
            if isinstance(value, list):
                value = ", ".join(value)
            print(f"{key:<{width}} : {value}")
    return info

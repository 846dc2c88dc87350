# The public functions' C-level front doors (part of _core.pyx). softmax._api publishes each
# public Python function behind one (functools.update_wrapper: the Python function's name,
# docstring and signature), which tries the function's small-call shortcut and calls the
# Python function (the general path) with any call the shortcut does not take. The call of
# a Python function costs more than a small call's work (CPython fills each keyword-only
# default in from a dict); a Cython function's does not. Each front's parameters are its
# Python function's (tests/test_shortcuts.py checks). softmax._dispatch.kernels and
# softmax._api._SHORTCUT_BELOW are read at every call: tests stand a spy in for the first
# and set the second to 0.

cdef dict _api_ns = {"_SHORTCUT_BELOW": 0}
cdef dict _dispatch_ns = {}


def set_front_namespaces(dict api_ns, dict dispatch_ns):
    """Where the front doors read _SHORTCUT_BELOW (softmax._api's globals) and the kernel
    module (softmax._dispatch's)."""
    global _api_ns, _dispatch_ns
    _api_ns = api_ns
    _dispatch_ns = dispatch_ns


cdef inline object _kmod():
    return _dispatch_ns["kernels"]


cdef inline object _below():
    return _api_ns["_SHORTCUT_BELOW"]


def front_softmax(object pyfunc, bint log):
    """softmax's (log: log_softmax's) front door, in front of pyfunc."""
    def softmax(x, axis=None, *, temperature=1.0, where=None, out=None, dtype=None,
                workers=None, dim=None):
        res = _kmod().small_softmax(x, axis, temperature, log, _below(), out, where, dtype,
                                    workers, dim)
        if res is not None:
            return res
        return pyfunc(x, axis, temperature=temperature, where=where, out=out, dtype=dtype,
                      workers=workers, dim=dim)
    return softmax


def front_jvp(object pyfunc, bint log):
    """softmax_jvp's (log: log_softmax_jvp's) front door, in front of pyfunc."""
    def softmax_jvp(x, v, axis=None, *, temperature=1.0, where=None, out=None, workers=None,
                    dim=None):
        res = _kmod().small_derivative(x, v, axis, temperature, False, log, _below(), out,
                                       where, workers, dim)
        if res is not None:
            return res
        return pyfunc(x, v, axis, temperature=temperature, where=where, out=out,
                      workers=workers, dim=dim)
    return softmax_jvp


def front_vjp(object pyfunc, bint log):
    """softmax_vjp's (log: log_softmax_vjp's) front door, in front of pyfunc."""
    def softmax_vjp(y, g, axis=None, *, temperature=1.0, out=None, workers=None, dim=None):
        res = _kmod().small_derivative(y, g, axis, temperature, True, log, _below(), out,
                                       None, workers, dim)
        if res is not None:
            return res
        return pyfunc(y, g, axis, temperature=temperature, out=out, workers=workers, dim=dim)
    return softmax_vjp


def front_logsumexp(object pyfunc):
    """logsumexp's front door, in front of pyfunc."""
    def logsumexp(a, axis=None, b=None, keepdims=False, return_sign=False, *, temperature=1.0,
                  where=None, dtype=None, workers=None, dim=None):
        cdef object res = None
        if keepdims is False and return_sign is False and _small_opts(dtype, workers, dim):
            res = _kmod().small_logsumexp(a, axis, temperature, _below(), b, where)
        if res is not None:
            return res
        return pyfunc(a, axis, b, keepdims, return_sign, temperature=temperature, where=where,
                      dtype=dtype, workers=workers, dim=dim)
    return logsumexp


def front_jacobian(object pyfunc):
    """softmax_jacobian's front door, in front of pyfunc."""
    def softmax_jacobian(x, axis=-1, *, temperature=1.0):
        res = _kmod().small_jacobian(x, axis, temperature, _below())
        if res is not None:
            return res
        return pyfunc(x, axis, temperature=temperature)
    return softmax_jacobian

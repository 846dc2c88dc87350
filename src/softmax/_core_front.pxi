# The public functions' C-level front doors (part of _core.pyx). softmax._api publishes each
# public Python function behind one (functools.update_wrapper: the Python function's name,
# docstring and signature), which offers the call to the function's small-call shortcut and
# passes any call the shortcut does not take to the Python function (the general path). The
# call of a Python function costs more than a small call's work (CPython fills each
# keyword-only default in from a dict); a Cython function's does not. Each front is a
# function of its public name, so that Cython's messages for a wrong argument name it, with
# its Python function's parameters (tests/test_shortcuts.py checks both).
# softmax._dispatch.kernels and softmax._api._SHORTCUT_BELOW are read at every call: tests
# stand a spy in for the first and set the second to 0.

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


cdef object _softmax_front(object pyfunc, bint log, object x, object axis, object temperature,
                           object where, object out, object dtype, object workers, object dim):
    res = _kmod().small_softmax(x, axis, temperature, log, _below(), out, where, dtype, workers,
                                dim)
    if res is not None:
        return res
    return pyfunc(x, axis, temperature=temperature, where=where, out=out, dtype=dtype,
                  workers=workers, dim=dim)


cdef object _deriv_front(object pyfunc, bint vjp, bint log, object x, object v, object axis,
                         object temperature, object where, object out, object workers,
                         object dim):
    res = _kmod().small_derivative(x, v, axis, temperature, vjp, log, _below(), out, where,
                                   workers, dim)
    if res is not None:
        return res
    if vjp:
        return pyfunc(x, v, axis, temperature=temperature, out=out, workers=workers, dim=dim)
    return pyfunc(x, v, axis, temperature=temperature, where=where, out=out, workers=workers,
                  dim=dim)


def front_softmax(object pyfunc, bint log):
    """softmax's (log: log_softmax's) front door, in front of pyfunc."""
    def softmax(x, axis=None, *, temperature=1.0, where=None, out=None, dtype=None,
                workers=None, dim=None):
        return _softmax_front(pyfunc, False, x, axis, temperature, where, out, dtype, workers,
                              dim)

    def log_softmax(x, axis=None, *, temperature=1.0, where=None, out=None, dtype=None,
                    workers=None, dim=None):
        return _softmax_front(pyfunc, True, x, axis, temperature, where, out, dtype, workers,
                              dim)
    return log_softmax if log else softmax


def front_jvp(object pyfunc, bint log):
    """softmax_jvp's (log: log_softmax_jvp's) front door, in front of pyfunc."""
    def softmax_jvp(x, v, axis=None, *, temperature=1.0, where=None, out=None, workers=None,
                    dim=None):
        return _deriv_front(pyfunc, False, False, x, v, axis, temperature, where, out, workers,
                            dim)

    def log_softmax_jvp(x, v, axis=None, *, temperature=1.0, where=None, out=None,
                        workers=None, dim=None):
        return _deriv_front(pyfunc, False, True, x, v, axis, temperature, where, out, workers,
                            dim)
    return log_softmax_jvp if log else softmax_jvp


def front_vjp(object pyfunc, bint log):
    """softmax_vjp's (log: log_softmax_vjp's) front door, in front of pyfunc."""
    def softmax_vjp(y, g, axis=None, *, temperature=1.0, out=None, workers=None, dim=None):
        return _deriv_front(pyfunc, True, False, y, g, axis, temperature, None, out, workers, dim)

    def log_softmax_vjp(y, g, axis=None, *, temperature=1.0, out=None, workers=None, dim=None):
        return _deriv_front(pyfunc, True, True, y, g, axis, temperature, None, out, workers, dim)
    return log_softmax_vjp if log else softmax_vjp


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

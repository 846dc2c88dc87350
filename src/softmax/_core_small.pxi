# The small-call shortcuts (part of _core.pyx): the entry points the public functions' front
# doors (_core_front.pxi) and softmax._api._kernel_call try first, which check a common small
# call on its Python objects at C level and run it on the calling thread, or return None and
# leave it to the general path (which checks everything and raises).
# A call a shortcut takes comes out as the general path would make it, to the bit
# (tests/test_shortcuts.py); with a mask (where=) they do what the general path does: masked
# entries replaced by the value that never wins (logsumexp: weights 0 and 1), the kernel, then
# the masked outputs filled. And the Jacobian's assembly from s, shared by both paths.

cdef bint _small_temp(object temperature, bint derivative, double* t):
    """T of a small call: a finite Python float, or a Python int below 2**53 in magnitude;
    nonzero for a derivative. False for anything else (the general path checks it)."""
    cdef double v
    if type(temperature) is float:
        v = <double>temperature
        if not (fabs(v) < INFINITY):
            return False
    elif type(temperature) is int:
        if not (-9007199254740992 < temperature < 9007199254740992):
            return False
        v = <double>temperature
    else:
        return False
    if derivative and v == 0:
        return False
    t[0] = v
    return True

cdef object _small_view(object x, object axis, Py_ssize_t max_size, Py_ssize_t* shape):
    """x as a native float32/float64, aligned, C-contiguous ndarray of 1 to 64 dimensions
    with fewer than max_size elements, reduced along one axis (an int in range) or all
    (None); shape[0:4] = (outer, K, inner, axis; -1 for all). None for anything else (the
    small-call shortcuts' one test)."""
    cdef cnp.ndarray a
    cdef int typ, nd, ax, i
    cdef Py_ssize_t n, outer = 1, inner = 1
    if type(x) is not cnp.ndarray:
        return None
    a = <cnp.ndarray>x
    typ = cnp.PyArray_TYPE(a)
    nd = cnp.PyArray_NDIM(a)
    if ((typ != cnp.NPY_FLOAT and typ != cnp.NPY_DOUBLE) or nd == 0
            or not cnp.PyArray_ISNOTSWAPPED(a) or not cnp.PyArray_ISALIGNED(a)
            or not cnp.PyArray_IS_C_CONTIGUOUS(a)):
        return None
    n = cnp.PyArray_SIZE(a)
    if n >= max_size:
        return None
    if axis is None:
        shape[0], shape[1], shape[2], shape[3] = 1, n, 1, -1
        return a
    if type(axis) is not int or not (-nd <= axis < nd):   # compared as Python ints: any size
        return None
    ax = <int>(axis % nd)
    for i in range(ax):
        outer *= cnp.PyArray_DIMS(a)[i]
    for i in range(ax + 1, nd):
        inner *= cnp.PyArray_DIMS(a)[i]
    shape[0], shape[1], shape[2], shape[3] = outer, cnp.PyArray_DIMS(a)[ax], inner, ax
    return a

cdef bint _same_shape(cnp.ndarray a, object b, int typ):
    """b is an ndarray of dtype typ and a's shape, native, aligned and C-contiguous."""
    cdef cnp.ndarray o
    cdef int i
    if type(b) is not cnp.ndarray:
        return False
    o = <cnp.ndarray>b
    if (cnp.PyArray_TYPE(o) != typ or cnp.PyArray_NDIM(o) != cnp.PyArray_NDIM(a)
            or not cnp.PyArray_ISNOTSWAPPED(o) or not cnp.PyArray_ISALIGNED(o)
            or not cnp.PyArray_IS_C_CONTIGUOUS(o)):
        return False
    for i in range(cnp.PyArray_NDIM(a)):
        if cnp.PyArray_DIMS(o)[i] != cnp.PyArray_DIMS(a)[i]:
            return False
    return True

cdef inline bint _same_layout(cnp.ndarray a, object b):
    """b is an ndarray of a's dtype and shape, native, aligned and C-contiguous."""
    return _same_shape(a, b, cnp.PyArray_TYPE(a))

cdef inline bint _mask_ok(cnp.ndarray a, object where):
    """where is None, or a boolean C-contiguous ndarray of a's shape (no broadcasting)."""
    return where is None or _same_shape(a, where, cnp.NPY_BOOL)

cdef bint _overlap(cnp.ndarray a, cnp.ndarray b):
    """The (contiguous) byte ranges of a and b intersect."""
    cdef char* pa = <char*>cnp.PyArray_DATA(a)
    cdef char* pb = <char*>cnp.PyArray_DATA(b)
    return pa < pb + cnp.PyArray_NBYTES(b) and pb < pa + cnp.PyArray_NBYTES(a)


cdef inline cnp.ndarray _like(cnp.ndarray a):
    return cnp.PyArray_EMPTY(cnp.PyArray_NDIM(a), cnp.PyArray_DIMS(a), cnp.PyArray_TYPE(a), 0)

cdef cnp.ndarray _masked_copy(cnp.ndarray a, cnp.ndarray w, double fill, bint ones):
    """A new array of a's dtype and shape: a where w is True, fill elsewhere (the general
    path's np.where(w, a, fill)); with ones, 1 where w is True (the weights of a mask)."""
    cdef cnp.ndarray r = _like(a)
    cdef Py_ssize_t i, n = cnp.PyArray_SIZE(a)
    cdef const cnp.npy_bool* m = <const cnp.npy_bool*>cnp.PyArray_DATA(w)
    cdef const float* s32 = <const float*>cnp.PyArray_DATA(a)
    cdef const double* s64 = <const double*>cnp.PyArray_DATA(a)
    cdef float* d32 = <float*>cnp.PyArray_DATA(r)
    cdef double* d64 = <double*>cnp.PyArray_DATA(r)
    if _is_f32(a):
        for i in range(n):
            d32[i] = (1.0 if ones else s32[i]) if m[i] else <float>fill
    else:
        for i in range(n):
            d64[i] = (1.0 if ones else s64[i]) if m[i] else fill
    return r

cdef void _fill_masked(cnp.ndarray r, cnp.ndarray w, double fill):
    """r = fill where w is False (the general path's _apply_mask: with equal fills, a fully
    masked slice needs nothing more)."""
    cdef Py_ssize_t i, n = cnp.PyArray_SIZE(r)
    cdef const cnp.npy_bool* m = <const cnp.npy_bool*>cnp.PyArray_DATA(w)
    cdef float* d32 = <float*>cnp.PyArray_DATA(r)
    cdef double* d64 = <double*>cnp.PyArray_DATA(r)
    if _is_f32(r):
        for i in range(n):
            if not m[i]:
                d32[i] = <float>fill
    else:
        for i in range(n):
            if not m[i]:
                d64[i] = fill

cdef object _small_out(cnp.ndarray a, cnp.ndarray src, object out, object where):
    """The array a small call writes (elementwise, of a's shape): out when it fits (a's
    dtype and layout, writeable, not overlapping the mask, which is read after the kernel),
    None when it does not; without out, src when where is given (the call's masked copy of
    a, new: the kernel may write over its input), else a new array."""
    if out is None:
        return src if where is not None else _like(a)
    if not _same_layout(a, out) or not cnp.PyArray_ISWRITEABLE(<cnp.ndarray>out):
        return None
    if where is not None and _overlap(<cnp.ndarray>out, <cnp.ndarray>where):
        return None
    return out


cdef inline bint _small_opts(object dtype, object workers, object dim):
    """The public call's other options leave it to a shortcut: no dtype= and no dim=, workers=
    None or a positive Python int (the shortcuts run one thread)."""
    return dtype is None and dim is None and (workers is None
                                              or (type(workers) is int and workers > 0))


def small_softmax(object x, object axis, object temperature, bint log, Py_ssize_t max_size,
                  object out=None, object where=None, object dtype=None, object workers=None,
                  object dim=None):
    """softmax (or log_softmax) of a small call (see _small_view and _small_temp) on the
    calling thread, into out when given (of x's dtype and shape, C-contiguous and writeable;
    x itself or not overlapping it), where= a mask of x's shape (_mask_ok) or None, and the
    public call's dtype, workers and dim as _small_opts takes them; None for any other call,
    which the caller sends down its general path. A dispatch shortcut for
    small calls, where Python-level checks cost more than the work: it raises nothing and
    validates nothing else."""
    cdef Py_ssize_t shape[4]
    cdef double t
    cdef object a = _small_view(x, axis, max_size, shape)
    cdef object res
    cdef cnp.ndarray src
    if (a is None or not _small_opts(dtype, workers, dim) or not _small_temp(temperature, False, &t)
            or not _mask_ok(a, where)):
        return None
    src = <cnp.ndarray>a
    if where is not None:      # the masked copy is new: out may be x (or overlap it)
        src = _masked_copy(src, <cnp.ndarray>where, INFINITY if t < 0 else -INFINITY, False)
    res = _small_out(<cnp.ndarray>a, src, out, where)
    if res is None:
        return None
    if (where is None and out is not None
            and cnp.PyArray_DATA(<cnp.ndarray>res) != cnp.PyArray_DATA(src)
            and _overlap(<cnp.ndarray>res, src)):
        return None
    if cnp.PyArray_SIZE(src) > 0:
        _call(OP_LOG_SOFTMAX if log else OP_SOFTMAX, src, None, <cnp.ndarray>res, shape[0],
              shape[1], shape[2], t, 1)
    if where is not None:
        _fill_masked(<cnp.ndarray>res, <cnp.ndarray>where, -INFINITY if log else 0.0)
    return res


def small_logsumexp(object x, object axis, object temperature, Py_ssize_t max_size,
                    object b=None, object where=None):
    """logsumexp of a small call (see _small_view and _small_temp) with a non-empty axis,
    weighted by b when given (of x's dtype and shape; a negative total gives NaN) or by a
    mask where (_mask_ok: weights 1 and 0, as the general path takes it): the result array
    (the input's shape without the reduced axis, or a NumPy scalar when that is 0-d); None
    for any other call."""
    cdef Py_ssize_t shape[4]
    cdef Py_ssize_t j
    cdef cnp.npy_intp dims[64]
    cdef double t, one64    # the value of a single slice
    cdef float one32
    cdef void* one
    cdef object a = _small_view(x, axis, max_size, shape)
    cdef cnp.ndarray res, sign
    cdef int nd = 0, i
    if a is None or shape[1] == 0 or not _small_temp(temperature, False, &t):
        return None
    if b is not None and not _same_layout(<cnp.ndarray>a, b):
        return None
    if where is not None:
        if b is not None or not _mask_ok(<cnp.ndarray>a, where):
            return None
        b = _masked_copy(<cnp.ndarray>a, <cnp.ndarray>where, 0.0, True)
    if shape[3] >= 0:
        for i in range(cnp.PyArray_NDIM(<cnp.ndarray>a)):
            if i != shape[3]:
                dims[nd] = cnp.PyArray_DIMS(<cnp.ndarray>a)[i]
                nd += 1
    if nd == 0 and b is None:     # one slice, no weights: a NumPy scalar, no 0-d array
        one = <void*>&one32 if _is_f32(<cnp.ndarray>a) else <void*>&one64
        _call_to(OP_LSE, <cnp.ndarray>a, None, one, shape[0], shape[1], shape[2], t, 1)
        return PyArray_Scalar(one, cnp.PyArray_DESCR(<cnp.ndarray>a), NULL)
    res = cnp.PyArray_EMPTY(nd, dims, cnp.PyArray_TYPE(<cnp.ndarray>a), 0)
    if cnp.PyArray_SIZE(<cnp.ndarray>a) > 0:
        if b is None:
            _call(OP_LSE, <cnp.ndarray>a, None, res, shape[0], shape[1], shape[2], t, 1)
        else:
            sign = cnp.PyArray_EMPTY(nd, dims, cnp.PyArray_TYPE(<cnp.ndarray>a), 0)
            _call_lse_b(<cnp.ndarray>a, <cnp.ndarray>b, res, sign, shape[0], shape[1],
                        shape[2], t, 1)
            if cnp.PyArray_TYPE(res) == cnp.NPY_FLOAT:   # a negative total has no real log
                for j in range(cnp.PyArray_SIZE(res)):
                    if (<float*>cnp.PyArray_DATA(sign))[j] < 0:
                        (<float*>cnp.PyArray_DATA(res))[j] = NAN
            else:
                for j in range(cnp.PyArray_SIZE(res)):
                    if (<double*>cnp.PyArray_DATA(sign))[j] < 0:
                        (<double*>cnp.PyArray_DATA(res))[j] = NAN
    return res[()] if nd == 0 else res


def small_derivative(object x, object v, object axis, object temperature, bint vjp, bint log,
                     Py_ssize_t max_size, object out=None, object where=None,
                     object workers=None, object dim=None):
    """The JVP (or, with vjp, the VJP) of softmax (or log_softmax) of a small call: x as in
    _small_view, v of the same dtype and shape, T as in _small_temp and nonzero, into out
    when given (as small_softmax's, overlapping neither x nor v), a JVP's where= a mask of
    x's shape (_mask_ok) or None, workers and dim as _small_opts takes them; None for any
    other call."""
    cdef Py_ssize_t shape[4]
    cdef double t
    cdef object a = _small_view(x, axis, max_size, shape)
    cdef object res
    cdef cnp.ndarray src, tan
    cdef Op op
    if (a is None or not _small_opts(None, workers, dim) or not _same_layout(<cnp.ndarray>a, v)
            or not _small_temp(temperature, True, &t) or not _mask_ok(<cnp.ndarray>a, where)
            or (vjp and where is not None)):
        return None
    src, tan = <cnp.ndarray>a, <cnp.ndarray>v
    if where is not None:      # new masked copies: out may overlap x or v
        src = _masked_copy(src, <cnp.ndarray>where, INFINITY if t < 0 else -INFINITY, False)
        tan = _masked_copy(tan, <cnp.ndarray>where, 0.0, False)
    res = _small_out(<cnp.ndarray>a, src, out, where)    # (a JVP may write over its x)
    if res is None:
        return None
    if (where is None and out is not None
            and (_overlap(<cnp.ndarray>res, src) or _overlap(<cnp.ndarray>res, tan))):
        return None
    if vjp:
        op = OP_LOG_VJP if log else OP_VJP
    else:
        op = OP_LOG_JVP if log else OP_JVP
    if cnp.PyArray_SIZE(src) > 0:
        _call(op, src, tan, <cnp.ndarray>res, shape[0], shape[1], shape[2], t, 1)
    if where is not None:
        _fill_masked(<cnp.ndarray>res, <cnp.ndarray>where, 0.0)
    return res




# --------------------------------------------------------------------------
# The Jacobian
# --------------------------------------------------------------------------
ctypedef fused real_t:
    float
    double

cdef void _jacobian_rows(const real_t* s, real_t* jac, Py_ssize_t outer, Py_ssize_t K,
                         double t) noexcept nogil:
    """jac[o] = (diag(s_o) - s_o s_o^T) / T for the outer rows s_o of K entries (C order).
    float32: each entry from double arithmetic, rounded once. The diagonal s_i (1 - s_i)
    takes 1 - s_i as the sum of the other entries where s_i > 1/2 (at most one a row), so it
    keeps its relative precision (float64: that sum compensated)."""
    cdef Py_ssize_t o, i, j
    cdef const real_t* r
    cdef real_t* J
    cdef double si, d, acc, err, u, bb
    for o in range(outer):
        r = s + o * K
        J = jac + o * K * K
        for i in range(K):
            si = <double>r[i]
            for j in range(K):
                if real_t is float:
                    J[i * K + j] = <float>(-(si * <double>r[j]) / t)
                else:
                    J[i * K + j] = -(r[i] * r[j]) / t
            if si > 0.5:
                acc = 0.0
                err = 0.0
                for j in range(K):
                    if j != i:
                        u = acc + <double>r[j]          # TwoSum
                        bb = u - acc
                        err = err + ((acc - (u - bb)) + (<double>r[j] - bb))
                        acc = u
                d = acc + err
            else:
                d = 1.0 - si
            J[i * K + i] = <real_t>(si * d / t)

def jacobian(cnp.ndarray s, cnp.ndarray jac, Py_ssize_t outer, Py_ssize_t K, double t):
    """jac (outer, K, K) = the Jacobian of softmax at each row of s (outer, K), s the
    softmax at T; both C-contiguous float32 or float64 (one dtype)."""
    cdef void* ps = cnp.PyArray_DATA(s)
    cdef void* pj = cnp.PyArray_DATA(jac)
    if _keep_gil(outer * K * K, 1):
        if _is_f32(s):
            _jacobian_rows(<const float*>ps, <float*>pj, outer, K, t)
        else:
            _jacobian_rows(<const double*>ps, <double*>pj, outer, K, t)
    elif _is_f32(s):
        with nogil:
            _jacobian_rows(<const float*>ps, <float*>pj, outer, K, t)
    else:
        with nogil:
            _jacobian_rows(<const double*>ps, <double*>pj, outer, K, t)


def small_jacobian(object x, object axis, object temperature, Py_ssize_t max_size):
    """softmax_jacobian of a small call (see _small_view and _small_temp: T nonzero) whose
    slices lie along the last axis in memory (inner 1; axis None flattens x) and are not
    empty: the (..., K, K) result; None for any other call."""
    cdef Py_ssize_t shape[4]
    cdef cnp.npy_intp dims[34]
    cdef double t
    cdef object a = _small_view(x, axis, max_size, shape)
    cdef cnp.ndarray s, jac
    cdef int nd = 0, i
    if (a is None or shape[2] != 1 or cnp.PyArray_SIZE(<cnp.ndarray>a) == 0
            or cnp.PyArray_NDIM(<cnp.ndarray>a) > 31 or not _small_temp(temperature, True, &t)):
        return None
    if shape[3] >= 0:          # the batch: x's shape without the axis (inner 1: same order)
        for i in range(cnp.PyArray_NDIM(<cnp.ndarray>a)):
            if i != shape[3]:
                dims[nd] = cnp.PyArray_DIMS(<cnp.ndarray>a)[i]
                nd += 1
    dims[nd] = shape[1]
    dims[nd + 1] = shape[1]
    s = _like(<cnp.ndarray>a)
    _call(OP_SOFTMAX, <cnp.ndarray>a, None, s, shape[0], shape[1], 1, t, 1)
    jac = cnp.PyArray_EMPTY(nd + 2, dims, cnp.PyArray_TYPE(<cnp.ndarray>a), 0)
    jacobian(s, jac, shape[0], shape[1], t)
    return jac

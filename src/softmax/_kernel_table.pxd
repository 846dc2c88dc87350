# The interface between softmax._core (compiled once) and a kernel variant
# softmax._kernels_<isa> (compiled per ISA): the variant fills one KernelTable and hands
# it over in a PyCapsule named KERNEL_TABLE_CAPSULE; _core._set_table checks abi and
# size and then calls every kernel through it. Declared only here; both sides cimport it.
#
# Bump KERNEL_TABLE_ABI on any change below (a member, an argument, the meaning of Op or
# of a status), so that a _core never calls a variant module left over from another build.

# What a driver computes (x, v as for the Python entry points in _core.pyx).
ctypedef enum Op:
    OP_SOFTMAX, OP_LOG_SOFTMAX, OP_LSE, OP_JVP, OP_LOG_JVP, OP_VJP, OP_LOG_VJP

cdef enum:
    KERNEL_TABLE_ABI = 2

cdef extern from *:
    """
    #define SMX_KERNEL_TABLE_CAPSULE "softmax._kernel_table.KernelTable"
    """
    const char* KERNEL_TABLE_CAPSULE "SMX_KERNEL_TABLE_CAPSULE"

# The drivers: GIL-free, touching no Python object; a contiguous (outer, K, inner) buffer
# reduced along K, T the temperature (finite; nonzero for the derivatives), nthreads >= 1.
# They return 0, or nonzero when their scratch memory could not be allocated (the output
# is then incomplete).
ctypedef int (*run_f32_t)(Op op, const float* x, const float* v, float* out,
                          Py_ssize_t outer, Py_ssize_t K, Py_ssize_t inner,
                          double temperature, int nthreads) noexcept nogil
ctypedef int (*run_f64_t)(Op op, const double* x, const double* v, double* out,
                          Py_ssize_t outer, Py_ssize_t K, Py_ssize_t inner,
                          double temperature, int nthreads) noexcept nogil
# logsumexp weighted by b: res and sign have outer * inner elements.
ctypedef int (*lse_b_f32_t)(const float* x, const float* b, float* res, float* sign,
                            Py_ssize_t outer, Py_ssize_t K, Py_ssize_t inner,
                            double temperature, int nthreads) noexcept nogil
ctypedef int (*lse_b_f64_t)(const double* x, const double* b, double* res, double* sign,
                            Py_ssize_t outer, Py_ssize_t K, Py_ssize_t inner,
                            double temperature, int nthreads) noexcept nogil
# The exps, elementwise, for measuring them: out + tail = exp(x); and the float32
# kernels' exp (float64 in and out).
# Partial statistics of every slice (m: its max; s_hi + s_lo: the sum of exp((x - m)/T), a
# double-double; outer * inner each), and softmax (log_out 0) or log_softmax (1) of every
# slice given its merged statistics (the streaming form, softmax.partial_stats).
ctypedef int (*stats_f32_t)(const float* x, double* m, double* s_hi, double* s_lo,
                            Py_ssize_t outer, Py_ssize_t K, Py_ssize_t inner,
                            double temperature, int nthreads) noexcept nogil
ctypedef int (*stats_f64_t)(const double* x, double* m, double* s_hi, double* s_lo,
                            Py_ssize_t outer, Py_ssize_t K, Py_ssize_t inner,
                            double temperature, int nthreads) noexcept nogil
ctypedef int (*finish_f32_t)(const float* x, const double* m, const double* s_hi,
                             const double* s_lo, float* out, Py_ssize_t outer, Py_ssize_t K,
                             Py_ssize_t inner, double temperature, int log_out,
                             int nthreads) noexcept nogil
ctypedef int (*finish_f64_t)(const double* x, const double* m, const double* s_hi,
                             const double* s_lo, double* out, Py_ssize_t outer, Py_ssize_t K,
                             Py_ssize_t inner, double temperature, int log_out,
                             int nthreads) noexcept nogil
ctypedef void (*exp_f32_t)(const float* x, float* out, float* tail, Py_ssize_t n) noexcept nogil
ctypedef void (*exp_f64_t)(const double* x, double* out, double* tail,
                           Py_ssize_t n) noexcept nogil
ctypedef void (*exp_of_f32_t)(const double* h, double* out, Py_ssize_t n) noexcept nogil

ctypedef struct KernelTable:
    int abi                 # KERNEL_TABLE_ABI of the build that filled it
    Py_ssize_t size         # sizeof(KernelTable) there
    const char* name        # the ISA table entry (softmax/_isa.py) it was compiled for
    int fma                 # compiled with fused multiply-add
    int openmp              # compiled with OpenMP
    run_f32_t run_f32
    run_f64_t run_f64
    lse_b_f32_t lse_b_f32
    lse_b_f64_t lse_b_f64
    stats_f32_t stats_f32
    stats_f64_t stats_f64
    finish_f32_t finish_f32
    finish_f64_t finish_f64
    exp_f32_t exp_f32
    exp_f64_t exp_f64
    exp_of_f32_t exp_of_f32

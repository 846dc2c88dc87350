# Constants: the variant being compiled (from the -D macro setup.py passes, per entry of
# softmax/_isa.py), the kernels' blocking and work split, and Temp, the temperature as the
# kernels use it. Part of the per-ISA kernel source (included by _kernels.pyx).

cdef extern from *:
    """
    #if defined(SMX_ISA_AVX512)
    #  define SMX_ISA_NAME "avx512"
    #  if !defined(__AVX512F__) || !defined(__AVX512DQ__) || !defined(__AVX512BW__) || \
         !defined(__AVX512VL__) || !defined(__AVX2__)
    #    error "SMX_ISA_AVX512 without the AVX-512 flags of softmax/_isa.py"
    #  endif
    #elif defined(SMX_ISA_AVX2)
    #  define SMX_ISA_NAME "avx2"
    #  if !defined(__AVX2__)
    #    error "SMX_ISA_AVX2 without the AVX2 flags of softmax/_isa.py"
    #  endif
    #elif defined(SMX_ISA_SSE2)
    #  define SMX_ISA_NAME "sse2"
    #elif defined(SMX_ISA_NEON)
    #  define SMX_ISA_NAME "neon"
    #elif defined(SMX_ISA_SCALAR)
    #  define SMX_ISA_NAME "scalar"
    #else
    #  error "compile the kernels with -DSMX_ISA_<NAME> (setup.py does, from softmax/_isa.py)"
    #endif
    #if defined(__FMA__) || defined(__aarch64__) || defined(_M_ARM64) || \
        (defined(_MSC_VER) && defined(__AVX2__))
    #  define SMX_HAS_FMA 1
    #else
    #  define SMX_HAS_FMA 0
    #endif
    #ifdef _OPENMP
    #  define SMX_OPENMP 1
    #else
    #  define SMX_OPENMP 0
    #endif
    """
    const bint SMX_HAS_FMA
    const bint SMX_OPENMP
    const char* SMX_ISA_NAME

DEF LANES = 32     # independent accumulators of a row reduction (> 16: gcc would fully unroll;
                   # _fold, _lanes_total and _max_row halve exactly 32)
DEF BLK = 1024     # elements exponentiated before they are summed (from L1)
DEF ARG_BLK = 256  # scaled exp arguments computed ahead of the exps (on the stack)
DEF JVP_SHIFT = 64      # the JVP keeps its exps times 2**64: subnormal ones keep full precision
DEF SPLIT_MIN = 1 << 18  # a row at least this long is split across threads when rows are few
DEF SMALL_K = 64        # rows this short go through _small_rows
DEF SMALL_ROWS = 4096   # rows per thread work item there
DEF CW = 256       # at most this many columns per chunk (column layout)
DEF CHUNK_BYTES = 1048576  # a column chunk (K x W) stays within L2

ctypedef struct Temp:
    double sgn         # sign of T: the slice is sgn * x, so T < 0 is the arg-min side
    double inv         # 1/|T| rounded (1 when |T| == 1 or T == 0)
    double inv_lo      # 1/|T| - inv, exactly representable remainder
    double abs_t       # |T|
    double inv_signed  # 1/T: the chain-rule factor of the derivative kernels
    double inv_signed_lo  # 1/T - inv_signed (sgn * inv_lo): float64 derivatives use the pair
    bint scaled        # |T| != 1
    bint hard          # T == 0: the arg-max limit

cdef Temp _make_temp(double temperature) noexcept nogil:
    cdef Temp t
    t.sgn = -1.0 if temperature < 0 else 1.0
    t.abs_t = fabs(temperature)
    t.hard = t.abs_t == 0
    t.scaled = (not t.hard) and t.abs_t != 1.0
    t.inv = 1.0 / t.abs_t if t.scaled else 1.0
    t.inv_lo = -fma(t.inv, t.abs_t, -1.0) / t.abs_t if t.scaled else 0.0
    t.inv_signed = t.sgn * t.inv if not t.hard else 0.0
    t.inv_signed_lo = t.sgn * t.inv_lo if not t.hard else 0.0
    return t

cdef Temp _limit_temp(Temp t) noexcept nogil:
    """For softmax, log_softmax and logsumexp: a |T| whose inverse overflows (below
    ~5.6e-309) is the arg-max limit (exp((x - m)/T) is 0 or 1 in floating point),
    with |T| kept for the log-softmax of the non-maxima, (x - m)/|T| - log(count)."""
    if t.scaled and not (t.inv < INFINITY):
        t.hard = True
        t.scaled = False
        t.inv = 1.0
        t.inv_lo = 0.0
        t.inv_signed = 0.0
        t.inv_signed_lo = 0.0
    return t

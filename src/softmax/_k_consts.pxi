# Constants of the kernels' blocking and work split, and Temp, the temperature as the
# kernels use it. Part of the per-ISA kernel source (included by _kernels.pyx).

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

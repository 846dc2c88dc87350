# Constants: the kernels' blocking and work split, and Temp, the temperature as the
# kernels use it. Part of the per-ISA kernel source (included by _kernels.pyx).

cdef extern from *:
    """
    #ifdef _OPENMP
    #  define SMX_OPENMP 1
    #else
    #  define SMX_OPENMP 0
    #endif
    """
    const bint SMX_OPENMP

DEF LANES = 32     # independent accumulators of a row reduction (> 16: gcc would fully unroll;
                   # _fold, _lanes_total and _max_row halve exactly 32)
DEF BLK = 1024     # elements exponentiated before they are summed (from L1)
DEF ARG_BLK = 256  # scaled exp arguments computed ahead of the exps (in scratch)
DEF JVP_SHIFT = 64      # the JVP keeps its exps times 2**64: subnormal ones keep full precision
DEF SPLIT_MIN = 1 << 18  # a row at least this long is split across threads when rows are few
DEF SMALL_K = 64        # float64 VJP rows this short go through _small_rows_vjp (block)
# float64 softmax, log_softmax and logsumexp rows: up to SMALL_K64 elements _small_rows, then
# up to VSHORT64_MAX_K _vshort64 (the row kernels a block phase by phase), then _vrows64 (Zen 4:
# rows of 48-64 1.4-2x faster than _small_rows, 26-31 even, 10-24 slower; _vshort64 4-16%
# faster than _vrows64 up to 200, 0-7% slower at 1000)
DEF SMALL_K64 = 31
# float64 log_softmax and logsumexp rows whose max stands more than this above the rest (over
# |T|) count their maxima apart in the exp pass (_sum_mode64: exp(-13) > 2**-20)
DEF LOGSUM_GAP = 13.0
DEF VSHORT64_MAX_K = 256
DEF SMALL_ROWS = 4096   # rows per thread work item there
DEF ROWS_ELEMS = 65536  # elements of a work item of float32 rows longer than a vector (_vrows32)
DEF COL_BLOCKS_ELEMS = 1 << 20  # float32 softmax / log_softmax column blocks of one strip
                                # (_vcol_blocks32): elements a work item
DEF BLOCK_MIN_ROWS = 8   # ... but at least this many rows (_rows_block)
DEF JVP_ROWS_ELEMS = 262144  # at most this many elements a work item of float32 JVP rows (rows
                             # of 2**18 and more one a work item; at least one item a thread)
DEF BLOCK_MAX_K = 160       # float32 softmax rows up to this long and this many vectors, two
DEF BLOCK_MAX_VECS = 12     # vectors of rows or more: _vblock32_case (FMA; benchmarks/README.md)
DEF LOG_BLOCK_MAX_K = 256   # the same for float32 log_softmax rows (its exp pass stores
DEF LOG_BLOCK_MAX_VECS = 20  # nothing: longer rows fit L1; benchmarks/README.md)
DEF LOG_FUSE_MIN_VECS = 6  # ... the output pass of such a row of this many vectors or more
                            # inside the next block's exp pass of the same lane
DEF LSE_BLOCK_MAX_K = 256   # logsumexp rows likewise (_vblock32_lse; any build)
DEF LSE_BLOCK_MAX_VECS = 16  # (AVX2: rows of 200 +2-7% in blocks)
DEF BLOCK_LANES = 16        # SMX_NF32 at most: the sizes of _vblock32_case's arrays

DEF FUSE_MAX_K = 512    # float32 softmax and log_softmax rows up to this long take one row's
                        # output pass in another row's pass (_vrows32_case): longer, the rows
                        # it touches crowd L1
DEF VJP_FUSE_MAX_K = 256  # softmax-VJP rows (float32, float64) up to this long take the next
                          # row's dot inside their output pass; longer rows, from memory, lost
                          # 23-43% to that (the next row's loads 4K-alias the output's pending
                          # stores); in cache the fused loop is 3-17% faster
DEF JVP64_PF_MAX_K = 1024  # float64 JVP rows up to this long (8 KB) prefetch the next row whole
DEF JVP_SC_MAX_K = 4096  # float32 softmax-JVP rows up to this long keep e and e (v - c) in
                         # double scratch for the output pass (16 bytes an element, WS_JVP32;
                         # 2048-4096: 7-11% faster than e in out from L3)
DEF PF32_AHEAD = 512     # float32 JVP rows: the same distance (2 KB) past the next row's loads
DEF PF64_AHEAD = 256     # float64 row passes prefetch this many elements (2 KB) past their
                         # loads of the next row (or the row after next, when shorter)
DEF EXPD_SPAN = 700.0   # a float32 row with (max - min)/|T| up to this has no double-lane exp
                        # argument below EXPF_LO: its full vectors' exps skip the clamp
                        # (_vexp_core64; _jvp_exp32, _lse_sums_ahead32)
DEF CW = 256       # at most this many columns per chunk (column layout)
DEF CHUNK_BYTES = 1048576  # a column chunk (K x W) stays within L2
DEF MAX_PARTS = 64      # at most this many threads share one long row (_row_split)

# Scratch memory: the kernels' arrays (blocks of exps, per-column and per-row accumulators)
# come from one block per thread (_k_drivers.pxi): each worker of a parallel region
# allocates one when the region starts and frees it at its end; a call on the calling
# thread alone uses that thread's block, kept between its calls (smx_ws_serial). Not the
# stack: musl's threads have 128 KB stacks. A kernel takes its arrays from the front of the
# block it is given (_ws) and hands the rest down. Only arrays of LANES accumulators stay
# on the stack (at most 4 x 32 doubles in a frame). Every array has its full, constant
# length (BLK, ARG_BLK or CW entries), so the arrays of a kernel lie at constant distances
# and gcc knows them apart, as it did on the stack. Bytes, every array counted as double
# (all multiples of 64: every array starts on a cache line):
DEF WS_EXP_MAP = 2 * ARG_BLK * 8        # _exp_map: the scaled arguments, hi and lo
DEF WS_ROW = 2 * BLK * 8 + WS_EXP_MAP   # the row kernels (_softmax_row, _lse_row, _jvp_row:
                                        # a block of exps and tails, then _exp_map; _vjp_row)
DEF VCW = 1024     # at most this many float32 columns a chunk of the vector column kernels
DEF WS_VCOL = 48 * VCW      # their state (_vcols32: 25 VCW bytes, _vderiv_cols32: 45 VCW)
DEF STREAM_MIN = 1 << 22   # float32 rows from this long: the softmax and log_softmax output past
                           # the caches (16 MB)
DEF STREAM_COL_MIN = 1 << 21    # the float32 column strips' output from this many elements (8
                           # MB; rows far apart, written in pieces of a few lines, gain from
                           # 2 MB on: benchmarks/README.md)
DEF FCOL_BYTES = 262144     # the float32 softmax columns' fast path (_k_vfcols32.pxi): at most
                            # K * (its strip's width) * 4 bytes, each of its two strip copies
DEF FCOL_LOG_CONTIG = 16777216  # a contiguous block (no copy) of any size for softmax; for
                            # log_softmax at most this many bytes (its three passes from DRAM
                            # ran 1.4x the time of the two-pass form: benchmarks/README.md)
DEF WS_COL = 2 * FCOL_BYTES + FCOL_BYTES // 2 + WS_VCOL + 10 * CW * 8
                            # the column kernels: two strip copies, the lines between
                            # strips (_fc_pass3_lines: 32 floats a row), a vector one's state, then a
                            # general one's (the most, 9.125 CW doubles: _softmax_cols's ih,
                            # il, m, hard, sh, sl, aux, aux_lo, then _col_exp_sum's 3)
DEF WS_SHORT = 9 * BLK * 8 + WS_ROW     # the short-row kernels: 9 arrays over a block of
                                        # rows (_small_rows, _small_rows_vjp), then a row
                                        # kernel for a special row
DEF WS_VBLOCK = 10 * BLOCK_LANES * 64      # _vblock32_case: 10 arrays of a vector a row of a
DEF WS_VROWS32 = WS_VBLOCK + WS_ROW         # block, then a row kernel for a special row
DEF WS_JVP32 = 16 * JVP_SC_MAX_K + WS_ROW  # _vjvp_rows32: e and p, then a special row's kernel
DEF WS_SPLIT = 4 * MAX_PARTS * 8 + WS_ROW   # _row_split: 4 arrays over the parts, then a
                                            # row kernel for a special row

cdef extern from *:
    """
    /* smx_ws_alloc / smx_ws_free: a block of n bytes on a cache line (64), or NULL. */
    #if defined(_MSC_VER)
    #  include <malloc.h>
    static char* smx_ws_alloc(size_t n) { return (char*)_aligned_malloc(n, 64); }
    static void smx_ws_free(char* p) { _aligned_free(p); }
    #else
    #  include <stdlib.h>
    static char* smx_ws_alloc(size_t n) {
        void* p;
        return posix_memalign(&p, 64, n) == 0 ? (char*)p : NULL;
    }
    static void smx_ws_free(char* p) { free(p); }
    #endif

    /* smx_ws_serial(n): the calling thread's block for its serial calls, at least n bytes
       (or NULL). It is allocated by the thread's first call, grown when a call needs more,
       and freed when the thread exits; a small call thus costs no malloc (one costs as much
       as the call's whole kernel). */
    typedef struct { char* p; size_t n; } smx_ws_cache;
    static void smx_ws_cache_free(void* c) {
        if (c != NULL) { smx_ws_free(((smx_ws_cache*)c)->p); free(c); }
    }
    static char* smx_ws_grow(smx_ws_cache* c, size_t n) {
        if (c->n < n) {
            smx_ws_free(c->p);
            c->p = smx_ws_alloc(n);
            c->n = c->p != NULL ? n : 0;
        }
        return c->p;
    }
    #if defined(_WIN32)
    #  ifndef WIN32_LEAN_AND_MEAN
    #    define WIN32_LEAN_AND_MEAN
    #  endif
    #  ifndef NOMINMAX
    #    define NOMINMAX
    #  endif
    #  include <windows.h>
    static DWORD smx_ws_index = FLS_OUT_OF_INDEXES;
    static INIT_ONCE smx_ws_once = INIT_ONCE_STATIC_INIT;
    static void WINAPI smx_ws_on_exit(void* c) { smx_ws_cache_free(c); }
    static BOOL CALLBACK smx_ws_init(PINIT_ONCE once, PVOID arg, PVOID* ctx) {
        (void)once; (void)arg; (void)ctx;
        smx_ws_index = FlsAlloc(smx_ws_on_exit);
        return TRUE;
    }
    static char* smx_ws_serial(size_t n) {
        smx_ws_cache* c;
        InitOnceExecuteOnce(&smx_ws_once, smx_ws_init, NULL, NULL);
        if (smx_ws_index == FLS_OUT_OF_INDEXES) return NULL;
        c = (smx_ws_cache*)FlsGetValue(smx_ws_index);
        if (c == NULL) {
            c = (smx_ws_cache*)calloc(1, sizeof *c);
            if (c == NULL) return NULL;
            if (!FlsSetValue(smx_ws_index, c)) { free(c); return NULL; }
        }
        return smx_ws_grow(c, n);
    }
    #else
    #  include <pthread.h>
    static pthread_key_t smx_ws_key;      /* its destructor frees a thread's block */
    static int smx_ws_key_ok = 0;
    static pthread_once_t smx_ws_once = PTHREAD_ONCE_INIT;
    static __thread smx_ws_cache* smx_ws_mine = NULL;   /* the same block, found fast */
    static void smx_ws_init(void) {
        smx_ws_key_ok = pthread_key_create(&smx_ws_key, smx_ws_cache_free) == 0;
    }
    static char* smx_ws_serial(size_t n) {
        smx_ws_cache* c = smx_ws_mine;
        if (c == NULL) {
            pthread_once(&smx_ws_once, smx_ws_init);
            if (!smx_ws_key_ok) return NULL;
            c = (smx_ws_cache*)calloc(1, sizeof *c);
            if (c == NULL) return NULL;
            if (pthread_setspecific(smx_ws_key, c) != 0) { free(c); return NULL; }
            smx_ws_mine = c;
        }
        return c->n >= n ? c->p : smx_ws_grow(c, n);
    }
    #endif
    """
    char* smx_ws_alloc(size_t n) noexcept nogil   # n bytes on a cache line (64), or NULL
    void smx_ws_free(char* p) noexcept nogil
    char* smx_ws_serial(size_t n) noexcept nogil  # the calling thread's block, kept

# Scratch pointers are restrict (C99; gcc, clang and MSVC spell it __restrict): the memory
# a kernel reaches through its scratch block (and every array taken from it) is reached
# through no other pointer, input or output, so gcc need not assume that a heap array may
# overlap the data -- which made it version or give up vectorising the loops that read one
# and write the other. (Stack arrays, which they were, it knew to be apart.)
cdef extern from *:
    ctypedef char* char_r "char * __restrict"
    ctypedef double* double_r "double * __restrict"

cdef inline char* _ws(char_r* ws, size_t nbytes) noexcept nogil:
    """The next nbytes of the scratch block ws[0], which then starts after them."""
    cdef char* p = ws[0]
    ws[0] = p + nbytes
    return p

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

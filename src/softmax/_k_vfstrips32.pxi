# The float32 column strips' driver (_fc_strips32), the entry of the float32 column kernels
# (_vcols32), and pass 3's stores in whole cache lines. Part of the per-ISA kernel source
# (included by _kernels.pyx after _k_vfcols32.pxi, whose passes it runs).
#
# From STREAM_COL_MIN elements a strip's output is stored past the caches (rows far apart,
# written 256 bytes at a time, took as long as the rest of the kernel; with 16-lane vectors,
# four a strip): _fc_pass3_lines. Where out's rows start on a cache line, a strip's row is
# four whole lines; elsewhere (sh columns into a line, 1-15) three whole lines and parts of
# two, the part at its end kept (cy) until the next strip completes that line. The strips themselves do not move to meet out's lines: which columns
# share a strip decides which go to _vcols32_case with a special one, and the bits must not
# depend on addresses.

ctypedef struct FcLine:        # a strip's pass-3 state lane by lane, to be read at any column
    float a[80]                # log_softmax: -m
    float h[80]                # softmax: the float32 pair h + l of 2**24 / S; log_softmax: of
    float l[80]                # m + L
    double L[80]               # log_softmax: L

cdef void _fc_line_state(FcStrip* s, double* cd, int op, FcLine* z) noexcept nogil:
    """z from the strip's state after pass 2 (softmax) or _fc_end_log (log_softmax)."""
    cdef FcStrip l = s[0]
    cdef Py_ssize_t j
    if op == 0:
        _fc_inv(&l.b0, &l.q0, cd)
        _fc_inv(&l.b1, &l.q1, cd + 16)
        _fc_inv(&l.b2, &l.q2, cd + 32)
        _fc_inv(&l.b3, &l.q3, cd + 48)
    for j in range(80):
        z.a[j] = z.h[j] = z.l[j] = 0.0
        z.L[j] = cd[j] if j < 64 and op == 1 else 0.0
    smx_store_f32(z.a, l.a0)
    smx_store_f32(z.a + 16, l.a1)
    smx_store_f32(z.a + 32, l.a2)
    smx_store_f32(z.a + 48, l.a3)
    smx_store_f32(z.h, l.b0)
    smx_store_f32(z.h + 16, l.b1)
    smx_store_f32(z.h + 32, l.b2)
    smx_store_f32(z.h + 48, l.b3)
    smx_store_f32(z.l, l.q0)
    smx_store_f32(z.l + 16, l.q1)
    smx_store_f32(z.l + 32, l.q2)
    smx_store_f32(z.l + 48, l.q3)

cdef inline smx_vf32 _fc_lval(const float* p, Py_ssize_t c, Py_ssize_t n, FcLine* z, int op,
                              bint neg, bint scaled, double inv) noexcept nogil:
    """The output of the n <= 16 columns c.. of a strip's row (p: the row of its copy)."""
    cdef smx_vf32 e = smx_load_f32(p + c) if n >= 16 else smx_load_till_f32(p + c, n, 0.0)
    if op == 0:
        return _times32(e, smx_load_f32(z.h + c), smx_load_f32(z.l + c), smx_zero_f64())
    return _fc_logval(e, neg, scaled, smx_load_f32(z.a + c), smx_load_f32(z.h + c),
                      smx_load_f32(z.l + c), z.L + c, inv)

cdef void _fc_pass3_lines(const float* d, Py_ssize_t ds, float* out, Py_ssize_t stride,
                          Py_ssize_t K, Py_ssize_t sh, FcLine* z, int op, bint neg, bint scaled,
                          double inv, float* cy, bint joined, bint keep) noexcept nogil:
    """Pass 3 (softmax, op 0, or log_softmax) of a whole strip (16-lane vectors) into an out
    whose rows start sh columns (0-15) into a cache line, every whole line stored past the
    caches; with sh > 0, the line across this strip's start joins the sh columns of the strip
    before, kept in cy (K rows of 32 floats), when joined (else its part stored as usual),
    and the line across its end goes to cy for the next strip when keep (else stored as
    usual). The same arithmetic, lane for lane, as _fc_pass3 and _fc_pass3log."""
    cdef Py_ssize_t row, h = 16 - sh
    cdef const float* p
    cdef float* o
    cdef smx_vf32 e
    if joined:                  # the first h columns after the last strip's sh, in cy
        for row in range(K):
            smx_store_f32(cy + row * 32 + sh, _fc_lval(d + row * ds, 0, 16, z, op, neg, scaled,
                                                       inv))
    for row in range(K):
        p = d + row * ds
        o = out + row * stride
        if joined:
            smx_stream_f32(o - sh, smx_load_f32(cy + row * 32))
        elif sh == 0:
            smx_stream_f32(o, _fc_lval(p, 0, 16, z, op, neg, scaled, inv))
        else:
            smx_store_till_f32(o, h, _fc_lval(p, 0, 16, z, op, neg, scaled, inv))
        smx_stream_f32(o + h, _fc_lval(p, h, 16, z, op, neg, scaled, inv))
        smx_stream_f32(o + h + 16, _fc_lval(p, h + 16, 16, z, op, neg, scaled, inv))
        smx_stream_f32(o + h + 32, _fc_lval(p, h + 32, 16, z, op, neg, scaled, inv))
        if sh == 0:
            continue
        e = _fc_lval(p, h + 48, sh, z, op, neg, scaled, inv)
        if keep:
            smx_store_f32(cy + row * 32, e)
        else:
            smx_store_till_f32(o + h + 48, sh, e)

cdef void _fc_carry_out(float* cy, float* out, Py_ssize_t stride, Py_ssize_t K, Py_ssize_t sh,
                        bint* pend) noexcept nogil:
    """The sh columns kept in cy (_fc_pass3_lines) to out (at the columns before out) when
    pending."""
    cdef Py_ssize_t row
    if pend[0]:
        for row in range(K):
            smx_store_till_f32(out + row * stride - sh, sh, smx_load_f32(cy + row * 32))
    pend[0] = False

cdef void _fc_strips32(const float* x, float* out, Py_ssize_t K, Py_ssize_t stride,
                       Py_ssize_t W, float* cur, float* nxt, float* cy, Temp t, int op,
                       float inv_hi, float inv_lo, TCase k, char* scratch,
                       char_r ws) noexcept nogil:
    """softmax (op 0) or log_softmax (1) of W columns of a (K, stride) block strip by strip
    through the copies cur and nxt (K rows of FCV vectors each); pass 1 of a strip inside
    pass 2 of the one before. Strips the fast path cannot take go to _vcols32_case."""
    cdef bint neg = TCase is Neg1 or TCase is NegT
    cdef bint scaled = TCase is PosT or TCase is NegT
    cdef Py_ssize_t FW = FCV * SMX_NF32
    cdef double inv = <double>inv_hi + <double>inv_lo
    cdef double cd[FCV * 16]        # the compensation in double (log_softmax: then L)
    cdef float ch[FCV * 16]
    cdef float cl[FCV * 16]
    cdef FcStrip s, sn
    cdef FcLine z
    cdef float* tmp
    cdef Py_ssize_t j = 0, jn, w = 0, wn
    cdef bint have = False          # s (columns j, width w) has had pass 1 into cur, ready
    # the output past the caches (the head of this file), out's rows sh columns into a line
    cdef bint lines = (SMX_NF32 == 16 and FCV == 4 and stride % 16 == 0
                       and (<size_t>out) % sizeof(float) == 0 and K * stride >= STREAM_COL_MIN)
    cdef Py_ssize_t sh = <Py_ssize_t>(((<size_t>out) % 64) // sizeof(float))
    cdef bint pend = False          # cy holds the sh columns before column j (_fc_pass3_lines)
    # pass 1 also prefetches the strip D = FC_STRIPS_AHEAD_BYTES / (a strip's bytes) on (2 to 8;
    # none for longer strips, whose buffers fill L2): reading memory a strip's 256 bytes a row
    # ran at two thirds of the rate of wider rows where the data came from DRAM
    cdef Py_ssize_t pf = min(<Py_ssize_t>8, FC_STRIPS_AHEAD_BYTES // (K * FW * 4))
    pf = pf * FW if pf >= 2 and W > FW else 0
    while j < W or have:
        if not have:                # pass 1 alone: the first strip, or one after a fallback
            w = min(FW, W - j)
            _fc_start(&s)
            _fc_pass1(x + j, stride, K, w, cur, neg, &s, pf)
            have = _fc_ready(&s, w, inv_hi, cd) if op == 0 else _fc_ready_log(&s, w, inv_hi, cd)
            if not have:
                _vcols32_case(x + j, out + j, K, stride, w, t, op, k, scratch, ws)
                j += w
            continue
        jn = j + w
        wn = min(FW, W - jn)
        if wn > 0:                  # pass 2 of s, pass 1 of the next strip
            _fc_start(&sn)
            _fc_pass12(cur, x + jn, stride, K, wn, nxt, op, neg, inv_hi, inv_lo, scaled, &s, &sn,
                       cd, pf)
        elif op == 0:
            _fc_pass2(cur, cur, FW, K, FW, neg, inv_hi, inv_lo, scaled, &s, cd)
        else:
            _fc_pass2log(cur, FW, K, FW, neg, inv_hi, inv_lo, scaled, &s, cd, NULL)
        if op == 1 and not _fc_end_log(&s, cd, K, w, scaled, ch, cl):
            _fc_carry_out(cy, out + j, stride, K, sh, &pend)
            _vcols32_case(x + j, out + j, K, stride, w, t, op, k, scratch, ws)
        elif lines and w == FW:
            _fc_line_state(&s, cd, op, &z)
            _fc_pass3_lines(cur, FW, out + j, stride, K, sh, &z, op, neg, scaled, inv, cy, pend,
                            sh > 0 and wn == FW)
            pend = sh > 0 and wn == FW
        elif op == 0:
            _fc_pass3(cur, FW, out + j, stride, K, w, &s, cd)
        else:
            _fc_pass3log(cur, FW, out + j, stride, K, w, neg, scaled, &s, cd, inv)
        have = False
        j = jn
        if wn > 0:
            if _fc_ready(&sn, wn, inv_hi, cd) if op == 0 else _fc_ready_log(&sn, wn, inv_hi, cd):
                s = sn
                w = wn
                tmp = cur
                cur = nxt
                nxt = tmp
                have = True
            else:
                _fc_carry_out(cy, out + jn, stride, K, sh, &pend)
                _vcols32_case(x + jn, out + jn, K, stride, wn, t, op, k, scratch, ws)
                j = jn + wn
    if lines:
        smx_stream_fence()

cdef void _fcols32_case(const float* x, float* out, Py_ssize_t K, Py_ssize_t stride,
                        Py_ssize_t W, Temp t, int op, TCase k, char* scratch,
                        char_r ws) noexcept nogil:
    """softmax (op 0) or log_softmax (1) of W columns on the fast path where it can take them
    (_vcols32_case the rest). A contiguous block (W == stride) needs no copy."""
    cdef double inv = t.inv + t.inv_lo
    cdef float inv_hi = <float>inv, inv_lo = <float>(inv - <double><float>inv)
    cdef float* cur
    cdef float* nxt
    cdef float* cy
    if stride <= FCV * SMX_NF32:    # (then W == stride: one contiguous strip)
        _fc_blocks32_case(x, out, 1, K, W, t, op, k, scratch, ws)
        return
    cur = <float*>_ws(&ws, FCOL_BYTES)
    nxt = <float*>_ws(&ws, FCOL_BYTES)
    cy = <float*>_ws(&ws, FCOL_BYTES // 2)
    _fc_strips32(x, out, K, stride, W, cur, nxt, cy, t, op, inv_hi, inv_lo, k, scratch, ws)

cdef inline bint _fc_takes(Py_ssize_t K, Py_ssize_t stride, Temp t, int op) noexcept nogil:
    """Whether columns of K rows stride apart go to the fast path's strips (op 0 softmax, 1
    log_softmax; logsumexp never): FMA, a finite 1/|T| in float32, and a strip copy within
    FCOL_BYTES or a contiguous block (log_softmax: of at most FCOL_LOG_CONTIG bytes)."""
    return (op != 2 and SMX_HAS_FMA and not t.hard and <float>(t.inv + t.inv_lo) < INFINITY
            and (K * FCV * SMX_NF32 * 4 <= FCOL_BYTES or (
                stride <= FCV * SMX_NF32 and (op == 0 or K * stride * 4 <= FCOL_LOG_CONTIG))))

cdef void _fc_blocks32_case(const float* x, float* out, Py_ssize_t nb, Py_ssize_t K,
                            Py_ssize_t W, Temp t, int op, TCase k, char* scratch,
                            char_r ws) noexcept nogil:
    """softmax (op 0) or log_softmax (1) of nb consecutive contiguous (K, W) blocks, W <= FCV
    * SMX_NF32 (the outer slices of columns that fit one strip): each block's pass 1 inside
    the previous block's pass 2 (_fc_pass2n), so that reading memory overlaps the exps; a
    block the fast path cannot take _vcols32_case's. A block's bits do not depend on the
    blocks around it."""
    cdef bint neg = TCase is Neg1 or TCase is NegT
    cdef bint scaled = TCase is PosT or TCase is NegT
    cdef double inv = t.inv + t.inv_lo
    cdef float inv_hi = <float>inv, inv_lo = <float>(inv - <double><float>inv)
    cdef double cd[FCV * 16]        # the compensation in double (log_softmax: then L)
    cdef float ch[FCV * 16]
    cdef float cl[FCV * 16]
    cdef FcStrip s, sn
    cdef Py_ssize_t b, n = K * W
    cdef bint ok
    _fc_start(&s)
    _fc_pass1(x, W, K, W, NULL, neg, &s, 0)
    for b in range(nb):
        _fc_start(&sn)
        ok = _fc_ready(&s, W, inv_hi, cd) if op == 0 else _fc_ready_log(&s, W, inv_hi, cd)
        if ok:
            if b + 1 < nb:
                _fc_pass2n(x + b * n, out + b * n, x + (b + 1) * n, K, W, op, neg, inv_hi,
                           inv_lo, scaled, &s, &sn, cd)
            elif op == 0:
                _fc_pass2(x + b * n, out + b * n, W, K, W, neg, inv_hi, inv_lo, scaled, &s, cd)
            else:
                _fc_pass2log(x + b * n, W, K, W, neg, inv_hi, inv_lo, scaled, &s, cd, out + b * n)
            if op == 0:
                _fc_pass3(out + b * n, W, out + b * n, W, K, W, &s, cd)
            elif _fc_end_log(&s, cd, K, W, scaled, ch, cl):
                _fc_pass3log(x + b * n, W, out + b * n, W, K, W, neg, scaled, &s, cd, inv)
            else:
                ok = False
        elif b + 1 < nb:
            _fc_pass1(x + (b + 1) * n, W, K, W, NULL, neg, &sn, 0)
        if not ok:
            _vcols32_case(x + b * n, out + b * n, K, W, W, t, op, k, scratch, ws)
        s = sn

cdef void _vcol_blocks32(const float* x, float* out, Py_ssize_t nb, Py_ssize_t K, Py_ssize_t W,
                         Temp t, int op, char_r ws) noexcept nogil:
    """softmax (op 0) or log_softmax (1) of nb consecutive (K, W) blocks of W <= FCV *
    SMX_NF32 columns: on the fast path _fc_blocks32_case, else a block at a time (_vcols32).
    Scratch: WS_COL."""
    cdef char* scratch
    cdef Pos1 p1
    cdef PosT pt
    cdef Neg1 n1
    cdef NegT nt
    cdef int case = _tcase(t)
    cdef Py_ssize_t b
    if not _fc_takes(K, W, t, op):
        for b in range(nb):
            _vcols32(x + b * K * W, out + b * K * W, K, W, W, t, op, ws)
        return
    scratch = _ws(&ws, 25 * VCW)
    if case == 0:
        _fc_blocks32_case(x, out, nb, K, W, t, op, p1, scratch, ws)
    elif case == 1:
        _fc_blocks32_case(x, out, nb, K, W, t, op, pt, scratch, ws)
    elif case == 2:
        _fc_blocks32_case(x, out, nb, K, W, t, op, n1, scratch, ws)
    else:
        _fc_blocks32_case(x, out, nb, K, W, t, op, nt, scratch, ws)

cdef void _vcols32(const float* x, float* out, Py_ssize_t K, Py_ssize_t stride,
                   Py_ssize_t W, Temp t, int op, char_r ws) noexcept nogil:
    """W <= VCW columns of a (K, stride) block: softmax (op 0), log_softmax (1), logsumexp
    (2: out[j] per column). Scratch: WS_COL (its state, then a general kernel's)."""
    cdef char* scratch = _ws(&ws, 25 * VCW)
    cdef Pos1 p1
    cdef PosT pt
    cdef Neg1 n1
    cdef NegT nt
    cdef int case = _tcase(t)
    cdef bint fast = _fc_takes(K, stride, t, op)
    if case == 0:
        if fast:
            _fcols32_case(x, out, K, stride, W, t, op, p1, scratch, ws)
        else:
            _vcols32_case(x, out, K, stride, W, t, op, p1, scratch, ws)
    elif case == 1:
        if fast:
            _fcols32_case(x, out, K, stride, W, t, op, pt, scratch, ws)
        else:
            _vcols32_case(x, out, K, stride, W, t, op, pt, scratch, ws)
    elif case == 2:
        if fast:
            _fcols32_case(x, out, K, stride, W, t, op, n1, scratch, ws)
        else:
            _vcols32_case(x, out, K, stride, W, t, op, n1, scratch, ws)
    else:
        if fast:
            _fcols32_case(x, out, K, stride, W, t, op, nt, scratch, ws)
        else:
            _vcols32_case(x, out, K, stride, W, t, op, nt, scratch, ws)

import torch
import triton
import triton.language as tl

# Rows with N <= _SINGLE_MAX_N are kept entirely in registers (one HBM read of x
# in the forward, one read of x and dy in the backward).  Longer rows use
# chunked/looped kernels so that every size is supported.
_SINGLE_MAX_N = 8192
_LOOP_BLOCK_N = 2048
_TILE_N = 1024

_SM_COUNT_CACHE = {}


def _sm_count(device: torch.device) -> int:
    idx = device.index if device.index is not None else torch.cuda.current_device()
    n = _SM_COUNT_CACHE.get(idx)
    if n is None:
        n = torch.cuda.get_device_properties(idx).multi_processor_count
        _SM_COUNT_CACHE[idx] = n
    return n


def _row_config(N: int):
    BLOCK_N = max(triton.next_power_of_2(N), 16)
    if BLOCK_N <= 1024:
        num_warps = 4
    elif BLOCK_N <= 4096:
        num_warps = 8
    else:
        num_warps = 16
    return BLOCK_N, num_warps


# ----------------------------------------------------------------------------
# Forward
# ----------------------------------------------------------------------------
@triton.jit
def _ln_fwd_kernel(
    X, Y, W, B, Mean, Rstd,
    stride_x, stride_y, N, eps,
    BLOCK_N: tl.constexpr, SINGLE: tl.constexpr,
):
    row = tl.program_id(0)
    row64 = row.to(tl.int64)
    x_row = X + row64 * stride_x
    y_row = Y + row64 * stride_y
    cols = tl.arange(0, BLOCK_N)
    if SINGLE:
        mask = cols < N
        x = tl.load(x_row + cols, mask=mask, other=0.0).to(tl.float32)
        mean = tl.sum(x, axis=0) / N
        xc = tl.where(mask, x - mean, 0.0)
        var = tl.sum(xc * xc, axis=0) / N
        rstd = 1.0 / tl.sqrt(var + eps)
        w = tl.load(W + cols, mask=mask, other=0.0).to(tl.float32)
        b = tl.load(B + cols, mask=mask, other=0.0).to(tl.float32)
        y = xc * rstd * w + b
        tl.store(y_row + cols, y.to(Y.dtype.element_ty), mask=mask)
    else:
        acc = tl.zeros([BLOCK_N], dtype=tl.float32)
        for start in range(0, N, BLOCK_N):
            offs = start + cols
            x = tl.load(x_row + offs, mask=offs < N, other=0.0).to(tl.float32)
            acc += x
        mean = tl.sum(acc, axis=0) / N
        acc2 = tl.zeros([BLOCK_N], dtype=tl.float32)
        for start in range(0, N, BLOCK_N):
            offs = start + cols
            m = offs < N
            x = tl.load(x_row + offs, mask=m, other=0.0).to(tl.float32)
            xc = tl.where(m, x - mean, 0.0)
            acc2 += xc * xc
        var = tl.sum(acc2, axis=0) / N
        rstd = 1.0 / tl.sqrt(var + eps)
        for start in range(0, N, BLOCK_N):
            offs = start + cols
            m = offs < N
            x = tl.load(x_row + offs, mask=m, other=0.0).to(tl.float32)
            w = tl.load(W + offs, mask=m, other=0.0).to(tl.float32)
            b = tl.load(B + offs, mask=m, other=0.0).to(tl.float32)
            y = (x - mean) * rstd * w + b
            tl.store(y_row + offs, y.to(Y.dtype.element_ty), mask=m)
    tl.store(Mean + row, mean)
    tl.store(Rstd + row, rstd)


# ----------------------------------------------------------------------------
# Backward
#   xhat = (x - mean) * rstd,  wdy = w * dy
#   dx   = rstd * (wdy - xhat * mean(xhat * wdy) - mean(wdy))
#   dw   = sum_rows(dy * xhat),  db = sum_rows(dy)
# dw/db are reduced in two deterministic stages: per-program partial sums in
# fp32 ([P, N]) and a column-wise reduction kernel.
# ----------------------------------------------------------------------------
@triton.jit
def _ln_bwd_fused_kernel(
    DY, X, W, Mean, Rstd, DX, DW_part, DB_part,
    M, N, stride_dy, stride_x, stride_dx,
    BLOCK_N: tl.constexpr,
):
    pid = tl.program_id(0)
    nprog = tl.num_programs(0)
    cols = tl.arange(0, BLOCK_N)
    mask = cols < N
    w = tl.load(W + cols, mask=mask, other=0.0).to(tl.float32)
    dw_acc = tl.zeros([BLOCK_N], dtype=tl.float32)
    db_acc = tl.zeros([BLOCK_N], dtype=tl.float32)
    for row in range(pid, M, nprog):
        row64 = row.to(tl.int64)
        x = tl.load(X + row64 * stride_x + cols, mask=mask, other=0.0).to(tl.float32)
        dy = tl.load(DY + row64 * stride_dy + cols, mask=mask, other=0.0).to(tl.float32)
        mean = tl.load(Mean + row)
        rstd = tl.load(Rstd + row)
        xhat = tl.where(mask, (x - mean) * rstd, 0.0)
        wdy = w * dy
        c1 = tl.sum(xhat * wdy, axis=0) / N
        c2 = tl.sum(wdy, axis=0) / N
        dx = (wdy - (xhat * c1 + c2)) * rstd
        tl.store(DX + row64 * stride_dx + cols, dx.to(DX.dtype.element_ty), mask=mask)
        dw_acc += dy * xhat
        db_acc += dy
    part = pid.to(tl.int64) * N
    tl.store(DW_part + part + cols, dw_acc, mask=mask)
    tl.store(DB_part + part + cols, db_acc, mask=mask)


@triton.jit
def _ln_bwd_rowstats_kernel(
    DY, X, W, Mean, Rstd, C1, C2,
    N, stride_dy, stride_x,
    BLOCK_N: tl.constexpr,
):
    # Long-row fallback, stage 1: per-row c1 = mean(xhat*wdy), c2 = mean(wdy).
    row = tl.program_id(0)
    row64 = row.to(tl.int64)
    mean = tl.load(Mean + row)
    rstd = tl.load(Rstd + row)
    cols = tl.arange(0, BLOCK_N)
    a1 = tl.zeros([BLOCK_N], dtype=tl.float32)
    a2 = tl.zeros([BLOCK_N], dtype=tl.float32)
    for start in range(0, N, BLOCK_N):
        offs = start + cols
        m = offs < N
        x = tl.load(X + row64 * stride_x + offs, mask=m, other=0.0).to(tl.float32)
        dy = tl.load(DY + row64 * stride_dy + offs, mask=m, other=0.0).to(tl.float32)
        w = tl.load(W + offs, mask=m, other=0.0).to(tl.float32)
        xhat = tl.where(m, (x - mean) * rstd, 0.0)
        wdy = w * dy
        a1 += xhat * wdy
        a2 += wdy
    tl.store(C1 + row, tl.sum(a1, axis=0) / N)
    tl.store(C2 + row, tl.sum(a2, axis=0) / N)


@triton.jit
def _ln_bwd_tiled_kernel(
    DY, X, W, Mean, Rstd, C1, C2, DX, DW_part, DB_part,
    M, N, stride_dy, stride_x, stride_dx,
    BLOCK_N: tl.constexpr,
):
    # Long-row fallback, stage 2: grid (column tiles, row groups).
    pid_n = tl.program_id(0)
    pid_p = tl.program_id(1)
    P = tl.num_programs(1)
    cols = pid_n * BLOCK_N + tl.arange(0, BLOCK_N)
    mask = cols < N
    w = tl.load(W + cols, mask=mask, other=0.0).to(tl.float32)
    dw_acc = tl.zeros([BLOCK_N], dtype=tl.float32)
    db_acc = tl.zeros([BLOCK_N], dtype=tl.float32)
    for row in range(pid_p, M, P):
        row64 = row.to(tl.int64)
        x = tl.load(X + row64 * stride_x + cols, mask=mask, other=0.0).to(tl.float32)
        dy = tl.load(DY + row64 * stride_dy + cols, mask=mask, other=0.0).to(tl.float32)
        mean = tl.load(Mean + row)
        rstd = tl.load(Rstd + row)
        c1 = tl.load(C1 + row)
        c2 = tl.load(C2 + row)
        xhat = tl.where(mask, (x - mean) * rstd, 0.0)
        wdy = w * dy
        dx = (wdy - (xhat * c1 + c2)) * rstd
        tl.store(DX + row64 * stride_dx + cols, dx.to(DX.dtype.element_ty), mask=mask)
        dw_acc += dy * xhat
        db_acc += dy
    part = pid_p.to(tl.int64) * N
    tl.store(DW_part + part + cols, dw_acc, mask=mask)
    tl.store(DB_part + part + cols, db_acc, mask=mask)


@triton.jit
def _ln_bwd_reduce_kernel(
    DW_part, DB_part, DW, DB, P, N,
    BLOCK_P: tl.constexpr, BLOCK_C: tl.constexpr,
):
    pid = tl.program_id(0)
    cols = pid * BLOCK_C + tl.arange(0, BLOCK_C)
    cmask = cols < N
    dw = tl.zeros([BLOCK_P, BLOCK_C], dtype=tl.float32)
    db = tl.zeros([BLOCK_P, BLOCK_C], dtype=tl.float32)
    for start in range(0, P, BLOCK_P):
        rows = start + tl.arange(0, BLOCK_P)
        m = (rows[:, None] < P) & cmask[None, :]
        offs = rows[:, None].to(tl.int64) * N + cols[None, :]
        dw += tl.load(DW_part + offs, mask=m, other=0.0)
        db += tl.load(DB_part + offs, mask=m, other=0.0)
    tl.store(DW + cols, tl.sum(dw, axis=0).to(DW.dtype.element_ty), mask=cmask)
    tl.store(DB + cols, tl.sum(db, axis=0).to(DB.dtype.element_ty), mask=cmask)


# ----------------------------------------------------------------------------
# Autograd wrapper
# ----------------------------------------------------------------------------
class _LayerNormFn(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, bias, eps):
        orig_shape = x.shape
        N = orig_shape[-1]
        x2 = x.reshape(-1, N)
        if not x2.is_contiguous():
            x2 = x2.contiguous()
        weight = weight.contiguous()
        bias = bias.contiguous()
        M = x2.shape[0]

        y = torch.empty_like(x2)
        mean = torch.empty(M, dtype=torch.float32, device=x.device)
        rstd = torch.empty(M, dtype=torch.float32, device=x.device)

        single = N <= _SINGLE_MAX_N
        if single:
            BLOCK_N, num_warps = _row_config(N)
        else:
            BLOCK_N, num_warps = _LOOP_BLOCK_N, 8
        if M > 0 and N > 0:
            _ln_fwd_kernel[(M,)](
                x2, y, weight, bias, mean, rstd,
                x2.stride(0), y.stride(0), N, float(eps),
                BLOCK_N=BLOCK_N, SINGLE=single, num_warps=num_warps,
            )

        ctx.save_for_backward(x2, weight, mean, rstd)
        ctx.N = N
        ctx.orig_shape = orig_shape
        ctx.bias_dtype = bias.dtype
        return y.view(orig_shape)

    @staticmethod
    def backward(ctx, dy):
        x2, weight, mean, rstd = ctx.saved_tensors
        N = ctx.N
        M = x2.shape[0]
        device = x2.device
        dy2 = dy.reshape(-1, N)
        if not dy2.is_contiguous():
            dy2 = dy2.contiguous()

        dx = torch.empty_like(x2)
        dw = torch.empty(N, dtype=weight.dtype, device=device)
        db = torch.empty(N, dtype=ctx.bias_dtype, device=device)
        if N == 0:
            return dx.view(ctx.orig_shape), dw, db, None

        sms = _sm_count(device)
        if N <= _SINGLE_MAX_N:
            BLOCK_N, num_warps = _row_config(N)
            ctas_per_sm = 4 if num_warps <= 4 else (2 if num_warps <= 8 else 1)
            P = max(1, min(sms * ctas_per_sm, triton.cdiv(M, 4)))
            dw_part = torch.empty((P, N), dtype=torch.float32, device=device)
            db_part = torch.empty((P, N), dtype=torch.float32, device=device)
            _ln_bwd_fused_kernel[(P,)](
                dy2, x2, weight, mean, rstd, dx, dw_part, db_part,
                M, N, dy2.stride(0), x2.stride(0), dx.stride(0),
                BLOCK_N=BLOCK_N, num_warps=num_warps,
            )
        else:
            c1 = torch.empty(M, dtype=torch.float32, device=device)
            c2 = torch.empty(M, dtype=torch.float32, device=device)
            if M > 0:
                _ln_bwd_rowstats_kernel[(M,)](
                    dy2, x2, weight, mean, rstd, c1, c2,
                    N, dy2.stride(0), x2.stride(0),
                    BLOCK_N=_LOOP_BLOCK_N, num_warps=8,
                )
            n_col = triton.cdiv(N, _TILE_N)
            P = max(1, min(M, triton.cdiv(sms * 4, n_col)))
            dw_part = torch.empty((P, N), dtype=torch.float32, device=device)
            db_part = torch.empty((P, N), dtype=torch.float32, device=device)
            _ln_bwd_tiled_kernel[(n_col, P)](
                dy2, x2, weight, mean, rstd, c1, c2, dx, dw_part, db_part,
                M, N, dy2.stride(0), x2.stride(0), dx.stride(0),
                BLOCK_N=_TILE_N, num_warps=4,
            )

        BLOCK_C = 32
        _ln_bwd_reduce_kernel[(triton.cdiv(N, BLOCK_C),)](
            dw_part, db_part, dw, db, P, N,
            BLOCK_P=64, BLOCK_C=BLOCK_C, num_warps=4,
        )
        return dx.view(ctx.orig_shape), dw, db, None


def layer_norm(x, normalized_shape=None, weight=None, bias=None, eps=1e-5):
    N = x.shape[-1]
    if normalized_shape is not None:
        ns = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
        assert ns == (N,), "only normalisation over the last dimension is supported"
    if weight is None:
        weight = torch.ones(N, dtype=x.dtype, device=x.device)
    if bias is None:
        bias = torch.zeros(N, dtype=x.dtype, device=x.device)
    return _LayerNormFn.apply(x, weight, bias, eps)

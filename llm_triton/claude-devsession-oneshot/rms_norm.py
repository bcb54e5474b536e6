import torch
import triton
import triton.language as tl


# ----------------------------------------------------------------------------
# Forward kernels
# ----------------------------------------------------------------------------
@triton.jit
def _rms_fwd_kernel(X, W, Y, RSTD, N, eps,
                    BLOCK_N: tl.constexpr, SINGLE: tl.constexpr):
    row = tl.program_id(0).to(tl.int64)
    x_ptr = X + row * N
    y_ptr = Y + row * N
    if SINGLE:
        cols = tl.arange(0, BLOCK_N)
        mask = cols < N
        x = tl.load(x_ptr + cols, mask=mask, other=0.0).to(tl.float32)
        ss = tl.sum(x * x, axis=0)
        rstd = tl.rsqrt(ss / N + eps)
        w = tl.load(W + cols, mask=mask, other=0.0).to(tl.float32)
        y = x * rstd * w
        tl.store(y_ptr + cols, y.to(Y.dtype.element_ty), mask=mask)
    else:
        acc = tl.zeros([BLOCK_N], dtype=tl.float32)
        for off in range(0, N, BLOCK_N):
            cols = off + tl.arange(0, BLOCK_N)
            mask = cols < N
            x = tl.load(x_ptr + cols, mask=mask, other=0.0).to(tl.float32)
            acc += x * x
        ss = tl.sum(acc, axis=0)
        rstd = tl.rsqrt(ss / N + eps)
        for off in range(0, N, BLOCK_N):
            cols = off + tl.arange(0, BLOCK_N)
            mask = cols < N
            x = tl.load(x_ptr + cols, mask=mask, other=0.0).to(tl.float32)
            w = tl.load(W + cols, mask=mask, other=0.0).to(tl.float32)
            y = x * rstd * w
            tl.store(y_ptr + cols, y.to(Y.dtype.element_ty), mask=mask)
    tl.store(RSTD + row, rstd)


# ----------------------------------------------------------------------------
# Backward kernels
# ----------------------------------------------------------------------------
@triton.jit
def _rms_bwd_kernel(DY, X, W, RSTD, DX, DWP, M, N,
                    BLOCK_N: tl.constexpr, SINGLE: tl.constexpr):
    pid = tl.program_id(0)
    G = tl.num_programs(0)
    dwp_ptr = DWP + pid.to(tl.int64) * N
    if SINGLE:
        cols = tl.arange(0, BLOCK_N)
        mask = cols < N
        dw_acc = tl.zeros([BLOCK_N], dtype=tl.float32)
        for row in range(pid, M, G):
            roff = row.to(tl.int64) * N
            x = tl.load(X + roff + cols, mask=mask, other=0.0).to(tl.float32)
            dy = tl.load(DY + roff + cols, mask=mask, other=0.0).to(tl.float32)
            w = tl.load(W + cols, mask=mask, other=0.0).to(tl.float32)
            rstd = tl.load(RSTD + row)
            xhat = x * rstd
            wdy = w * dy
            c = tl.sum(xhat * wdy, axis=0) / N
            dx = (wdy - xhat * c) * rstd
            tl.store(DX + roff + cols, dx.to(DX.dtype.element_ty), mask=mask)
            dw_acc += dy * xhat
        tl.store(dwp_ptr + cols, dw_acc, mask=mask)
    else:
        # DWP is zero-initialised; each program owns its own partial row.
        for row in range(pid, M, G):
            roff = row.to(tl.int64) * N
            rstd = tl.load(RSTD + row)
            acc = tl.zeros([BLOCK_N], dtype=tl.float32)
            for off in range(0, N, BLOCK_N):
                cols = off + tl.arange(0, BLOCK_N)
                mask = cols < N
                x = tl.load(X + roff + cols, mask=mask, other=0.0).to(tl.float32)
                dy = tl.load(DY + roff + cols, mask=mask, other=0.0).to(tl.float32)
                w = tl.load(W + cols, mask=mask, other=0.0).to(tl.float32)
                acc += x * w * dy
            c = tl.sum(acc, axis=0) * rstd / N
            for off in range(0, N, BLOCK_N):
                cols = off + tl.arange(0, BLOCK_N)
                mask = cols < N
                x = tl.load(X + roff + cols, mask=mask, other=0.0).to(tl.float32)
                dy = tl.load(DY + roff + cols, mask=mask, other=0.0).to(tl.float32)
                w = tl.load(W + cols, mask=mask, other=0.0).to(tl.float32)
                xhat = x * rstd
                dx = (w * dy - xhat * c) * rstd
                tl.store(DX + roff + cols, dx.to(DX.dtype.element_ty), mask=mask)
                p = tl.load(dwp_ptr + cols, mask=mask, other=0.0)
                tl.store(dwp_ptr + cols, p + dy * xhat, mask=mask)


@triton.jit
def _dw_reduce_kernel(DWP, DW, G, N,
                      BLOCK_G: tl.constexpr, BLOCK_C: tl.constexpr):
    pid = tl.program_id(0)
    cols = pid * BLOCK_C + tl.arange(0, BLOCK_C)
    cmask = cols < N
    acc = tl.zeros([BLOCK_G, BLOCK_C], dtype=tl.float32)
    for g0 in range(0, G, BLOCK_G):
        rows = g0 + tl.arange(0, BLOCK_G)
        m = (rows[:, None] < G) & cmask[None, :]
        ptrs = DWP + rows[:, None].to(tl.int64) * N + cols[None, :]
        acc += tl.load(ptrs, mask=m, other=0.0)
    s = tl.sum(acc, axis=0)
    tl.store(DW + cols, s.to(DW.dtype.element_ty), mask=cmask)


# ----------------------------------------------------------------------------
# Host side
# ----------------------------------------------------------------------------
_SM_CACHE = {}


def _num_sms(device):
    idx = device.index if device.index is not None else torch.cuda.current_device()
    if idx not in _SM_CACHE:
        _SM_CACHE[idx] = torch.cuda.get_device_properties(idx).multi_processor_count
    return _SM_CACHE[idx]


_FWD_MAX_SINGLE = 32768
_BWD_MAX_SINGLE = 16384


def _fwd(x2, w, eps):
    M, N = x2.shape
    y = torch.empty_like(x2)
    rstd = torch.empty((M,), dtype=torch.float32, device=x2.device)
    if M == 0 or N == 0:
        if M > 0:
            rstd.fill_(0.0)
        return y, rstd
    bn = triton.next_power_of_2(N)
    if bn <= _FWD_MAX_SINGLE:
        num_warps = min(32, max(4, bn // 1024))
        _rms_fwd_kernel[(M,)](x2, w, y, rstd, N, float(eps),
                              BLOCK_N=bn, SINGLE=True, num_warps=num_warps)
    else:
        _rms_fwd_kernel[(M,)](x2, w, y, rstd, N, float(eps),
                              BLOCK_N=4096, SINGLE=False, num_warps=8)
    return y, rstd


def _bwd(dy2, x2, w, rstd):
    M, N = x2.shape
    dx = torch.empty_like(x2)
    if M == 0 or N == 0:
        dw = torch.zeros((N,), dtype=w.dtype, device=w.device)
        return dx, dw
    sms = _num_sms(x2.device)
    bn = triton.next_power_of_2(N)
    if bn <= _BWD_MAX_SINGLE:
        num_warps = min(32, max(4, bn // 512))
        G = min(M, sms * max(1, 16 // num_warps))
        dwp = torch.empty((G, N), dtype=torch.float32, device=x2.device)
        _rms_bwd_kernel[(G,)](dy2, x2, w, rstd, dx, dwp, M, N,
                              BLOCK_N=bn, SINGLE=True, num_warps=num_warps)
    else:
        G = min(M, sms * 2)
        dwp = torch.zeros((G, N), dtype=torch.float32, device=x2.device)
        _rms_bwd_kernel[(G,)](dy2, x2, w, rstd, dx, dwp, M, N,
                              BLOCK_N=2048, SINGLE=False, num_warps=8)
    dw = torch.empty((N,), dtype=w.dtype, device=w.device)
    BLOCK_C = 32
    _dw_reduce_kernel[(triton.cdiv(N, BLOCK_C),)](dwp, dw, G, N,
                                                  BLOCK_G=64, BLOCK_C=BLOCK_C,
                                                  num_warps=4)
    return dx, dw


class _RMSNormFn(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, eps):
        shape = x.shape
        N = shape[-1]
        x2 = x.contiguous().reshape(-1, N)
        w = weight.contiguous()
        y, rstd = _fwd(x2, w, eps)
        ctx.save_for_backward(x2, w, rstd)
        ctx.shape = shape
        return y.reshape(shape)

    @staticmethod
    def backward(ctx, dy):
        x2, w, rstd = ctx.saved_tensors
        N = x2.shape[-1]
        dy2 = dy.contiguous().reshape(-1, N)
        if dy2.dtype != x2.dtype:
            dy2 = dy2.to(x2.dtype)
        dx, dw = _bwd(dy2, x2, w, rstd)
        return dx.reshape(ctx.shape), dw, None


def rms_norm(x, weight, eps):
    return _RMSNormFn.apply(x, weight, eps)

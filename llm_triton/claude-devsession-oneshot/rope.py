import torch
import triton
import triton.language as tl


@triton.jit
def _rope_fused_kernel(
    q_ptr, k_ptr, qo_ptr, ko_ptr, cos_ptr, sin_ptr,
    S, HALF, D, N_SBLK,
    GROUP: tl.constexpr,
    BACKWARD: tl.constexpr,
    BLOCK_S: tl.constexpr,
    BLOCK_H: tl.constexpr,
):
    pid = tl.program_id(0)
    pid_s = pid % N_SBLK
    pid_bh = pid // N_SBLK  # = b * HK + hk

    offs_s = pid_s * BLOCK_S + tl.arange(0, BLOCK_S)
    offs_h = tl.arange(0, BLOCK_H)
    mask = (offs_s[:, None] < S) & (offs_h[None, :] < HALF)

    # cos / sin tile, loaded once and reused for 1 k head + GROUP q heads
    cs_off = offs_s[:, None] * HALF + offs_h[None, :]
    c = tl.load(cos_ptr + cs_off, mask=mask, other=0.0).to(tl.float32)
    s = tl.load(sin_ptr + cs_off, mask=mask, other=0.0).to(tl.float32)
    if BACKWARD:
        s = -s

    row_off = offs_s[:, None] * D + offs_h[None, :]
    head_sz = S.to(tl.int64) * D

    # ---- key head ----
    k_base = pid_bh.to(tl.int64) * head_sz
    kp = k_ptr + k_base + row_off
    x1 = tl.load(kp, mask=mask, other=0.0, eviction_policy="evict_first").to(tl.float32)
    x2 = tl.load(kp + HALF, mask=mask, other=0.0, eviction_policy="evict_first").to(tl.float32)
    o1 = x1 * c - x2 * s
    o2 = x2 * c + x1 * s
    kop = ko_ptr + k_base + row_off
    tl.store(kop, o1.to(ko_ptr.dtype.element_ty), mask=mask)
    tl.store(kop + HALF, o2.to(ko_ptr.dtype.element_ty), mask=mask)

    # ---- the GROUP query heads sharing this key head ----
    for g in tl.static_range(GROUP):
        q_base = (pid_bh.to(tl.int64) * GROUP + g) * head_sz
        qp = q_ptr + q_base + row_off
        y1 = tl.load(qp, mask=mask, other=0.0, eviction_policy="evict_first").to(tl.float32)
        y2 = tl.load(qp + HALF, mask=mask, other=0.0, eviction_policy="evict_first").to(tl.float32)
        p1 = y1 * c - y2 * s
        p2 = y2 * c + y1 * s
        qop = qo_ptr + q_base + row_off
        tl.store(qop, p1.to(qo_ptr.dtype.element_ty), mask=mask)
        tl.store(qop + HALF, p2.to(qo_ptr.dtype.element_ty), mask=mask)


def _launch(q, k, cos, sin, backward):
    B, H, S, D = q.shape
    HK = k.shape[1]
    GROUP = H // HK
    HALF = D // 2
    qo = torch.empty_like(q)
    ko = torch.empty_like(k)
    if q.numel() == 0 or k.numel() == 0:
        return qo, ko
    BLOCK_H = triton.next_power_of_2(HALF)
    BLOCK_S = max(1, min(triton.next_power_of_2(S), max(1, 2048 // BLOCK_H)))
    n_sblk = triton.cdiv(S, BLOCK_S)
    grid = (n_sblk * B * HK,)
    tile = BLOCK_S * BLOCK_H
    num_warps = 4 if tile >= 1024 else (2 if tile >= 256 else 1)
    _rope_fused_kernel[grid](
        q, k, qo, ko, cos, sin,
        S, HALF, D, n_sblk,
        GROUP=GROUP,
        BACKWARD=backward,
        BLOCK_S=BLOCK_S,
        BLOCK_H=BLOCK_H,
        num_warps=num_warps,
    )
    return qo, ko


class _RopeFn(torch.autograd.Function):
    @staticmethod
    def forward(ctx, q, k, cos, sin):
        q = q.contiguous()
        k = k.contiguous()
        cos = cos.contiguous()
        sin = sin.contiguous()
        ctx.save_for_backward(cos, sin)
        ctx.q_shape = q.shape
        ctx.k_shape = k.shape
        ctx.dtype = q.dtype
        return _launch(q, k, cos, sin, backward=False)

    @staticmethod
    def backward(ctx, dq, dk):
        cos, sin = ctx.saved_tensors
        if dq is None:
            dq = torch.zeros(ctx.q_shape, dtype=ctx.dtype, device=cos.device)
        if dk is None:
            dk = torch.zeros(ctx.k_shape, dtype=ctx.dtype, device=cos.device)
        dq = dq.contiguous()
        dk = dk.contiguous()
        gq, gk = _launch(dq, dk, cos, sin, backward=True)
        return gq, gk, None, None


def rope(q, k, cos, sin):
    return _RopeFn.apply(q, k, cos, sin)

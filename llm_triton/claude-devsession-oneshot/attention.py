import math

import torch
import triton
import triton.language as tl

LOG2E = 1.4426950408889634


# ----------------------------------------------------------------------------
# Forward
# ----------------------------------------------------------------------------
@triton.jit
def _attn_fwd_inner(acc, l_i, m_i, q, K, V, offs_m, offs_d, lo, hi, qk_scale,
                    HEAD_DIM: tl.constexpr, BLOCK_N: tl.constexpr, MASK: tl.constexpr):
    for start_n in range(lo, hi, BLOCK_N):
        start_n = tl.multiple_of(start_n, BLOCK_N)
        offs_n = start_n + tl.arange(0, BLOCK_N)
        k = tl.load(K + offs_n[:, None] * HEAD_DIM + offs_d[None, :])
        v = tl.load(V + offs_n[:, None] * HEAD_DIM + offs_d[None, :])
        qk = tl.dot(q, tl.trans(k))
        if MASK:
            qk = tl.where(offs_m[:, None] >= offs_n[None, :], qk * qk_scale, -1.0e6)
        else:
            qk = qk * qk_scale
        m_ij = tl.maximum(m_i, tl.max(qk, 1))
        p = tl.math.exp2(qk - m_ij[:, None])
        alpha = tl.math.exp2(m_i - m_ij)
        l_i = l_i * alpha + tl.sum(p, 1)
        acc = acc * alpha[:, None]
        acc += tl.dot(p.to(v.dtype), v)
        m_i = m_ij
    return acc, l_i, m_i


_fwd_configs = [
    triton.Config({"BLOCK_M": 128, "BLOCK_N": 64}, num_warps=8, num_stages=3),
    triton.Config({"BLOCK_M": 128, "BLOCK_N": 64}, num_warps=4, num_stages=3),
    triton.Config({"BLOCK_M": 128, "BLOCK_N": 128}, num_warps=8, num_stages=2),
    triton.Config({"BLOCK_M": 128, "BLOCK_N": 32}, num_warps=4, num_stages=4),
    triton.Config({"BLOCK_M": 64, "BLOCK_N": 64}, num_warps=4, num_stages=4),
]


@triton.autotune(configs=_fwd_configs, key=["N", "HEAD_DIM", "CAUSAL"])
@triton.jit
def _attn_fwd(Q, K, V, Out, M, qk_scale, N,
              HEAD_DIM: tl.constexpr, CAUSAL: tl.constexpr,
              BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr):
    pid = tl.program_id(0)
    off_hz = tl.program_id(1)
    if CAUSAL:
        # heaviest blocks first
        pid = tl.num_programs(0) - 1 - pid
    base = off_hz.to(tl.int64) * N * HEAD_DIM
    Q += base
    K += base
    V += base
    Out += base
    M += off_hz.to(tl.int64) * N

    start_m = pid * BLOCK_M
    offs_m = start_m + tl.arange(0, BLOCK_M)
    offs_d = tl.arange(0, HEAD_DIM)

    q = tl.load(Q + offs_m[:, None] * HEAD_DIM + offs_d[None, :])
    m_i = tl.zeros([BLOCK_M], dtype=tl.float32) - float("inf")
    l_i = tl.zeros([BLOCK_M], dtype=tl.float32)
    acc = tl.zeros([BLOCK_M, HEAD_DIM], dtype=tl.float32)

    if CAUSAL:
        # blocks fully below the diagonal: no mask
        acc, l_i, m_i = _attn_fwd_inner(acc, l_i, m_i, q, K, V, offs_m, offs_d,
                                        0, start_m, qk_scale,
                                        HEAD_DIM, BLOCK_N, False)
        # diagonal blocks: masked
        acc, l_i, m_i = _attn_fwd_inner(acc, l_i, m_i, q, K, V, offs_m, offs_d,
                                        start_m, start_m + BLOCK_M, qk_scale,
                                        HEAD_DIM, BLOCK_N, True)
    else:
        acc, l_i, m_i = _attn_fwd_inner(acc, l_i, m_i, q, K, V, offs_m, offs_d,
                                        0, N, qk_scale,
                                        HEAD_DIM, BLOCK_N, False)

    acc = acc / l_i[:, None]
    tl.store(M + offs_m, m_i + tl.math.log2(l_i))
    tl.store(Out + offs_m[:, None] * HEAD_DIM + offs_d[None, :], acc.to(Out.dtype.element_ty))


# ----------------------------------------------------------------------------
# Backward
# ----------------------------------------------------------------------------
@triton.jit
def _attn_bwd_preprocess(O, DO, Delta, N, HEAD_DIM: tl.constexpr, BLOCK: tl.constexpr):
    pid = tl.program_id(0)
    off_hz = tl.program_id(1)
    base = off_hz.to(tl.int64) * N * HEAD_DIM
    offs_m = pid * BLOCK + tl.arange(0, BLOCK)
    offs_d = tl.arange(0, HEAD_DIM)
    o = tl.load(O + base + offs_m[:, None] * HEAD_DIM + offs_d[None, :]).to(tl.float32)
    do = tl.load(DO + base + offs_m[:, None] * HEAD_DIM + offs_d[None, :]).to(tl.float32)
    delta = tl.sum(o * do, axis=1)
    tl.store(Delta + off_hz.to(tl.int64) * N + offs_m, delta)


@triton.jit
def _bwd_dkdv_inner(dk, dv, k, v, Q, DO, M, Delta, offs_n, offs_d, lo, hi, qk_scale,
                    HEAD_DIM: tl.constexpr, BLOCK_M1: tl.constexpr, MASK: tl.constexpr):
    for start_m in range(lo, hi, BLOCK_M1):
        start_m = tl.multiple_of(start_m, BLOCK_M1)
        offs_m = start_m + tl.arange(0, BLOCK_M1)
        q = tl.load(Q + offs_m[:, None] * HEAD_DIM + offs_d[None, :])
        do = tl.load(DO + offs_m[:, None] * HEAD_DIM + offs_d[None, :])
        m = tl.load(M + offs_m)
        delta = tl.load(Delta + offs_m)
        qkT = tl.dot(k, tl.trans(q))                       # [BLOCK_N1, BLOCK_M1]
        pT = tl.math.exp2(qkT * qk_scale - m[None, :])
        if MASK:
            pT = tl.where(offs_m[None, :] >= offs_n[:, None], pT, 0.0)
        dv += tl.dot(pT.to(do.dtype), do)
        dpT = tl.dot(v, tl.trans(do))                      # [BLOCK_N1, BLOCK_M1]
        dsT = pT * (dpT - delta[None, :])
        dk += tl.dot(dsT.to(q.dtype), q)
    return dk, dv


_dkdv_configs = [
    triton.Config({"BLOCK_M1": 32, "BLOCK_N1": 128}, num_warps=8, num_stages=3),
    triton.Config({"BLOCK_M1": 64, "BLOCK_N1": 128}, num_warps=8, num_stages=2),
    triton.Config({"BLOCK_M1": 32, "BLOCK_N1": 64}, num_warps=4, num_stages=3),
    triton.Config({"BLOCK_M1": 64, "BLOCK_N1": 64}, num_warps=4, num_stages=3),
]


@triton.autotune(configs=_dkdv_configs, key=["N", "HEAD_DIM", "CAUSAL"])
@triton.jit
def _attn_bwd_dkdv(Q, K, V, DO, M, Delta, DK, DV, sm_scale, qk_scale, N,
                   HEAD_DIM: tl.constexpr, CAUSAL: tl.constexpr,
                   BLOCK_M1: tl.constexpr, BLOCK_N1: tl.constexpr):
    pid = tl.program_id(0)
    off_hz = tl.program_id(1)
    base = off_hz.to(tl.int64) * N * HEAD_DIM
    Q += base
    K += base
    V += base
    DO += base
    DK += base
    DV += base
    M += off_hz.to(tl.int64) * N
    Delta += off_hz.to(tl.int64) * N

    start_n = pid * BLOCK_N1
    offs_n = start_n + tl.arange(0, BLOCK_N1)
    offs_d = tl.arange(0, HEAD_DIM)

    k = tl.load(K + offs_n[:, None] * HEAD_DIM + offs_d[None, :])
    v = tl.load(V + offs_n[:, None] * HEAD_DIM + offs_d[None, :])
    dk = tl.zeros([BLOCK_N1, HEAD_DIM], dtype=tl.float32)
    dv = tl.zeros([BLOCK_N1, HEAD_DIM], dtype=tl.float32)

    if CAUSAL:
        # diagonal query blocks (masked)
        dk, dv = _bwd_dkdv_inner(dk, dv, k, v, Q, DO, M, Delta, offs_n, offs_d,
                                 start_n, start_n + BLOCK_N1, qk_scale,
                                 HEAD_DIM, BLOCK_M1, True)
        # query blocks strictly after this key block (no mask)
        dk, dv = _bwd_dkdv_inner(dk, dv, k, v, Q, DO, M, Delta, offs_n, offs_d,
                                 start_n + BLOCK_N1, N, qk_scale,
                                 HEAD_DIM, BLOCK_M1, False)
    else:
        dk, dv = _bwd_dkdv_inner(dk, dv, k, v, Q, DO, M, Delta, offs_n, offs_d,
                                 0, N, qk_scale,
                                 HEAD_DIM, BLOCK_M1, False)

    dk = dk * sm_scale
    tl.store(DV + offs_n[:, None] * HEAD_DIM + offs_d[None, :], dv.to(DV.dtype.element_ty))
    tl.store(DK + offs_n[:, None] * HEAD_DIM + offs_d[None, :], dk.to(DK.dtype.element_ty))


@triton.jit
def _bwd_dq_inner(dq, q, do, m, delta, K, V, offs_m, offs_d, lo, hi, qk_scale,
                  HEAD_DIM: tl.constexpr, BLOCK_N2: tl.constexpr, MASK: tl.constexpr):
    for start_n in range(lo, hi, BLOCK_N2):
        start_n = tl.multiple_of(start_n, BLOCK_N2)
        offs_n = start_n + tl.arange(0, BLOCK_N2)
        k = tl.load(K + offs_n[:, None] * HEAD_DIM + offs_d[None, :])
        v = tl.load(V + offs_n[:, None] * HEAD_DIM + offs_d[None, :])
        qk = tl.dot(q, tl.trans(k))                        # [BLOCK_M2, BLOCK_N2]
        p = tl.math.exp2(qk * qk_scale - m[:, None])
        if MASK:
            p = tl.where(offs_m[:, None] >= offs_n[None, :], p, 0.0)
        dp = tl.dot(do, tl.trans(v))                       # [BLOCK_M2, BLOCK_N2]
        ds = p * (dp - delta[:, None])
        dq += tl.dot(ds.to(k.dtype), k)
    return dq


_dq_configs = [
    triton.Config({"BLOCK_M2": 128, "BLOCK_N2": 32}, num_warps=8, num_stages=3),
    triton.Config({"BLOCK_M2": 128, "BLOCK_N2": 64}, num_warps=8, num_stages=2),
    triton.Config({"BLOCK_M2": 64, "BLOCK_N2": 64}, num_warps=4, num_stages=3),
    triton.Config({"BLOCK_M2": 64, "BLOCK_N2": 32}, num_warps=4, num_stages=3),
]


@triton.autotune(configs=_dq_configs, key=["N", "HEAD_DIM", "CAUSAL"])
@triton.jit
def _attn_bwd_dq(Q, K, V, DO, M, Delta, DQ, sm_scale, qk_scale, N,
                 HEAD_DIM: tl.constexpr, CAUSAL: tl.constexpr,
                 BLOCK_M2: tl.constexpr, BLOCK_N2: tl.constexpr):
    pid = tl.program_id(0)
    off_hz = tl.program_id(1)
    if CAUSAL:
        pid = tl.num_programs(0) - 1 - pid
    base = off_hz.to(tl.int64) * N * HEAD_DIM
    Q += base
    K += base
    V += base
    DO += base
    DQ += base
    M += off_hz.to(tl.int64) * N
    Delta += off_hz.to(tl.int64) * N

    start_m = pid * BLOCK_M2
    offs_m = start_m + tl.arange(0, BLOCK_M2)
    offs_d = tl.arange(0, HEAD_DIM)

    q = tl.load(Q + offs_m[:, None] * HEAD_DIM + offs_d[None, :])
    do = tl.load(DO + offs_m[:, None] * HEAD_DIM + offs_d[None, :])
    m = tl.load(M + offs_m)
    delta = tl.load(Delta + offs_m)
    dq = tl.zeros([BLOCK_M2, HEAD_DIM], dtype=tl.float32)

    if CAUSAL:
        dq = _bwd_dq_inner(dq, q, do, m, delta, K, V, offs_m, offs_d,
                           0, start_m, qk_scale, HEAD_DIM, BLOCK_N2, False)
        dq = _bwd_dq_inner(dq, q, do, m, delta, K, V, offs_m, offs_d,
                           start_m, start_m + BLOCK_M2, qk_scale, HEAD_DIM, BLOCK_N2, True)
    else:
        dq = _bwd_dq_inner(dq, q, do, m, delta, K, V, offs_m, offs_d,
                           0, N, qk_scale, HEAD_DIM, BLOCK_N2, False)

    dq = dq * sm_scale
    tl.store(DQ + offs_m[:, None] * HEAD_DIM + offs_d[None, :], dq.to(DQ.dtype.element_ty))


# ----------------------------------------------------------------------------
# Autograd wrapper
# ----------------------------------------------------------------------------
class _Attention(torch.autograd.Function):
    @staticmethod
    def forward(ctx, q, k, v, causal, sm_scale):
        q = q.contiguous()
        k = k.contiguous()
        v = v.contiguous()
        Z, H, N, D = q.shape
        assert D in (16, 32, 64, 128, 256) and N % 128 == 0
        causal = bool(causal)
        sm_scale = float(sm_scale)
        qk_scale = sm_scale * LOG2E

        o = torch.empty_like(q)
        M = torch.empty((Z * H, N), device=q.device, dtype=torch.float32)

        grid = lambda META: (triton.cdiv(N, META["BLOCK_M"]), Z * H)
        _attn_fwd[grid](q, k, v, o, M, qk_scale, N, HEAD_DIM=D, CAUSAL=causal)

        ctx.save_for_backward(q, k, v, o, M)
        ctx.causal = causal
        ctx.sm_scale = sm_scale
        return o

    @staticmethod
    def backward(ctx, do):
        q, k, v, o, M = ctx.saved_tensors
        causal = ctx.causal
        sm_scale = ctx.sm_scale
        qk_scale = sm_scale * LOG2E
        Z, H, N, D = q.shape

        do = do.to(q.dtype).contiguous()
        dq = torch.empty_like(q)
        dk = torch.empty_like(k)
        dv = torch.empty_like(v)
        delta = torch.empty_like(M)

        PRE_BLOCK = 128
        _attn_bwd_preprocess[(N // PRE_BLOCK, Z * H)](
            o, do, delta, N, HEAD_DIM=D, BLOCK=PRE_BLOCK, num_warps=4)

        grid_kv = lambda META: (triton.cdiv(N, META["BLOCK_N1"]), Z * H)
        _attn_bwd_dkdv[grid_kv](q, k, v, do, M, delta, dk, dv, sm_scale, qk_scale, N,
                                HEAD_DIM=D, CAUSAL=causal)

        grid_q = lambda META: (triton.cdiv(N, META["BLOCK_M2"]), Z * H)
        _attn_bwd_dq[grid_q](q, k, v, do, M, delta, dq, sm_scale, qk_scale, N,
                             HEAD_DIM=D, CAUSAL=causal)

        return dq, dk, dv, None, None


def attention(q, k, v, causal=True, sm_scale=None):
    if sm_scale is None:
        sm_scale = 1.0 / math.sqrt(q.shape[-1])
    return _Attention.apply(q, k, v, causal, sm_scale)

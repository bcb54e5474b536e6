import math

import torch
import triton
import triton.language as tl

_LOG2E = 1.4426950408889634


# ----------------------------------------------------------------------------
# Forward kernel
# ----------------------------------------------------------------------------
@triton.jit
def _attn_fwd(Q, K, V, O, M, qk_scale, N_CTX,
              HEAD_DIM: tl.constexpr, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr,
              CAUSAL: tl.constexpr):
    start_m = tl.program_id(0)
    off_hz = tl.program_id(1)
    base = off_hz.to(tl.int64) * N_CTX * HEAD_DIM

    offs_m = start_m * BLOCK_M + tl.arange(0, BLOCK_M)
    offs_n = tl.arange(0, BLOCK_N)
    offs_d = tl.arange(0, HEAD_DIM)

    q = tl.load(Q + base + offs_m[:, None] * HEAD_DIM + offs_d[None, :])

    k_ptrs = K + base + offs_n[:, None] * HEAD_DIM + offs_d[None, :]
    v_ptrs = V + base + offs_n[:, None] * HEAD_DIM + offs_d[None, :]

    m_i = tl.full([BLOCK_M], float("-inf"), dtype=tl.float32)
    l_i = tl.zeros([BLOCK_M], dtype=tl.float32)
    acc = tl.zeros([BLOCK_M, HEAD_DIM], dtype=tl.float32)

    if CAUSAL:
        hi = ((start_m + 1) * BLOCK_M + BLOCK_N - 1) // BLOCK_N * BLOCK_N
    else:
        hi = N_CTX

    for start_n in range(0, hi, BLOCK_N):
        k = tl.load(k_ptrs)
        qk = tl.dot(q, tl.trans(k)) * qk_scale
        if CAUSAL:
            qk = tl.where(offs_m[:, None] >= (start_n + offs_n)[None, :], qk, float("-inf"))
        m_ij = tl.maximum(m_i, tl.max(qk, 1))
        p = tl.math.exp2(qk - m_ij[:, None])
        alpha = tl.math.exp2(m_i - m_ij)
        l_i = l_i * alpha + tl.sum(p, 1)
        acc = acc * alpha[:, None]
        v = tl.load(v_ptrs)
        acc += tl.dot(p.to(v.dtype), v)
        m_i = m_ij
        k_ptrs += BLOCK_N * HEAD_DIM
        v_ptrs += BLOCK_N * HEAD_DIM

    acc = acc / l_i[:, None]
    tl.store(M + off_hz * N_CTX + offs_m, m_i + tl.math.log2(l_i))
    tl.store(O + base + offs_m[:, None] * HEAD_DIM + offs_d[None, :],
             acc.to(O.dtype.element_ty))


# ----------------------------------------------------------------------------
# Backward kernels
# ----------------------------------------------------------------------------
@triton.jit
def _attn_bwd_preprocess(O, DO, Delta, N_CTX,
                         HEAD_DIM: tl.constexpr, BLOCK_M: tl.constexpr):
    start_m = tl.program_id(0)
    off_hz = tl.program_id(1)
    base = off_hz.to(tl.int64) * N_CTX * HEAD_DIM
    offs_m = start_m * BLOCK_M + tl.arange(0, BLOCK_M)
    offs_d = tl.arange(0, HEAD_DIM)
    ptrs = base + offs_m[:, None] * HEAD_DIM + offs_d[None, :]
    o = tl.load(O + ptrs).to(tl.float32)
    do = tl.load(DO + ptrs).to(tl.float32)
    delta = tl.sum(o * do, axis=1)
    tl.store(Delta + off_hz * N_CTX + offs_m, delta)


@triton.jit
def _attn_bwd_dkdv(Q, K, V, DO, M, Delta, DK, DV, sm_scale, qk_scale, N_CTX,
                   HEAD_DIM: tl.constexpr, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr,
                   CAUSAL: tl.constexpr):
    pid_n = tl.program_id(0)
    off_hz = tl.program_id(1)
    base = off_hz.to(tl.int64) * N_CTX * HEAD_DIM
    row_base = off_hz * N_CTX

    start_n = pid_n * BLOCK_N
    offs_n = start_n + tl.arange(0, BLOCK_N)
    offs_m0 = tl.arange(0, BLOCK_M)
    offs_d = tl.arange(0, HEAD_DIM)

    kv_off = base + offs_n[:, None] * HEAD_DIM + offs_d[None, :]
    k = tl.load(K + kv_off)
    v = tl.load(V + kv_off)

    dk = tl.zeros([BLOCK_N, HEAD_DIM], dtype=tl.float32)
    dv = tl.zeros([BLOCK_N, HEAD_DIM], dtype=tl.float32)

    if CAUSAL:
        lo = (start_n // BLOCK_M) * BLOCK_M
    else:
        lo = 0

    q_ptrs = Q + base + (lo + offs_m0)[:, None] * HEAD_DIM + offs_d[None, :]
    do_ptrs = DO + base + (lo + offs_m0)[:, None] * HEAD_DIM + offs_d[None, :]
    m_ptrs = M + row_base + lo + offs_m0
    d_ptrs = Delta + row_base + lo + offs_m0

    for start_m in range(lo, N_CTX, BLOCK_M):
        q = tl.load(q_ptrs)
        m = tl.load(m_ptrs)
        qkT = tl.dot(k, tl.trans(q))                      # [BLOCK_N, BLOCK_M]
        pT = tl.math.exp2(qkT * qk_scale - m[None, :])
        if CAUSAL:
            pT = tl.where((start_m + offs_m0)[None, :] >= offs_n[:, None], pT, 0.0)
        do = tl.load(do_ptrs)
        dv += tl.dot(pT.to(do.dtype), do)
        di = tl.load(d_ptrs)
        dpT = tl.dot(v, tl.trans(do))                     # [BLOCK_N, BLOCK_M]
        dsT = pT * (dpT - di[None, :])
        dk += tl.dot(dsT.to(q.dtype), q)
        q_ptrs += BLOCK_M * HEAD_DIM
        do_ptrs += BLOCK_M * HEAD_DIM
        m_ptrs += BLOCK_M
        d_ptrs += BLOCK_M

    dk = dk * sm_scale
    tl.store(DK + kv_off, dk.to(DK.dtype.element_ty))
    tl.store(DV + kv_off, dv.to(DV.dtype.element_ty))


@triton.jit
def _attn_bwd_dq(Q, K, V, DO, M, Delta, DQ, sm_scale, qk_scale, N_CTX,
                 HEAD_DIM: tl.constexpr, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr,
                 CAUSAL: tl.constexpr):
    start_m = tl.program_id(0)
    off_hz = tl.program_id(1)
    base = off_hz.to(tl.int64) * N_CTX * HEAD_DIM
    row_base = off_hz * N_CTX

    offs_m = start_m * BLOCK_M + tl.arange(0, BLOCK_M)
    offs_n = tl.arange(0, BLOCK_N)
    offs_d = tl.arange(0, HEAD_DIM)

    q_off = base + offs_m[:, None] * HEAD_DIM + offs_d[None, :]
    q = tl.load(Q + q_off)
    do = tl.load(DO + q_off)
    m = tl.load(M + row_base + offs_m)
    di = tl.load(Delta + row_base + offs_m)

    dq = tl.zeros([BLOCK_M, HEAD_DIM], dtype=tl.float32)

    k_ptrs = K + base + offs_n[:, None] * HEAD_DIM + offs_d[None, :]
    v_ptrs = V + base + offs_n[:, None] * HEAD_DIM + offs_d[None, :]

    if CAUSAL:
        hi = ((start_m + 1) * BLOCK_M + BLOCK_N - 1) // BLOCK_N * BLOCK_N
    else:
        hi = N_CTX

    for start_n in range(0, hi, BLOCK_N):
        k = tl.load(k_ptrs)
        v = tl.load(v_ptrs)
        qk = tl.dot(q, tl.trans(k))
        p = tl.math.exp2(qk * qk_scale - m[:, None])
        if CAUSAL:
            p = tl.where(offs_m[:, None] >= (start_n + offs_n)[None, :], p, 0.0)
        dp = tl.dot(do, tl.trans(v))
        ds = p * (dp - di[:, None])
        dq += tl.dot(ds.to(k.dtype), k)
        k_ptrs += BLOCK_N * HEAD_DIM
        v_ptrs += BLOCK_N * HEAD_DIM

    dq = dq * sm_scale
    tl.store(DQ + q_off, dq.to(DQ.dtype.element_ty))


# ----------------------------------------------------------------------------
# Autotuned variants per head dimension
# ----------------------------------------------------------------------------
def _make_cfgs(lst):
    return [triton.Config({"BLOCK_M": bm, "BLOCK_N": bn}, num_warps=w, num_stages=s)
            for (bm, bn, w, s) in lst]


_FWD_CFGS = {
    64: [(128, 128, 8, 3), (128, 64, 4, 3), (128, 64, 4, 4), (128, 128, 8, 4),
         (128, 64, 8, 3), (64, 64, 4, 3)],
    128: [(128, 128, 8, 2), (128, 64, 8, 3), (128, 64, 4, 3), (128, 128, 8, 3),
          (64, 64, 4, 3), (128, 64, 8, 2)],
    256: [(64, 32, 4, 2), (64, 64, 8, 2), (32, 32, 4, 2)],
}

_DKDV_CFGS = {
    64: [(64, 128, 8, 3), (32, 128, 4, 3), (64, 64, 4, 3), (128, 128, 8, 2),
         (64, 128, 4, 3), (32, 128, 8, 3)],
    128: [(64, 128, 8, 2), (32, 128, 8, 3), (64, 64, 4, 3), (64, 64, 8, 3),
          (32, 64, 4, 3), (64, 128, 8, 3)],
    256: [(32, 64, 8, 2), (32, 32, 4, 2)],
}

_DQ_CFGS = {
    64: [(128, 64, 4, 3), (128, 128, 8, 3), (64, 64, 4, 3), (128, 64, 8, 3),
         (64, 128, 4, 3)],
    128: [(128, 64, 8, 2), (128, 64, 8, 3), (64, 64, 4, 3), (128, 128, 8, 2),
          (64, 128, 8, 3)],
    256: [(64, 32, 8, 2), (32, 32, 4, 2)],
}

_KEY = ["N_CTX", "HEAD_DIM", "CAUSAL"]

_FWD = {d: triton.autotune(configs=_make_cfgs(c), key=_KEY)(_attn_fwd)
        for d, c in _FWD_CFGS.items()}
_DKDV = {d: triton.autotune(configs=_make_cfgs(c), key=_KEY)(_attn_bwd_dkdv)
         for d, c in _DKDV_CFGS.items()}
_DQ = {d: triton.autotune(configs=_make_cfgs(c), key=_KEY)(_attn_bwd_dq)
       for d, c in _DQ_CFGS.items()}


def _pad_last(x, dp):
    out = x.new_zeros(x.shape[:-1] + (dp,))
    out[..., : x.shape[-1]] = x
    return out


# ----------------------------------------------------------------------------
# Autograd function
# ----------------------------------------------------------------------------
class _Attention(torch.autograd.Function):
    @staticmethod
    def forward(ctx, q, k, v, causal, sm_scale):
        Z, H, N, D = q.shape
        Dp = max(64, triton.next_power_of_2(D))
        if Dp > 256:
            raise NotImplementedError("head dim > 256 not supported")
        q = q.contiguous()
        k = k.contiguous()
        v = v.contiguous()
        if Dp != D:
            q, k, v = _pad_last(q, Dp), _pad_last(k, Dp), _pad_last(v, Dp)

        o = torch.empty_like(q)
        M = torch.empty((Z * H, N), device=q.device, dtype=torch.float32)
        qk_scale = float(sm_scale) * _LOG2E
        causal = bool(causal)

        grid = lambda META: (triton.cdiv(N, META["BLOCK_M"]), Z * H)
        _FWD[Dp][grid](q, k, v, o, M, qk_scale, N, HEAD_DIM=Dp, CAUSAL=causal)

        ctx.save_for_backward(q, k, v, o, M)
        ctx.sm_scale = float(sm_scale)
        ctx.causal = causal
        ctx.D = D
        if Dp != D:
            return o[..., :D].contiguous()
        return o

    @staticmethod
    def backward(ctx, do):
        q, k, v, o, M = ctx.saved_tensors
        Z, H, N, Dp = q.shape
        D = ctx.D
        do = do.contiguous()
        if Dp != D:
            do = _pad_last(do, Dp)
        sm_scale = ctx.sm_scale
        qk_scale = sm_scale * _LOG2E
        causal = ctx.causal

        delta = torch.empty_like(M)
        pre_bm = 128 if Dp <= 128 else 32
        _attn_bwd_preprocess[(N // pre_bm, Z * H)](
            o, do, delta, N, HEAD_DIM=Dp, BLOCK_M=pre_bm, num_warps=4)

        dq = torch.empty_like(q)
        dk = torch.empty_like(k)
        dv = torch.empty_like(v)

        grid_kv = lambda META: (N // META["BLOCK_N"], Z * H)
        _DKDV[Dp][grid_kv](q, k, v, do, M, delta, dk, dv, sm_scale, qk_scale, N,
                           HEAD_DIM=Dp, CAUSAL=causal)

        grid_q = lambda META: (N // META["BLOCK_M"], Z * H)
        _DQ[Dp][grid_q](q, k, v, do, M, delta, dq, sm_scale, qk_scale, N,
                        HEAD_DIM=Dp, CAUSAL=causal)

        if Dp != D:
            dq = dq[..., :D].contiguous()
            dk = dk[..., :D].contiguous()
            dv = dv[..., :D].contiguous()
        return dq, dk, dv, None, None


def attention(q, k, v, causal=False, sm_scale=None):
    """softmax(q @ k^T * sm_scale) @ v, differentiable in q, k, v (Triton FlashAttention)."""
    if sm_scale is None:
        sm_scale = 1.0 / math.sqrt(q.shape[-1])
    return _Attention.apply(q, k, v, causal, sm_scale)

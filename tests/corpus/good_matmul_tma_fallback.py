"""Good (issue 16's false rejection): a TMA fast path (host tensor descriptors, Hopper and later) whose try/except
falls back to a second, plain Triton kernel where TMA cannot be used (no descriptor support, strides not 16-byte
aligned, an older GPU), plus an optional import. Neither handler calls PyTorch's matmul."""

import torch
import triton
import triton.language as tl

try:
    from triton.tools.tensor_descriptor import TensorDescriptor
except ImportError:  # an older Triton: the plain kernel only
    TensorDescriptor = None

BM, BN, BK = 64, 64, 32


@triton.jit
def tma_matmul(a_desc, b_desc, c_ptr, M, N, K, stride_cm, BM: tl.constexpr, BN: tl.constexpr, BK: tl.constexpr):
    pid_m = tl.program_id(0)
    pid_n = tl.program_id(1)
    acc = tl.zeros((BM, BN), dtype=tl.float32)
    for k in range(0, K, BK):
        a = a_desc.load([pid_m * BM, k])
        b = b_desc.load([k, pid_n * BN])
        acc += tl.dot(a, b)
    rows = pid_m * BM + tl.arange(0, BM)
    cols = pid_n * BN + tl.arange(0, BN)
    mask = (rows[:, None] < M) & (cols[None, :] < N)
    tl.store(c_ptr + rows[:, None] * stride_cm + cols[None, :], acc.to(c_ptr.dtype.element_ty), mask=mask)


@triton.jit
def plain_matmul(a_ptr, b_ptr, c_ptr, M, N, K, sam, sak, sbk, sbn, scm, scn,
                 BM: tl.constexpr, BN: tl.constexpr, BK: tl.constexpr):
    pid_m = tl.program_id(0)
    pid_n = tl.program_id(1)
    rows = pid_m * BM + tl.arange(0, BM)
    cols = pid_n * BN + tl.arange(0, BN)
    ks = tl.arange(0, BK)
    acc = tl.zeros((BM, BN), dtype=tl.float32)
    for k in range(0, K, BK):
        a = tl.load(a_ptr + rows[:, None] * sam + (k + ks)[None, :] * sak,
                    mask=(rows[:, None] < M) & ((k + ks)[None, :] < K), other=0.0)
        b = tl.load(b_ptr + (k + ks)[:, None] * sbk + cols[None, :] * sbn,
                    mask=((k + ks)[:, None] < K) & (cols[None, :] < N), other=0.0)
        acc += tl.dot(a, b)
    mask = (rows[:, None] < M) & (cols[None, :] < N)
    tl.store(c_ptr + rows[:, None] * scm + cols[None, :] * scn, acc.to(c_ptr.dtype.element_ty), mask=mask)


def _tma(a, b, c):
    if TensorDescriptor is None or a.device.type != "cuda" or torch.cuda.get_device_capability(a.device)[0] < 9:
        raise RuntimeError("no TMA here")
    a_desc = TensorDescriptor.from_tensor(a, [BM, BK])  # raises where the strides are not 16-byte aligned
    b_desc = TensorDescriptor.from_tensor(b, [BK, BN])
    grid = (triton.cdiv(a.shape[0], BM), triton.cdiv(b.shape[1], BN))
    tma_matmul[grid](a_desc, b_desc, c, a.shape[0], b.shape[1], a.shape[1], c.stride(0), BM=BM, BN=BN, BK=BK)


def matmul(a, b):
    c = torch.empty((a.shape[0], b.shape[1]), dtype=a.dtype, device=a.device)
    try:
        _tma(a, b, c)
    except Exception:  # a defensive fallback, to another Triton kernel
        grid = (triton.cdiv(a.shape[0], BM), triton.cdiv(b.shape[1], BN))
        plain_matmul[grid](a, b, c, a.shape[0], b.shape[1], a.shape[1], a.stride(0), a.stride(1),
                           b.stride(0), b.stride(1), c.stride(0), c.stride(1), BM=BM, BN=BN, BK=BK)
    return c

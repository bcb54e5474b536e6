import torch
import triton
import triton.language as tl


def _configs():
    cfgs = []
    # (BLOCK_M, BLOCK_N, BLOCK_K, num_warps, num_stages)
    # Tiles are chosen so that accumulator + fp32 promotion accumulator fit in registers.
    for bm, bn, bk, w, s in [
        (128, 128, 128, 8, 4),
        (128, 128, 128, 8, 3),
        (64, 256, 128, 8, 3),
        (128, 64, 128, 4, 4),
        (64, 128, 128, 4, 4),
        (64, 64, 128, 4, 4),
        (128, 128, 64, 8, 5),
    ]:
        cfgs.append(
            triton.Config(
                {"BLOCK_M": bm, "BLOCK_N": bn, "BLOCK_K": bk, "GROUP_M": 8},
                num_warps=w,
                num_stages=s,
            )
        )
    return cfgs


@triton.autotune(configs=_configs(), key=["M", "N", "K"])
@triton.jit
def _matmul_fp8_kernel(
    a_ptr, b_ptr, c_ptr,
    M, N, K,
    stride_am, stride_ak,
    stride_bn, stride_bk,
    stride_cm, stride_cn,
    BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, BLOCK_K: tl.constexpr,
    GROUP_M: tl.constexpr,
):
    pid = tl.program_id(0)
    num_pid_m = tl.cdiv(M, BLOCK_M)
    num_pid_n = tl.cdiv(N, BLOCK_N)
    num_pid_in_group = GROUP_M * num_pid_n
    group_id = pid // num_pid_in_group
    first_pid_m = group_id * GROUP_M
    group_size_m = min(num_pid_m - first_pid_m, GROUP_M)
    pid_m = first_pid_m + ((pid % num_pid_in_group) % group_size_m)
    pid_n = (pid % num_pid_in_group) // group_size_m

    offs_m = pid_m * BLOCK_M + tl.arange(0, BLOCK_M)
    offs_n = pid_n * BLOCK_N + tl.arange(0, BLOCK_N)
    # Wrap out-of-range rows/cols so loads need no M/N mask (stores are masked).
    offs_am = offs_m % M
    offs_bn = offs_n % N
    offs_k = tl.arange(0, BLOCK_K)

    # A tile: [BLOCK_M, BLOCK_K], K contiguous.
    a_ptrs = a_ptr + offs_am[:, None] * stride_am + offs_k[None, :] * stride_ak
    # B tile: [BLOCK_K, BLOCK_N] read from b_t[N, K] -> K contiguous (K-major for wgmma).
    b_ptrs = b_ptr + offs_k[:, None] * stride_bk + offs_bn[None, :] * stride_bn

    acc = tl.zeros((BLOCK_M, BLOCK_N), dtype=tl.float32)

    k_tiles = K // BLOCK_K
    for _ in range(0, k_tiles):
        a = tl.load(a_ptrs)
        b = tl.load(b_ptrs)
        acc = tl.dot(a, b, acc, max_num_imprecise_acc=BLOCK_K, out_dtype=tl.float32)
        a_ptrs += BLOCK_K * stride_ak
        b_ptrs += BLOCK_K * stride_bk

    k_rem = K - k_tiles * BLOCK_K
    if k_rem > 0:
        a = tl.load(a_ptrs, mask=offs_k[None, :] < k_rem, other=0.0)
        b = tl.load(b_ptrs, mask=offs_k[:, None] < k_rem, other=0.0)
        acc = tl.dot(a, b, acc, max_num_imprecise_acc=BLOCK_K, out_dtype=tl.float32)

    c = acc.to(tl.float16)
    c_ptrs = c_ptr + offs_m[:, None] * stride_cm + offs_n[None, :] * stride_cn
    c_mask = (offs_m[:, None] < M) & (offs_n[None, :] < N)
    tl.store(c_ptrs, c, mask=c_mask)


def matmul_fp8(a: torch.Tensor, b_t: torch.Tensor) -> torch.Tensor:
    assert a.dim() == 2 and b_t.dim() == 2, "expected 2-D operands"
    M, K = a.shape
    N, Kb = b_t.shape
    assert K == Kb, "inner dimensions must match"
    if not a.is_contiguous():
        a = a.contiguous()
    if not b_t.is_contiguous():
        b_t = b_t.contiguous()

    c = torch.empty((M, N), device=a.device, dtype=torch.float16)
    if M == 0 or N == 0:
        return c

    grid = lambda META: (
        triton.cdiv(M, META["BLOCK_M"]) * triton.cdiv(N, META["BLOCK_N"]),
    )
    _matmul_fp8_kernel[grid](
        a, b_t, c,
        M, N, K,
        a.stride(0), a.stride(1),
        b_t.stride(0), b_t.stride(1),
        c.stride(0), c.stride(1),
    )
    return c

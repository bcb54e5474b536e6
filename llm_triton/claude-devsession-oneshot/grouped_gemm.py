import torch
import triton
import triton.language as tl


def _configs():
    cfgs = []
    # (BM, BN, BK, stages, warps)
    for bm, bn, bk, s, w in [
        (128, 256, 64, 3, 8),
        (128, 256, 64, 4, 8),
        (128, 256, 32, 4, 8),
        (128, 128, 64, 4, 8),
        (128, 128, 64, 4, 4),
        (128, 128, 32, 4, 4),
        (128, 128, 32, 5, 8),
        (64, 128, 64, 4, 4),
        (64, 128, 32, 4, 4),
        (128, 64, 64, 4, 4),
        (64, 64, 32, 4, 4),
    ]:
        cfgs.append(
            triton.Config(
                {"BLOCK_M": bm, "BLOCK_N": bn, "BLOCK_K": bk, "GROUP_M": 8},
                num_stages=s,
                num_warps=w,
            )
        )
    return cfgs


def _prune(configs, named_args, **kwargs):
    N = named_args["N"]
    K = named_args["K"]
    Ms = [named_args["M0"], named_args["M1"], named_args["M2"], named_args["M3"]]
    out = []
    for c in configs:
        bm = c.kwargs["BLOCK_M"]
        bn = c.kwargs["BLOCK_N"]
        bk = c.kwargs["BLOCK_K"]
        if N % bn != 0 or K % bk != 0:
            continue
        if any(m % bm != 0 for m in Ms):
            continue
        out.append(c)
    if not out:
        raise ValueError("grouped_gemm: unsupported problem sizes")
    return out


@triton.autotune(
    configs=_configs(),
    key=["M0", "N", "K"],
    prune_configs_by={"early_config_prune": _prune},
)
@triton.jit
def _grouped_gemm_kernel(
    a0, a1, a2, a3,
    b0, b1, b2, b3,
    c0, c1, c2, c3,
    M0, M1, M2, M3,
    N, K,
    BLOCK_M: tl.constexpr,
    BLOCK_N: tl.constexpr,
    BLOCK_K: tl.constexpr,
    GROUP_M: tl.constexpr,
):
    pid = tl.program_id(0)
    num_pid_n = N // BLOCK_N

    t0 = (M0 // BLOCK_M) * num_pid_n
    t1 = t0 + (M1 // BLOCK_M) * num_pid_n
    t2 = t1 + (M2 // BLOCK_M) * num_pid_n

    # Select the group this tile belongs to (scalar branches).
    if pid < t0:
        a_ptr = a0
        b_ptr = b0
        c_ptr = c0
        Mg = M0
        local = pid
    elif pid < t1:
        a_ptr = a1
        b_ptr = b1
        c_ptr = c1
        Mg = M1
        local = pid - t0
    elif pid < t2:
        a_ptr = a2
        b_ptr = b2
        c_ptr = c2
        Mg = M2
        local = pid - t1
    else:
        a_ptr = a3
        b_ptr = b3
        c_ptr = c3
        Mg = M3
        local = pid - t2

    # Grouped (swizzled) ordering inside this group for L2 reuse.
    num_pid_m = Mg // BLOCK_M
    num_pid_in_group = GROUP_M * num_pid_n
    group_id = local // num_pid_in_group
    first_pid_m = group_id * GROUP_M
    group_size_m = tl.minimum(num_pid_m - first_pid_m, GROUP_M)
    pid_m = first_pid_m + ((local % num_pid_in_group) % group_size_m)
    pid_n = (local % num_pid_in_group) // group_size_m

    row0 = (pid_m * BLOCK_M).to(tl.int64)
    col0 = pid_n * BLOCK_N

    offs_m = tl.arange(0, BLOCK_M)
    offs_n = tl.arange(0, BLOCK_N)
    offs_k = tl.arange(0, BLOCK_K)

    a_base = a_ptr + row0 * K
    b_base = b_ptr + col0
    a_ptrs = a_base + offs_m[:, None] * K + offs_k[None, :]
    b_ptrs = b_base + offs_k[:, None] * N + offs_n[None, :]

    acc = tl.zeros((BLOCK_M, BLOCK_N), dtype=tl.float32)
    for _ in range(0, K // BLOCK_K):
        a = tl.load(a_ptrs)
        b = tl.load(b_ptrs)
        acc = tl.dot(a, b, acc)
        a_ptrs += BLOCK_K
        b_ptrs += BLOCK_K * N

    c = acc.to(tl.float16)
    c_base = c_ptr + row0 * N + col0
    c_ptrs = c_base + offs_m[:, None] * N + offs_n[None, :]
    tl.store(c_ptrs, c)


def group_gemm(group_a, group_b):
    assert len(group_a) == 4 and len(group_b) == 4
    K = group_a[0].shape[1]
    N = group_b[0].shape[1]
    Ms = []
    for a, b in zip(group_a, group_b):
        assert a.is_contiguous() and b.is_contiguous()
        assert a.shape[1] == K and b.shape[0] == K and b.shape[1] == N
        Ms.append(a.shape[0])

    outs = [torch.empty((m, N), device=a.device, dtype=torch.float16)
            for m, a in zip(Ms, group_a)]

    def grid(meta):
        bm = meta["BLOCK_M"]
        bn = meta["BLOCK_N"]
        tiles = sum(m // bm for m in Ms) * (N // bn)
        return (tiles,)

    _grouped_gemm_kernel[grid](
        group_a[0], group_a[1], group_a[2], group_a[3],
        group_b[0], group_b[1], group_b[2], group_b[3],
        outs[0], outs[1], outs[2], outs[3],
        Ms[0], Ms[1], Ms[2], Ms[3],
        N, K,
    )
    return outs

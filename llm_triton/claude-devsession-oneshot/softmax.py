import torch
import triton
import triton.language as tl

# Rows whose (power-of-two padded) length is at most this many fp32 elements are
# processed entirely in registers (one read of x, one write of y).  Longer rows
# fall back to an online-softmax kernel that streams the row in chunks.
_MAX_SINGLE_BLOCK = 16384
_ONLINE_BLOCK = 4096

_SM_COUNT_CACHE = {}


def _sm_count(device: torch.device) -> int:
    idx = device.index if device.index is not None else torch.cuda.current_device()
    n = _SM_COUNT_CACHE.get(idx)
    if n is None:
        n = torch.cuda.get_device_properties(idx).multi_processor_count
        _SM_COUNT_CACHE[idx] = n
    return n


@triton.jit
def _softmax_rows_kernel(
    x_ptr, y_ptr, M, N, stride_xm, stride_ym,
    BLOCK_N: tl.constexpr,
):
    # Persistent kernel: each program walks over rows pid, pid + nprog, ...
    # and keeps one whole row in registers.
    pid = tl.program_id(0)
    nprog = tl.num_programs(0)
    cols = tl.arange(0, BLOCK_N)
    mask = cols < N
    for row in range(pid, M, nprog):
        row64 = row.to(tl.int64)
        x = tl.load(x_ptr + row64 * stride_xm + cols, mask=mask, other=float("-inf"))
        row_max = tl.max(x, axis=0)
        # exp(z) == exp2(z * log2(e)); padded lanes give exp2(-inf) == 0.
        e = tl.exp2((x - row_max) * 1.4426950408889634)
        denom = tl.sum(e, axis=0)
        y = e * (1.0 / denom)
        tl.store(y_ptr + row64 * stride_ym + cols, y, mask=mask)


@triton.jit
def _softmax_online_kernel(
    x_ptr, y_ptr, M, N, stride_xm, stride_ym,
    BLOCK_N: tl.constexpr,
):
    # One program per (very long) row: pass 1 computes a per-lane running max and
    # rescaled running sum (online softmax), pass 2 writes the normalised output.
    row = tl.program_id(0).to(tl.int64)
    x_row = x_ptr + row * stride_xm
    y_row = y_ptr + row * stride_ym
    cols = tl.arange(0, BLOCK_N)

    m_vec = tl.full([BLOCK_N], float("-inf"), tl.float32)
    s_vec = tl.zeros([BLOCK_N], dtype=tl.float32)
    for start in range(0, N, BLOCK_N):
        offs = start + cols
        x = tl.load(x_row + offs, mask=offs < N, other=float("-inf"))
        new_m = tl.maximum(m_vec, x)
        # Avoid (-inf) - (-inf) = nan for lanes that have not seen a valid value yet.
        safe_m = tl.where(new_m == float("-inf"), 0.0, new_m)
        s_vec = s_vec * tl.exp2((m_vec - safe_m) * 1.4426950408889634) \
            + tl.exp2((x - safe_m) * 1.4426950408889634)
        m_vec = new_m

    row_max = tl.max(m_vec, axis=0)
    denom = tl.sum(s_vec * tl.exp2((m_vec - row_max) * 1.4426950408889634), axis=0)
    inv = 1.0 / denom

    for start in range(0, N, BLOCK_N):
        offs = start + cols
        mask = offs < N
        x = tl.load(x_row + offs, mask=mask, other=float("-inf"))
        y = tl.exp2((x - row_max) * 1.4426950408889634) * inv
        tl.store(y_row + offs, y, mask=mask)


def softmax(x: torch.Tensor) -> torch.Tensor:
    assert x.dim() == 2, "softmax expects a 2-D tensor"
    if not x.is_contiguous():
        x = x.contiguous()
    M, N = x.shape
    y = torch.empty_like(x)
    if M == 0 or N == 0:
        return y

    BLOCK_N = max(triton.next_power_of_2(N), 32)
    if BLOCK_N <= _MAX_SINGLE_BLOCK:
        if BLOCK_N <= 1024:
            num_warps = 4
        elif BLOCK_N <= 4096:
            num_warps = 8
        else:
            num_warps = 16
        ctas_per_sm = max(1, 32 // num_warps)
        n_prog = min(M, _sm_count(x.device) * ctas_per_sm)
        _softmax_rows_kernel[(n_prog,)](
            x, y, M, N, x.stride(0), y.stride(0),
            BLOCK_N=BLOCK_N, num_warps=num_warps,
        )
    else:
        _softmax_online_kernel[(M,)](
            x, y, M, N, x.stride(0), y.stride(0),
            BLOCK_N=_ONLINE_BLOCK, num_warps=8,
        )
    return y

import torch
import triton
import triton.language as tl

# Fixed (NOT autotuned) so that the mask is a pure function of (seed, element index).
_BLOCK = 4096
_NUM_WARPS = 8


@triton.jit
def _dropout_apply(x_ptr, y_ptr, offs, N, r, thresh, scale, EVEN: tl.constexpr):
    # r: uint32 random bits. Map to signed order-preserving int32 by flipping the sign bit.
    rs = r.to(tl.int32, bitcast=True) ^ -2147483648
    keep = rs >= thresh
    if EVEN:
        x = tl.load(x_ptr + offs, eviction_policy="evict_first")
        y = tl.where(keep, x * scale, 0.0)
        tl.store(y_ptr + offs, y, cache_modifier=".cs")
    else:
        m = offs < N
        x = tl.load(x_ptr + offs, mask=m, other=0.0, eviction_policy="evict_first")
        y = tl.where(keep, x * scale, 0.0)
        tl.store(y_ptr + offs, y, mask=m, cache_modifier=".cs")


@triton.jit
def _dropout_kernel(x_ptr, y_ptr, N, seed, thresh, scale,
                    BLOCK: tl.constexpr, EVEN: tl.constexpr):
    pid = tl.program_id(0)
    Q: tl.constexpr = BLOCK // 4
    i = tl.arange(0, Q)
    # Philox counters: one per group of 4 elements (one from each sub-block).
    ctr = pid * Q + i
    r0, r1, r2, r3 = tl.randint4x(seed, ctr)

    base = pid.to(tl.int64) * BLOCK
    o0 = base + i
    _dropout_apply(x_ptr, y_ptr, o0, N, r0, thresh, scale, EVEN)
    _dropout_apply(x_ptr, y_ptr, o0 + Q, N, r1, thresh, scale, EVEN)
    _dropout_apply(x_ptr, y_ptr, o0 + 2 * Q, N, r2, thresh, scale, EVEN)
    _dropout_apply(x_ptr, y_ptr, o0 + 3 * Q, N, r3, thresh, scale, EVEN)


def dropout(x: torch.Tensor, p: float, seed: int) -> torch.Tensor:
    assert x.is_cuda and x.dtype == torch.float32
    x = x.contiguous()
    y = torch.empty_like(x)
    N = x.numel()
    if N == 0:
        return y

    p = float(p)
    if p >= 1.0:
        # Everything dropped: threshold above every possible value, scale 0.
        t = (1 << 32) - 1
        scale = 0.0
    else:
        if p <= 0.0:
            t = 0
        else:
            t = int(p * 4294967296.0)
            t = max(0, min(t, (1 << 32) - 1))
        scale = 1.0 / (1.0 - p)
    # Signed-shifted threshold (matches the sign-bit flip in the kernel).
    thresh = t - (1 << 31)

    grid = (triton.cdiv(N, _BLOCK),)
    _dropout_kernel[grid](
        x, y, N, int(seed), thresh, scale,
        BLOCK=_BLOCK, EVEN=(N % _BLOCK == 0),
        num_warps=_NUM_WARPS,
    )
    return y

import torch
import triton
import triton.language as tl


@triton.jit
def _stable_sigmoid(x):
    # x is fp32. exp(-|x|) is in (0, 1], so nothing overflows.
    z = tl.exp(-tl.abs(x))
    inv = 1.0 / (1.0 + z)
    return tl.where(x >= 0, inv, z * inv)


@triton.jit
def _swiglu_fwd_kernel(a_ptr, b_ptr, y_ptr, n_elements, BLOCK: tl.constexpr):
    pid = tl.program_id(0).to(tl.int64)
    offs = pid * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n_elements
    a = tl.load(a_ptr + offs, mask=mask, other=0.0, eviction_policy="evict_first").to(tl.float32)
    b = tl.load(b_ptr + offs, mask=mask, other=0.0, eviction_policy="evict_first").to(tl.float32)
    s = _stable_sigmoid(a)
    y = a * s * b
    tl.store(y_ptr + offs, y.to(y_ptr.dtype.element_ty), mask=mask)


@triton.jit
def _swiglu_bwd_kernel(a_ptr, b_ptr, dy_ptr, da_ptr, db_ptr, n_elements,
                       BLOCK: tl.constexpr):
    pid = tl.program_id(0).to(tl.int64)
    offs = pid * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n_elements
    a = tl.load(a_ptr + offs, mask=mask, other=0.0, eviction_policy="evict_first").to(tl.float32)
    b = tl.load(b_ptr + offs, mask=mask, other=0.0, eviction_policy="evict_first").to(tl.float32)
    dy = tl.load(dy_ptr + offs, mask=mask, other=0.0, eviction_policy="evict_first").to(tl.float32)
    s = _stable_sigmoid(a)
    silu = a * s
    # d silu / da = s + a * s * (1 - s) = s * (1 + a * (1 - s))
    dsilu = s * (1.0 + a * (1.0 - s))
    da = dy * b * dsilu
    db = dy * silu
    tl.store(da_ptr + offs, da.to(da_ptr.dtype.element_ty), mask=mask)
    tl.store(db_ptr + offs, db.to(db_ptr.dtype.element_ty), mask=mask)


_BLOCK = 4096
_NUM_WARPS = 8


def _grid(n):
    return (triton.cdiv(n, _BLOCK),)


class _SwiGLUFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, a, b):
        assert a.shape == b.shape, "a and b must have the same shape"
        a_c = a.contiguous()
        b_c = b.contiguous()
        y = torch.empty_like(a_c)
        n = a_c.numel()
        if n > 0:
            _swiglu_fwd_kernel[_grid(n)](
                a_c, b_c, y, n, BLOCK=_BLOCK, num_warps=_NUM_WARPS
            )
        ctx.save_for_backward(a_c, b_c)
        return y

    @staticmethod
    def backward(ctx, dy):
        a, b = ctx.saved_tensors
        dy_c = dy.contiguous()
        if dy_c.dtype != a.dtype:
            dy_c = dy_c.to(a.dtype)
        da = torch.empty_like(a)
        db = torch.empty_like(b)
        n = a.numel()
        if n > 0:
            _swiglu_bwd_kernel[_grid(n)](
                a, b, dy_c, da, db, n, BLOCK=_BLOCK, num_warps=_NUM_WARPS
            )
        return da, db


def swiglu(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """SwiGLU gate: silu(a) * b, computed in Triton (forward and backward)."""
    return _SwiGLUFunction.apply(a, b)

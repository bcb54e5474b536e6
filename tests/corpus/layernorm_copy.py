"""Numerics (issue 16, item 3): a copy kernel offered as LayerNorm, which passes only where the inputs are already
normalised and weight and bias are near the identity (a hack seen in a public benchmark in 2026). The manifest's
input distributions (large mean, small variance, non-trivial weight and bias) make it fail for sure."""

import torch
import triton
import triton.language as tl


@triton.jit
def copy_rows(out_ptr, in_ptr, n, BLOCK: tl.constexpr):
    offsets = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    tl.store(out_ptr + offsets, tl.load(in_ptr + offsets, mask=offsets < n), mask=offsets < n)


class Copy(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, bias):
        y = torch.empty_like(x)
        copy_rows[(triton.cdiv(x.numel(), 1024),)](y, x, x.numel(), BLOCK=1024)
        ctx.shape = weight.shape
        return y

    @staticmethod
    def backward(ctx, dy):
        dx = torch.empty_like(dy)
        copy_rows[(triton.cdiv(dy.numel(), 1024),)](dx, dy.contiguous(), dy.numel(), BLOCK=1024)
        zeros = torch.zeros(ctx.shape, dtype=dy.dtype, device=dy.device)
        return dx, zeros, zeros.clone()


def layer_norm(x, normalized_shape, weight, bias, eps):
    return Copy.apply(x.contiguous(), weight, bias)

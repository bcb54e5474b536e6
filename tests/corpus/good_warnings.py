"""Good: warns at import and on every call, and prints to both streams."""

import sys
import warnings

import torch
import triton
import triton.language as tl

warnings.warn("this softmax assumes a contiguous last dimension", stacklevel=1)
print("softmax candidate loaded", file=sys.stderr)


@triton.jit
def row_softmax(out_ptr, in_ptr, n_cols, in_stride, out_stride, BLOCK: tl.constexpr):
    row = tl.program_id(0)
    cols = tl.arange(0, BLOCK)
    mask = cols < n_cols
    x = tl.load(in_ptr + row * in_stride + cols, mask=mask, other=-float("inf"))
    e = tl.exp(x - tl.max(x, axis=0))
    tl.store(out_ptr + row * out_stride + cols, e / tl.sum(e, axis=0), mask=mask)


def softmax(x):
    if not x.is_contiguous():
        warnings.warn("making the input contiguous", stacklevel=2)
        x = x.contiguous()
    warnings.warn(f"softmax of a {tuple(x.shape)} matrix", RuntimeWarning, stacklevel=2)
    print(f"softmax {tuple(x.shape)}")
    y = torch.empty_like(x)
    row_softmax[(x.shape[0],)](y, x, x.shape[1], x.stride(0), y.stride(0), BLOCK=triton.next_power_of_2(x.shape[1]))
    return y

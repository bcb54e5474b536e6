"""Reads far outside its input: an illegal memory access on the GPU."""

import torch
import triton
import triton.language as tl


@triton.jit
def bad_load(out_ptr, in_ptr):
    offsets = tl.arange(0, 16)
    x = tl.load(in_ptr + (1 << 40) + offsets)
    tl.store(out_ptr + offsets, x)


def softmax(x):
    y = torch.empty_like(x)
    bad_load[(1,)](y, x)
    return y

"""A kernel that never terminates: the compile/call timeout."""

import torch
import triton
import triton.language as tl


@triton.jit
def spin(out_ptr, n):
    i = 0
    while i < n:
        i = i * 1
        tl.store(out_ptr, i)


def softmax(x):
    y = torch.empty_like(x)
    spin[(1,)](y, 1)
    return y

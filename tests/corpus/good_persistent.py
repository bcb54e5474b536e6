"""Good: a persistent kernel, a fixed number of programs each looping over rows."""

import torch
import triton
import triton.language as tl

PROGRAMS = 4


@triton.jit
def persistent_softmax(out_ptr, in_ptr, n_rows, n_cols, in_stride, out_stride, BLOCK: tl.constexpr):
    first = tl.program_id(0)
    step = tl.num_programs(0)
    cols = tl.arange(0, BLOCK)
    mask = cols < n_cols
    for row in tl.range(first, n_rows, step):
        x = tl.load(in_ptr + row * in_stride + cols, mask=mask, other=-float("inf"))
        e = tl.exp(x - tl.max(x, axis=0))
        tl.store(out_ptr + row * out_stride + cols, e / tl.sum(e, axis=0), mask=mask)


def softmax(x):
    y = torch.empty_like(x)
    grid = (min(PROGRAMS, x.shape[0]),)
    persistent_softmax[grid](y, x, x.shape[0], x.shape[1], x.stride(0), y.stride(0),
                             BLOCK=triton.next_power_of_2(x.shape[1]))
    return y

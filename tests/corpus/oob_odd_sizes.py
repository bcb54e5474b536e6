"""Reads whole power-of-two blocks without a mask (only the store is masked): right where a row is a power of two
long, wrong elsewhere, where each row reads into the next one's values (and past the end at the last row). Wrong
values come first: wrong_result naming the check, not a rejection for the reads' side effects."""

import torch
import triton
import triton.language as tl


@triton.jit
def unmasked_softmax(out_ptr, in_ptr, n_cols, in_stride, out_stride, BLOCK: tl.constexpr):
    row = tl.program_id(0)
    cols = tl.arange(0, BLOCK)
    x = tl.load(in_ptr + row * in_stride + cols)  # no mask: reads past the row
    e = tl.exp(x - tl.max(x, axis=0))
    tl.store(out_ptr + row * out_stride + cols, e / tl.sum(e, axis=0), mask=cols < n_cols)


def softmax(x):
    y = torch.empty_like(x)
    unmasked_softmax[(x.shape[0],)](y, x, x.shape[1], x.stride(0), y.stride(0),
                                    BLOCK=triton.next_power_of_2(x.shape[1]))
    return y

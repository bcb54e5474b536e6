"""Good: the kernel registered as a torch.library custom op (as torch.compile-friendly code does), called through
the dispatcher."""

import torch
import triton
import triton.language as tl


@triton.jit
def row_softmax(out_ptr, in_ptr, n_cols, in_stride, out_stride, BLOCK: tl.constexpr):
    row = tl.program_id(0)
    cols = tl.arange(0, BLOCK)
    mask = cols < n_cols
    x = tl.load(in_ptr + row * in_stride + cols, mask=mask, other=-float("inf"))
    e = tl.exp(x - tl.max(x, axis=0))
    tl.store(out_ptr + row * out_stride + cols, e / tl.sum(e, axis=0), mask=mask)


@torch.library.custom_op("tritonize_corpus::row_softmax", mutates_args=())
def row_softmax_op(x: torch.Tensor) -> torch.Tensor:
    y = torch.empty_like(x)
    row_softmax[(x.shape[0],)](y, x, x.shape[1], x.stride(0), y.stride(0), BLOCK=triton.next_power_of_2(x.shape[1]))
    return y


@row_softmax_op.register_fake
def _(x):
    return torch.empty_like(x)


def softmax(x):
    return row_softmax_op(x)

"""A kernel that does not compile: tl.arange needs constexpr bounds, and n_cols is a runtime argument.

Under the Triton interpreter nothing is compiled: the same mistake raises an InterpreterError when the kernel runs.
"""

import torch
import triton
import triton.language as tl


@triton.jit
def softmax_kernel(out_ptr, in_ptr, n_cols, in_stride, out_stride):
    row = tl.program_id(0)
    cols = tl.arange(0, n_cols)
    x = tl.load(in_ptr + row * in_stride + cols)
    numerator = tl.exp(x - tl.max(x, axis=0))
    tl.store(out_ptr + row * out_stride + cols, numerator / tl.sum(numerator, axis=0))


def softmax(x: torch.Tensor) -> torch.Tensor:
    n_rows, n_cols = x.shape
    y = torch.empty_like(x)
    softmax_kernel[(n_rows,)](y, x, n_cols, x.stride(0), y.stride(0))
    return y

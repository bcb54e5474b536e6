"""Each call is within the tolerance of the reference, but two calls on the same input
are further apart than the tolerance (alternately 0.9 tolerance above and below): rejected:deterministic, since no
value is wrong."""

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


def kernel_softmax(x):
    y = torch.empty_like(x)
    row_softmax[(x.shape[0],)](y, x, x.shape[1], x.stride(0), y.stride(0), BLOCK=triton.next_power_of_2(x.shape[1]))
    return y



_calls = [0]
ATOL, RTOL = 1e-6, 1e-4  # the task's tolerance for y


def softmax(x):
    _calls[0] += 1
    sign = 1.0 if _calls[0] % 2 else -1.0
    y = kernel_softmax(x)
    return y + sign * 0.9 * (ATOL + RTOL * y.abs())

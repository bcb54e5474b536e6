"""Good: handles dtypes and layouts the task does not test (float16, bfloat16, float64, non-contiguous input),
accumulating in float32 and refusing integer inputs with a clear error."""

import torch
import triton
import triton.language as tl

SUPPORTED = (torch.float16, torch.bfloat16, torch.float32, torch.float64)


@triton.jit
def row_softmax(out_ptr, in_ptr, n_cols, in_stride, out_stride, BLOCK: tl.constexpr, WIDE: tl.constexpr):
    row = tl.program_id(0)
    cols = tl.arange(0, BLOCK)
    mask = cols < n_cols
    x = tl.load(in_ptr + row * in_stride + cols, mask=mask, other=-float("inf"))
    x = x.to(tl.float64) if WIDE else x.to(tl.float32)
    e = tl.exp(x - tl.max(x, axis=0))
    y = e / tl.sum(e, axis=0)
    tl.store(out_ptr + row * out_stride + cols, y.to(out_ptr.dtype.element_ty), mask=mask)


def softmax(x):
    if x.dtype not in SUPPORTED:
        raise TypeError(f"softmax of {x.dtype}: expected one of {SUPPORTED}")
    if x.stride(-1) != 1:
        x = x.contiguous()
    y = torch.empty(x.shape, dtype=x.dtype, device=x.device)
    row_softmax[(x.shape[0],)](y, x, x.shape[1], x.stride(0), y.stride(0),
                               BLOCK=triton.next_power_of_2(x.shape[1]), WIDE=x.dtype == torch.float64)
    return y

"""Numerics (issue 16, item 3): a softmax that skips the max subtraction. Right on randn logits, where exp never
overflows; wrong (inf / inf = NaN) once the logits are large, which needs the manifest's input distributions (the
suite's part of the issue): until then it passes, and the corpus marks it pending."""

import torch
import triton
import triton.language as tl


@triton.jit
def naive_softmax(out_ptr, in_ptr, n_cols, in_stride, out_stride, BLOCK: tl.constexpr):
    row = tl.program_id(0)
    cols = tl.arange(0, BLOCK)
    mask = cols < n_cols
    x = tl.load(in_ptr + row * in_stride + cols, mask=mask, other=-float("inf"))
    e = tl.exp(x)  # no max subtraction
    tl.store(out_ptr + row * out_stride + cols, e / tl.sum(e, axis=0), mask=mask)


def softmax(x):
    y = torch.empty_like(x)
    naive_softmax[(x.shape[0],)](y, x, x.shape[1], x.stride(0), y.stride(0), BLOCK=triton.next_power_of_2(x.shape[1]))
    return y

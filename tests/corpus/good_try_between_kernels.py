"""Good: a fast one-block-per-row kernel where the row fits, and a defensive try/except that falls back to a second
Triton kernel (a loop over column blocks) when it does not. Neither path calls PyTorch's softmax."""

import torch
import triton
import triton.language as tl

MAX_FAST_COLS = 64


@triton.jit
def one_block_softmax(out_ptr, in_ptr, n_cols, in_stride, out_stride, BLOCK: tl.constexpr):
    row = tl.program_id(0)
    cols = tl.arange(0, BLOCK)
    mask = cols < n_cols
    x = tl.load(in_ptr + row * in_stride + cols, mask=mask, other=-float("inf"))
    e = tl.exp(x - tl.max(x, axis=0))
    tl.store(out_ptr + row * out_stride + cols, e / tl.sum(e, axis=0), mask=mask)


@triton.jit
def looped_softmax(out_ptr, in_ptr, n_cols, in_stride, out_stride, BLOCK: tl.constexpr):
    row = tl.program_id(0)
    running_max = -float("inf")
    for start in range(0, n_cols, BLOCK):
        cols = start + tl.arange(0, BLOCK)
        x = tl.load(in_ptr + row * in_stride + cols, mask=cols < n_cols, other=-float("inf"))
        running_max = tl.maximum(running_max, tl.max(x, axis=0))
    total = 0.0
    for start in range(0, n_cols, BLOCK):
        cols = start + tl.arange(0, BLOCK)
        x = tl.load(in_ptr + row * in_stride + cols, mask=cols < n_cols, other=-float("inf"))
        total += tl.sum(tl.exp(x - running_max), axis=0)
    for start in range(0, n_cols, BLOCK):
        cols = start + tl.arange(0, BLOCK)
        mask = cols < n_cols
        x = tl.load(in_ptr + row * in_stride + cols, mask=mask, other=-float("inf"))
        tl.store(out_ptr + row * out_stride + cols, tl.exp(x - running_max) / total, mask=mask)


def _fast(x, y):
    if x.shape[1] > MAX_FAST_COLS:
        raise ValueError(f"the one-block kernel holds at most {MAX_FAST_COLS} columns, got {x.shape[1]}")
    one_block_softmax[(x.shape[0],)](y, x, x.shape[1], x.stride(0), y.stride(0), BLOCK=MAX_FAST_COLS)


def softmax(x):
    y = torch.empty_like(x)
    try:
        _fast(x, y)
    except ValueError:
        looped_softmax[(x.shape[0],)](y, x, x.shape[1], x.stride(0), y.stride(0), BLOCK=64)
    return y

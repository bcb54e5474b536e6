"""Sandbox (filesystem): the run's reference outputs, which the candidate must never read (it could return them). They
are made while its step runs, in <scratch>/references, two folders above its own: that folder must exist and be
hidden (an empty tmpfs mounted over it) from the moment the candidate's process starts, or its import fails here."""

import os

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


def _references_hidden() -> str:
    folder = os.path.abspath(os.path.join(os.getcwd(), "..", "..", "references"))
    if not os.path.isdir(folder):
        return f"{folder} does not exist as the candidate starts, so its sandbox could not hide it"
    if not os.path.ismount(folder):
        return f"{folder} is not hidden: it lists {sorted(os.listdir(folder))[:3]}"
    if os.listdir(folder):
        return f"{folder} is a mount with files in it: {sorted(os.listdir(folder))[:3]}"
    return ""


_PROBLEM = _references_hidden()
if _PROBLEM:
    raise ImportError(_PROBLEM)


def softmax(x):
    return kernel_softmax(x)

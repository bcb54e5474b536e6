"""Sandbox (filesystem): every other job's folder, where a candidate would find the baseline's outputs on the same
inputs (copied as its own, they pass every check) and the trusted implementations' compiled kernels. Its own folder
(its working directory) lies in the jobs folder, beside the others: the jobs folder must show it alone, and the
caches folder nothing, or its import fails here."""

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


def _others_hidden() -> str:
    own = os.getcwd()
    jobs = os.path.dirname(own)
    beside = sorted(set(os.listdir(jobs)) - {os.path.basename(own)})
    if beside:
        return f"{jobs} shows other jobs' folders: {beside[:3]}"
    caches = os.path.join(os.path.dirname(jobs), "caches")
    if os.path.isdir(caches) and os.listdir(caches):
        return f"{caches} shows the trusted implementations' caches: {sorted(os.listdir(caches))[:3]}"
    return ""


_PROBLEM = _others_hidden()
if _PROBLEM:
    raise ImportError(_PROBLEM)


def softmax(x):
    return kernel_softmax(x)

"""Sandbox (pid): at import, starts three children in sessions of their own (setsid) that sleep for
ten minutes, then is a correct softmax (ok). They must die with the job: tests/e2e/corpus.py looks for them (their
command line holds a marker) after the run."""

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



MARKER = "tritonize-corpus-" + "survivor"


def _start_children():
    for _ in range(3):
        if os.fork() == 0:
            try:
                os.setsid()
                os.execv("/bin/sh", ["/bin/sh", "-c", "sleep 600; :", MARKER])
            finally:
                os._exit(0)


_start_children()


def softmax(x):
    return kernel_softmax(x)

"""Sandbox (pid): counts the processes it can see in /proc and reads its parent's entries; raises (import_error) if it
sees any process that is not part of its own job (the engine, other jobs, the machine's), else is a correct
softmax (ok)."""

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


def _strangers():
    seen = []
    for pid in (p for p in os.listdir("/proc") if p.isdigit()):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as file:
                cmdline = file.read().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:
            continue
        if cmdline and "tritonize_worker" not in cmdline:
            seen.append(f"{pid}: {cmdline[:80]}")
    return seen


_SEEN = _strangers()
if _SEEN:
    raise ImportError(f"sees {len(_SEEN)} processes outside its job (parent {os.getppid()}): " + "; ".join(_SEEN[:5]))


def softmax(x):
    y = torch.empty_like(x)
    row_softmax[(x.shape[0],)](y, x, x.shape[1], x.stride(0), y.stride(0), BLOCK=triton.next_power_of_2(x.shape[1]))
    return y

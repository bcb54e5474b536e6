"""The autotune timer on a real GPU, in a process of its own: `python gpu_autotune_timer_probe.py CASE` prints one
JSON line of what the timer measured. test_gpu.py runs it with TRITON_INTERPRET=0: the test process has the
interpreter on (conftest.py), and Triton fixes the mode when a kernel is decorated, so its flush and this copy
kernel would run interpreted there, copying 64 MiB to the host per flush (in the sixth session's tests that looked
like a hang).
"""

import json
import sys
import time

import torch
import triton
import triton.language as tl

from tritonize_worker.autotune_timer import AutotuneTimer
from tritonize_worker.env import Environment
from tritonize_worker.l2_flush import L2Flush


@triton.jit
def copy_kernel(x_ptr, y_ptr, n, BLOCK: tl.constexpr):
    offsets = tl.program_id(0).to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
    mask = offsets < n
    tl.store(y_ptr + offsets, tl.load(x_ptr + offsets, mask=mask), mask=mask)


def copy_call(n: int, block: int, num_warps: int, host_us: float = 0.0):
    x = torch.ones(n, device="cuda")
    y = torch.empty_like(x)

    def call():
        until = time.perf_counter() + host_us * 1e-6
        while time.perf_counter() < until:  # a wrapper's host cost before the launch
            pass
        copy_kernel[(triton.cdiv(n, block),)](x, y, n, BLOCK=block, num_warps=num_warps)

    return call


def host_bound() -> dict:
    """200 us of Python before a kernel of a few microseconds: the lead must grow to hide it (2 ms a batch)."""
    timer = AutotuneTimer(L2Flush(1 << 26, "cuda"))
    median_ms = timer(copy_call(4096, 1024, 4, host_us=200.0))
    return {"median_ms": median_ms, "dropped": timer.dropped, "behind_kept": timer.behind_kept,
            "max_lead_ms": timer.max_lead_s * 1e3}


def ranking() -> dict:
    """A fast and a slow configuration of a copy of 256 MiB each way."""
    n = 1 << 26
    timer = AutotuneTimer(L2Flush(1 << 26, "cuda"), Environment("cuda", False).sm_clock_reader())
    fast = timer(copy_call(n, 4096, 8), quantiles=(0.5, 0.2, 0.8))
    slow = timer(copy_call(n, 64, 1), quantiles=(0.5, 0.2, 0.8))
    return {"n": n, "fast": fast, "slow": slow, "timed": timer.timed, "start_clocks_mhz": timer.start_clocks_mhz}


if __name__ == "__main__":
    print(json.dumps({"host_bound": host_bound, "ranking": ranking}[sys.argv[1]]()))

"""The worker's timing method for the one-off studies, built from the worker's public functions only.

The studies time an implementation the way the worker does (docs/protocol.md): the L2 flush kernel before every
call, the calls under torch.profiler (CUPTI), the device activities split at the flushes; but at several placements
in one process, or with Inductor's autotuner wrapped, which the worker's protocol has no request for. They call this
module rather than the worker's private helpers (python/tritonize_worker/timing.py's _prepare_call, _first_call,
...), which change with the worker. What it uses of the worker: timing.split_at_flushes, timing.device_activities,
timing.median_us_by_kernel, l2_flush.L2Flush, inputs.draw_inputs, copy_args, draw_tensor. It skips what only a
product run needs (candidate-code error attribution, adaptive sampling, clock checks).
"""

from __future__ import annotations

import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "python"))

from tritonize_worker.inputs import copy_args, draw_inputs, draw_tensor
from tritonize_worker.timing import CallProfile, device_activities, median_us_by_kernel, split_at_flushes

__all__ = ["first_call", "median_us_by_kernel", "prepare_call", "profiled_calls", "warm_up", "warm_up_profiler"]


def prepare_call(entry: Callable[..., Any], request: Any, size: str, mode: str) -> tuple[Callable[[], Any],
                                                                                       Callable[[], None]]:
    """The timed call and the reset run before it, as the worker prepares them: the first seed's inputs; for the
    backward, the graph built once and every call running its backward with a fixed dy."""
    task = request.task
    draw = draw_inputs(task, size, request.check.seeds[0], "cuda")
    if mode == "forward":
        args = copy_args(draw.args, task, float64=False, grad=False)
        return (lambda: entry(*args)), (lambda: None)
    args = copy_args(draw.args, task, float64=False, grad=True)
    y = entry(*args)
    dy = draw_tensor(y.shape, "randn", task.grad_output_scale, task.output_dtype, draw.generator, "cuda").to(y.dtype)
    leaves = [arg for spec, arg in zip(task.inputs, args, strict=True) if spec.grad]

    def reset() -> None:
        for leaf in leaves:
            leaf.grad = None

    return (lambda: y.backward(dy, retain_graph=True)), reset


def first_call(call: Callable[[], Any], reset: Callable[[], None]) -> float:
    """Wall time of one call until its kernels finish (compile and autotune happen in it)."""
    import torch

    torch.cuda.synchronize()
    reset()
    start = time.perf_counter()
    call()
    torch.cuda.synchronize()
    return time.perf_counter() - start


def warm_up(call: Callable[[], Any], reset: Callable[[], None], calls: int) -> None:
    import torch

    for _ in range(calls):
        reset()
        call()
    torch.cuda.synchronize()


def profiled_calls(call: Callable[[], Any], reset: Callable[[], None], flush: Callable[[], None],
                   calls: int) -> list[CallProfile]:
    """`calls` calls under the profiler, each after the flush: one CallProfile (kernel time and kernels) per call."""
    import torch
    from torch.autograd import DeviceType
    from torch.profiler import ProfilerActivity, profile

    torch.cuda.synchronize()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Warning: Profiler clears events")
        with profile(activities=[ProfilerActivity.CUDA]) as prof:
            for _ in range(calls):
                reset()
                flush()
                call()
            torch.cuda.synchronize()
    return split_at_flushes(device_activities(prof.events(), DeviceType.CUDA), calls)


def warm_up_profiler(flush: Callable[[], None]) -> None:
    """The first profiler session of a process initialises CUPTI (seconds): outside every timed batch."""
    profiled_calls(lambda: None, lambda: None, flush, 1)

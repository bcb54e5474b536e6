"""Timing, as docs/protocol.md says: first call, warmup, kernel time from the profiler, call latency from events.

Kernel time: `calls` calls under torch.profiler (CUDA activities, i.e. CUPTI), each preceded by the
`tritonize_l2_flush` kernel. The device activities (kernels, memcpy, memset, on any stream) sorted by start are
split at the flushes; a call's kernel time is the sum of its activities' durations. `split_at_flushes` is the
pure part of it.

Call latency: `calls` more calls, each after the same flush, between a pair of CUDA events. The host waits for
the flush before it records the start event, so the latency includes the call's host-side launch overhead (the
flush cannot hide it, as it does in triton.testing.do_bench); `kernel_us` is the device-only time.
"""

from __future__ import annotations

import time
import warnings
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from .check import first_call_s as first_calls
from .errors import JobFailure, candidate_code
from .inputs import copy_args, draw_inputs, draw_tensor
from .protocol import WORKER_ERROR, Request

FLUSH_KERNEL = "tritonize_l2_flush"
# CUPTI synchronisation records are device-typed but are not work of the call (torch's inductor drops them too).
SYNC_ACTIVITIES = frozenset({"Context Sync", "Stream Sync", "Event Sync", "Stream Wait Event"})


class DeviceActivity(NamedTuple):
    """One device activity from the profile: a kernel, a memcpy or a memset. Times in microseconds."""

    name: str
    start_us: float
    end_us: float


@dataclass
class CallProfile:
    """The device activities of one timed call."""

    kernel_us: float = 0.0
    launches: Counter = field(default_factory=Counter)


def is_flush(name: str, flush_name: str = FLUSH_KERNEL) -> bool:
    # Exact name from Triton >= 3; the suffix form covers older Triton versions that mangled kernel names.
    return name == flush_name or name.startswith(flush_name + "_")


def split_at_flushes(
    activities: Iterable[DeviceActivity], calls: int, flush_name: str = FLUSH_KERNEL
) -> list[CallProfile]:
    """The activities of each call: those after a flush kernel, up to the next flush, sorted by start.

    Raises ValueError unless there are exactly `calls` flushes and the first activity is a flush.
    """
    ordered = sorted((a for a in activities if a.name not in SYNC_ACTIVITIES), key=lambda a: (a.start_us, a.end_us))
    flushes = sum(1 for a in ordered if is_flush(a.name, flush_name))
    if flushes != calls:
        raise ValueError(
            f"the profile holds {flushes} {flush_name} kernels, expected {calls} (one before each timed call);"
            f" {len(ordered)} device activities in all"
        )
    if ordered and not is_flush(ordered[0].name, flush_name):
        leading = next(i for i, a in enumerate(ordered) if is_flush(a.name, flush_name))
        names = sorted({a.name for a in ordered[:leading]})
        raise ValueError(f"{leading} device activities precede the first {flush_name} kernel: {', '.join(names)}")
    profiles: list[CallProfile] = []
    for activity in ordered:
        if is_flush(activity.name, flush_name):
            profiles.append(CallProfile())
        else:
            profiles[-1].kernel_us += activity.end_us - activity.start_us
            profiles[-1].launches[activity.name] += 1
    return profiles


def launches_per_call(profiles: Sequence[CallProfile]) -> dict[str, int | float]:
    """Kernel name -> launches per call: an integer when every call launched it equally often, else the mean."""
    names = sorted(set().union(*(profile.launches for profile in profiles)))
    result: dict[str, int | float] = {}
    for name in names:
        counts = [profile.launches[name] for profile in profiles]
        result[name] = counts[0] if len(set(counts)) == 1 else round(sum(counts) / len(counts), 3)
    return result


def device_activities(events: Iterable[Any], device_type: Any) -> list[DeviceActivity]:
    """The profiler's FunctionEvents of `device_type` as DeviceActivity; GPU user annotations (record_function
    ranges mirrored on the device) are not activities and are dropped."""
    return [
        DeviceActivity(event.name, event.time_range.start, event.time_range.end)
        for event in events
        if event.device_type == device_type and not event.is_user_annotation
    ]


# --- Measuring on the GPU ---------------------------------------------------------------------------------------------


def run_timings(entry: Callable[..., Any], request: Request, records: list[dict]) -> None:
    """Times every timed size and mode, appending one record each to `records`. CUDA only."""
    import torch

    from .l2_flush import L2Flush

    if not torch.cuda.is_available():
        raise JobFailure("runtime_error", f"{WORKER_ERROR}timing needs CUDA, and torch.cuda.is_available() is False")
    flush = L2Flush(request.timing.flush_bytes, "cuda")
    for size in request.timing.sizes:
        for mode in request.task.modes:
            records.append(_time_one(entry, request, size, mode, flush))


def _time_one(entry: Callable[..., Any], request: Request, size: str, mode: str, flush: Callable[[], None]) -> dict:
    import torch

    plan = request.timing
    where = f"timing the {mode} mode at size {size}"
    call, reset = _prepare_call(entry, request, size, mode, where)
    # The checks made the first call at this size (compile, autotune); measure one here only if they did not.
    first_call_s = first_calls.get((size, mode)) or _first_call(call, reset, where)
    with candidate_code(where):
        for _ in range(plan.warmup_calls):
            reset()
            call()
        torch.cuda.synchronize()
    profiles = _profiled_calls(call, reset, flush, plan.calls, where)
    call_us = _event_timed_calls(call, reset, flush, plan.calls, where)
    return {
        "size": size,
        "mode": mode,
        # Nanoseconds are the profile's resolution; the rest is float noise of subtracting microsecond times.
        "kernel_us": [round(profile.kernel_us, 3) for profile in profiles],
        "call_us": [round(latency, 3) for latency in call_us],
        "kernels": launches_per_call(profiles),
        "first_call_s": first_call_s,
    }


def _prepare_call(
    entry: Callable[..., Any], request: Request, size: str, mode: str, where: str
) -> tuple[Callable[[], Any], Callable[[], None]]:
    """The timed call and the reset run before it (outside the timed region)."""
    task = request.task
    draw = draw_inputs(task, size, request.check.seeds[0], "cuda")
    if mode == "forward":
        args = copy_args(draw.args, task, float64=False, grad=False)
        return (lambda: entry(*args)), (lambda: None)
    args = copy_args(draw.args, task, float64=False, grad=True)
    with candidate_code(where):
        y = entry(*args)  # the graph is built once; every timed call runs its backward
    dy = draw_tensor(y.shape, "randn", task.grad_output_scale, task.output_dtype, draw.generator, "cuda").to(y.dtype)
    leaves = [arg for spec, arg in zip(task.inputs, args, strict=True) if spec.grad]

    def reset() -> None:
        for leaf in leaves:
            leaf.grad = None

    return (lambda: y.backward(dy, retain_graph=True)), reset


def _first_call(call: Callable[[], Any], reset: Callable[[], None], where: str) -> float:
    """Wall time of one call, until its kernels finish: Triton compiles and autotunes in it."""
    import torch

    torch.cuda.synchronize()
    reset()
    with candidate_code(where):
        start = time.perf_counter()
        call()
        torch.cuda.synchronize()
        return time.perf_counter() - start


def _profiled_calls(
    call: Callable[[], Any], reset: Callable[[], None], flush: Callable[[], None], calls: int, where: str
) -> list[CallProfile]:
    import torch
    from torch.autograd import DeviceType
    from torch.profiler import ProfilerActivity, profile

    torch.cuda.synchronize()
    with warnings.catch_warnings():
        # One profiling cycle here: torch's warning that events are cleared between cycles does not apply.
        warnings.filterwarnings("ignore", message="Warning: Profiler clears events")
        with profile(activities=[ProfilerActivity.CUDA]) as prof, candidate_code(where):
            for _ in range(calls):
                reset()
                flush()
                call()
            torch.cuda.synchronize()
    return split_at_flushes(device_activities(prof.events(), DeviceType.CUDA), calls)


def _event_timed_calls(
    call: Callable[[], Any], reset: Callable[[], None], flush: Callable[[], None], calls: int, where: str
) -> list[float]:
    import torch

    pairs = [(torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)) for _ in range(calls)]
    torch.cuda.synchronize()
    with candidate_code(where):
        for start, end in pairs:
            reset()
            flush()
            torch.cuda.synchronize()
            start.record()
            call()
            end.record()
        torch.cuda.synchronize()
    return [start.elapsed_time(end) * 1000.0 for start, end in pairs]

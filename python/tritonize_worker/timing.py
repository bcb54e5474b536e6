"""Timing, as docs/protocol.md says: first call, warmup, kernel time from the profiler, call latency from events.

Kernel time: `calls` calls under torch.profiler (CUDA activities, i.e. CUPTI), each preceded by the
`tritonize_l2_flush` kernel. The device activities (kernels, memcpy, memset, on any stream) sorted by start are
split at the flushes; a call's kernel time is the sum of its activities' durations. `split_at_flushes` is the
pure part of it.

Kernel time is sampled adaptively (sampling.py): batches of profiled calls until the median is precise enough,
or a call or time limit. The SM clock is read before and after; a measurement taken below 75% of the maximum SM
clock is made again once, and marked `clock_low` if the clock is still low.

Call latency: `calls` more calls, each after the same flush, between a pair of CUDA events. The host waits for
the flush before it records the start event, so the latency includes the call's host-side launch overhead (the
flush cannot hide it, as it does in triton.testing.do_bench); `kernel_us` is the device-only time.

Autotuning: after the kernel times, one more call records the configuration each autotuned kernel ran with
(tuning.py), since processes that tune differently time differently.

The GPU lane (lane.py): every size and mode's measurements are made in exclusive holds of the job's lane, one for
the host and event figures and one for the kernel times, each size and mode beginning with its warm-up calls, so no
other job's GPU work overlaps a measurement; preparing the calls (drawing their inputs, a first call that was not
made yet) and starting the profiler share the lane with other jobs' checks.

Host overhead: `host_calls` calls back to back with no flush and no synchronisation, timed on the host clock and
divided by their number, in `host_rounds` rounds: the CPU cost of one call (Python, launch, guards), which the
GPU hides as long as the host stays ahead of it.
"""

from __future__ import annotations

import statistics
import time
import warnings
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from . import lane, tuning
from .cases import backward_call, draw_grad_outputs, output_shapes, split_outputs
from .check import first_call_s as first_calls
from .env import Environment
from .errors import JobFailure, candidate_code
from .inputs import Draw, copy_args, draw_inputs
from .protocol import WORKER_ERROR, Request
from .sampling import SamplingPlan, next_batch, rel_iqr, stop_reason
from .tuning import tuned_configs

FLUSH_KERNEL = "tritonize_l2_flush"
# The kernel that puts back the inputs a backward consumed, before the flush of each call (restore.py): no call's work.
RESTORE_KERNEL = "tritonize_restore"
# CUPTI synchronisation records are device-typed but are not work of the call (torch's inductor drops them too).
SYNC_ACTIVITIES = frozenset({"Context Sync", "Stream Sync", "Event Sync", "Stream Wait Event"})
# Below this fraction of its maximum SM clock, the GPU was throttled or idling: the measurement is made again.
MIN_SM_CLOCK_FRACTION = 0.75


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
    us_by_kernel: Counter = field(default_factory=Counter)  # kernel name -> its time in this call


def is_kernel(name: str, kernel: str) -> bool:
    """Whether a profile's activity `name` is our Triton kernel `kernel`: the exact name from Triton >= 3; the
    suffix form covers older Triton versions that mangled kernel names."""
    return name == kernel or name.startswith(kernel + "_")


def is_flush(name: str, flush_name: str = FLUSH_KERNEL) -> bool:
    return is_kernel(name, flush_name)


def split_at_flushes(
    activities: Iterable[DeviceActivity], calls: int, flush_name: str = FLUSH_KERNEL
) -> list[CallProfile]:
    """The activities of each call: those after a flush kernel, up to the next flush, sorted by start.

    Synchronisation records and the restoring of consumed inputs (RESTORE_KERNEL, run before each flush) are
    left out. Raises ValueError unless there are exactly `calls` flushes and the first activity is a flush.
    """
    ordered = sorted(
        (a for a in activities if a.name not in SYNC_ACTIVITIES and not is_kernel(a.name, RESTORE_KERNEL)),
        key=lambda a: (a.start_us, a.end_us),
    )
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
            profiles[-1].us_by_kernel[activity.name] += activity.end_us - activity.start_us
    return profiles


def launches_per_call(profiles: Sequence[CallProfile]) -> dict[str, int | float]:
    """Kernel name -> launches per call: an integer when every call launched it equally often, else the mean."""
    names = sorted(set().union(*(profile.launches for profile in profiles)))
    result: dict[str, int | float] = {}
    for name in names:
        counts = [profile.launches[name] for profile in profiles]
        result[name] = counts[0] if len(set(counts)) == 1 else round(sum(counts) / len(counts), 3)
    return result


def median_us_by_kernel(profiles: Sequence[CallProfile]) -> dict[str, float]:
    """Kernel name -> the median over calls of its time per call (0 in a call that did not launch it): which
    kernel of a many-kernel call holds the time, and which one moved when the call's time moved."""
    names = sorted(set().union(*(profile.us_by_kernel for profile in profiles)))
    return {name: round(statistics.median(profile.us_by_kernel[name] for profile in profiles), 3) for name in names}


def device_activities(events: Iterable[Any], device_type: Any) -> list[DeviceActivity]:
    """The profiler's FunctionEvents of `device_type` as DeviceActivity; GPU user annotations (record_function
    ranges mirrored on the device) are not activities and are dropped."""
    return [
        DeviceActivity(event.name, event.time_range.start, event.time_range.end)
        for event in events
        if event.device_type == device_type and not event.is_user_annotation
    ]


def profile_activities(prof: Any, device_type: Any) -> list[DeviceActivity]:
    """The device activities of a finished torch.profiler session, read from its raw results: torch's own event list
    (`prof.events()`) makes a Python object per event, with its CPU parent, shapes and stack, which for a batch of a
    thousand profiled calls is CPU time spent inside the job's exclusive lane hold. The same events, names
    (demangled as torch's list has them) and times as `device_activities(prof.events(), device_type)`, falling back
    to it where the raw results are not there."""
    results = getattr(getattr(prof, "profiler", None), "kineto_results", None)
    if results is None or not hasattr(results, "trace_start_ns"):
        return device_activities(prof.events(), device_type)
    try:
        from torch.autograd.profiler_util import _filter_name, _rewrite_name
    except ImportError:  # pragma: no cover - torch versions without them: torch's own list
        return device_activities(prof.events(), device_type)

    origin = results.trace_start_ns()
    activities = []
    for event in results.events():
        if event.device_type() != device_type or event.is_user_annotation() or _filter_name(event.name()):
            continue
        if getattr(event, "is_hidden_event", lambda: False)():
            continue
        # Relative to the trace's start in integer nanoseconds first: an absolute time in microseconds as a float
        # would keep only a quarter of a microsecond.
        name = _rewrite_name(name=event.name(), with_wildcard=True)
        activities.append(DeviceActivity(name, (event.start_ns() - origin) / 1000, (event.end_ns() - origin) / 1000))
    return activities


# --- Measuring on the GPU ---------------------------------------------------------------------------------------------


def sampling_plan(request: Request) -> SamplingPlan:
    timing = request.timing
    return SamplingPlan(
        batch_calls=timing.calls,
        min_calls=timing.calls,
        max_calls=max(timing.calls, timing.max_calls),
        min_gpu_ms=timing.min_gpu_ms,
        max_median_rse=timing.max_median_rse,
        timeout_s=timing.timeout_s,
    )


def clock_is_low(snapshot: dict[str, Any] | None) -> bool:
    """Whether an environment snapshot shows the SM clock below MIN_SM_CLOCK_FRACTION of its maximum."""
    if not snapshot or not snapshot.get("sm_clock_mhz") or not snapshot.get("sm_clock_max_mhz"):
        return False
    return snapshot["sm_clock_mhz"] < MIN_SM_CLOCK_FRACTION * snapshot["sm_clock_max_mhz"]


# How many times its warm-up's wall time a call may take inside an exclusive hold before the hold is taken for a hang.
HANG_FACTOR = 20


def hold_limits(request: Request, per_call_s: float) -> tuple[float, float]:
    """The seconds the work of one size and mode in each pass's exclusive hold may take once its warm-up has run at
    `per_call_s` a call: the call timeout, plus HANG_FACTOR times what the calls would take at the warm-up's pace
    (the first pass: host rounds and event-timed calls; the second: up to two sampling attempts, each the sampling
    timeout and one batch past it, with the timeout twice over for the profiler's own work). 0: no limit (the
    request sets no call timeout)."""
    call_s = request.guards.call_s
    if call_s <= 0:
        return 0.0, 0.0
    plan = request.timing
    first = call_s + HANG_FACTOR * per_call_s * (plan.host_calls * plan.host_rounds + plan.calls)
    second = call_s + 2 * (2 * plan.timeout_s + HANG_FACTOR * per_call_s * max(plan.calls, 1))
    return first, second


def run_timings(
    entry: Callable[..., Any],
    request: Request,
    records: list[dict],
    environment: Environment | None = None,
    flush: Callable[[], None] | None = None,
    watch: Callable[[float, str], None] | None = None,
    first_calls_made: Callable[[], None] | None = None,
) -> None:
    """Times every timed size and mode, appending one record each to `records`. CUDA only.

    Two passes: first the host overhead and the call latency of every size and mode, then the profiled kernel
    times, so that no host-side figure is taken in a process where the profiler (CUPTI) has been started.

    `watch(limit_s, what)` sets the time the next stretch of work may take (the job's watchdog): a kernel that
    hangs inside an exclusive hold stalls every job of the GPU, so each size and mode's stretch of a hold is bounded
    by its warm-up's pace (hold_limits) rather than by the call timeout times every call of the phase. Waiting for
    the lane is no work of the job's (other jobs hold it, each within its own limits): no deadline while it waits,
    as in the checks.

    `first_calls_made()` is called once every size and mode has made its first call, before the first hold: the job
    takes its autotuner wrappers off there (candidate.py). A first call the checks did not make (a repeat process
    checks the last check size only) tunes, and with the wrappers still on it tunes as the checks do, a tuning key's
    configurations in one exclusive hold; without them, one hold per configuration: 36 to 75 holds for each matmul
    expert's and LLM's second process in a main job on an H100 (2026-12-05), the run's last jobs.
    """
    guards = request.guards

    def watching(limit_s: float, what: str) -> None:
        if watch is not None:
            watch(limit_s, what)

    def waiting_for_the_lane() -> None:
        watching(0.0, "")

    import torch

    from .l2_flush import L2Flush

    if not torch.cuda.is_available():
        raise JobFailure("runtime_error", f"{WORKER_ERROR}timing needs CUDA, and torch.cuda.is_available() is False")
    if flush is None:
        flush = L2Flush(request.timing.flush_bytes, "cuda", request.timing.flush_mode)
    plan = request.timing
    gpu = lane.current()
    allocator = fresh_allocator()
    if environment is not None:
        environment.fields["timing_allocator"] = allocator
    # Every size and mode is prepared first (its inputs, its first call), then timed in one exclusive hold per pass:
    # each hold is taken only once every other job's shared holder has finished its call, and a job that took one
    # per size and mode and pass (12 for layernorm) waited about 70 s for them in a main job of 140 s on an H100
    # (2026-12-05), the run's longest jobs (38-53 s with two holds, and the three-run acceptance passed, on an H100 the
    # same evening). The method is unchanged: each size and mode is warmed up again at the start of its stretch, and
    # each stretch has its own deadline (hold_limits).
    prepared = []
    for size in plan.sizes:
        for mode in request.task.modes:
            where = f"timing the {mode} mode at size {size}"
            tuning.per_size.at(size)  # the picks the checks at this size made and ran with (tuning.PerSizePicks)
            draw = draw_inputs(request.task, size, request.check.seeds[0], "cpu")  # CPU work: no lane
            # A first call (when the checks made none here) compiles: the compile timeout.
            watching(guards.compile_s, f"preparing {where}")
            call, reset, offsets = _prepare_call(entry, request, draw, mode, where, gpu)
            if environment is not None:
                environment.fields.setdefault("timing_placement", {})[f"{size} {mode}"] = offsets
            waiting_for_the_lane()
            with gpu.shared(f"preparing {mode} {size}"):
                watching(guards.compile_s, f"the first call of {where}")
                # The checks made the first call at this size (compile, autotune); make one here only if they did not.
                first_call_s = first_calls.get((size, mode)) or _first_call(call, reset, where)
            record = {"size": size, "mode": mode, "first_call_s": first_call_s}
            prepared.append((record, call, reset, where))
    if first_calls_made is not None:
        first_calls_made()  # no wrapper around an autotuned launch in the host times

    def warmed_up(record: dict, call: Callable[[], Any], reset: Callable[[], None], where: str, what: str,
                  first_pass: bool) -> None:
        """The start of a size and mode's stretch of a pass's hold: its picks, its warm-up calls, and its deadline at
        their pace (hold_limits)."""
        tuning.per_size.at(record["size"])
        watching(guards.call_s * max(1, plan.warmup_calls), f"warming up for {what}")
        per_call_s = _warm_up(call, reset, plan.warmup_calls, where, record["first_call_s"])
        limit = hold_limits(request, per_call_s)[0 if first_pass else 1]
        watching(limit, f"{what}, at {HANG_FACTOR} times its warm-up's {per_call_s * 1e3:.3g} ms a call")

    waiting_for_the_lane()
    with gpu.exclusive(f"timing {len(prepared)} sizes and modes"):
        for record, call, reset, where in prepared:
            warmed_up(record, call, reset, where, where, first_pass=True)
            # The host's figure is its own calls': not a consumed input's restoring copies (_prepare_call).
            host_us = _host_timed_calls(call, getattr(reset, "host", reset), plan.host_calls, plan.host_rounds, where)
            call_us = _event_timed_calls(call, reset, flush, plan.calls, where)
            record["host_us"] = [round(v, 3) for v in host_us]
            record["call_us"] = [round(v, 3) for v in call_us]
    watching(guards.call_s, "starting the profiler")
    _warm_up_profiler()  # CPU and driver work: no lane
    waiting_for_the_lane()
    with gpu.exclusive(f"kernel times of {len(prepared)} sizes and modes"):
        for record, call, reset, where in prepared:
            warmed_up(record, call, reset, where, f"the kernel times of {where}", first_pass=False)
            record.update(_kernel_times(call, reset, flush, sampling_plan(request), environment, where))
    for record, call, reset, where in prepared:
        tuning.per_size.at(record["size"])
        waiting_for_the_lane()
        with gpu.shared(f"autotuned configurations {record['size']}"):
            watching(guards.call_s, f"the autotuned configurations of {where}")
            record["tuned"] = tuned_configs(call, reset, where)
        records.append(record)


def _warm_up(call: Callable[[], Any], reset: Callable[[], None], calls: int, where: str, first_call_s: float) -> float:
    """Runs `calls` calls; returns their wall time a call until the GPU has done them (with no warm-up, the first
    call's, compile included: a looser bound)."""
    import torch

    if calls <= 0:
        return first_call_s
    with candidate_code(where):
        torch.cuda.synchronize()
        started = time.perf_counter()
        for _ in range(calls):
            reset()
            call()
        torch.cuda.synchronize()
        return (time.perf_counter() - started) / calls


def _warm_up_profiler() -> None:
    """The first profiler session of a process initialises CUPTI (seconds of CPU): not in any timed batch or timeout.
    It profiles no kernel, so it holds no lane: on the H200 it was a shared hold of about 4 s per job, for which every
    other job's timing waited."""
    import torch
    from torch.profiler import ProfilerActivity, profile

    torch.cuda.synchronize()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Warning: Profiler clears events")
        with profile(activities=[ProfilerActivity.CUDA]):
            torch.cuda.synchronize()


def _kernel_times(
    call: Callable[[], Any],
    reset: Callable[[], None],
    flush: Callable[[], None],
    plan: SamplingPlan,
    environment: Environment | None,
    where: str,
) -> dict[str, Any]:
    """Sampled kernel times with the clocks read around them; made again once if the SM clock was low."""
    record: dict[str, Any] = {}
    for attempt in range(2):
        before = environment.snapshot() if environment else None
        profiles, sampling = _sampled_calls(call, reset, flush, plan, where)
        after = environment.snapshot() if environment else None
        low = clock_is_low(before) or clock_is_low(after)
        record = {
            # Nanoseconds are the profile's resolution; the rest is float noise of subtracting microsecond times.
            "kernel_us": [round(profile.kernel_us, 3) for profile in profiles],
            "kernels": launches_per_call(profiles),
            "kernel_median_us": median_us_by_kernel(profiles),
            "sampling": {**sampling, "attempts": attempt + 1, "clock_low": low},
            "env_before": before,
            "env_after": after,
        }
        if not low:
            break
    return record


def fresh_allocator() -> dict[str, float]:
    """Empties PyTorch's caching allocator before the timing allocates its inputs, and says how much stayed.

    Where a call's tensors sit decides some kernels' times: the layernorm baseline's cast at 1024x1024 took 10.2 us
    in every process of one run and 11.0 us in every process of two others (H100, 2026-12-05; the same cell, the
    same way, on an H200 on 2026-12-04), while each run's two processes agreed within 0.1%. What a run's processes
    share and another run's do not is the run seed, which picks the hidden check size and distribution: the checks
    before the timing leave the allocator's cached blocks laid out by them, and the timed tensors and every call's
    temporaries are carved from those blocks. Emptied, the cache holds only what is still alive (the flush buffer,
    the implementation's own tensors), and the timing's allocations, the same in every run, land the same way."""
    import gc

    import torch

    gc.collect()
    torch.cuda.synchronize()
    before = torch.cuda.memory_reserved()
    torch.cuda.empty_cache()
    mib = 1 << 20
    return {
        "reserved_mib_before": round(before / mib, 1),
        "reserved_mib_after": round(torch.cuda.memory_reserved() / mib, 1),
        "allocated_mib": round(torch.cuda.memory_allocated() / mib, 1),
    }


# The granularity that placement is recorded at: the GPU's large page.
PLACEMENT_BYTES = 2 << 20


def placement(values: Iterable[Any]) -> list[int]:
    """Each CUDA tensor's address modulo PLACEMENT_BYTES (`environment.timing_placement`): where the timed inputs
    sit within a large page, the same in every run once the timing starts from an empty cache (fresh_allocator)."""
    import torch

    offsets = []
    for value in values:
        if isinstance(value, (list, tuple)):  # a list of tensors (tensor_list inputs)
            offsets += placement(value)
        elif isinstance(value, torch.Tensor) and value.is_cuda:
            offsets.append(value.data_ptr() % PLACEMENT_BYTES)
    return offsets


def _prepare_call(
    entry: Callable[..., Any], request: Request, cpu_draw: Draw, mode: str, where: str, gpu: lane.Lane
) -> tuple[Callable[[], Any], Callable[[], None], list[int]]:
    """The timed call on the drawn inputs (moved to the GPU in a shared hold of its lane), the reset run before
    it (outside the timed region) and the inputs' placement. The backward's dys are drawn on the CPU between two
    holds."""
    import torch

    task = request.task
    state = cpu_draw.generator.get_state()
    # Each hold ends with the GPU's work done: none of it may run on after the hold, beside another job's timing.
    with gpu.shared(f"preparing {mode}"):
        draw = cpu_draw.on("cuda")
        if mode == "forward":
            args = copy_args(draw.args, task, float64=False, grad=False)
            torch.cuda.synchronize()
            return (lambda: entry(*args)), (lambda: None), placement(args)
        args = copy_args(draw.args, task, float64=False, grad=True)
        # As drawn, where the backward may overwrite them (see reset).
        kept = [arg.detach().clone() for arg in args if isinstance(arg, torch.Tensor)] \
            if task.backward_consumes_inputs else []
        with candidate_code(where):
            y = entry(*args)  # the graph is built once; every timed call runs its backward
            torch.cuda.synchronize()
    shapes = output_shapes(task, split_outputs(task, y, where))
    drawn = draw_grad_outputs(task, shapes, state) if shapes is not None else None
    with gpu.shared(f"preparing {mode}"):
        call = backward_call(task, y, draw.generator, where, drawn)  # every output's dy (cases.py)
        torch.cuda.synchronize()
    leaves = [arg for spec, arg in zip(task.inputs, args, strict=True) if spec.grad]
    # Every timed call runs the backward of one graph: where the backward may overwrite its forward's inputs
    # (`[backward].consumes_inputs`), they are put back before each call, outside the timed region (before the flush),
    # so that each call is on the inputs a real step's backward gets, for every column alike. By a kernel of our own
    # (restore.py), which the profile leaves out, writing through the data pointers: the graph's saved tensors are
    # these, and their version stays the one it saved.
    restore = None
    if kept:
        from .restore import Restore

        restore = Restore([arg for arg in args if isinstance(arg, torch.Tensor)], kept)

    def clear_grads() -> None:
        for leaf in leaves:
            leaf.grad = None

    def reset() -> None:
        clear_grads()
        if restore is not None:
            restore()

    # The host-time loop's reset (no copies in its figure): what a consumed input holds changes no launch's host work.
    reset.host = clear_grads  # type: ignore[attr-defined]
    return call, reset, placement(args)


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


def _sampled_calls(
    call: Callable[[], Any], reset: Callable[[], None], flush: Callable[[], None], plan: SamplingPlan, where: str
) -> tuple[list[CallProfile], dict[str, Any]]:
    """Batches of profiled calls until sampling.stop_reason says stop; every sample is kept."""
    profiles: list[CallProfile] = []
    started = time.perf_counter()
    batches = 0
    while True:
        profiles += _profiled_calls(call, reset, flush, next_batch(len(profiles), plan), where)
        batches += 1
        samples = [profile.kernel_us for profile in profiles]
        reason = stop_reason(samples, time.perf_counter() - started, plan)
        if reason:
            noise = rel_iqr(samples)
            return profiles, {
                "stop": reason,
                "batches": batches,
                "elapsed_s": round(time.perf_counter() - started, 3),
                "rel_iqr": round(noise, 5) if noise != float("inf") else None,
            }


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
    return split_at_flushes(profile_activities(prof, DeviceType.CUDA), calls)


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


def _host_timed_calls(
    call: Callable[[], Any], reset: Callable[[], None], calls: int, rounds: int, where: str
) -> list[float]:
    """Per-call host time, one figure per round: `calls` calls back to back, no flush, no synchronisation."""
    import torch

    per_call: list[float] = []
    if calls <= 0:
        return per_call
    with candidate_code(where):
        for _ in range(rounds):
            torch.cuda.synchronize()
            started = time.perf_counter()
            for _ in range(calls):
                reset()
                call()
            per_call.append((time.perf_counter() - started) * 1e6 / calls)
        torch.cuda.synchronize()
    return per_call

"""The candidate step: the only process that imports the implementation. It runs the static checks on the source,
imports it, calls it on the check inputs with the anti-cheat guards around every call, writes its outputs to a
tensor file for the compare step, and times it. It never sees a reference output and gives no verdict on values:
it can only fail the implementation (a load error, an exception, a rejection), never pass it.
"""

from __future__ import annotations

import math
import sys
import time
import warnings
from collections.abc import Callable
from types import ModuleType
from typing import Any

from . import autotune_timer, guards, lane, tuning
from .cases import backward, check_cases, draw_grad_outputs, grad_outputs, output_shapes, split_outputs
from .guarded_calls import GuardedRunner
from .inductor import compiled
from .inputs import copy_args, draw_inputs
from .load import check_syntax, load_module, read_source
from .observe import OpObserver
from .protocol import EXEMPT_KINDS, TRUSTED_KINDS, Request, Result
from .static_checks import check_source
from .tensor_files import TensorWriter
from .trusted import TrustedSnapshot
from .tuning import AutotuneLog
from .watchdog import Watchdog

# Whose calls the op observer watches for the task's forbidden ops: the code under test, not the trusted columns.
OBSERVED_KINDS = ("llm", "candidate")
PROFILED_CALLS = 3
SYNC_ACTIVITIES = frozenset({"Context Sync", "Stream Sync", "Event Sync", "Stream Wait Event"})


def run_candidate(request: Request, result: Result, watchdog: Watchdog, environment=None) -> None:
    impl, task = request.implementation, request.task
    clock = _PhaseClock(environment)
    # 1. The static scan, on the source, before anything of it runs: a verdict only for what cannot be legitimate
    # (static_checks.VERDICT_CHECKS); everything else it finds is evidence for the runtime checks' messages.
    result.phase = "load"
    source = read_source(impl.path)
    check_syntax(source, impl.path)
    evidence: list[str] = []
    if impl.kind not in TRUSTED_KINDS:  # the static checks are for LLM candidates
        violations = check_source(source, task.forbidden)
        verdicts = [v for v in violations if v.verdict]
        evidence = [str(v) for v in violations if not v.verdict]
        record = {"check": "static", "ok": not verdicts, "forbidden": list(task.forbidden), "evidence": evidence}
        result.guards.append(record)
        if verdicts:
            first = verdicts[0]
            more = f" (and {len(verdicts) - 1} more)" if len(verdicts) > 1 else ""
            raise guards.Rejection(first.check, f"line {first.line}: {first.what}{more}")

    # 2. The trusted functions, then the import under its own timeout. The flush kernel is compiled before the
    # candidate runs, so that nothing it writes to the compiler cache can stand in for it.
    flush = timer = stop_logging = stop_batching = stop_views = None
    tunings = AutotuneLog()
    if request.timing.enabled:
        from . import l2_flush, timing  # noqa: F401 - imported so that the snapshot covers them

        with lane.current().shared("preparing the L2 flush"):
            flush = l2_flush.L2Flush(request.timing.flush_bytes, "cuda", request.timing.flush_mode)
        # The checks make the first call at every size, so every tuning; timing must not pay for the log.
        stop_logging = tunings.install()
        if request.timing.autotune_timer == "job":
            # Autotuners pick by the job's flush and events, not triton's do_bench; before the trusted snapshot.
            timer = autotune_timer.AutotuneTimer(flush, environment.sm_clock_reader() if environment else None)
        # Either way, before the trusted snapshot; Triton's own benchmark runs in the job's GPU lane too.
        autotune_timer.install(timer)
        # A key's configurations benchmarked in one exclusive hold (it wraps the log's wrapper); undone before the
        # timed calls.
        stop_batching = autotune_timer.batch_by_key()
        # Each size's own picks (tuning.PerSizePicks): registers the autotuners as they run (it wraps the others).
        stop_views = tuning.per_size.install()
    # Compiles give the job's shared hold of its GPU lane up while they run (lane.py), and the GPU work after one
    # has the call timeout (watchdog.py).
    compile_events = (watchdog.compile_started, watchdog.compile_ended)
    watchdog.unreported_compiles = torch_compile_in_use
    lane.release_while_compiling(compile_events)
    observer = OpObserver(task.forbidden) if impl.kind in OBSERVED_KINDS and task.forbidden else None
    clock.lap("setup")
    patched = TrustedSnapshot().patched  # bound now: a class attribute patched later is not the one called
    watchdog.enter("import", request.guards.import_s)
    module, entry = load_module(impl.path, impl.entry, impl.name)
    watchdog.clear()
    if impl.kind == "compile":
        # The baseline under torch.compile: importing Inductor took over 10 s on the H100 once, which is not the
        # implementation's import; Inductor compiles at the first call, under the compile timeout.
        entry = compiled(entry, impl.compile_mode)
        lane.release_while_dynamo_compiles(compile_events)

    # 3. Every check input, with the guards around each call and the op observer watching every thread. Whatever
    # happens, the outputs made so far are saved: values are judged first (docs/security.md, verdict precedence).
    clock.lap("import")
    result.phase = "check"
    outputs = TensorWriter(request.files.outputs)
    watchdog.before_timeout = outputs.save
    runner = GuardedRunner(entry, request, watchdog, patched, observer, outputs)
    # The GPU lane is shared call by call (lane.py): another job's timing waits at most for one check's calls.
    gpu = lane.current()
    try:
        with runner.observing("the checked calls", evidence):
            # Every size and seed with the manifest's draw, then with each of its distributions (cases.py).
            first_seed = request.check.seeds[0]
            for case in check_cases(task, request.check.sizes, request.check.seeds, request.guards.run_seed):
                for mode in task.modes:
                    runner.prepare(case)  # CPU work (the draw; after the forward mode, dy), before the lane is taken
                    with gpu.shared(f"check {case.size}"):
                        runner.run(case, mode, repeat=case.seed == first_seed)
                    outputs.spill()  # writing a file is CPU work: outside the hold
            # 4. The guards that need more than one call.
            clock.lap("check")
            result.phase = "guards"
            runner.follows_input()  # takes the lane for its calls
    finally:
        outputs.save()
        watchdog.clear()
        result.guards.extend(runner.records)
        runner.records.clear()
    clock.lap("guards")
    _raise_first(runner)

    # 5. Timing, only of code that passed every guard; the compare step drops it if a value is wrong.
    # The profiled share check comes after it: timing takes host-side figures before CUPTI starts.
    # A wrapper around every autotuned launch would be in the host times: off once the timing's first calls are made
    # (timing.run_timings), which tune where the checks did not, as the checks do; the last installed goes first.
    unwrap = _calling_once(stop_views, stop_batching, stop_logging)
    if request.timing.enabled:
        runner.release_device()  # the timing's tensors are placed as in every run (timing.fresh_allocator)
        try:
            _time(entry, request, result, watchdog, environment, patched, flush, unwrap)
        finally:
            unwrap()
        clock.lap("time")
        if environment is not None and timer is not None:
            environment.fields["autotune_timer"] = timer.record()
        if environment is not None and tunings.entries:
            environment.fields["autotune_log"] = tunings.entries
        if environment is not None and tuning.per_size.tensor_keyed():
            # Autotuners keyed on a tensor argument, tuned once per size and not per tensor object (tuning.py).
            environment.fields["autotune_keys_by_value"] = tuning.per_size.tensor_keyed()
        if environment is not None and (autotune_timer.batching.keys or autotune_timer.batching.off):
            environment.fields["autotune_batches"] = autotune_timer.batching.record()
        # 6. What it does once warmed up: the last input again, observed, after hundreds of timed calls.
        result.phase = "guards"
        runner.prepare(runner.late_case())  # CPU work, before the lane is taken
        try:
            with runner.observing("the late check after timing", evidence), gpu.shared("the late check"):
                runner.late_check()
        finally:
            outputs.save()
            result.guards.extend(runner.records)
            runner.records.clear()
        _raise_first(runner)
        clock.lap("late_check")
    if request.device == "cuda" and impl.kind not in EXEMPT_KINDS:
        result.phase = "guards"
        parts: dict[str, float] = {}
        waited = gpu.wait_s
        # The profiled calls take the lane (shared); the draw and the profiler's start, stop and reading, which
        # are CPU and driver work, hold nothing.
        result.guards.append(triton_share(runner, module, impl.path, impl.kind, parts))
        parts["lane_wait"] = gpu.wait_s - waited
        if environment is not None:
            # Where the phase's wall time goes (on the H200 it took 6.7 s for 1.0 s of CPU with twelve jobs).
            environment.fields["triton_share_s"] = {name: round(seconds, 4) for name, seconds in parts.items()}
        _verify(patched, "the profiled calls")
        result.phase = "time" if request.timing.enabled else "check"
        clock.lap("triton_share")
    runner.passed()
    result.guards.extend(runner.records)


def _calling_once(*stops: Callable[[], None] | None) -> Callable[[], None]:
    """One function that calls each of `stops` (None: nothing installed) in order, the first time it is called."""
    pending = [stop for stop in stops if stop is not None]

    def call() -> None:
        while pending:
            pending.pop(0)()

    return call


def _raise_first(runner: GuardedRunner) -> None:
    """The first recorded rejection becomes the step's status (the compare step still judges the values first)."""
    rejection = runner.first_rejection()
    if rejection is not None:
        raise rejection


class _PhaseClock:
    """Wall seconds of each phase of the step, into the environment's `phase_s` (where a job's time goes), and the
    process's CPU seconds in it, every thread's, into `phase_cpu_s`: a phase whose CPU time is far below its wall
    time waited (for the lane, the GPU, or a core that other jobs' processes held)."""

    def __init__(self, environment):
        fields = environment.fields if environment is not None else {}
        self.phases = fields.setdefault("phase_s", {})
        self.cpu = fields.setdefault("phase_cpu_s", {})
        self.last = time.perf_counter()
        self.last_cpu = time.process_time()

    def lap(self, phase: str) -> None:
        now, cpu = time.perf_counter(), time.process_time()
        self.phases[phase] = round(now - self.last, 3)
        self.cpu[phase] = round(cpu - self.last_cpu, 3)
        self.last, self.last_cpu = now, cpu


def torch_compile_in_use() -> bool:
    """Whether torch.compile may be compiling in this process, with no hook to say so (the watchdog's call timeout
    after a compile then gives way, watchdog.py): its compiler, Dynamo, has been imported. `import torch` does not
    import it, nor does the worker, but for the compile column. (Whether it has compiled a graph yet says too little:
    its first compile in a process imports it and Inductor for seconds before it counts one.)"""
    return "torch._dynamo" in sys.modules


def _time(entry, request: Request, result: Result, watchdog: Watchdog, environment, patched, flush,
          first_calls_made: Callable[[], None]) -> None:
    import torch

    from .timing import run_timings

    result.phase = "time"
    # Each stretch of the timing sets its own deadline (timing.run_timings: an exclusive hold is bounded by its
    # warm-up's pace); until the first, the call timeout.
    watchdog.enter("time", request.guards.call_s)
    if environment is not None:
        environment.record_clock("sm_clock_mhz_before")

    def watch(limit_s: float, what: str) -> None:
        watchdog.enter("time", limit_s, what)

    run_timings(entry, request, result.timings, environment, flush, watch=watch, first_calls_made=first_calls_made)
    watchdog.enter("time", 0.0)  # waiting for the lane: other jobs' work
    with lane.current().shared("timing done"):
        watchdog.enter("time", request.guards.call_s, "the GPU work left after the timing")
        torch.cuda.synchronize()
    if environment is not None:
        environment.record_clock("sm_clock_mhz_after")
    watchdog.clear()
    _verify(patched, "timing")


def _verify(patched: Callable[[], list[str]], when: str) -> None:
    changed = patched()
    if changed:
        raise guards.Rejection(
            "trusted_functions",
            f"changed during {when}: {', '.join(changed[:5])}" + (" ..." if len(changed) > 5 else ""),
        )


def triton_share(runner: GuardedRunner, module: ModuleType, path: str, kind: str,
                 parts: dict[str, float] | None = None) -> dict:
    """Profiles a few calls at the largest timed (or check) size, per mode; all streams are in the profile.
    `parts` gets the wall seconds of each part (draw, warm, profiler_start, calls, profiler_stop, read)."""
    parts = {} if parts is None else parts
    request = runner.request
    timed = request.timing.sizes if request.timing.enabled else ()
    size = timed[-1] if timed else runner.largest_size()
    own = guards.candidate_kernel_names(module, path, with_imported=kind == "expert")
    # An expert is trusted Triton code, the reference point: its share is recorded, never judged (Liger's
    # LayerNorm backward sums its partial weight gradients in PyTorch: about half of its GPU time at 1024x1024).
    judged = kind not in TRUSTED_KINDS
    shares: dict[str, float | None] = {}
    for mode in runner.task.modes:
        where = f"the {mode} mode at size {size}"
        activities = _profile(runner, size, mode, where, parts)
        if judged:
            shares[mode] = guards.check_triton_share(activities, own, runner.task.triton_time_share, where)
        else:
            share, _ = guards.triton_time_share(activities, own)
            shares[mode] = None if math.isnan(share) else share
    return {
        "check": "triton_time_share",
        "ok": True,
        "judged": judged,
        "size": size,
        "share": shares,
        "threshold": runner.task.triton_time_share,
        "kernels": sorted(own),
    }


def _profile(runner: GuardedRunner, size: str, mode: str, where: str,
             parts: dict[str, float]) -> list[tuple[str, float]]:
    """(name, duration in us) of every device activity of PROFILED_CALLS calls, on any stream; the wall seconds
    of each part added into `parts`."""
    import time

    import torch
    from torch.autograd import DeviceType
    from torch.profiler import ProfilerActivity, profile

    from .timing import profile_activities

    def lap(name: str, since: float) -> float:
        now = time.perf_counter()
        parts[name] = parts.get(name, 0.0) + now - since
        return now

    started = time.perf_counter()
    task = runner.task
    gpu = lane.current()
    tuning.per_size.at(size)
    cpu_draw = draw_inputs(task, size, runner.request.check.seeds[0], "cpu")
    started = lap("draw", started)
    state = cpu_draw.generator.get_state()
    with gpu.shared(f"the Triton share {mode} {size}"):
        draw = cpu_draw.on(runner.device)
        args = copy_args(draw.args, task, float64=False, grad=mode == "backward")
        if mode == "backward":
            outputs = split_outputs(task, runner._call(size, "forward", where, lambda: runner.entry(*args)), where)
        torch.cuda.synchronize()
    drawn = None
    if mode == "backward":  # the dys on the CPU, between the holds
        shapes = output_shapes(task, outputs)
        drawn = draw_grad_outputs(task, shapes, state) if shapes is not None else None
    with gpu.shared(f"the Triton share {mode} {size}"):
        if mode == "forward":

            def fn() -> Any:
                return runner.entry(*args)
        else:
            pairs = grad_outputs(task, outputs, draw.generator, "cuda", drawn)
            leaves = [arg for spec, arg in zip(task.inputs, args, strict=True) if spec.grad]

            def fn() -> Any:
                for leaf in leaves:  # no gradient accumulation kernels in the profile
                    leaf.grad = None
                return backward(pairs, retain_graph=True)

        runner._call(size, mode, where, fn)  # compiled before the profile
        torch.cuda.synchronize()
    started = lap("warm", started)
    prof = profile(activities=[ProfilerActivity.CUDA])
    with warnings.catch_warnings():
        # One profiling cycle here: torch's warning that events are cleared between cycles does not apply.
        warnings.filterwarnings("ignore", message="Warning: Profiler clears events")
        prof.start()
        try:
            started = lap("profiler_start", started)
            with gpu.shared(f"the Triton share {mode} {size}"):
                for _ in range(PROFILED_CALLS):
                    runner._call(size, mode, where, fn)
                torch.cuda.synchronize()
            started = lap("calls", started)
        finally:
            prof.stop()
    started = lap("profiler_stop", started)
    activities = [
        (activity.name, activity.end_us - activity.start_us)
        for activity in profile_activities(prof, DeviceType.CUDA)
        if activity.name not in SYNC_ACTIVITIES
    ]
    lap("read", started)
    return activities

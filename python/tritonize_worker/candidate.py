"""The candidate step: the only process that imports the implementation. It runs the static checks on the source,
imports it, calls it on the check inputs with the anti-cheat guards around every call, writes its outputs to a
tensor file for the compare step, and times it. It never sees a reference output and gives no verdict on values:
it can only fail the implementation (a load error, an exception, a rejection), never pass it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from types import ModuleType
from typing import Any

from . import autotune_timer, guards
from .cases import Case, backward, check_cases, distribution_named, flatten, grad_outputs, output_key, split_outputs
from .check import first_call_s
from .errors import JobFailure, candidate_code
from .inductor import COMPILE_IMPLEMENTATION, compiled
from .inputs import copy_args, draw_inputs, parse_size, torch_dtype
from .load import check_syntax, load_module, read_source
from .properties import variants
from .protocol import EXEMPT_KINDS, Request, Result
from .static_checks import check_source
from .tensor_files import save_tensors
from .trusted import TrustedSnapshot
from .tuning import AutotuneLog
from .watchdog import Watchdog

# The baseline and the expert (the tutorials' code) are trusted code: the static checks are for LLM candidates.
STATIC_EXEMPT_KINDS = ("baseline", "expert", "compile")
PROFILED_CALLS = 3
SYNC_ACTIVITIES = frozenset({"Context Sync", "Stream Sync", "Event Sync", "Stream Wait Event"})


def run_candidate(request: Request, result: Result, watchdog: Watchdog, environment=None) -> None:
    impl, task = request.implementation, request.task
    clock = _PhaseClock(environment)
    # 1. Static checks, on the source, before anything of it runs.
    result.phase = "load"
    source = read_source(impl.path)
    check_syntax(source, impl.path)
    if impl.kind not in STATIC_EXEMPT_KINDS:
        violations = check_source(source, task.forbidden)
        if violations:
            first = violations[0]
            raise guards.Rejection(
                first.check, str(first) + (f" (and {len(violations) - 1} more)" if len(violations) > 1 else "")
            )
        result.guards.append({"check": "static", "ok": True, "forbidden": list(task.forbidden)})

    # 2. The trusted functions, then the import under its own timeout. The flush kernel is compiled before the
    # candidate runs, so that nothing it writes to the compiler cache can stand in for it.
    flush = timer = stop_logging = None
    tunings = AutotuneLog()
    if request.timing.enabled:
        from . import l2_flush, timing  # noqa: F401 - imported so that the snapshot covers them

        flush = l2_flush.L2Flush(request.timing.flush_bytes, "cuda", request.timing.flush_mode)
        # The checks make the first call at every size, so every tuning; timing must not pay for the log.
        stop_logging = tunings.install()
        if request.timing.autotune_timer == "job":
            # Autotuners pick by the job's flush and events, not triton's do_bench; before the trusted snapshot.
            timer = autotune_timer.AutotuneTimer(flush, environment.sm_clock_reader() if environment else None)
            autotune_timer.install(timer)
    clock.lap("setup")
    snapshot = TrustedSnapshot()
    watchdog.enter("import", request.guards.import_s)
    module, entry = load_module(impl.path, impl.entry, impl.name)
    watchdog.clear()
    if impl.name == COMPILE_IMPLEMENTATION:
        # The baseline under torch.compile: importing Inductor took over 10 s on the H100 once, which is not the
        # implementation's import; Inductor compiles at the first call, under the compile timeout.
        entry = compiled(entry, impl.compile_mode)

    # 3. Every check input, with the guards around each call.
    clock.lap("import")
    result.phase = "check"
    runner = _GuardedRunner(entry, request, watchdog, snapshot)
    outputs: dict[str, Any] = {}
    first_seed = request.check.seeds[0]
    for case in check_cases(task, request.check.sizes, request.check.seeds, request.guards.run_seed):
        for mode in task.modes:
            runner.run(case, mode, outputs, repeat=case.seed == first_seed)
    # 4. The guards that need more than one call.
    clock.lap("check")
    result.phase = "guards"
    runner.follows_input()
    _verify(snapshot, "its calls")
    result.guards.extend(runner.records)
    save_tensors(request.files.outputs, outputs)
    watchdog.clear()
    clock.lap("guards")

    # 5. Timing, only of code that passed every guard; the compare step drops it if a value is wrong.
    # The profiled share check comes after it: timing takes host-side figures before CUPTI starts.
    if stop_logging is not None:
        stop_logging()  # a wrapper around every autotuned launch would be in the host times
    if request.timing.enabled:
        _time(entry, request, result, watchdog, environment, snapshot, flush)
        clock.lap("time")
        if environment is not None and timer is not None:
            environment.fields["autotune_timer"] = timer.record()
        if environment is not None and tunings.entries:
            environment.fields["autotune_log"] = tunings.entries
    if request.device == "cuda" and impl.kind not in EXEMPT_KINDS:
        result.phase = "guards"
        result.guards.append(runner.triton_share(module, impl.path))
        _verify(snapshot, "the profiled calls")
        result.phase = "time" if request.timing.enabled else "check"
        clock.lap("triton_share")


class _PhaseClock:
    """Wall seconds of each phase of the step, into the environment's `phase_s` (where a job's time goes)."""

    def __init__(self, environment):
        self.phases = environment.fields.setdefault("phase_s", {}) if environment is not None else {}
        self.last = time.perf_counter()

    def lap(self, phase: str) -> None:
        now = time.perf_counter()
        self.phases[phase] = round(now - self.last, 3)
        self.last = now


def _time(entry, request: Request, result: Result, watchdog: Watchdog, environment, snapshot, flush) -> None:
    import torch

    from .timing import run_timings

    task = request.task
    result.phase = "time"
    plan = request.timing
    calls = (plan.warmup_calls + 2 * plan.calls + 2) * len(plan.sizes) * len(task.modes)
    watchdog.enter("time", request.guards.call_s * calls if request.guards.call_s else 0.0)
    if environment is not None:
        environment.record_clock("sm_clock_mhz_before")
    run_timings(entry, request, result.timings, environment, flush)
    torch.cuda.synchronize()
    if environment is not None:
        environment.record_clock("sm_clock_mhz_after")
    watchdog.clear()
    _verify(snapshot, "timing")


def _verify(snapshot: TrustedSnapshot, when: str) -> None:
    patched = snapshot.patched()
    if patched:
        raise guards.Rejection(
            "trusted_functions",
            f"changed during {when}: {', '.join(patched[:5])}" + (" ..." if len(patched) > 5 else ""),
        )


class _GuardedRunner:
    def __init__(self, entry: Callable[..., Any], request: Request, watchdog: Watchdog, snapshot: TrustedSnapshot):
        self.entry = entry
        self.snapshot = snapshot
        self.request = request
        self.task = request.task
        self.device = request.device
        self.watchdog = watchdog
        self.records: list[dict] = []
        self.poison_sizes: dict[str, list[int]] = {}

    # One call, with its timeout: the first at a size and mode compiles.
    def _call(self, size: str, mode: str, where: str, fn: Callable[[], Any]) -> Any:
        import torch

        first = (size, mode) not in first_call_s
        limits = self.request.guards
        self.watchdog.enter("compile" if first else "call", limits.compile_s if first else limits.call_s)
        stream = torch.cuda.current_stream() if self.device == "cuda" else None
        with candidate_code(where):
            started = time.perf_counter()
            value = fn()
            if self.device == "cuda":
                torch.cuda.synchronize()
        if first:
            first_call_s[(size, mode)] = time.perf_counter() - started
        self.watchdog.clear()
        # Before any guard uses them: a patched torch.isclose or torch.equal would pass a guard.
        _verify(self.snapshot, where)
        if stream is not None and torch.cuda.current_stream() != stream:
            raise guards.Rejection("same_stream", f"{where}: the call changed the current CUDA stream")
        return value

    def _poison(self, size: str) -> None:
        if self.device != "cuda":
            return
        if size not in self.poison_sizes:
            values = list(parse_size(size, self.task.dims).values())
            itemsize = torch_dtype(self.task.output_dtype).itemsize
            sizes = {a * b * itemsize for i, a in enumerate(values) for b in values[i + 1 :]}
            sizes |= {v * itemsize for v in values}
            self.poison_sizes[size] = sorted(sizes)
        guards.poison_allocator(self.poison_sizes[size])

    def run(self, case: Case, mode: str, outputs: dict[str, Any], repeat: bool) -> None:
        task, size = self.task, case.size
        distribution = distribution_named(task, case.distribution, self.request.guards.run_seed)
        draw = draw_inputs(task, size, case.seed, self.device, distribution)
        where = f"the {mode} call at {case.where()}"
        args = copy_args(draw.args, task, float64=False, grad=mode == "backward")
        before = guards.snapshot_inputs(args)
        self._poison(size)
        results = self._outputs(self._call(size, "forward", where, lambda: self.entry(*args)), where)
        if mode == "forward":
            guards.check_inputs_unchanged(before, args, where)
            guards.check_no_alias(_tensors_of(results), args, where)
            if repeat:
                again = copy_args(draw.args, task, float64=False, grad=False)
                self._poison(size)
                second = self._outputs(
                    self._call(size, "forward", where + " (repeated)", lambda: self.entry(*again)), where
                )
                for spec in task.outputs:
                    tol = task.tolerances[spec.name]
                    for a, b in zip(_flat(results[spec.name]), _flat(second[spec.name]), strict=False):
                        guards.check_deterministic(a, b, tol.atol, tol.rtol, where)
            for spec in task.outputs:
                outputs.update(flatten(output_key(case, mode, spec.name), spec, results[spec.name]))
            for variant, variant_args in variants(task, draw.args).items():
                extra = copy_args(variant_args, task, float64=False, grad=False)
                value = self._call(size, "forward", f"{where} ({variant})", lambda extra=extra: self.entry(*extra))
                for name, out in self._outputs(value, where).items():
                    outputs[output_key(case, mode, f"{name}@{variant}")] = out.detach()
            return
        pairs = grad_outputs(task, results, draw.generator, self.device)
        self._call(size, "backward", f"the backward at {case.where()}", lambda: backward(pairs))
        guards.check_inputs_unchanged(before, args, where)
        grads = {}
        for i, spec in enumerate(task.inputs):
            if spec.grad:
                grad = args[i].grad
                if grad is None:
                    raise JobFailure("wrong_result", f"grad_{spec.name} at {case.where()}: no gradient")
                self._check_output(f"grad_{spec.name}", grad, where)
                grads[f"grad_{spec.name}"] = grad.detach()
        guards.check_no_alias(grads, args, where)
        for name, grad in grads.items():
            outputs[output_key(case, mode, name)] = grad

    def _outputs(self, value: Any, where: str) -> dict[str, Any]:
        """The call's outputs by name, each a tensor on the job's device (a list of them for a list output)."""
        results = split_outputs(self.task, value, where)
        for spec in self.task.outputs:
            if spec.kind == "tensor_list":
                if not isinstance(results[spec.name], (list, tuple)):
                    kind = type(results[spec.name]).__name__
                    raise JobFailure("wrong_result", f"{spec.name}, {where}: expected a list of tensors, got {kind}")
                for i, item in enumerate(results[spec.name]):
                    self._check_output(f"{spec.name}[{i}]", item, where)
            else:
                self._check_output(spec.name, results[spec.name], where)
        return results

    def _check_output(self, name: str, value: Any, where: str) -> None:
        import torch

        if not isinstance(value, torch.Tensor):
            kind = "None" if value is None else type(value).__name__
            raise JobFailure("wrong_result", f"{name}, {where}: expected a tensor, got {kind}")
        if value.device.type != self.device:
            raise JobFailure("wrong_result", f"{name}, {where}: on device {value.device}, expected {self.device}")

    def _largest_size(self) -> str:
        def numel(size: str) -> int:
            total = 1
            for v in parse_size(size, self.task.dims).values():
                total *= v
            return total

        return max(self.request.check.sizes, key=numel)

    def follows_input(self) -> None:
        """New values at the same address and the same values at new addresses (the timed calls' exploits)."""
        import torch

        task, size = self.task, self._largest_size()
        seed_a = self.request.check.seeds[0]
        seed_b = (self.request.guards.run_seed * 1_000_003 + 7919) % (2**31)
        if seed_b == seed_a:
            seed_b += 1
        args_a = copy_args(draw_inputs(task, size, seed_a, self.device).args, task, float64=False, grad=False)
        args_b = copy_args(draw_inputs(task, size, seed_b, self.device).args, task, float64=False, grad=False)
        # B's tensors with A's other arguments (a drawn seed, say): the guard copies tensors only.
        args_b = [b if spec.kind in ("tensor", "tensor_list") else a
                  for spec, a, b in zip(task.inputs, args_a, args_b, strict=True)]
        where = f"at size {size}"

        def call(args: list[Any]) -> Any:
            value = self._call(size, "forward", f"the output_follows_input check {where}", lambda: self.entry(*args))
            return _flat(split_outputs(task, value, where)[task.outputs[0].name])[0]

        tol = task.tolerances[task.outputs[0].name]
        with torch.no_grad():
            guards.check_follows_input(call, args_a, args_b, tol.atol, tol.rtol, where)
        self.records.append({"check": "output_follows_input", "ok": True, "size": size, "seed": seed_b})
        for name in ("inputs_unchanged", "no_output_alias", "deterministic", "same_stream"):
            self.records.append({"check": name, "ok": True})

    def triton_share(self, module: ModuleType, path: str) -> dict:
        """Profiles a few calls at the largest timed (or check) size, per mode; all streams are in the profile."""
        timed = self.request.timing.sizes if self.request.timing.enabled else ()
        size = timed[-1] if timed else self._largest_size()
        own = guards.candidate_kernel_names(module, path)
        shares = {}
        for mode in self.task.modes:
            where = f"the {mode} mode at size {size}"
            activities = self._profile(size, mode, where)
            shares[mode] = guards.check_triton_share(activities, own, self.task.triton_time_share, where)
        return {
            "check": "triton_time_share",
            "ok": True,
            "size": size,
            "share": shares,
            "threshold": self.task.triton_time_share,
            "kernels": sorted(own),
        }

    def _profile(self, size: str, mode: str, where: str) -> list[tuple[str, float]]:
        """(name, duration in us) of every device activity of PROFILED_CALLS calls, on any stream."""
        import torch
        from torch.autograd import DeviceType
        from torch.profiler import ProfilerActivity, profile

        task = self.task
        draw = draw_inputs(task, size, self.request.check.seeds[0], self.device)
        args = copy_args(draw.args, task, float64=False, grad=mode == "backward")
        if mode == "forward":

            def fn() -> Any:
                return self.entry(*args)
        else:
            value = self._call(size, "forward", where, lambda: self.entry(*args))
            pairs = grad_outputs(task, split_outputs(task, value, where), draw.generator, "cuda")

            leaves = [arg for spec, arg in zip(task.inputs, args, strict=True) if spec.grad]

            def fn() -> Any:
                for leaf in leaves:  # no gradient accumulation kernels in the profile
                    leaf.grad = None
                return backward(pairs, retain_graph=True)

        self._call(size, mode, where, fn)  # compiled before the profile
        with profile(activities=[ProfilerActivity.CUDA]) as prof:
            for _ in range(PROFILED_CALLS):
                self._call(size, mode, where, fn)
            torch.cuda.synchronize()
        return [
            (event.name, event.time_range.end - event.time_range.start)
            for event in prof.events()
            if event.device_type == DeviceType.CUDA
            and not event.is_user_annotation
            and event.name not in SYNC_ACTIVITIES
        ]


def _flat(value: Any) -> list[Any]:
    """The tensors of one output: itself, or the items of a list output."""
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _tensors_of(results: dict[str, Any]) -> dict[str, Any]:
    """Every output tensor by a name, for the alias check."""
    return {f"{name}[{i}]" if isinstance(value, (list, tuple)) else name: item
            for name, value in results.items() for i, item in enumerate(_flat(value))}

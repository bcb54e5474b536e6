"""The candidate's calls on the check inputs, with the anti-cheat guards around each (guards.py) and the op observer
(observe.py) watching what runs.

A guard that fails is recorded as a rejection and the checks go on: the job's verdict is decided in the compare step,
values first (docs/security.md, "Verdict precedence"). Only what makes the rest meaningless stops the calls: an
exception of the candidate, an output that is not a tensor, a patched trusted function.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from . import guards, lane, tuning
from .cases import (
    Case,
    backward,
    check_cases,
    distribution_named,
    draw_grad_outputs,
    flatten,
    grad_outputs,
    output_key,
    output_shapes,
    split_outputs,
    tolerance_for,
)
from .check import first_call_s
from .errors import JobFailure, candidate_code
from .inputs import Draw, copy_args, draw_inputs, parse_size, torch_dtype
from .manifest import DEFAULT_DISTRIBUTION
from .observe import ObserverError, OpObserver
from .properties import variants
from .protocol import Request
from .tensor_files import TensorWriter
from .watchdog import Watchdog

# The per-call guards, recorded as passed at the end when none failed (output_follows_input records itself).
RUNTIME_GUARDS = ("inputs_unchanged", "no_output_alias", "deterministic", "same_stream")


class GuardedRunner:
    def __init__(
        self,
        entry: Callable[..., Any],
        request: Request,
        watchdog: Watchdog,
        patched: Callable[[], list[str]],
        observer: OpObserver | None,
        outputs: TensorWriter,
    ):
        self.entry = entry
        self.patched = patched  # TrustedSnapshot.patched, bound before the import
        self.observer = observer
        self.outputs = outputs
        self.request = request
        self.task = request.task
        self.device = request.device
        self.watchdog = watchdog
        self.records: list[dict] = []
        self.rejections: list[guards.Rejection] = []
        self.poison_sizes: dict[str, list[int]] = {}
        self._cpu_draw: tuple[tuple, Draw, Any] | None = None  # (case key, draw on the CPU, generator state)
        self._device_args: tuple[tuple, list[Any]] | None = None  # (case key, its args on the device)
        self._shapes: dict[tuple, list[tuple]] = {}  # case key -> the shapes of its outputs, once a call made them
        self._dys: tuple[list[tuple], list[Any]] | None = None  # (shapes, the dys drawn ahead for them)

    # --- Rejections are recorded, not raised ---------------------------------------------------------------------

    def reject(self, rejection: guards.Rejection) -> None:
        self.rejections.append(rejection)
        self.records.append({"check": rejection.check, "ok": False, "message": rejection.message})

    def guard(self, check: Callable[[], None]) -> None:
        try:
            check()
        except guards.Rejection as rejection:
            self.reject(rejection)

    def first_rejection(self) -> guards.Rejection | None:
        return self.rejections[0] if self.rejections else None

    @contextmanager
    def observing(self, what: str, evidence: list[str]) -> Iterator[None]:
        """The op observer around a phase of calls; a forbidden op that ran is a forbidden_op rejection."""
        if self.observer is None:
            yield
            return
        try:
            self.observer.start()
        except ObserverError as exc:
            self.reject(guards.Rejection("forbidden_op", f"{what}: {exc}"))
            yield
            return
        try:
            yield
        finally:
            try:
                findings = self.observer.stop()
            except ObserverError as exc:
                self.reject(guards.Rejection("forbidden_op", f"{what}: {exc}"))
            else:
                if findings:
                    listed = _grouped(findings)
                    seen = [line for line in evidence if line.startswith("forbidden_op")]
                    source = f" (in the source: {seen[0].removeprefix('forbidden_op: ')})" if seen else ""
                    self.reject(guards.Rejection("forbidden_op", f"{listed}; forbidden in this task{source}"))

    def passed(self) -> None:
        """Records the runtime guards that never failed."""
        failed = {r.check for r in self.rejections}
        for name in RUNTIME_GUARDS:
            if name not in failed:
                self.records.append({"check": name, "ok": True})

    # --- One call ------------------------------------------------------------------------------------------------

    def _call(self, size: str, mode: str, where: str, fn: Callable[[], Any]) -> Any:
        """One call, with its timeout: the first at a size and mode compiles."""
        import torch

        first = (size, mode) not in first_call_s
        tuning.per_size.at(size)  # the autotuners' picks at this size (tuning.PerSizePicks)
        limits = self.request.guards
        if first:  # compiles and tunes; the GPU work after its last compile has the call timeout (watchdog.py)
            self.watchdog.enter("compile", limits.compile_s, after_compile_s=limits.call_s)
        else:
            self.watchdog.enter("call", limits.call_s)
        stream = torch.cuda.current_stream() if self.device == "cuda" else None
        observed = self.observer.call(where) if self.observer is not None else _nothing()
        with candidate_code(where), observed:
            started = time.perf_counter()
            value = fn()
            if self.device == "cuda":
                torch.cuda.synchronize()
        if first:
            first_call_s[(size, mode)] = time.perf_counter() - started
        self.watchdog.clear()
        # Before any guard uses them: a patched torch.isclose or torch.equal would pass a guard. The process is no
        # longer the worker's: no further call is made.
        changed = self.patched()
        if changed:
            rejection = guards.Rejection(
                "trusted_functions",
                f"changed during {where}: {', '.join(changed[:5])}" + (" ..." if len(changed) > 5 else ""),
            )
            self.reject(rejection)
            raise rejection
        if stream is not None and torch.cuda.current_stream() != stream:
            self.reject(guards.Rejection("same_stream", f"{where}: the call changed the current CUDA stream"))
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

    def run(self, case: Case, mode: str, repeat: bool, call: str = "") -> None:
        """The calls on one check case (size, seed, distribution); `repeat`: a second call on a copy (determinism);
        `call`: a later call on a case already checked (tensor_files.CALLS)."""
        task, size = self.task, case.size
        draw = self._draw(case)
        label = f" ({call} call)" if call else ""
        where = f"the {mode} call at {case.where()}{label}"
        args = copy_args(draw.args, task, float64=False, grad=mode == "backward")
        before = guards.snapshot_inputs(args)
        self._poison(size)
        results = self._outputs(self._call(size, "forward", where, lambda: self.entry(*args)), where)
        shapes = output_shapes(task, results)
        if shapes is not None:
            self._shapes[(case.size, case.seed, case.distribution)] = shapes
        if mode == "forward":
            self._save(case, mode, results, call)
            self.guard(lambda: guards.check_inputs_unchanged(before, args, where))
            self.guard(lambda: guards.check_no_alias(_tensors_of(results), args, where))
            if repeat:
                again = copy_args(draw.args, task, float64=False, grad=False)
                self._poison(size)
                second_where = where + " (repeated)"
                second = self._outputs(self._call(size, "forward", second_where, lambda: self.entry(*again)),
                                       second_where)
                self._save(case, mode, second, "repeat")
                for spec in task.outputs:
                    tol = tolerance_for(task, case, spec.name, self.request.guards.run_seed)
                    for a, b in zip(_flat(results[spec.name]), _flat(second[spec.name]), strict=False):
                        self.guard(
                            lambda a=a, b=b, tol=tol: guards.check_deterministic(a, b, tol.atol, tol.rtol, where)
                        )
            if not call:
                # Property-checked outputs (a seeded random op) are called again with other arguments.
                for variant, variant_args in variants(task, draw.args).items():
                    extra = copy_args(variant_args, task, float64=False, grad=False)
                    value = self._call(size, "forward", f"{where} ({variant})", lambda extra=extra: self.entry(*extra))
                    for name, out in self._outputs(value, where).items():
                        for tensor in _flat(out)[:1]:
                            self.outputs.add(output_key(case, mode, f"{name}@{variant}"), tensor)
            return
        # A task whose backward consumes its inputs (docs/tasks.md: GeGLU's a and b, an MLP's activations, which
        # nothing reads after it) lets the backward overwrite them, and write the gradients into them (Liger's does);
        # its forward must still leave them as they were.
        consumed = task.backward_consumes_inputs
        if consumed:
            self.guard(lambda: guards.check_inputs_unchanged(before, args, f"{where}, before its backward"))
        pairs = grad_outputs(task, results, draw.generator, self.device, self._dys[1] if self._dys else None)
        self._call(size, "backward", f"the backward at {case.where()}{label}", lambda: backward(pairs))
        if not consumed:
            self.guard(lambda: guards.check_inputs_unchanged(before, args, where))
        grads = {}
        for i, spec in enumerate(task.inputs):
            if spec.grad:
                grad = args[i].grad
                if grad is None:
                    raise JobFailure("wrong_result", f"grad_{spec.name} at {case.where()}: no gradient")
                self._check_output(f"grad_{spec.name}", grad, where)
                grads[f"grad_{spec.name}"] = grad
                self.outputs.add(output_key(case, mode, f"grad_{spec.name}", call), grad)
        if not consumed:
            self.guard(lambda: guards.check_no_alias(grads, args, where))

    def prepare(self, case: Case) -> None:
        """Draws the case's inputs on the CPU, once for all its modes, before the calls take the GPU lane: a draw is
        CPU work, which holds nothing (lane.py), and was most of a large check's time (attention at 4x32x4096x128 on
        the H200: 3 x 67M values per draw), during which a shared hold keeps every other job's timing waiting."""
        key = (case.size, case.seed, case.distribution)
        if self._cpu_draw is None or self._cpu_draw[0] != key:
            # The previous case's tensors go before the next are drawn.
            self._cpu_draw = self._device_args = self._dys = None
            distribution = distribution_named(self.task, case.distribution, self.request.guards.run_seed)
            draw = draw_inputs(self.task, case.size, case.seed, "cpu", distribution)
            self._cpu_draw = (key, draw, draw.generator.get_state())
        # The backward mode's dys, once a call at this case showed the outputs' shapes (the forward mode's).
        shapes = self._shapes.get(key)
        if shapes is not None and "backward" in self.task.modes and (self._dys is None or self._dys[0] != shapes):
            self._dys = (shapes, draw_grad_outputs(self.task, shapes, self._cpu_draw[2]))

    def release_device(self) -> None:
        """Lets go of the last case's inputs on the device (the CPU draw stays; a later call moves it again), so that
        nothing the checks placed is alive when the timing starts from an empty allocator cache (timing.py)."""
        self._device_args = None

    def _draw(self, case: Case) -> Draw:
        """The case's inputs on the job's device (drawn by `prepare` unless it was called already), moved once for
        all its modes; the modes' calls get copies of these (copy_args), and each its own generator, set where the
        draw left it, so that the backward mode's dy is what a fresh draw would give."""
        import torch

        self.prepare(case)
        key, draw, state = self._cpu_draw
        if self._device_args is None or self._device_args[0] != key:
            self._device_args = (key, draw.on(self.device).args)
        generator = torch.Generator(device="cpu")
        generator.set_state(state)
        return Draw(case.size, case.seed, self._device_args[1], generator)

    def _save(self, case: Case, mode: str, results: dict[str, Any], call: str) -> None:
        """Every output of one call into the outputs file: a list output as key.0, key.1, ... and key.len."""
        for spec in self.task.outputs:
            for key, tensor in flatten(output_key(case, mode, spec.name), spec, results[spec.name]).items():
                self.outputs.add(f"{key}@{call}" if call else key, tensor)

    def _outputs(self, value: Any, where: str) -> dict[str, Any]:
        """The call's outputs by name, each a plain tensor on the job's device (a list of them for a list output)."""
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
        """A plain strided torch.Tensor on the job's device: a subclass or a lazy tensor would run its own code in
        the worker each time the worker looks at it (copies, comparisons), outside every observed call."""
        import torch

        if type(value) is not torch.Tensor:
            if isinstance(value, torch.Tensor):
                kind = f"{type(value).__name__} (a subclass of torch.Tensor)"
            else:
                kind = "None" if value is None else type(value).__name__
            raise JobFailure("wrong_result", f"{name}, {where}: expected a torch.Tensor, got {kind}")
        if value.layout != torch.strided or value.is_meta:
            raise JobFailure("wrong_result", f"{name}, {where}: a {value.layout} tensor, expected a dense one")
        if value.device.type != self.device:
            raise JobFailure("wrong_result", f"{name}, {where}: on device {value.device}, expected {self.device}")

    # --- Checks that need more than one call ---------------------------------------------------------------------

    def largest_size(self) -> str:
        def numel(size: str) -> int:
            total = 1
            for v in parse_size(size, self.task.dims).values():
                total *= v
            return total

        return max(self.request.check.sizes, key=numel)

    # Draws of B tried before the output_follows_input check is recorded as not conclusive.
    FOLLOWS_INPUT_DRAWS = 3

    def follows_input(self) -> None:
        """New values at the same address and the same values at new addresses (the timed calls' exploits). A draw
        of B whose output is A's even at new addresses proves nothing (a reduction to one low-precision value): the
        next seed is tried, and after FOLLOWS_INPUT_DRAWS such draws the check is recorded as not conclusive."""
        task, size = self.task, self.largest_size()
        seed_a = self.request.check.seeds[0]
        seed_b = (self.request.guards.run_seed * 1_000_003 + 7919) % (2**31)
        # Drawn on the CPU before the lane is taken (CPU work holds nothing), moved in the hold.
        draw_a = draw_inputs(task, size, seed_a, "cpu")
        tried = []
        for attempt in range(self.FOLLOWS_INPUT_DRAWS):
            seed = (seed_b + attempt) % (2**31)
            seed = seed + 1 if seed == seed_a else seed
            draw_b = draw_inputs(task, size, seed, "cpu")
            try:
                with lane.current().shared("guards"):
                    self._follows_input(draw_a, draw_b, size)
            except guards.Inconclusive:
                tried.append(seed)
                continue
            if not any(r.check == "output_follows_input" for r in self.rejections):
                self.records.append({"check": "output_follows_input", "ok": True, "size": size, "seed": seed})
            return
        self.records.append({
            "check": "output_follows_input", "ok": True, "conclusive": False, "size": size, "seeds": tried,
            "note": f"not conclusive: at size {size} the first output was the same for seed {seed_a} and for each"
                    f" of seeds {', '.join(map(str, tried))}, also at new addresses",
        })

    def _follows_input(self, draw_a: Draw, draw_b: Draw, size: str) -> None:
        """One try; raises guards.Inconclusive when B's output is A's at new addresses too."""
        import torch

        task = self.task
        args_a = copy_args(draw_a.on(self.device).args, task, float64=False, grad=False)
        args_b = copy_args(draw_b.on(self.device).args, task, float64=False, grad=False)
        # B's tensors with A's other arguments (a drawn seed, say): the guard copies tensors only.
        args_b = [b if spec.kind in ("tensor", "tensor_list") else a
                  for spec, a, b in zip(task.inputs, args_a, args_b, strict=True)]
        where = f"at size {size}"
        first = task.outputs[0].name

        def call(args: list[Any]) -> Any:
            check_where = f"the output_follows_input check {where}"
            value = self._call(size, "forward", check_where, lambda: self.entry(*args))
            return _flat(self._outputs(value, check_where)[first])[0]

        tol = task.tolerances[first]
        with torch.no_grad():
            try:
                guards.check_follows_input(call, args_a, args_b, tol.atol, tol.rtol, where)
            except guards.Rejection as rejection:
                self.reject(rejection)

    def late_case(self) -> Case:
        """The case of the late check: the last planned one of the last size with the manifest's draw (a planned
        case, so that the compare step checks its output against the reference)."""
        request = self.request
        last = request.check.sizes[-1]
        cases = check_cases(self.task, request.check.sizes, request.check.seeds, request.guards.run_seed)
        return [case for case in cases if case.size == last and case.distribution == DEFAULT_DISTRIBUTION][-1]

    def late_check(self) -> None:
        """The last planned input once more, after everything else (after timing on the GPU)."""
        case = self.late_case()
        for mode in self.task.modes:
            self.run(case, mode, repeat=False, call="late")


@contextmanager
def _nothing() -> Iterator[None]:
    yield


def _flat(value: Any) -> list[Any]:
    """The tensors of one output: itself, or the items of a list output."""
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _tensors_of(results: dict[str, Any]) -> dict[str, Any]:
    """Every output tensor by a name, for the alias check."""
    return {f"{name}[{i}]" if isinstance(value, (list, tuple)) else name: item
            for name, value in results.items() for i, item in enumerate(_flat(value))}


def _grouped(findings: list) -> str:
    """'aten::softmax, aten::_softmax ran during <the first call> (and in 5 more calls)'."""
    by_where: dict[str, list[str]] = {}
    for finding in findings:
        ops = by_where.setdefault(finding.where, [])
        if finding.op not in ops:
            ops.append(finding.op)
    (first, ops), more = next(iter(by_where.items())), len(by_where) - 1
    return f"{', '.join(ops)} ran {first}" + (f" (and in {more} more calls)" if more else "")

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

from . import guards
from .check import first_call_s
from .errors import JobFailure, candidate_code
from .inputs import copy_args, draw_inputs, draw_tensor, parse_size, torch_dtype
from .observe import ObserverError, OpObserver
from .protocol import Request
from .tensor_files import OutputFile, output_key
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
        outputs: OutputFile,
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
        limits = self.request.guards
        self.watchdog.enter("compile" if first else "call", limits.compile_s if first else limits.call_s)
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

    def run(self, size: str, seed: int, mode: str, repeat: bool, call: str = "") -> None:
        """The calls on one check input; `repeat`: a second call on a copy (determinism); `call`: a later call on
        an input already checked (tensor_files.CALLS)."""
        task = self.task
        draw = draw_inputs(task, size, seed, self.device)
        label = f" ({call} call)" if call else ""
        where = f"the {mode} call at size {size}, seed {seed}{label}"
        args = copy_args(draw.args, task, float64=False, grad=mode == "backward")
        before = guards.snapshot_inputs(args)
        self._poison(size)
        y = self._call(size, "forward", where, lambda: self.entry(*args))
        self._check_output("y", y, where)
        if mode == "forward":
            self.outputs.add(output_key(size, seed, mode, "y", call), y)
            self.guard(lambda: guards.check_inputs_unchanged(before, args, where))
            self.guard(lambda: guards.check_no_alias({"y": y}, args, where))
            if repeat:
                again = copy_args(draw.args, task, float64=False, grad=False)
                self._poison(size)
                y2 = self._call(size, "forward", where + " (repeated)", lambda: self.entry(*again))
                self._check_output("y", y2, where + " (repeated)")
                self.outputs.add(output_key(size, seed, mode, "y", "repeat"), y2)
                tol = task.tolerances["y"]
                self.guard(lambda: guards.check_deterministic(y, y2, tol.atol, tol.rtol, where))
            return
        dy = draw_tensor(y.shape, "randn", task.grad_output_scale, task.output_dtype, draw.generator, self.device)
        backward_where = f"the backward at size {size}, seed {seed}{label}"
        self._call(size, "backward", backward_where, lambda: y.backward(dy.to(y.dtype)))
        self.guard(lambda: guards.check_inputs_unchanged(before, args, where))
        grads = {}
        for i, spec in enumerate(task.inputs):
            if spec.grad:
                grad = args[i].grad
                if grad is None:
                    raise JobFailure("wrong_result", f"grad_{spec.name} at size {size}, seed {seed}: no gradient")
                self._check_output(f"grad_{spec.name}", grad, where)
                grads[f"grad_{spec.name}"] = grad
                self.outputs.add(output_key(size, seed, mode, f"grad_{spec.name}", call), grad)
        self.guard(lambda: guards.check_no_alias(grads, args, where))

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

    def follows_input(self) -> None:
        """New values at the same address and the same values at new addresses (the timed calls' exploits)."""
        import torch

        task, size = self.task, self.largest_size()
        seed_a = self.request.check.seeds[0]
        seed_b = (self.request.guards.run_seed * 1_000_003 + 7919) % (2**31)
        if seed_b == seed_a:
            seed_b += 1
        args_a = copy_args(draw_inputs(task, size, seed_a, self.device).args, task, float64=False, grad=False)
        args_b = copy_args(draw_inputs(task, size, seed_b, self.device).args, task, float64=False, grad=False)
        where = f"at size {size}"

        def call(args: list[Any]) -> Any:
            value = self._call(size, "forward", f"the output_follows_input check {where}", lambda: self.entry(*args))
            self._check_output("y", value, f"the output_follows_input check {where}")
            return value

        tol = task.tolerances["y"]
        with torch.no_grad():
            self.guard(lambda: guards.check_follows_input(call, args_a, args_b, tol.atol, tol.rtol, where))
        if not any(r.check == "output_follows_input" for r in self.rejections):
            self.records.append({"check": "output_follows_input", "ok": True, "size": size, "seed": seed_b})

    def late_check(self) -> None:
        """The last planned input once more, after everything else (after timing on the GPU)."""
        size, seed = self.request.check.sizes[-1], self.request.check.seeds[-1]
        for mode in self.task.modes:
            self.run(size, seed, mode, repeat=False, call="late")


@contextmanager
def _nothing() -> Iterator[None]:
    yield


def _grouped(findings: list) -> str:
    """'aten::softmax, aten::_softmax ran during <the first call> (and in 5 more calls)'."""
    by_where: dict[str, list[str]] = {}
    for finding in findings:
        ops = by_where.setdefault(finding.where, [])
        if finding.op not in ops:
            ops.append(finding.op)
    (first, ops), more = next(iter(by_where.items())), len(by_where) - 1
    return f"{', '.join(ops)} ran {first}" + (f" (and in {more} more calls)" if more else "")

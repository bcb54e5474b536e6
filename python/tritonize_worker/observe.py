"""What runs, not what is written: the ATen ops dispatched while candidate code runs, on every thread of the process.

The candidate step observes its checked calls (and, on the GPU, its profiled ones) with PyTorch's own op recorder
(Kineto's CPU activity, every thread): every dispatcher op is recorded, whatever path reached it (a name built at
run time, `torch.ops.aten`, a tensor method, a thread started at import, `torch._C._DisableTorchDispatch`). An op
whose name is one of the task's forbidden ops (`[checks].forbidden`, matched by `forbidden_op_names`) that ran
inside a call of the candidate, or on a thread other than the worker's own, rejects it (`forbidden_op`), naming the
op and the call. Ops the worker itself runs between calls (drawing inputs, the guards) are on its own thread,
outside every call, and are not counted.

The recorder is started through the C functions of torch._C._autograd, taken when this module is imported (before
the candidate is) and listed in trusted.py, so that patching them is seen. A candidate that stops the session or
starts its own in its place loses the session's start mark, which `stop` requires: the check fails by default.
Known limits: work done in another process (a child, a server) is not in this process's record; on the GPU the
Triton time share (guards.py) sees that its kernels are not the candidate's own.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

_PREFIXES = ("native_", "linalg_", "special_")
_SUFFIXES = ("_backward_data", "_backward")


def op_base(name: str) -> str:
    """The op a dotted Python name or an ATen op name stands for: 'torch.nn.LayerNorm' and 'aten::native_layer_norm'
    and 'aten::native_layer_norm_backward' are all 'layer_norm'; 'torch.Tensor.__matmul__' is 'matmul'."""
    last = re.split(r"::|\.", name)[-1]
    if last.startswith("__") and last.endswith("__"):
        last = last[2:-2]
    last = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", last).lower().lstrip("_")
    for suffix in _SUFFIXES:
        last = last.removesuffix(suffix)
    for prefix in _PREFIXES:
        last = last.removeprefix(prefix)
    return last.lstrip("_")


def forbidden_op_names(forbidden: Iterable[str]) -> frozenset[str]:
    """The op bases (op_base) of a task's forbidden names."""
    return frozenset(op_base(name) for name in forbidden)


@dataclass(frozen=True)
class Finding:
    op: str  # the ATen op, e.g. 'aten::_softmax'
    where: str  # the call it ran in, or 'between calls, on a thread of its own'

    def __str__(self) -> str:
        return f"{self.op} ran {self.where}"


class ObserverError(Exception):
    """The recorder could not be started, or its record is not the worker's own (stopped or replaced by the
    candidate)."""


class OpObserver:
    """One recording session over a phase of the candidate step; `call(where)` marks each call of candidate code."""

    def __init__(self, forbidden: Iterable[str]):
        from torch._C._autograd import (
            _disable_profiler,
            _enable_profiler,
            _prepare_profiler,
            _record_function_with_args_enter,
            _record_function_with_args_exit,
        )
        from torch._C._profiler import ProfilerActivity, ProfilerConfig, ProfilerState, _ExperimentalConfig

        self.forbidden = forbidden_op_names(forbidden)
        self._enter, self._exit = _record_function_with_args_enter, _record_function_with_args_exit
        self._prepare, self._enable, self._disable = _prepare_profiler, _enable_profiler, _disable_profiler
        self._config, self._unavailable = None, ""
        try:  # every thread: a PyTorch without this option cannot observe threads, so cannot observe at all
            config = _ExperimentalConfig(profile_all_threads=True)
            self._config = ProfilerConfig(ProfilerState.KINETO, False, False, False, False, False, config)
        except (TypeError, RuntimeError) as exc:
            self._unavailable = f"this PyTorch cannot record the ops of every thread ({exc})"
        self._activities = {ProfilerActivity.CPU}
        self._tag = "tritonize-observer-" + secrets.token_hex(8)
        self._calls: list[str] = []
        self.running = False

    def start(self) -> None:
        if self._config is None:
            raise ObserverError(self._unavailable)
        try:
            self._prepare(self._config, self._activities)
            self._enable(self._config, self._activities)
        except RuntimeError as exc:
            raise ObserverError(f"cannot start PyTorch's op recorder: {exc}") from exc
        self.running = True
        self._exit(self._enter(f"{self._tag}:start"))

    @contextmanager
    def call(self, where: str) -> Iterator[None]:
        """Marks the candidate call `where`: the ops inside it are the candidate's."""
        if not self.running:
            yield
            return
        self._calls.append(where)
        handle = self._enter(f"{self._tag}:call:{len(self._calls) - 1}")
        try:
            yield
        finally:
            self._exit(handle)

    def stop(self) -> list[Finding]:
        """Ends the session; the forbidden ops that ran in candidate code, first one first."""
        if not self.running:
            return []
        self.running = False
        try:
            events = self._disable().events()
        except RuntimeError as exc:
            raise ObserverError(f"the op recorder was stopped during the candidate's calls ({exc})") from exc
        return self._findings(events)

    def _findings(self, events) -> list[Finding]:
        start_mark = f"{self._tag}:start"
        call_prefix = f"{self._tag}:call:"
        own_thread = None
        windows: list[tuple[int, int, str]] = []
        for event in events:
            name = event.name()
            if name == start_mark:
                own_thread = event.start_thread_id()
            elif name.startswith(call_prefix):
                index = int(name[len(call_prefix) :])
                windows.append((event.start_ns(), event.end_ns(), self._calls[index]))
        if own_thread is None:
            raise ObserverError("the op recorder's session was replaced during the candidate's calls (no start mark)")
        findings = []
        for event in sorted(events, key=lambda e: e.start_ns()):
            name = event.name()
            if not name.startswith("aten::") or op_base(name) not in self.forbidden:
                continue
            start, thread = event.start_ns(), event.start_thread_id()
            inside = next((where for lo, hi, where in windows if lo <= start <= hi), None)
            if thread == own_thread and inside is None:
                continue  # the worker's own op, between calls
            if inside is None:
                where = "between calls, on a thread of the candidate's"
            else:
                where = f"during {inside}" + ("" if thread == own_thread else " (on another thread)")
            findings.append(Finding(name, where))
        return findings

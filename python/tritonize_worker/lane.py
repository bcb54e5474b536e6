"""The job's GPU lane (docs/runner.md): the work whose figures are reported holds it alone; other GPU work shares it.

The engine runs many jobs at once and gives each a lane, one per GPU. Within a lane:
- `exclusive` is for work whose figures are reported: the timing phase and every autotuner's benchmark of a
  configuration. No other job's GPU work runs while it is held.
- `shared` is for any other GPU work (the checks' calls, the reference outputs, the profiled share check): many jobs
  hold it at once, never while another holds `exclusive`.
- CPU work (imports, source checks, writing files) holds nothing.

The lane is two files locked with flock(2), which the kernel releases when a process dies however it dies, so a
crashed or killed job never stalls the lane, and which two engines on one machine share as they are (the second
waits, and says so through the status file). `gate` gives exclusive waiters priority: a job that waits for
`exclusive` holds the gate, so no new `shared` holder comes in while the current ones finish their call.
The rule that keeps it free of deadlock: no process waits for the gate while it holds the lane.

Holds nest: `shared` inside `exclusive` is part of it; `exclusive` inside `shared` (an autotuner benchmarking
during a checked call) gives the shared hold up, takes the exclusive one and takes the shared one back after.

Every hold is recorded as (kind, start, end) on the monotonic clock the engine also reads (CLOCK_MONOTONIC), so the
engine can tell each lane's busy share of a run's wall time. `status_file`, when given, holds one line that says
what the job does on the lane now, for the engine's live view.

A compile gives the shared hold up while it runs (`release_while_compiling`): Triton's JIT compiles inside the call
that first launches a kernel, and torch.compile inside the first call at each size, and either can take seconds of
CPU during which the GPU has nothing of this job's to run, while another job's timing waits for every shared holder.
The job's queued GPU work is finished first, and the hold is taken back before the kernel launches.

Without a lane in the request (a worker run by hand, the tests), every hold is a no-op that still records.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

SHARED = "shared"
EXCLUSIVE = "exclusive"
# Holds shorter than this are merged into their neighbour in the record: a check phase takes hundreds of holds.
MERGE_GAP_S = 0.005


@dataclass
class LaneSpec:
    """The request's `lane` block: which GPU lane and its lock files (made by the engine)."""

    index: int = 0
    lock: str = ""  # the lane's lock file; empty: no lane (holds are no-ops)
    gate: str = ""  # the waiting room that gives exclusive waiters priority
    status_file: str = ""  # one line: what the job does on the lane now


@dataclass
class Lane:
    spec: LaneSpec = field(default_factory=LaneSpec)
    holds: list[list] = field(default_factory=list)  # [kind, start, end] on the monotonic clock
    wait_s: float = 0.0  # seconds spent waiting for the lane
    _stack: list[tuple[str, str]] = field(default_factory=list)  # (kind, what) of the holds entered
    _lock_fd: int = -1
    _gate_fd: int = -1
    _held: str = ""  # the flock held now: "", SHARED or EXCLUSIVE
    _since: float = 0.0
    _suspended: bool = False  # a shared hold given up while a compile runs

    @contextmanager
    def shared(self, what: str = "") -> Iterator[None]:
        with self._hold(SHARED, what):
            yield

    @contextmanager
    def exclusive(self, what: str = "") -> Iterator[None]:
        with self._hold(EXCLUSIVE, what):
            yield

    def suspend(self) -> None:
        """A compile begins: a shared hold is given up until `resume` (an exclusive one is kept: what it measures
        must not be shared, even the compile that should not be in it)."""
        if self._held != SHARED or self._suspended:
            return
        _synchronize()  # this job's queued GPU work finishes under the hold
        self._release()
        self._suspended = True
        self._status("compiling")

    def resume(self) -> None:
        """The compile ended: the hold the stack needs is taken back before anything runs on the GPU."""
        if self._suspended:
            self._move_to(*self._wanted())

    def record(self) -> dict:
        """What the job's environment keeps (`environment.lane`)."""
        exclusive = sum(end - start for kind, start, end in self.holds if kind == EXCLUSIVE)
        shared = sum(end - start for kind, start, end in self.holds if kind == SHARED)
        return {
            "index": self.spec.index,
            "exclusive_s": round(exclusive, 4),
            "shared_s": round(shared, 4),
            "wait_s": round(self.wait_s, 4),
            "holds": [[kind, round(start, 4), round(end, 4)] for kind, start, end in self.holds],
        }

    # --- holds ----------------------------------------------------------------------------------------------------

    @contextmanager
    def _hold(self, kind: str, what: str) -> Iterator[None]:
        self._stack.append((kind, what))
        try:
            self._move_to(*self._wanted())
            yield
        finally:
            self._stack.pop()
            self._move_to(*self._wanted())

    def _wanted(self) -> tuple[str, str]:
        """The hold the stack needs: exclusive if any entry is, named by the outermost entry of that kind."""
        for kind in (EXCLUSIVE, SHARED):
            for entered, what in self._stack:
                if entered == kind:
                    return kind, what
        return "", ""

    def _move_to(self, kind: str, what: str) -> None:
        self._suspended = False
        if kind == self._held:
            return
        if self._held:
            self._release()
        if kind:
            self._acquire(kind, what)
        else:
            self._status("")

    def _acquire(self, kind: str, what: str) -> None:
        started = time.monotonic()
        if self.spec.lock:
            if self._lock_fd < 0:
                self._lock_fd = _open(self.spec.lock)
                self._gate_fd = _open(self.spec.gate)
            self._status(f"waiting {kind} {what}".rstrip())
            if kind == EXCLUSIVE:
                fcntl.flock(self._gate_fd, fcntl.LOCK_EX)
                try:
                    fcntl.flock(self._lock_fd, fcntl.LOCK_EX)
                finally:
                    fcntl.flock(self._gate_fd, fcntl.LOCK_UN)
            else:
                fcntl.flock(self._gate_fd, fcntl.LOCK_SH)
                try:
                    fcntl.flock(self._lock_fd, fcntl.LOCK_SH)
                finally:
                    fcntl.flock(self._gate_fd, fcntl.LOCK_UN)
        self._since = time.monotonic()
        self.wait_s += self._since - started
        self._held = kind
        self._status(f"{kind} {what}".rstrip())

    def _release(self) -> None:
        now = time.monotonic()  # before the unlock: the next holder's start comes after it
        if self._lock_fd >= 0:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
        last = self.holds[-1] if self.holds else None
        if last is not None and last[0] == self._held and self._since - last[2] < MERGE_GAP_S:
            last[2] = now
        else:
            self.holds.append([self._held, self._since, now])
        self._held = ""

    def _status(self, line: str) -> None:
        if not self.spec.status_file:
            return
        try:
            with open(self.spec.status_file, "w", encoding="utf-8") as file:
                file.write(line + "\n")
        except OSError:
            pass  # the live view only


def release_while_compiling(
    also: tuple[Callable[[], None], Callable[[], None]] | None = None,
) -> Callable[[], None]:
    """Makes every Triton JIT compile in this process give the shared hold up while it runs (knobs.runtime's
    jit_cache_hook, called before a compile, and jit_post_compile_hook, after it; hooks already set still run).
    `also`: two more functions to call as a compile starts and as it ends (the watchdog's, watchdog.py).
    Returns the function that undoes it. A no-op without Triton."""
    try:
        from triton import knobs
    except ImportError:
        return lambda: None
    runtime = knobs.runtime
    before, after = runtime.jit_cache_hook, runtime.jit_post_compile_hook

    def starting(*args, **kwargs):
        current().suspend()
        if also is not None:
            also[0]()
        # A true answer would skip the compile: only a hook set before this one may give one.
        return before(*args, **kwargs) if before is not None else None

    def ended(*args, **kwargs):
        if also is not None:
            also[1]()
        current().resume()
        return after(*args, **kwargs) if after is not None else None

    runtime.jit_cache_hook, runtime.jit_post_compile_hook = starting, ended

    def undo() -> None:
        runtime.jit_cache_hook, runtime.jit_post_compile_hook = before, after

    return undo


def release_while_dynamo_compiles(also: tuple[Callable[[], None], Callable[[], None]] | None = None) -> None:
    """The same for torch.compile: Dynamo's compile start and end callbacks (the end one runs when a compile
    fails too). For the compile column, whose first call at each size traces and compiles with Inductor."""
    from torch._dynamo.callback import callback_handler

    def starting(_args) -> None:
        current().suspend()
        if also is not None:
            also[0]()

    def ended(_args) -> None:
        if also is not None:
            also[1]()
        current().resume()

    callback_handler.register_start_callback(starting)
    callback_handler.register_end_callback(ended)


def _synchronize() -> None:
    import sys

    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available() and torch.cuda.is_initialized():
        torch.cuda.synchronize()


def _open(path: str) -> int:
    # Read-only: flock needs no write access, and the candidate's sandbox leaves the lane's folder read-only.
    return os.open(path, os.O_RDONLY | os.O_CLOEXEC)


# The process's lane: one job per process, so one lane. job.py sets it from the request before anything runs.
_current = Lane()


def current() -> Lane:
    return _current


def configure(spec: LaneSpec | None) -> Lane:
    global _current
    _current = Lane(spec or LaneSpec())
    return _current

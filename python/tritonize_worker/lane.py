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

Without a lane in the request (a worker run by hand, the tests), every hold is a no-op that still records.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
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

    @contextmanager
    def shared(self, what: str = "") -> Iterator[None]:
        with self._hold(SHARED, what):
            yield

    @contextmanager
    def exclusive(self, what: str = "") -> Iterator[None]:
        with self._hold(EXCLUSIVE, what):
            yield

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

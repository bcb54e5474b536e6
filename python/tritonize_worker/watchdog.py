"""Phase timeouts inside the worker: import, compile (the first call at a size), each later call and timing.

A watchdog thread holds the current phase's deadline. When it passes, the thread writes the result (status
timeout, naming the phase and its limit) and ends the process with os._exit: a kernel that never terminates
blocks the main thread in the driver, so nothing else can answer. The engine keeps a hard timeout for the whole
job and kills the process group, for code that holds the GIL forever.

A hang inside a lane hold stalls every job of the GPU (another job's timing waits for it), so the deadlines follow
the work closely where they can:
- The first call at a size gets the compile timeout, but once a compile ends (Triton's JIT, Dynamo: the same hooks
  that give the lane up while compiling, lane.py) the GPU work after it gets the call timeout, counted from that
  compile's end and never past the phase's own deadline. A kernel that never ends after a quick compile is then
  stopped after the call timeout, not the compile timeout (60 s, not 600 s, by default). Compiles may overlap
  (an autotuner's configurations compiled on several threads, autotune_timer.py): the call timeout starts when the
  last one in flight has ended. A compile that fails never says it ended: the phase keeps its own deadline. And
  torch.compile compiles with no hook to say so (AOTAutograd compiles a graph's backward at its first backward
  call): where it is in use in the process (`unreported_compiles`), the call timeout after a compile gives way to the
  phase's deadline when it passes, rather than cut such a compile short.
- The timing phase sets each stretch's deadline as it goes (timing.run_timings' `watch`).
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable


class Watchdog:
    def __init__(self, on_timeout: Callable[[str, float, str], None], poll_s: float = 0.05):
        """`on_timeout(phase, limit_s, what)`: called on the watchdog's thread when a deadline passes; `what` says
        which part of the phase ran out of time ("" for the phase as a whole)."""
        self._on_timeout = on_timeout
        # Called first when a deadline passes (the candidate step saves the outputs made so far: values are judged
        # before the timeout). Its failure does not stop the timeout.
        self.before_timeout: Callable[[], None] | None = None
        # Whether compiles may run that no hook reports (candidate.py: torch.compile is in use in the process).
        self.unreported_compiles: Callable[[], bool] | None = None
        self._lock = threading.Lock()
        self._phase = ""
        self._what = ""
        self._limit_s = 0.0
        self._deadline = 0.0
        self._phase_limit_s = 0.0
        self._phase_deadline = 0.0
        self._after_compile_s = 0.0
        self._compiling = 0  # compiles started and not yet ended in this phase
        self._poll_s = poll_s
        self._thread = threading.Thread(target=self._watch, name="tritonize-watchdog", daemon=True)
        self._thread.start()

    def enter(self, phase: str, limit_s: float, what: str = "", after_compile_s: float = 0.0) -> None:
        """From now on, `phase` must finish within `limit_s` seconds (0: no limit). With `after_compile_s`, the work
        after each compile that ends in the phase must finish within that many seconds of it (compile_ended)."""
        with self._lock:
            self._phase, self._what, self._limit_s = phase, what, limit_s
            self._deadline = time.monotonic() + limit_s if limit_s > 0 else 0.0
            self._phase_limit_s, self._phase_deadline = limit_s, self._deadline
            self._after_compile_s = after_compile_s
            self._compiling = 0

    def clear(self) -> None:
        self.enter("", 0.0)

    def compile_started(self) -> None:
        """A compile begins: it has the phase's own deadline."""
        with self._lock:
            self._compiling += 1
            if self._phase and self._after_compile_s > 0:
                self._what, self._limit_s, self._deadline = "", self._phase_limit_s, self._phase_deadline

    def compile_ended(self) -> None:
        """A compile ended: once no other is in flight, what follows has `after_compile_s`, within the phase's
        deadline."""
        with self._lock:
            self._compiling = max(0, self._compiling - 1)
            if not self._phase or self._after_compile_s <= 0 or self._compiling > 0:
                return
            after = time.monotonic() + self._after_compile_s
            if self._phase_deadline and self._phase_deadline <= after:
                return  # the phase's own deadline comes first
            self._deadline, self._limit_s = after, self._after_compile_s
            self._what = "its GPU work after its last compile ended, which has the call timeout"

    def _unreported(self) -> bool:
        try:
            return self.unreported_compiles is not None and bool(self.unreported_compiles())
        except Exception:  # noqa: BLE001 - a question the watchdog asks; a failure to answer is a no
            return False

    def _watch(self) -> None:
        while True:
            time.sleep(self._poll_s)
            with self._lock:
                expired = self._deadline and time.monotonic() > self._deadline
                if expired and self._deadline != self._phase_deadline and self._unreported():
                    # The call timeout after a compile: an unreported compile may be what runs. The phase's own.
                    self._what, self._limit_s, self._deadline = "", self._phase_limit_s, self._phase_deadline
                    self._after_compile_s = 0.0
                    expired = self._deadline and time.monotonic() > self._deadline
                phase, limit, what = self._phase, self._limit_s, self._what
            if expired:
                try:
                    if self.before_timeout is not None:
                        with contextlib.suppress(Exception):  # the timeout's own result matters more
                            self.before_timeout()
                    self._on_timeout(phase, limit, what)
                finally:
                    os._exit(0)

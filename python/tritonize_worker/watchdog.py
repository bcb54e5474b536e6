"""Phase timeouts inside the worker: import, compile (the first call at a size) and each later call.

A watchdog thread holds the current phase's deadline. When it passes, the thread writes the result (status
timeout, naming the phase and its limit) and ends the process with os._exit: a kernel that never terminates
blocks the main thread in the driver, so nothing else can answer. The engine keeps a hard timeout for the whole
job and kills the process group, for code that holds the GIL forever.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable


class Watchdog:
    def __init__(self, on_timeout: Callable[[str, float], None], poll_s: float = 0.05):
        self._on_timeout = on_timeout
        # Called first when a deadline passes (the candidate step saves the outputs made so far: values are judged
        # before the timeout). Its failure does not stop the timeout.
        self.before_timeout: Callable[[], None] | None = None
        self._lock = threading.Lock()
        self._phase = ""
        self._limit_s = 0.0
        self._deadline = 0.0
        self._poll_s = poll_s
        self._thread = threading.Thread(target=self._watch, name="tritonize-watchdog", daemon=True)
        self._thread.start()

    def enter(self, phase: str, limit_s: float) -> None:
        """From now on, `phase` must finish within `limit_s` seconds (0: no limit)."""
        with self._lock:
            self._phase = phase
            self._limit_s = limit_s
            self._deadline = time.monotonic() + limit_s if limit_s > 0 else 0.0

    def clear(self) -> None:
        self.enter("", 0.0)

    def _watch(self) -> None:
        while True:
            time.sleep(self._poll_s)
            with self._lock:
                expired = self._deadline and time.monotonic() > self._deadline
                phase, limit = self._phase, self._limit_s
            if expired:
                try:
                    if self.before_timeout is not None:
                        with contextlib.suppress(Exception):  # the timeout's own result matters more
                            self.before_timeout()
                    self._on_timeout(phase, limit)
                finally:
                    os._exit(0)

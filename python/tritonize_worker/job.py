"""One job: load the implementation, check it against the baseline, time it. One failure gives one status."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

from .check import failure_report, run_checks
from .env import Environment, interpret_from_environment
from .errors import CandidateError, JobFailure, classify, describe, format_detail
from .load import load_entry
from .protocol import WORKER_ERROR, Request, Result
from .timing import run_timings


def run_job(request: Request) -> Result:
    started = time.perf_counter()
    result = Result()
    environment = Environment(request.device, request.interpret)
    try:
        _run_phases(request, result, environment)
    except JobFailure as failure:
        result.fail(failure.status, failure.message, failure.detail)
    except CandidateError as error:
        context = f"In {error.context}:\n" if error.context else ""
        detail = context + format_detail(error.original, drop_worker_frames=True)
        result.fail(classify(error.original), describe(error.original), detail)
    except Exception as exc:  # noqa: BLE001 - a bug of the worker still gives a result
        result.fail("runtime_error", WORKER_ERROR + describe(exc), format_detail(exc))
    result.environment = environment.fields
    result.wall_s = time.perf_counter() - started
    return result


def _run_phases(request: Request, result: Result, environment: Environment) -> None:
    # 1. Load: the implementation first, so that its own load errors decide the status.
    result.phase = "load"
    _check_device(request)
    implementation = request.implementation
    entry = load_entry(implementation.path, implementation.entry, implementation.name)
    baseline = _load_baseline(request)

    # 2. Check every size, seed and mode; a wrong result is never timed.
    result.phase = "check"
    failures = run_checks(entry, baseline, request, result.checks)
    if failures:
        result.fail("wrong_result", *failure_report(failures))
        return

    # 3. Time, with the SM clock read around it.
    if not request.timing.enabled:
        return
    result.phase = "time"
    environment.record_clock("sm_clock_mhz_before")
    try:
        run_timings(entry, request, result.timings)
    finally:
        environment.record_clock("sm_clock_mhz_after")


def _check_device(request: Request) -> None:
    # Before the import: a candidate that finds no GPU at import time must not be blamed with import_error.
    if interpret_from_environment() != request.interpret:
        raise JobFailure(
            "runtime_error",
            f"{WORKER_ERROR}the request says interpret = {str(request.interpret).lower()}, but TRITON_INTERPRET is"
            f" {os.environ.get('TRITON_INTERPRET')!r} in the worker's environment",
        )
    if request.device == "cuda":
        import torch

        if not torch.cuda.is_available():
            raise JobFailure(
                "runtime_error", f"{WORKER_ERROR}device 'cuda' requested, but torch.cuda.is_available() is False"
            )


def _load_baseline(request: Request) -> Callable[..., Any]:
    path = os.path.join(request.task_dir, request.task.baseline)
    try:
        return load_entry(path, request.task.entry, "baseline")
    except JobFailure as failure:
        raise JobFailure(
            "runtime_error", f"{WORKER_ERROR}the task's baseline ({failure.status}): {failure.message}", failure.detail
        ) from failure

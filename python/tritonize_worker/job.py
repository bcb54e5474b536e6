"""One step of a job (docs/protocol.md): the reference, the candidate or the compare step. One failure gives one
status; an exception of the implementation is classified (errors.py); a guard's rejection names its check.
"""

from __future__ import annotations

import os
import sys
import time

from . import lane
from .env import Environment, interpret_from_environment
from .errors import CandidateError, JobFailure, asks_for_cuda, classify, describe, format_detail, with_no_cuda_note
from .guards import Rejection
from .protocol import WORKER_ERROR, Request, Result
from .watchdog import Watchdog


def run_job(request: Request, on_timeout=None) -> Result:
    """Runs the request's step. `on_timeout(result)` writes the result when a phase timeout ends the process."""
    started = time.perf_counter()
    result = Result()
    reset_gpu_peak()
    gpu = lane.configure(request.lane)
    if request.cache_dir:
        # Before anything compiles: Triton and Inductor read these when they first need a cache.
        os.environ["TRITON_CACHE_DIR"] = os.path.join(request.cache_dir, "triton")
        os.environ["TORCHINDUCTOR_CACHE_DIR"] = os.path.join(request.cache_dir, "inductor")
    environment = Environment(request.device, request.interpret) if request.role != "compare" else None
    if environment is not None:
        environment.fields["phase_s"] = {"environment": round(time.perf_counter() - started, 3)}

    def timed_out(phase: str, limit_s: float, what: str = "") -> None:
        result.phase = phase
        result.status, result.rejected_by = "timeout", ""
        result.message = f"the {phase} phase took longer than its {round(limit_s, 1):g} s timeout" + (
            f" ({what})" if what else ""
        )
        result.detail = ""
        if environment is not None:
            result.environment = environment.fields
        result.wall_s = time.perf_counter() - started
        if on_timeout is not None:
            on_timeout(result)

    try:
        _check_device(request)
        if request.role == "reference":
            from .reference import run_reference

            run_reference(request, result)
        elif request.role == "compare":
            from .compare import run_compare

            run_compare(request, result)
        else:
            from .candidate import run_candidate

            run_candidate(request, result, Watchdog(timed_out), environment)
    except JobFailure as failure:
        message = failure.message
        if request.interpret and failure.status == "import_error" and _asks_for_cuda(failure.__cause__):
            message = with_no_cuda_note(message)
        result.fail(failure.status, message, failure.detail)
    except Rejection as rejection:
        result.fail("rejected", str(rejection))
        result.rejected_by = rejection.check
    except CandidateError as error:
        context = f"In {error.context}:\n" if error.context else ""
        detail = context + format_detail(error.original, drop_worker_frames=True)
        message = describe(error.original)
        if request.interpret and _asks_for_cuda(error.original):
            message = with_no_cuda_note(message)
        result.fail(classify(error.original), message, detail)
    except Exception as exc:  # noqa: BLE001 - a bug of the worker still gives a result
        result.fail("runtime_error", WORKER_ERROR + describe(exc), format_detail(exc))
    if environment is not None:
        result.environment = environment.fields
    if request.lane is not None:
        # The compare step's environment is the candidate step's (compare.py): its own holds go beside.
        result.environment["compare_lane" if request.role == "compare" else "lane"] = gpu.record()
    peak = gpu_peak_mib()
    if peak is not None:
        result.environment["compare_gpu_peak_mib" if request.role == "compare" else "gpu_peak_mib"] = peak
    result.wall_s = time.perf_counter() - started
    return result


def reset_gpu_peak() -> None:
    """Starts this step's peak afresh: a step server (reference, compare) serves many jobs' steps in one process, and
    its peak was the process's until 2026-12-05 (every compare step of that night's H100 suite reported the same
    68800 MiB, whatever its task)."""
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_initialized():
        torch.cuda.reset_peak_memory_stats()


def gpu_peak_mib() -> float | None:
    """The most GPU memory PyTorch's caching allocator held at once in this step (MiB; reset_gpu_peak at its start),
    what no other job on the GPU could have: the runner admits jobs by an estimate of it (core/task_lint.cpp
    JobGpuBytes) and, once a job of the task has ended, by the most a job of it held (runner.cpp). None where the
    process never initialised CUDA. Not counted: the CUDA context and the compiled kernels, which the estimate
    leaves out too (not measured here)."""
    torch = sys.modules.get("torch")
    if torch is None or not torch.cuda.is_initialized():
        return None
    return round(torch.cuda.max_memory_reserved() / 2**20, 1)


def _asks_for_cuda(exc: BaseException | None) -> bool:
    """Under the interpreter: the candidate's failure is that the CPU has no CUDA (errors.asks_for_cuda)."""
    return exc is not None and asks_for_cuda(exc)


def _check_device(request: Request) -> None:
    # Before the import: a candidate that finds no GPU at import time must not be blamed with import_error.
    if interpret_from_environment() != request.interpret:
        raise JobFailure(
            "runtime_error",
            f"{WORKER_ERROR}the request says interpret = {str(request.interpret).lower()}, but TRITON_INTERPRET is"
            f" {os.environ.get('TRITON_INTERPRET')!r} in the worker's environment",
        )
    if request.device == "cuda" and request.role != "compare":
        import torch

        if not torch.cuda.is_available():
            raise JobFailure(
                "runtime_error", f"{WORKER_ERROR}device 'cuda' requested, but torch.cuda.is_available() is False"
            )

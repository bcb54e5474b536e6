"""python -m tritonize_worker --request REQ.json --result RES.json
python -m tritonize_worker --serve
python -m tritonize_worker --describe
python -m tritonize_worker --warm READY

Reads one request, runs the job, writes one result, and exits 0 whatever the implementation did. Failures that
are not the implementation's (an invalid request, a baseline that fails, a bug of the worker) are written as
status runtime_error with a message starting "worker error: ". Only a result file that cannot be written exits 1.

--serve runs trusted steps (compare and reference) for the engine's step servers (src/exec/step_server.h), one per
line of stdin ("REQUEST.json<TAB>RESULT.json"), answering each with one line on stdout: "done" once the result file
is written, else why not. It refuses the candidate role: a long-lived process never imports candidate code.

--warm READY is a pre-started worker (the engine's warm pool, src/run/warm_pool.h): it imports torch, Triton and its
own modules and sets up CUDA, writes the file READY, then reads one line from stdin ("REQUEST.json<TAB>RESULT.json"),
runs that one step as --request/--result would, and exits: still one process per step, without the import on the
step's time. stdin closed without a line: it exits 0 at once.

--describe prints the protocol's lists (schema version, statuses, implementation kinds, roles) as one JSON object:
the engine's tests hold its own lists against them, so each concept is defined once on each side and tested equal.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import traceback

from .errors import describe, format_detail
from .protocol import IMPL_KINDS, ROLES, SCHEMA_VERSION, STATUSES, WORKER_ERROR, RequestError, Result, parse_request

# Trusted steps only: the reference step imports the task's baseline, never an implementation.
SERVED_ROLES = ("compare", "reference")

# PyTorch's allocator in a step server, unless the user's environment names one: a reference step holds the largest
# float64 tensors of a run, case after case of other sizes, and fixed segments leave room unused between them. On an
# H100 (2026-12-06) attention's float64 reference at 4x32x4096x128, with the GPU to itself but for the pre-started
# processes' contexts, asked for 16 GiB with 4.96 GiB free and 16.42 GiB reserved by PyTorch but unallocated.
# Expandable segments let that reserved memory serve the request. Candidate processes keep PyTorch's default: their
# timing is measured as users run them.
SERVER_ALLOCATOR = "expandable_segments:True"


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    if args.describe:
        print(json.dumps(describe_protocol()))
        return 0
    if args.warm:
        return warm(args.warm, sys.stdin)
    if args.serve:
        os.environ.setdefault("PYTORCH_CUDA_ALLOC_CONF", SERVER_ALLOCATOR)  # before torch reads it
        replies = os.fdopen(os.dup(1), "w", encoding="utf-8")
        os.dup2(2, 1)  # anything a step prints goes to the log (stderr), never into the answers
        return serve(sys.stdin, replies)
    return one_step(args.request, args.result)


def one_step(request_path: str, result_path: str) -> int:
    """Runs one step and ends the process: 0 once the result is written, 1 when it cannot be."""
    started = time.perf_counter()
    result = _run(request_path, result_path)
    if result.wall_s == 0.0:
        result.wall_s = time.perf_counter() - started
    try:
        write_result(result_path, result)
    except OSError:
        traceback.print_exc()
        return 1
    # Candidate code may have left atexit handlers or threads (e.g. one that rewrites the result file): none runs.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def warm(ready_path: str, requests) -> int:
    """A pre-started worker: the imports and CUDA first, then the one step the engine sends."""
    _prepare()
    with open(ready_path, "w", encoding="utf-8"):
        pass
    line = requests.readline()
    if not line:
        return 0
    request_path, tab, result_path = line.rstrip("\n").partition("\t")
    if not tab or not request_path or not result_path:
        print(f"not a request line: {line.strip()[:200]!r}", file=sys.stderr)
        return 2
    return one_step(request_path, result_path)


def _prepare() -> None:
    """What every step of a job needs first, done before its request comes. Errors are left to the step."""
    try:
        import torch
        import triton
        import triton.language  # noqa: F401

        from . import candidate, check, compare, env, guards, inputs, job, tensor_files, timing  # noqa: F401
        from .env import interpret_from_environment

        if not interpret_from_environment() and torch.cuda.is_available():
            torch.empty(1, device="cuda")  # creates the CUDA context; launches no kernel
    except Exception:  # noqa: BLE001 - the step itself meets the same problem and reports it
        traceback.print_exc()


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tritonize_worker",
        description=f"One step (reference, candidate, compare) of a job (protocol schema_version {SCHEMA_VERSION}).",
    )
    parser.add_argument("--request", metavar="REQ.json", help="the job's request")
    parser.add_argument("--result", metavar="RES.json", help="where the result is written")
    parser.add_argument("--serve", action="store_true", help="compare steps, one per line of stdin (see above)")
    parser.add_argument("--describe", action="store_true", help="print the protocol's lists as JSON")
    parser.add_argument("--warm", metavar="READY", help="pre-start, then run the one step named on stdin (see above)")
    args = parser.parse_args(argv)
    if args.describe:
        return args
    if args.warm and (args.serve or args.request or args.result):
        parser.error("--warm takes its one request from stdin: no --serve, --request or --result")
    if args.warm:
        return args
    if args.serve and (args.request or args.result):
        parser.error("--serve takes its requests from stdin: no --request or --result")
    if not args.serve and not (args.request and args.result):
        parser.error("--request and --result are required (or --serve)")
    return args


def describe_protocol() -> dict:
    return {
        "schema_version": SCHEMA_VERSION,
        "statuses": list(STATUSES),
        "impl_kinds": list(IMPL_KINDS),
        "roles": list(ROLES),
    }


def serve(requests, replies) -> int:
    """The step server's loop: one request per line of `requests`, one line of answer each on `replies`."""
    for line in iter(requests.readline, ""):
        request_path, tab, result_path = line.rstrip("\n").partition("\t")
        if not tab or not request_path or not result_path:
            answer = f"not a request line: {line.strip()[:200]!r}"
        else:
            started = time.perf_counter()
            result = _run(request_path, result_path, roles=SERVED_ROLES)
            if result.wall_s == 0.0:
                result.wall_s = time.perf_counter() - started
            try:
                write_result(result_path, result)
                answer = "done"
            except OSError as exc:
                answer = f"cannot write {result_path}: {describe(exc)}"
        _release_gpu_cache()
        replies.write(answer + "\n")
        replies.flush()
        sys.stderr.flush()
    return 0


def _release_gpu_cache() -> None:
    """Gives the GPU memory the step kept cached back to the device: a reference step holds float64 tensors of the
    largest size (several GiB for some tasks), and the jobs running beside this server need that memory."""
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_initialized():
        torch.cuda.empty_cache()


def _run(request_path: str, result_path: str, roles: tuple[str, ...] | None = None) -> Result:
    try:
        with open(request_path, encoding="utf-8") as file:
            raw = json.load(file)
        request = parse_request(raw)
    except (OSError, ValueError) as exc:  # json.JSONDecodeError is a ValueError
        return _worker_failure(f"invalid request: cannot read {request_path}: {describe(exc)}")
    except RequestError as exc:
        return _worker_failure("invalid request: " + "; ".join(exc.problems), "\n".join(exc.problems))
    if roles is not None and request.role not in roles:
        return _worker_failure(f"the step server runs {', '.join(roles)} steps only, not {request.role!r}")
    # Imported here: the job imports nothing heavy at the top either, but keeps --help free of its modules.
    from .job import run_job

    try:
        return run_job(request, on_timeout=lambda result: write_result(result_path, result))
    except Exception as exc:  # noqa: BLE001 - run_job reports its own failures; this is the last resort
        return _worker_failure(describe(exc), format_detail(exc))


def _worker_failure(message: str, detail: str = "") -> Result:
    from .env import Environment, interpret_from_environment

    result = Result()
    result.fail("runtime_error", WORKER_ERROR + message, detail)
    # The request may be unreadable: describe the environment without touching a GPU.
    result.environment = Environment("cpu", interpret_from_environment()).fields
    return result


def write_result(path: str, result: Result) -> None:
    """Writes the result atomically: the engine never reads a half-written file."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, temporary = tempfile.mkstemp(prefix=".result-", suffix=".json", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            json.dump(result.to_json(), file, indent=2, allow_nan=False)
            file.write("\n")
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


if __name__ == "__main__":
    sys.exit(main())

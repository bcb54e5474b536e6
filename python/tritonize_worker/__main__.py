"""python -m tritonize_worker --request REQ.json --result RES.json
python -m tritonize_worker --serve

Reads one request, runs the job, writes one result, and exits 0 whatever the implementation did. Failures that
are not the implementation's (an invalid request, a baseline that fails, a bug of the worker) are written as
status runtime_error with a message starting "worker error: ". Only a result file that cannot be written exits 1.

--serve runs compare steps for the engine's step server (src/exec/step_server.h), one per line of stdin
("REQUEST.json<TAB>RESULT.json"), answering each with one line on stdout: "done" once the result file is
written, else why not. It refuses every other role: a long-lived process never imports candidate code.
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
from .protocol import SCHEMA_VERSION, WORKER_ERROR, RequestError, Result, parse_request

SERVED_ROLES = ("compare",)


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    if args.serve:
        replies = os.fdopen(os.dup(1), "w", encoding="utf-8")
        os.dup2(2, 1)  # anything a step prints goes to the log (stderr), never into the answers
        return serve(sys.stdin, replies)
    started = time.perf_counter()
    result = _run(args.request, args.result)
    if result.wall_s == 0.0:
        result.wall_s = time.perf_counter() - started
    try:
        write_result(args.result, result)
    except OSError:
        traceback.print_exc()
        return 1
    # Candidate code may have left atexit handlers or threads (e.g. one that rewrites the result file): none runs.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tritonize_worker",
        description=f"One step (reference, candidate, compare) of a job (protocol schema_version {SCHEMA_VERSION}).",
    )
    parser.add_argument("--request", metavar="REQ.json", help="the job's request")
    parser.add_argument("--result", metavar="RES.json", help="where the result is written")
    parser.add_argument("--serve", action="store_true", help="compare steps, one per line of stdin (see above)")
    args = parser.parse_args(argv)
    if args.serve and (args.request or args.result):
        parser.error("--serve takes its requests from stdin: no --request or --result")
    if not args.serve and not (args.request and args.result):
        parser.error("--request and --result are required (or --serve)")
    return args


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
        replies.write(answer + "\n")
        replies.flush()
        sys.stderr.flush()
    return 0


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

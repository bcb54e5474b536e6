"""python -m tritonize_worker --request REQ.json --result RES.json

Reads one request, runs the job, writes one result, and exits 0 whatever the implementation did. Failures that
are not the implementation's (an invalid request, a baseline that fails, a bug of the worker) are written as
status runtime_error with a message starting "worker error: ". Only a result file that cannot be written exits 1.
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


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
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
    parser.add_argument("--request", required=True, metavar="REQ.json", help="the job's request")
    parser.add_argument("--result", required=True, metavar="RES.json", help="where the result is written")
    return parser.parse_args(argv)


def _run(request_path: str, result_path: str) -> Result:
    try:
        with open(request_path, encoding="utf-8") as file:
            raw = json.load(file)
        request = parse_request(raw)
    except (OSError, ValueError) as exc:  # json.JSONDecodeError is a ValueError
        return _worker_failure(f"invalid request: cannot read {request_path}: {describe(exc)}")
    except RequestError as exc:
        return _worker_failure("invalid request: " + "; ".join(exc.problems), "\n".join(exc.problems))
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

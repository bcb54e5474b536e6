"""An RL loop's reward from `tritonize serve`: submit candidates, wait, score each verdict.

    python -m tritonize_client.example --url http://127.0.0.1:8470 --task softmax FILE.py [FILE.py ...]

The reward here is 1 for a correct candidate, 0 otherwise, plus (with timing, on a GPU server) the median kernel time
of its largest timed size, so that a loop can turn it into a speed-up against its own baseline. The token comes from
TRITONIZE_TOKEN.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import sys

from .client import Client


def reward(verdict: dict) -> dict:
    """A scalar a trainer can use, and what it came from."""
    ok = verdict.get("status") == "ok"
    timed = [s for s in verdict.get("sizes", []) if s.get("kernel_us")]
    largest = timed[-1] if timed else None
    return {
        "reward": 1.0 if ok else 0.0,
        "status": verdict.get("status"),
        "message": verdict.get("message", ""),
        "kernel_us": largest["kernel_us"]["median"] if largest else None,
        "size": largest["size"] if largest else None,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8470")
    parser.add_argument("--task", required=True)
    parser.add_argument("--timeout", type=float, default=None, help="seconds to wait for the verdicts")
    parser.add_argument("files", nargs="+", type=pathlib.Path)
    args = parser.parse_args(argv)
    client = Client(args.url)
    accepted = client.submit_many({"task": args.task, "code": f.read_text()} for f in args.files)
    final = client.wait_many([a["id"] for a in accepted], timeout_s=args.timeout)
    for path, evaluation in zip(args.files, final, strict=True):
        score = reward(evaluation["verdict"]) if evaluation["status"] == "done" else {"status": "cancelled"}
        print(json.dumps({"file": str(path), "id": evaluation["id"], **score}))
    return 0


if __name__ == "__main__":
    sys.exit(main())

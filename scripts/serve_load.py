#!/usr/bin/env python3
"""The load test of `tritonize serve` (docs/serve.md): N submissions from C concurrent clients on loopback, with a
kill -9 of the server in the middle and a restart; then every submission is checked answered, none lost, none run
twice, and the server's memory and the rates are printed.

    python3 scripts/serve_load.py --binary build/tritonize --submissions 1000 --clients 16

It starts the server itself (`serve --interpret`, trivial candidates: each a distinct module that fails to parse, so
the load is on the service while every verdict is still the worker's) in a fresh folder, and ends it. With --url it
loads a running server instead (no kill). Exit 0 when every check held.

The GPU throughput (issue 18's target: softmax candidates per GPU-minute, verdicts identical to eval's):

    python3 scripts/serve_load.py --binary build/tritonize --gpus 0 --task softmax \
        --candidate llm_triton/<model>/softmax.py --submissions 40 --clients 4 --no-kill --compare-eval

Each submission is then the candidate file with a distinct comment line first (so none is answered from an earlier
one), timed; --compare-eval also runs `tritonize eval --json` on the file with the server's run seed and checks that
its status and checks equal the first served verdict's.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "python"))

from tritonize_client import Client


class Server:
    """`tritonize serve --interpret` in the background, on a free port, its log in the folder."""

    def __init__(self, binary: Path, folder: Path, lanes: int, token: str, gpus: str | None = None):
        self.binary, self.folder, self.lanes, self.token, self.gpus = binary, folder, lanes, token, gpus
        self.process: subprocess.Popen | None = None
        self.port = 0
        self.peak_rss_kib = 0

    def start(self, port: int = 0) -> None:
        """On a free port, or (a restart) on `port` again, so that clients' retries reach the new server."""
        port_file = self.folder / "port"
        port_file.unlink(missing_ok=True)
        env = {**os.environ, "TRITONIZE_TOKEN": self.token, "TRITONIZE_ROOT": str(ROOT)}
        log = open(self.folder / "serve.log", "ab")  # noqa: SIM115 - the server's, for its life
        if self.gpus:  # the server's default lanes per GPU unless --lanes names them
            lanes = ["--gpus", self.gpus] + (["--lanes", str(self.lanes)] if self.lanes else [])
        else:
            lanes = ["--interpret", "--lanes", str(self.lanes or 2)]
        self.process = subprocess.Popen(
            [str(self.binary), "serve", *lanes, "--rate", "0", "--port", str(port), "--port-file", str(port_file),
             "--db", str(self.folder / "results.db"), "--scratch", str(self.folder / "jobs"), "--run-seed", "42"],
            stdout=log, stderr=log, env=env,
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if port_file.exists() and port_file.read_text().strip():
                self.port = int(port_file.read_text())
                return
            if self.process.poll() is not None:
                raise SystemExit(f"serve exited with {self.process.returncode}; see {self.folder / 'serve.log'}")
            time.sleep(0.05)
        raise SystemExit("serve did not start within 120 s")

    def sample_memory(self) -> None:
        """The server's peak resident memory so far (VmHWM), kept across restarts as the largest seen."""
        if self.process is None:
            return
        try:
            for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    self.peak_rss_kib = max(self.peak_rss_kib, int(line.split()[1]))
        except OSError:
            pass

    def kill(self, sig: int) -> None:
        if self.process is not None and self.process.poll() is None:
            self.sample_memory()
            self.process.send_signal(sig)
            self.process.wait()


def compare_with_eval(args, folder: Path, served: dict) -> bool:
    """`tritonize eval --json` on the candidate (first submission's text) with the server's run seed: the same
    status and the same checks as the served verdict."""
    first = folder / "first-candidate.py"
    first.write_text("# submission 0\n" + args.candidate.read_text())
    command = [str(args.binary), "eval", "--task", args.task, "--file", str(first), "--json", "--run-seed", "42",
               "--db", str(folder / "eval.db"), "--scratch", str(folder / "eval-jobs")]
    if not args.gpus:
        command.append("--interpret")
    env = {**os.environ, "TRITONIZE_ROOT": str(ROOT)}
    if args.gpus:
        env["CUDA_VISIBLE_DEVICES"] = args.gpus.split(",")[0]
    completed = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    try:
        expected = json.loads(completed.stdout)
    except ValueError:
        print(f"eval gave no JSON: {completed.stderr[-2000:]}", file=sys.stderr)
        return False
    verdict = served.get("verdict", {})
    keys = ("size", "seed", "mode", "output", "ok")
    same = verdict.get("status") == expected.get("status") and [
        {k: c.get(k) for k in keys} for c in verdict.get("checks", [])
    ] == [{k: c.get(k) for k in keys} for c in expected.get("checks", [])]
    print(f"eval: {expected.get('status')}, served: {verdict.get('status')}, checks "
          + ("equal" if same else "DIFFER"), file=sys.stderr)
    return same


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--binary", type=Path, default=ROOT / "build" / "tritonize")
    parser.add_argument("--url", help="load a running server instead of starting one (no kill -9)")
    parser.add_argument("--submissions", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--distinct", type=int, help="distinct candidates among the submissions (default: all);"
                        " equal ones must all get one evaluation")
    parser.add_argument("--lanes", type=int, help="evaluations at once (default: 2 under the interpreter, else the"
                        " server's default per GPU)")
    parser.add_argument("--no-kill", action="store_true", help="no kill -9 in the middle")
    parser.add_argument("--gpus", help="serve on these GPUs instead of --interpret")
    parser.add_argument("--task", default="softmax")
    parser.add_argument("--candidate", type=Path, help="the candidate file each submission varies (default: trivial)")
    parser.add_argument("--compare-eval", action="store_true", help="check a verdict against `tritonize eval --json`")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds for every verdict to arrive")
    parser.add_argument("--json", type=Path, help="write the figures here too")
    args = parser.parse_args()

    token = os.environ.get("TRITONIZE_TOKEN") or "load-test-token-" + os.urandom(8).hex()
    folder = Path(tempfile.mkdtemp(prefix="tritonize-load-"))
    server = None
    if args.url:
        url = args.url
    else:
        server = Server(args.binary, folder, args.lanes, token, args.gpus)
        server.start()
        url = f"http://127.0.0.1:{server.port}"
    base = {"url": url}

    base_code = args.candidate.read_text() if args.candidate else None
    distinct_count = args.distinct or args.submissions
    ids: dict[int, int] = {}
    lock = threading.Lock()
    submitted = 0
    retried = 0
    errors: list[str] = []

    def client_loop(index: int) -> None:
        nonlocal submitted, retried
        client = Client(base["url"], token=token, retries=60, backoff_s=0.2, max_backoff_s=2)
        for i in range(index, args.submissions, args.clients):
            code = f"# submission {i % distinct_count}\n" + (base_code if base_code is not None else "def softmax(x)\n")
            try:
                accepted = client.submit(args.task, code)
            except Exception as error:  # noqa: BLE001 - counted, and the run fails below
                with lock:
                    errors.append(f"submission {i}: {error}")
                continue
            with lock:
                ids[i] = accepted["id"]
                submitted += 1
        with lock:
            retried += client.retried

    began = time.monotonic()
    threads = [threading.Thread(target=client_loop, args=(c,)) for c in range(args.clients)]
    for t in threads:
        t.start()
    killed_at = None
    if server is not None and not args.no_kill:
        while submitted < args.submissions // 2 and any(t.is_alive() for t in threads):
            server.sample_memory()
            time.sleep(0.01)
        server.kill(signal.SIGKILL)
        killed_at = submitted
        server.start(port=server.port)
    for t in threads:
        while t.is_alive():
            if server is not None:
                server.sample_memory()
            t.join(0.2)
    accepted_s = time.monotonic() - began

    client = Client(base["url"], token=token)
    distinct = sorted(set(ids.values()))
    final: dict[int, dict] = {}
    deadline = time.monotonic() + args.timeout
    while len(final) < len(distinct) and time.monotonic() < deadline:
        pending = [i for i in distinct if i not in final]
        for evaluation in client.get_many(pending[:1024]):
            if evaluation.get("status") in ("done", "cancelled"):
                final[evaluation["id"]] = evaluation
        if server is not None:
            server.sample_memory()
        time.sleep(0.5)
    answered_s = time.monotonic() - began

    verdicts: dict[str, int] = {}
    for evaluation in final.values():
        status = evaluation.get("verdict", {}).get("status", evaluation["status"])
        verdicts[status] = verdicts.get(status, 0) + 1
    figures = {
        "submissions": args.submissions,
        "clients": args.clients,
        "lanes": args.lanes,
        "accepted": len(ids),
        "distinct_submissions": distinct_count,
        "distinct_ids": len(distinct),
        "equal_submissions_split": sum(
            1 for i, id_ in ids.items() if ids.get(i % distinct_count) not in (None, id_)
        ),
        "answered": len(final),
        "errors": errors[:10],
        "retried_requests": retried,
        "killed_after_accepted": killed_at,
        "accept_s": round(accepted_s, 2),
        "answer_s": round(answered_s, 2),
        "accepted_per_s": round(len(ids) / accepted_s, 1) if accepted_s else None,
        "evaluations_per_min": round(60 * len(final) / answered_s, 1) if answered_s else None,
        "verdicts": verdicts,
        "server_peak_rss_mib": round(server.peak_rss_kib / 1024, 1) if server else None,
    }
    if args.compare_eval and args.candidate and ids.get(0) in final:
        figures["eval_agrees"] = compare_with_eval(args, folder, final[ids[0]])
    if server is not None:
        server.kill(signal.SIGTERM)
        with sqlite3.connect(folder / "results.db") as db:
            figures["stored_evaluations"] = db.execute("SELECT COUNT(*) FROM evaluations").fetchone()[0]
            figures["stored_jobs"] = db.execute("SELECT COUNT(*) FROM jobs").fetchone()[0]
            figures["evaluations_run_twice"] = db.execute(
                "SELECT COUNT(*) FROM (SELECT job_id FROM evaluations GROUP BY job_id HAVING COUNT(*) > 1)"
            ).fetchone()[0]
    print(json.dumps(figures, indent=2))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")

    ok = (
        figures.get("eval_agrees", True)
        and not errors
        and len(ids) == args.submissions
        and len(distinct) == distinct_count
        and figures["equal_submissions_split"] == 0
        and len(final) == distinct_count
        and (server is None or (figures["stored_jobs"] == distinct_count and figures["evaluations_run_twice"] == 0))
    )
    print("load test: " + ("every submission answered once" if ok else "FAILED"), file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

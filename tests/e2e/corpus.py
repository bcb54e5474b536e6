"""Runs the candidate corpus (tests/corpus/expected.toml) through `tritonize eval` and prints a table
file | expected | got | ok. Exit 0 when every case got an expected verdict, 1 otherwise.

The engine runs with provider keys in its environment (SECRETS): no case's output, message or store may hold one.
A case may also name a command-line marker of processes that must not outlive its job (`survivors`) and files that
must not exist after it (`escapes`); a `pending` case is run and shown but does not fail the run (it waits for
something named there).

  python3 tests/e2e/corpus.py --binary build/tritonize --interpret     # CPU part, as CI runs it
  python3 tests/e2e/corpus.py --binary .devbin/tritonize-sec           # everything, on a GPU
  python3 tests/e2e/corpus.py --from-bench mixed.json                  # verdicts of a bench run
                                                                     # (tools/device/mixed.sh)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "tests" / "corpus"
# In the engine's environment for every case: none may reach a candidate, its output or the store.
SECRETS = {
    "ANTHROPIC_API_KEY": "sk-corpus-secret-anthropic",
    "OPENAI_API_KEY": "sk-corpus-secret-openai",
    "TRITONIZE_TOKEN": "corpus-secret-token",
}


def load_cases(path: Path) -> list[dict]:
    """expected.toml's [[case]] tables (tomllib where there is one; else its simple subset: key = JSON value)."""
    try:
        import tomllib
    except ImportError:
        cases: list[dict] = []
        for line in path.read_text().splitlines():
            line = line.strip()
            if line == "[[case]]":
                cases.append({})
            elif line and not line.startswith("#") and "=" in line and cases:
                key, value = (part.strip() for part in line.split("=", 1))
                cases[-1][key] = json.loads(value)
        return cases
    with open(path, "rb") as file:
        return tomllib.load(file)["case"]


def verdict(result: dict) -> str:
    status = result.get("status", "?")
    if status == "rejected":
        return "rejected:" + result.get("message", "").split(":", 1)[0]
    return status


def run_case(case: dict, args: argparse.Namespace, scratch: str) -> dict:
    name = Path(case["file"]).stem
    command = [
        args.binary, "eval", "--task", case.get("task", "softmax"), "--file", str(CORPUS / case["file"]), "--json",
        "--root", str(ROOT), "--db", os.path.join(scratch, name + ".db"), "--scratch", os.path.join(scratch, name),
        "--timeout", "600", "--import-timeout", "10", "--compile-timeout", "45", "--call-timeout", "30",
        "--run-seed", str(args.run_seed), "--calls", "30",
    ]
    if args.interpret:
        command.append("--interpret")
    if args.python:
        command += ["--python", args.python]
    completed = subprocess.run(
        command, capture_output=True, text=True, check=False, timeout=900, env={**os.environ, **SECRETS}
    )
    try:
        result = json.loads(completed.stdout)
    except json.JSONDecodeError:
        result = {"status": f"no-json(exit {completed.returncode})", "message": completed.stderr.strip()[-300:]}
    expected = case["expected"] if isinstance(case["expected"], list) else [case["expected"]]
    got = verdict(result)
    ok = got in expected and case.get("contains", "") in result.get("message", "")
    problems = []
    if not ok:
        problems.append(result.get("message", "")[:200])
    store = os.path.join(scratch, name + ".db")
    leaked = leaks([completed.stdout, completed.stderr, _read(store), *_job_logs(os.path.join(scratch, name))])
    if leaked:
        problems.append("a secret of the engine's environment reached the output, the store or the logs: " + leaked)
    marker = case.get("survivors", "")
    survivors = kill_survivors(marker) if marker else []
    if survivors:
        problems.append(f"{len(survivors)} processes outlived the job: {survivors[:3]}")
    escaped = [path for path in case.get("escapes", []) if os.path.lexists(os.path.expanduser(path))]
    if escaped:
        problems.append("files written outside the job folder: " + ", ".join(escaped))
        for path in escaped:  # this run's: removed, so that the next run tests again
            os.unlink(os.path.expanduser(path))
    return {"file": case["file"], "expected": " or ".join(expected), "got": got, "ok": not problems,
            "pending": case.get("pending", ""), "message": "; ".join(problems)}


def _read(path: str) -> str:
    try:
        with open(path, "rb") as file:
            return file.read().decode("latin-1")
    except OSError:
        return ""


def _job_logs(scratch: str) -> list[str]:
    """The jobs' logs and result files (what the candidate printed, what the steps wrote)."""
    texts = []
    for folder, _, files in os.walk(scratch):
        texts += [_read(os.path.join(folder, f)) for f in files if f.endswith((".log", ".json"))]
    return texts


def leaks(texts: list[str]) -> str:
    """The first secret value (or its recognisable start) found in `texts`."""
    for text in texts:
        for name, value in SECRETS.items():
            if value in text or value[:14] in text:
                return f"{name} ({value[:14]}...)"
    return ""


def kill_survivors(marker: str) -> list[str]:
    """Processes whose command line holds `marker`, left by a candidate: listed, then killed (they are this run's)."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as file:
                cmdline = file.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if marker in cmdline:
            found.append(f"{pid}: {cmdline.strip()[:80]}")
            try:
                os.kill(int(pid), 9)
            except OSError:
                pass
    return found


def rows_from_bench(path: str, cases: list[dict]) -> list[dict]:
    """The verdicts a `bench --json` run gave the corpus, laid out as models `bad-<file stem>`."""
    with open(path, encoding="utf-8") as file:
        jobs = json.load(file)["jobs"]
    by_model = {job["implementation"].removeprefix("llm:bad-"): job for job in jobs if job.get("process", 0) == 0}
    rows = []
    for case in cases:
        job = by_model.get(Path(case["file"]).stem, {"status": "not-in-run", "message": ""})
        expected = case["expected"] if isinstance(case["expected"], list) else [case["expected"]]
        got = verdict(job)
        ok = got in expected and case.get("contains", "") in job.get("message", "")
        rows.append({"file": case["file"], "expected": " or ".join(expected), "got": got, "ok": ok,
                     "pending": case.get("pending", ""), "message": job.get("message", "")})
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--binary", default="")
    parser.add_argument("--from-bench", default="", help="a bench --json file of tools/device/mixed.sh")
    parser.add_argument("--python", default="")
    parser.add_argument("--interpret", action="store_true", help="CPU cases only, under the Triton interpreter")
    parser.add_argument("--jobs", type=int, default=4)
    parser.add_argument("--run-seed", type=int, default=20261125)
    parser.add_argument("--only", default="", help="comma list of files")
    args = parser.parse_args()
    cases = load_cases(CORPUS / "expected.toml")
    if args.interpret:
        cases = [case for case in cases if case.get("cpu", True)]
    if args.only:
        cases = [case for case in cases if case["file"] in args.only.split(",")]
    if args.from_bench:
        rows = rows_from_bench(args.from_bench, cases)
    elif not args.binary:
        parser.error("--binary or --from-bench is required")
    else:
        with tempfile.TemporaryDirectory(prefix="tritonize-corpus-") as scratch, ThreadPoolExecutor(args.jobs) as pool:
            rows = list(pool.map(lambda case: run_case(case, args, scratch), cases))
    width = max(len(row["file"]) for row in rows)
    expected_width = max(len(row["expected"]) for row in rows)
    print(f"{'file':<{width}} | {'expected':<{expected_width}} | got")
    print(f"{'-' * width}-+-{'-' * expected_width}-+-{'-' * 30}")
    for row in rows:
        if row["ok"]:
            mark = "   (pending no longer needed: " + row["pending"] + ")" if row["pending"] else ""
        elif row["pending"]:
            mark = "   (pending: " + row["pending"] + ")"
        else:
            mark = "   <-- MISMATCH: " + row["message"][:300]
        print(f"{row['file']:<{width}} | {row['expected']:<{expected_width}} | {row['got']}{mark}")
    failed = sum(not row["ok"] and not row["pending"] for row in rows)
    pending = sum(not row["ok"] and bool(row["pending"]) for row in rows)
    print(f"\n{len(rows) - failed - pending} of {len(rows)} cases got the expected verdict"
          + (f", {pending} pending" if pending else ""))
    escaped = list(CORPUS.glob("ESCAPED*"))
    if escaped:
        print("a candidate wrote outside its job folder: " + ", ".join(map(str, escaped)))
        failed += 1
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())

"""Checks the end-to-end --interpret run: what it printed to JSON and stored in SQLite agree, every task of
the suite ran, every job has a verdict, and the baseline and expert (fixture tutorials) columns pass, or say
why the interpreter cannot run them (the manifest's interpret_skip); those are listed. And what `report`,
`leaderboard` and `compare` printed from the store (in WORK_DIR) says the same."""

import csv
import json
import sqlite3
import sys
from pathlib import Path

report_path, db_path, exit_code = sys.argv[1], sys.argv[2], int(sys.argv[3])
work = Path(sys.argv[4]) if len(sys.argv) > 4 else None
with open(report_path) as report_file:
    report = json.load(report_file)
failures = []
passed = 0


def expect(cond, what):
    global passed
    if cond:
        passed += 1
    else:
        failures.append(what)


NOT_UNDER_INTERPRETER = "not under the Triton interpreter: "
NOT_RUN_UNDER_INTERPRETER = "not run under the Triton interpreter: "
jobs = report["jobs"]
tasks = {j["task"] for j in jobs}
suite = {p.parent.name for p in (Path(__file__).resolve().parents[2] / "tasks").glob("*/task.toml")}
expect(tasks == suite, f"every task of the suite ran, got {sorted(tasks)}, expected {sorted(suite)}")
skipped = []
for job in jobs:
    name = f'{job["task"]}/{job["implementation"]}'
    if job["status"] == "unavailable" and job["message"].startswith((NOT_UNDER_INTERPRETER, NOT_RUN_UNDER_INTERPRETER)):
        skipped.append(f"  {name:<40} {job['message']}")
        continue
    expect(job["status"] in {"ok", "wrong_result", "syntax_error", "import_error", "missing_entry",
                             "compile_error", "runtime_error", "timeout", "crashed", "rejected"}
           or (job["status"] == "unavailable" and job["implementation"].startswith("llm:")),
           f"{name}: a worker verdict, got {job['status']}: {job['message']}")
    if job["implementation"] == "baseline" or job["implementation"].startswith("expert"):
        expect(job["status"] == "ok", f"{name}: ok, got {job['status']}: {job['message']}")
        expect(len(job["checks"]) > 0 and all(c["ok"] for c in job["checks"]), f"{name}: checks ran and passed")
        expect(job["timings"] == [], f"{name}: no timings under --interpret")
    print(f'  {name:<40} {job["status"]:<14} {job["message"][:80]}')

print("Not run under the interpreter, as the manifests say:")
print("\n".join(skipped) or "  (none)")
all_ok = all(j["status"] in ("ok", "unavailable") for j in jobs)
expect(exit_code == (0 if all_ok else 1), f"exit code {exit_code} matches the verdicts")

db = sqlite3.connect(db_path)
stored = db.execute("SELECT COUNT(*) FROM jobs WHERE run_id = ?", (report["run_id"],)).fetchone()[0]
expect(stored == len(jobs), f"every job stored: {stored} in the database, {len(jobs)} in the JSON")
status = db.execute("SELECT status FROM runs WHERE id = ?", (report["run_id"],)).fetchone()[0]
expect(status == "finished", f"run finished, got {status}")

if work is not None:
    printed = json.loads((work / "report.json").read_text())
    expect([t["task"] for t in printed["tasks"]] == [t["task"] for t in report["tasks"]],
           "report --format json has the run's tables")
    expect(printed["heading"].startswith(f"Run {report['run_id']} of "), "report --format json says which run")
    with open(work / "report.csv", newline="") as file:
        records = list(csv.DictReader(file))
    expect({r["task"] for r in records} == tasks, "report --format csv has every task")
    expect(all(r["kernel_median_us"] == "" for r in records), "report --format csv: no times under --interpret")
    expect((work / "report.md").read_text().startswith("# tritonize report"), "report --format md")
    html = (work / "report.html").read_text()
    expect(html.startswith("<!DOCTYPE html>") and "<section id=\"task-softmax\"" in html, "report --format html")
    expect("Correctness (no timings)" in (work / "report.text").read_text(), "report --format text")
    expect("Models, ranked" in (work / "leaderboard.txt").read_text(), "leaderboard ranks the models")
    expect("0 regression(s)" in (work / "compare.txt").read_text(), "compare of the run with itself")

for f in failures:
    print("FAILED:", f)
if failures:
    # The run's seed picks the hidden sizes and the distributions' draws (docs/security.md); with it the failure
    # can be run again: bench ... --run-seed N.
    environment = json.loads(db.execute("SELECT environment FROM runs WHERE id = ?", (report["run_id"],)).fetchone()[0])
    print("run seed:", environment.get("run_seed"))
print(f"e2e: {passed} passed, {len(failures)} failed")
sys.exit(1 if failures else 0)

"""The compare step's own cost, on the CPU, at a task's full check sizes (docs/measurement.md states the figures).

On the H200 the compare step took 23-40 s of a job's critical path (docs/results/2026-12-03-h200-runner.txt): it
runs in a step server on the CPU, whatever GPU the run has, so it can be measured on any machine. This builds what
the step reads as a GPU run would: the real reference step (the task's baseline in float64, here on the CPU) at the
task's `check_sizes` and seeds, every distribution and the hidden case, then an outputs file that holds the reference
rounded to each output's dtype for the first call and for every later call the candidate step records
(tensor_files.CALLS). It times the real `run_compare` on those files, REPEAT times, and prints one line per task:

    task  later calls  compares  elements  reference-step s  compare-step wall s (min and median of REPEAT)
    compare-step CPU s (median; all threads: less sensitive to other load than the wall time)  torch threads

From the repository root, with the worker's Python:

    python benchmarks/compare_step.py [--tasks softmax,layernorm] [--repeat 3] [--threads N]
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import tempfile
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "python"))

import torch
from tritonize_worker.cases import check_cases, planned_outputs
from tritonize_worker.compare import run_compare
from tritonize_worker.inputs import torch_dtype
from tritonize_worker.protocol import Result, parse_request
from tritonize_worker.reference import run_reference
from tritonize_worker.tensor_files import CALLS, TensorFiles, save_tensors


def request_for(task: str, folder: Path, role: str) -> dict:
    with open(ROOT / "tasks" / task / "task.toml", "rb") as file:
        manifest = tomllib.load(file)
    request = {
        "schema_version": 2,
        "task": manifest,
        "task_dir": str(ROOT / "tasks" / task),
        "device": "cpu",
        "interpret": False,
        "check": {"sizes": manifest.get("check_sizes", manifest["sizes"]), "seeds": manifest["seeds"]},
        "timing": {"enabled": False},
        "role": role,
        "files": {name: str(folder / name) for name in ("reference", "outputs", "candidate_result")},
    }
    if role == "compare":  # it never imports it; it names the column (a candidate: no exemption from any check)
        path = str(ROOT / "tasks" / task / manifest["baseline"])
        request["implementation"] = {"name": "llm", "kind": "candidate", "path": path, "entry": manifest["entry"]}
    return request


def outputs_like_a_right_candidate(request, reference: dict, later_calls: str) -> dict:
    """Every planned output that is compared by value, as a right candidate writes it: the reference in the output's
    dtype, for the first call and for each later one: the same values (`same`, a deterministic candidate), or values
    that differ in one element by one unit in the last place (`differ`, the worst case: every call compared)."""
    outputs = {}
    cases = check_cases(request.task, request.check.sizes, request.check.seeds, request.guards.run_seed)
    for planned in planned_outputs(request.task, cases):
        dtype = torch_dtype(planned.dtype)
        for key, value in reference.items():
            if key == planned.key or key.startswith(planned.key + "."):
                written = value if key.endswith(".len") else value.to(dtype)
                outputs[key] = written
                if not key.endswith(".len"):
                    for call in CALLS:
                        later = written.clone()
                        if later_calls == "differ" and later.numel():
                            flat = later.view(-1)
                            flat[0] = torch.nextafter(flat[0], torch.tensor(math.inf, dtype=flat.dtype))
                        outputs[f"{key}@{call}"] = later
    return outputs


def measure(task: str, repeat: int, later_calls: str) -> dict:
    with tempfile.TemporaryDirectory(prefix=f"compare-step-{task}-") as temporary:
        folder = Path(temporary)
        reference_request = parse_request(request_for(task, folder, "reference"))
        started = time.perf_counter()
        reference_result = Result()
        run_reference(reference_request, reference_result)
        reference_s = time.perf_counter() - started
        reference = dict(TensorFiles(reference_request.files.reference))  # its first file and its parts
        request = parse_request(request_for(task, folder, "compare"))
        save_tensors(request.files.outputs, outputs_like_a_right_candidate(request, reference, later_calls))
        (folder / "candidate_result").write_text(json.dumps({"status": "ok", "guards": []}))
        times, cpu, result = [], [], Result()
        for _ in range(repeat):
            result = Result()
            started, cpu_started = time.perf_counter(), time.process_time()
            run_compare(request, result)
            times.append(time.perf_counter() - started)
            cpu.append(time.process_time() - cpu_started)
        if result.status != "ok":
            raise SystemExit(f"{task}: the compare of a right candidate ended {result.status}: {result.message}")
        return {
            "task": task,
            "compares": len(result.checks),
            "elements": sum(int(check.get("numel", 0)) for check in result.checks),
            "reference_s": reference_s,
            "compare_min_s": min(times),
            "compare_median_s": statistics.median(times),
            "compare_cpu_s": statistics.median(cpu),
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", default="softmax,layernorm", help="comma-separated task names")
    parser.add_argument("--repeat", type=int, default=3, help="timed compare steps per task")
    parser.add_argument("--later-calls", choices=("same", "differ", "both"), default="both",
                        help="later calls' outputs: the first call's values, or one element one ulp apart")
    parser.add_argument("--threads", type=int, default=0, help="torch.set_num_threads (0: torch's default)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"{'task':14} {'later calls':>11} {'compares':>8} {'elements':>12} {'reference s':>11}"
          f" {'compare s min':>13} {'median':>7} {'CPU s':>7} {'threads':>7}")
    for task in args.tasks.split(","):
        for later_calls in ("same", "differ") if args.later_calls == "both" else (args.later_calls,):
            row = measure(task, args.repeat, later_calls)
            print(f"{row['task']:14} {later_calls:>11} {row['compares']:8d} {row['elements']:12d}"
                  f" {row['reference_s']:11.2f} {row['compare_min_s']:13.2f} {row['compare_median_s']:7.2f}"
                  f" {row['compare_cpu_s']:7.2f} {torch.get_num_threads():7d}", flush=True)


if __name__ == "__main__":
    main()

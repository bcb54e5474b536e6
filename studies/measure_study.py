"""The study behind docs/measurement.md's defaults, on a GPU: runs the real worker in fresh processes over
every task and implementation, with each L2 flush mode, in alternating order, and keeps every sample.

usage: python3 studies/measure_study.py --out DIR [--expert-dir DIR] [--reps 3] [--tasks softmax,layernorm]
Each worker job gets a fixed sample budget (no early stop: --calls per size and mode) so that stopping rules can
be replayed offline from the samples; one JSON line per job is appended to DIR/study.jsonl as it finishes.
"""

import argparse
import json
import os
import subprocess
import sys
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LLM_MODEL = "claude-devsession-oneshot"


def request(task: str, impl: str, path: Path, entry: str, flush_mode: str, calls: int) -> dict:
    with open(ROOT / "tasks" / task / "task.toml", "rb") as file:
        manifest = tomllib.load(file)
    return {
        "schema_version": 1,
        "task": manifest,
        "task_dir": str(ROOT / "tasks" / task),
        "implementation": {"name": impl, "path": str(path), "entry": entry},
        "device": "cuda",
        "interpret": False,
        "check": {"sizes": manifest["sizes"], "seeds": [0]},
        "timing": {
            "enabled": True,
            "sizes": manifest["sizes"],
            "warmup_calls": 10,
            "calls": 100,
            "flush_bytes": 256 << 20,
            "flush_mode": flush_mode,
            "max_calls": calls,
            "max_median_rse": 0.0,  # never converged: every job takes `calls` samples, for offline replay
            "timeout_s": 5.0,
        },
    }


def implementations(task: str, expert_dir: Path | None, with_compile: bool) -> list[tuple[str, Path, str]]:
    with open(ROOT / "tasks" / task / "task.toml", "rb") as file:
        manifest = tomllib.load(file)
    baseline = ROOT / "tasks" / task / manifest["baseline"]
    impls = [("baseline", baseline, manifest["entry"])]
    if expert_dir is not None:
        impls.append(("expert", expert_dir / f"{task}.py", manifest["expert"]["entry"]))
    impls.append((f"llm:{LLM_MODEL}", ROOT / "llm_triton" / LLM_MODEL / f"{task}.py", manifest["entry"]))
    if with_compile:
        impls.append(("compile", baseline, manifest["entry"]))
    return impls


def run_job(req: dict, workdir: Path) -> dict:
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "request.json").write_text(json.dumps(req))
    worker_path = os.environ.get("TRITONIZE_WORKER_PATH", str(ROOT / "python"))
    env = {**os.environ, "PYTHONPATH": worker_path, "TRITON_INTERPRET": "0",
           "TRITON_CACHE_DIR": str(workdir.parent / "triton-cache")}
    started = time.perf_counter()
    completed = subprocess.run(
        [sys.executable, "-m", "tritonize_worker", "--request", "request.json", "--result", "result.json"],
        cwd=workdir, env=env, capture_output=True, text=True, timeout=300, check=False)
    try:
        result = json.loads((workdir / "result.json").read_text())
    except (OSError, ValueError):
        result = {"status": "crashed", "message": completed.stderr[-2000:]}
    result["process_s"] = time.perf_counter() - started
    return result


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    parser.add_argument("--expert-dir")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--tasks", default="softmax,layernorm,matmul")
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--compile", action="store_true", help="also time torch.compile, once, flush read")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    expert_dir = Path(args.expert_dir).resolve() if args.expert_dir else None
    jobs = []
    for rep in range(args.reps):
        modes = ("read", "write") if rep % 2 == 0 else ("write", "read")
        for mode in modes:
            for task in args.tasks.split(","):
                impls = implementations(task, expert_dir, with_compile=False)
                jobs += [(rep, mode, task, impl) for impl in (impls if rep % 2 == 0 else impls[::-1])]
    if args.compile:
        for task in args.tasks.split(","):
            jobs.append((0, "read", task, implementations(task, expert_dir, with_compile=True)[-1]))
    with open(out / "study.jsonl", "a") as log:
        for i, (rep, mode, task, (name, path, entry)) in enumerate(jobs):
            result = run_job(request(task, name, path, entry, mode, args.calls), Path("/tmp/study") / f"job{i}")
            line = {"rep": rep, "flush": mode, "task": task, "impl": name, "result": result}
            log.write(json.dumps(line) + "\n")
            log.flush()
            medians = [sorted(t["kernel_us"])[len(t["kernel_us"]) // 2] for t in result.get("timings", [])]
            print(f"[{i + 1}/{len(jobs)}] rep {rep} {mode:5} {task:9} {name:35} {result['status']:8} "
                  f"{result['process_s']:5.1f} s  medians {' '.join(f'{m:.2f}' for m in medians)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Is a cell's process-to-process level a matter of where its tensors sit? A GPU study for any task, mode and size.

usage: python3 studies/placement_study.py --task layernorm --size 2048x2048 --mode backward --impl compile
                                          [--path FILE --entry EXPR] [--processes 4] [--placements 4] [--calls 200]

In each of --processes fresh processes, the implementation is prepared as the worker prepares it for timing (its
inputs, and for the backward its graph and dy: study_timing.prepare_call) once per placement, each placement after a pad
of random size, so that its tensors (and, for the backward, the graph's saved tensors) sit elsewhere. Each placement
is timed with the worker's own method (CUPTI kernel time, L2 flushed before each call) and reports its median and
each kernel's median (median_us_by_kernel). If the placements within a process spread as much as the
processes do, the level is placement; if every process is steady within itself but sits on its own level, it is
something a process fixes once (its compiled code, its allocator's state at the start). --impl: baseline, compile
(the baseline under tritonize's torch.compile wrapper, deterministic mode) or file (--path, --entry: an LLM
candidate or an extracted expert). Written in the fifth session without a GPU left to run it: not yet run.
"""

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def request_for(args: argparse.Namespace) -> dict:
    """A timing request as the engine sends one (docs/protocol.md), for the study's one size and mode."""
    with open(ROOT / "tasks" / args.task / "task.toml", "rb") as file:
        manifest = tomllib.load(file)
    path = args.path or str(ROOT / "tasks" / args.task / manifest["baseline"])
    return {
        "schema_version": 2,
        "role": "candidate",
        "task": manifest,
        "task_dir": str(ROOT / "tasks" / args.task),
        "implementation": {"name": args.impl, "kind": "baseline" if args.impl != "file" else "candidate",
                           "path": path, "entry": args.entry or manifest["entry"]},
        "device": "cuda",
        "interpret": False,
        "check": {"sizes": [args.size], "seeds": manifest["seeds"]},
        "timing": {"enabled": True, "sizes": [args.size], "warmup_calls": 10, "calls": args.calls,
                   "flush_bytes": 256 << 20},
        "files": {"outputs": os.devnull},
    }


def child(args: argparse.Namespace) -> None:
    sys.path.insert(0, str(ROOT / "python"))
    import torch
    from study_timing import first_call, median_us_by_kernel, prepare_call, profiled_calls, warm_up, warm_up_profiler
    from tritonize_worker.inductor import compiled
    from tritonize_worker.l2_flush import L2Flush
    from tritonize_worker.load import load_entry
    from tritonize_worker.protocol import parse_request

    raw = request_for(args)
    request = parse_request(raw)
    entry = load_entry(raw["implementation"]["path"], raw["implementation"]["entry"], args.impl)
    if args.impl == "compile":
        entry = compiled(entry, "deterministic")
    flush = L2Flush(raw["timing"]["flush_bytes"], "cuda", "read")
    rng = random.Random(os.getpid())
    pads, placements = [], []
    for k in range(args.placements):
        if k > 0:
            pads.append(torch.empty(rng.randrange(1, 64) * (1 << 20) + rng.randrange(0, 1 << 20, 256),
                                    dtype=torch.uint8, device="cuda"))
        call, reset = prepare_call(entry, request, args.size, args.mode)
        if k == 0:
            first_call(call, reset)  # compile and autotune outside every timed batch
            warm_up_profiler(flush)
        warm_up(call, reset, 10)
        profiles = profiled_calls(call, reset, flush, args.calls)
        placements.append({"median_us": round(statistics.median(p.kernel_us for p in profiles), 3),
                           "by_kernel": median_us_by_kernel(profiles)})
    print(json.dumps({"pid": os.getpid(), "placements": placements}))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--task", default="layernorm")
    parser.add_argument("--size", default="2048x2048")
    parser.add_argument("--mode", default="backward", choices=("forward", "backward"))
    parser.add_argument("--impl", default="compile", choices=("baseline", "compile", "file"))
    parser.add_argument("--path", default="")
    parser.add_argument("--entry", default="")
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--placements", type=int, default=4)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--out", default="", help="a JSON line per process is appended here")
    parser.add_argument("--child", action="store_true")
    args = parser.parse_args()
    if args.impl == "file" and not args.path:
        parser.error("--impl file needs --path (and --entry unless the task's entry is the name)")
    if args.child:
        child(args)
        return 0
    medians = []
    for process in range(args.processes):
        command = [sys.executable, __file__, "--child", *sys.argv[1:]]
        done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
        if done.returncode != 0:
            print(f"process {process} failed:", done.stderr[-1500:])
            continue
        line = json.loads(done.stdout.strip().splitlines()[-1])
        if args.out:
            with open(args.out, "a") as file:
                file.write(json.dumps(line) + "\n")
        these = [p["median_us"] for p in line["placements"]]
        medians.append(these)
        print(f"process {process}: medians per placement (us) {' '.join(f'{m:.2f}' for m in these)}")
        for k, placement in enumerate(line["placements"]):
            kernels = ", ".join(f"{name} {us:.2f}" for name, us in placement["by_kernel"].items())
            print(f"    placement {k}: {kernels}")
    if len(medians) >= 2:
        within = statistics.median((max(m) - min(m)) / min(m) for m in medians)
        levels = [statistics.median(m) for m in medians]
        between = (max(levels) - min(levels)) / min(levels)
        print(f"spread within a process (median over processes): {100 * within:.2f}%;"
              f" between the processes' medians: {100 * between:.2f}%")
    return 0


if __name__ == "__main__":
    sys.exit(main())

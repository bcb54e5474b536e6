"""Why does the torch.compile column sit on different levels in different processes? A GPU study.

usage: python3 studies/compile_levels_study.py --out DIR [--task layernorm --size 4096x4096 --processes 6]

Runs the task's baseline under tritonize's torch.compile wrapper in fresh processes, forward mode, and in each:
- records the configuration Inductor's autotuner chose for every kernel, and the timings its own benchmark gave
  each candidate configuration (CachingAutotuner.benchmark_all_configs, wrapped);
- times the compiled call with the worker's own method (CUPTI kernel time, L2 flushed before each call) at
  several placements: the same inputs, then fresh copies allocated after a pad of a random size.
Variants: a fresh Inductor cache per process (what a new run sees), the first process's cache shared (what a
repeat within a run sees), all in Inductor's default mode, and its deterministic mode (no benchmark-chosen
reduction configs: tritonize's default, python/tritonize_worker/inductor.py). One JSON line per process in DIR/levels.jsonl; a summary on stdout.
"""

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def child(args: argparse.Namespace) -> None:
    sys.path.insert(0, str(ROOT / "python"))
    import torch
    from study_timing import first_call, profiled_calls, warm_up, warm_up_profiler
    from torch._inductor.runtime.triton_heuristics import CachingAutotuner
    from tritonize_worker.inductor import compiled
    from tritonize_worker.l2_flush import L2Flush
    from tritonize_worker.load import load_entry

    bench_timings: list[dict] = []
    original = CachingAutotuner.benchmark_all_configs

    def recording(self, *a, **k):
        timings = original(self, *a, **k)
        bench_timings.append({"kernel": self.fn.__name__,
                              "timings_ms": {str(launcher.config): ms for launcher, ms in timings.items()}})
        return timings

    CachingAutotuner.benchmark_all_configs = recording
    ran: dict[int, CachingAutotuner] = {}
    original_run = CachingAutotuner.run

    def run(self, *a, **k):
        ran[id(self)] = self
        return original_run(self, *a, **k)

    CachingAutotuner.run = run

    baseline = load_entry(str(ROOT / "tasks" / args.task / "baseline.py"), args.entry, "baseline")
    entry = compiled(baseline, "deterministic" if args.variant.startswith("deterministic") else "default")
    for size in filter(None, args.first_sizes.split(",")):
        # As the worker's checks do: other sizes compile before the timed one.
        rows, cols = (int(v) for v in size.split("x"))
        entry(torch.randn(rows, cols, dtype=torch.float16, device="cuda"), (cols,),
              torch.rand(cols, dtype=torch.float16, device="cuda"),
              torch.randn(cols, dtype=torch.float16, device="cuda"), 1e-5)
    m, n = (int(v) for v in args.size.split("x"))
    gen = torch.Generator(device="cuda").manual_seed(0)
    x = torch.randn(m, n, dtype=torch.float16, device="cuda", generator=gen)
    w = torch.rand(n, dtype=torch.float16, device="cuda", generator=gen)
    b = torch.randn(n, dtype=torch.float16, device="cuda", generator=gen)
    inputs = [x, (n,), w, b, 1e-5] if args.task == "layernorm" else [x]
    first_s = first_call(lambda: entry(*inputs), lambda: None)

    chosen = [{"kernel": o.fn.__name__, "size_hints": dict(o.size_hints or {}), "launchers": len(o.launchers),
               "config": str(o.launchers[0].config) if o.launchers else None,
               "meta_deterministic": o.inductor_meta.get("deterministic"),
               "config_deterministic": torch._inductor.config.deterministic}
              for o in ran.values()]

    flush = L2Flush(256 << 20, "cuda", "read")
    warm_up_profiler(flush)
    rng = random.Random(os.getpid())
    placements = []
    keep = []
    for k in range(args.placements):
        if k > 0:
            keep.append(torch.empty(rng.randrange(1, 64) * (1 << 20) + rng.randrange(0, 1 << 20, 256),
                                    dtype=torch.uint8, device="cuda"))
            inputs = [t.clone() if isinstance(t, torch.Tensor) else t for t in inputs]
        call = lambda placed=inputs: entry(*placed)  # this placement's inputs
        warm_up(call, lambda: None, 10)
        profiles = profiled_calls(call, lambda: None, flush, args.calls)
        placements.append({"x_ptr_mod_2m": inputs[0].data_ptr() % (2 << 20),
                           "median_us": round(statistics.median(p.kernel_us for p in profiles), 3)})
    print(json.dumps({"variant": args.variant, "first_call_s": round(first_s, 3), "chosen": chosen,
                      "bench": bench_timings, "placements": placements}))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out")
    parser.add_argument("--task", default="layernorm")
    parser.add_argument("--entry", default="layer_norm")
    parser.add_argument("--size", default="4096x4096")
    parser.add_argument("--processes", type=int, default=6)
    parser.add_argument("--deterministic", type=int, default=2, help="processes per deterministic variant")
    parser.add_argument("--placements", type=int, default=5)
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--first-sizes", default="", help="layernorm sizes compiled before --size, comma list")
    parser.add_argument("--child", action="store_true")
    parser.add_argument("--variant", default="")
    args = parser.parse_args()
    if args.child:
        child(args)
        return 0
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="levels-"))
    runs = [("fresh", i) for i in range(args.processes)] + [("shared", 0)] * min(2, args.processes) + \
        [(variant, 100 + i) for i in range(args.deterministic) for variant in ("deterministic", "deterministic-env")]
    lines = []
    for variant, cache in runs:
        cache_dir = scratch / f"cache{cache}{'env' if variant.endswith('-env') else ''}"
        env = {**os.environ, "TORCHINDUCTOR_CACHE_DIR": str(cache_dir / "inductor"),
               "TRITON_CACHE_DIR": str(cache_dir / "triton")}
        if variant == "deterministic-env":
            env["TORCHINDUCTOR_DETERMINISTIC"] = "1"
        cmd = [sys.executable, __file__, "--child", "--variant", variant, "--task", args.task, "--entry",
               args.entry, "--size", args.size, "--first-sizes", args.first_sizes, "--placements", str(args.placements), "--calls", str(args.calls)]
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300, check=False)
        if done.returncode != 0:
            print(variant, "failed:", done.stderr[-1500:])
            continue
        line = json.loads(done.stdout.strip().splitlines()[-1])
        lines.append(line)
        (out / "levels.jsonl").open("a").write(json.dumps(line) + "\n")
        configs = "; ".join(f"{c['kernel']}[{c['config']}] meta_det={c['meta_deterministic']}"
                            f" config_det={c['config_deterministic']}" for c in line["chosen"])
        medians = " ".join(f"{p['median_us']:.2f}" for p in line["placements"])
        print(f"{variant:13s} first {line['first_call_s']:6.2f}s  medians {medians}  {configs}")
        for bench in line["bench"]:
            print("    autotune", bench["kernel"], {c: round(ms * 1000, 2) for c, ms in bench["timings_ms"].items()})
    return 0


if __name__ == "__main__":
    sys.exit(main())

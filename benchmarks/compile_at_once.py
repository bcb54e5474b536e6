"""How long an autotuned matmul's configurations take to compile one by one, and at once on several threads
(autotune_timer.compile_in_parallel), on this machine's CPU: no GPU needed. Triton compiles for an sm_90 target
through the stand-in driver of python/tests/parallel_compile_probe.py, which only names the device and target.

    build/tritonize extract --tutorials .tutorials --out /tmp/experts --tasks matmul
    python benchmarks/compile_at_once.py /tmp/experts/matmul.tutorial.py [--threads N] [--size 1024]

Each way runs in a fresh process with an empty Triton cache; the script prints the seconds of each and the kernels
found in Triton's cache afterwards. The module is the extracted expert of a task (never committed: the tutorials are
read at run time); its autotuned kernel is `matmul_kernel`, called as tutorial 03's `matmul` calls it.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def measure(module_path: str, way: str, threads: int, size: int) -> dict:
    import importlib.util

    import torch
    from triton.runtime import driver

    sys.path.insert(0, str(ROOT / "python" / "tests"))
    from parallel_compile_probe import StandInDriver  # names the device and an sm_90 target, nothing more

    driver.set_active(StandInDriver())
    spec = importlib.util.spec_from_file_location("expert", module_path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    tuner = module.matmul_kernel
    a = torch.empty((size, size), dtype=torch.float16)
    b = torch.empty((size, size), dtype=torch.float16)
    c = torch.empty((size, size), dtype=torch.float16)
    args = (a, b, c, size, size, size, a.stride(0), a.stride(1), b.stride(0), b.stride(1), c.stride(0), c.stride(1))
    launch = {"ACTIVATION": "", "grid": (1,), "warmup": False}
    tuner.nargs = dict(zip(tuner.arg_names, args, strict=False))
    configs = tuner.prune_configs(launch)
    started = time.perf_counter()
    if way == "one by one":
        for config in configs:
            tuner.fn.run(*args, **{**launch, **config.all_kwargs(), "warmup": True})
    else:
        from tritonize_worker import autotune_timer

        autotune_timer.COMPILE_THREADS = threads
        autotune_timer.compile_in_parallel(tuner, args, launch, configs)
    seconds = time.perf_counter() - started
    return {"way": way, "configurations": len(configs), "seconds": round(seconds, 2),
            "cached": len(tuner.fn.device_caches[0][0])}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("module")
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--size", type=int, default=1024)
    parser.add_argument("--way", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.way:
        print(json.dumps(measure(args.module, args.way, args.threads, args.size)))
        return 0
    for way in ("one by one", "at once"):
        with tempfile.TemporaryDirectory() as cache:
            env = {**os.environ, "TRITON_INTERPRET": "0", "TRITON_CACHE_DIR": cache,
                   "PYTHONPATH": str(ROOT / "python")}
            done = subprocess.run(
                [sys.executable, __file__, args.module, "--way", way, "--threads", str(args.threads),
                 "--size", str(args.size)], env=env, capture_output=True, text=True, check=False)
            if done.returncode != 0:
                print(done.stderr[-2000:], file=sys.stderr)
                return 1
            found = json.loads(done.stdout.strip().splitlines()[-1])
            print(f"{found['way']:<11} {found['configurations']} configurations in {found['seconds']:.2f} s "
                  f"({found['cached']} kernels in Triton's cache)" + (f", {args.threads} threads" if way == "at once"
                                                                       else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())

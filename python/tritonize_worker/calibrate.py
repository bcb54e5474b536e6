"""python -m tritonize_worker.calibrate --result CEILINGS.json [--copy-bytes N] [--gemm-size N] [--calls N]

The GPU's measured ceilings, for `tritonize calibrate` and the roofline's "% of measured": a device-to-device
copy (bandwidth: bytes read plus bytes written per second) and large cuBLAS GEMMs (dense TFLOP/s in fp16, bf16,
tf32 and fp32), each timed with CUPTI (torch.profiler): every activity's own duration, median over the calls.
Writes one JSON object; exits 0 after writing it, 1 when it cannot be written. CUDA only.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from typing import Any

from .env import Environment, device_properties

COPY_BYTES = 2 << 30  # 2 GiB: far beyond any L2, long enough that launch latency is noise
GEMM_SIZE = 8192
CALLS = 20
WARMUP_CALLS = 5


def activity_durations_us(run: Callable[[], Any], calls: int, warmup: int) -> list[float]:
    """Durations (us) of the device activities of `calls` calls of `run`, after `warmup` untimed calls. A call
    may launch more than one (cuBLAS can add a split-K reduction): per_call_us sums them."""
    import torch
    from torch.autograd import DeviceType
    from torch.profiler import ProfilerActivity, profile

    for _ in range(warmup):
        run()
    torch.cuda.synchronize()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Warning: Profiler clears events")
        with profile(activities=[ProfilerActivity.CUDA]) as prof:
            for _ in range(calls):
                run()
            torch.cuda.synchronize()
    return [
        event.time_range.end - event.time_range.start
        for event in prof.events()
        if event.device_type == DeviceType.CUDA and not event.is_user_annotation and "Sync" not in event.name
    ]


def per_call_us(durations: list[float], calls: int) -> float:
    """Device time per call: every activity's duration summed, over the number of calls (back to back, so a
    call's several kernels and their gaps never overlap another call's)."""
    return sum(durations) / calls


def measure_copy(nbytes: int, calls: int) -> dict[str, Any]:
    import torch

    source = torch.ones(nbytes // 4, dtype=torch.int32, device="cuda")
    target = torch.empty_like(source)
    durations = activity_durations_us(lambda: target.copy_(source), calls, WARMUP_CALLS)
    median_us = statistics.median(durations) if len(durations) == calls else per_call_us(durations, calls)
    return {
        "bytes": nbytes,
        "calls": calls,
        "activities": len(durations),
        "median_us": round(median_us, 3),
        # A copy reads and writes every byte: DRAM traffic is twice the size.
        "gb_per_s": round(2 * nbytes / median_us / 1e3, 1),
    }


def measure_gemm(size: int, dtype_name: str, calls: int) -> dict[str, Any]:
    import torch

    dtype = {"float16": torch.float16, "bfloat16": torch.bfloat16, "tf32": torch.float32, "float32": torch.float32}
    torch.backends.cuda.matmul.allow_tf32 = dtype_name == "tf32"
    a = torch.randn(size, size, device="cuda").to(dtype[dtype_name])
    b = torch.randn(size, size, device="cuda").to(dtype[dtype_name])
    out = torch.empty(size, size, device="cuda", dtype=dtype[dtype_name])
    durations = activity_durations_us(lambda: torch.matmul(a, b, out=out), calls, WARMUP_CALLS)
    median_us = statistics.median(durations) if len(durations) == calls else per_call_us(durations, calls)
    torch.backends.cuda.matmul.allow_tf32 = False
    return {
        "m": size,
        "n": size,
        "k": size,
        "dtype": dtype_name,
        "calls": calls,
        "activities": len(durations),
        "median_us": round(median_us, 3),
        "tflop_per_s": round(2 * size**3 / median_us / 1e6, 1),
    }


def calibrate(copy_bytes: int, gemm_size: int, calls: int) -> dict[str, Any]:
    environment = Environment("cuda", interpret=False)
    before = environment.snapshot()
    started = time.perf_counter()
    ceilings = {
        "copy": measure_copy(copy_bytes, calls),
        "gemm": [measure_gemm(gemm_size, name, calls) for name in ("float16", "bfloat16", "tf32", "float32")],
    }
    return {
        "schema_version": 1,
        "status": "ok",
        "message": "",
        "ceilings": ceilings,
        "device": device_properties(),
        "environment": environment.fields,
        "env_before": before,
        "env_after": environment.snapshot(),
        "wall_s": round(time.perf_counter() - started, 3),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tritonize_worker.calibrate", description=__doc__)
    parser.add_argument("--result", required=True, metavar="CEILINGS.json")
    parser.add_argument("--copy-bytes", type=int, default=COPY_BYTES)
    parser.add_argument("--gemm-size", type=int, default=GEMM_SIZE)
    parser.add_argument("--calls", type=int, default=CALLS)
    args = parser.parse_args(argv)
    try:
        import torch

        if not torch.cuda.is_available():
            raise RuntimeError("calibration needs CUDA, and torch.cuda.is_available() is False")
        result = calibrate(args.copy_bytes, args.gemm_size, args.calls)
    except Exception as exc:  # noqa: BLE001 - a failure is a result, as in the job worker
        result = {"schema_version": 1, "status": "runtime_error", "message": f"{type(exc).__name__}: {exc}"}
    try:
        with open(args.result, "w", encoding="utf-8") as file:
            json.dump(result, file, indent=2)
            file.write("\n")
    except OSError as exc:
        print(f"cannot write {args.result}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Run by test_parallel_compile.py in a process of its own, without the interpreter: a real Triton autotuner's
configurations compiled at once by autotune_timer.compile_in_parallel, for an sm_90 target on a machine without a
GPU. Triton compiles for a target without the device (ptxas comes with it); a stand-in driver says which device,
stream and target are current, which is all a compile asks of it. Prints one JSON line."""

import json
import os
import sys

os.environ["TRITON_INTERPRET"] = "0"

import torch
import triton
import triton.language as tl
from triton.backends.compiler import GPUTarget
from triton.runtime import driver


class StandInDriver:
    """No GPU: device 0, stream 0 and an sm_90 target; anything that would launch fails."""

    def get_current_device(self):
        return 0

    def get_current_stream(self, device=None):
        return 0

    def get_current_target(self):
        return GPUTarget("cuda", 90, 32)

    def get_active_torch_device(self):
        return torch.device("cpu")

    def get_benchmarker(self):
        raise RuntimeError("no GPU to benchmark on")


CONFIGS = [triton.Config({"BLOCK": block}, num_warps=warps) for block in (64, 128, 256, 512) for warps in (2, 4)]


@triton.autotune(configs=CONFIGS, key=["n"])
@triton.jit
def scaled_exp(x_ptr, y_ptr, n, BLOCK: tl.constexpr):
    offsets = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    x = tl.load(x_ptr + offsets, mask=offsets < n)
    tl.store(y_ptr + offsets, tl.exp(x) * 2, mask=offsets < n)


def main() -> None:
    from tritonize_worker import autotune_timer, lane

    driver.set_active(StandInDriver())
    events = []
    undo = lane.release_while_compiling((lambda: events.append("started"), lambda: events.append("ended")))
    x = torch.arange(1000, dtype=torch.float32)
    y = torch.empty_like(x)
    args = (x, y, 1000)
    scaled_exp.nargs = dict(zip(scaled_exp.arg_names, args, strict=False))  # BLOCK comes from each configuration
    try:
        # As Autotuner.run gets them from kernel[grid](...): the grid and warmup=False among the keyword arguments.
        submitted = autotune_timer.compile_in_parallel(scaled_exp, args, {"grid": (4,), "warmup": False}, CONFIGS)
    finally:
        undo()
    kernels = scaled_exp.fn.device_caches[0][0]
    print(
        json.dumps(
            {
                "submitted": submitted,
                "cached": len(kernels),
                "warps": sorted(kernel.metadata.num_warps for kernel in kernels.values()),
                "started": events.count("started"),
                "ended": events.count("ended"),
                "record": autotune_timer.batching.record(),
            }
        )
    )


if __name__ == "__main__":
    sys.exit(main())

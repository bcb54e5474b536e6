"""A backward that consumes its inputs, timed on a real GPU in a process of its own: `python
gpu_consumed_inputs_probe.py` prints one JSON line of what each timed call's backward was given and what the
profile held. test_gpu.py runs it with TRITON_INTERPRET=0: the test process has the interpreter on (conftest.py),
so the restoring and flush kernels would run interpreted there, as host copies, and the profile would hold no
kernel of theirs (the H100, 2026-12-05: "the profile holds 0 tritonize_l2_flush kernels").
"""

import importlib.util
import json
import tomllib
from pathlib import Path

import torch

from tritonize_worker import lane, timing
from tritonize_worker.inputs import draw_inputs
from tritonize_worker.l2_flush import L2Flush
from tritonize_worker.manifest import parse_task
from tritonize_worker.protocol import CheckPlan, Guards, Request, TimingPlan

TESTS_DIR = Path(__file__).resolve().parent
TASKS_DIR = TESTS_DIR.parents[1] / "tasks"


def probe() -> dict:
    task = parse_task(tomllib.loads((TASKS_DIR / "geglu" / "task.toml").read_text()))
    request = Request(task, "", None, "cuda", False, CheckPlan(("64x128",), (0,)), TimingPlan(True), guards=Guards(7))
    spec = importlib.util.spec_from_file_location(
        "consuming_geglu", TESTS_DIR / "candidates" / "geglu_overwrites_inputs_in_backward.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    # What each backward is given as the gate: recorded on the host, compared with the input as drawn.
    slope, gates = module._gelu_and_slope, []
    module._gelu_and_slope = lambda a: (gates.append(a.detach().cpu().clone()), slope(a))[1]
    draw = draw_inputs(task, "256x512", 0, "cpu")
    drawn_a = draw.args[0].clone()

    def as_drawn() -> list[bool]:
        return [torch.equal(gate.to(drawn_a.dtype), drawn_a) for gate in gates]

    call, reset, _ = timing._prepare_call(module.geglu, request, draw, "backward", "timing the backward",
                                          lane.configure(None))
    gates.clear()  # the forward's
    for _ in range(3):
        reset()
        call()
    torch.cuda.synchronize()
    restored = as_drawn()
    # The host-time loop's reset copies nothing: the backward after it runs on what the one before wrote.
    reset.host()
    call()
    torch.cuda.synchronize()
    after_host_reset = as_drawn()[-1]
    # Under the profiler, as the kernel times are taken.
    gates.clear()
    profiles = timing._profiled_calls(call, reset, L2Flush(1 << 24, "cuda"), 3, "timing the backward")
    return {
        "restored": restored,
        "after_host_reset": after_host_reset,
        "profiled_restored": as_drawn(),
        "launches": [dict(profile.launches) for profile in profiles],
        "restore_kernel": timing.RESTORE_KERNEL,
    }


if __name__ == "__main__":
    print(json.dumps(probe()))

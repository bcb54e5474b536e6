"""The worker on a CUDA GPU: real compilation errors and the timing. Skipped, visibly, without a GPU."""

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from conftest import CANDIDATES_DIR, PYTHON_DIR, TASKS_DIR, make_request

pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")]

CALLS = 30
MAX_CALLS = 1000  # protocol.TimingPlan's default
NO_INTERPRETER = {"TRITON_INTERPRET": "0"}


def gpu_request(task: str, path, entry: str | None = None, sizes=("1024x1024",), name: str = "candidate") -> dict:
    request = make_request(task, path, entry, name=name)
    request.update(device="cuda", interpret=False)
    request["timing"] = {
        "enabled": True,
        "sizes": list(sizes),
        "warmup_calls": 3,
        "calls": CALLS,
        "flush_bytes": 1 << 26,
    }
    return request


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float8_e4m3fn", "float8_e5m2"])
def test_inputs_rounded_on_the_cpu_are_the_values_the_gpu_rounds_to(dtype):
    """The draw rounds to the input dtype on the CPU, away from the GPU lane (inputs.draw_tensor); it did so on the
    GPU before: the values must be the same, bit for bit, NaN where the dtype overflows included."""
    generator = torch.Generator().manual_seed(3)
    values = torch.cat([torch.randn(1 << 20, generator=generator) * scale for scale in (1e-6, 1.0, 300.0, 1e5)])
    on_cpu = values.to(dtype=getattr(torch, dtype)).to("cuda")
    on_gpu = values.to("cuda").to(dtype=getattr(torch, dtype))
    torch.testing.assert_close(on_cpu.float(), on_gpu.float(), rtol=0, atol=0, equal_nan=True)


def test_triton_softmax_is_timed_without_the_flush(run_worker):
    result, _ = run_worker(gpu_request("softmax", CANDIDATES_DIR / "softmax_triton.py"), env=NO_INTERPRETER)

    assert (result["status"], result["phase"]) == ("ok", "time"), result["message"]
    [timing] = result["timings"]
    assert (timing["size"], timing["mode"]) == ("1024x1024", "forward")
    assert timing["kernels"] == {"softmax_kernel": 1}
    # Event latency takes exactly the planned calls; kernel time samples adaptively from there (sampling.py).
    assert len(timing["call_us"]) == CALLS
    assert CALLS <= len(timing["kernel_us"]) <= MAX_CALLS
    assert timing["sampling"]["stop"] in ("converged", "max_calls", "timeout")
    assert timing["host_us"] and all(host_us > 0 for host_us in timing["host_us"])
    assert all(0 < kernel_us < 1000 for kernel_us in timing["kernel_us"])
    # The latency wraps the kernel and its launch.
    assert statistics.median(timing["call_us"]) >= statistics.median(timing["kernel_us"])
    assert timing["first_call_s"] >= 0
    assert timing["tuned"] == {}  # softmax_kernel is not autotuned
    # One kernel per call: its median time per call is the call's.
    assert timing["kernel_median_us"] == {"softmax_kernel": pytest.approx(statistics.median(timing["kernel_us"]))}
    environment = result["environment"]
    assert environment["gpu"] and environment["interpret"] is False
    # What the candidate and compare steps' allocators held at most, beside the runner's estimate (job.py): at
    # least the flush buffer (twice the L2) and the 1024x1024 input and output.
    assert environment["gpu_peak_mib"] >= 8  # MiB: 1024x1024 float32 in and out, and the flush buffer
    assert environment["compare_gpu_peak_mib"] > 0  # it compares on the job's GPU (compare.compare_device)
    # The L2's size as the driver gives it: the roofline's floor leaves out the writes it may hold (gpu_specs.h).
    assert environment["device"]["l2_bytes"] >= 32 << 20, environment["device"]


def test_layernorm_baseline_is_timed_forward_and_backward(run_worker):
    request = gpu_request(
        "layernorm", TASKS_DIR / "layernorm" / "baseline.py", sizes=("1024x1024", "2048x2048"), name="baseline"
    )
    result, _ = run_worker(request, env=NO_INTERPRETER)

    assert result["status"] == "ok", result["message"]
    assert [(t["size"], t["mode"]) for t in result["timings"]] == [
        ("1024x1024", "forward"),
        ("1024x1024", "backward"),
        ("2048x2048", "forward"),
        ("2048x2048", "backward"),
    ]
    for timing in result["timings"]:
        assert timing["kernels"] and "tritonize_l2_flush" not in timing["kernels"]
        assert CALLS <= len(timing["kernel_us"]) <= MAX_CALLS and min(timing["kernel_us"]) > 0
        # Several kernels per call: each has its own time, and together they make up the call's.
        assert set(timing["kernel_median_us"]) == set(timing["kernels"])
        total = sum(timing["kernel_median_us"].values())
        assert total == pytest.approx(statistics.median(timing["kernel_us"]), rel=0.1)


def test_the_timed_tensors_sit_where_they_sat_whatever_the_checks_before_them(run_worker):
    """Two runs differ in their hidden check size and distribution (the run seed's): the layernorm baseline's cast at
    1024x1024 sat on one level in every process of one run and another in another's (timing.fresh_allocator). With
    the allocator emptied before the timing, the timed inputs sit at the same offsets in their large pages."""
    placements = []
    for run_seed, checked in ((11, "1823x781"), (12, "3x5")):
        request = gpu_request("layernorm", TASKS_DIR / "layernorm" / "baseline.py", name="baseline")
        request["check"]["sizes"] = [checked, "1024x1024"]
        request["guards"] = {"run_seed": run_seed, "import_s": 60, "compile_s": 60, "call_s": 60}
        result, _ = run_worker(request, env=NO_INTERPRETER)

        assert result["status"] == "ok", result["message"]
        environment = result["environment"]
        allocator = environment["timing_allocator"]
        assert allocator["reserved_mib_after"] <= allocator["reserved_mib_before"]
        placements.append(environment["timing_placement"])
    first, second = placements
    assert sorted(first) == ["1024x1024 backward", "1024x1024 forward"]
    assert all(len(offsets) == 3 for offsets in first.values())  # x, weight and bias
    assert first == second


def test_matmul_baseline_is_timed(run_worker):
    request = gpu_request("matmul", TASKS_DIR / "matmul" / "baseline.py", sizes=("1024x1024x1024",), name="baseline")
    result, _ = run_worker(request, env=NO_INTERPRETER)

    assert result["status"] == "ok", result["message"]
    assert min(result["timings"][0]["kernel_us"]) > 0


@pytest.mark.parametrize("autotune_timer", ["triton", "job"])
def test_an_autotuned_kernels_chosen_configuration_is_recorded(run_worker, autotune_timer):
    path = TASKS_DIR.parent / "llm_triton" / "claude-devsession-oneshot" / "matmul.py"
    request = gpu_request("matmul", path, sizes=("1024x1024x1024",))
    request["timing"]["autotune_timer"] = autotune_timer
    result, _ = run_worker(request, env=NO_INTERPRETER)

    assert result["status"] == "ok", result["message"]
    tuned = result["timings"][0]["tuned"]
    assert list(tuned) == ["_matmul_kernel"]
    assert tuned["_matmul_kernel"].startswith("BLOCK_M=") and "num_warps=" in tuned["_matmul_kernel"]
    # Every tuning, with each of the 11 candidates' readings and the pick.
    log = result["environment"]["autotune_log"]
    assert {entry["kernel"] for entry in log} == {"_matmul_kernel"}
    assert all(len(entry["us"]) == 11 and entry["picked"] in entry["us"] for entry in log)
    # Each tuned key's 11 configurations compiled first, then benchmarked in one exclusive hold of the lane.
    batches = result["environment"]["autotune_batches"]
    assert batches["keys"] == len(log) and "off" not in batches
    assert batches["configurations"] + batches["failed"] == 11 * len(log)
    # Each key's 11 compiled at once on several threads before that (autotune_timer.compile_in_parallel).
    assert batches["compiled_at_once"] == 11 * len(log) and "parallel_off" not in batches
    assert batches["compile_threads"] >= 2
    if autotune_timer == "job":
        # Its 11 configurations were timed by the job's autotune timer, at every shape it was tuned for, each
        # with the SM clock read as its timing started.
        record = result["environment"]["autotune_timer"]
        assert record["candidates"] >= 11
        clocks = record["start_sm_clock_mhz"]
        assert 0 < clocks["min"] <= clocks["median"] <= clocks["max"] <= result["environment"]["sm_clock_max_mhz"]
    else:
        assert "autotune_timer" not in result["environment"]


def gpu_probe(script: str, args: list[str], tmp_path) -> dict:
    """The JSON line a probe script beside this file prints, run in a process of its own with the interpreter off:
    this process has it on (conftest.py), and Triton fixes the mode when a kernel is decorated."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(PYTHON_DIR), str(Path(__file__).parent)]),
        "TRITON_INTERPRET": "0",
        "TRITON_CACHE_DIR": str(tmp_path / "probe-cache"),
    }
    probe = Path(__file__).parent / script
    completed = subprocess.run(
        [sys.executable, str(probe), *args], capture_output=True, text=True, env=env, timeout=300, check=False
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    return json.loads(completed.stdout.strip().splitlines()[-1])


def autotune_timer_probe(case: str, tmp_path) -> dict:
    """gpu_autotune_timer_probe.py's measurement of `case` (see its docstring)."""
    return gpu_probe("gpu_autotune_timer_probe.py", [case], tmp_path)


def test_the_autotune_timer_times_the_kernel_not_the_host_before_its_launch(tmp_path):
    measured = autotune_timer_probe("host_bound", tmp_path)

    # The first lead (0.2 ms) is short of the 2 ms the host takes to queue a batch: it is dropped, and the lead grows
    # to cover the host's pace; no batch the host fell behind is kept. (A lead of flushes failed here on an H100.)
    assert measured["dropped"] >= 1 and measured["max_lead_ms"] >= 2.0 and measured["behind_kept"] == 0, measured
    assert measured["median_ms"] < 0.02, measured


def test_the_autotune_timer_ranks_a_slow_configuration_below_a_fast_one(tmp_path):
    measured = autotune_timer_probe("ranking", tmp_path)
    fast, slow = measured["fast"], measured["slow"]

    assert fast[1] <= fast[0] <= fast[2]
    # No faster than 5 TB/s: the events enclose the whole kernel.
    assert fast[0] * 1e-3 >= 2 * 4 * measured["n"] / 5e12
    assert slow[0] > 1.5 * fast[0]
    assert measured["timed"] == 2
    assert len(measured["start_clocks_mhz"]) == 2 and all(mhz > 0 for mhz in measured["start_clocks_mhz"])


@pytest.mark.parametrize("mode", ["deterministic", "default"])
def test_the_compile_contenders_inductor_configurations_are_recorded(run_worker, mode):
    request = gpu_request("layernorm", TASKS_DIR / "layernorm" / "baseline.py", sizes=("2048x2048",), name="compile")
    request["implementation"].update(kind="compile", compile_mode=mode)
    result, _ = run_worker(request, env=NO_INTERPRETER)

    assert result["status"] == "ok", result["message"]
    forward = result["timings"][0]
    assert forward["mode"] == "forward"
    # Inductor's reduction kernel, tuned down to one configuration in either mode.
    [(name, config)] = forward["tuned"].items()
    assert name.startswith("triton_") and name in forward["kernels"]
    assert "R0_BLOCK=" in config


def test_compilation_error_is_a_compile_error(run_worker):
    result, _ = run_worker(gpu_request("softmax", CANDIDATES_DIR / "softmax_compile_error.py"), env=NO_INTERPRETER)

    assert (result["status"], result["phase"]) == ("compile_error", "check")
    assert result["message"] == (
        "CompilationError: in softmax_kernel at 3:11: arange's arguments must be of type tl.constexpr"
    )
    assert result["timings"] == []


def test_wrong_result_is_never_timed(run_worker):
    result, _ = run_worker(gpu_request("softmax", CANDIDATES_DIR / "softmax_off_by_factor.py"), env=NO_INTERPRETER)

    assert result["status"] == "wrong_result"
    assert result["timings"] == []


def test_a_call_that_hangs_in_the_timing_ends_at_its_holds_limit_not_the_phases(run_worker):
    # Each exclusive hold of the timing has the call timeout plus 20 times what its calls take at its warm-up's pace
    # (timing.hold_limits): about 5 s here, where the phase as a whole used to have 5 s for each of its calls.
    request = gpu_request("softmax", CANDIDATES_DIR / "softmax_hangs_in_timing.py")
    request["guards"] = {"run_seed": 0, "import_s": 60, "compile_s": 60, "call_s": 5}
    started = time.monotonic()
    result, _ = run_worker(request, env=NO_INTERPRETER)

    assert result["status"] == "timeout", result["message"]
    assert result["message"].startswith("the time phase took longer than its 5"), result["message"]
    assert "at 20 times its warm-up's" in result["message"], result["message"]
    assert time.monotonic() - started < 120



def test_a_backward_that_consumes_its_inputs_is_timed_on_its_inputs_as_drawn(tmp_path):
    # [backward].consumes_inputs (geglu's): every timed call runs the backward of one graph, and the inputs it
    # overwrote are put back before the next (its reset, before the flush), through the data pointers so that the
    # graph's saved tensors keep the version it saved. Without that, each backward after the first ran on the
    # gradients the one before wrote. Measured in a process of its own, the interpreter off (the probe's docstring).
    measured = gpu_probe("gpu_consumed_inputs_probe.py", [], tmp_path)

    assert measured["restored"] == [True, True, True], measured
    # The host-time loop's reset copies nothing (its copies would be in the host's figure): the backward after it
    # runs on what the one before wrote.
    assert measured["after_host_reset"] is False, measured
    # Under the profiler, as the kernel times are taken: the restoring (a kernel of our own, before each flush) is
    # in no call's figure. With torch's copy_ it was two Memcpy DtoD before the first flush, and the split refused
    # the profile (every geglu column a runtime_error on the H100, 2026-12-05), or after a call, in that call's time.
    assert measured["profiled_restored"] == [True, True, True], measured
    launches = measured["launches"]
    assert launches[0] == launches[1] == launches[2], launches
    assert launches[0], launches
    restore = measured["restore_kernel"]
    assert not any(name == restore or name.startswith(restore + "_") for name in launches[0]), launches[0]

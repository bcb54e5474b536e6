"""CPU work holds no GPU lane (lane.py): the draws of inputs and the reading of tensor files are made before a
step takes the lane, so that another job's timing, which waits for every shared holder, never waits for them.

The real reference, candidate and compare steps run in this process on the CPU (the layernorm baseline, forward
and backward, every check case); every draw and every file read records the lane hold it was made under."""

import tomllib

import pytest
import torch
from conftest import TASKS_DIR, step_request

from tritonize_worker import candidate, compare, inputs, lane, tensor_files
from tritonize_worker.candidate import run_candidate
from tritonize_worker.guarded_calls import GuardedRunner
from tritonize_worker.manifest import parse_task
from tritonize_worker.protocol import CheckPlan, Guards, Request, Result, TimingPlan
from tritonize_worker.reference import run_reference
from tritonize_worker.tensor_files import TensorFile, TensorWriter
from tritonize_worker.watchdog import Watchdog


@pytest.fixture
def held_during(monkeypatch):
    """(what, the hold held then) for every draw of a tensor, every tensor read from a file and every file written."""
    seen: list[tuple[str, str]] = []
    draw_tensor, get, save = inputs.draw_tensor, TensorFile.__getitem__, tensor_files.save_tensors

    def drawing(*args, **kwargs):
        seen.append(("draw", lane.current()._held))
        return draw_tensor(*args, **kwargs)

    def reading(self, key):
        seen.append(("read", lane.current()._held))
        return get(self, key)

    def writing(*args, **kwargs):
        seen.append(("write", lane.current()._held))
        return save(*args, **kwargs)

    monkeypatch.setattr(inputs, "draw_tensor", drawing)
    monkeypatch.setattr(tensor_files, "save_tensors", writing)
    monkeypatch.setattr(TensorFile, "__getitem__", reading)
    lane.configure(None)  # holds without lock files still record what is held
    yield seen
    lane.configure(None)


def test_the_reference_and_candidate_steps_draw_and_write_outside_the_lane(tmp_path, held_during, monkeypatch):
    monkeypatch.setattr(tensor_files, "PART_BYTES", 1)  # every case's tensors to a part file of their own
    run_reference(step_request(tmp_path, "reference"), Result())
    reference_draws = len(held_during)
    result = Result()
    run_candidate(step_request(tmp_path, "candidate"), result, Watchdog(lambda *_: None))

    assert result.status == "ok", result.message
    assert reference_draws > 0 and len(held_during) > reference_draws
    assert {kind for kind, _ in held_during} == {"draw", "write"}
    assert [kind for kind, _ in held_during].count("write") > 4  # the parts of both files
    assert [held for _, held in held_during if held] == []


def test_the_compare_step_reads_every_tensor_outside_the_lane(tmp_path, held_during, monkeypatch):
    run_reference(step_request(tmp_path, "reference"), Result())
    candidate = Result()
    run_candidate(step_request(tmp_path, "candidate"), candidate, Watchdog(lambda *_: None))
    assert candidate.status == "ok", candidate.message
    held_during.clear()
    lane.configure(None)  # the holds of the steps above forgotten
    # The lane is taken on the job's GPU only: here the CPU stands in for it.
    monkeypatch.setattr(compare, "compare_device", lambda request: "cuda")
    monkeypatch.setattr(torch.Tensor, "to", _stays_on_the_cpu(torch.Tensor.to))
    result = Result()
    compare._compare_outputs(step_request(tmp_path, "compare"), result, finished=True)

    reads = [held for kind, held in held_during if kind == "read"]
    assert reads and [held for held in reads if held] == []
    # The comparisons themselves took the lane, once per planned output.
    assert [kind for kind, _, _ in lane.current().holds] == ["shared"] * len(lane.current().holds)
    assert len(lane.current().holds) >= 1
    assert result.checks and all(check["ok"] for check in result.checks)


def _stays_on_the_cpu(to):
    def moved(self, *args, **kwargs):
        if args and args[0] == "cuda":
            args = ("cpu", *args[1:])
        return to(self, *args, **kwargs)

    return moved


def test_the_profiled_share_check_draws_inputs_and_dys_outside_the_lane(held_during, monkeypatch):
    # On the CPU: no CUDA to synchronise or to profile, so the profiler records the CPU's activity.
    monkeypatch.setattr(torch.cuda, "synchronize", lambda *_: None)
    cpu_profile = torch.profiler.profile
    monkeypatch.setattr(torch.profiler, "profile", lambda activities: cpu_profile(
        activities=[torch.profiler.ProfilerActivity.CPU]))
    task = parse_task(tomllib.loads((TASKS_DIR / "layernorm" / "task.toml").read_text()))
    request = Request(task, "", None, "cpu", True, CheckPlan(("37x93",), (0, 1)), TimingPlan(False), guards=Guards(7))
    runner = GuardedRunner(lambda x, shape, weight, bias, eps: torch.nn.functional.layer_norm(x, shape, weight, bias,
                                                                                              eps),
                           request, Watchdog(lambda *_: None), lambda: [], None, TensorWriter(""))

    candidate._profile(runner, "37x93", "backward", "the backward mode", {})

    # The inputs, then the dy: both drawn with no hold; the calls took the lane.
    assert len(held_during) == 4 and [held for _, held in held_during if held] == []
    assert {kind for kind, _, _ in lane.current().holds} == {"shared"}


def test_the_compare_step_checks_a_random_ops_properties_under_the_lane_with_its_reads_outside(
        tmp_path, held_during, monkeypatch):
    # dropout: no reference values; the compare step draws x again and checks the properties (properties.py).
    run_reference(step_request(tmp_path, "reference", "dropout"), Result())
    candidate = Result()
    run_candidate(step_request(tmp_path, "candidate", "dropout"), candidate, Watchdog(lambda *_: None))
    assert candidate.status == "ok", candidate.message
    on_cpu = Result()
    compare._compare_outputs(step_request(tmp_path, "compare", "dropout"), on_cpu, finished=True)
    held_during.clear()
    lane.configure(None)  # the holds of the steps above forgotten
    monkeypatch.setattr(compare, "compare_device", lambda request: "cuda")
    monkeypatch.setattr(torch.Tensor, "to", _stays_on_the_cpu(torch.Tensor.to))
    result = Result()
    compare._compare_outputs(step_request(tmp_path, "compare", "dropout"), result, finished=True)

    assert held_during and [held for _, held in held_during if held] == []
    assert {kind for kind, _ in held_during} == {"draw", "read"}
    holds = lane.current().holds
    assert holds and [kind for kind, _, _ in holds] == ["shared"] * len(holds)
    # Four property records per planned output, the same on the lane's device as on the CPU.
    assert result.checks == on_cpu.checks
    assert {check["check"] for check in result.checks} == {"dropout", "same_seed_same_output",
                                                           "other_seed_other_mask"}
    assert all(check["ok"] for check in result.checks)

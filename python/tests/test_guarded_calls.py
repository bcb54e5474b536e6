"""guarded_calls.py: the checked calls' inputs, on the CPU."""

import tomllib
from pathlib import Path

import torch

from tritonize_worker import guarded_calls
from tritonize_worker.cases import Case, distribution_named, grad_outputs
from tritonize_worker.guarded_calls import GuardedRunner
from tritonize_worker.inputs import draw_inputs
from tritonize_worker.manifest import parse_task
from tritonize_worker.protocol import CheckPlan, Guards, Request, TimingPlan
from tritonize_worker.tensor_files import TensorWriter
from tritonize_worker.watchdog import Watchdog

REPO = Path(__file__).resolve().parents[2]


def layernorm_runner(outputs_path: str = "") -> GuardedRunner:
    task = parse_task(tomllib.loads((REPO / "tasks" / "layernorm" / "task.toml").read_text()))
    request = Request(task, "", None, "cpu", True, CheckPlan(("5x96",), (0, 1)), TimingPlan(False), guards=Guards(7))
    return GuardedRunner(lambda *args: None, request, Watchdog(lambda *_: None), lambda: [], None,
                         TensorWriter(outputs_path))


def test_a_case_is_drawn_once_for_all_its_modes_and_each_mode_gets_a_fresh_draws_values(monkeypatch):
    drawn = []

    def counting(*args, **kwargs):
        drawn.append(args[1:3])
        return draw_inputs(*args, **kwargs)

    monkeypatch.setattr(guarded_calls, "draw_inputs", counting)
    runner = layernorm_runner()
    case = Case("5x96", 1, "default")
    fresh = draw_inputs(runner.task, case.size, case.seed, "cpu", distribution_named(runner.task, "default", 7))
    fresh_dy = grad_outputs(runner.task, {"y": torch.zeros(5, 96)}, fresh.generator, "cpu")[0][1]

    for _mode in ("forward", "backward"):
        draw = runner._draw(case)
        assert all(torch.equal(a, b) for a, b in zip(draw.args, fresh.args, strict=True) if torch.is_tensor(a))
        # The generator is where the draw left it, for each mode: the backward mode's dy is a fresh draw's.
        dy = grad_outputs(runner.task, {"y": torch.zeros(5, 96)}, draw.generator, "cpu")[0][1]
        assert torch.equal(dy, fresh_dy)
    assert drawn == [("5x96", 1)]

    runner._draw(Case("5x96", 0, "default"))  # the next case: drawn anew
    assert drawn == [("5x96", 1), ("5x96", 0)]


def test_the_checked_calls_get_copies_so_the_kept_draw_stays_as_drawn():
    runner = layernorm_runner()
    case = Case("5x96", 0, "default")
    kept = [arg.clone() if torch.is_tensor(arg) else arg for arg in runner._draw(case).args]

    def scribbles(x, normalized_shape, weight, bias, eps):
        y = torch.nn.functional.layer_norm(x, normalized_shape, weight, bias, eps)
        x.zero_()  # on its own copy: rejected by the guards, not passed on to the next mode's call
        return y

    runner.entry = scribbles
    runner.run(case, "forward", repeat=False)

    again = runner._draw(case).args
    assert all(torch.equal(a, b) for a, b in zip(again, kept, strict=True) if torch.is_tensor(a))
    assert [record["check"] for record in runner.records if not record["ok"]] == ["inputs_unchanged"]


def test_the_profiled_share_check_says_where_its_time_goes(monkeypatch):
    from tritonize_worker import candidate

    # On the CPU here: no CUDA to synchronise or to profile, so the profiler records the CPU's activity.
    monkeypatch.setattr(torch.cuda, "synchronize", lambda *_: None)
    cpu_profile = torch.profiler.profile
    monkeypatch.setattr(torch.profiler, "profile", lambda activities: cpu_profile(
        activities=[torch.profiler.ProfilerActivity.CPU]))
    runner = layernorm_runner()
    runner.entry = lambda x, shape, weight, bias, eps: torch.nn.functional.layer_norm(x, shape, weight, bias, eps)
    parts = {}

    candidate._profile(runner, "5x96", "forward", "the forward mode", parts)
    candidate._profile(runner, "5x96", "backward", "the backward mode", parts)

    assert sorted(parts) == ["calls", "draw", "profiler_start", "profiler_stop", "read", "warm"]
    assert all(seconds >= 0 for seconds in parts.values())


def test_the_follows_input_check_tries_other_draws_and_says_when_none_could_tell(monkeypatch):
    runner = layernorm_runner()
    runner.request = Request(runner.task, "", None, "cpu", True, CheckPlan(("5x96",), (0, 1)), TimingPlan(False),
                             guards=Guards(7))
    drawn = []

    def counting(task, size, seed, device, *rest):
        drawn.append(seed)
        return draw_inputs(task, size, seed, device, *rest)

    monkeypatch.setattr(guarded_calls, "draw_inputs", counting)
    # The same output whatever the input: no draw can tell a cache from a computation.
    runner.entry = lambda x, shape, weight, bias, eps: torch.ones_like(x)
    runner.follows_input()
    [record] = [r for r in runner.records if r["check"] == "output_follows_input"]
    assert (record["ok"], record["conclusive"]) == (True, False)
    assert len(drawn) == 1 + GuardedRunner.FOLLOWS_INPUT_DRAWS and len(set(drawn)) == len(drawn)
    assert runner.rejections == []

    # A layer norm: the first draw of B tells.
    runner.records.clear()
    drawn.clear()
    runner.entry = lambda x, shape, weight, bias, eps: torch.nn.functional.layer_norm(x, shape, weight, bias, eps)
    runner.follows_input()
    [record] = [r for r in runner.records if r["check"] == "output_follows_input"]
    assert record["ok"] and "conclusive" not in record and len(drawn) == 2


def test_where_the_backward_consumes_its_inputs_the_backward_mode_still_checks_its_forward():
    # [backward].consumes_inputs lets the backward overwrite the inputs (geglu's); the backward mode's forward must
    # still leave them as they were, and the backward's own changes are not judged.
    import importlib.util

    task = parse_task(tomllib.loads((REPO / "tasks" / "geglu" / "task.toml").read_text()))
    assert task.backward_consumes_inputs
    request = Request(task, "", None, "cpu", True, CheckPlan(("5x96",), (0,)), TimingPlan(False), guards=Guards(7))
    path = REPO / "python" / "tests" / "candidates" / "geglu_overwrites_inputs_in_backward.py"
    spec = importlib.util.spec_from_file_location("consuming_geglu", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    runner = GuardedRunner(module.geglu, request, Watchdog(lambda *_: None), lambda: [], None, TensorWriter(""))
    case = Case("5x96", 0, "default")
    runner.run(case, "backward", repeat=False)
    assert [record for record in runner.records if not record["ok"]] == []
    module.OVERWRITE_IN_FORWARD = True
    runner.run(case, "backward", repeat=False)
    assert [record["message"] for record in runner.records if not record["ok"]] == [
        "the backward call at size 5x96, seed 0, before its backward: tensor input 1 was modified (480 elements)"]

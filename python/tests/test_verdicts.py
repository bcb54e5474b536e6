"""Verdicts users can trust (issue 16), through the real worker's three steps under the Triton interpreter: values
are judged first, NaN is named where it is, forbidden ops are caught where they run (not where they are written), and
the candidate's own failures and rejections come after wrong values."""

import json
import time

import pytest
from conftest import CANDIDATES_DIR, load_manifest


def candidate(name: str):
    return CANDIDATES_DIR / f"{name}.py"


def run(run_worker, request_for, name: str, **guards):
    request = request_for("softmax", candidate(name))
    if guards:
        request["guards"] = {"run_seed": 0, "import_s": 60, "compile_s": 60, "call_s": 60, **guards}
    result, completed = run_worker(request)
    return result, completed


def test_a_nan_in_an_output_is_wrong_result_naming_where(run_worker, request_for, tmp_path):
    result, _ = run(run_worker, request_for, "softmax_nan")

    assert result["status"] == "wrong_result", result["message"]
    assert result["message"].startswith("y at size 37x93, seed 0 (forward): 1 of 3441 elements outside")
    assert "(1 NaN where the reference is finite), max abs err nan; first at (2, 3): got nan" in result["message"]
    first = result["checks"][0]
    assert (first["max_abs_err"], first["max_rel_err"], first["nonfinite"]) == ("NaN", "NaN", 1)
    assert first["first_mismatch"] == [2, 3]
    # The file is strict JSON: no bare NaN token (the engine's parser refuses one).
    json.loads((tmp_path / "result.json").read_text(), parse_constant=pytest.fail)


def test_wrong_values_come_before_a_rejection(run_worker, request_for):
    result, _ = run(run_worker, request_for, "softmax_wrong_and_zeroes_input")

    assert result["status"] == "wrong_result"
    assert result["message"].startswith("y at size 37x93, seed 0 (forward)")
    assert "Also seen:\n  inputs_unchanged: the forward call at size 37x93, seed 0" in result["detail"]


def test_a_rejection_stands_when_every_value_is_right(run_worker, request_for):
    result, _ = run(run_worker, request_for, "softmax_right_and_zeroes_input")

    assert (result["status"], result["rejected_by"]) == ("rejected", "inputs_unchanged")
    assert all(check["ok"] for check in result["checks"])


def test_wrong_values_come_before_an_exception(run_worker, request_for):
    result, _ = run(run_worker, request_for, "softmax_wrong_then_raises")

    assert result["status"] == "wrong_result"
    assert "the candidate step then ended runtime_error: RuntimeError: gives up at its second size" in result["detail"]


def test_wrong_values_come_before_a_phase_timeout(run_worker, request_for):
    result, _ = run(run_worker, request_for, "softmax_wrong_then_hangs", compile_s=5)

    assert result["status"] == "wrong_result", result["message"]
    assert "then ended timeout: the compile phase took longer than its 5 s timeout" in result["detail"]


def test_an_exception_after_right_values_is_the_exception(run_worker, request_for):
    result, _ = run(run_worker, request_for, "softmax_raises")

    assert result["status"] == "runtime_error"


def test_a_forbidden_op_that_runs_is_rejected_naming_the_call(run_worker, request_for):
    result, _ = run(run_worker, request_for, "softmax_forbidden_fallback")

    assert (result["status"], result["rejected_by"]) == ("rejected", "forbidden_op"), result["message"]
    assert result["message"].startswith(
        "forbidden_op: aten::softmax, aten::_softmax ran during the forward call at size 37x93, seed 0"
    ), result["message"]


def test_a_forbidden_op_that_never_runs_is_evidence_not_a_verdict(run_worker, request_for):
    result, _ = run(run_worker, request_for, "softmax_forbidden_never_runs")

    assert result["status"] == "ok", result["message"]
    assert "static scan (evidence, not a verdict): forbidden_op: line" in result["detail"]
    assert "static scan (evidence, not a verdict): no_fallback: line" in result["detail"]


def test_a_forbidden_op_in_a_thread_of_the_candidate_is_seen(run_worker, request_for):
    result, _ = run(run_worker, request_for, "softmax_thread")

    assert result["rejected_by"] == "forbidden_op", result["message"]
    assert "(on another thread)" in result["message"]


def test_stopping_the_op_recorder_fails_by_default(run_worker, request_for):
    result, _ = run(run_worker, request_for, "softmax_stops_observer")

    assert result["rejected_by"] == "forbidden_op", result["message"]
    assert "the op recorder was stopped" in result["message"] or "replaced" in result["message"]


def test_a_tensor_subclass_output_is_wrong_result(run_worker, request_for):
    result, _ = run(run_worker, request_for, "softmax_subclass")

    assert result["status"] == "wrong_result"
    assert "expected a torch.Tensor, got Marked (a subclass of torch.Tensor)" in result["message"]


def test_patching_the_workers_own_checker_is_seen(run_worker, request_for):
    result, _ = run(run_worker, request_for, "softmax_patches_snapshot")

    assert result["rejected_by"] == "trusted_functions", result["message"]
    assert "TrustedSnapshot.patched" in result["message"] and "torch.equal" in result["message"]


def test_a_first_call_that_never_ends_after_its_compile_has_the_call_timeout(run_worker, request_for):
    # A kernel that never ends holds the GPU lane (another job's timing waits for it): after its compile, the first
    # call's GPU work is stopped at the call timeout (2 s here), not at the compile timeout (60 s).
    started = time.monotonic()
    result, _ = run(run_worker, request_for, "softmax_hangs_after_its_compile", compile_s=60, call_s=2)

    assert result["status"] == "timeout", result["message"]
    assert result["message"] == (
        "the compile phase took longer than its 2 s timeout (its GPU work after its last compile ended, which has the"
        " call timeout)"
    )
    assert time.monotonic() - started < 40


def test_a_first_call_that_compiles_with_torch_compile_is_not_cut_at_the_call_timeout(run_worker, request_for):
    # torch.compile compiles without a hook to say so (a backward at its first backward call): once it has compiled
    # in the process, the call timeout after a compile gives way to the compile timeout.
    result, _ = run(run_worker, request_for, "softmax_compiles_with_torch_compile", compile_s=60, call_s=2)

    assert result["status"] == "ok", result["message"]


def consuming_geglu(run_worker, tmp_path, consumes: bool, in_forward: bool = False):
    """The worker's verdict on a GeGLU whose backward writes its gradients into a and b (as Liger's does), with the
    task's `[backward].consumes_inputs` as given; `in_forward`: its forward also zeroes b."""
    from conftest import make_request

    path = candidate("geglu_overwrites_inputs_in_backward")
    if in_forward:
        path = tmp_path / "geglu_overwrites_inputs_in_forward.py"
        source = candidate("geglu_overwrites_inputs_in_backward").read_text()
        path.write_text(source.replace("OVERWRITE_IN_FORWARD = False", "OVERWRITE_IN_FORWARD = True"))
    request = make_request("geglu", path, sizes=["37x93", "64x128"])
    request["task"]["backward"]["consumes_inputs"] = consumes
    result, _ = run_worker(request)
    return result


def test_a_backward_that_overwrites_its_inputs_passes_where_the_task_says_they_are_consumed(run_worker, tmp_path):
    # geglu's task.toml says so (a and b, an MLP's activations, are read by nothing after it); Liger's expert was
    # rejected `inputs_unchanged` on the H100 before it did (2026-12-05).
    assert load_manifest("geglu")["backward"]["consumes_inputs"] is True
    result = consuming_geglu(run_worker, tmp_path, consumes=True)
    assert result["status"] == "ok", result["message"]
    assert {"y", "grad_a", "grad_b"} <= {check["output"] for check in result["checks"]}
    assert all(check["ok"] for check in result["checks"])


def test_a_backward_that_overwrites_its_inputs_is_rejected_where_the_task_does_not_say_so(run_worker, tmp_path):
    result = consuming_geglu(run_worker, tmp_path, consumes=False)
    assert (result["status"], result["rejected_by"]) == ("rejected", "inputs_unchanged")
    assert "the backward call at size 37x93, seed 0: tensor input 0 was modified" in result["message"]


def test_a_forward_that_overwrites_its_inputs_is_rejected_even_where_the_backward_may(run_worker, tmp_path):
    result = consuming_geglu(run_worker, tmp_path, consumes=True, in_forward=True)
    assert (result["status"], result["rejected_by"]) == ("rejected", "inputs_unchanged")
    # The forward mode's check sees it first; the backward mode checks its forward too ("before its backward").
    assert result["message"].startswith("inputs_unchanged: the forward call at size 37x93, seed 0: tensor input 1")

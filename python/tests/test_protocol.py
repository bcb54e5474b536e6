"""Request validation and the one result shape."""

import json
import math

import pytest
from conftest import CANDIDATES_DIR, make_request

from tritonize_worker.protocol import SCHEMA_VERSION, RequestError, Result, json_number, parse_request

CANDIDATE = CANDIDATES_DIR / "softmax_triton.py"


@pytest.mark.parametrize("task", ["softmax", "layernorm", "matmul"])
def test_every_task_manifest_makes_a_valid_request(task):
    request = parse_request(make_request(task, CANDIDATE))

    assert request.task.name == task
    assert request.check.sizes == tuple(make_request(task, CANDIDATE)["check"]["sizes"])
    assert request.interpret and request.device == "cpu" and not request.timing.enabled


def test_layernorm_request_knows_its_inputs_and_gradients():
    task = parse_request(make_request("layernorm", CANDIDATE)).task

    assert [spec.kind for spec in task.inputs] == ["tensor", "shape", "tensor", "tensor", "float"]
    assert [spec.name for spec in task.grad_inputs] == ["x", "weight", "bias"]
    assert task.output_dtype == "float16"
    assert task.grad_output_scale == 0.1
    assert task.tolerances["grad_weight"].atol == 5e-2


def test_timing_plan_is_read_when_enabled():
    raw = make_request("softmax", CANDIDATE)
    raw.update(device="cuda", interpret=False)
    raw["timing"] = {"enabled": True, "sizes": ["1024x1024"], "warmup_calls": 10, "calls": 50, "flush_bytes": 1 << 28}
    timing = parse_request(raw).timing

    assert (timing.sizes, timing.warmup_calls, timing.calls, timing.flush_bytes) == (("1024x1024",), 10, 50, 1 << 28)


def problems_of(raw) -> list[str]:
    with pytest.raises(RequestError) as caught:
        parse_request(raw)
    return caught.value.problems


def test_compile_mode_defaults_to_deterministic_and_is_checked():
    raw = make_request("softmax", CANDIDATE, name="compile", kind="compile")
    assert parse_request(raw).implementation.compile_mode == "deterministic"

    raw["implementation"]["compile_mode"] = "default"
    assert parse_request(raw).implementation.compile_mode == "default"

    raw["implementation"]["compile_mode"] = "max-autotune"
    assert problems_of(raw) == [
        "implementation.compile_mode: expected one of deterministic, default, got 'max-autotune'"
    ]


def test_an_unknown_implementation_kind_is_named():
    raw = make_request("softmax", CANDIDATE, kind="inductor")
    assert problems_of(raw) == [
        "implementation.kind: expected one of baseline, expert, llm, candidate, compile, got 'inductor'"
    ]


def test_autotune_timer_defaults_to_tritons_own_and_is_checked():
    raw = make_request("softmax", CANDIDATE)
    raw.update(device="cuda", interpret=False)
    raw["timing"] = {"enabled": True, "sizes": ["1024x1024"], "warmup_calls": 10, "calls": 50, "flush_bytes": 1024}
    assert parse_request(raw).timing.autotune_timer == "triton"

    raw["timing"]["autotune_timer"] = "job"
    assert parse_request(raw).timing.autotune_timer == "job"

    raw["timing"]["autotune_timer"] = "cupti"
    assert problems_of(raw) == ["timing.autotune_timer: expected one of triton, job, got 'cupti'"]


def test_every_problem_is_reported_at_once():
    raw = make_request("softmax", CANDIDATE)
    raw["schema_version"] = 7
    raw["device"] = "tpu"
    raw["check"]["seeds"] = [0, "one"]
    raw["task"]["inputs"][0]["dtype"] = "int8"
    del raw["task_dir"]

    problems = problems_of(raw)

    assert problems == [
        "schema_version: this worker reads 2, got 7",
        'task.inputs[0].dtype: "int8" is not one of float16, bfloat16, float32, float64, float8_e5m2, float8_e4m3fn,'
        " int32, int64",
        "task_dir: missing",
        "device: expected one of cuda, cpu, got 'tpu'",
        "check.seeds[1]: expected an integer, got a string",
    ]


def test_a_boolean_is_not_an_integer():
    raw = make_request("softmax", CANDIDATE)
    raw["check"]["seeds"] = [True, 1]

    assert problems_of(raw) == ["check.seeds[0]: expected an integer, got a boolean"]


def test_sizes_must_match_the_dims():
    raw = make_request("matmul", CANDIDATE)
    raw["check"]["sizes"] = ["37x93", "4x4x4x4", "0x1x1"]

    assert problems_of(raw) == [
        "check.sizes: size '37x93' has 2 numbers, but there are 3 dims (MxNxK)",
        "check.sizes: size '4x4x4x4' has 4 numbers, but there are 3 dims (MxNxK)",
        "check.sizes: size '0x1x1': every dim must be at least 1",
    ]


def test_backward_needs_a_tolerance_per_gradient_and_a_grad_output_scale():
    raw = make_request("layernorm", CANDIDATE)
    del raw["task"]["tolerance"]["grad_bias"]
    del raw["task"]["backward"]

    assert problems_of(raw) == [
        "task.backward: missing (grad_output_scale is required with the backward mode)",
        "task.tolerance: missing a tolerance for grad_bias",
    ]
    raw["task"]["backward"] = {"grad_output_scale": 0.1}
    assert problems_of(raw) == ["task.tolerance: missing a tolerance for grad_bias"]


def test_shape_names_must_be_dims():
    raw = make_request("softmax", CANDIDATE)
    raw["task"]["inputs"][0]["shape"] = ["M", "Q"]

    assert problems_of(raw) == ["task.inputs[0].shape: column 1: unknown name `Q` (the task's dims: M, N) in \"Q\""]


def test_interpret_on_cuda_and_timing_on_cpu_are_refused():
    raw = make_request("softmax", CANDIDATE)
    raw["device"] = "cuda"
    assert problems_of(raw) == ["interpret: the Triton interpreter runs on the CPU: device must be 'cpu'"]

    raw = make_request("softmax", CANDIDATE)
    raw["timing"] = {"enabled": True, "sizes": ["8x8"], "warmup_calls": 1, "calls": 30, "flush_bytes": 1024}
    assert problems_of(raw) == ["timing.enabled: timing needs CUDA, but the request's device is 'cpu'"]


def test_request_that_is_not_an_object():
    assert problems_of([1, 2]) == ["the request: expected an object, got a list"]


def test_result_has_one_shape_whatever_the_status():
    fresh = Result().to_json()
    failed = Result()
    failed.fail("import_error", "ImportError: no", "Traceback ...")

    assert fresh.keys() == failed.to_json().keys()
    assert fresh["schema_version"] == SCHEMA_VERSION
    assert (fresh["status"], fresh["checks"], fresh["timings"]) == ("ok", [], [])
    assert failed.to_json()["status"] == "import_error"


def test_result_writes_non_finite_numbers_as_strings_that_read_back():
    # Regression: NaN became null, and the engine's parser crashed on it ("type must be number, but is null").
    result = Result()
    result.checks.append({"max_abs_err": math.inf, "max_rel_err": math.nan, "numel": 3, "ok": False, "x": -math.inf})
    result.checks.append({"max_abs_err": 1e300, "max_rel_err": None, "numel": 3, "ok": False})

    checks = json.loads(json.dumps(result.to_json(), allow_nan=False))["checks"]
    assert checks[0] == {"max_abs_err": "Infinity", "max_rel_err": "NaN", "numel": 3, "ok": False, "x": "-Infinity"}
    assert checks[1]["max_abs_err"] == 1e300 and checks[1]["max_rel_err"] is None
    assert json_number(checks[0]["max_abs_err"]) == math.inf and math.isnan(json_number("NaN"))
    assert json_number("nan") is None and json_number(True) is None and json_number(2) == 2.0


def test_fail_refuses_an_unknown_status():
    with pytest.raises(ValueError, match="unavailable"):
        Result().fail("unavailable", "the engine's status, not the worker's")

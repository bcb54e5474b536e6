"""The real worker, as a subprocess, on fixture candidates and the real tasks under the Triton interpreter."""

import json
import subprocess
import sys

import pytest
from conftest import CANDIDATES_DIR, PYTHON_DIR, TASKS_DIR

from tritonize_worker.errors import INTERPRETER_NO_CUDA_NOTE, MAX_MESSAGE_CHARS

RESULT_KEYS = {
    "schema_version",
    "status",
    "message",
    "detail",
    "phase",
    "rejected_by",
    "checks",
    "guards",
    "timings",
    "environment",
    "wall_s",
}
CHECK_KEYS = {
    "size",
    "seed",
    "mode",
    "output",
    "ok",
    "max_abs_err",
    "max_rel_err",
    "mismatches",
    "nonfinite",
    "numel",
    "atol",
    "rtol",
    "distribution",
}


def candidate(name: str):
    return CANDIDATES_DIR / f"{name}.py"


def test_correct_triton_softmax_passes_every_check(run_worker, request_for):
    result, _ = run_worker(request_for("softmax", candidate("softmax_triton")))

    assert set(result) == RESULT_KEYS
    assert (result["status"], result["phase"], result["message"]) == ("ok", "check", "")
    # Every output made on a check case is checked, the determinism guard's second call too; every size and seed
    # with the manifest's draw, then with each of its distributions (large logits).
    expected = [
        ("37x93", 0, "forward", "y"),
        ("37x93", 0, "forward", "y (repeated call)"),
        ("37x93", 1, "forward", "y"),
        ("64x128", 0, "forward", "y"),
        ("64x128", 0, "forward", "y (repeated call)"),
        ("64x128", 1, "forward", "y"),
    ]
    assert [(c["size"], c["seed"], c["mode"], c["output"], c["distribution"]) for c in result["checks"]] == [
        (*check, distribution) for distribution in ("default", "large_logits") for check in expected
    ]
    first = result["checks"][0]
    assert set(first) == CHECK_KEYS
    assert first["ok"] and first["mismatches"] == 0 and first["numel"] == 37 * 93
    assert (first["atol"], first["rtol"]) == (1e-6, 1e-4)
    assert 0 <= first["max_abs_err"] < 1e-6
    assert result["timings"] == []
    environment = result["environment"]
    assert environment["interpret"] is True and environment["triton"] and environment["torch"]
    assert environment["gpu"] is None and environment["sm_clock_mhz_before"] is None
    assert result["wall_s"] > 0


def test_softmax_off_by_a_factor_is_wrong_result_with_the_first_mismatches(run_worker, request_for):
    result, _ = run_worker(request_for("softmax", candidate("softmax_off_by_factor")))

    assert (result["status"], result["phase"]) == ("wrong_result", "check")
    assert result["message"].startswith("y at size 37x93, seed 0 (forward): ")
    assert "elements outside atol 1e-06 + rtol 0.0001 * |ref|" in result["message"]
    assert "at (0, 0): got " in result["detail"]
    assert all(not c["ok"] for c in result["checks"]) and len(result["checks"]) == 12
    first = result["checks"][0]
    assert first["mismatches"] == first["numel"] == 37 * 93
    assert first["max_rel_err"] == pytest.approx(0.5, rel=1e-3)


def test_syntax_error(run_worker, request_for):
    result, _ = run_worker(request_for("softmax", candidate("softmax_syntax_error")))

    assert (result["status"], result["phase"]) == ("syntax_error", "load")
    assert result["message"].startswith("SyntaxError: ")
    assert "line 6" in result["message"]
    assert result["checks"] == []


def test_import_error(run_worker, request_for):
    result, _ = run_worker(request_for("softmax", candidate("softmax_import_error")))

    assert (result["status"], result["phase"]) == ("import_error", "load")
    assert result["message"] == "RuntimeError: this module refuses to be imported"
    assert "Traceback" in result["detail"]


def test_missing_entry(run_worker, request_for):
    result, _ = run_worker(request_for("softmax", candidate("softmax_missing_entry")))

    assert (result["status"], result["phase"]) == ("missing_entry", "load")
    assert "NameError" in result["message"] and "softmax" in result["message"]


def test_entry_that_is_not_callable_is_missing_entry(run_worker, request_for):
    result, _ = run_worker(request_for("softmax", candidate("softmax_triton"), entry="softmax_kernel.__name__"))

    assert result["status"] == "missing_entry"
    assert "not callable" in result["message"]


def test_compile_error_under_the_interpreter_is_a_runtime_error(run_worker, request_for):
    # The interpreter compiles nothing: the kernel's mistake surfaces when it runs (see errors.classify).
    result, _ = run_worker(request_for("softmax", candidate("softmax_compile_error")))

    assert (result["status"], result["phase"]) == ("runtime_error", "check")
    assert result["message"].startswith("InterpreterError: ValueError: arange's arguments must be of type tl.constexpr")
    assert result["detail"].startswith("In the forward call at size 37x93, seed 0:\n")


def test_exception_in_the_call_is_runtime_error(run_worker, request_for):
    result, _ = run_worker(request_for("softmax", candidate("softmax_raises")))

    assert (result["status"], result["phase"]) == ("runtime_error", "check")
    assert result["message"] == "ValueError: cannot handle a tensor of shape (37, 93)"
    assert not result["message"].startswith("worker error")


@pytest.mark.parametrize(
    ("name", "status", "phase"),
    [
        ("softmax_asks_the_driver", "runtime_error", "check"),
        ("softmax_asserts_cuda", "runtime_error", "check"),
        ("softmax_cuda_at_import", "import_error", "load"),
    ],
)
def test_a_candidate_that_needs_cuda_says_so_under_the_interpreter(run_worker, request_for, name, status, phase):
    """On the CPU such a failure is the run's lack of CUDA, not a verdict on the kernel: the message says so."""
    result, _ = run_worker(request_for("softmax", candidate(name)))

    assert (result["status"], result["phase"]) == (status, phase)
    assert result["message"].endswith(INTERPRETER_NO_CUDA_NOTE)
    assert len(result["message"]) <= MAX_MESSAGE_CHARS


def test_wrong_output_dtype_is_wrong_result(run_worker, request_for):
    result, _ = run_worker(request_for("softmax", candidate("softmax_wrong_dtype")))

    assert result["status"] == "wrong_result"
    assert "dtype float64, expected float32" in result["message"]
    default = [c for c in result["checks"] if c["distribution"] == "default"]
    assert default and all(c["mismatches"] == 0 and not c["ok"] for c in default)


def test_candidate_printing_to_stdout_does_not_disturb_the_result(run_worker, request_for):
    result, completed = run_worker(request_for("softmax", candidate("softmax_prints")))

    assert result["status"] == "ok"
    assert '"status": "wrong_result"' in completed.stdout


def test_layernorm_baseline_passes_forward_and_backward(run_worker, request_for):
    request = request_for("layernorm", TASKS_DIR / "layernorm" / "baseline.py", name="baseline")
    result, _ = run_worker(request)

    assert result["status"] == "ok", result["message"]
    outputs = [(c["size"], c["seed"], c["mode"], c["output"]) for c in result["checks"]]
    assert outputs[:5] == [
        ("37x93", 0, "forward", "y"),
        ("37x93", 0, "forward", "y (repeated call)"),
        ("37x93", 0, "backward", "grad_x"),
        ("37x93", 0, "backward", "grad_weight"),
        ("37x93", 0, "backward", "grad_bias"),
    ]
    # sizes, seeds, outputs, distributions (default and shifted), and the repeated forward call at each size
    assert len(outputs) == 2 * 2 * 4 * 2 + 2 * 2


def test_layernorm_with_a_wrong_gradient_fails_on_that_gradient_only(run_worker, request_for):
    request = request_for("layernorm", candidate("layernorm_bad_backward"), entry="LayerNorm.apply")
    result, _ = run_worker(request)

    assert result["status"] == "wrong_result"
    assert result["message"].startswith("grad_bias at size 37x93, seed 0 (backward): ")
    failing = {c["output"] for c in result["checks"] if not c["ok"]}
    assert failing == {"grad_bias"}


def test_matmul_baseline_passes(run_worker, request_for):
    result, _ = run_worker(request_for("matmul", TASKS_DIR / "matmul" / "baseline.py", name="baseline"))

    assert result["status"] == "ok", result["message"]
    # The default draw, then the "large" and "offset" distributions; y, y (repeated call), y at each size.
    assert [c["numel"] for c in result["checks"]] == ([37 * 93] * 3 + [64 * 64] * 3) * 3


def test_invalid_request_lists_every_problem(run_worker, request_for):
    request = request_for("softmax", candidate("softmax_triton"))
    request["schema_version"] = 1
    request["check"]["sizes"] = ["37"]
    del request["implementation"]["entry"]
    result, _ = run_worker(request, pipeline=False)

    assert (result["status"], result["phase"]) == ("runtime_error", "load")
    assert result["message"].startswith("worker error: invalid request: ")
    for problem in ("schema_version", "implementation.entry: missing", "check.sizes"):
        assert problem in result["message"]


def test_unparsable_request_still_gives_a_result(run_worker):
    result, _ = run_worker("{not json")

    assert set(result) == RESULT_KEYS
    assert result["status"] == "runtime_error"
    assert result["message"].startswith("worker error: invalid request: cannot read ")
    assert result["environment"]["interpret"] is True and result["environment"]["python"]


def test_timing_on_the_cpu_is_refused(run_worker, request_for):
    request = request_for("softmax", candidate("softmax_triton"))
    request["timing"] = {"enabled": True, "sizes": ["64x128"], "warmup_calls": 1, "calls": 30, "flush_bytes": 1024}
    result, _ = run_worker(request)

    assert result["status"] == "runtime_error"
    assert "timing needs CUDA" in result["message"]


def test_interpret_without_triton_interpret_in_the_environment_is_refused(run_worker, request_for):
    result, _ = run_worker(request_for("softmax", candidate("softmax_triton")), env={"TRITON_INTERPRET": "0"})

    assert result["status"] == "runtime_error"
    assert result["message"].startswith("worker error: the request says interpret = true, but TRITON_INTERPRET")


def test_failing_baseline_is_a_worker_error(run_worker, request_for, tmp_path):
    task_dir = tmp_path / "softmax"
    task_dir.mkdir()
    (task_dir / "baseline.py").write_text("def softmax(x):\n    raise KeyError('no baseline today')\n")
    request = request_for("softmax", candidate("softmax_triton"))
    request["task_dir"] = str(task_dir)
    result, _ = run_worker(request)

    assert (result["status"], result["phase"]) == ("runtime_error", "reference")
    assert result["message"] == "worker error: the baseline failed: KeyError: 'no baseline today'"


def test_a_baseline_out_of_gpu_memory_is_the_references_size_not_the_baselines_failure(run_worker, request_for,
                                                                                         tmp_path):
    # Still a worker error (no implementation's verdict), named as what it is, with torch's own words, which the
    # engine reads to run the job again alone (src/run/job.cpp, OutOfGpuMemory).
    task_dir = tmp_path / "softmax"
    task_dir.mkdir()
    (task_dir / "baseline.py").write_text(
        "import torch\n\ndef softmax(x):\n    raise torch.OutOfMemoryError('CUDA out of memory. Tried to allocate"
        " 16.00 GiB')\n"
    )
    request = request_for("softmax", candidate("softmax_triton"))
    request["task_dir"] = str(task_dir)
    result, _ = run_worker(request)

    assert (result["status"], result["phase"]) == ("runtime_error", "reference")
    assert result["message"] == (
        "worker error: the task's float64 reference (its baseline in float64) ran out of GPU memory:"
        " OutOfMemoryError: CUDA out of memory. Tried to allocate 16.00 GiB"
    )


def test_result_file_is_strict_json(run_worker, request_for, tmp_path):
    # NaN or Infinity would not parse in the engine: the result must be strict JSON.
    run_worker(request_for("softmax", candidate("softmax_off_by_factor")))

    json.loads((tmp_path / "result.json").read_text(), parse_constant=pytest.fail)


def test_help_works_without_torch(tmp_path):
    # A module named torch that fails on import stands in for a machine without torch.
    (tmp_path / "torch.py").write_text("raise ImportError('no torch here')\n")
    completed = subprocess.run(
        [sys.executable, "-m", "tritonize_worker", "--help"],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": f"{tmp_path}:{PYTHON_DIR}", "PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert "--request" in completed.stdout

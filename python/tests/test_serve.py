"""`python -m tritonize_worker --serve`: the engine's step server (src/exec/step_server.h), as a real subprocess."""

import json
import os
import subprocess
import sys

from conftest import CANDIDATES_DIR, PYTHON_DIR


def serve(lines: list[str], triton_cache) -> tuple[list[str], subprocess.CompletedProcess]:
    env = {
        **os.environ,
        "PYTHONPATH": str(PYTHON_DIR),
        "TRITON_INTERPRET": "1",
        "TRITON_CACHE_DIR": str(triton_cache),
    }
    completed = subprocess.run(
        [sys.executable, "-m", "tritonize_worker", "--serve"],
        input="".join(line + "\n" for line in lines),
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    return completed.stdout.splitlines(), completed


def test_compare_steps_answer_one_line_each_and_match_a_fresh_process(run_worker, request_for, tmp_path, triton_cache):
    # The job as the engine runs it with fresh processes; its compare request stays in tmp_path.
    fresh, _ = run_worker(request_for("softmax", CANDIDATES_DIR / "softmax_triton.py"))
    compare_request = tmp_path / "request.json"
    assert json.loads(compare_request.read_text())["role"] == "compare"
    first, second = tmp_path / "served-1.json", tmp_path / "served-2.json"

    answers, completed = serve([f"{compare_request}\t{first}", f"{compare_request}\t{second}"], triton_cache)

    assert answers == ["done", "done"], completed.stderr
    assert completed.returncode == 0
    for path in (first, second):
        served = json.loads(path.read_text())
        assert (served["status"], served["phase"]) == (fresh["status"], fresh["phase"]) == ("ok", "check")
        assert served["checks"] == fresh["checks"]


def test_any_other_role_is_refused_and_the_loop_goes_on(request_for, tmp_path, triton_cache):
    # A long-lived process never imports candidate code: a candidate step sent to it is a worker error.
    candidate = tmp_path / "candidate-request.json"
    candidate.write_text(json.dumps(dict(request_for("softmax", CANDIDATES_DIR / "softmax_triton.py"))))
    refused, unwritable = tmp_path / "refused.json", tmp_path / "missing-folder" / "result.json"

    answers, completed = serve(
        ["no tab here", f"{candidate}\t{refused}", f"{candidate}\t{unwritable}"], triton_cache
    )

    assert answers[0] == "not a request line: 'no tab here'"
    assert answers[1] == "done"
    assert answers[2].startswith(f"cannot write {unwritable}: ")
    result = json.loads(refused.read_text())
    assert result["status"] == "runtime_error"
    assert "the step server runs compare, reference steps only, not 'candidate'" in result["message"]
    assert completed.returncode == 0


def test_serve_takes_no_request_or_result_arguments(tmp_path):
    completed = subprocess.run(
        [sys.executable, "-m", "tritonize_worker", "--serve", "--request", str(tmp_path / "r.json")],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(PYTHON_DIR)},
        check=False,
    )
    assert completed.returncode == 2
    assert "--serve takes its requests from stdin" in completed.stderr


def test_each_served_step_reports_its_own_gpu_peak_not_the_processs(monkeypatch, tmp_path):
    # A step server serves many jobs' steps in one process: the allocator's peak is reset at each step's start, so
    # that a small step after a large one reports its own (on the H100's suite of 2026-12-05 every compare step
    # reported the same 68800 MiB). A stand-in torch, since the CPU has no CUDA allocator to read.
    import types

    from tritonize_worker import job

    class Allocator:
        reserved = 0
        peak = 0

        def take(self, mib):
            self.reserved += mib << 20
            self.peak = max(self.peak, self.reserved)
            self.reserved -= mib << 20

    allocator = Allocator()
    cuda = types.SimpleNamespace(
        is_initialized=lambda: True,
        max_memory_reserved=lambda: allocator.peak,
        reset_peak_memory_stats=lambda: setattr(allocator, "peak", allocator.reserved),
    )
    monkeypatch.setitem(sys.modules, "torch", types.SimpleNamespace(cuda=cuda))

    peaks = []
    for mib in (68800, 2404):  # a large step, then a small one in the same process
        job.reset_gpu_peak()
        allocator.take(mib)
        peaks.append(job.gpu_peak_mib())

    assert peaks == [68800.0, 2404.0]


def test_a_step_server_gives_pytorch_expandable_segments_unless_the_user_set_an_allocator(monkeypatch):
    # Set before torch reads it (the server's first step imports torch), and only for the step server.
    import tritonize_worker.__main__ as worker_main

    seen = []
    monkeypatch.setattr(worker_main, "serve", lambda requests, replies: seen.append(
        os.environ.get("PYTORCH_CUDA_ALLOC_CONF")) or 0)
    monkeypatch.setattr(os, "dup2", lambda *args: None)  # pytest's own stdout stays where it is
    monkeypatch.setenv("PYTORCH_CUDA_ALLOC_CONF", "")  # recorded first, so that the test leaves none behind
    monkeypatch.delenv("PYTORCH_CUDA_ALLOC_CONF")
    assert worker_main.main(["--serve"]) == 0
    monkeypatch.setenv("PYTORCH_CUDA_ALLOC_CONF", "max_split_size_mb:512")
    assert worker_main.main(["--serve"]) == 0
    assert seen == ["expandable_segments:True", "max_split_size_mb:512"]

"""Shared fixtures: a fresh Triton cache per test, requests built from the real task manifests, the real worker.

Everything runs on the CPU, Triton kernels under the interpreter.
"""

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

# Before anything imports triton: Triton reads it when a kernel is decorated.
os.environ["TRITON_INTERPRET"] = "1"

PYTHON_DIR = Path(__file__).resolve().parents[1]
TASKS_DIR = PYTHON_DIR.parent / "tasks"
CANDIDATES_DIR = Path(__file__).resolve().parent / "candidates"
WORKER_TIMEOUT_S = 120


def pytest_runtest_logreport(report):
    """With TRITONIZE_TESTS_FAIL_AT_ONCE set, a failure is printed as it happens, not in the summary at the end: on the
    GPU machine a device call's time limit can end the run before the summary (2026-12-05: a GPU test failed twice,
    and neither run printed why)."""
    if report.failed and os.environ.get("TRITONIZE_TESTS_FAIL_AT_ONCE"):
        sys.stdout.write(f"\nFAILED {report.nodeid} ({report.when})\n{report.longreprtext}\n")
        sys.stdout.flush()


@pytest.fixture(autouse=True)
def triton_cache(tmp_path, monkeypatch):
    cache = tmp_path / "triton-cache"
    cache.mkdir()
    monkeypatch.setenv("TRITON_CACHE_DIR", str(cache))
    return cache


def load_manifest(task: str) -> dict:
    with open(TASKS_DIR / task / "task.toml", "rb") as file:
        return tomllib.load(file)


def make_request(task: str, path: Path, entry: str | None = None, name: str = "candidate", kind: str = "",
                 sizes: list[str] | None = None) -> dict:
    """A request as the engine sends it with --interpret: the task's interpret_check_sizes (or `sizes`, for a task the
    interpreter cannot run whose candidate here is plain PyTorch), no timing."""
    manifest = load_manifest(task)
    kind = kind or (name if name in ("baseline", "expert") else "candidate")
    return {
        "schema_version": 2,
        "task": manifest,
        "task_dir": str(TASKS_DIR / task),
        "implementation": {"name": name, "kind": kind, "path": str(path), "entry": entry or manifest["entry"]},
        "device": "cpu",
        "interpret": True,
        "check": {"sizes": sizes or manifest["interpret_check_sizes"], "seeds": manifest["seeds"]},
        "timing": {"enabled": False},
        "role": "candidate",
        "files": {"outputs": "outputs.safetensors"},
    }


@pytest.fixture
def request_for():
    return make_request


@pytest.fixture
def run_worker(tmp_path, triton_cache):
    """Runs `python -m tritonize_worker` on a request (a dict, or raw text for the request file)."""

    def run(request, env: dict | None = None, pipeline: bool = True) -> tuple[dict, subprocess.CompletedProcess]:
        """A request (dict) runs as the engine runs a job: the reference, candidate and compare steps; with
        pipeline=False, or raw text, as one step."""
        if isinstance(request, dict) and pipeline:
            return run_pipeline(request, env)
        return run_step(request, env, "")

    def run_pipeline(request: dict, env: dict | None) -> tuple[dict, subprocess.CompletedProcess]:
        files = {name: str(tmp_path / name) for name in ("reference.safetensors", "outputs.safetensors")}
        reference = {key: value for key, value in request.items() if key != "implementation"}
        reference.update(role="reference", files={"reference": files["reference.safetensors"]})
        ref_result, completed = run_step(reference, env, "reference-")
        if ref_result["status"] != "ok":
            return ref_result, completed
        candidate = dict(request, role="candidate", files={"outputs": files["outputs.safetensors"]})
        _, completed = run_step(candidate, env, "candidate-")
        compare = dict(
            request,
            role="compare",
            files={
                "reference": files["reference.safetensors"],
                "outputs": files["outputs.safetensors"],
                "candidate_result": str(tmp_path / "candidate-result.json"),
            },
        )
        result, _ = run_step(compare, env, "")
        return result, completed

    def run_step(request, env: dict | None, prefix: str) -> tuple[dict, subprocess.CompletedProcess]:
        request_path = tmp_path / f"{prefix}request.json"
        result_path = tmp_path / f"{prefix}result.json"
        request_path.write_text(request if isinstance(request, str) else json.dumps(request))
        worker_env = {
            **os.environ,
            "PYTHONPATH": str(PYTHON_DIR),
            "TRITON_INTERPRET": "1",
            "TRITON_CACHE_DIR": str(triton_cache),
            **(env or {}),
        }
        completed = subprocess.run(
            [sys.executable, "-m", "tritonize_worker", "--request", str(request_path), "--result", str(result_path)],
            capture_output=True,
            text=True,
            env=worker_env,
            cwd=tmp_path,
            timeout=WORKER_TIMEOUT_S,
            check=False,
        )
        assert completed.returncode == 0, completed.stderr
        return json.loads(result_path.read_text()), completed

    return run


def step_request(tmp_path: Path, role: str, task: str = "layernorm", name: str = "baseline"):
    """A parsed request for one step (reference, candidate or compare) of a job on the task's baseline, with its
    files in tmp_path, for running the steps in this process."""
    from tritonize_worker.protocol import parse_request

    request = make_request(task, TASKS_DIR / task / "baseline.py", name=name)
    files = {"reference": str(tmp_path / "reference.safetensors"), "outputs": str(tmp_path / "outputs.safetensors"),
             "candidate_result": str(tmp_path / "candidate-result.json")}
    wanted = {"reference": ("reference",), "candidate": ("outputs",), "compare": tuple(files)}[role]
    request.update(role=role, files={key: files[key] for key in wanted})
    if role == "reference":
        del request["implementation"]
    return parse_request(request)

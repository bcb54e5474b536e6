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


@pytest.fixture(autouse=True)
def triton_cache(tmp_path, monkeypatch):
    cache = tmp_path / "triton-cache"
    cache.mkdir()
    monkeypatch.setenv("TRITON_CACHE_DIR", str(cache))
    return cache


def load_manifest(task: str) -> dict:
    with open(TASKS_DIR / task / "task.toml", "rb") as file:
        return tomllib.load(file)


def make_request(task: str, path: Path, entry: str | None = None, name: str = "candidate") -> dict:
    """A request as the engine sends it with --interpret: the task's interpret_check_sizes, no timing."""
    manifest = load_manifest(task)
    return {
        "schema_version": 1,
        "task": manifest,
        "task_dir": str(TASKS_DIR / task),
        "implementation": {"name": name, "path": str(path), "entry": entry or manifest["entry"]},
        "device": "cpu",
        "interpret": True,
        "check": {"sizes": manifest["interpret_check_sizes"], "seeds": manifest["seeds"]},
        "timing": {"enabled": False},
    }


@pytest.fixture
def request_for():
    return make_request


@pytest.fixture
def run_worker(tmp_path, triton_cache):
    """Runs `python -m tritonize_worker` on a request (a dict, or raw text for the request file)."""

    def run(request, env: dict | None = None) -> tuple[dict, subprocess.CompletedProcess]:
        request_path = tmp_path / "request.json"
        result_path = tmp_path / "result.json"
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

"""--warm: a pre-started worker (the engine's warm pool) that runs the one step named on its stdin."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

from conftest import CANDIDATES_DIR

WORKER_DIR = os.path.join(os.path.dirname(__file__), "..")


def start(tmp_path, triton_cache):
    env = dict(os.environ, PYTHONPATH=WORKER_DIR, TRITON_INTERPRET="1", TRITON_CACHE_DIR=str(triton_cache))
    ready = tmp_path / "warm-ready"
    process = subprocess.Popen(
        [sys.executable, "-m", "tritonize_worker", "--warm", str(ready)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    return process, ready


def test_a_warm_worker_is_ready_after_its_imports_then_runs_one_step(request_for, tmp_path, triton_cache):
    process, ready = start(tmp_path, triton_cache)
    deadline = time.monotonic() + 120
    while not ready.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert ready.exists(), process.stderr.read()
    assert "torch" in _imported(process.pid)  # the import is done before the request comes

    request = tmp_path / "candidate-request.json"
    raw = dict(request_for("softmax", CANDIDATES_DIR / "softmax_triton.py"))
    raw["files"] = {"outputs": str(tmp_path / "outputs.safetensors")}
    request.write_text(json.dumps(raw))
    result = tmp_path / "candidate-result.json"
    _, err = process.communicate(f"{request}\t{result}\n", timeout=300)
    assert process.returncode == 0, err
    written = json.loads(result.read_text())
    assert written["status"] == "ok", written["message"]
    assert written["checks"] == [] and written["guards"]  # the candidate step: guards passed, no verdict yet


def test_a_warm_worker_whose_stdin_closes_exits_at_once(tmp_path, triton_cache):
    process, _ = start(tmp_path, triton_cache)
    _, err = process.communicate("", timeout=300)
    assert process.returncode == 0, err


def test_a_warm_worker_takes_no_other_mode(tmp_path):
    completed = subprocess.run(
        [sys.executable, "-m", "tritonize_worker", "--warm", str(tmp_path / "r"), "--serve"],
        capture_output=True,
        text=True,
        env=dict(os.environ, PYTHONPATH=WORKER_DIR),
    )
    assert completed.returncode == 2
    assert "--warm takes its one request from stdin" in completed.stderr


def _imported(pid: int) -> str:
    """The shared objects the process has mapped: torch's are there once it imported torch."""
    with open(f"/proc/{pid}/maps", encoding="utf-8") as maps:
        return maps.read()

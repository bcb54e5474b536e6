"""autotune_timer.compile_in_parallel with a real Triton compile (parallel_compile_probe.py): every configuration of
a key compiled at once on several threads into Triton's own cache, none launched, each compile seen by the hooks
that give the lane up and tell the watchdog (lane.py, watchdog.py)."""

import json
import os
import subprocess
import sys
from pathlib import Path

from conftest import PYTHON_DIR


def test_a_keys_configurations_are_compiled_at_once_into_tritons_cache(tmp_path):
    env = {
        **os.environ,
        "PYTHONPATH": str(PYTHON_DIR),
        "TRITON_INTERPRET": "0",
        "TRITON_CACHE_DIR": str(tmp_path / "triton-cache"),
    }
    probe = Path(__file__).parent / "parallel_compile_probe.py"
    completed = subprocess.run(
        [sys.executable, str(probe)], capture_output=True, text=True, env=env, timeout=300, check=False
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    found = json.loads(completed.stdout.strip().splitlines()[-1])

    assert found["submitted"] == 8
    assert found["cached"] == 8  # every configuration's kernel, where the first pass will find it
    assert found["warps"] == [2, 2, 2, 2, 4, 4, 4, 4]
    assert (found["started"], found["ended"]) == (8, 8)
    record = found["record"]
    assert record["compiled_at_once"] == 8 and record["compile_threads"] >= 2 and "parallel_off" not in record

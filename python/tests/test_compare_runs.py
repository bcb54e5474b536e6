"""scripts/compare_runs.py, the acceptance check of docs/measurement.md, on small reports written here."""

import importlib.util
import json
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "compare_runs.py"
SLOW = "XBLOCK=1, R0_BLOCK=2048, num_warps=16, num_stages=1"
FAST = "XBLOCK=1, R0_BLOCK=4096, num_warps=16, num_stages=1"


@pytest.fixture(scope="module")
def compare_runs():
    spec = importlib.util.spec_from_file_location("compare_runs", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def report(compile_us: float, tuned: list[str], ratio: float = 1.19) -> dict:
    """One layernorm row as `bench --json` writes it: every column at 20+ us, the compile cell's processes' picks."""
    cell = {"kernel_us": {"median": 20.0}}
    return {"tasks": [{"task": "layernorm", "llm_name": "m", "rows": [{
        "size": "4096x4096", "mode": "forward",
        "baseline": cell, "expert": {"kernel_us": {"median": 23.9}}, "llm": cell,
        "compile": {"kernel_us": {"median": compile_us}, "tuned": {"triton_red_0": tuned}},
        "llm_over_expert": ratio, "llm_over_expert_ci": {"lo": ratio - 0.03, "hi": ratio + 0.03},
    }]}]}


def run(compare_runs, tmp_path, monkeypatch, capsys, *reports) -> tuple[int, str]:
    paths = []
    for i, data in enumerate(reports):
        paths.append(tmp_path / f"run{i + 1}.json")
        paths[-1].write_text(json.dumps(data))
    monkeypatch.setattr(sys, "argv", ["compare_runs.py", *map(str, paths)])
    code = compare_runs.main()
    return code, capsys.readouterr().out


def test_runs_that_agree_pass(compare_runs, tmp_path, monkeypatch, capsys):
    code, out = run(compare_runs, tmp_path, monkeypatch, capsys,
                    report(22.95, [SLOW, SLOW]), report(22.90, [SLOW, SLOW]), report(22.98, [SLOW, SLOW]))

    assert code == 0, out
    assert "acceptance: passed" in out


def test_a_median_that_moves_fails_naming_the_configurations_kept(compare_runs, tmp_path, monkeypatch, capsys):
    code, out = run(compare_runs, tmp_path, monkeypatch, capsys,
                    report(22.18, [FAST, FAST]), report(22.95, [SLOW, SLOW]), report(22.24, [FAST, FAST]))

    assert code == 1
    [failure] = [line for line in out.splitlines() if line.startswith("FAIL")]
    assert failure.startswith("FAIL layernorm 4096x4096 forward compile: medians [22.18, 22.95, 22.24] spread 3.47%")
    assert f"autotuned differently: compile triton_red_0: run 1 [{FAST} | {FAST}], run 2 [{SLOW} | {SLOW}]" in failure


def test_intervals_that_do_not_overlap_fail(compare_runs, tmp_path, monkeypatch, capsys):
    code, out = run(compare_runs, tmp_path, monkeypatch, capsys,
                    report(22.9, [SLOW, SLOW], ratio=1.19), report(22.9, [SLOW, SLOW], ratio=1.30))

    assert code == 1
    assert "FAIL layernorm 4096x4096 forward: LLM/Expert intervals do not overlap\n" in out


def with_jobs(data: dict, processes: list[dict[str, float]]) -> dict:
    """The report with its compile jobs' per-kernel times, one map per process, as `bench --json` writes them."""
    jobs = [{"task": "layernorm", "implementation": "compile", "process": p,
             "timings": [{"size": "4096x4096", "mode": "forward", "kernel_median_us": per_kernel}]}
            for p, per_kernel in enumerate(processes)]
    return {**data, "jobs": jobs}


def test_a_median_that_moves_names_the_kernel_that_moved(compare_runs, tmp_path, monkeypatch, capsys):
    steady, moved = {"triton_per_1": 8.0, "triton_red_0": 14.2}, {"triton_per_1": 8.01, "triton_red_0": 15.0}
    code, out = run(compare_runs, tmp_path, monkeypatch, capsys,
                    with_jobs(report(22.2, [SLOW, SLOW]), [steady, steady]),
                    with_jobs(report(23.0, [SLOW, SLOW]), [moved, moved]),
                    with_jobs(report(22.2, [SLOW, SLOW]), [steady, steady]))

    assert code == 1
    [failure] = [line for line in out.splitlines() if line.startswith("FAIL")]
    # The kernel that moved most comes first.
    assert "(per kernel, by run: triton_red_0 14.20/15.00/14.20 us; triton_per_1 8.00/8.01/8.00 us)" in failure
    assert "autotuned differently" not in failure


def with_jobs_on(data: dict, *uuids: str) -> dict:
    data["jobs"] = [{"task": "layernorm", "implementation": "expert", "environment": {"gpu_uuid": u}} for u in uuids]
    return data


def test_a_run_resumed_on_another_gpu_is_named(compare_runs, tmp_path, monkeypatch, capsys):
    a, b = "GPU-21bdf09a-6f2c", "GPU-77aa0000-1111"
    code, out = run(compare_runs, tmp_path, monkeypatch, capsys, with_jobs_on(report(22.9, [SLOW]), a, a),
                    with_jobs_on(report(22.9, [SLOW]), a, a), with_jobs_on(report(22.9, [SLOW]), a, b))

    assert code == 0, out
    assert f"GPUs: run 1 {a[:12]} (2 jobs); run 2 {a[:12]} (2 jobs); run 3 {a[:12]} (1 jobs), {b[:12]} (1 jobs)" in out
    assert "note: a run spans several GPUs" in out


def test_runs_on_different_gpus_are_noted_and_unrecorded_ones_say_nothing(compare_runs, tmp_path, monkeypatch,
                                                                           capsys):
    _, out = run(compare_runs, tmp_path, monkeypatch, capsys, with_jobs_on(report(22.9, [SLOW]), "GPU-a"),
                 with_jobs_on(report(22.9, [SLOW]), "GPU-b"))
    _, unrecorded = run(compare_runs, tmp_path, monkeypatch, capsys, report(22.9, [SLOW]), report(22.9, [SLOW]))

    assert "note: the runs ran on different GPUs" in out
    assert "GPUs:" not in unrecorded


def with_logs(data: dict, *picks: tuple[str, float, float]) -> dict:
    """The report with one expert job per (picked, its reading, the other's reading), logged at 4096x4096."""
    jobs = []
    for process, (picked, kept_us, other_us) in enumerate(picks):
        other = SLOW if picked == FAST else FAST
        log = [{"kernel": "k", "key": ["4096", "4096", "torch.float16"], "picked": picked,
                "us": {picked: kept_us, other: other_us}},
               {"kernel": "k", "key": ["1024", "1024", "torch.float16"], "picked": picked, "us": {picked: 1.0}}]
        jobs.append({"task": "layernorm", "implementation": "expert", "process": process,
                     "environment": {"autotune_log": log}})
    return {**data, "jobs": jobs}


def test_a_failure_gives_the_autotuners_readings_of_the_kept_and_the_best_other(compare_runs, tmp_path,
                                                                                monkeypatch, capsys):
    code, out = run(compare_runs, tmp_path, monkeypatch, capsys,
                    with_logs(report(22.9, [SLOW], ratio=1.19), (FAST, 7.91, 7.95)),
                    with_logs(report(22.9, [SLOW], ratio=1.30), (SLOW, 7.90, 7.93), (SLOW, 7.88, 7.99)))

    assert code == 1
    lines = out.splitlines()
    at = lines.index("FAIL layernorm 4096x4096 forward: LLM/Expert intervals do not overlap")
    assert lines[at + 1] == ("  expert's autotuner read (us), kept vs best other: "
                             "k: run 1 [7.91 vs 7.95], run 2 [7.9 vs 7.93 | 7.88 vs 7.99]")

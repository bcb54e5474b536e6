"""The check plan (cases.py): a large check size is checked once, with the first seed and the manifest's draw, and
the reference, candidate and compare steps agree on it (docs/tasks.md, "Large check sizes")."""

import tomllib

import pytest
from conftest import TASKS_DIR, step_request

from tritonize_worker import cases
from tritonize_worker.candidate import run_candidate
from tritonize_worker.cases import Case, check_cases, input_bytes
from tritonize_worker.compare import _compare_outputs
from tritonize_worker.manifest import parse_task
from tritonize_worker.protocol import Result
from tritonize_worker.reference import run_reference
from tritonize_worker.watchdog import Watchdog


def task(name: str):
    return parse_task(tomllib.loads((TASKS_DIR / name / "task.toml").read_text()))


def test_a_size_above_the_bound_is_checked_once_and_the_others_every_way(monkeypatch):
    layernorm = task("layernorm")
    small, large = "37x93", "64x128"
    monkeypatch.setattr(cases, "FULL_CHECK_BYTES", (input_bytes(layernorm, small) + input_bytes(layernorm, large)) // 2)

    planned = check_cases(layernorm, (small, large), (0, 1), run_seed=7)

    assert [case for case in planned if case.size == large] == [Case(large, 0)]
    assert [case for case in planned if case.size == small] == [
        Case(small, seed, distribution) for distribution in ("default", "shifted", "hidden") for seed in (0, 1)
    ]


def test_the_bound_leaves_the_suites_small_sizes_and_cuts_its_large_ones():
    attention = task("attention")
    assert input_bytes(attention, "4x32x1024x64") <= cases.FULL_CHECK_BYTES < input_bytes(attention, "4x32x4096x128")
    # 2 seeds, the default draw, one distribution and the hidden one at a small size; one case at a large one.
    planned = check_cases(attention, ("4x32x1024x64", "4x32x4096x128"), (0, 1), run_seed=7)
    assert len([case for case in planned if case.size == "4x32x1024x64"]) == 6
    assert [case for case in planned if case.size == "4x32x4096x128"] == [Case("4x32x4096x128", 0)]


@pytest.mark.parametrize("bound", ["between the sizes", "below both"])
def test_the_steps_agree_on_a_plan_with_large_sizes(tmp_path, monkeypatch, bound):
    """The reference's lint compares two seeds at a size that has them, the late check takes a planned case, and
    every planned output is compared: on the H200 a plan with a large size first failed every job with a KeyError."""
    layernorm = task("layernorm")
    small, large = "37x93", "64x128"
    monkeypatch.setattr(cases, "FULL_CHECK_BYTES", 0 if bound == "below both" else
                        (input_bytes(layernorm, small) + input_bytes(layernorm, large)) // 2)

    reference = Result()
    run_reference(step_request(tmp_path, "reference"), reference)
    candidate = Result()
    run_candidate(step_request(tmp_path, "candidate"), candidate, Watchdog(lambda *_: None))
    compared = Result()
    failures = _compare_outputs(step_request(tmp_path, "compare"), compared, finished=True)

    assert (reference.status, candidate.status, failures) == ("ok", "ok", [])
    lint = next(record for record in reference.guards if record["check"] == "reference_varies")
    # Every size large: no size has two seeds to compare, and the lint says it was not made.
    assert lint["size"] == (small if bound == "between the sizes" else None)
    checked = {(record["size"], record["seed"]) for record in compared.checks}
    assert (large, 1) not in checked and (large, 0) in checked

"""The reference on disk: the float64 outputs of a narrow task (float16, bfloat16, float8) are stored as float32, the
others as float64, and the compare step's verdicts are those of the float64 reference (the schema's
reference.narrow_bytes; docs/tasks.md, "The reference on disk")."""

import pytest
import torch
from conftest import step_request

from tritonize_worker import reference as reference_step
from tritonize_worker import tensor_files
from tritonize_worker.candidate import run_candidate
from tritonize_worker.compare import _compare_outputs
from tritonize_worker.protocol import Result
from tritonize_worker.tensor_files import load_tensors, save_tensors
from tritonize_worker.watchdog import Watchdog


def _floating(path) -> set:
    return {tensor.dtype for tensor in load_tensors(path).values() if tensor.is_floating_point()}


def _job(tmp_path, task: str, spoil: float = 0.0) -> list[dict]:
    """The task's baseline through the reference, candidate and compare steps; `spoil`, when given, is added to one
    element of the first output before the compare step reads it. Returns the compare step's check records."""
    assert reference_step.run_reference(step_request(tmp_path, "reference", task), Result()) is None
    candidate = Result()
    run_candidate(step_request(tmp_path, "candidate", task), candidate, Watchdog(lambda *_: None))
    assert candidate.status == "ok", candidate.message
    if spoil:
        # The spoiled tensor goes into the first file, which a reader takes it from before any part.
        path = str(tmp_path / "outputs.safetensors")
        outputs = tensor_files.TensorFiles(path)
        first = sorted(key for key in outputs if outputs[key].is_floating_point() and outputs[key].numel() > 1)[0]
        spoiled = outputs[first].clone()
        spoiled.view(-1)[3] += spoil
        save_tensors(path, {**load_tensors(path), first: spoiled})
    compared = Result()
    _compare_outputs(step_request(tmp_path, "compare", task), compared, finished=True)
    return compared.checks


def test_a_float16_tasks_reference_is_float32_and_a_float32_tasks_float64(tmp_path):
    (tmp_path / "half").mkdir()
    (tmp_path / "single").mkdir()
    reference_step.run_reference(step_request(tmp_path / "half", "reference", "layernorm"), Result())
    reference_step.run_reference(step_request(tmp_path / "single", "reference", "softmax"), Result())

    assert _floating(tmp_path / "half" / "reference.safetensors") == {torch.float32}
    assert _floating(tmp_path / "single" / "reference.safetensors") == {torch.float64}


@pytest.mark.parametrize("spoil", [0.0, 0.5], ids=["right", "one element off"])
def test_the_verdicts_are_those_of_the_float64_reference(tmp_path, monkeypatch, spoil):
    (tmp_path / "narrow").mkdir()
    (tmp_path / "wide").mkdir()
    narrow = _job(tmp_path / "narrow", "layernorm", spoil)
    monkeypatch.setattr(reference_step, "NARROW_BYTES", 0)  # every output stored as float64, as before
    wide = _job(tmp_path / "wide", "layernorm", spoil)
    assert _floating(tmp_path / "wide" / "reference.safetensors") == {torch.float64}

    def verdicts(checks):
        return [(c["size"], c["seed"], c["mode"], c["output"], c["ok"], c["mismatches"]) for c in checks]

    assert verdicts(narrow) == verdicts(wide)
    assert all(c["ok"] for c in narrow) is (spoil == 0.0)
    # float32 holds the float64 reference to 2^-24 of itself: the errors differ by at most that much.
    largest = max(float(t.abs().max()) for t in load_tensors(tmp_path / "wide" / "reference.safetensors").values()
                  if t.is_floating_point())
    for a, b in zip(narrow, wide, strict=True):
        assert abs(a["max_abs_err"] - b["max_abs_err"]) <= largest * 2**-24


def test_a_job_whose_files_are_in_parts_gets_the_same_verdicts(tmp_path, monkeypatch):
    """The reference and the outputs written in parts (tensor_files.PART_BYTES, host memory's bound) are read whole
    by the compare step."""
    (tmp_path / "whole").mkdir()
    (tmp_path / "parts").mkdir()
    whole = _job(tmp_path / "whole", "layernorm", 0.5)
    monkeypatch.setattr(tensor_files, "PART_BYTES", 1)
    parts = _job(tmp_path / "parts", "layernorm", 0.5)

    assert (tmp_path / "parts" / "reference.safetensors.part2").exists()
    assert (tmp_path / "parts" / "outputs.safetensors.part2").exists()
    assert not (tmp_path / "whole" / "reference.safetensors.part1").exists()
    assert parts == whole and len(parts) > 4 and not all(c["ok"] for c in parts)


def test_a_random_ops_reference_stores_none_of_its_outputs_and_still_lints(tmp_path):
    """dropout's output is checked by its properties (properties.py), never against the reference's values: the
    reference step makes them (the lint compares two seeds') and writes none."""
    result = Result()
    reference_step.run_reference(step_request(tmp_path, "reference", "dropout"), result)

    assert sorted(load_tensors(tmp_path / "reference.safetensors")) == ["__parts__"]
    lint = next(record for record in result.guards if record["check"] == "reference_varies")
    assert lint["ok"] and lint["size"]


def _reference_of(tmp_path, task: str, slices: str, monkeypatch=None, baseline=None):
    import dataclasses

    tmp_path.mkdir()
    request = step_request(tmp_path, "reference", task)
    request = dataclasses.replace(request, task=dataclasses.replace(request.task, reference_slices=slices))
    if baseline is not None:
        monkeypatch.setattr(reference_step, "load_baseline", lambda _request: baseline)
    reference_step.run_reference(request, Result())
    return load_tensors(tmp_path / "reference.safetensors")


def test_a_reference_made_one_batch_index_at_a_time_is_the_whole_reference(tmp_path):
    """reference_slices (attention's Z): the outputs joined and the gradients added up from the slices are those of
    the baseline called on the whole inputs, forward and backward, at every check size."""
    whole = _reference_of(tmp_path / "whole", "attention", "")
    sliced = _reference_of(tmp_path / "sliced", "attention", "Z")
    assert sorted(whole) == sorted(sliced)
    assert any(key.endswith("grad_q") or "grad_q" in key for key in whole)
    for key in whole:
        torch.testing.assert_close(sliced[key], whole[key], rtol=1e-6, atol=1e-9, msg=key)


def test_a_reference_cut_where_the_baseline_does_not_follow_the_dim_is_a_task_error(tmp_path, monkeypatch):
    from tritonize_worker.errors import JobFailure

    with pytest.raises(JobFailure) as failure:
        _reference_of(tmp_path / "sum", "attention", "Z", monkeypatch,
                      lambda q, k, v, causal, sm_scale: (q + k + v).sum(dim=0))
    assert failure.value.status == "runtime_error"
    assert 'reference_slices = "Z"' in failure.value.message
    assert "gave output y of shape" in failure.value.message

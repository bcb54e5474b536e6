"""The compare step: the verdict, in a process that never imports candidate code.

It reads the candidate step's result (JSON, from an untrusted process: validated, and it can only fail the job),
the reference outputs and the candidate's outputs (tensor files, loaded without unpickling anything), compares
every planned output and writes the job's final result. A wrong value drops the timings: a wrong implementation
never has a time.
"""

from __future__ import annotations

import json
import os
from typing import Any

from .cases import PlannedOutput, check_cases, planned_outputs
from .check import CheckFailure, Comparison, compare, failure_report, record
from .inputs import torch_dtype
from .properties import check_properties
from .protocol import STATUSES, WORKER_ERROR, Request, Result
from .tensor_files import load_tensors

_PASSED_KEYS = ("status", "message", "detail", "phase", "rejected_by")


def run_compare(request: Request, result: Result) -> None:
    result.phase = "compare"
    candidate = _read_candidate_result(request.files.candidate_result)
    result.environment = candidate.get("environment") if isinstance(candidate.get("environment"), dict) else {}
    result.guards = [g for g in candidate.get("guards", []) if isinstance(g, dict)]
    # A rejection made after the outputs were saved (the profiled Triton-share check follows timing) still
    # yields to a wrong value: correctness is decided first, whatever else the candidate did.
    rejected_late = candidate["status"] == "rejected" and os.path.exists(request.files.outputs)
    if candidate["status"] != "ok" and not rejected_late:
        _pass_on(candidate, result)
        return
    reference = load_tensors(request.files.reference)
    outputs = load_tensors(request.files.outputs)
    task = request.task
    failures = []
    cases = check_cases(task, request.check.sizes, request.check.seeds, request.guards.run_seed)
    for planned in planned_outputs(task, cases):
        tolerance = task.tolerances[planned.name]
        if planned.spec is not None and planned.spec.check != "values":
            records = check_properties(request, planned, outputs, tolerance)
        else:
            records = _compare_values(planned, reference, outputs, tolerance)
        for record_, comparison in records:
            result.checks.append(record_)
            if not comparison.ok:
                where = f"{record_['output']} at {planned.case.where()} ({planned.mode})"
                failures.append(CheckFailure(f"{where}: {comparison.problem}", comparison.listing))
    result.phase = "check"
    if failures:
        result.fail("wrong_result", *failure_report(failures))
        return
    if rejected_late:
        _pass_on(candidate, result)
        return
    timings = candidate.get("timings", [])
    result.timings = [t for t in timings if isinstance(t, dict)] if isinstance(timings, list) else []
    result.phase = "time" if result.timings else "check"


def _compare_values(planned: PlannedOutput, reference, outputs, tolerance) -> list[tuple[dict, Comparison]]:
    """One output against the reference, element by element; a tensor list, each of its tensors."""
    import torch

    keys = [planned.key]
    if planned.spec is not None and planned.spec.kind == "tensor_list":
        count = int(reference[f"{planned.key}.len"])
        got = outputs.get(f"{planned.key}.len")
        if got is None or int(got) != count:
            comparison = compare(None, reference[f"{planned.key}.0"], torch.float64, tolerance)
            comparison.problem = f"expected a list of {count} tensors, got {'none' if got is None else int(got)}"
            return [(_record(planned, planned.name, comparison, tolerance), comparison)]
        keys = [f"{planned.key}.{i}" for i in range(count)]
    found = []
    for key in keys:
        if key not in reference:
            raise ValueError(f"{WORKER_ERROR}the reference file has no {key}")
        name = planned.name + key[len(planned.key) :]
        if key not in outputs:
            comparison = compare(None, reference[key], torch_dtype(planned.dtype), tolerance)
            comparison.problem = "no output was written for it"
        else:
            comparison = compare(outputs[key], reference[key], torch_dtype(planned.dtype), tolerance)
        found.append((_record(planned, name, comparison, tolerance), comparison))
    return found


def _record(planned: PlannedOutput, name: str, comparison: Comparison, tolerance) -> dict:
    entry = record(planned.case.size, planned.case.seed, planned.mode, name, comparison, tolerance)
    entry["distribution"] = planned.case.distribution
    return entry


def _pass_on(candidate: dict[str, Any], result: Result) -> None:
    """The candidate step's own failing verdict becomes the job's."""
    for key in _PASSED_KEYS:
        setattr(result, key, candidate.get(key) if isinstance(candidate.get(key), str) else "")


def _read_candidate_result(path: str) -> dict[str, Any]:
    with open(path, encoding="utf-8") as file:
        data = json.load(file)
    if not isinstance(data, dict) or data.get("status") not in STATUSES:
        raise ValueError(f"the candidate step's result {path} is not a result object")
    return data

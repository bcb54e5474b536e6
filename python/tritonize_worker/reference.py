"""The reference step: the task's baseline run in float64 on the check inputs, in a process that never imports
candidate code (the request does not even name the implementation). Writes every reference output to a tensor file
the compare step reads. The engine caches it per task, device, sizes and seeds within a run.

It also lints the task: the reference output must vary with its input (`reference_varies`), or the anti-cheat
check `output_follows_input` and the comparison itself would prove nothing.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from . import lane
from .cases import Case, backward, check_cases, distribution_named, flatten, grad_outputs, output_key, split_outputs
from .errors import JobFailure, describe, format_detail
from .inputs import copy_args, draw_inputs, parse_size
from .load import load_entry
from .protocol import WORKER_ERROR, Request, Result
from .tensor_files import save_tensors


def run_reference(request: Request, result: Result) -> None:
    import torch

    result.phase = "reference"
    baseline = load_baseline(request)
    tensors: dict[str, torch.Tensor] = {}
    with lane.current().shared("reference outputs"):
        _compute(request, baseline, tensors)
    result.guards.append(lint_reference_varies(request, tensors))
    save_tensors(request.files.reference, tensors)


def _compute(request: Request, baseline: Callable[..., Any], tensors: dict[str, Any]) -> None:
    import torch

    task = request.task
    for case in check_cases(task, request.check.sizes, request.check.seeds, request.guards.run_seed):
        draw = draw_inputs(task, case.size, case.seed, request.device,
                           distribution_named(task, case.distribution, request.guards.run_seed))
        where = f"the baseline at {case.where()}"
        for mode in task.modes:
            if mode == "forward":
                with torch.no_grad():
                    y = _run_baseline(baseline, copy_args(draw.args, task, float64=True, grad=False))
                outputs = _split(task, y, where)
                for spec in task.outputs:
                    tensors.update(flatten(output_key(case, mode, spec.name), spec, outputs[spec.name]))
                continue
            args = copy_args(draw.args, task, float64=True, grad=True)
            outputs = _split(task, _run_baseline(baseline, args), where)
            pairs = grad_outputs(task, outputs, draw.generator, request.device)
            _run_baseline(lambda pairs=pairs: backward(pairs))
            for i, spec in enumerate(task.inputs):
                if not spec.grad:
                    continue
                if args[i].grad is None:
                    raise JobFailure("runtime_error", f"{WORKER_ERROR}the baseline gives no grad_{spec.name}")
                tensors[output_key(case, mode, f"grad_{spec.name}")] = args[i].grad


def _split(task, value, where: str) -> dict:
    try:
        return split_outputs(task, value, where)
    except JobFailure as failure:
        raise JobFailure("runtime_error", f"{WORKER_ERROR}{failure.message}") from failure


def lint_reference_varies(request: Request, tensors: dict[str, Any]) -> dict:
    """The task lint: at the largest check size, the reference's first output differs between the first two seeds."""
    import torch

    task, sizes, seeds = request.task, request.check.sizes, request.check.seeds
    if len(seeds) < 2:
        raise JobFailure("runtime_error", f"{WORKER_ERROR}task lint reference_varies: needs two seeds")
    largest = max(sizes, key=lambda s: _numel(s, task.dims))
    first = task.outputs[0]
    suffix = ".0" if first.kind == "tensor_list" else ""
    a = tensors[output_key(Case(largest, seeds[0]), "forward", first.name) + suffix]
    b = tensors[output_key(Case(largest, seeds[1]), "forward", first.name) + suffix]
    if a.shape == b.shape and torch.equal(a, b):
        raise JobFailure(
            "runtime_error",
            f"{WORKER_ERROR}task lint reference_varies: the reference output at size {largest} is the same for"
            f" seeds {seeds[0]} and {seeds[1]}: it does not depend on its input, so no check can tell a right"
            " output from a cached one",
        )
    return {"check": "reference_varies", "ok": True, "size": largest}


def _numel(size: str, dims) -> int:
    numel = 1
    for value in parse_size(size, dims).values():
        numel *= value
    return numel


def load_baseline(request: Request) -> Callable[..., Any]:
    path = os.path.join(request.task_dir, request.task.baseline)
    try:
        return load_entry(path, request.task.entry, "baseline")
    except JobFailure as failure:
        raise JobFailure(
            "runtime_error", f"{WORKER_ERROR}the task's baseline ({failure.status}): {failure.message}", failure.detail
        ) from failure


def _run_baseline(baseline: Callable[..., Any], args: list[Any] | None = None) -> Any:
    """The baseline's result; its failure is the task's problem, not the implementation's."""
    try:
        return baseline(*(args or []))
    except Exception as exc:
        raise JobFailure(
            "runtime_error", f"{WORKER_ERROR}the baseline failed: {describe(exc)}", format_detail(exc)
        ) from exc

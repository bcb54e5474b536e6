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
from .cases import (
    Case,
    backward,
    check_cases,
    distribution_named,
    draw_grad_outputs,
    flatten,
    grad_outputs,
    output_key,
    output_shapes,
    split_outputs,
)
from .errors import JobFailure, describe, format_detail
from .inputs import Draw, copy_args, draw_inputs, dtype_bytes, parse_size
from .load import load_entry
from .protocol import WORKER_ERROR, Request, Result
from .schema import schema
from .tensor_files import TensorWriter

# An output of at most this many bytes per element is stored as float32 (the schema's reference.narrow_bytes,
# which the engine's disk estimate reads too).
NARROW_BYTES: int = schema()["reference"]["narrow_bytes"]


def run_reference(request: Request, result: Result) -> None:
    import torch

    result.phase = "reference"
    baseline = load_baseline(request)
    compared = _lint_keys(request)
    kept: dict[str, torch.Tensor] = {}  # the lint's two tensors, which may be in a part file by the end
    writer = TensorWriter(request.files.reference)
    _compute(request, baseline, writer, compared, kept)  # takes the lane case by case
    result.guards.append(lint_reference_varies(request, compared, kept))
    writer.save()  # last: the engine takes the file as made once it is there


def _compute(request: Request, baseline: Callable[..., Any], writer: TensorWriter, compared, kept: dict) -> None:
    """The baseline in float64 on every check case. Each case's inputs are drawn on the CPU, and the backward mode's
    dys too once the forward showed the outputs' shapes, before the lane is taken (lane.py: CPU work holds nothing);
    its outputs go to host memory case by case, so the GPU holds one case's float64 outputs at a time, not the
    task's (an attention task's come to about 24 GB), which is what the engine's memory estimate counts, and from
    there to the file's parts (TensorWriter), so host memory holds about PART_BYTES of them, not the task's."""
    task = request.task
    gpu = lane.current()
    for case in check_cases(task, request.check.sizes, request.check.seeds, request.guards.run_seed):
        where = f"the baseline at {case.where()}"
        slices = parse_size(case.size, task.dims)[task.reference_slices] if task.reference_slices else 0
        cpu_draw = draw_inputs(task, case.size, case.seed, "cpu",
                               distribution_named(task, case.distribution, request.guards.run_seed))
        state = cpu_draw.generator.get_state()
        shapes, made = None, {}
        if "forward" in task.modes:
            with gpu.shared(f"reference outputs {case.size}"):
                outputs = _forward(task, baseline, cpu_draw.on(request.device), where, slices)
                shapes = output_shapes(task, outputs)
                for spec in task.outputs:
                    flat = flatten(output_key(case, "forward", spec.name), spec, outputs[spec.name])
                    if spec.check == "values":
                        made.update(_to_host(flat, spec.dtype))
                    else:  # checked by its properties (a random op's): no value of it is compared, none stored
                        kept.update(_to_host({k: v for k, v in flat.items() if k in compared}, spec.dtype))
        if "backward" in task.modes:
            drawn = draw_grad_outputs(task, shapes, state) if shapes is not None else None
            with gpu.shared(f"reference outputs {case.size}"):
                grads = _backward(request, baseline, cpu_draw.on(request.device), where, drawn, slices, state)
                for spec in task.grad_inputs:
                    key = output_key(case, "backward", f"grad_{spec.name}")
                    made.update(_to_host({key: grads[f"grad_{spec.name}"]}, spec.dtype))
        for key, value in made.items():
            writer.add(key, value)
            if key in compared:
                kept[key] = value
        writer.spill()  # writing a file is CPU work: outside the lane's holds


def _to_host(tensors: dict[str, Any], dtype: str) -> dict[str, Any]:
    """The tensors in host memory as they are stored: the float64 values of an output of a narrow `dtype`
    (NARROW_BYTES) as float32, rounded on the GPU before they are moved."""
    import torch

    narrow = dtype_bytes(dtype) <= NARROW_BYTES
    stored = {}
    for key, value in tensors.items():
        if isinstance(value, torch.Tensor):
            value = value.to(dtype=torch.float32) if narrow and value.dtype == torch.float64 else value
            value = value.to("cpu")
        stored[key] = value
    return stored


def _forward(task, baseline: Callable[..., Any], draw: Draw, where: str, slices: int) -> dict[str, Any]:
    import torch

    with torch.no_grad():
        args = copy_args(draw.args, task, float64=True, grad=False)
        if not slices:
            return _split(task, _run_baseline(baseline, args), where)
        parts = [_cut_outputs(task, _split(task, _run_baseline(baseline, _cut(task, args, i)), where), where)
                 for i in range(slices)]
        return {spec.name: torch.cat([part[spec.name] for part in parts]) for spec in task.outputs}


def _backward(request: Request, baseline: Callable[..., Any], draw: Draw, where: str,
              drawn: list[Any] | None, slices: int, state) -> dict[str, Any]:
    task = request.task
    args = copy_args(draw.args, task, float64=True, grad=True)
    if not slices:
        outputs = _split(task, _run_baseline(baseline, args), where)
        pairs = grad_outputs(task, outputs, draw.generator, request.device, drawn)
        _run_baseline(lambda pairs=pairs: backward(pairs))
    for i in range(slices):  # each slice's backward adds its part of the gradients to the whole inputs' .grad
        outputs = _cut_outputs(task, _split(task, _run_baseline(baseline, _cut(task, args, i)), where), where)
        if drawn is None:  # no forward mode drew them: the dys of the whole outputs, as unsliced
            drawn = draw_grad_outputs(task, [(slices, *outputs[spec.name].shape[1:]) for spec in task.outputs],
                                      state)
        pairs = [(outputs[spec.name], dy[i:i + 1].to(device=outputs[spec.name].device,
                                                    dtype=outputs[spec.name].dtype))
                 for spec, dy in zip(task.outputs, drawn, strict=True)]
        _run_baseline(lambda pairs=pairs: backward(pairs))
        del outputs, pairs
    grads = {}
    for i, spec in enumerate(task.inputs):
        if not spec.grad:
            continue
        if args[i].grad is None:
            raise JobFailure("runtime_error", f"{WORKER_ERROR}the baseline gives no grad_{spec.name}")
        grads[f"grad_{spec.name}"] = args[i].grad
    return grads


def _cut(task, args: list[Any], index: int) -> list[Any]:
    """The arguments at one index of the task's reference_slices dim: a tensor input whose shape starts with the dim
    cut to that index along its first axis (a view, so the slice's gradient goes to the whole tensor's .grad), every
    other argument whole (docs/tasks.md, "reference_slices")."""
    dim = task.reference_slices
    return [arg[index:index + 1] if spec.kind == "tensor" and spec.shape and spec.shape[0] == dim else arg
            for spec, arg in zip(task.inputs, args, strict=True)]


def _cut_outputs(task, outputs: dict[str, Any], where: str) -> dict[str, Any]:
    """A slice's outputs, each a tensor whose first axis is the slice's one index, to be joined along it; a task error
    otherwise (its outputs do not follow reference_slices' dim as its manifest says)."""
    import torch

    for spec in task.outputs:
        value = outputs[spec.name]
        if not isinstance(value, torch.Tensor) or value.dim() == 0 or value.shape[0] != 1:
            shape = tuple(value.shape) if isinstance(value, torch.Tensor) else type(value).__name__
            raise JobFailure(
                "runtime_error",
                f"{WORKER_ERROR}reference_slices = \"{task.reference_slices}\": {where}, cut to one index of"
                f" {task.reference_slices}, gave output {spec.name} of shape {shape}, not one whose first axis is"
                " that index: the task's outputs do not follow the dim its manifest cuts the reference along",
            )
    return outputs


def _split(task, value, where: str) -> dict:
    try:
        return split_outputs(task, value, where)
    except JobFailure as failure:
        raise JobFailure("runtime_error", f"{WORKER_ERROR}{failure.message}") from failure


def _lint_keys(request: Request) -> tuple[str, ...]:
    """The size and the two tensors the lint compares: the first output at the largest check size checked with two
    seeds (a large size is checked with one: cases.FULL_CHECK_BYTES), for the first two seeds; () when no size has
    two."""
    task, sizes, seeds = request.task, request.check.sizes, request.check.seeds
    if len(seeds) < 2:
        raise JobFailure("runtime_error", f"{WORKER_ERROR}task lint reference_varies: needs two seeds")
    cases = check_cases(task, sizes, seeds, request.guards.run_seed)
    both = [size for size in sizes if Case(size, seeds[1]) in cases]
    if not both:
        return ()
    largest = max(both, key=lambda s: _numel(s, task.dims))
    first = task.outputs[0]
    suffix = ".0" if first.kind == "tensor_list" else ""
    return (largest, *(output_key(Case(largest, seed), "forward", first.name) + suffix for seed in seeds[:2]))


def lint_reference_varies(request: Request, compared: tuple[str, ...], tensors: dict[str, Any]) -> dict:
    """The task lint: the reference's first output differs between the first two seeds at the size `compared`
    names (`_lint_keys`)."""
    import torch

    if not compared:
        return {"check": "reference_varies", "ok": True, "size": None,
                "note": "not made: every check size is large, and checked with one seed"}
    largest, first, second = compared
    a, b = tensors[first], tensors[second]
    if a.shape == b.shape and torch.equal(a, b):
        seeds = request.check.seeds
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
    """The baseline's result; its failure is the task's problem, not the implementation's. Out of GPU memory it is
    neither's: the GPU's state (the engine runs the job again alone, src/run/runner.cpp) or its size."""
    try:
        return baseline(*(args or []))
    except Exception as exc:
        if type(exc).__name__ == "OutOfMemoryError":
            raise JobFailure(
                "runtime_error",
                f"{WORKER_ERROR}the task's float64 reference (its baseline in float64) ran out of GPU memory:"
                f" {describe(exc)}",
                format_detail(exc),
            ) from exc
        raise JobFailure(
            "runtime_error", f"{WORKER_ERROR}the baseline failed: {describe(exc)}", format_detail(exc)
        ) from exc

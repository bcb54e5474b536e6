"""Correctness: the implementation against the baseline run in float64 on copies of the same inputs.

An element passes when |out - ref| <= atol + rtol * |ref| (torch.isclose with the reference as `other`);
NaN or Inf where the reference is finite fails. The output must also have the reference's shape, the task's
dtype and the inputs' device.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .errors import JobFailure, candidate_code, describe, format_detail
from .inputs import Draw, copy_args, draw_inputs, draw_tensor, torch_dtype
from .protocol import WORKER_ERROR, Request, Task, Tolerance

if TYPE_CHECKING:
    import torch

MAX_LISTED_MISMATCHES = 5
MAX_LISTED_FAILURES = 5

# (size, mode) -> wall seconds of the implementation's first call there, kernels finished. The checks make the
# first call at every timed size, so this is where Triton compiles and autotunes; timing reports it.
first_call_s: dict[tuple[str, str], float] = {}


@dataclass
class Comparison:
    ok: bool
    numel: int
    mismatches: int
    max_abs_err: float | None = None  # None: not computable (shape mismatch) or not finite
    max_rel_err: float | None = None
    problem: str = ""  # one line when not ok
    listing: str = ""  # the first mismatching elements


def compare(out: Any, ref: torch.Tensor, dtype: torch.dtype, tolerance: Tolerance) -> Comparison:
    """`out` (the implementation's) against `ref` (float64)."""
    import torch

    numel = ref.numel()
    if not isinstance(out, torch.Tensor):
        return Comparison(False, numel, numel, problem=f"expected a tensor, got {_type_name(out)}")
    if tuple(out.shape) != tuple(ref.shape):
        return Comparison(False, numel, numel, problem=f"shape {tuple(out.shape)}, expected {tuple(ref.shape)}")
    got = out.detach().to(device=ref.device, dtype=torch.float64)
    close = torch.isclose(got, ref, rtol=tolerance.rtol, atol=tolerance.atol, equal_nan=True)
    mismatches = int((~close).sum())
    max_abs_err, max_rel_err = _max_errors(got, ref)
    comparison = Comparison(mismatches == 0, numel, mismatches, max_abs_err, max_rel_err)
    if mismatches:
        comparison.problem = (
            f"{mismatches} of {numel} elements outside atol {tolerance.atol:g} + rtol {tolerance.rtol:g} * |ref|"
            f" (max abs err {_number(max_abs_err)})"
        )
        comparison.listing = _list_mismatches(got, ref, close)
    problems = []
    if out.dtype != dtype:
        problems.append(f"dtype {_dtype_name(out.dtype)}, expected {_dtype_name(dtype)}")
    if out.device != ref.device:
        problems.append(f"device {out.device}, expected {ref.device}")
    if problems:
        comparison.ok = False
        comparison.problem = "; ".join(problems + ([comparison.problem] if comparison.problem else []))
    return comparison


def _max_errors(got: torch.Tensor, ref: torch.Tensor) -> tuple[float | None, float | None]:
    """Largest absolute and relative errors; None when an element is not finite where the reference is."""
    import torch

    if got.numel() == 0:
        return 0.0, 0.0
    ref_finite = torch.isfinite(ref)
    if bool((ref_finite & ~torch.isfinite(got)).any()):
        return None, None
    both = ref_finite
    abs_err = (got - ref).abs()[both]
    max_abs = float(abs_err.max()) if abs_err.numel() else 0.0
    nonzero = both & (ref != 0)
    rel_err = (got - ref).abs()[nonzero] / ref.abs()[nonzero]
    max_rel = float(rel_err.max()) if rel_err.numel() else 0.0
    return max_abs, max_rel


def _list_mismatches(got: torch.Tensor, ref: torch.Tensor, close: torch.Tensor) -> str:
    lines = []
    for index in (~close).nonzero()[:MAX_LISTED_MISMATCHES].tolist():
        at = tuple(index)
        lines.append(f"  at {at}: got {_number(float(got[at]))}, expected {_number(float(ref[at]))}")
    return "\n".join(lines)


def _number(value: float | None) -> str:
    return "non-finite" if value is None else f"{value:.6g}"


def _dtype_name(dtype: torch.dtype) -> str:
    return str(dtype).removeprefix("torch.")


def _type_name(value: Any) -> str:
    return "None" if value is None else type(value).__name__


# --- The checks of one job --------------------------------------------------------------------------------------------


@dataclass
class CheckFailure:
    headline: str  # "y at size 37x93, seed 0 (forward): <problem>"
    listing: str  # the first mismatching elements, or ""


def run_checks(
    entry: Callable[..., Any], baseline: Callable[..., Any], request: Request, records: list[dict]
) -> list[CheckFailure]:
    """Checks every size, seed and mode, appending one record per output to `records`; returns the failures.

    A wrong result does not stop the checks (which sizes fail is worth knowing); an exception of the
    implementation does, escaping as CandidateError.
    """
    task = request.task
    failures = []
    for size in request.check.sizes:
        for seed in request.check.seeds:
            draw = draw_inputs(task, size, seed, request.device)
            for mode in task.modes:
                check = _check_forward if mode == "forward" else _check_backward
                for output, comparison in check(entry, baseline, task, draw, request.device):
                    records.append(_record(size, seed, mode, output, comparison, task.tolerances[output]))
                    if not comparison.ok:
                        headline = f"{output} at size {size}, seed {seed} ({mode}): {comparison.problem}"
                        failures.append(CheckFailure(headline, comparison.listing))
    return failures


def failure_report(failures: list[CheckFailure]) -> tuple[str, str]:
    """The message (the first failure) and the detail (the first failures, with their first mismatches)."""
    blocks = [f.headline + ("\n" + f.listing if f.listing else "") for f in failures[:MAX_LISTED_FAILURES]]
    if len(failures) > MAX_LISTED_FAILURES:
        blocks.append(f"... and {len(failures) - MAX_LISTED_FAILURES} more failing checks")
    return failures[0].headline, "\n".join(blocks)


def _record(size: str, seed: int, mode: str, output: str, comparison: Comparison, tolerance: Tolerance) -> dict:
    return {
        "size": size,
        "seed": seed,
        "mode": mode,
        "output": output,
        "ok": comparison.ok,
        "max_abs_err": comparison.max_abs_err,
        "max_rel_err": comparison.max_rel_err,
        "mismatches": comparison.mismatches,
        "numel": comparison.numel,
        "atol": tolerance.atol,
        "rtol": tolerance.rtol,
    }


def _check_forward(entry, baseline, task: Task, draw: Draw, device: str) -> list[tuple[str, Comparison]]:
    import torch

    with torch.no_grad():
        ref = _run_baseline(baseline, copy_args(draw.args, task, float64=True, grad=False))
    args = copy_args(draw.args, task, float64=False, grad=False)
    with candidate_code(f"the forward call at size {draw.size}, seed {draw.seed}"):
        started = time.perf_counter()
        out = entry(*args)
        _synchronize(device)
        first_call_s.setdefault((draw.size, "forward"), time.perf_counter() - started)
    return [("y", compare(out, ref, torch_dtype(task.output_dtype), task.tolerances["y"]))]


def _check_backward(entry, baseline, task: Task, draw: Draw, device: str) -> list[tuple[str, Comparison]]:
    ref_args = copy_args(draw.args, task, float64=True, grad=True)
    ref_y = _run_baseline(baseline, ref_args)
    dy = draw_tensor(ref_y.shape, "randn", task.grad_output_scale, task.output_dtype, draw.generator, device)
    _run_baseline(lambda: ref_y.backward(dy.to(ref_y.dtype)))
    grad_outputs = [(f"grad_{spec.name}", i, spec) for i, spec in enumerate(task.inputs) if spec.grad]
    no_gradient = [name for name, i, _ in grad_outputs if ref_args[i].grad is None]
    if no_gradient:
        raise JobFailure("runtime_error", f"{WORKER_ERROR}the baseline gives no {', '.join(no_gradient)}")
    args = copy_args(draw.args, task, float64=False, grad=True)
    with candidate_code(f"the forward call of the backward check at size {draw.size}, seed {draw.seed}"):
        y = entry(*args)
        _synchronize(device)
    y_problem = _unusable_output(y, ref_y)
    if y_problem:
        # The forward check reports this output; its backward cannot be run meaningfully.
        numels = [ref_args[i].numel() for _, i, _ in grad_outputs]
        return [
            (name, Comparison(False, n, n, problem=f"backward not run: y {y_problem}"))
            for (name, _, _), n in zip(grad_outputs, numels, strict=True)
        ]
    with candidate_code(f"the backward at size {draw.size}, seed {draw.seed}"):
        started = time.perf_counter()
        y.backward(dy.to(y.dtype))
        _synchronize(device)
        first_call_s.setdefault((draw.size, "backward"), time.perf_counter() - started)
    return [
        (name, compare(args[i].grad, ref_args[i].grad, torch_dtype(spec.dtype), task.tolerances[name]))
        for name, i, spec in grad_outputs
    ]


def _unusable_output(y: Any, ref_y: torch.Tensor) -> str:
    import torch

    if not isinstance(y, torch.Tensor):
        return f"is {_type_name(y)}, not a tensor"
    if tuple(y.shape) != tuple(ref_y.shape):
        return f"has shape {tuple(y.shape)}, expected {tuple(ref_y.shape)}"
    return ""


def _run_baseline(baseline: Callable[..., Any], args: list[Any] | None = None) -> Any:
    """The baseline's result; its failure is the task's problem, not the implementation's."""
    try:
        return baseline(*(args or []))
    except Exception as exc:
        raise JobFailure(
            "runtime_error", f"{WORKER_ERROR}the baseline failed: {describe(exc)}", format_detail(exc)
        ) from exc


def _synchronize(device: str) -> None:
    # Kernel errors are reported asynchronously: surface them while the implementation is still to blame.
    if device == "cuda":
        import torch

        torch.cuda.synchronize()

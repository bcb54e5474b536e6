"""Correctness: the implementation's outputs against the baseline's float64 reference outputs.

Runs in the compare step (compare.py), a process that never imports candidate code; the outputs arrive as tensor
files (tensor_files.py).

An element passes when |out - ref| <= atol + rtol * |ref| (torch.isclose with the reference as `other`);
NaN or Inf where the reference is finite fails. The output must also have the reference's shape, the task's
dtype and the inputs' device.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .protocol import Tolerance

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


def failure_report(failures: list[CheckFailure]) -> tuple[str, str]:
    """The message (the first failure) and the detail (the first failures, with their first mismatches)."""
    blocks = [f.headline + ("\n" + f.listing if f.listing else "") for f in failures[:MAX_LISTED_FAILURES]]
    if len(failures) > MAX_LISTED_FAILURES:
        blocks.append(f"... and {len(failures) - MAX_LISTED_FAILURES} more failing checks")
    return failures[0].headline, "\n".join(blocks)


def record(size: str, seed: int, mode: str, output: str, comparison: Comparison, tolerance: Tolerance) -> dict:
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

"""Correctness: the implementation's outputs against the baseline's float64 reference outputs.

Runs in the compare step (compare.py), a process that never imports candidate code; the outputs arrive as tensor
files (tensor_files.py).

An element passes when |out - ref| <= atol + rtol * |ref| (the reference as `other`). Values that are not finite
are never a wildcard:
- where the float64 reference is NaN, the output must be NaN (the one place NaN == NaN is right: the baseline itself
  gives no number there);
- where the reference, rounded to the output's dtype, is +inf or -inf (it overflows that dtype), the same infinity
  is right, as is any value within tolerance of the float64 reference;
- everywhere else (the reference finite in the output's dtype) a NaN or an infinity in the output is a mismatch, and
  is counted and named (`nonfinite`, and the first index in the message).
The output must also have the reference's shape, the task's dtype and the inputs' device.
"""

from __future__ import annotations

import math
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
    # Largest errors over the elements. NaN when an output is NaN where the reference is not, +inf when one is
    # infinite where the reference is finite; None only when no comparison was possible (shape, not a tensor).
    max_abs_err: float | None = None
    max_rel_err: float | None = None
    nonfinite: int = 0  # elements NaN or infinite where the reference (in the output's dtype) is finite
    first_mismatch: tuple[int, ...] | None = None
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
    # The reference as the output's dtype can hold it: where it overflows, the infinity is the right answer.
    rounded = ref.to(dtype).to(torch.float64) if dtype.is_floating_point else ref
    ref_nan = torch.isnan(ref)
    ref_inf = torch.isinf(rounded) & ~ref_nan
    special = (ref_nan & torch.isnan(got)) | (ref_inf & (got == rounded))
    close = special | torch.isclose(got, ref, rtol=tolerance.rtol, atol=tolerance.atol, equal_nan=False)
    mismatches = int((~close).sum())
    nonfinite = int((~torch.isfinite(got) & ~ref_nan & ~ref_inf).sum())
    max_abs_err, max_rel_err = _max_errors(got, ref, special)
    comparison = Comparison(mismatches == 0, numel, mismatches, max_abs_err, max_rel_err, nonfinite)
    if mismatches:
        first = tuple((~close).nonzero()[0].tolist())
        comparison.first_mismatch = first
        what = f"{mismatches} of {numel} elements outside atol {tolerance.atol:g} + rtol {tolerance.rtol:g} * |ref|"
        if nonfinite:
            what += f" ({_nonfinite_counts(got, ref_nan | ref_inf)} where the reference is finite)"
        comparison.problem = (
            f"{what}, max abs err {_number(max_abs_err)}; first at {_index(first)}:"
            f" got {_number(float(got[first]))}, expected {_number(float(ref[first]))}"
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


def _max_errors(got: torch.Tensor, ref: torch.Tensor, special: torch.Tensor) -> tuple[float, float]:
    """Largest absolute and relative errors, NaN propagating: an output NaN where the reference is not makes both
    NaN, an infinite one makes them +inf. Elements where a non-finite output is the right answer count 0."""
    import torch

    if got.numel() == 0:
        return 0.0, 0.0
    abs_err = (got - ref).abs()
    abs_err = torch.where(special, torch.zeros_like(abs_err), abs_err)
    max_abs = _nan_max(abs_err)
    usable = ~special & (ref != 0) & torch.isfinite(ref)
    rel_err = abs_err[usable] / ref.abs()[usable]
    max_rel = _nan_max(rel_err) if rel_err.numel() else 0.0
    return max_abs, max_rel


def _nan_max(values: torch.Tensor) -> float:
    import torch

    if bool(torch.isnan(values).any()):
        return math.nan
    return float(values.max())


def _nonfinite_counts(got: torch.Tensor, expected_special: torch.Tensor) -> str:
    import torch

    parts = []
    for name, mask in (("NaN", torch.isnan(got)), ("+inf", got == math.inf), ("-inf", got == -math.inf)):
        count = int((mask & ~expected_special).sum())
        if count:
            parts.append(f"{count} {name}")
    return ", ".join(parts)


def _list_mismatches(got: torch.Tensor, ref: torch.Tensor, close: torch.Tensor) -> str:
    lines = []
    for index in (~close).nonzero()[:MAX_LISTED_MISMATCHES].tolist():
        at = tuple(index)
        lines.append(f"  at {_index(at)}: got {_number(float(got[at]))}, expected {_number(float(ref[at]))}")
    return "\n".join(lines)


def _index(at: tuple[int, ...]) -> str:
    return "(" + ", ".join(str(i) for i in at) + ("," if len(at) == 1 else "") + ")"


def _number(value: float | None) -> str:
    return "none" if value is None else f"{value:.6g}"


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
    entry = {
        "size": size,
        "seed": seed,
        "mode": mode,
        "output": output,
        "ok": comparison.ok,
        "max_abs_err": comparison.max_abs_err,
        "max_rel_err": comparison.max_rel_err,
        "mismatches": comparison.mismatches,
        "nonfinite": comparison.nonfinite,
        "numel": comparison.numel,
        "atol": tolerance.atol,
        "rtol": tolerance.rtol,
    }
    if comparison.first_mismatch is not None:
        entry["first_mismatch"] = list(comparison.first_mismatch)
    return entry

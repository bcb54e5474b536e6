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


@dataclass
class Reference:
    """What every comparison against one reference tensor needs, made once: the compare step checks the outputs of
    several calls on the same input (tensor_files.CALLS) against it."""

    values: torch.Tensor  # float64
    tolerance: Tolerance
    abs: torch.Tensor
    bound: torch.Tensor  # atol + rtol * |ref|, torch.isclose's bound
    largest: float  # max |ref|; NaN when the reference has NaN
    _divisor: torch.Tensor | None = None

    @classmethod
    def of(cls, values: torch.Tensor, tolerance: Tolerance) -> Reference:
        magnitude = values.abs()
        largest = float(magnitude.max()) if values.numel() else 0.0
        return cls(values, tolerance, magnitude, magnitude.mul(tolerance.rtol).add_(tolerance.atol), largest)

    def divisor(self) -> torch.Tensor:
        """|ref| with its zeros made infinite: a finite error over it is the relative error, 0 where ref is 0."""
        if self._divisor is None:
            self._divisor = self.abs.masked_fill(self.abs == 0, math.inf)
        return self._divisor

    def flat(self) -> Reference:
        """This reference over its elements in one dimension (views of its tensors, its divisor made once)."""
        values, magnitude, bound, divisor = (t.reshape(-1) for t in (self.values, self.abs, self.bound, self.divisor()))
        return Reference(values, self.tolerance, magnitude, bound, self.largest, divisor)


# Elements compared at once. Whole, a comparison held some six float64 tensors of the output's size beside the
# reference (its magnitude and bound, the error, the output widened): cross_entropy's compare steps held 39186 MiB
# on the H100 on 2026-12-05 (docs/runner.md, "GPU memory"), which the runner must find room for beside other jobs.
COMPARE_CHUNK = 1 << 24


@dataclass
class _Part:
    """One stretch of the flattened output's comparison (_compare_part)."""

    mismatches: int
    max_abs_err: float
    max_rel_err: float
    nonfinite: int
    nonfinite_kinds: tuple[int, int, int]  # NaN, +inf, -inf where the reference is finite in the output's dtype
    first: list[tuple[int, float, float]]  # its first mismatches: flat index within the stretch, got, expected


def compare(
    out: Any,
    ref: torch.Tensor,
    dtype: torch.dtype,
    tolerance: Tolerance,
    prepared: Reference | None = None,
    chunk: int = COMPARE_CHUNK,
) -> Comparison:
    """`out` (the implementation's) against `ref` (float64); `prepared`, when given, is `Reference.of(ref,
    tolerance)`, kept for the next output compared against the same reference. A reference of more than `chunk`
    elements is compared `chunk` elements at a time, with the same result, and `prepared` is not used (its
    magnitude and bound are two float64 copies of the reference)."""
    import torch

    numel = ref.numel()
    if not isinstance(out, torch.Tensor):
        return Comparison(False, numel, numel, problem=f"expected a tensor, got {_type_name(out)}")
    if tuple(out.shape) != tuple(ref.shape):
        return Comparison(False, numel, numel, problem=f"shape {tuple(out.shape)}, expected {tuple(ref.shape)}")
    got = out.detach().to(ref.device)
    if got.dtype not in (torch.float16, torch.bfloat16, torch.float32, torch.float64):
        # Integers, bools and the float8 types (torch has no promotion from float8 to float64) are compared exactly
        # as float64; each of them converts to it without rounding.
        got = got.to(torch.float64)
    got, flat_ref = got.reshape(-1), ref.reshape(-1)
    if numel <= chunk:
        if prepared is None or prepared.values is not ref or prepared.tolerance != tolerance:
            prepared = Reference.of(ref, tolerance)
        parts = [(0, _compare_part(got, flat_ref, prepared.flat(), dtype))]
    else:
        parts = []
        for start in range(0, numel, chunk):
            part_ref = flat_ref[start : start + chunk]
            part = _compare_part(got[start : start + chunk], part_ref, Reference.of(part_ref, tolerance), dtype)
            parts.append((start, part))
    mismatches = sum(part.mismatches for _, part in parts)
    nonfinite = sum(part.nonfinite for _, part in parts)
    comparison = Comparison(
        mismatches == 0,
        numel,
        mismatches,
        largest(part.max_abs_err for _, part in parts),
        largest(part.max_rel_err for _, part in parts),
        nonfinite,
    )
    if mismatches:
        first = [(start + i, g, e) for start, part in parts for i, g, e in part.first][:MAX_LISTED_MISMATCHES]
        at = unravel(first[0][0], tuple(ref.shape))
        comparison.first_mismatch = at
        what = f"{mismatches} of {numel} elements outside atol {tolerance.atol:g} + rtol {tolerance.rtol:g} * |ref|"
        if nonfinite:
            kinds = [sum(part.nonfinite_kinds[k] for _, part in parts) for k in range(3)]
            names = ("NaN", "+inf", "-inf")
            counts = ", ".join(f"{count} {name}" for count, name in zip(kinds, names, strict=True) if count)
            what += f" ({counts} where the reference is finite)"
        comparison.problem = (
            f"{what}, max abs err {_number(comparison.max_abs_err)}; first at {_index(at)}:"
            f" got {_number(first[0][1])}, expected {_number(first[0][2])}"
        )
        comparison.listing = "\n".join(
            f"  at {_index(unravel(i, tuple(ref.shape)))}: got {_number(g)}, expected {_number(e)}"
            for i, g, e in first
        )
    problems = []
    if out.dtype != dtype:
        problems.append(f"dtype {_dtype_name(out.dtype)}, expected {_dtype_name(dtype)}")
    if out.device != ref.device:
        problems.append(f"device {out.device}, expected {ref.device}")
    if problems:
        comparison.ok = False
        comparison.problem = "; ".join(problems + ([comparison.problem] if comparison.problem else []))
    return comparison


def _compare_part(got: torch.Tensor, ref: torch.Tensor, prepared: Reference, dtype: torch.dtype) -> _Part:
    """One flat stretch of the output (`got`) against the same stretch of the reference (`ref`, float64; `prepared`
    made of it). Which way it goes (every value finite, or not) is its own: a stretch whose values are all finite
    gets the same figures either way."""
    import torch

    numel = ref.numel()
    # The compare step does this for every output of every call at every check size, so it makes few passes over
    # full-size tensors and indexes nothing by mask (benchmarks/compare_step.py; docs/measurement.md).
    abs_err = torch.sub(got, ref).abs_()  # float64; NaN where either is NaN, inf where one is infinite
    close = abs_err <= prepared.bound  # NaN is never within
    max_abs_err = float(abs_err.max()) if numel else 0.0  # NaN propagates
    dtype_max = torch.finfo(dtype).max if dtype.is_floating_point else math.inf
    kinds = (0, 0, 0)
    if math.isfinite(max_abs_err) and prepared.largest <= dtype_max:
        # The usual case: the output and the reference are finite everywhere, and the reference fits the dtype.
        nonfinite = 0
        max_rel_err = float(abs_err.div_(prepared.divisor()).max()) if numel else 0.0
    else:
        got = got.to(torch.float64)
        # The reference as the output's dtype can hold it: where it overflows, the infinity is the right answer.
        rounded = ref.to(dtype).to(torch.float64) if dtype.is_floating_point else ref
        ref_nan = torch.isnan(ref)
        ref_inf = torch.isinf(rounded)
        special = (ref_nan & torch.isnan(got)) | (ref_inf & (got == rounded))
        expected_special = ref_nan | ref_inf
        close &= torch.isfinite(abs_err)  # an infinite reference has an infinite bound: only `special` is right there
        close |= special
        abs_err.masked_fill_(special, 0.0)
        max_abs_err = float(abs_err.max()) if numel else 0.0
        nonfinite = int(torch.count_nonzero(~torch.isfinite(got) & ~expected_special))
        usable = (prepared.abs != 0) & torch.isfinite(prepared.abs) & ~special
        max_rel_err = float(torch.where(usable, abs_err / prepared.abs, 0.0).max()) if numel else 0.0
        if nonfinite:
            kinds = tuple(
                int(torch.count_nonzero(mask & ~expected_special))
                for mask in (torch.isnan(got), got == math.inf, got == -math.inf)
            )
    mismatches = numel - int(torch.count_nonzero(close))
    first = []
    if mismatches:
        for (i,) in (~close).nonzero()[:MAX_LISTED_MISMATCHES].tolist():
            first.append((i, float(got[i]), float(ref[i])))
    return _Part(mismatches, max_abs_err, max_rel_err, nonfinite, kinds, first)


def largest(values) -> float:
    """The largest of the stretches' figures; NaN where any is NaN, as torch's max over the whole would give."""
    most = 0.0
    for value in values:
        if math.isnan(value):
            return math.nan
        most = max(most, value)
    return most


def unravel(flat: int, shape: tuple[int, ...]) -> tuple[int, ...]:
    """The index in `shape` of the element at `flat` in row-major order."""
    at = []
    for n in reversed(shape):
        at.append(flat % n)
        flat //= n
    return tuple(reversed(at))


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

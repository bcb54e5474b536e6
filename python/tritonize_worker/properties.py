"""Property checks, for outputs that a reference cannot pin down element by element (random ops).

`dropout` (an output with check = "dropout", e.g. the low-memory dropout of Triton's tutorial 04): its
random mask is the implementation's own, so instead of the reference's values it must have these properties,
checked in the compare step against inputs drawn again there:

1. every element is 0 (dropped) or the input scaled by 1 / (1 - p) (kept), within the output's tolerance;
2. the number kept is a likely draw of the binomial (n, 1 - p), n counting the inputs that are not 0;
3. the same seed gives the same output, bit for bit (a second call, `@rerun`);
4. another seed gives another mask (a call with the seed + 1, `@reseeded`, itself checked by 1 and 2): the number
   of elements whose mask changed is a likely draw of the binomial (n, 2 p (1 - p)), or more.

"Likely" is a Chernoff bound: a count fails where the probability of one as far from the mean, or farther, is
below FALSE_FAILURE (split between the two tails in 2) by the bound P(X <= k) <= exp(-n KL(k/n || q)), which
holds at every n. A right dropout therefore fails a check with a probability below 1e-8, at 71 elements as at
134M; a mask that ignores the seed fails 4 from 34 elements up at p = 0.3 (from 48 at p = 0.8).

The candidate step makes the extra calls (`variants`); their outputs travel in the outputs file under the
output's key plus `@rerun` and `@reseeded`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from contextlib import AbstractContextManager, nullcontext
from typing import TYPE_CHECKING, Any

from .cases import PlannedOutput, distribution_named
from .check import COMPARE_CHUNK, Comparison, largest, record, unravel
from .inputs import draw_inputs, torch_dtype

if TYPE_CHECKING:
    from .manifest import Task
    from .protocol import Request

VARIANTS = ("rerun", "reseeded")
FALSE_FAILURE = 1e-8


def variants(task: Task, args: list[Any]) -> dict[str, list[Any]]:
    """The extra calls the property checks need, by variant name: the same arguments, and another seed."""
    seeds = {spec.seed for spec in task.outputs if spec.check == "dropout"}
    if not seeds:
        return {}
    reseeded = list(args)
    for i, spec in enumerate(task.inputs):
        if spec.name in seeds:
            reseeded[i] = (int(args[i]) + 1) % (2**31)
    return {"rerun": list(args), "reseeded": reseeded}


def check_properties(request: Request, planned: PlannedOutput, outputs: Mapping, tolerance, device: str = "cpu",
                     hold: AbstractContextManager | None = None, finished: bool = True) -> list[tuple[dict, Any]]:
    """The dropout properties of one output; (record, comparison) per check made.

    A call the candidate step never made (it failed before: `finished` False) is not a failure, as for values: the
    checks that need its output are not made. A dropout job's step that ran out of GPU memory beside other jobs after
    its first call was judged `wrong_result` for the second call's missing output (H100, 2026-12-05), which kept it
    from being run again alone; its own failure is its verdict now.

    The input is drawn again and the outputs are read on the CPU first; then the arithmetic runs on `device` under
    `hold` (the job's shared GPU lane, lane.py), which CPU work never holds. On the CPU the float64 passes over a
    134M-element output and its two variants took 135 s of a dropout job's compare step (H200, 2026-12-04)."""
    task, case, spec = request.task, planned.case, planned.spec
    draw = draw_inputs(task, case.size, case.seed, "cpu", distribution_named(task, case.distribution,
                                                                               request.guards.run_seed))
    by_name = {s.name: a for s, a in zip(task.inputs, draw.args, strict=True)}
    x, p = by_name[spec.input], float(by_name[spec.p])
    read = {suffix: outputs.get(f"{planned.key}{suffix}") for suffix in ("", "@rerun", "@reseeded")}
    with hold if hold is not None else nullcontext():
        x = x.to(device)
        main, rerun, reseeded = (_on(read[suffix], device) for suffix in ("", "@rerun", "@reseeded"))
        found = [_dropout(main, x, p, torch_dtype(planned.dtype), tolerance, "")]
        if finished or read["@rerun"] is not None:
            found.append(_same(main, rerun, x))
        if finished or read["@reseeded"] is not None:
            found.append(_dropout(reseeded, x, p, torch_dtype(planned.dtype), tolerance, "@reseeded"))
            found.append(_differs(main, reseeded, x, p))
    return [(_record(planned, name, comparison, tolerance, extra), comparison) for name, comparison, extra in found]


def _on(value: Any, device: str) -> Any:
    """A tensor moved to `device`; anything else (a missing output, a wrong type) as it is, for the checks to name."""
    import torch

    return value.to(device) if isinstance(value, torch.Tensor) else value


def _record(planned: PlannedOutput, suffix: str, comparison: Comparison, tolerance, extra: dict) -> dict:
    entry = record(planned.case.size, planned.case.seed, planned.mode, planned.name + suffix, comparison, tolerance)
    entry.update(distribution=planned.case.distribution, **extra)
    return entry


def _dropout(out: Any, x, p: float, dtype, tolerance, suffix: str, chunk: int = COMPARE_CHUNK):
    """Properties 1 and 2 of one output, `chunk` elements at a time (the float64 passes over a 134M-element output,
    whole, held some 8 GiB of the GPU beside the jobs running there; check.COMPARE_CHUNK)."""
    import torch

    numel = x.numel()
    name = f"{suffix or ''}"
    if not isinstance(out, torch.Tensor):
        return name, Comparison(False, numel, numel, problem="no output was written for it"), {"check": "dropout"}
    if tuple(out.shape) != tuple(x.shape):
        problem = f"shape {tuple(out.shape)}, expected {tuple(x.shape)}"
        return name, Comparison(False, numel, numel, problem=problem), {"check": "dropout"}
    flat_out, flat_x = out.reshape(-1), x.reshape(-1)
    mismatches = n = kept_live = 0
    max_abs, max_rel = [], []
    first = None
    for start in range(0, numel, chunk):
        part_x = flat_x[start : start + chunk]
        got = flat_out[start : start + chunk].to(torch.float64)
        scaled = part_x.to(torch.float64) / (1.0 - p)
        kept = torch.isclose(got, scaled, rtol=tolerance.rtol, atol=tolerance.atol)
        dropped = got == 0
        bad = ~(kept | dropped)
        part_mismatches = int(bad.sum())
        if part_mismatches and first is None:
            at = int(bad.nonzero()[0, 0])
            first = (start + at, float(got[at]), float(part_x[at]))
        mismatches += part_mismatches
        error = (got - scaled).abs()[~dropped]
        if error.numel():
            max_abs.append(float(error.max()))
            max_rel.append(float((error / scaled.abs()[~dropped].clamp_min(1e-300)).max()))
        live = part_x != 0
        n += int(live.sum())
        kept_live += int((kept & ~dropped & live).sum())
    expected = n * (1.0 - p)
    low, high = likely_counts(n, 1.0 - p, FALSE_FAILURE / 2)
    comparison = Comparison(mismatches == 0, numel, mismatches, largest(max_abs), largest(max_rel))
    problems = []
    if first is not None:
        at, got_value, x_value = first
        problems.append(f"{mismatches} of {numel} elements are neither 0 nor the input / (1 - p) (first at"
                        f" {unravel(at, tuple(x.shape))}: got {got_value:.6g}, input {x_value:.6g}, p {p:g})")
    if not low <= kept_live <= high:
        comparison.ok = False
        problems.append(f"kept {kept_live} of {n} elements, expected {expected:.0f} ({low} to {high}, p = {p:g})")
    if out.dtype != dtype:
        comparison.ok = False
        problems.append(f"dtype {str(out.dtype).removeprefix('torch.')}, expected {str(dtype).removeprefix('torch.')}")
    comparison.problem = "; ".join(problems)
    return name, comparison, {"check": "dropout", "kept": kept_live, "live": n, "p": p}


def _same(main: Any, rerun: Any, x, chunk: int = COMPARE_CHUNK):
    """Property 3: the same seed, the same output."""
    import torch

    numel = x.numel()
    if not isinstance(main, torch.Tensor) or not isinstance(rerun, torch.Tensor) or main.shape != rerun.shape:
        return "@rerun", Comparison(False, numel, numel, problem="no output of the second call with the same seed"), {
            "check": "same_seed_same_output"}
    differ = int((main != rerun).sum())
    a, b = main.reshape(-1), rerun.reshape(-1)
    most = largest(
        float((a[i : i + chunk].double() - b[i : i + chunk].double()).abs().max()) for i in range(0, a.numel(), chunk)
    )
    comparison = Comparison(differ == 0, numel, differ, most, 0.0)
    if differ:
        comparison.problem = f"the same seed gave another output: {differ} of {numel} elements differ"
    return "@rerun", comparison, {"check": "same_seed_same_output"}


def _differs(main: Any, reseeded: Any, x, p: float):
    """Property 4: another seed, another mask."""
    import torch

    numel = x.numel()
    extra = {"check": "other_seed_other_mask"}
    if not isinstance(main, torch.Tensor) or not isinstance(reseeded, torch.Tensor) or main.shape != reseeded.shape:
        return "@reseeded", Comparison(False, numel, numel, problem="no output of the call with another seed"), extra
    live = x != 0
    n = int(live.sum())
    changed = int(((main == 0) != (reseeded == 0))[live].sum())
    q = 2.0 * p * (1.0 - p)
    expected = q * n
    low, _ = likely_counts(n, q, FALSE_FAILURE)
    extra.update(changed=changed, expected=round(expected, 1), least=low)
    comparison = Comparison(True, numel, 0, 0.0, 0.0)
    if changed < low:
        comparison = Comparison(False, numel, numel - changed, 0.0, 0.0)
        comparison.problem = (f"another seed changed the mask of {changed} of {n} elements, expected about"
                              f" {expected:.0f} (at least {low}): the mask does not follow the seed")
    return "@reseeded", comparison, extra


def _tail_bound(k: int, n: int, q: float) -> float:
    """Chernoff's bound on the probability that a binomial (n, q) lands at k or beyond it, away from the mean:
    exp(-n KL(k/n || q)), the Kullback-Leibler divergence of two Bernoulli distributions."""
    a = k / n
    divergence = (a * math.log(a / q) if a > 0 else 0.0) + ((1 - a) * math.log((1 - a) / (1 - q)) if a < 1 else 0.0)
    return math.exp(-n * max(divergence, 0.0))


def likely_counts(n: int, q: float, alpha: float) -> tuple[int, int]:
    """The counts `low` to `high` outside which a binomial (n, q) lands on either side with a probability below
    alpha by Chernoff's bound; q of 0 or 1 is exact. Found by bisection: the bound grows toward the mean."""
    if n == 0 or q <= 0.0:
        return 0, 0
    if q >= 1.0:
        return n, n
    lo, hi = 0, math.floor(n * q)
    while lo < hi:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if _tail_bound(mid, n, q) >= alpha else (mid + 1, hi)
    low = lo
    lo, hi = math.ceil(n * q), n
    while lo < hi:
        mid = (lo + hi + 1) // 2
        lo, hi = (mid, hi) if _tail_bound(mid, n, q) >= alpha else (lo, mid - 1)
    return low, lo

"""Property checks, for outputs that a reference cannot pin down element by element (random ops).

`dropout` (an output with check = "dropout", e.g. the low-memory dropout of Triton's tutorial 04): its
random mask is the implementation's own, so instead of the reference's values it must have these properties,
checked in the compare step against inputs drawn again there:

1. every element is 0 (dropped) or the input scaled by 1 / (1 - p) (kept), within the output's tolerance;
2. the share kept is 1 - p within a binomial bound: |kept - n (1 - p)| <= 6 sqrt(n p (1 - p)) + 1, n counting
   the inputs that are not 0 (a false failure has a probability below 1e-8);
3. the same seed gives the same output, bit for bit (a second call, `@rerun`);
4. another seed gives another mask (a call with the seed + 1, `@reseeded`, itself checked by 1 and 2): at least
   half of the 2 p (1 - p) n elements expected to differ do, where that is 10 or more.

The candidate step makes the extra calls (`variants`); their outputs travel in the outputs file under the
output's key plus `@rerun` and `@reseeded`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from contextlib import AbstractContextManager, nullcontext
from typing import TYPE_CHECKING, Any

from .cases import PlannedOutput, distribution_named
from .check import Comparison, record
from .inputs import draw_inputs, torch_dtype

if TYPE_CHECKING:
    from .manifest import Task
    from .protocol import Request

VARIANTS = ("rerun", "reseeded")
SIGMAS = 6.0


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
                     hold: AbstractContextManager | None = None) -> list[tuple[dict, Any]]:
    """The dropout properties of one output; (record, comparison) per check made.

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
        found = [
            _dropout(main, x, p, torch_dtype(planned.dtype), tolerance, ""),
            _same(main, rerun, x),
            _dropout(reseeded, x, p, torch_dtype(planned.dtype), tolerance, "@reseeded"),
            _differs(main, reseeded, x, p),
        ]
    return [(_record(planned, name, comparison, tolerance, extra), comparison) for name, comparison, extra in found]


def _on(value: Any, device: str) -> Any:
    """A tensor moved to `device`; anything else (a missing output, a wrong type) as it is, for the checks to name."""
    import torch

    return value.to(device) if isinstance(value, torch.Tensor) else value


def _record(planned: PlannedOutput, suffix: str, comparison: Comparison, tolerance, extra: dict) -> dict:
    entry = record(planned.case.size, planned.case.seed, planned.mode, planned.name + suffix, comparison, tolerance)
    entry.update(distribution=planned.case.distribution, **extra)
    return entry


def _dropout(out: Any, x, p: float, dtype, tolerance, suffix: str):
    """Properties 1 and 2 of one output."""
    import torch

    numel = x.numel()
    name = f"{suffix or ''}"
    if not isinstance(out, torch.Tensor):
        return name, Comparison(False, numel, numel, problem="no output was written for it"), {"check": "dropout"}
    if tuple(out.shape) != tuple(x.shape):
        problem = f"shape {tuple(out.shape)}, expected {tuple(x.shape)}"
        return name, Comparison(False, numel, numel, problem=problem), {"check": "dropout"}
    got = out.to(torch.float64)
    scaled = x.to(torch.float64) / (1.0 - p)
    kept = torch.isclose(got, scaled, rtol=tolerance.rtol, atol=tolerance.atol)
    dropped = got == 0
    bad = ~(kept | dropped)
    mismatches = int(bad.sum())
    error = (got - scaled).abs()[~dropped]
    max_abs = float(error.max()) if error.numel() else 0.0
    rel = error / scaled.abs()[~dropped].clamp_min(1e-300)
    max_rel = float(rel.max()) if rel.numel() else 0.0
    live = x != 0
    n = int(live.sum())
    kept_live = int((kept & ~dropped & live).sum())
    expected = n * (1.0 - p)
    bound = SIGMAS * math.sqrt(n * p * (1.0 - p)) + 1.0
    comparison = Comparison(mismatches == 0, numel, mismatches, max_abs, max_rel)
    problems = []
    if mismatches:
        first = tuple(bad.nonzero()[0].tolist())
        problems.append(f"{mismatches} of {numel} elements are neither 0 nor the input / (1 - p) (first at {first}:"
                        f" got {float(got[first]):.6g}, input {float(x[first]):.6g}, p {p:g})")
    if abs(kept_live - expected) > bound:
        comparison.ok = False
        problems.append(f"kept {kept_live} of {n} elements, expected {expected:.0f} +- {bound:.0f} (p = {p:g})")
    if out.dtype != dtype:
        comparison.ok = False
        problems.append(f"dtype {str(out.dtype).removeprefix('torch.')}, expected {str(dtype).removeprefix('torch.')}")
    comparison.problem = "; ".join(problems)
    return name, comparison, {"check": "dropout", "kept": kept_live, "live": n, "p": p}


def _same(main: Any, rerun: Any, x):
    """Property 3: the same seed, the same output."""
    import torch

    numel = x.numel()
    if not isinstance(main, torch.Tensor) or not isinstance(rerun, torch.Tensor) or main.shape != rerun.shape:
        return "@rerun", Comparison(False, numel, numel, problem="no output of the second call with the same seed"), {
            "check": "same_seed_same_output"}
    differ = int((main != rerun).sum())
    comparison = Comparison(differ == 0, numel, differ, float((main.double() - rerun.double()).abs().max()), 0.0)
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
    changed = int(((main == 0) != (reseeded == 0))[live].sum())
    expected = 2.0 * p * (1.0 - p) * int(live.sum())
    extra.update(changed=changed, expected=round(expected, 1))
    comparison = Comparison(True, numel, 0, 0.0, 0.0)
    if expected >= 10 and changed < 0.5 * expected:
        comparison = Comparison(False, numel, numel - changed, 0.0, 0.0)
        comparison.problem = (f"another seed changed the mask of {changed} elements, expected about {expected:.0f}:"
                              " the mask does not follow the seed")
    return "@reseeded", comparison, extra

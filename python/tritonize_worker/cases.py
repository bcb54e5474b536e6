"""What a job checks: every (size, seed, distribution) case, every output of the entry, and how outputs are named
in the tensor files the steps hand over. The reference, candidate and compare steps all plan from here, so they
agree on every key.

A case draws the inputs at one size and seed, as the manifest's [[inputs]] say ("default") or as one of its
[[distributions]] changes them; with a run seed, one hidden variant of a distribution is checked as well, its
scale and shift multiplied by a factor in [0.5, 1] that the candidate cannot know in advance (never beyond the
declared magnitudes, so that the tolerances set for them still hold).
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .errors import JobFailure
from .manifest import DEFAULT_DISTRIBUTION, Distribution, OutputSpec, Task, Tolerance

if TYPE_CHECKING:
    import torch

HIDDEN_DISTRIBUTION = "hidden"


@dataclass(frozen=True)
class Case:
    size: str
    seed: int
    distribution: str = DEFAULT_DISTRIBUTION

    def where(self) -> str:
        extra = "" if self.distribution == DEFAULT_DISTRIBUTION else f", inputs {self.distribution}"
        return f"size {self.size}, seed {self.seed}{extra}"


def distributions(task: Task, run_seed: int) -> tuple[Distribution, ...]:
    """The default draw, the manifest's distributions, and with a run seed one hidden variant of one of them."""
    found = (Distribution(DEFAULT_DISTRIBUTION), *task.distributions)
    if not task.distributions or not run_seed:
        return found
    rng = random.Random(run_seed)
    base = task.distributions[rng.randrange(len(task.distributions))]
    factor = rng.uniform(0.5, 1.0)
    draws = {}
    for name, draw in base.draws.items():
        moved = dict(draw)
        for key in ("scale", "shift"):
            if key in moved:
                moved[key] = float(moved[key]) * factor
        draws[name] = moved
    # Its magnitudes are at most the base's, so the base's tolerances hold for it.
    note = f"{base.name}, scale and shift x{factor:.3g}"
    return (*found, Distribution(HIDDEN_DISTRIBUTION, draws, note, base.tolerances))


def distribution_named(task: Task, name: str, run_seed: int) -> Distribution:
    return next(d for d in distributions(task, run_seed) if d.name == name)


def tolerance_for(task: Task, case: Case, output: str, run_seed: int) -> Tolerance:
    """The tolerance of `output` on the case's inputs: its distribution's own where it sets one, else the task's."""
    if case.distribution == DEFAULT_DISTRIBUTION:
        return task.tolerances[output]
    own = distribution_named(task, case.distribution, run_seed).tolerances
    return own.get(output, task.tolerances[output])


def check_cases(task: Task, sizes: Sequence[str], seeds: Sequence[int], run_seed: int = 0) -> list[Case]:
    """Every size and seed with the default draw, then with each other distribution."""
    return [
        Case(size, seed, dist.name) for dist in distributions(task, run_seed) for size in sizes for seed in seeds
    ]


def output_key(case: Case, mode: str, output: str, call: str = "") -> str:
    """The name of one output in the reference and outputs files, e.g. '37x93/0/default/forward/y'. `call` names a
    later call on the same input (tensor_files.CALLS), whose output the compare step checks against the same
    reference."""
    key = f"{case.size}/{case.seed}/{case.distribution}/{mode}/{output}"
    return f"{key}@{call}" if call else key


@dataclass(frozen=True)
class PlannedOutput:
    case: Case
    mode: str
    name: str  # y, grad_x, ...
    dtype: str
    spec: OutputSpec | None  # None for a gradient

    @property
    def key(self) -> str:
        return output_key(self.case, self.mode, self.name)


def planned_outputs(task: Task, cases: Sequence[Case]) -> Iterator[PlannedOutput]:
    """Every output a job checks, in check order: the forward results, then the gradients of the backward mode."""
    for case in cases:
        for mode in task.modes:
            if mode == "forward":
                for spec in task.outputs:
                    yield PlannedOutput(case, mode, spec.name, spec.dtype, spec)
            else:
                for spec in task.grad_inputs:
                    yield PlannedOutput(case, mode, f"grad_{spec.name}", spec.dtype, None)


def split_outputs(task: Task, value: Any, where: str) -> dict[str, Any]:
    """The entry's result by output name: the value itself for one output, a tuple or list of them for several."""
    names = [spec.name for spec in task.outputs]
    if len(names) == 1:
        return {names[0]: value}
    if not isinstance(value, (tuple, list)) or len(value) != len(names):
        got = f"{type(value).__name__} of {len(value)}" if isinstance(value, (tuple, list)) else type(value).__name__
        raise JobFailure("wrong_result", f"{where}: expected {len(names)} outputs ({', '.join(names)}), got {got}")
    return dict(zip(names, value, strict=True))


def flatten(key: str, spec: OutputSpec | None, value: Any) -> dict[str, Any]:
    """The tensors to save for one output: a tensor list becomes key.0, key.1, ... and key.len (its length)."""
    import torch

    if spec is None or spec.kind == "tensor":
        return {key: value.detach() if isinstance(value, torch.Tensor) else value}
    items = list(value) if isinstance(value, (list, tuple)) else []
    out: dict[str, Any] = {f"{key}.{i}": t.detach() if isinstance(t, torch.Tensor) else t for i, t in enumerate(items)}
    out[f"{key}.len"] = torch.tensor(len(items) if isinstance(value, (list, tuple)) else -1, dtype=torch.int64)
    return out


def grad_outputs(task: Task, outputs: dict[str, Any], generator: torch.Generator, device: str) -> list[tuple]:
    """(output, dy) for each output, dy drawn from the case's generator in the output's declared dtype (so the
    float64 reference gets the same values) and moved to the output's dtype."""
    from .inputs import draw_tensor

    pairs = []
    for spec in task.outputs:
        y = outputs[spec.name]
        dy = draw_tensor(tuple(y.shape), "randn", task.grad_output_scale, spec.dtype, generator, "cpu")
        pairs.append((y, dy.to(device=y.device, dtype=y.dtype)))
    return pairs


def backward(pairs: list[tuple], retain_graph: bool = False) -> None:
    import torch

    torch.autograd.backward([y for y, _ in pairs], [dy for _, dy in pairs], retain_graph=retain_graph)


def backward_call(task: Task, value: Any, generator: torch.Generator, where: str):
    """For timing: the call that runs the backward of an entry's result again (dy drawn once)."""
    outputs = split_outputs(task, value, where)
    pairs = grad_outputs(task, outputs, generator, "cuda")
    return lambda: backward(pairs, retain_graph=True)

"""What a job checks: every (size, seed, distribution) case, every output of the entry, and how outputs are named
in the tensor files the steps hand over. The reference, candidate and compare steps all plan from here, so they
agree on every key.

A case draws the inputs at one size and seed, as the manifest's [[inputs]] say ("default") or as one of its
[[distributions]] changes them; with a run seed, one hidden variant of a distribution is checked as well, its
scale and shift multiplied by a factor in [0.5, 1] that the candidate cannot know in advance (never beyond the
declared magnitudes, so that the tolerances set for them still hold).
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .errors import JobFailure
from .manifest import DEFAULT_DISTRIBUTION, Distribution, OutputSpec, Task, Tolerance
from .schema import schema

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


# A check size whose tensor inputs come to more than this is checked once, with the first seed and the manifest's
# draw (docs/tasks.md, "Large check sizes"; the schema's plan.full_check_bytes, which the engine's disk estimate
# reads too): the other seeds and the distributions test values, which the smaller sizes test as well, while each
# case at such a size costs its draw, a float64 reference and its outputs on disk (an attention task checked every
# way at 4x32x4096x128 came to 24 GB of references and 7 GB of outputs a job).
FULL_CHECK_BYTES: int = schema()["plan"]["full_check_bytes"]


def check_cases(task: Task, sizes: Sequence[str], seeds: Sequence[int], run_seed: int = 0) -> list[Case]:
    """Every size and seed with the default draw, then with each other distribution; a size whose inputs come to
    more than FULL_CHECK_BYTES with the first seed and the default draw only."""
    once = {size for size in sizes if input_bytes(task, size) > FULL_CHECK_BYTES}
    return [
        Case(size, seed, dist.name)
        for dist in distributions(task, run_seed)
        for size in sizes
        for seed in seeds
        if size not in once or (seed == seeds[0] and dist.name == DEFAULT_DISTRIBUTION)
    ]


def input_bytes(task: Task, size: str) -> int:
    """Bytes of the tensor inputs (lists of tensors included) at a size."""
    from .inputs import dtype_bytes, parse_size, resolve_shape

    dims = parse_size(size, task.dims)
    total = 0
    for spec in task.inputs:
        shapes = [spec.shape] if spec.kind == "tensor" else list(spec.shapes) if spec.kind == "tensor_list" else []
        for shape in shapes:
            total += math.prod(resolve_shape(shape, dims)) * dtype_bytes(spec.dtype)
    return total


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


def grad_outputs(
    task: Task, outputs: dict[str, Any], generator: torch.Generator, device: str, drawn: list[Any] | None = None
) -> list[tuple]:
    """(output, dy) for each output, dy drawn from the case's generator in the output's declared dtype (so the
    float64 reference gets the same values) and moved to the output's dtype. `drawn`: the dys `draw_grad_outputs`
    drew ahead on the CPU from the same generator state, used when the outputs have the shapes they were drawn for
    (else drawn here, as if they had not been)."""
    from .inputs import draw_tensor

    shapes = [tuple(outputs[spec.name].shape) for spec in task.outputs]
    if drawn is None or shapes != [tuple(dy.shape) for dy in drawn]:
        drawn = [draw_tensor(shape, "randn", task.grad_output_scale, spec.dtype, generator, "cpu")
                 for spec, shape in zip(task.outputs, shapes, strict=True)]
    pairs = []
    for spec, dy in zip(task.outputs, drawn, strict=True):
        y = outputs[spec.name]
        pairs.append((y, dy.to(device=y.device, dtype=y.dtype)))
    return pairs


def draw_grad_outputs(task: Task, shapes: list[tuple], state: torch.Tensor) -> list[Any]:
    """The dys `grad_outputs` would draw for outputs of these shapes from a generator in `state`, on the CPU: drawn
    ahead, before the GPU lane is taken for the backward call (lane.py: CPU work holds nothing)."""
    import torch

    from .inputs import draw_tensor

    generator = torch.Generator(device="cpu")
    generator.set_state(state)
    return [draw_tensor(shape, "randn", task.grad_output_scale, spec.dtype, generator, "cpu")
            for spec, shape in zip(task.outputs, shapes, strict=True)]


def output_shapes(task: Task, outputs: dict[str, Any]) -> list[tuple] | None:
    """The shape of each output, in the manifest's order; None where one is not a tensor (a list output)."""
    shapes = []
    for spec in task.outputs:
        value = outputs.get(spec.name)
        if not hasattr(value, "shape"):
            return None
        shapes.append(tuple(value.shape))
    return shapes


def backward(pairs: list[tuple], retain_graph: bool = False) -> None:
    import torch

    torch.autograd.backward([y for y, _ in pairs], [dy for _, dy in pairs], retain_graph=retain_graph)


def backward_call(task: Task, value: Any, generator: torch.Generator, where: str, drawn: list[Any] | None = None):
    """For timing: the call that runs the backward of an entry's result again (dy drawn once, or `drawn` ahead by
    draw_grad_outputs)."""
    outputs = split_outputs(task, value, where)
    pairs = grad_outputs(task, outputs, generator, "cuda", drawn)
    return lambda: backward(pairs, retain_graph=True)

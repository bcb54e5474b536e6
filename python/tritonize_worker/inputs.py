"""The entry's arguments, drawn from the manifest's [[inputs]] for one size, one seed and one distribution.

Values are drawn on the CPU from a `torch.Generator` seeded with the seed, so that a seed gives the same
inputs on every device, then moved to the job's device. The reference and the implementation get copies
of the same draw. A distribution (cases.py) changes how some inputs are drawn: their init, scale, shift or
integer bounds, or the value of a scalar.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .formula import evaluate_extent
from .schema import schema

if TYPE_CHECKING:
    import torch

    from .manifest import Distribution, InputSpec, Task

_SIZE = re.compile(r"[0-9]+(x[0-9]+)*")


def parse_size(size: str, dims: Sequence[str]) -> dict[str, int]:
    """'1823x781' with dims (M, N) -> {'M': 1823, 'N': 781}."""
    if not _SIZE.fullmatch(size):
        raise ValueError(f"size {size!r} is not of the form AxB[xC...]")
    numbers = [int(part) for part in size.split("x")]
    if len(numbers) != len(dims):
        raise ValueError(f"size {size!r} has {len(numbers)} numbers, but there are {len(dims)} dims ({'x'.join(dims)})")
    if any(number < 1 for number in numbers):
        raise ValueError(f"size {size!r}: every dim must be at least 1")
    return dict(zip(dims, numbers, strict=True))


def resolve_shape(entries: Sequence[str | int], dims: dict[str, int]) -> tuple[int, ...]:
    """A shape written in dim names, numbers or formulas ("M / 2", rounded down) -> numbers."""
    return tuple(evaluate_extent(entry, dims) for entry in entries)


# Manifest dtype -> bytes of one element (the schema's dtype_bytes); each is also the name of the torch dtype.
_BYTES: dict[str, int] = schema()["dtype_bytes"]


def dtype_bytes(name: str) -> int:
    """Bytes of one element of a manifest dtype, without importing torch."""
    if name not in _BYTES:
        raise ValueError(f"unknown dtype {name!r}")
    return _BYTES[name]


def torch_dtype(name: str) -> torch.dtype:
    import torch

    if name not in _BYTES:
        raise ValueError(f"unknown dtype {name!r}")
    return getattr(torch, name)


@dataclass
class Draw:
    """The arguments drawn for one size and seed, and the generator that drew them (it draws dy next)."""

    size: str
    seed: int
    args: list[Any]
    generator: torch.Generator

    def on(self, device: str) -> Draw:
        """The same draw with its tensors moved to `device`: the values are drawn and rounded on the CPU, so a draw
        made on the CPU away from the GPU lane (lane.py: CPU work holds nothing) and moved in a hold is the draw
        `draw_inputs` makes on the device. The generator is shared, not copied."""
        if device == "cpu":
            return self
        return Draw(self.size, self.seed, [_moved(arg, device) for arg in self.args], self.generator)


def draw_inputs(task: Task, size: str, seed: int, device: str, distribution: Distribution | None = None) -> Draw:
    import torch

    dims = parse_size(size, task.dims)
    generator = torch.Generator(device="cpu")
    generator.manual_seed(seed)
    draws = distribution.draws if distribution is not None else {}
    args = [_draw_one(spec, draws.get(spec.name, {}), dims, generator, device) for spec in task.inputs]
    return Draw(size, seed, args, generator)


def _draw_one(spec: InputSpec, change: dict[str, Any], dims: dict[str, int], generator, device: str) -> Any:
    value = change.get("value", spec.value)
    if spec.kind == "shape":
        return resolve_shape(value, dims)
    if spec.kind == "float":
        return float(value)
    if spec.kind == "bool":
        return bool(value)
    way = {key: change.get(key, getattr(spec, key)) for key in ("init", "scale", "shift", "low", "high")}
    if spec.kind == "int":
        if value is not None and "init" not in change:
            return int(value)
        return int(_draw_values((1,), way, "int64", dims, generator, "cpu")[0])
    if spec.kind == "tensor_list":
        return [_draw_values(resolve_shape(shape, dims), way, spec.dtype, dims, generator, device)
                for shape in spec.shapes]
    return _draw_values(resolve_shape(spec.shape, dims), way, spec.dtype, dims, generator, device)


def _draw_values(shape, way: dict[str, Any], dtype: str, dims: dict[str, int], generator, device: str):
    import torch

    if way["init"] == "randint":
        low, high = evaluate_extent(way["low"], dims), evaluate_extent(way["high"], dims)
        values = torch.randint(low, max(high, low + 1), tuple(shape), generator=generator, dtype=torch.int64)
        return values.to(dtype=torch_dtype(dtype)).to(device)
    return draw_tensor(shape, way["init"], float(way["scale"]), dtype, generator, device, float(way["shift"]))


def draw_tensor(
    shape: Sequence[int], init: str, scale: float, dtype: str, generator: torch.Generator, device: str,
    shift: float = 0.0,
) -> torch.Tensor:
    """Values drawn in float32 on the CPU, scaled and shifted, rounded to `dtype` on the CPU (IEEE round to nearest
    even, as on the GPU), then moved to `device`."""
    import torch

    draw = {"randn": torch.randn, "rand": torch.rand}[init]
    values = draw(tuple(shape), generator=generator, dtype=torch.float32)
    if scale != 1.0:
        values *= scale
    if shift != 0.0:
        values += shift
    return values.to(dtype=torch_dtype(dtype)).to(device)


def _moved(arg: Any, device: str) -> Any:
    if isinstance(arg, list):
        return [_moved(item, device) for item in arg]
    return arg.to(device) if hasattr(arg, "detach") else arg


def copy_args(args: Sequence[Any], task: Task, *, float64: bool, grad: bool) -> list[Any]:
    """Fresh leaf copies of the tensor arguments: in their own dtype for the implementation, in float64 for the
    reference (floating tensors only: integer ones stay integers); with requires_grad on the inputs marked
    grad = true when `grad`."""
    copies = []
    for spec, arg in zip(task.inputs, args, strict=True):
        if isinstance(arg, list):
            arg = [_copy(t, float64) for t in arg]
        elif hasattr(arg, "detach"):
            arg = _copy(arg, float64)
            if grad and spec.grad:
                arg.requires_grad_(True)
        copies.append(arg)
    return copies


def _copy(tensor, float64: bool):
    import torch

    tensor = tensor.detach()
    if float64 and tensor.is_floating_point():
        return tensor.to(torch.float64, copy=True)
    return tensor.clone()

"""The entry's arguments, drawn from the manifest's [[inputs]] for one size and one seed.

Values are drawn on the CPU from a `torch.Generator` seeded with the seed, so that a seed gives the same
inputs on every device, then moved to the job's device. The reference and the implementation get copies
of the same draw.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch

    from .protocol import InputSpec, Task

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
    """A shape written in dim names or numbers -> numbers."""
    return tuple(dims[entry] if isinstance(entry, str) else entry for entry in entries)


def torch_dtype(name: str) -> torch.dtype:
    import torch

    dtypes = {"float16": torch.float16, "bfloat16": torch.bfloat16, "float32": torch.float32, "float64": torch.float64}
    if name not in dtypes:
        raise ValueError(f"unknown dtype {name!r}")
    return dtypes[name]


@dataclass
class Draw:
    """The arguments drawn for one size and seed, and the generator that drew them (it draws dy next)."""

    size: str
    seed: int
    args: list[Any]
    generator: torch.Generator


def draw_inputs(task: Task, size: str, seed: int, device: str) -> Draw:
    import torch

    dims = parse_size(size, task.dims)
    generator = torch.Generator(device="cpu")
    generator.manual_seed(seed)
    args = [_draw_one(spec, dims, generator, device) for spec in task.inputs]
    return Draw(size, seed, args, generator)


def _draw_one(spec: InputSpec, dims: dict[str, int], generator: torch.Generator, device: str) -> Any:
    if spec.kind == "shape":
        return resolve_shape(spec.value, dims)
    if spec.kind == "float":
        return float(spec.value)
    if spec.kind == "int":
        return int(spec.value)
    return draw_tensor(resolve_shape(spec.shape, dims), spec.init, spec.scale, spec.dtype, generator, device)


def draw_tensor(
    shape: Sequence[int], init: str, scale: float, dtype: str, generator: torch.Generator, device: str
) -> torch.Tensor:
    """Values drawn in float32 on the CPU, scaled, then rounded to `dtype` on `device`."""
    import torch

    draw = {"randn": torch.randn, "rand": torch.rand}[init]
    values = draw(tuple(shape), generator=generator, dtype=torch.float32)
    if scale != 1.0:
        values *= scale
    return values.to(device=device, dtype=torch_dtype(dtype))


def copy_args(args: Sequence[Any], task: Task, *, float64: bool, grad: bool) -> list[Any]:
    """Fresh leaf copies of the tensor arguments: in their own dtype for the implementation, in float64 for the
    reference; with requires_grad on the inputs marked grad = true when `grad`."""
    import torch

    copies = []
    for spec, arg in zip(task.inputs, args, strict=True):
        if isinstance(arg, torch.Tensor):
            arg = arg.detach().to(torch.float64, copy=True) if float64 else arg.detach().clone()
            if grad and spec.grad:
                arg.requires_grad_(True)
        copies.append(arg)
    return copies

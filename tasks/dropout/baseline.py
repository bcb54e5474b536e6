"""Baseline for the dropout task: a seeded mask from PyTorch's own generator, then the scaled select.

Its mask differs from any Triton kernel's (another generator), which is why the task is checked by the
properties of dropout, not against the reference's values (docs/tasks.md).
"""

import torch


def dropout(x: torch.Tensor, p: float, seed: int) -> torch.Tensor:
    generator = torch.Generator(device=x.device)
    generator.manual_seed(seed)
    keep = torch.rand(x.shape, generator=generator, device=x.device) > p
    return torch.where(keep, x / (1 - p), torch.zeros_like(x))

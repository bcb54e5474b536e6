"""Defines soft_max, not softmax."""

import torch


def soft_max(x: torch.Tensor) -> torch.Tensor:
    e = torch.exp(x - x.amax(dim=1, keepdim=True))
    return e / e.sum(dim=1, keepdim=True)

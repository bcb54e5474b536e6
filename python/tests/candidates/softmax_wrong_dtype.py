"""The right values in the wrong dtype (float64 for a float32 task)."""

import torch


def softmax(x: torch.Tensor) -> torch.Tensor:
    return torch.exp(x.double()) / torch.exp(x.double()).sum(dim=1, keepdim=True)

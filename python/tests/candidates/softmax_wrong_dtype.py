"""The right values in the wrong dtype (float64 for a float32 task)."""

import torch


def softmax(x: torch.Tensor) -> torch.Tensor:
    return torch.softmax(x.double(), dim=1)

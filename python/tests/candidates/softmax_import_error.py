"""Raises while it is imported."""

import torch

raise RuntimeError("this module refuses to be imported")


def softmax(x: torch.Tensor) -> torch.Tensor:
    return torch.softmax(x, dim=1)

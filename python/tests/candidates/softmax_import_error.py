"""Raises while it is imported."""

import torch

raise RuntimeError("this module refuses to be imported")


def softmax(x: torch.Tensor) -> torch.Tensor:
    e = torch.exp(x - x.amax(dim=1, keepdim=True))
    return e / e.sum(dim=1, keepdim=True)

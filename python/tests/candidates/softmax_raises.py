"""Raises in the call."""

import torch


def softmax(x: torch.Tensor) -> torch.Tensor:
    raise ValueError(f"cannot handle a tensor of shape {tuple(x.shape)}")

"""Baseline for the asin task: the PyTorch arc sine."""

import torch


def asin(x: torch.Tensor) -> torch.Tensor:
    return torch.asin(x)

"""Baseline for the swiglu task: Llama's MLP gate as Hugging Face writes it, silu(a) * b in plain PyTorch.
Autograd gives the backward pass."""

import torch


def swiglu(a, b):
    return torch.nn.functional.silu(a) * b

"""Baseline for the geglu task: Gemma's MLP gate as Hugging Face writes it, gelu(a, tanh approximation) * b in
plain PyTorch. Autograd gives the backward pass."""

import torch


def geglu(a, b):
    return torch.nn.functional.gelu(a, approximate="tanh") * b

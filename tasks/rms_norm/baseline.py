"""Baseline for the rms_norm task: Llama's RMSNorm written op by op in plain PyTorch, in float32 for bfloat16
input, rounded back once. Autograd gives the backward pass."""

import torch


def rms_norm(x, weight, eps):
    # bfloat16 -> float32, while a float64 reference input stays float64.
    acc = torch.promote_types(x.dtype, torch.float32)
    xf = x.to(acc)
    rstd = torch.rsqrt(xf.pow(2).mean(dim=-1, keepdim=True) + eps)
    return (xf * rstd * weight.to(acc)).to(x.dtype)

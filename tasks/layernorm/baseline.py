"""Baseline for the layernorm task: layer normalisation written op by op in plain PyTorch.

Statistics are computed in at least float32 (as any careful PyTorch user would for float16 input) and the
result is cast back to the input's dtype. Autograd provides the backward pass.
"""

import torch


def layer_norm(x, normalized_shape, weight, bias, eps):
    # float16 -> float32, while a float64 reference input stays float64.
    acc = torch.promote_types(x.dtype, torch.float32)
    xf = x.to(acc)
    mean = xf.mean(dim=-1, keepdim=True)
    centered = xf - mean
    var = (centered * centered).mean(dim=-1, keepdim=True)
    rstd = torch.rsqrt(var + eps)
    y = centered * rstd * weight.to(acc) + bias.to(acc)
    return y.to(x.dtype)

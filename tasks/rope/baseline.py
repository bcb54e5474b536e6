"""Baseline for the rope task: Hugging Face Llama's rotary embedding (rotate_half) in plain PyTorch, with cos
and sin given once per angle; products in float32 for bfloat16 input. Autograd gives the backward pass."""

import torch


def rope(q, k, cos, sin):
    acc = torch.promote_types(q.dtype, torch.float32)
    cos, sin = cos.to(acc), sin.to(acc)

    def rotate(x):
        half = x.shape[-1] // 2
        x1, x2 = x[..., :half].to(acc), x[..., half:].to(acc)
        return torch.cat((x1 * cos - x2 * sin, x2 * cos + x1 * sin), dim=-1).to(x.dtype)

    return rotate(q), rotate(k)

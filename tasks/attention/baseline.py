"""Baseline for the attention tasks: softmax(Q K^T * scale) V written out in plain PyTorch, the scores
materialised, the softmax in at least float32 as careful PyTorch code does for float16. Autograd gives the
backward pass."""

import torch


def attention(q, k, v, causal, sm_scale):
    scores = torch.matmul(q, k.transpose(-2, -1)) * sm_scale
    if causal:
        n = q.shape[-2]
        future = torch.ones(n, n, dtype=torch.bool, device=q.device).triu(diagonal=1)
        scores = scores.masked_fill(future, float("-inf"))
    # float16 -> float32 for the softmax, while a float64 reference input stays float64.
    acc = torch.promote_types(q.dtype, torch.float32)
    p = torch.softmax(scores.to(acc), dim=-1).to(q.dtype)
    return torch.matmul(p, v)

"""Baseline for the cross_entropy task: log-softmax, gather and mean in plain PyTorch, in float32 for bfloat16
logits, the loss rounded back to the logits' dtype as torch.nn.functional.cross_entropy returns it. Autograd
gives the backward pass."""

import torch


def cross_entropy(logits, target):
    # bfloat16 -> float32, while a float64 reference input stays float64.
    acc = torch.promote_types(logits.dtype, torch.float32)
    log_probs = torch.log_softmax(logits.to(acc), dim=-1)
    loss = -log_probs.gather(-1, target.unsqueeze(-1)).mean()
    return loss.to(logits.dtype)

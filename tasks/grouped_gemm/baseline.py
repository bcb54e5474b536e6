"""Baseline for the grouped_gemm task: one PyTorch matrix product (cuBLAS) per member of the group."""

import torch


def group_gemm(group_a: list[torch.Tensor], group_b: list[torch.Tensor]) -> list[torch.Tensor]:
    return [torch.matmul(a, b) for a, b in zip(group_a, group_b, strict=True)]

"""Baseline for the matmul_fp8 task: the float8 values widened to float16 (exactly) and multiplied by cuBLAS.

Plain PyTorch has no public float8 matrix product (torch._scaled_mm is private), so this is what a PyTorch
user writes; a float64 reference input stays float64.
"""

import torch


def matmul_fp8(a: torch.Tensor, b_t: torch.Tensor) -> torch.Tensor:
    wide = torch.float16 if a.dtype in (torch.float8_e5m2, torch.float8_e4m3fn) else a.dtype
    return torch.matmul(a.to(wide), b_t.to(wide).T)

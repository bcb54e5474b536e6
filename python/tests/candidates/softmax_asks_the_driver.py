"""Asks Triton's driver for the current device in the call (as kernels that size their grid by the SM count do):
right on a GPU, impossible on the CPU."""

import torch
import triton


def softmax(x: torch.Tensor) -> torch.Tensor:
    device = triton.runtime.driver.active.get_current_device()
    return torch.softmax(x.float(), dim=-1).to(x.dtype) if device is not None else x

"""Putting back the inputs a backward consumed (`[backward].consumes_inputs`) before each timed call: a Triton
kernel of its own name (timing.RESTORE_KERNEL), which the profile leaves out of every call's kernel time
(timing.split_at_flushes).

With torch's `copy_` the restoring copies were `Memcpy DtoD` activities, indistinguishable in the profile from
a candidate's own copies: before the first flush they failed the split, and after the first call they would
have been counted in the call before them. This module imports triton at the top: import it only where inputs
are restored.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import triton
import triton.language as tl

RESTORE_BLOCK = 8192


@triton.jit
def tritonize_restore(dst_ptr, src_ptr, n_bytes, BLOCK: tl.constexpr):
    offsets = tl.program_id(0).to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
    mask = offsets < n_bytes
    tl.store(dst_ptr + offsets, tl.load(src_ptr + offsets, mask=mask), mask=mask)


def _bytes(tensor: torch.Tensor, what: str) -> torch.Tensor:
    if not tensor.is_contiguous():
        raise ValueError(f"{what} is not contiguous (strides {tuple(tensor.stride())}): its bytes cannot be put back")
    return tensor.detach().reshape(-1).view(torch.uint8)


class Restore:
    """Copies each `kept` tensor's bytes into its `target`, one launch each, on the current stream. Writing
    through the data pointer leaves each target's autograd version as it was: a graph that saved it still
    accepts it."""

    def __init__(self, targets: Sequence[torch.Tensor], kept: Sequence[torch.Tensor]):
        if len(targets) != len(kept):
            raise ValueError(f"{len(targets)} tensors to restore, {len(kept)} kept")
        self.pairs = []
        for i, (target, values) in enumerate(zip(targets, kept, strict=True)):
            if target.dtype != values.dtype or target.shape != values.shape:
                raise ValueError(f"input {i}: kept as {values.dtype}{tuple(values.shape)}, is"
                                 f" {target.dtype}{tuple(target.shape)}")
            self.pairs.append((_bytes(target, f"input {i}"), _bytes(values, f"input {i}'s kept copy")))

    def __call__(self) -> None:
        for dst, src in self.pairs:
            if dst.numel():
                tritonize_restore[(triton.cdiv(dst.numel(), RESTORE_BLOCK),)](dst, src, dst.numel(),
                                                                             BLOCK=RESTORE_BLOCK)

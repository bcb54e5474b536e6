"""The L2 flush run before every timed call: a Triton kernel of its own name, so that the profile can be split
at it. This module imports triton at the top: import it only where a flush is needed.
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl

FLUSH_BLOCK = 4096


@triton.jit
def tritonize_l2_flush(buffer_ptr, n_elements, BLOCK: tl.constexpr):
    offsets = tl.program_id(0).to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
    tl.store(buffer_ptr + offsets, tl.full((BLOCK,), 0, tl.int32), mask=offsets < n_elements)


class L2Flush:
    """Writes `nbytes` (rounded up to 4-byte words) of device memory per call, evicting the L2."""

    def __init__(self, nbytes: int, device: str):
        self.buffer = torch.empty(triton.cdiv(nbytes, 4), dtype=torch.int32, device=device)
        self.grid = (triton.cdiv(self.buffer.numel(), FLUSH_BLOCK),)
        # Compile now, so that no timed call or first call pays for it.
        self()
        if self.buffer.is_cuda:
            torch.cuda.synchronize()

    def __call__(self) -> None:
        tritonize_l2_flush[self.grid](self.buffer, self.buffer.numel(), BLOCK=FLUSH_BLOCK)

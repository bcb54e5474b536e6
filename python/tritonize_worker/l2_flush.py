"""The L2 flush run before every timed call: a Triton kernel of its own name, so that the profile can be split
at it. This module imports triton at the top: import it only where a flush is needed.

Two modes (docs/measurement.md compares them on the H100):
- "read": the kernel reads `nbytes` and writes one int32 per block (a few hundred KiB). It evicts the L2 and
  leaves it holding clean lines, so the timed call neither finds its inputs cached nor pays for writing back
  the flush's own dirty lines.
- "write": the kernel writes `nbytes` of zeros, leaving the L2 full of dirty lines that the timed call's misses
  must write back to DRAM first.
"""

from __future__ import annotations

import torch
import triton
import triton.language as tl

FLUSH_BLOCK = 4096
FLUSH_MODES = ("read", "write")


@triton.jit
def tritonize_l2_flush(buffer_ptr, sums_ptr, n_elements, READ: tl.constexpr, BLOCK: tl.constexpr):
    offsets = tl.program_id(0).to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
    mask = offsets < n_elements
    if READ:
        # The sum is stored so that the loads are not dead code.
        values = tl.load(buffer_ptr + offsets, mask=mask, other=0)
        tl.store(sums_ptr + tl.program_id(0), tl.sum(values, axis=0))
    else:
        tl.store(buffer_ptr + offsets, tl.full((BLOCK,), 0, tl.int32), mask=mask)


class L2Flush:
    """Reads or writes `nbytes` (rounded up to 4-byte words) of device memory per call, evicting the L2."""

    def __init__(self, nbytes: int, device: str, mode: str = "read"):
        if mode not in FLUSH_MODES:
            raise ValueError(f"flush mode {mode!r}: expected one of {', '.join(FLUSH_MODES)}")
        self.mode = mode
        self.buffer = torch.ones(triton.cdiv(nbytes, 4), dtype=torch.int32, device=device)
        self.grid = (triton.cdiv(self.buffer.numel(), FLUSH_BLOCK),)
        self.sums = torch.empty(self.grid[0], dtype=torch.int32, device=device)
        # Compile now, so that no timed call or first call pays for it.
        self()
        if self.buffer.is_cuda:
            torch.cuda.synchronize()

    def __call__(self) -> None:
        tritonize_l2_flush[self.grid](
            self.buffer, self.sums, self.buffer.numel(), READ=self.mode == "read", BLOCK=FLUSH_BLOCK
        )

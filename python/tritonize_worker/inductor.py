"""The torch.compile contender: the task's baseline compiled by Inductor (implementation kind "compile").

Its compile time is the first call at each size, which the checks measure (check.first_call_s), apart from the
timed calls. Each size gets its own specialised graph (dynamic=False), as the autotuned Triton kernels do; the
recompile limit is raised so that the check sizes, modes and grad/no-grad variants all compile instead of
falling back to eager after torch's default of 8.

Mode "deterministic" (the engine's default) sets Inductor's deterministic mode: each reduction kernel gets the
configuration Inductor's heuristic filter picks, not the one a quick benchmark in this process picks. On the H100
(docs/measurement.md) the benchmark chose between two configurations of the layernorm 4096x4096 forward kernel
about 3% apart in kernel time, differently in different processes, which moved the column 4.4% between runs.
Mode "default" is torch.compile as a user gets it, benchmark and all.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

RECOMPILE_LIMIT = 64


def compiled(entry: Callable[..., Any], mode: str = "deterministic") -> Callable[..., Any]:
    import torch
    import torch._dynamo
    import torch._functorch.config

    for name in ("recompile_limit", "cache_size_limit"):
        if hasattr(torch._dynamo.config, name):
            setattr(torch._dynamo.config, name, RECOMPILE_LIMIT)
    # Inductor errors must surface as the compile column's status, not as a silent fall-back to eager.
    torch._dynamo.config.suppress_errors = False
    # Timing replays one graph's backward with retain_graph=True, which donated buffers forbid.
    if hasattr(torch._functorch.config, "donated_buffer"):
        torch._functorch.config.donated_buffer = False
    # As a compile option, applied to every graph's compile: setting torch._inductor.config.deterministic once
    # held for the first graph only (on the H100, later graphs of the process compiled with it False again).
    # Config patches are part of Inductor's cache keys, so a cache shared between repeats never mixes modes.
    return torch.compile(entry, dynamic=False, options={"deterministic": mode == "deterministic"})

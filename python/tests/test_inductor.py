"""The torch.compile contender's wrapper: which Inductor mode it sets (the compile itself runs on the GPU)."""

import pytest
import torch
import torch._inductor.config

from tritonize_worker.inductor import compiled


@pytest.mark.parametrize(("mode", "deterministic"), [("deterministic", True), ("default", False)])
def test_compile_mode_sets_inductors_deterministic_flag(mode, deterministic):
    saved = torch._inductor.config.deterministic
    try:
        wrapped = compiled(lambda x: x + 1, mode)
        assert torch._inductor.config.deterministic is deterministic
        assert callable(wrapped)
    finally:
        torch._inductor.config.deterministic = saved

"""The torch.compile contender's wrapper: the Inductor mode it asks for (the compile itself runs on the GPU)."""

import pytest
import torch

from tritonize_worker.inductor import compiled


@pytest.mark.parametrize(("mode", "deterministic"), [("deterministic", True), ("default", False)])
def test_compile_mode_is_a_compile_option_of_every_graph(monkeypatch, mode, deterministic):
    seen = {}

    def fake_compile(fn, **kwargs):
        seen.update(kwargs)
        return fn

    monkeypatch.setattr(torch, "compile", fake_compile)
    compiled(lambda x: x + 1, mode)

    assert seen == {"dynamic": False, "options": {"deterministic": deterministic}}

"""The torch.compile contender's wrapper: the Inductor mode every graph is compiled in.

Inductor compiles for the CPU here (C++ codegen), which is enough to see the mode each graph's compile ran
under. A global torch._inductor.config.deterministic does not do: Dynamo restores
torch.use_deterministic_algorithms after tracing each frame, and that call resets the flag, so it held for the
first graph of a process only (found on the H100).
"""

import pytest
import torch
import torch._inductor.config
from torch._inductor.graph import GraphLowering

from tritonize_worker.inductor import compiled


def centre_and_sum(x):
    return (x - x.mean(-1, keepdim=True)).sum(-1)


@pytest.fixture
def modes_seen(monkeypatch, tmp_path):
    """The value of Inductor's deterministic flag at each graph's code generation, in order."""
    monkeypatch.setenv("TORCHINDUCTOR_CACHE_DIR", str(tmp_path / "inductor"))
    seen = []
    original = GraphLowering.compile_to_module

    def spy(self, *args, **kwargs):
        seen.append(torch._inductor.config.deterministic)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(GraphLowering, "compile_to_module", spy)
    # A graph served from the FX graph cache is not generated again: every graph must be.
    with torch._inductor.config.patch(fx_graph_cache=False):
        yield seen


@pytest.mark.parametrize("mode", ["deterministic", "default"])
def test_every_graph_compiles_in_the_requested_mode(modes_seen, mode):
    entry = compiled(centre_and_sum, mode)
    for rows, cols in [(8, 32), (4, 64), (2, 128)]:  # one graph per size (dynamic=False)
        entry(torch.randn(rows, cols))
    x = torch.randn(8, 32, requires_grad=True)
    entry(x).sum().backward()  # and the forward and backward graphs of the grad variant

    assert len(modes_seen) == 5
    assert modes_seen == [mode == "deterministic"] * 5

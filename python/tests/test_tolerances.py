"""The layernorm task's gradient tolerances admit the expert's own rounding (tasks/layernorm/task.toml).

The expert's backward (tutorial 05) sums grad_weight and grad_bias in float16 partial buffers, one per
group of rows, in whatever order its programs take the group's lock, and only then adds the groups in
float32. On the H100 (2026-11-25) that failed the check at 4096x4096 once: 1 element of 4096 at 0.0233
against atol 0.02. This models that summation on the CPU, with the task's own inputs and several lock
orders, and asserts the tolerance holds it with a margin. It fails on the old atol of 0.02.
"""

import pytest
import torch
from conftest import CANDIDATES_DIR, load_manifest, make_request

from tritonize_worker.check import compare
from tritonize_worker.inputs import draw_inputs, draw_tensor
from tritonize_worker.protocol import parse_request

# The tolerance must cover the modelled error this many times over: the model's lock orders are a few
# draws, the GPU's are others.
MARGIN = 1.5
LOCK_ORDERS = 3


def expert_groups(n: int) -> int:
    """How many float16 partial buffers the expert sums into at row length n (its rule, as a fact)."""
    if n <= 1024:
        return 256
    if n <= 4096:
        return 128
    if n <= 8192:
        return 96
    return 64


def grouped_float16_sum(terms: torch.Tensor, groups: int, order: torch.Generator) -> torch.Tensor:
    """Rows r go to partial buffer r % groups, added in float16 in a random order per buffer; then
    the buffers are summed in float32 and rounded to float16."""
    rows, n = terms.shape
    steps = -(-rows // groups)
    slots = torch.full((steps, groups), -1, dtype=torch.long)
    for g in range(groups):
        members = torch.arange(g, rows, groups)
        slots[: len(members), g] = members[torch.randperm(len(members), generator=order)]
    partial = torch.zeros(groups, n, dtype=torch.float16)
    for step in slots:
        live = step >= 0
        partial[live] = (partial[live].float() + terms[step[live]].float()).half()
    return partial.float().sum(0).half()


def excess_over_rtol(out: torch.Tensor, ref: torch.Tensor, rtol: float) -> float:
    """The largest |out - ref| - rtol * |ref|: what atol alone has to cover."""
    return float(((out.double() - ref).abs() - rtol * ref.abs()).max())


@pytest.mark.parametrize("size", ["2048x2048", "4096x4096"])
def test_layernorm_gradient_tolerance_covers_float16_group_sums(size):
    manifest = load_manifest("layernorm")
    assert size in manifest["check_sizes"]
    task = parse_request(make_request("layernorm", CANDIDATES_DIR / "unused.py")).task
    worst = {"grad_weight": 0.0, "grad_bias": 0.0}
    for seed in manifest["seeds"]:
        draw = draw_inputs(task, size, seed, "cpu")
        x = draw.args[0]
        dy = draw_tensor(x.shape, "randn", task.grad_output_scale, task.output_dtype, draw.generator, "cpu")
        eps = draw.args[4]
        x32 = x.float()
        xhat32 = (x32 - x32.mean(1, keepdim=True)) * torch.rsqrt(x32.var(1, unbiased=False, keepdim=True) + eps)
        x64 = x.double()
        xhat64 = (x64 - x64.mean(1, keepdim=True)) / torch.sqrt(x64.var(1, unbiased=False, keepdim=True) + eps)
        refs = {"grad_weight": (dy.double() * xhat64).sum(0), "grad_bias": dy.double().sum(0)}
        terms = {"grad_weight": (dy.float() * xhat32).half(), "grad_bias": dy}
        order = torch.Generator().manual_seed(seed)
        for _ in range(LOCK_ORDERS):
            for name, rows in terms.items():
                out = grouped_float16_sum(rows, expert_groups(x.shape[1]), order)
                assert compare(out, refs[name], torch.float16, task.tolerances[name]).ok
                excess = excess_over_rtol(out, refs[name], task.tolerances[name].rtol)
                worst[name] = max(worst[name], excess)
        # The check still fails a real mistake: one row of dy left out of grad_bias.
        dropped = (refs["grad_bias"] - dy[-1].double()).half()
        verdict = compare(dropped, refs["grad_bias"], torch.float16, task.tolerances["grad_bias"])
        assert verdict.mismatches > dy.shape[1] // 10, f"a dropped row of dy fails only: {verdict.problem}"
    for name, excess in worst.items():
        atol = task.tolerances[name].atol
        assert excess * MARGIN <= atol, f"{name} at {size}: float16 group sums reach {excess:.4f}, atol {atol:g}"

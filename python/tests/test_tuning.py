"""tuning.py under the Triton interpreter: the configuration an autotuned kernel ran with, and nothing left patched."""

from types import SimpleNamespace

import pytest
import torch
import triton
import triton.language as tl
from triton.runtime.autotuner import Autotuner

from tritonize_worker.errors import CandidateError
from tritonize_worker.tuning import chosen_config, describe, tuned_configs

SMALL = triton.Config({"BLOCK": 16}, num_warps=1)
LARGE = triton.Config({"BLOCK": 32}, num_warps=2)


@triton.autotune(configs=[SMALL, LARGE], key=["n"])
@triton.jit
def add_one(x_ptr, y_ptr, n, BLOCK: tl.constexpr):
    offsets = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    tl.store(y_ptr + offsets, tl.load(x_ptr + offsets, mask=offsets < n) + 1, mask=offsets < n)


@triton.jit
def plain(x_ptr, n, BLOCK: tl.constexpr):
    offsets = tl.arange(0, BLOCK)
    tl.store(x_ptr + offsets, tl.load(x_ptr + offsets, mask=offsets < n) * 2, mask=offsets < n)


def launch_add_one(n: int = 40):
    x = torch.arange(n, dtype=torch.float32)
    y = torch.empty_like(x)
    add_one[lambda meta: (triton.cdiv(n, meta["BLOCK"]),)](x, y, n)
    return y


def test_reports_the_configuration_the_autotuner_chose_not_its_first():
    # The interpreter cannot benchmark: the tuning result is put in the autotuner's cache as if it had.
    add_one.cache[(40, "torch.float32", "torch.float32")] = LARGE

    configs = tuned_configs(launch_add_one, lambda: None, "a test call")

    assert configs == {"add_one": "BLOCK=32, num_warps=2, num_stages=3"}


def test_a_call_without_autotuned_kernels_reports_nothing():
    x = torch.ones(8)

    assert tuned_configs(lambda: plain[(1,)](x, 8, BLOCK=8), lambda: None, "a test call") == {}
    assert torch.equal(x, torch.full((8,), 2.0))


def test_the_wrappers_are_removed_even_when_the_call_raises():
    original = Autotuner.__dict__["run"]

    def failing():
        raise ValueError("candidate failed")

    with pytest.raises(CandidateError):
        tuned_configs(failing, lambda: None, "a test call")
    assert Autotuner.__dict__["run"] is original


def test_unset_options_are_left_out_and_set_ones_shown():
    config = triton.Config({"XBLOCK": 1, "R0_BLOCK": 2048}, num_warps=16, num_stages=1, num_ctas=2, maxnreg=128)

    assert describe(config) == "XBLOCK=1, R0_BLOCK=2048, num_warps=16, num_stages=1, num_ctas=2, maxnreg=128"


def test_an_inductor_kernel_reports_its_one_remaining_launcher():
    tuned = SimpleNamespace(launchers=[SimpleNamespace(config=LARGE)])
    untuned = SimpleNamespace(launchers=[SimpleNamespace(config=SMALL), SimpleNamespace(config=LARGE)])

    assert chosen_config(tuned) == "BLOCK=32, num_warps=2, num_stages=3"
    assert chosen_config(untuned) is None


def test_the_log_keeps_each_tuning_with_every_candidates_reading_and_the_pick():
    from tritonize_worker.autotune_timer import install
    from tritonize_worker.tuning import AutotuneLog

    @triton.autotune(configs=[SMALL, LARGE], key=["n"])
    @triton.jit
    def add_two(x_ptr, y_ptr, n, BLOCK: tl.constexpr):
        offsets = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
        tl.store(y_ptr + offsets, tl.load(x_ptr + offsets, mask=offsets < n) + 2, mask=offsets < n)

    readings = iter([[0.004, 0.003, 0.005], [0.002, 0.001, 0.003], [float("inf")] * 3, [0.001] * 3])

    def timer(kernel_call, quantiles):
        kernel_call()
        return next(readings)

    log = AutotuneLog()
    undo = [install(timer), log.install()]
    try:
        for n in (40, 40, 70):  # two keys; the second call at 40 is served from the cache
            x = torch.arange(n, dtype=torch.float32)
            add_two[lambda meta, n=n: (triton.cdiv(n, meta["BLOCK"]),)](x, torch.empty_like(x), n)
    finally:
        for uninstall in reversed(undo):
            uninstall()

    assert [entry["key"] for entry in log.entries] == [["40", "torch.float32", "torch.float32"],
                                                      ["70", "torch.float32", "torch.float32"]]
    first, second = log.entries
    assert first["kernel"] == "add_two"
    assert first["us"] == {describe(SMALL): 4.0, describe(LARGE): 2.0} and first["picked"] == describe(LARGE)
    assert second["us"] == {describe(SMALL): None, describe(LARGE): 1.0} and second["picked"] == describe(LARGE)
    assert Autotuner.__dict__["run"].__module__ == "triton.runtime.autotuner"

"""tuning.PerSizePicks under the Triton interpreter: a real Autotuner keyed on less than the shapes tunes once at each
size and runs each size with that size's pick, whatever order the sizes come in; one keyed on the shapes picks as
before. The fake timer says which configuration is fastest, as the job's timer would on a GPU."""

import pytest
import torch
import triton
import triton.language as tl
from triton.runtime.autotuner import Autotuner

from tritonize_worker.autotune_timer import install
from tritonize_worker.tuning import PerSizePicks

SMALL = triton.Config({"BLOCK": 16}, num_warps=1)
LARGE = triton.Config({"BLOCK": 32}, num_warps=2)
ORIGINAL_RUN = Autotuner.__dict__["run"]


def make_kernel(key):
    @triton.autotune(configs=[SMALL, LARGE], key=key)
    @triton.jit
    def double(x_ptr, y_ptr, n, group, BLOCK: tl.constexpr):
        offsets = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
        tl.store(y_ptr + offsets, tl.load(x_ptr + offsets, mask=offsets < n) * 2, mask=offsets < n)

    return double


def launch(kernel, n: int) -> torch.Tensor:
    x = torch.arange(n, dtype=torch.float32)
    y = torch.empty_like(x)
    kernel[lambda meta: (triton.cdiv(n, meta["BLOCK"]),)](x, y, n, 4)
    assert torch.equal(y, x * 2)
    return y


class ScriptedTimer:
    """Each tuning's times from `picks`, in order: SMALL fastest ("small") or LARGE ("large"); counts the tunings."""

    def __init__(self, *picks: str):
        self.picks = list(picks)
        self.asked = 0

    def __call__(self, kernel_call, quantiles=None):
        kernel_call()
        fast = self.picks[self.asked // 2] == ("small" if self.asked % 2 == 0 else "large")
        self.asked += 1
        value = 1.0 if fast else 2.0
        return [value] * len(quantiles) if quantiles else value


@pytest.fixture
def picks():
    """A PerSizePicks installed over the job's timer, both undone after the test."""
    undo = []
    per_size = PerSizePicks()

    def with_timer(timer):
        undo.append(install(timer))
        undo.append(per_size.install())
        per_size.unwrap = undo[-1]
        return timer

    per_size.with_timer = with_timer
    yield per_size
    for uninstall in reversed(undo):
        uninstall()


def test_an_autotuner_keyed_on_the_group_alone_tunes_at_each_size_and_keeps_each_sizes_pick(picks):
    kernel = make_kernel(["group"])
    timer = picks.with_timer(ScriptedTimer("small", "large"))

    picks.at("64")
    launch(kernel, 64)
    assert kernel.best_config is SMALL
    picks.at("1024")
    launch(kernel, 1024)  # without the views: SMALL again, picked at 64 and never tuned here
    assert kernel.best_config is LARGE
    assert timer.asked == 4  # two tunings of two configurations
    # Back and forth (the timing's two passes, the late check): each size's pick, no tuning.
    for size, n, picked in [("64", 64, SMALL), ("1024", 1024, LARGE), ("64", 64, SMALL)]:
        picks.at(size)
        assert list(kernel.cache.values()) == [picked]
        launch(kernel, n)
    assert timer.asked == 4


def test_an_autotuner_keyed_on_the_shape_picks_as_it_did_without_the_views(picks):
    kernel = make_kernel(["n"])
    timer = picks.with_timer(ScriptedTimer("small", "large"))

    picks.at("64")
    launch(kernel, 64)
    picks.at("1024")
    launch(kernel, 1024)
    picks.at("64")
    launch(kernel, 64)

    assert timer.asked == 4  # once at each size, as without the views
    picks.at("64")
    assert list(kernel.cache.values()) == [SMALL]
    picks.at("1024")
    assert list(kernel.cache.values()) == [LARGE]


def test_a_switch_without_the_wrapper_reaches_every_autotuner_seen(picks):
    # The timing: the wrapper around Autotuner.run is gone (no wrapper in the timed calls); `at` switches the views.
    kernel = make_kernel(["group"])
    picks.with_timer(ScriptedTimer("large", "small"))
    picks.at("64")
    launch(kernel, 64)
    picks.at("1024")
    launch(kernel, 1024)
    picks.unwrap()
    assert Autotuner.run is ORIGINAL_RUN

    picks.at("64")
    assert list(kernel.cache.values()) == [LARGE]
    picks.at("1024")
    assert list(kernel.cache.values()) == [SMALL]


def make_pointer_keyed_kernel():
    # As tutorial 08's TMA kernel: keyed on an argument its caller makes anew at every call.
    @triton.autotune(configs=[SMALL, LARGE], key=["ptrs"])
    @triton.jit
    def double(ptrs, x_ptr, y_ptr, n, BLOCK: tl.constexpr):
        offsets = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
        tl.store(y_ptr + offsets, tl.load(x_ptr + offsets, mask=offsets < n) * 2, mask=offsets < n)

    return double


def launch_with_fresh_pointers(kernel, n: int, pointers: int = 4) -> None:
    x = torch.arange(n, dtype=torch.float32)
    y = torch.empty_like(x)
    ptrs = torch.arange(pointers, dtype=torch.int64)  # a new object at every call, as the tutorial's wrapper makes
    kernel[lambda meta: (triton.cdiv(n, meta["BLOCK"]),)](ptrs, x, y, n)
    assert torch.equal(y, x * 2)


def test_an_autotuner_keyed_on_a_tensor_tunes_once_per_size_not_once_per_tensor_object(picks):
    kernel = make_pointer_keyed_kernel()
    timer = picks.with_timer(ScriptedTimer("small", "large", "small"))

    picks.at("64")
    for _ in range(3):  # Triton alone tunes at each of these calls: the key holds the tensor object
        launch_with_fresh_pointers(kernel, 64)
    assert timer.asked == 2
    assert kernel.best_config is SMALL
    picks.at("1024")
    launch_with_fresh_pointers(kernel, 1024)
    launch_with_fresh_pointers(kernel, 1024)
    assert (timer.asked, kernel.best_config) == (4, LARGE)
    # A tensor of another shape is another key: it tunes.
    launch_with_fresh_pointers(kernel, 1024, pointers=8)
    assert timer.asked == 6
    assert picks.tensor_keyed() == ["double"]
    assert next(str(part) for part in kernel.cache).startswith("(tensor(torch.int64, [4], cpu)")


def test_without_the_views_the_same_kernel_tunes_at_every_call():
    # What the views change: plain Triton, with the same timer, tunes once per tensor object.
    kernel = make_pointer_keyed_kernel()
    timer = ScriptedTimer("small", "small", "small")
    undo = install(timer)
    try:
        for _ in range(3):
            launch_with_fresh_pointers(kernel, 64)
    finally:
        undo()
    assert timer.asked == 6


def test_an_autotuner_keyed_on_plain_values_is_not_counted_as_tensor_keyed(picks):
    kernel = make_kernel(["group"])
    picks.with_timer(ScriptedTimer("small"))
    picks.at("64")
    launch(kernel, 64)
    assert picks.tensor_keyed() == []

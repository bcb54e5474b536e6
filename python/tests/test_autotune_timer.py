"""autotune_timer.py under the Triton interpreter: which benchmark a real Autotuner picks with, and the summary.

The timer itself needs CUDA events: test_gpu.py times a slow and a fast configuration with it.
"""

import pytest
import torch
import triton
import triton.language as tl
from triton.runtime.autotuner import Autotuner

from tritonize_worker.autotune_timer import install, summarise
from tritonize_worker.trusted import TrustedSnapshot

SMALL = triton.Config({"BLOCK": 16}, num_warps=1)
LARGE = triton.Config({"BLOCK": 32}, num_warps=2)


def make_kernel(configs=(SMALL, LARGE), **autotune_options):
    @triton.autotune(configs=list(configs), key=["n"], **autotune_options)
    @triton.jit
    def double(x_ptr, y_ptr, n, BLOCK: tl.constexpr):
        offsets = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
        tl.store(y_ptr + offsets, tl.load(x_ptr + offsets, mask=offsets < n) * 2, mask=offsets < n)

    return double


def launch(kernel, n: int = 40) -> torch.Tensor:
    x = torch.arange(n, dtype=torch.float32)
    y = torch.empty_like(x)
    kernel[lambda meta: (triton.cdiv(n, meta["BLOCK"]),)](x, y, n)
    return y


class FakeTimer:
    """Runs each candidate once and reports the next of `times_ms`, in the order the autotuner asks."""

    def __init__(self, *times_ms: float):
        self.times_ms = list(times_ms)
        self.quantiles = []

    def __call__(self, kernel_call, quantiles=None):
        kernel_call()
        self.quantiles.append(quantiles)
        value = self.times_ms.pop(0)
        return [value] * len(quantiles) if quantiles else value


@pytest.fixture
def installed():
    """install() with the undo run after the test, whatever it does."""
    undo = []

    def do(timer):
        undo.append(install(timer))
        return timer

    yield do
    for uninstall in reversed(undo):
        uninstall()


@pytest.mark.parametrize(("times_ms", "picked"), [((2.0, 1.0), LARGE), ((1.0, 2.0), SMALL)])
def test_the_autotuner_keeps_the_configuration_the_timer_finds_fastest(installed, times_ms, picked):
    kernel = make_kernel()
    timer = installed(FakeTimer(*times_ms))

    y = launch(kernel)

    assert kernel.best_config is picked
    assert timer.times_ms == [] and timer.quantiles == [(0.5, 0.2, 0.8)] * 2
    assert torch.equal(y, torch.arange(40, dtype=torch.float32) * 2)


def test_an_autotuner_created_and_read_before_the_install_uses_the_timer_too(installed):
    kernel = make_kernel()
    # What Triton's cached_property leaves in the instance once read (reading it needs a GPU driver here).
    kernel.__dict__["do_bench"] = FakeTimer(1.0, 2.0)
    timer = installed(FakeTimer(2.0, 1.0))

    launch(kernel)

    assert kernel.do_bench is timer
    assert kernel.best_config is LARGE


def test_an_authors_own_benchmark_is_kept(installed):
    own = FakeTimer(1.0, 2.0)
    kernel = make_kernel(do_bench=own)
    timer = installed(FakeTimer(2.0, 1.0))

    launch(kernel)

    assert kernel.best_config is SMALL
    assert own.times_ms == [] and timer.times_ms == [2.0, 1.0]


def test_uninstall_restores_the_original_descriptor():
    original = Autotuner.__dict__["do_bench"]

    uninstall = install(FakeTimer())
    assert Autotuner.__dict__["do_bench"] is not original
    uninstall()

    assert Autotuner.__dict__["do_bench"] is original


def test_a_candidate_that_replaces_the_installed_benchmark_is_caught(installed):
    installed(FakeTimer())
    snapshot = TrustedSnapshot()

    Autotuner.do_bench = property(lambda self: FakeTimer(1.0))

    assert snapshot.patched() == ["triton.runtime.autotuner.Autotuner.do_bench"]


def test_the_summary_is_the_median_or_the_quantiles_as_numpy_interpolates_them():
    times = [5.0, 1.0, 4.0, 2.0, 3.0, 10.0]

    assert summarise(times, None) == 3.5
    q = torch.tensor([0.5, 0.2, 0.8], dtype=torch.float64)
    expected = torch.quantile(torch.tensor(times, dtype=torch.float64), q)
    assert summarise(times, (0.5, 0.2, 0.8)) == pytest.approx(expected.tolist())
    assert summarise([7.0], (0.5, 0.2, 0.8)) == [7.0, 7.0, 7.0]


def test_the_record_gives_the_start_clocks_only_when_they_were_read():
    from tritonize_worker.autotune_timer import AutotuneTimer

    without = AutotuneTimer(flush=lambda: None)
    assert without.record() == {"candidates": 0, "lead_ms": 0.2, "max_lead_ms": 0.2, "dropped": 0, "behind_kept": 0}
    with_clock = AutotuneTimer(flush=lambda: None, sm_clock=lambda: 1980)
    with_clock.start_clocks_mhz += [1980, 1755, 1980]  # what three candidates' timings found
    assert with_clock.record()["start_sm_clock_mhz"] == {"min": 1755, "median": 1980, "max": 1980}


class ScriptedCuda:
    """torch.cuda for AutotuneTimer._batch without a GPU: each batch's query of the lead's end answers from `script`
    (True: the GPU had finished the lead before the host queued the batch); the spins asked for are noted in cycles;
    timing events read 0.01 ms."""

    def __init__(self, script):
        self.script = list(script)
        self.cuda = self
        self.spins = []

    def _sleep(self, cycles):
        self.spins.append(cycles)

    def Event(self, enable_timing=False):
        cuda = self

        class Event:
            def record(self):
                pass

            def elapsed_time(self, end):
                return 0.01

            def query(self):
                return cuda.script.pop(0)

        return Event()

    def synchronize(self):
        pass


class HostClock:
    """The host's clock, moved on `per_call_s` by each kernel call: a wrapper of that much host time a call."""

    def __init__(self, per_call_s):
        self.now, self.per_call_s = 0.0, per_call_s

    def __call__(self):
        return self.now

    def call(self):
        self.now += self.per_call_s


def test_the_lead_follows_the_hosts_pace_and_grows_when_the_host_fell_behind():
    from tritonize_worker.autotune_timer import LEAD_MARGIN, LEAD_S, SPIN_HZ, AutotuneTimer

    host = HostClock(500e-6)  # 5 ms to queue a batch of ten calls
    timer = AutotuneTimer(flush=lambda: None, clock=host)
    cuda = ScriptedCuda([True, True, False, False])

    assert len(timer._batch(host.call, cuda)) == 10  # two batches dropped, the third kept
    assert timer.dropped == 2 and timer.behind_kept == 0
    # The first lead, then twice the margin over the host's 5 ms, then doubled.
    leads_s = [LEAD_S, 2 * LEAD_MARGIN * 5e-3, 4 * LEAD_MARGIN * 5e-3]
    assert cuda.spins == pytest.approx([lead_s * SPIN_HZ for lead_s in leads_s], abs=1)
    assert timer.max_lead_s == pytest.approx(4 * LEAD_MARGIN * 5e-3)
    assert timer.lead_s == pytest.approx(LEAD_MARGIN * 5e-3)  # a kept batch sets the next lead from its pace
    timer._batch(host.call, cuda)
    assert cuda.spins[-1] == pytest.approx(LEAD_MARGIN * 5e-3 * SPIN_HZ, abs=1)
    assert timer.record()["max_lead_ms"] == pytest.approx(30.0)


def test_a_host_too_slow_for_the_longest_lead_is_kept_and_counted():
    from tritonize_worker.autotune_timer import MAX_LEAD_S, AutotuneTimer

    host = HostClock(0.1)  # a second to queue ten calls: no lead allowed covers it
    timer = AutotuneTimer(flush=lambda: None, clock=host)
    cuda = ScriptedCuda([True, True])

    assert len(timer._batch(host.call, cuda)) == 10
    assert (timer.dropped, timer.behind_kept) == (1, 1)
    assert timer.max_lead_s == MAX_LEAD_S and timer.lead_s == MAX_LEAD_S


# --- one exclusive hold per tuning key (batch_by_key) -------------------------------------------------------------


@pytest.fixture
def batched(installed):
    """batch_by_key() installed over a fresh record and a lane without lock files (holds recorded, not locked)."""
    from tritonize_worker import autotune_timer, lane

    autotune_timer.batching = autotune_timer.Batching()
    gpu = lane.configure(None)
    installed(None)  # an author's own benchmark in the lane (lane_held), as in a job with timing
    undo = autotune_timer.batch_by_key()
    yield gpu
    undo()
    lane.configure(None)


class HoldNotingTimer(FakeTimer):
    """A FakeTimer that notes which hold of the lane each benchmark ran in."""

    def __init__(self, *times_ms: float):
        super().__init__(*times_ms)
        self.held = []

    def __call__(self, kernel_call, quantiles=None):
        from tritonize_worker import lane

        self.held.append(lane.current()._held)
        return super().__call__(kernel_call, quantiles)


def counting(config: triton.Config, calls: list, fail: bool = False) -> triton.Config:
    """`config` with a pre-hook that notes each call by BLOCK (and fails as a configuration too large would)."""

    def hook(_nargs):
        calls.append(config.kwargs["BLOCK"])
        if fail:
            from triton.runtime.errors import OutOfResources

            raise OutOfResources(1 << 20, 1 << 16, "shared memory")

    return triton.Config(config.kwargs, num_warps=config.num_warps, pre_hook=hook)


def exclusive_holds(gpu) -> int:
    from tritonize_worker.lane import EXCLUSIVE

    return sum(1 for kind, _, _ in gpu.holds if kind == EXCLUSIVE)


def test_a_keys_configurations_are_compiled_first_then_benchmarked_in_one_exclusive_hold(batched):
    from tritonize_worker import autotune_timer
    from tritonize_worker.lane import EXCLUSIVE

    calls = []
    own = HoldNotingTimer(2.0, 1.0)
    configs = [counting(SMALL, calls), counting(LARGE, calls)]
    double = make_kernel(configs, do_bench=own)

    y = launch(double)

    # Each configuration once to compile, once in its benchmark, then the pick's launch.
    assert calls == [16, 32, 16, 32, 32]
    assert own.held == [EXCLUSIVE, EXCLUSIVE]
    assert exclusive_holds(batched) == 1
    assert double.best_config.kwargs == {"BLOCK": 32}
    assert torch.equal(y, torch.arange(40, dtype=torch.float32) * 2)
    assert autotune_timer.batching.record() == {"keys": 1, "configurations": 2, "failed": 0}

    launch(double)  # the same key: tuned already, no hold of its own
    assert exclusive_holds(batched) == 1
    own.times_ms = [1.0, 2.0]
    launch(double, n=100)  # a new key: one more hold
    assert exclusive_holds(batched) == 2
    assert autotune_timer.batching.keys == 2


def test_without_batching_each_configuration_takes_its_own_hold(installed):
    from tritonize_worker import lane

    gpu = lane.configure(None)
    installed(None)
    own = HoldNotingTimer(2.0, 1.0)
    launch(make_kernel(do_bench=own))

    assert exclusive_holds(gpu) == 2


def test_a_configuration_that_does_not_compile_is_left_out_of_the_hold(batched):
    from tritonize_worker import autotune_timer

    calls = []
    own = HoldNotingTimer(1.0)
    configs = [counting(SMALL, calls, fail=True), counting(LARGE, calls)]
    double = make_kernel(configs, do_bench=own)

    y = launch(double)

    assert calls == [16, 32, 32, 32]  # the failing one tried once, outside the hold
    assert own.times_ms == [] and len(own.held) == 1
    assert double.best_config.kwargs == {"BLOCK": 32}
    assert "prune_configs" not in double.__dict__
    assert torch.equal(y, torch.arange(40, dtype=torch.float32) * 2)
    assert autotune_timer.batching.record() == {"keys": 1, "configurations": 1, "failed": 1}


def test_a_key_computed_unlike_triton_turns_batching_off_and_the_pick_still_stands(batched, monkeypatch):
    from tritonize_worker import autotune_timer

    monkeypatch.setattr(autotune_timer, "tuning_key", lambda *_: ("not", "triton's"))
    own = HoldNotingTimer(2.0, 1.0)
    kernel = make_kernel(do_bench=own)

    y = launch(kernel)

    assert kernel.best_config is LARGE
    assert torch.equal(y, torch.arange(40, dtype=torch.float32) * 2)
    assert "differs from Triton's" in autotune_timer.batching.off
    own.times_ms = [2.0, 1.0]
    launch(kernel, n=100)  # no longer batched: a hold per configuration
    assert exclusive_holds(batched) == 1 + 2


def test_the_tuning_key_is_the_one_triton_caches_under(batched):
    from tritonize_worker.autotune_timer import tuning_key

    kernel = make_kernel(do_bench=FakeTimer(1.0, 2.0))
    x = torch.arange(40, dtype=torch.float32)
    y = torch.empty_like(x)
    kernel[lambda meta: (triton.cdiv(40, meta["BLOCK"]),)](x, y, 40)

    assert list(kernel.cache) == [tuning_key(kernel, (x, y, 40), {})]


def test_batch_by_key_undo_restores_the_autotuners_run():
    from tritonize_worker.autotune_timer import batch_by_key

    original = Autotuner.__dict__["run"]
    undo = batch_by_key()
    assert Autotuner.__dict__["run"] is not original
    undo()

    assert Autotuner.__dict__["run"] is original


# --- a key's configurations compiled at once (compile_in_parallel) --------------------------------------------------


class WarmingFn:
    """An autotuner's kernel that notes each run: its block, warps and grid, whether it only compiled (warmup), and
    whether Triton's async compile mode was on."""

    def __init__(self, fail_at: int | None = None):
        self.warmed = []
        self.fail_at = fail_at

    def run(self, *args, grid, warmup, **kwargs):
        from triton.runtime._async_compile import active_mode

        if kwargs["BLOCK"] == self.fail_at:
            raise RuntimeError("no such option")
        self.warmed.append((args, kwargs["BLOCK"], kwargs["num_warps"], grid, warmup, active_mode.get() is not None))


@pytest.fixture
def compiling(monkeypatch):
    """compile_in_parallel as on a GPU machine with two cores: the interpreter off, a fresh record."""
    from triton import knobs

    from tritonize_worker import autotune_timer

    monkeypatch.setattr(knobs.runtime, "interpret", False)
    monkeypatch.setattr(autotune_timer, "compile_threads", lambda configurations: 2)
    autotune_timer.batching = autotune_timer.Batching()
    return autotune_timer


def test_a_keys_configurations_are_compiled_at_once_each_after_its_pre_hook(compiling):
    from types import SimpleNamespace

    hooked = []
    configs = [
        triton.Config({"BLOCK": 16}, num_warps=1, pre_hook=lambda nargs: hooked.append((nargs["x"], nargs["BLOCK"]))),
        triton.Config({"BLOCK": 32}, num_warps=2),
    ]
    fn = WarmingFn()
    tuner = SimpleNamespace(fn=fn, nargs={"x": "x-tensor"})

    # Autotuner.run gets the launch's grid and warmup=False among its keyword arguments (kernel[grid](...)).
    launch = {"n": 40, "grid": (3,), "warmup": False}
    assert compiling.compile_in_parallel(tuner, ("x-tensor",), launch, configs) == 2
    # Each compiled, not launched (warmup), in Triton's async compile mode, with the configuration's options and the
    # launch's grid; the pre-hook first, on what its benchmark gives it.
    assert fn.warmed == [(("x-tensor",), 16, 1, (3,), True, True), (("x-tensor",), 32, 2, (3,), True, True)]
    assert hooked == [("x-tensor", 16)]
    record = compiling.batching.record()
    assert (record["compiled_at_once"], record["compile_threads"]) == (2, 2) and "parallel_off" not in record


def test_a_failure_to_compile_at_once_leaves_the_configurations_to_the_first_pass(compiling):
    from types import SimpleNamespace

    configs = [triton.Config({"BLOCK": 16}, num_warps=1), triton.Config({"BLOCK": 32}, num_warps=2)]
    tuner = SimpleNamespace(fn=WarmingFn(fail_at=32), nargs={})

    launch = {"grid": (1,), "warmup": False}
    assert compiling.compile_in_parallel(tuner, (), launch, configs) == 1
    assert compiling.batching.parallel_off == "RuntimeError: no such option"
    # Off for the rest of the process: the first pass compiles one by one, as before.
    assert compiling.compile_in_parallel(SimpleNamespace(fn=WarmingFn(), nargs={}), (), launch, configs) == 0


def test_under_the_interpreter_nothing_is_compiled_at_once():
    from types import SimpleNamespace

    from tritonize_worker import autotune_timer

    fn = WarmingFn()
    configs = [triton.Config({"BLOCK": 16}, num_warps=1), triton.Config({"BLOCK": 32}, num_warps=2)]
    launch = {"grid": (1,), "warmup": False}
    assert autotune_timer.compile_in_parallel(SimpleNamespace(fn=fn, nargs={}), (), launch, configs) == 0
    assert fn.warmed == []


def test_the_candidate_step_takes_its_autotuner_wrappers_off_only_once_the_timings_first_calls_are_made(
    tmp_path, monkeypatch
):
    """A repeat process checks the last check size only, so the timing's first call at every other size tunes. The
    candidate step hands the removal of its wrappers to the timing (timing.run_timings' `first_calls_made`): those
    first calls tune with the batching on, a key's configurations in one exclusive hold as in the checks, not one
    hold each (36 to 75 holds for each matmul expert's second process on an H100, 2026-12-05); the timed calls run
    with every wrapper off. The real candidate step on the CPU, with its timing (CUDA only) replaced by a probe."""
    import dataclasses

    from conftest import step_request

    from tritonize_worker import candidate, l2_flush, lane, timing
    from tritonize_worker.protocol import Result
    from tritonize_worker.watchdog import Watchdog

    original = Autotuner.__dict__["run"]
    seen = []

    def probe(entry, request, records, environment=None, flush=None, watch=None, first_calls_made=None):
        seen.append(("first calls", Autotuner.__dict__["run"] is not original))
        first_calls_made()
        seen.append(("timed calls", Autotuner.__dict__["run"] is not original))

    request = step_request(tmp_path, "candidate", "softmax")
    request = dataclasses.replace(request, timing=dataclasses.replace(
        request.timing, enabled=True, sizes=("64x128",), flush_bytes=1024, autotune_timer="triton"))
    monkeypatch.setattr(timing, "run_timings", probe)
    monkeypatch.setattr(l2_flush, "L2Flush", lambda *args: (lambda: None))
    monkeypatch.setattr(torch.cuda, "synchronize", lambda *args: None)
    lane.configure(None)
    try:
        candidate.run_candidate(request, Result(), Watchdog(lambda *_: None))
    finally:
        lane.configure(None)
    assert seen == [("first calls", True), ("timed calls", False)]
    assert Autotuner.__dict__["run"] is original

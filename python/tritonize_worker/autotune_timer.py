"""The benchmark Triton's autotuners pick a configuration with, in a job: the job's own L2 flush and kernel time.

`@triton.autotune` times each candidate configuration with the driver's benchmarker (triton.testing.do_bench):
CUDA events around each launch after a `zero_` of 256 MiB, which leaves the L2 full of dirty lines that the
timed kernel must write back. The job reports a different quantity (kernel time after a flush that reads,
docs/measurement.md), and where two configurations are close by one yardstick and 4-10% apart by the other, the
autotuner's pick flips between processes and the reported time with it: the matmul at 1024^3 on the H100, expert
and LLM alike, sat 4-10% apart in different processes with different picks.

So with `--autotune-timer job` (the default; `triton` keeps Triton's own) a job on the GPU hands every autotuner
that did not bring its own benchmark (`do_bench=` in `@triton.autotune`, kept as its author wrote it) an
`AutotuneTimer`: each candidate is run after the job's flush between CUDA events, the host queued ahead of the GPU
(a lead of GPU work before each batch, set from the host's pace and checked to have sufficed), so that the events
bracket the kernel, not its launch from Python. Events, not the profiler: the worker takes its host-side figures
before CUPTI first starts in the process (timing.py). The configurations, the key and the pruning stay the
author's; only the yardstick of the pick is the job's.

Either way the configurations of one tuning key are benchmarked in one exclusive hold of the lane, not one hold
each (`batch_by_key`): each is first compiled and run once in a shared hold, then all are benchmarked
back to back. A hold is only taken once every shared holder (other jobs' checks) has finished its call, which cost
the matmul expert on the H200 84 s of waiting for about 100 holds (docs/runner.md); the benchmark itself is the
same, configuration by configuration, in the author's order.

Before that first pass, a key's configurations are compiled at once on a few threads (`compile_in_parallel`):
Triton's compile releases the GIL (on a 2-core machine, tutorial 03's 16 matmul configurations for sm_90 took about
5.7 s one by one and 3.1 s on two threads: benchmarks/compile_at_once.py, 2026-12-05), and the matmul experts, the
main job's longest jobs, compiled about 110 configurations one after another in candidate steps of 130-140 s on the
H200 (2026-12-04). The kernels go into Triton's own cache, where the first pass finds them; a configuration that
does not compile there is compiled again in the first pass and fails there as before. Not under the interpreter,
which compiles nothing.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from . import lane
from .sampling import quantile

# Calls per candidate: at least MIN_CALLS, then batches of BATCH until MAX_CALLS or BUDGET_MS of timed kernel time.
BATCH = 10
MIN_CALLS = 20
MAX_CALLS = 100
BUDGET_MS = 200.0
# Past MIN_CALLS, no more batches after this much wall time per candidate (a host that cannot keep ahead of a
# short kernel, a slow candidate): the checks' own timeouts are for the candidate, not for its benchmark.
MAX_WALL_S = 2.0
# Threads that compile a key's configurations at once (compile_in_parallel), at most; fewer where the process may
# use fewer cores. Not the engine's per-job CPU threads (OMP_NUM_THREADS, one a job at twelve jobs on 16 cores):
# those are for thread pools that spin; a compile is a burst of work. Four, so that twelve jobs compiling at once
# do not take every core from the jobs whose host-side figures are being taken.
COMPILE_THREADS = 4
# The lead: GPU work queued before each batch (a spin of the GPU's clock, one launch: torch.cuda._sleep), so that
# the GPU is still busy with it when the host has queued the batch, and each pair of events brackets its kernel, not
# the wait for its launch. A lead of flushes (each launch adding only what the flush's GPU time exceeds its launch's
# host time) could not cover a wrapper of 200 us a call: on an H100 (2026-12-05) the GPU test of such a wrapper failed
# in 2 of 3 runs at the most flushes allowed (256), where a batch the host fell behind was kept. The lead is now set
# from the host's own pace: LEAD_MARGIN times the time the host took to queue the last batch, at least LEAD_S. A batch
# the host could not queue in time (the GPU had finished the lead) is dropped and the lead at least doubled; one
# kept at MAX_LEAD_S all the same is counted (`behind_kept`).
LEAD_S = 0.2e-3
LEAD_MARGIN = 1.5
MAX_LEAD_S = 0.25
# The spin's cycles per second of lead: no datacenter GPU's SM clock runs faster (H100 and H200: 1980 MHz at most),
# so that the spin lasts at least the lead asked for; at a lower clock it lasts longer, which costs only time.
SPIN_HZ = 2.1e9


class AutotuneTimer:
    """A `do_bench(kernel_call, quantiles)` for Triton's Autotuner: milliseconds at the quantiles (the median
    alone without them) of MIN_CALLS to MAX_CALLS calls, each after `flush`, CUDA events around the call only."""

    def __init__(
        self,
        flush: Callable[[], None],
        sm_clock: Callable[[], int | None] | None = None,
        clock: Callable[[], float] = time.perf_counter,
    ):
        self.flush = flush
        self.clock = clock  # the host's clock, which times the queueing of each batch
        self.lead_s = LEAD_S
        self.max_lead_s = LEAD_S  # the longest lead any batch needed
        self.timed = 0  # candidates timed: the job's record says the autotuners used this timer
        self.dropped = 0  # batches dropped because the host fell behind
        self.behind_kept = 0  # batches the host fell behind at MAX_LEAD_S, kept all the same
        # The SM clock as each candidate's timing starts, just after its compilation left the GPU idle: whether
        # some candidates were timed at a lower clock than others (`sm_clock`, when given, reads it).
        self.sm_clock = sm_clock
        self.start_clocks_mhz: list[int] = []

    def __call__(self, kernel_call: Callable[[], Any], quantiles: Sequence[float] | None = None, **_: Any):
        import torch

        kernel_call()  # this configuration's compilation, outside the timed calls
        torch.cuda.synchronize()
        if self.sm_clock is not None and (mhz := self.sm_clock()) is not None:
            self.start_clocks_mhz.append(mhz)
        times_ms: list[float] = []
        # The figures that pick the configuration are the job's own: no other job's GPU work beside them (lane.py).
        with lane.current().exclusive("autotuning"):
            started = time.perf_counter()
            while len(times_ms) < MIN_CALLS or (
                len(times_ms) < MAX_CALLS and sum(times_ms) < BUDGET_MS and time.perf_counter() - started < MAX_WALL_S
            ):
                times_ms += self._batch(kernel_call, torch)
        self.timed += 1
        return summarise(times_ms, quantiles)

    def record(self) -> dict[str, Any]:
        """What the job's environment keeps of this timer (`environment.autotune_timer`)."""
        record: dict[str, Any] = {
            "candidates": self.timed,
            "lead_ms": round(self.lead_s * 1e3, 3),
            "max_lead_ms": round(self.max_lead_s * 1e3, 3),
            "dropped": self.dropped,
            "behind_kept": self.behind_kept,
        }
        if self.start_clocks_mhz:
            clocks = sorted(self.start_clocks_mhz)
            record["start_sm_clock_mhz"] = {"min": clocks[0], "median": quantile(clocks, 0.5), "max": clocks[-1]}
        return record

    def _batch(self, kernel_call: Callable[[], Any], torch: Any) -> list[float]:
        while True:
            pairs = [(torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)) for _ in range(BATCH)]
            lead_end = torch.cuda.Event()
            self.max_lead_s = max(self.max_lead_s, self.lead_s)
            torch.cuda._sleep(max(1, int(self.lead_s * SPIN_HZ)))
            lead_end.record()
            queueing = self.clock()
            for start, end in pairs:
                self.flush()
                start.record()
                kernel_call()
                end.record()
            queued_s = self.clock() - queueing
            # Done already: the GPU may have waited for a launch between a start event and its kernel.
            behind = lead_end.query()
            torch.cuda.synchronize()
            if not behind or self.lead_s >= MAX_LEAD_S:
                self.behind_kept += behind
                self.lead_s = min(MAX_LEAD_S, max(LEAD_S, LEAD_MARGIN * queued_s))
                return [start.elapsed_time(end) for start, end in pairs]
            self.dropped += 1
            self.lead_s = min(MAX_LEAD_S, max(2 * self.lead_s, 2 * LEAD_MARGIN * queued_s))


def summarise(times_ms: Sequence[float], quantiles: Sequence[float] | None) -> float | list[float]:
    """The median, or the values at the quantiles in their order, as triton.testing.do_bench returns them."""
    if not quantiles:
        return statistics.median(times_ms)
    ordered = sorted(times_ms)
    return [quantile(ordered, q) for q in quantiles]


def lane_held(bench: Callable[..., Any]) -> Callable[..., Any]:
    """`bench` (a do_bench) run in an exclusive hold of the job's GPU lane, after one call in a shared hold that
    compiles the configuration: the benchmark's figures pick the configuration, so no other job's GPU work may be
    beside them, and no other job need wait while this one compiles."""

    def held(kernel_call: Callable[[], Any], *args: Any, **kwargs: Any) -> Any:
        import torch

        gpu = lane.current()
        if not batching.holding:  # in a key's hold, every configuration has been compiled before it
            with gpu.shared("compiling an autotuner's configuration"):
                kernel_call()
                if torch.cuda.is_available():  # the interpreter runs on the CPU
                    torch.cuda.synchronize()
        with gpu.exclusive("autotuning"):
            return bench(kernel_call, *args, **kwargs)

    return held


class Batching:
    """What `batch_by_key` did: keys benchmarked in one exclusive hold each (`environment.autotune_batches`)."""

    def __init__(self) -> None:
        self.keys = 0  # tuning keys benchmarked in one hold
        self.configurations = 0  # configurations compiled before their key's hold
        self.failed = 0  # configurations that did not compile (left out of the hold)
        self.compiled_at_once = 0  # configurations compiled on several threads before the first pass
        self.compile_threads = 0  # the threads they were compiled on (the most at one key)
        self.parallel_off = ""  # why configurations were not compiled at once, if they were not
        self.off = ""  # why batching stopped in this process, if it did
        self.precompiling = False  # the first pass: the autotuner's benchmark compiles and runs once
        self.holding = False  # the second pass: in the key's exclusive hold

    def record(self) -> dict[str, Any]:
        record: dict[str, Any] = {"keys": self.keys, "configurations": self.configurations, "failed": self.failed}
        if self.compiled_at_once:
            record["compiled_at_once"] = self.compiled_at_once
            record["compile_threads"] = self.compile_threads
        if self.parallel_off:
            record["parallel_off"] = self.parallel_off
        if self.off:
            record["off"] = self.off
        return record


# The process's batching record: one job per process.
batching = Batching()


def install(timer: Callable[..., Any] | None) -> Callable[[], None]:
    """Makes `timer` the benchmark of every Triton Autotuner without one of its own, including those created and
    those already created but not yet run; returns the function that undoes it. A no-op without Triton.
    With `timer` None, Triton's own benchmark stays, run in the job's GPU lane (`lane_held`), as does an
    autotuner's own benchmark always."""
    try:
        from triton.runtime.autotuner import Autotuner
    except ImportError:
        return lambda: None
    original = Autotuner.__dict__["do_bench"]

    def do_bench(self: Any) -> Callable[..., Any]:
        if batching.precompiling:
            return _compile_once
        own = getattr(self, "_do_bench", None)
        if own is not None:
            return lane_held(own)
        if timer is not None:
            return timer
        from triton.runtime import driver

        return lane_held(driver.active.get_benchmarker())

    # A property, not a cached_property: it overrides any value a cached_property left in an instance's __dict__.
    Autotuner.do_bench = property(do_bench)

    def uninstall() -> None:
        Autotuner.do_bench = original

    return uninstall


def batch_by_key() -> Callable[[], None]:
    """Wraps Autotuner.run so that each tuning key's configurations are benchmarked in one exclusive hold
    (`_batched_run`); returns the function that undoes it. For the checks and the timing's first calls (a repeat
    process checks one size), which make every tuning: the wrapper (the key computed at every launch) must be gone
    before the timed calls, whose host-side figures it would be in (timing.run_timings' `first_calls_made`). A tuning
    after it takes a hold per configuration. A no-op without Triton."""
    try:
        from triton.runtime.autotuner import Autotuner
    except ImportError:
        return lambda: None
    original_run = Autotuner.__dict__["run"]

    def run(self: Any, *args: Any, **kwargs: Any) -> Any:
        return _batched_run(original_run, self, args, kwargs)

    Autotuner.run = run

    def uninstall() -> None:
        Autotuner.run = original_run

    return uninstall


def _compile_once(kernel_call: Callable[[], Any], *_: Any, **__: Any) -> list[float]:
    """The first pass's benchmark: the configuration compiled (the shared hold given up meanwhile, lane.py) and run
    once, as every benchmark's first call does; its figure is not used."""
    import torch

    with lane.current().shared("compiling an autotuner's configuration"):
        kernel_call()
        if torch.cuda.is_available():  # the interpreter runs on the CPU
            torch.cuda.synchronize()
    return [0.0, 0.0, 0.0]


def tuning_key(autotuner: Any, args: tuple, kwargs: dict) -> tuple | None:
    """The key Autotuner.run caches its pick under (triton 3.x: the `key` arguments' values, then every tensor
    argument's dtype); None where this autotuner does not benchmark (one configuration, results cached on disk)."""
    if len(autotuner.configs) <= 1 or getattr(autotuner, "cache_results", False):
        return None
    named = {**dict(zip(autotuner.arg_names, args, strict=False)), **kwargs}
    named = {name: value for name, value in named.items() if name in autotuner.arg_names}
    key = [named[name] for name in autotuner.keys if name in named]
    key += [str(value.dtype) for value in named.values() if hasattr(value, "dtype")]
    return tuple(key)


def compile_threads(configurations: int) -> int:
    """Threads for compiling `configurations` at once: the cores this process may run on, at most COMPILE_THREADS."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    return max(1, min(COMPILE_THREADS, cores, configurations))


def compile_in_parallel(autotuner: Any, args: tuple, kwargs: dict, configurations: Sequence[Any]) -> int:
    """Compiles the configurations' kernels on several threads (Triton's AsyncCompileMode; each configuration's
    pre-hook first, as its benchmark runs it, since it may set what the kernel is specialised on), without launching
    them; returns how many were submitted. Anything that goes wrong leaves the first pass to compile them one by
    one, as without it (`batching.parallel_off` says why)."""
    if batching.parallel_off or len(configurations) < 2:
        return 0
    try:
        from triton import knobs
        from triton.runtime._async_compile import AsyncCompileMode
    except ImportError as error:
        batching.parallel_off = f"this Triton has no AsyncCompileMode ({error})"
        return 0
    if knobs.runtime.interpret:
        return 0  # the interpreter compiles nothing
    threads = compile_threads(len(configurations))
    if threads < 2:
        batching.parallel_off = "one core"
        return 0
    submitted = 0
    try:
        # Compiling holds no lane (the compile hooks give a shared hold up, lane.py); a pre-hook, which may touch the
        # GPU, runs in a shared hold.
        with (
            ThreadPoolExecutor(threads, thread_name_prefix="tritonize-compile") as pool,
            AsyncCompileMode(pool, ignore_errors=True),
        ):
            for configuration in configurations:
                # As Triton's benchmark calls it (Autotuner._bench; `kwargs` holds the launch's grid), compiled only.
                current = {**kwargs, **configuration.all_kwargs(), "warmup": True}
                if configuration.pre_hook is not None:
                    with lane.current().shared("an autotuner configuration's pre-hook"):
                        configuration.pre_hook({**autotuner.nargs, **current})
                autotuner.fn.run(*args, **current)
                submitted += 1
    except Exception as error:  # noqa: BLE001 - an optimisation: the first pass compiles whatever is left
        batching.parallel_off = f"{type(error).__name__}: {error}"[:300]
    batching.compiled_at_once += submitted
    batching.compile_threads = max(batching.compile_threads, threads)
    return submitted


def _batched_run(original_run: Callable[..., Any], autotuner: Any, args: tuple, kwargs: dict) -> Any:
    """Autotuner.run, with a key's benchmarks in one exclusive hold: first every pruned configuration compiled and
    run once (`_compile_once`, shared), then Triton's own run (which benchmarks and launches) in the exclusive hold,
    over the configurations that compiled. A key this function computes unlike Triton turns batching off for the
    process (`batching.off`): each configuration then takes its own hold, as without batching."""
    try:
        key = tuning_key(autotuner, args, kwargs) if not batching.off else None
        if key is not None and not (hasattr(autotuner, "_bench") and hasattr(autotuner, "prune_configs")):
            batching.off = "this Triton's Autotuner has no _bench or prune_configs"
            key = None
    except (AttributeError, KeyError, TypeError) as error:
        batching.off = f"tuning key not computed: {type(error).__name__}: {error}"
        key = None
    if key is None or key in autotuner.cache:
        return original_run(autotuner, *args, **kwargs)
    autotuner.nargs = dict(zip(autotuner.arg_names, args, strict=False))
    configurations = autotuner.prune_configs(kwargs)
    compile_in_parallel(autotuner, args, kwargs, configurations)
    compiled = []
    batching.precompiling = True
    try:
        for configuration in configurations:
            # Triton's _bench: hooks, the launch, and a configuration that does not compile answered with inf.
            if autotuner._bench(*args, config=configuration, **kwargs)[0] != float("inf"):
                compiled.append(configuration)
    finally:
        batching.precompiling = False
    batching.configurations += len(compiled)
    batching.failed += len(configurations) - len(compiled)
    if compiled and len(compiled) < len(configurations):
        # A configuration that failed to compile would compile again, and fail, inside the exclusive hold.
        autotuner.prune_configs = lambda _kwargs: list(compiled)
    try:
        with lane.current().exclusive("autotuning"):
            batching.holding = True
            result = original_run(autotuner, *args, **kwargs)
    finally:
        batching.holding = False
        autotuner.__dict__.pop("prune_configs", None)
    if key in autotuner.cache:
        batching.keys += 1
    else:
        batching.off = f"the tuning key differs from Triton's (computed {key!r})"
    return result

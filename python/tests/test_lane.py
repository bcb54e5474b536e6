"""The GPU lane (lane.py): real flock(2) locks between real processes, on the CPU."""

from __future__ import annotations

import multiprocessing
import os
import time
from pathlib import Path

from tritonize_worker import lane
from tritonize_worker.lane import EXCLUSIVE, SHARED, Lane, LaneSpec

CONTEXT = multiprocessing.get_context("fork")


def make_spec(tmp_path: Path, status: str = "") -> LaneSpec:
    lock, gate = tmp_path / "gpu.lock", tmp_path / "gpu.gate"
    lock.touch()
    gate.touch()
    return LaneSpec(0, str(lock), str(gate), status)


def hold(spec: LaneSpec, kind: str, seconds: float, log, started=None) -> None:
    held = Lane(spec)
    with held.shared() if kind == SHARED else held.exclusive():
        log.put((kind, "in", time.monotonic()))
        if started is not None:
            started.set()
        time.sleep(seconds)
        log.put((kind, "out", time.monotonic()))


def intervals(log, count: int) -> dict[str, list[tuple[float, float]]]:
    events = sorted((log.get(timeout=10) for _ in range(count)), key=lambda e: e[2])
    spans: dict[str, list[tuple[float, float]]] = {SHARED: [], EXCLUSIVE: []}
    opened: dict[str, list[float]] = {SHARED: [], EXCLUSIVE: []}
    for kind, edge, at in events:
        if edge == "in":
            opened[kind].append(at)
        else:
            spans[kind].append((opened[kind].pop(0), at))
    return spans


def overlaps(a: tuple[float, float], b: tuple[float, float]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def test_shared_holders_overlap_and_an_exclusive_one_overlaps_none(tmp_path):
    spec = make_spec(tmp_path)
    log = CONTEXT.Queue()
    both = []
    for _ in range(2):
        started = CONTEXT.Event()
        both.append(CONTEXT.Process(target=hold, args=(spec, SHARED, 0.6, log, started)))
        both[-1].start()
        assert started.wait(10)
    writer = CONTEXT.Process(target=hold, args=(spec, EXCLUSIVE, 0.3, log))
    writer.start()
    for process in [*both, writer]:
        process.join(20)
        assert process.exitcode == 0
    spans = intervals(log, 6)
    [exclusive] = spans[EXCLUSIVE]
    assert overlaps(*spans[SHARED])  # two shared holders at once
    assert not any(overlaps(exclusive, shared) for shared in spans[SHARED])


def test_a_waiting_exclusive_holder_goes_before_later_shared_ones(tmp_path):
    """The gate: once an exclusive holder waits, a shared one that comes later waits behind it."""
    spec = make_spec(tmp_path)
    log = CONTEXT.Queue()
    started = CONTEXT.Event()
    first = CONTEXT.Process(target=hold, args=(spec, SHARED, 0.8, log, started))
    first.start()
    started.wait(10)
    writer = CONTEXT.Process(target=hold, args=(spec, EXCLUSIVE, 0.3, log))
    writer.start()
    time.sleep(0.3)  # the writer now waits for `first`
    late = CONTEXT.Process(target=hold, args=(spec, SHARED, 0.1, log))
    late.start()
    for process in (first, writer, late):
        process.join(20)
        assert process.exitcode == 0
    spans = intervals(log, 6)
    [exclusive] = spans[EXCLUSIVE]
    late_span = max(spans[SHARED], key=lambda span: span[0])
    assert late_span[0] >= exclusive[1]


def _die_holding(spec: LaneSpec) -> None:
    held = Lane(spec)
    with held.exclusive():
        os._exit(3)  # no release: the kernel drops the lock with the process


def test_a_process_that_dies_holding_the_lane_releases_it(tmp_path):
    spec = make_spec(tmp_path)
    dead = CONTEXT.Process(target=_die_holding, args=(spec,))
    dead.start()
    dead.join(10)
    assert dead.exitcode == 3
    after = Lane(spec)
    started = time.monotonic()
    with after.exclusive():
        pass
    assert time.monotonic() - started < 1.0


def test_holds_nest_and_an_exclusive_inside_a_shared_one_is_recorded_apart(tmp_path):
    status = tmp_path / "status"
    held = Lane(make_spec(tmp_path, str(status)))
    with held.shared("check 64x64"):
        assert status.read_text() == "shared check 64x64\n"
        time.sleep(0.02)
        with held.exclusive("autotuning"):
            assert status.read_text() == "exclusive autotuning\n"
            with held.shared("inner"):  # part of the exclusive hold
                assert status.read_text() == "exclusive autotuning\n"
            time.sleep(0.02)
        assert status.read_text() == "shared check 64x64\n"
        time.sleep(0.02)
    assert status.read_text() == "\n"
    record = held.record()
    assert [kind for kind, _, _ in record["holds"]] == [SHARED, EXCLUSIVE, SHARED]
    assert record["exclusive_s"] >= 0.02 and record["shared_s"] >= 0.04
    starts = [start for _, start, _ in record["holds"]]
    assert starts == sorted(starts)


def test_without_a_lane_every_hold_is_free_and_still_recorded():
    free = lane.configure(None)
    with free.exclusive("timing"):
        pass
    assert lane.current() is free
    assert [kind for kind, _, _ in free.record()["holds"]] == [EXCLUSIVE]


def _take_exclusive_after(spec: LaneSpec, started, log) -> None:
    started.wait(10)
    held = Lane(spec)
    with held.exclusive():
        log.put(("exclusive", time.monotonic()))
        # Held well past lane.MERGE_GAP_S: the suspended job's two shared holds must not merge into one record.
        time.sleep(20 * lane.MERGE_GAP_S)


def test_a_suspended_shared_hold_lets_another_job_time_and_is_taken_back(tmp_path):
    """A compile gives the shared hold up (suspend), and takes it back (resume) before its kernel runs."""
    spec = make_spec(tmp_path)
    log = CONTEXT.Queue()
    started = CONTEXT.Event()
    writer = CONTEXT.Process(target=_take_exclusive_after, args=(spec, started, log))
    writer.start()
    held = Lane(spec)
    with held.shared("check"):
        held.suspend()  # a compile begins
        started.set()
        kind, at = log.get(timeout=10)  # the other job timed while this one compiled
        held.resume()
        resumed = time.monotonic()
        assert held._held == SHARED
    writer.join(10)
    assert kind == "exclusive" and at < resumed
    assert [kind for kind, _, _ in held.record()["holds"]] == [SHARED, SHARED]


def test_an_exclusive_hold_is_never_suspended(tmp_path):
    held = Lane(make_spec(tmp_path))
    with held.exclusive("timing"):
        held.suspend()
        assert held._held == EXCLUSIVE
        held.resume()
    assert len(held.record()["holds"]) == 1


def test_a_compile_hook_set_before_still_runs_and_undo_restores_it():
    from triton import knobs

    seen = []
    knobs.runtime.jit_cache_hook = lambda **kwargs: seen.append("before") or None
    try:
        undo = lane.release_while_compiling()
        assert knobs.runtime.jit_cache_hook(key="k") is None and seen == ["before"]
        undo()
        assert knobs.runtime.jit_cache_hook(key="k") is None and seen == ["before", "before"]
    finally:
        knobs.runtime.jit_cache_hook = None


def test_the_compile_hooks_also_tell_the_watchdog_when_a_compile_starts_and_ends():
    from triton import knobs

    seen = []
    undo = lane.release_while_compiling((lambda: seen.append("started"), lambda: seen.append("ended")))
    try:
        knobs.runtime.jit_cache_hook(key="k")
        knobs.runtime.jit_post_compile_hook(key="k")
    finally:
        undo()
    assert seen == ["started", "ended"]

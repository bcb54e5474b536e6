"""The pure part of the timing: splitting the profile at the flush kernels; the flush kernel itself, and the kernel
that puts back the inputs a backward consumed."""

from collections import Counter

import pytest
import torch

from tritonize_worker.timing import (
    FLUSH_KERNEL,
    RESTORE_KERNEL,
    CallProfile,
    DeviceActivity,
    device_activities,
    launches_per_call,
    median_us_by_kernel,
    profile_activities,
    split_at_flushes,
)


def flush(start: float) -> DeviceActivity:
    return DeviceActivity(FLUSH_KERNEL, start, start + 90.0)


def test_each_call_gets_the_activities_between_its_flush_and_the_next():
    activities = [
        flush(0.0),
        DeviceActivity("softmax_kernel", 100.0, 112.0),
        flush(200.0),
        DeviceActivity("softmax_kernel", 300.0, 311.5),
        flush(400.0),
        DeviceActivity("Memset (Device)", 495.0, 496.0),
        DeviceActivity("softmax_kernel", 500.0, 513.0),
        DeviceActivity("Memcpy DtoD (Device -> Device)", 520.0, 522.0),
    ]

    profiles = split_at_flushes(activities, calls=3)

    assert [p.kernel_us for p in profiles] == [12.0, 11.5, 16.0]
    assert profiles[2].launches == {"softmax_kernel": 1, "Memset (Device)": 1, "Memcpy DtoD (Device -> Device)": 1}


def test_each_kernel_gets_its_median_time_per_call():
    activities = [
        flush(0.0),
        DeviceActivity("reduce", 10.0, 14.0),
        DeviceActivity("reduce", 20.0, 22.0),  # two launches in one call: 6 us in all
        DeviceActivity("finish", 30.0, 31.0),
        flush(100.0),
        DeviceActivity("reduce", 110.0, 117.0),
        DeviceActivity("finish", 120.0, 122.0),
        flush(200.0),
        DeviceActivity("reduce", 210.0, 215.0),  # "finish" not launched in this call: 0 us
    ]

    profiles = split_at_flushes(activities, calls=3)

    assert median_us_by_kernel(profiles) == {"finish": 1.0, "reduce": 6.0}
    assert [p.kernel_us for p in profiles] == [7.0, 9.0, 5.0]


def test_activities_are_sorted_by_start_before_the_split():
    activities = [
        DeviceActivity("k", 300.0, 301.0),
        flush(200.0),
        DeviceActivity("k", 100.0, 102.0),
        flush(0.0),
    ]

    assert [p.kernel_us for p in split_at_flushes(activities, calls=2)] == [2.0, 1.0]


def test_overlapping_activities_on_other_streams_count_in_full():
    activities = [flush(0.0), DeviceActivity("a", 100.0, 110.0), DeviceActivity("b", 105.0, 115.0)]

    assert split_at_flushes(activities, calls=1)[0].kernel_us == 20.0


def test_synchronisation_records_are_not_work():
    activities = [flush(0.0), DeviceActivity("k", 100.0, 101.0), DeviceActivity("Context Sync", 101.0, 900.0)]

    assert split_at_flushes(activities, calls=1)[0].kernel_us == 1.0


def test_a_call_without_device_work_takes_zero():
    profiles = split_at_flushes([flush(0.0), flush(100.0), DeviceActivity("k", 200.0, 203.0)], calls=2)

    assert [p.kernel_us for p in profiles] == [0.0, 3.0]


def test_the_number_of_flushes_must_be_the_number_of_calls():
    with pytest.raises(ValueError, match="holds 2 tritonize_l2_flush kernels, expected 3"):
        split_at_flushes([flush(0.0), flush(100.0)], calls=3)


def test_activities_before_the_first_flush_are_refused():
    with pytest.raises(ValueError, match="1 device activities precede the first tritonize_l2_flush kernel: stray"):
        split_at_flushes([DeviceActivity("stray", 0.0, 1.0), flush(10.0)], calls=1)


def test_the_restoring_of_consumed_inputs_is_in_no_call():
    # Before each flush, the reset puts back what the previous backward overwrote (restore.py): before the first
    # flush it is no stray activity, and after a call it is not that call's work.
    def restore(start: float) -> DeviceActivity:
        return DeviceActivity(RESTORE_KERNEL, start, start + 40.0)

    activities = [
        restore(0.0), restore(50.0), flush(100.0), DeviceActivity("geglu_bwd", 200.0, 230.0),
        restore(300.0), DeviceActivity(RESTORE_KERNEL + "_0d1d", 350.0, 390.0), flush(400.0),
        DeviceActivity("geglu_bwd", 500.0, 531.0), DeviceActivity("Memcpy DtoD (Device -> Device)", 540.0, 545.0),
    ]

    profiles = split_at_flushes(activities, calls=2)

    assert [p.kernel_us for p in profiles] == [30.0, 36.0]  # the call's own copy stays in its time
    assert [sorted(p.launches) for p in profiles] == [["geglu_bwd"], ["Memcpy DtoD (Device -> Device)", "geglu_bwd"]]


def test_flush_name_with_a_mangled_suffix_is_a_flush():
    profiles = split_at_flushes([DeviceActivity(FLUSH_KERNEL + "_0d1d", 0.0, 1.0)], calls=1)

    assert len(profiles) == 1


def test_launches_per_call_is_an_integer_when_steady_and_the_mean_otherwise():
    profiles = [
        CallProfile(1.0, Counter(k=1, reduce=2)),
        CallProfile(1.0, Counter(k=1)),
        CallProfile(1.0, Counter(k=1)),
    ]

    assert launches_per_call(profiles) == {"k": 1, "reduce": 0.667}
    assert isinstance(launches_per_call(profiles)["k"], int)


@pytest.mark.filterwarnings("ignore:Warning. Profiler clears events")
def test_device_activities_read_the_profilers_events():
    # On the CPU the profiler's own CPU events stand in for the CUDA ones: same FunctionEvent attributes.
    from torch.autograd import DeviceType
    from torch.profiler import ProfilerActivity, profile

    buffer, x = torch.empty(1024), torch.randn(64, 64)
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(3):
            buffer.zero_()
            torch.mm(x, x)

    activities = device_activities(prof.events(), DeviceType.CPU)
    profiles = split_at_flushes(activities, calls=3, flush_name="aten::zero_")

    assert all(a.end_us >= a.start_us for a in activities)
    assert [p.launches["aten::mm"] for p in profiles] == [1, 1, 1]
    assert all(p.kernel_us > 0 for p in profiles)
    assert device_activities(prof.events(), DeviceType.CUDA) == []


@pytest.mark.filterwarnings("ignore:Warning. Profiler clears events")
def test_profile_activities_from_the_raw_results_are_torchs_event_list():
    # The timed batches read the profiler's raw results (no FunctionEvent per event); the same events, names and
    # times as torch's own list, here with the CPU events standing in for the device's.
    from torch.autograd import DeviceType
    from torch.profiler import ProfilerActivity, profile

    x = torch.randn(64, 64)
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(5):
            torch.mm(x, x).softmax(-1)

    raw = profile_activities(prof, DeviceType.CPU)
    assert len(raw) >= 10
    assert raw == device_activities(prof.events(), DeviceType.CPU)
    assert profile_activities(prof, DeviceType.CUDA) == []


def test_profile_activities_fall_back_to_the_event_list_without_raw_results():
    from torch.autograd import DeviceType

    class Event:
        name, device_type, is_user_annotation = "k", DeviceType.CUDA, False

        class time_range:
            start, end = 1.0, 3.5

    class Session:
        profiler = None

        def events(self):
            return [Event()]

    assert profile_activities(Session(), DeviceType.CUDA) == [DeviceActivity("k", 1.0, 3.5)]


def test_l2_flush_kernel_in_write_mode_writes_the_whole_buffer():
    from tritonize_worker.l2_flush import FLUSH_BLOCK, L2Flush, tritonize_l2_flush

    flush_buffer = L2Flush(4 * (FLUSH_BLOCK + 5), "cpu", mode="write")  # a partial last block
    flush_buffer.buffer.fill_(7)
    flush_buffer()

    assert flush_buffer.buffer.numel() == FLUSH_BLOCK + 5
    assert int(flush_buffer.buffer.abs().sum()) == 0
    assert tritonize_l2_flush.__name__ == FLUSH_KERNEL  # the name the profile is split at


def test_l2_flush_kernel_in_read_mode_reads_every_word_and_writes_none():
    from tritonize_worker.l2_flush import FLUSH_BLOCK, L2Flush

    flush_buffer = L2Flush(4 * (FLUSH_BLOCK + 5), "cpu")  # read is the default
    flush_buffer.buffer.fill_(3)
    flush_buffer()

    assert flush_buffer.mode == "read"
    assert int(flush_buffer.buffer.sum()) == 3 * (FLUSH_BLOCK + 5)  # untouched
    assert flush_buffer.sums.tolist() == [3 * FLUSH_BLOCK, 3 * 5]  # every word was loaded, the mask held


def test_restore_puts_back_each_kept_tensor_bytewise_without_a_new_autograd_version():
    from tritonize_worker.restore import RESTORE_BLOCK, Restore, tritonize_restore

    a = torch.randn(RESTORE_BLOCK // 2 + 3, dtype=torch.float16)  # a partial last block of bytes
    b = torch.tensor([True, False, True])
    empty = torch.empty(0, dtype=torch.float32)
    kept = [a.clone(), b.clone(), empty.clone()]
    leaf = a.requires_grad_()
    versions = leaf._version
    restore = Restore([leaf, b, empty], kept)
    leaf.data.zero_()
    b.fill_(False)
    versions_after_write = leaf._version

    restore()

    assert torch.equal(leaf.detach(), kept[0]) and torch.equal(b, kept[1])
    assert leaf._version == versions_after_write  # the version the graph saved is the one it finds
    assert versions_after_write == versions  # (a write through .data makes none either)
    assert tritonize_restore.__name__ == RESTORE_KERNEL  # the name the profile leaves out


def test_restore_refuses_what_it_cannot_put_back_bytewise():
    from tritonize_worker.restore import Restore

    wide = torch.zeros(4, 6)
    with pytest.raises(ValueError, match=r"input 0 is not contiguous \(strides \(1, 6\)\)"):
        Restore([wide.t()], [wide.t().clone()])
    with pytest.raises(ValueError, match=r"input 0: kept as torch.float16\(4, 6\), is torch.float32\(4, 6\)"):
        Restore([wide], [wide.half()])
    with pytest.raises(ValueError, match="2 tensors to restore, 1 kept"):
        Restore([wide, wide], [wide])


def test_l2_flush_refuses_an_unknown_mode():
    from tritonize_worker.l2_flush import L2Flush

    with pytest.raises(ValueError, match="flush mode 'erase'"):
        L2Flush(1024, "cpu", mode="erase")


def test_a_low_sm_clock_is_below_three_quarters_of_the_maximum():
    from tritonize_worker.timing import clock_is_low

    assert clock_is_low({"sm_clock_mhz": 1400, "sm_clock_max_mhz": 1980})
    assert not clock_is_low({"sm_clock_mhz": 1485, "sm_clock_max_mhz": 1980})
    assert not clock_is_low({"sm_clock_mhz": None, "sm_clock_max_mhz": 1980})
    assert not clock_is_low(None)


def test_each_exclusive_hold_is_bounded_by_its_warm_ups_pace_not_by_every_calls_timeout():
    from types import SimpleNamespace

    from tritonize_worker.protocol import Guards, TimingPlan
    from tritonize_worker.timing import HANG_FACTOR, hold_limits

    plan = TimingPlan(True, ("4096",), warmup_calls=10, calls=50, timeout_s=10.0, host_calls=50, host_rounds=5)
    request = SimpleNamespace(timing=plan, guards=Guards(call_s=60.0))
    first, second = hold_limits(request, per_call_s=0.001)
    # The first pass: 250 host-timed and 50 event-timed calls at 20 times 1 ms, beside the call timeout.
    assert first == 60.0 + HANG_FACTOR * 0.001 * 300
    # The second: two sampling attempts, each its 10 s timeout twice over and one batch of 50 calls past it.
    assert second == 60.0 + 2 * (2 * 10.0 + HANG_FACTOR * 0.001 * 50)
    assert hold_limits(SimpleNamespace(timing=plan, guards=Guards()), 0.001) == (0.0, 0.0)


def test_a_jobs_timing_takes_one_exclusive_hold_a_pass_and_each_stretch_is_inside_it(monkeypatch):
    """Every size and mode is prepared first, then timed in one exclusive hold per pass (host and event figures, then
    kernel times): a hold is granted only once every other job's shared holder has finished its call, and one per
    size, mode and pass made the layernorm jobs wait about 70 s of a 140 s main job (H100, 2026-12-05)."""
    import torch
    from conftest import TASKS_DIR, make_request

    from tritonize_worker import lane, timing
    from tritonize_worker.lane import EXCLUSIVE, SHARED
    from tritonize_worker.protocol import parse_request

    raw = make_request("layernorm", TASKS_DIR / "layernorm" / "baseline.py", name="baseline")
    raw.update(device="cuda", interpret=False)
    raw["timing"] = {"enabled": True, "sizes": ["37x93", "64x128"], "warmup_calls": 3, "calls": 30, "flush_bytes": 1024}
    raw["guards"] = {"run_seed": 0, "import_s": 60, "compile_s": 60, "call_s": 60}
    request = parse_request(raw)
    gpu = lane.configure(None)
    seen: list[tuple[str, str, str]] = []  # (what, size and mode, the hold held then)
    exclusive, entered = gpu.exclusive, []

    def counting(what):
        entered.append(what)
        return exclusive(what)

    def noting(name, value):
        def fake(*args, **kwargs):
            where = next((arg for arg in args if isinstance(arg, str) and arg.startswith("timing the")), "")
            seen.append((name, where.removeprefix("timing the "), gpu._held))
            return value
        return fake

    monkeypatch.setattr(gpu, "exclusive", counting)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(timing, "fresh_allocator", lambda: {})
    monkeypatch.setattr(timing, "first_calls", {})  # the process's checks made no first call (other tests may have)
    monkeypatch.setattr(timing, "_prepare_call", noting("prepare", (lambda: None, lambda: None, [])))
    monkeypatch.setattr(timing, "_first_call", noting("first call", 0.1))
    monkeypatch.setattr(timing, "_warm_up", noting("warm-up", 1e-3))
    monkeypatch.setattr(timing, "_host_timed_calls", noting("host", [5.0]))
    monkeypatch.setattr(timing, "_event_timed_calls", noting("events", [7.0]))
    monkeypatch.setattr(timing, "_warm_up_profiler", noting("profiler start", None))
    monkeypatch.setattr(timing, "_kernel_times", noting("kernel times", {"kernel_us": [6.0]}))
    monkeypatch.setattr(timing, "tuned_configs", noting("tuned", {}))
    records: list[dict] = []
    watched: list[tuple[str, str]] = []  # each deadline the watchdog was given, and the hold held then
    try:
        timing.run_timings(lambda *args: None, request, records, flush=lambda: None,
                           watch=lambda limit_s, what: watched.append((what, gpu._held)),
                           first_calls_made=noting("wrappers off", None))
    finally:
        lane.configure(None)

    cells = [f"{mode} mode at size {size}" for size in ("37x93", "64x128") for mode in ("forward", "backward")]
    assert entered == ["timing 4 sizes and modes", "kernel times of 4 sizes and modes"]
    assert [what for what, _, _ in seen] == (
        ["prepare", "first call"] * 4 + ["wrappers off"] + ["warm-up", "host", "events"] * 4 + ["profiler start"]
        + ["warm-up", "kernel times"] * 4 + ["tuned"] * 4
    )
    assert [cell for what, cell, _ in seen if what == "host"] == cells
    assert [cell for what, cell, _ in seen if what == "kernel times"] == cells
    held = {what: {hold for name, _, hold in seen if name == what} for what, _, _ in seen}
    assert held["warm-up"] == held["host"] == held["events"] == held["kernel times"] == {EXCLUSIVE}
    assert held["first call"] == held["tuned"] == {SHARED}
    # The autotuners' wrappers come off after the last first call (which tunes a key in one hold with them on), before
    # the first hold (whose host times they would be in).
    assert held["prepare"] == held["profiler start"] == held["wrappers off"] == {""}
    # Each size and mode's stretch of a hold begins with its own warm-up, under its own deadline.
    assert [what for what, hold in watched if what.startswith("warming up") and hold == EXCLUSIVE] == (
        [f"warming up for timing the {cell}" for cell in cells]
        + [f"warming up for the kernel times of timing the {cell}" for cell in cells]
    )
    assert [(r["size"], r["mode"], r["host_us"], r["call_us"], r["kernel_us"]) for r in records] == [
        (size, mode, [5.0], [7.0], [6.0]) for size in ("37x93", "64x128") for mode in ("forward", "backward")
    ]

"""The measurement method's pure parts: environment snapshots, the request's method fields, calibration sums."""

import pytest

from tritonize_worker.calibrate import per_call_us
from tritonize_worker.env import SNAPSHOT_FIELDS, parse_snapshot
from tritonize_worker.protocol import RequestError, TimingPlan, parse_request


def test_snapshot_names_every_figure_and_reads_the_throttle_bits():
    row = ["1980", "1980", "2619", "2619", "123.40", "36", "0x0000000000000004"]
    snapshot = parse_snapshot(row)
    assert len(row) == len(SNAPSHOT_FIELDS)
    assert snapshot == {
        "sm_clock_mhz": 1980,
        "sm_clock_max_mhz": 1980,
        "mem_clock_mhz": 2619,
        "mem_clock_max_mhz": 2619,
        "power_w": 123.4,
        "temperature_c": 36,
        "throttle_reasons": "0x4",
        "throttled": True,  # 0x4: software power cap
    }


def test_idle_is_not_a_throttle_and_unreadable_cells_are_none():
    assert parse_snapshot(["405", "1980", "2619", "2619", "96.5", "32", "0x1"])["throttled"] is False
    snapshot = parse_snapshot(["[N/A]", "1980", "2619", "2619", "[N/A]", "32", "[N/A]"])
    assert snapshot["sm_clock_mhz"] is None and snapshot["power_w"] is None and snapshot["throttled"] is None


def timing_request(request_for, **method):
    raw = request_for("softmax", "/dev/null")
    raw.update(device="cuda", interpret=False)
    raw["timing"] = {"enabled": True, "sizes": ["64x64"], "warmup_calls": 1, "calls": 30, "flush_bytes": 1024}
    raw["timing"].update(method)
    return raw


def test_method_fields_default_to_the_documented_values(request_for):
    timing = parse_request(timing_request(request_for)).timing
    defaults = TimingPlan(True)
    assert (timing.flush_mode, timing.max_calls, timing.max_median_rse) == ("read", 1000, 0.0025)
    assert (timing.min_gpu_ms, timing.timeout_s, timing.host_calls) == (defaults.min_gpu_ms, 10.0, 50)


def test_method_fields_are_validated_together(request_for):
    raw = timing_request(request_for, flush_mode="erase", max_calls=0, timeout_s=-1)
    with pytest.raises(RequestError) as error:
        parse_request(raw)
    problems = "\n".join(error.value.problems)
    assert "timing.flush_mode: expected 'read' or 'write', got 'erase'" in problems
    assert "timing.max_calls: must be >= 1, got 0" in problems
    assert "timing.timeout_s: must be >= 0, got -1" in problems


def test_a_call_with_two_kernels_counts_both():
    # cuBLAS can launch a GEMM and a split-K reduction per call: 20 calls, 40 activities.
    assert per_call_us([700.0, 15.0] * 20, calls=20) == pytest.approx(715.0)

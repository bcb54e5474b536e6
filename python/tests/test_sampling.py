"""Adaptive sampling's stopping rule: pure functions, no GPU."""

import math

import pytest

from tritonize_worker.sampling import (
    STOP_CONVERGED,
    STOP_MAX_CALLS,
    STOP_TIMEOUT,
    SamplingPlan,
    median_rse,
    next_batch,
    quantile,
    rel_iqr,
    stop_reason,
)

PLAN = SamplingPlan(batch_calls=50, min_calls=50, max_calls=400, min_gpu_ms=1.0, max_median_rse=0.005, timeout_s=5)


def test_quantile_interpolates_like_numpy():
    assert quantile([1.0, 2.0, 3.0, 4.0], 0.25) == pytest.approx(1.75)
    assert quantile([1.0, 2.0, 3.0, 4.0], 0.5) == pytest.approx(2.5)
    assert math.isnan(quantile([], 0.5))


def test_rel_iqr_is_the_spread_over_the_median():
    assert rel_iqr([9.0, 10.0, 10.0, 11.0, 10.0]) == pytest.approx(0.0)
    assert rel_iqr([8.0, 9.0, 10.0, 11.0, 12.0]) == pytest.approx(2.0 / 10.0)
    assert rel_iqr([5.0]) == math.inf


def test_the_median_gets_more_precise_with_more_samples():
    few = [8.0, 9.0, 10.0, 11.0, 12.0] * 10
    many = few * 16
    assert median_rse(many) == pytest.approx(median_rse(few) / 4)


def test_steady_samples_with_enough_gpu_time_converge():
    samples = [20.0, 20.1, 19.9, 20.0] * 13  # 52 calls, 1.04 ms
    assert stop_reason(samples, elapsed_s=0.1, plan=PLAN) == STOP_CONVERGED


def test_steady_but_short_kernels_keep_sampling_until_the_gpu_time_is_reached():
    samples = [4.0, 4.01, 3.99, 4.0] * 13  # 52 calls, 0.2 ms of GPU time
    assert stop_reason(samples, elapsed_s=0.1, plan=PLAN) is None
    assert stop_reason(samples * 5, elapsed_s=0.1, plan=PLAN) == STOP_CONVERGED


def test_noisy_samples_run_to_the_call_limit_or_the_timeout():
    noisy = [10.0, 20.0, 30.0, 40.0] * 13
    assert stop_reason(noisy, elapsed_s=0.1, plan=PLAN) is None
    assert stop_reason(noisy, elapsed_s=6.0, plan=PLAN) == STOP_TIMEOUT
    assert stop_reason(noisy * 8, elapsed_s=0.1, plan=PLAN) == STOP_MAX_CALLS


def test_batches_reach_min_calls_and_never_pass_max_calls():
    plan = SamplingPlan(batch_calls=30, min_calls=50, max_calls=100)
    assert next_batch(0, plan) == 50
    assert next_batch(50, plan) == 30
    assert next_batch(90, plan) == 10

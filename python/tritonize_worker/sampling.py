"""Adaptive sampling: when to stop taking batches of timed calls (docs/measurement.md).

In the spirit of nvbench's stdrel criterion: keep sampling until at least `min_calls` samples and `min_gpu_ms` of
measured GPU time are in hand AND the median is known precisely enough, or until `max_calls` or `timeout_s`.
The noise of the samples is IQR / median (robust to the rare preempted call, unlike a standard deviation). The
precision of the median is its estimated relative standard error, sqrt(pi / 2) * sigma / sqrt(n) with sigma
estimated as IQR / 1.349 (normal approximation), i.e. about 0.93 * rel_iqr / sqrt(n). Pure functions only.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

# sqrt(pi / 2) / 1.349: the median's standard error per unit of IQR, times sqrt(n).
MEDIAN_SE_PER_IQR = math.sqrt(math.pi / 2) / 1.349

STOP_CONVERGED = "converged"
STOP_MAX_CALLS = "max_calls"
STOP_TIMEOUT = "timeout"


@dataclass(frozen=True)
class SamplingPlan:
    batch_calls: int = 50
    min_calls: int = 50
    max_calls: int = 1000
    min_gpu_ms: float = 1.0
    max_median_rse: float = 0.0025  # 0.25 % relative standard error of the median
    timeout_s: float = 10.0


def quantile(sorted_values: Sequence[float], q: float) -> float:
    """Linear interpolation between order statistics (numpy's default), as src/stats does."""
    if not sorted_values:
        return math.nan
    position = q * (len(sorted_values) - 1)
    low = math.floor(position)
    high = min(low + 1, len(sorted_values) - 1)
    return sorted_values[low] + (position - low) * (sorted_values[high] - sorted_values[low])


def rel_iqr(values: Sequence[float]) -> float:
    """IQR / median; inf for fewer than 2 values or a non-positive median."""
    ordered = sorted(values)
    median = quantile(ordered, 0.5)
    if len(ordered) < 2 or not median > 0:
        return math.inf
    return (quantile(ordered, 0.75) - quantile(ordered, 0.25)) / median


def median_rse(values: Sequence[float]) -> float:
    """Estimated relative standard error of the median of `values`."""
    if len(values) < 2:
        return math.inf
    return MEDIAN_SE_PER_IQR * rel_iqr(values) / math.sqrt(len(values))


def stop_reason(values: Sequence[float], elapsed_s: float, plan: SamplingPlan) -> str | None:
    """Why sampling stops after these samples (in microseconds), or None to take another batch."""
    n = len(values)
    if n >= plan.min_calls and sum(values) / 1000.0 >= plan.min_gpu_ms and median_rse(values) <= plan.max_median_rse:
        return STOP_CONVERGED
    if n >= plan.max_calls:
        return STOP_MAX_CALLS
    if elapsed_s >= plan.timeout_s:
        return STOP_TIMEOUT
    return None


def next_batch(taken: int, plan: SamplingPlan) -> int:
    """Calls in the next batch: a full batch, never past max_calls, and enough to reach min_calls."""
    wanted = max(plan.batch_calls, plan.min_calls - taken)
    return max(1, min(wanted, plan.max_calls - taken))

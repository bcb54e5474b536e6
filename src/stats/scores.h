#pragma once

#include <optional>
#include <vector>

#include "stats/stats.h"

namespace tritonize {

/// The q-quantile of the standard normal distribution, q in (0, 1); NaN outside. Exact to
/// about 1e-12: bisection on the CDF, 0.5 * erfc(-x / sqrt(2)).
double NormalQuantile(double q);

/// One candidate as fast_p sees it: whether it passed every check, and its speedup over the
/// reference (nullopt: not timed, or no reference).
struct SpeedupOutcome {
  bool correct = false;
  std::optional<double> speedup;
};

/// fast_p (KernelBench): the share of outcomes that are correct with a speedup >= p; a
/// correct candidate without a speedup counts as not fast. NaN for no outcome.
double FastP(const std::vector<SpeedupOutcome>& outcomes, double p);

/// The geometric mean of ratios with an interval. Each ratio's interval is read as a normal
/// interval on the log scale, se_i = (log hi - log lo) / (2 z), z the normal quantile of
/// (1 + confidence) / 2, and the ratios as independent: exp(mean log point +- z sqrt(sum
/// se_i^2) / n). An interval that is not finite and positive makes lo and hi NaN; no ratio
/// at all makes every figure NaN. It carries the measurement noise each interval carries,
/// nothing more (docs/reports.md).
RatioCi GeomeanInterval(const std::vector<RatioCi>& ratios, double confidence);

}  // namespace tritonize

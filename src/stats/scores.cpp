#include "stats/scores.h"

#include <cmath>
#include <limits>

namespace tritonize {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

bool PositiveFinite(double v) { return v > 0 && std::isfinite(v); }

}  // namespace

double NormalQuantile(double q) {
  if (!(q > 0 && q < 1)) return kNaN;
  double lo = -40, hi = 40;
  for (int i = 0; i < 200 && hi - lo > 1e-13; ++i) {
    const double mid = 0.5 * (lo + hi);
    (0.5 * std::erfc(-mid / std::sqrt(2.0)) < q ? lo : hi) = mid;
  }
  return 0.5 * (lo + hi);
}

double FastP(const std::vector<SpeedupOutcome>& outcomes, double p) {
  if (outcomes.empty()) return kNaN;
  size_t fast = 0;
  for (const SpeedupOutcome& o : outcomes) {
    if (o.correct && o.speedup && *o.speedup >= p) ++fast;
  }
  return static_cast<double>(fast) / static_cast<double>(outcomes.size());
}

RatioCi GeomeanInterval(const std::vector<RatioCi>& ratios, double confidence) {
  RatioCi out{kNaN, kNaN, kNaN};
  if (ratios.empty()) return out;
  const double z = NormalQuantile((1 + confidence) / 2);
  const double n = static_cast<double>(ratios.size());
  double log_sum = 0, variance = 0;
  bool intervals = true;
  for (const RatioCi& r : ratios) {
    if (!PositiveFinite(r.point)) return out;
    log_sum += std::log(r.point);
    if (!PositiveFinite(r.lo) || !PositiveFinite(r.hi) || r.hi < r.lo) {
      intervals = false;
      continue;
    }
    const double se = (std::log(r.hi) - std::log(r.lo)) / (2 * z);
    variance += se * se;
  }
  const double log_mean = log_sum / n;
  out.point = std::exp(log_mean);
  if (intervals && std::isfinite(z)) {
    const double half = z * std::sqrt(variance) / n;
    out.lo = std::exp(log_mean - half);
    out.hi = std::exp(log_mean + half);
  }
  return out;
}

}  // namespace tritonize

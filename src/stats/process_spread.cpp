#include "stats/process_spread.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace tritonize {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// The continued fraction of the regularized incomplete beta function I_x(a, b), evaluated by
// the modified Lentz method; converges fast for x < (a + 1) / (a + b + 2).
double BetaContinuedFraction(double a, double b, double x) {
  constexpr double kTiny = 1e-300;
  constexpr double kEpsilon = 1e-15;
  double c = 1.0;
  double d = 1.0 - (a + b) * x / (a + 1.0);
  d = 1.0 / (std::fabs(d) < kTiny ? kTiny : d);
  double h = d;
  for (int m = 1; m <= 500; ++m) {
    const double m2 = 2.0 * m;
    for (const double coefficient : {m * (b - m) * x / ((a + m2 - 1.0) * (a + m2)),
                                     -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1.0))}) {
      d = 1.0 + coefficient * d;
      d = 1.0 / (std::fabs(d) < kTiny ? kTiny : d);
      c = 1.0 + coefficient / c;
      if (std::fabs(c) < kTiny) c = kTiny;
      h *= d * c;
    }
    if (std::fabs(d * c - 1.0) < kEpsilon) break;
  }
  return h;
}

double RegularizedBeta(double a, double b, double x) {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const double front = std::exp(std::lgamma(a + b) - std::lgamma(a) - std::lgamma(b) +
                                a * std::log(x) + b * std::log1p(-x));
  if (x < (a + 1.0) / (a + b + 2.0)) return front * BetaContinuedFraction(a, b, x) / a;
  return 1.0 - front * BetaContinuedFraction(b, a, 1.0 - x) / b;
}

double StudentTCdf(double t, double df) {
  const double tail = 0.5 * RegularizedBeta(df / 2.0, 0.5, df / (df + t * t));
  return t >= 0 ? 1.0 - tail : tail;
}

}  // namespace

ProcessSpread PooledProcessSpread(const std::vector<SampleGroups>& cells) {
  double sum_squares = 0;
  ProcessSpread spread;
  for (const SampleGroups& cell : cells) {
    std::vector<double> logs;
    for (const auto& group : cell) {
      if (group.empty()) continue;
      const double median = Median(group);
      if (!(median > 0) || !std::isfinite(median)) {
        logs.clear();
        break;
      }
      logs.push_back(std::log(median));
    }
    if (logs.size() < 2) continue;
    double mean = 0;
    for (double v : logs) mean += v;
    mean /= static_cast<double>(logs.size());
    for (double v : logs) sum_squares += (v - mean) * (v - mean);
    spread.df += static_cast<int>(logs.size()) - 1;
    ++spread.cells;
  }
  if (spread.df > 0) spread.log_variance = sum_squares / spread.df;
  return spread;
}

double StudentTQuantile(double q, double df) {
  if (!(q > 0 && q < 1) || !(df > 0)) return kNaN;
  if (q == 0.5) return 0;
  // The CDF is increasing: bisect between bounds that hold for df >= 1e-3 and q far from 0, 1.
  double lo = -1e6, hi = 1e6;
  for (int i = 0; i < 200 && hi - lo > 1e-12 * std::max(1.0, std::fabs(lo)); ++i) {
    const double mid = 0.5 * (lo + hi);
    (StudentTCdf(mid, df) < q ? lo : hi) = mid;
  }
  return 0.5 * (lo + hi);
}

RatioCi WidenByProcessSpread(const RatioCi& ci, const ProcessSpread& spread, size_t num_processes,
                             size_t den_processes, double confidence) {
  if (spread.df <= 0 || num_processes == 0 || den_processes == 0 || !std::isfinite(ci.point) ||
      !(ci.point > 0)) {
    return ci;
  }
  const double t = StudentTQuantile((1 + confidence) / 2, spread.df);
  const double half =
      t * std::sqrt(spread.log_variance * (1.0 / static_cast<double>(num_processes) +
                                           1.0 / static_cast<double>(den_processes)));
  RatioCi widened = ci;
  widened.lo = std::min(ci.lo, ci.point * std::exp(-half));
  widened.hi = std::max(ci.hi, ci.point * std::exp(half));
  return widened;
}

}  // namespace tritonize

#include "stats/stats.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <utility>

namespace tritonize {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// numpy's "linear" method: h = (n - 1) q, interpolate between x[floor(h)] and x[floor(h) + 1].
double SortedQuantile(const std::vector<double>& sorted, double q) {
  if (sorted.empty() || !(q >= 0 && q <= 1)) {
    return kNaN;
  }
  const double h = static_cast<double>(sorted.size() - 1) * q;
  const auto lo = static_cast<size_t>(std::floor(h));
  if (lo + 1 >= sorted.size()) {
    return sorted.back();
  }
  const double frac = h - static_cast<double>(lo);
  return sorted[lo] + frac * (sorted[lo + 1] - sorted[lo]);
}

double SortedMedian(const std::vector<double>& sorted) { return SortedQuantile(sorted, 0.5); }

// Fills *out with a resample of `from`. `rng() % n` rather than uniform_int_distribution,
// whose algorithm differs between standard libraries; the modulo bias is below n / 2^64.
void Resample(const std::vector<double>& from, std::mt19937_64* rng, std::vector<double>* out) {
  out->resize(from.size());
  for (double& v : *out) {
    v = from[(*rng)() % from.size()];
  }
  std::sort(out->begin(), out->end());
}

}  // namespace

Summary Summarize(std::vector<double> values) {
  Summary s;
  s.n = values.size();
  if (values.empty()) {
    s.median = s.q1 = s.q3 = s.iqr = s.min = s.max = s.rel_iqr = kNaN;
    return s;
  }
  std::sort(values.begin(), values.end());
  s.median = SortedMedian(values);
  s.q1 = SortedQuantile(values, 0.25);
  s.q3 = SortedQuantile(values, 0.75);
  s.iqr = s.q3 - s.q1;
  s.min = values.front();
  s.max = values.back();
  s.rel_iqr = s.median != 0 ? s.iqr / s.median : kNaN;
  return s;
}

double Quantile(std::vector<double> values, double q) {
  std::sort(values.begin(), values.end());
  return SortedQuantile(values, q);
}

double Median(std::vector<double> values) { return Quantile(std::move(values), 0.5); }

std::optional<double> GeometricMean(const std::vector<double>& values) {
  if (values.empty()) {
    return std::nullopt;
  }
  double log_sum = 0;
  for (double v : values) {
    if (!(v > 0) || !std::isfinite(v)) {
      return std::nullopt;
    }
    log_sum += std::log(v);
  }
  return std::exp(log_sum / static_cast<double>(values.size()));
}

RatioCi BootstrapRatioCi(const std::vector<double>& num, const std::vector<double>& den,
                         int iterations, uint64_t seed, double confidence) {
  if (num.empty() || den.empty()) {
    return {kNaN, kNaN, kNaN};
  }
  RatioCi ci;
  ci.point = Median(num) / Median(den);
  if (iterations <= 0) {
    ci.lo = ci.hi = ci.point;
    return ci;
  }
  std::mt19937_64 rng(seed);
  std::vector<double> ratios;
  ratios.reserve(static_cast<size_t>(iterations));
  std::vector<double> num_draw, den_draw;
  for (int i = 0; i < iterations; ++i) {
    Resample(num, &rng, &num_draw);
    Resample(den, &rng, &den_draw);
    ratios.push_back(SortedMedian(num_draw) / SortedMedian(den_draw));
  }
  std::sort(ratios.begin(), ratios.end());
  ci.lo = SortedQuantile(ratios, (1 - confidence) / 2);
  ci.hi = SortedQuantile(ratios, (1 + confidence) / 2);
  return ci;
}

size_t NonEmptyGroups(const SampleGroups& groups) {
  return static_cast<size_t>(std::count_if(groups.begin(), groups.end(),
                                           [](const auto& group) { return !group.empty(); }));
}

std::vector<double> Pool(const SampleGroups& groups) {
  std::vector<double> pooled;
  for (const auto& group : groups) pooled.insert(pooled.end(), group.begin(), group.end());
  return pooled;
}

namespace {

SampleGroups NonEmpty(const SampleGroups& groups) {
  SampleGroups kept;
  for (const auto& group : groups) {
    if (!group.empty()) kept.push_back(group);
  }
  return kept;
}

// One two-level resample's median: processes with replacement, then calls within each.
// nth_element keeps it linear: the bootstrap runs over every row of every table.
double HierarchicalDrawMedian(const SampleGroups& groups, std::mt19937_64* rng,
                              std::vector<double>* pooled) {
  pooled->clear();
  for (size_t g = 0; g < groups.size(); ++g) {
    const auto& group = groups[(*rng)() % groups.size()];
    for (size_t i = 0; i < group.size(); ++i) pooled->push_back(group[(*rng)() % group.size()]);
  }
  const size_t n = pooled->size();
  const size_t lo = (n - 1) / 2;
  std::nth_element(pooled->begin(), pooled->begin() + static_cast<std::ptrdiff_t>(lo),
                   pooled->end());
  const double low = (*pooled)[lo];
  if (n % 2 == 1) return low;
  const double high = *std::min_element(pooled->begin() + static_cast<std::ptrdiff_t>(lo) + 1,
                                        pooled->end());
  return (low + high) / 2;
}

}  // namespace

RatioCi HierarchicalBootstrapRatioCi(const SampleGroups& num, const SampleGroups& den,
                                     int iterations, uint64_t seed, double confidence) {
  const SampleGroups n = NonEmpty(num), d = NonEmpty(den);
  if (n.empty() || d.empty()) {
    return {kNaN, kNaN, kNaN};
  }
  RatioCi ci;
  ci.point = Median(Pool(n)) / Median(Pool(d));
  if (iterations <= 0) {
    ci.lo = ci.hi = ci.point;
    return ci;
  }
  std::mt19937_64 rng(seed);
  std::vector<double> ratios, scratch;
  ratios.reserve(static_cast<size_t>(iterations));
  for (int i = 0; i < iterations; ++i) {
    const double top = HierarchicalDrawMedian(n, &rng, &scratch);
    ratios.push_back(top / HierarchicalDrawMedian(d, &rng, &scratch));
  }
  std::sort(ratios.begin(), ratios.end());
  ci.lo = SortedQuantile(ratios, (1 - confidence) / 2);
  ci.hi = SortedQuantile(ratios, (1 + confidence) / 2);
  return ci;
}

Verdict VerdictOf(const RatioCi& ci) {
  if (ci.lo > 1.0) return Verdict::kWin;
  if (ci.hi < 1.0) return Verdict::kLoss;
  return Verdict::kTie;
}

double PassAtK(int n, int c, int k) {
  if (n < 0 || c < 0 || c > n || k < 1 || k > n) {
    return kNaN;
  }
  if (n - c < k) {
    return 1.0;  // every draw of k contains a passing sample
  }
  // C(n-c, k) / C(n, k) = prod_{i = n-c+1}^{n} (1 - k / i)
  double fail_all = 1.0;
  for (int i = n - c + 1; i <= n; ++i) {
    fail_all *= 1.0 - static_cast<double>(k) / i;
  }
  return 1.0 - fail_all;
}

}  // namespace tritonize

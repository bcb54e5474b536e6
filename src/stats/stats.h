#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace tritonize {

/// Five-number summary of a sample set. Quantiles interpolate linearly between order
/// statistics, as numpy's default (`method="linear"`). For an empty input n is 0 and every
/// figure is NaN.
struct Summary {
  size_t n = 0;
  double median = 0;
  double q1 = 0;
  double q3 = 0;
  double iqr = 0;  // q3 - q1
  double min = 0;
  double max = 0;
  double rel_iqr = 0;  // iqr / median: the spread as a fraction of the typical value
};

Summary Summarize(std::vector<double> values);

/// The q-quantile, q in [0, 1]; NaN for an empty input or q outside [0, 1].
double Quantile(std::vector<double> values, double q);
double Median(std::vector<double> values);

/// exp(mean(log x)); nullopt when empty or when a value is not a positive finite number,
/// since a geometric mean of speedups is only meaningful over positive ratios.
std::optional<double> GeometricMean(const std::vector<double>& values);

/// A ratio of medians with a percentile-bootstrap confidence interval.
struct RatioCi {
  double point = 0;  // median(num) / median(den)
  double lo = 0;
  double hi = 0;
};

/// Resamples num and den independently, with replacement, `iterations` times and takes the
/// (1 - confidence) / 2 and (1 + confidence) / 2 quantiles of the resampled ratios.
/// Deterministic for a given seed (std::mt19937_64) on every platform. NaN everywhere when
/// either set is empty; lo = hi = point when iterations <= 0.
RatioCi BootstrapRatioCi(const std::vector<double>& num, const std::vector<double>& den,
                         int iterations, uint64_t seed, double confidence);

/// Samples grouped by the process that measured them: one vector per fresh process.
using SampleGroups = std::vector<std::vector<double>>;

/// How many groups hold at least one sample: the processes that measured something.
size_t NonEmptyGroups(const SampleGroups& groups);

/// All groups' samples in one vector.
std::vector<double> Pool(const SampleGroups& groups);

/// The ratio of pooled medians, median(num) / median(den), with a two-level (hierarchical)
/// percentile-bootstrap interval: each iteration draws as many processes as there are, with
/// replacement, then each drawn process's calls with replacement, and takes the pooled
/// median. Resampling the processes carries the between-process variance (clocks, placement,
/// autotuning choices) into the interval; with one process per side it is the per-call
/// bootstrap, which sees only within-process noise. Empty groups are ignored; NaN everywhere
/// when a side has no samples. Deterministic for a given seed.
RatioCi HierarchicalBootstrapRatioCi(const SampleGroups& num, const SampleGroups& den,
                                     int iterations, uint64_t seed, double confidence);

/// What an interval says about a speedup: a clear win (the whole interval above 1.0), a
/// clear loss (below 1.0) or a tie (it contains 1.0).
enum class Verdict { kWin, kLoss, kTie };
Verdict VerdictOf(const RatioCi& ci);

/// Unbiased pass@k estimator (Chen et al. 2021): 1 - C(n-c, k) / C(n, k) for n samples of
/// which c pass, computed as a product so large n does not overflow. NaN unless
/// 0 <= c <= n and 1 <= k <= n.
double PassAtK(int n, int c, int k);

}  // namespace tritonize

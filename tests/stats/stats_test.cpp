#include "stats/stats.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace tritonize {
namespace {

// Expected quantiles are numpy's defaults, worked by hand: h = (n - 1) q, then interpolate.
const std::vector<double> kEight = {3, 1, 4, 1, 5, 9, 2, 6};  // sorted: 1 1 2 3 4 5 6 9

TEST(StatsTest, MedianOfOddCount) { EXPECT_DOUBLE_EQ(Median({5, 1, 3}), 3.0); }

TEST(StatsTest, MedianOfEvenCount) { EXPECT_DOUBLE_EQ(Median(kEight), 3.5); }

TEST(StatsTest, MedianOfEmptyIsNaN) { EXPECT_TRUE(std::isnan(Median({}))); }

TEST(StatsTest, QuantileInterpolatesLikeNumpy) {
  EXPECT_DOUBLE_EQ(Quantile(kEight, 0.25), 1.75);  // h = 1.75
  EXPECT_DOUBLE_EQ(Quantile(kEight, 0.75), 5.25);  // h = 5.25
  EXPECT_DOUBLE_EQ(Quantile(kEight, 0.9), 6.9);    // h = 6.3: 6 + 0.3 * 3
  EXPECT_DOUBLE_EQ(Quantile({10, 20, 30, 40, 50}, 0.33), 23.2);
  EXPECT_DOUBLE_EQ(Quantile({1, 2, 3, 4}, 0.25), 1.75);
}

TEST(StatsTest, QuantileEndpointsAreMinAndMax) {
  EXPECT_DOUBLE_EQ(Quantile(kEight, 0.0), 1.0);
  EXPECT_DOUBLE_EQ(Quantile(kEight, 1.0), 9.0);
  EXPECT_DOUBLE_EQ(Quantile({7}, 0.3), 7.0);
}

TEST(StatsTest, QuantileOutsideUnitIntervalIsNaN) {
  EXPECT_TRUE(std::isnan(Quantile(kEight, -0.1)));
  EXPECT_TRUE(std::isnan(Quantile(kEight, 1.5)));
}

TEST(StatsTest, SummarizeGivesAllFigures) {
  const Summary s = Summarize(kEight);
  EXPECT_EQ(s.n, 8u);
  EXPECT_DOUBLE_EQ(s.median, 3.5);
  EXPECT_DOUBLE_EQ(s.q1, 1.75);
  EXPECT_DOUBLE_EQ(s.q3, 5.25);
  EXPECT_DOUBLE_EQ(s.iqr, 3.5);
  EXPECT_DOUBLE_EQ(s.min, 1.0);
  EXPECT_DOUBLE_EQ(s.max, 9.0);
  EXPECT_DOUBLE_EQ(s.rel_iqr, 1.0);
}

TEST(StatsTest, SummarizeOfEmptyHasZeroCountAndNaNs) {
  const Summary s = Summarize({});
  EXPECT_EQ(s.n, 0u);
  EXPECT_TRUE(std::isnan(s.median));
  EXPECT_TRUE(std::isnan(s.q1));
  EXPECT_TRUE(std::isnan(s.max));
}

TEST(StatsTest, GeometricMeanOfPowersOfTwo) {
  const auto g = GeometricMean({1, 2, 4, 8});
  ASSERT_TRUE(g.has_value());
  EXPECT_NEAR(*g, std::sqrt(8.0), 1e-12);
}

TEST(StatsTest, GeometricMeanOfReciprocalsIsOne) {
  const auto g = GeometricMean({0.5, 2.0, 4.0, 0.25});
  ASSERT_TRUE(g.has_value());
  EXPECT_NEAR(*g, 1.0, 1e-12);
}

TEST(StatsTest, GeometricMeanRejectsEmptyAndNonPositive) {
  EXPECT_FALSE(GeometricMean({}).has_value());
  EXPECT_FALSE(GeometricMean({1.0, 0.0}).has_value());
  EXPECT_FALSE(GeometricMean({1.0, -2.0}).has_value());
  EXPECT_FALSE(GeometricMean({1.0, NAN}).has_value());
}

TEST(StatsTest, BootstrapPointIsRatioOfMedians) {
  const RatioCi ci = BootstrapRatioCi({10, 12, 11}, {5, 6, 4, 7}, 200, 1, 0.95);
  EXPECT_DOUBLE_EQ(ci.point, 11.0 / 5.5);
  EXPECT_LE(ci.lo, ci.point);
  EXPECT_GE(ci.hi, ci.point);
  EXPECT_LT(ci.lo, ci.hi);
}

TEST(StatsTest, BootstrapIsDeterministicForASeed) {
  const std::vector<double> num = {10, 12, 11, 13, 9, 30};
  const std::vector<double> den = {5, 6, 4, 7, 5.5};
  const RatioCi a = BootstrapRatioCi(num, den, 500, 42, 0.95);
  const RatioCi b = BootstrapRatioCi(num, den, 500, 42, 0.95);
  EXPECT_EQ(a.lo, b.lo);
  EXPECT_EQ(a.hi, b.hi);
  // Another seed draws other resamples; over 500 iterations the bounds almost surely move.
  const RatioCi c = BootstrapRatioCi(num, den, 500, 43, 0.95);
  EXPECT_TRUE(a.lo != c.lo || a.hi != c.hi);
}

TEST(StatsTest, BootstrapOfConstantSamplesHasZeroWidth) {
  const RatioCi ci = BootstrapRatioCi({6, 6, 6}, {3, 3}, 100, 7, 0.9);
  EXPECT_DOUBLE_EQ(ci.point, 2.0);
  EXPECT_DOUBLE_EQ(ci.lo, 2.0);
  EXPECT_DOUBLE_EQ(ci.hi, 2.0);
}

TEST(StatsTest, BootstrapIntervalStaysWithinResampleRange) {
  // Every resampled median lies within [min, max] of its set, so the ratio lies within
  // [min(num) / max(den), max(num) / min(den)] = [9 / 7, 13 / 4].
  const RatioCi ci = BootstrapRatioCi({10, 12, 11, 13, 9}, {5, 6, 4, 7}, 1000, 3, 0.99);
  EXPECT_GE(ci.lo, 9.0 / 7.0);
  EXPECT_LE(ci.hi, 13.0 / 4.0);
}

TEST(StatsTest, BootstrapOfEmptySetIsNaN) {
  const RatioCi ci = BootstrapRatioCi({}, {1, 2}, 100, 1, 0.95);
  EXPECT_TRUE(std::isnan(ci.point));
  EXPECT_TRUE(std::isnan(ci.lo));
}

TEST(StatsTest, PassAtKKnownValues) {
  EXPECT_DOUBLE_EQ(PassAtK(10, 0, 1), 0.0);
  EXPECT_DOUBLE_EQ(PassAtK(10, 10, 1), 1.0);
  EXPECT_NEAR(PassAtK(10, 3, 1), 0.3, 1e-12);
  EXPECT_NEAR(PassAtK(5, 2, 2), 0.7, 1e-12);  // 1 - C(3,2)/C(5,2) = 1 - 3/10
  EXPECT_DOUBLE_EQ(PassAtK(5, 3, 3), 1.0);    // n - c < k: every draw has a pass
}

TEST(StatsTest, PassAtKLargeNDoesNotOverflow) {
  // 1 - C(190, 10) / C(200, 10); C(200, 10) alone is about 2.2e16.
  double expected_fail = 1.0;
  for (int i = 0; i < 10; ++i) expected_fail *= (190.0 - i) / (200.0 - i);
  EXPECT_NEAR(PassAtK(200, 10, 10), 1.0 - expected_fail, 1e-12);
}

TEST(StatsTest, PassAtKRejectsInvalidArguments) {
  EXPECT_TRUE(std::isnan(PassAtK(5, 6, 1)));
  EXPECT_TRUE(std::isnan(PassAtK(5, 1, 0)));
  EXPECT_TRUE(std::isnan(PassAtK(5, 1, 6)));
  EXPECT_TRUE(std::isnan(PassAtK(5, -1, 1)));
}

}  // namespace
}  // namespace tritonize

namespace tritonize {
namespace {

TEST(StatsTest, HierarchicalBootstrapPointIsTheRatioOfPooledMedians) {
  const SampleGroups num = {{10, 10, 10}, {12, 12, 12}};
  const SampleGroups den = {{5, 5, 5}};
  const RatioCi ci = HierarchicalBootstrapRatioCi(num, den, 500, 7, 0.95);
  EXPECT_DOUBLE_EQ(ci.point, 11.0 / 5.0);  // pooled median of 10,10,10,12,12,12
  // Between-process spread shows in the interval even though each process is noise-free.
  EXPECT_DOUBLE_EQ(ci.lo, 2.0);
  EXPECT_DOUBLE_EQ(ci.hi, 2.4);
}

TEST(StatsTest, HierarchicalBootstrapWithOneProcessIsThePerCallBootstrap) {
  const std::vector<double> num = {10, 11, 12, 13, 14, 15, 16};
  const std::vector<double> den = {10, 10.5, 11, 11.5, 12};
  const RatioCi ci = HierarchicalBootstrapRatioCi({num}, {den}, 2000, 3, 0.95);
  const RatioCi flat = BootstrapRatioCi(num, den, 2000, 3, 0.95);
  EXPECT_DOUBLE_EQ(ci.point, flat.point);
  EXPECT_NEAR(ci.lo, flat.lo, 0.1);
  EXPECT_NEAR(ci.hi, flat.hi, 0.1);
  EXPECT_LT(ci.lo, ci.point);
  EXPECT_GT(ci.hi, ci.point);
}

TEST(StatsTest, HierarchicalBootstrapIgnoresEmptyGroupsAndNeedsSamples) {
  const RatioCi ci = HierarchicalBootstrapRatioCi({{4, 4}, {}}, {{2}}, 100, 1, 0.95);
  EXPECT_DOUBLE_EQ(ci.point, 2.0);
  EXPECT_DOUBLE_EQ(ci.lo, 2.0);
  EXPECT_TRUE(std::isnan(HierarchicalBootstrapRatioCi({{}}, {{2}}, 100, 1, 0.95).point));
}

TEST(StatsTest, VerdictIsATieWhenTheIntervalContainsOne) {
  EXPECT_EQ(VerdictOf({1.1, 1.02, 1.2}), Verdict::kWin);
  EXPECT_EQ(VerdictOf({0.9, 0.85, 0.98}), Verdict::kLoss);
  EXPECT_EQ(VerdictOf({1.01, 0.99, 1.03}), Verdict::kTie);
  EXPECT_EQ(VerdictOf({std::nan(""), std::nan(""), std::nan("")}), Verdict::kTie);
}

}  // namespace
}  // namespace tritonize

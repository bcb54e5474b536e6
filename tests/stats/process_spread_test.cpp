#include "stats/process_spread.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace tritonize {
namespace {

// Reference values from R's qt(), to the printed digits.
TEST(StudentTQuantileTest, MatchesTables) {
  EXPECT_NEAR(StudentTQuantile(0.975, 1), 12.7062047, 1e-6);
  EXPECT_NEAR(StudentTQuantile(0.975, 2), 4.30265273, 1e-7);
  EXPECT_NEAR(StudentTQuantile(0.975, 10), 2.22813885, 1e-7);
  EXPECT_NEAR(StudentTQuantile(0.975, 48), 2.01063476, 1e-7);
  EXPECT_NEAR(StudentTQuantile(0.95, 5), 2.01504837, 1e-7);
  EXPECT_NEAR(StudentTQuantile(0.975, 1e7), 1.95996398, 1e-6);  // the normal's
}

TEST(StudentTQuantileTest, IsSymmetricAndZeroAtTheMiddle) {
  EXPECT_NEAR(StudentTQuantile(0.025, 7), -StudentTQuantile(0.975, 7), 1e-9);
  EXPECT_EQ(StudentTQuantile(0.5, 3), 0.0);
}

TEST(StudentTQuantileTest, OutsideItsDomainIsNaN) {
  EXPECT_TRUE(std::isnan(StudentTQuantile(0.0, 5)));
  EXPECT_TRUE(std::isnan(StudentTQuantile(1.0, 5)));
  EXPECT_TRUE(std::isnan(StudentTQuantile(0.9, 0)));
}

TEST(PooledProcessSpreadTest, PoolsLogDeviationsOverCells) {
  const double up = std::exp(0.01), down = std::exp(-0.01);
  const std::vector<SampleGroups> cells = {
      {{up, up, up}, {down, down}},  // logs +-0.01: 2e-4 of squares, 1 df
      {{5, 5}, {5}, {5, 5, 5}},      // no spread, 2 df
      {{7, 8, 9}},                   // one process: nothing
      {{3}, {}},                     // one non-empty process: nothing
  };
  const ProcessSpread spread = PooledProcessSpread(cells);
  EXPECT_EQ(spread.df, 3);
  EXPECT_EQ(spread.cells, 2);
  EXPECT_NEAR(spread.log_variance, 2e-4 / 3, 1e-12);
}

TEST(PooledProcessSpreadTest, UsesEachProcesssMedian) {
  // Process medians 10 and 20, whatever their outliers: logs differ by log 2.
  const ProcessSpread spread = PooledProcessSpread({{{9, 10, 1000}, {1, 20, 21}}});
  EXPECT_NEAR(spread.log_variance, std::pow(std::log(2.0), 2) / 2, 1e-12);
}

TEST(PooledProcessSpreadTest, NothingToPoolHasNoDegreesOfFreedom) {
  EXPECT_EQ(PooledProcessSpread({}).df, 0);
  EXPECT_EQ(PooledProcessSpread({{{1, 2, 3}}}).df, 0);
  EXPECT_EQ(PooledProcessSpread({{{0}, {1}}}).df, 0);  // a zero median has no log
}

ProcessSpread Spread(double log_variance, int df) {
  ProcessSpread spread;
  spread.log_variance = log_variance;
  spread.df = df;
  return spread;
}

TEST(WidenByProcessSpreadTest, NarrowIntervalBecomesTheTInterval) {
  const ProcessSpread spread = Spread(0.01 * 0.01, 48);
  const RatioCi narrow{1.5, 1.49, 1.51};
  const RatioCi wide = WidenByProcessSpread(narrow, spread, 2, 2, 0.95);
  // half = t(0.975, 48) * 0.01 * sqrt(1/2 + 1/2)
  const double half = 2.01063476 * 0.01;
  EXPECT_DOUBLE_EQ(wide.point, 1.5);
  EXPECT_NEAR(wide.lo, 1.5 * std::exp(-half), 1e-9);
  EXPECT_NEAR(wide.hi, 1.5 * std::exp(half), 1e-9);
}

TEST(WidenByProcessSpreadTest, NeverNarrowsAnInterval) {
  const ProcessSpread spread = Spread(1e-6, 10);
  const RatioCi ci{2.0, 1.0, 4.0};
  const RatioCi same = WidenByProcessSpread(ci, spread, 3, 3, 0.95);
  EXPECT_DOUBLE_EQ(same.lo, 1.0);
  EXPECT_DOUBLE_EQ(same.hi, 4.0);
}

TEST(WidenByProcessSpreadTest, MoreProcessesGiveANarrowerBound) {
  const ProcessSpread spread = Spread(0.02 * 0.02, 20);
  const RatioCi point{1.0, 1.0, 1.0};
  const RatioCi two = WidenByProcessSpread(point, spread, 2, 2, 0.95);
  const RatioCi five = WidenByProcessSpread(point, spread, 5, 5, 0.95);
  EXPECT_LT(five.hi, two.hi);
  EXPECT_GT(five.lo, two.lo);
}

TEST(WidenByProcessSpreadTest, NoDegreesOfFreedomLeavesItAlone) {
  const RatioCi ci{1.2, 1.19, 1.21};
  const RatioCi same = WidenByProcessSpread(ci, ProcessSpread{}, 2, 2, 0.95);
  EXPECT_DOUBLE_EQ(same.lo, 1.19);
  EXPECT_DOUBLE_EQ(same.hi, 1.21);
}

}  // namespace
}  // namespace tritonize

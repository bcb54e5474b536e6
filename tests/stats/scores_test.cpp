#include "stats/scores.h"

#include <gtest/gtest.h>

#include <cmath>

namespace tritonize {
namespace {

TEST(ScoresTest, NormalQuantileMatchesTables) {
  EXPECT_NEAR(NormalQuantile(0.975), 1.959963985, 1e-8);
  EXPECT_NEAR(NormalQuantile(0.5), 0.0, 1e-12);
  EXPECT_NEAR(NormalQuantile(0.05), -1.644853627, 1e-8);
  EXPECT_TRUE(std::isnan(NormalQuantile(0)));
  EXPECT_TRUE(std::isnan(NormalQuantile(1.2)));
}

TEST(ScoresTest, FastPCountsOnlyCorrectAndFastEnough) {
  const std::vector<SpeedupOutcome> outcomes = {
      {true, 2.5}, {true, 1.0}, {true, 0.99}, {false, 3.0}, {true, std::nullopt}};
  EXPECT_DOUBLE_EQ(FastP(outcomes, 1.0), 2.0 / 5);  // 1.0 counts: >= p
  EXPECT_DOUBLE_EQ(FastP(outcomes, 2.0), 1.0 / 5);  // the wrong 3.0x never counts
  EXPECT_DOUBLE_EQ(FastP(outcomes, 0.0), 3.0 / 5);  // untimed is never fast
  EXPECT_TRUE(std::isnan(FastP({}, 1.0)));
}

TEST(ScoresTest, GeomeanIntervalOfOneRatioIsItsOwn) {
  const RatioCi r = GeomeanInterval({{1.2, 1.1, 1.3}}, 0.95);
  EXPECT_NEAR(r.point, 1.2, 1e-12);
  // One ratio: the log-symmetric interval about its point with the same log width.
  const double half = (std::log(1.3) - std::log(1.1)) / 2;
  EXPECT_NEAR(r.lo, 1.2 * std::exp(-half), 1e-9);
  EXPECT_NEAR(r.hi, 1.2 * std::exp(half), 1e-9);
}

TEST(ScoresTest, GeomeanIntervalNarrowsAsIndependentCellsAdd) {
  // Four cells of equal log width w: the mean's half width is w / sqrt(4).
  const RatioCi one = {2.0, 2.0 / 1.1, 2.0 * 1.1};
  const RatioCi r =
      GeomeanInterval({one, one, {0.5, 0.5 / 1.1, 0.5 * 1.1}, {1, 1 / 1.1, 1.1}}, 0.95);
  EXPECT_NEAR(r.point, std::pow(2.0 * 2.0 * 0.5 * 1.0, 0.25), 1e-12);
  EXPECT_NEAR(std::log(r.hi / r.point), std::log(1.1) / 2, 1e-9);
  EXPECT_NEAR(std::log(r.point / r.lo), std::log(1.1) / 2, 1e-9);
}

TEST(ScoresTest, GeomeanIntervalWithoutIntervalsHasAPointOnly) {
  const RatioCi r = GeomeanInterval({{1.5, NAN, NAN}, {1.5, 1.4, 1.6}}, 0.95);
  EXPECT_NEAR(r.point, 1.5, 1e-12);
  EXPECT_TRUE(std::isnan(r.lo));
  EXPECT_TRUE(std::isnan(r.hi));
  EXPECT_TRUE(std::isnan(GeomeanInterval({}, 0.95).point));
  EXPECT_TRUE(std::isnan(GeomeanInterval({{-1, 0.5, 2}}, 0.95).point));
}

}  // namespace
}  // namespace tritonize

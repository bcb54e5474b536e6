#include "report/sample_metrics.h"

#include <gtest/gtest.h>

#include <cmath>

namespace tritonize {
namespace {

SampleTurn Turn(int sample, int turn, bool correct, std::optional<double> vs_base = std::nullopt,
                std::optional<double> vs_expert = std::nullopt, double cost = 0.01) {
  SampleTurn t;
  t.sample = sample;
  t.turn = turn;
  t.correct = correct;
  t.speedup_vs_baseline = vs_base;
  t.speedup_vs_expert = vs_expert;
  t.tokens_in = 1000;
  t.tokens_out = 500;
  t.cost_usd = cost;
  return t;
}

TEST(SampleMetricsTest, FinalTurnDecidesAndTurnOneIsTheOneShot) {
  // Sample 0 wrong then fixed; sample 1 right at once and 2.5x; sample 2 wrong twice.
  std::vector<SampleTurn> turns = {Turn(0, 1, false),          Turn(0, 2, true, 1.5, 0.9),
                                   Turn(1, 1, true, 2.5, 1.2), Turn(1, 2, true, 2.5, 1.1),
                                   Turn(2, 1, false),          Turn(2, 2, false)};
  SampleMetrics m = ComputeSampleMetrics("model", "softmax", turns, true);
  EXPECT_EQ(m.samples, 3);
  EXPECT_EQ(m.max_turns, 2);
  EXPECT_EQ(m.correct, 2);
  EXPECT_DOUBLE_EQ(m.pass_at_1, 2.0 / 3);
  EXPECT_DOUBLE_EQ(m.pass_at_n, 1.0);
  EXPECT_DOUBLE_EQ(*m.fast_1, 2.0 / 3);
  EXPECT_DOUBLE_EQ(*m.fast_2, 1.0 / 3);
  EXPECT_DOUBLE_EQ(*m.at_least_expert, 1.0 / 3);
  EXPECT_DOUBLE_EQ(*m.best_llm_over_expert, 1.1);  // final turn of sample 1
  EXPECT_EQ(m.oneshot_correct, 1);
  EXPECT_DOUBLE_EQ(m.oneshot_pass_at_n, 1.0);
  EXPECT_EQ(m.tokens_in, 6000);
  EXPECT_NEAR(*m.cost_usd, 0.06, 1e-12);
  EXPECT_NEAR(*m.cost_per_correct, 0.03, 1e-12);
}

TEST(SampleMetricsTest, InterpretRunsHaveNoFastP) {
  SampleMetrics m = ComputeSampleMetrics("m", "t", {Turn(0, 1, true), Turn(1, 1, false)}, false);
  EXPECT_FALSE(m.fast_1.has_value());
  EXPECT_FALSE(m.at_least_expert.has_value());
  EXPECT_DOUBLE_EQ(m.pass_at_1, 0.5);
}

TEST(SampleMetricsTest, UnknownCostIsNotZero) {
  SampleTurn t = Turn(0, 1, true);
  t.cost_usd = -1;
  t.tokens_in = -1;
  SampleMetrics m = ComputeSampleMetrics("m", "t", {t}, false);
  EXPECT_FALSE(m.cost_usd.has_value());
  EXPECT_FALSE(m.tokens_complete);
  EXPECT_TRUE(SampleMetricsToJson(m)["cost_usd"].is_null());
}

TEST(SampleMetricsTest, GeomeanSpeedupOverSharedTimedSizes) {
  JobResult base, llm;
  base.status = llm.status = Status::kOk;
  auto timing = [](const char* size, std::vector<double> kernel_us) {
    Timing t;
    t.size = size;
    t.mode = "forward";
    t.kernel_us = std::move(kernel_us);
    return t;
  };
  base.timings = {timing("a", {4, 4, 4}), timing("b", {9})};
  llm.timings = {timing("a", {1, 1, 1}), timing("b", {9})};
  EXPECT_DOUBLE_EQ(*GeomeanSpeedup(base, llm), 2.0);  // sqrt(4 * 1)
  llm.status = Status::kWrongResult;
  EXPECT_FALSE(GeomeanSpeedup(base, llm).has_value());
}

}  // namespace
}  // namespace tritonize

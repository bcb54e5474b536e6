#include "report/sample_printer.h"

#include <gtest/gtest.h>

#include <sstream>

namespace tritonize {
namespace {

TEST(SamplePrinterTest, GoldenTimedTable) {
  SampleMetrics m;
  m.model = "anthropic-test-model";
  m.task = "softmax";
  m.samples = 3;
  m.max_turns = 2;
  m.correct = 2;
  m.correct_share = 2.0 / 3;
  m.pass_at_1 = 2.0 / 3;
  m.pass_at_n = 1;
  m.fast_1 = 2.0 / 3;
  m.fast_2 = 1.0 / 3;
  m.at_least_expert = 1.0 / 3;
  m.best_llm_over_expert = 1.1;
  m.oneshot_correct = 1;
  m.oneshot_pass_at_n = 1;
  m.tokens_in = 6000;
  m.tokens_out = 3000;
  m.cost_usd = 0.0630;
  m.cost_per_correct = 0.0315;
  SampleMetrics n = m;
  n.task = "matmul";
  n.correct = 0;
  n.correct_share = n.pass_at_1 = n.pass_at_n = 0;
  n.fast_1 = n.fast_2 = n.at_least_expert = 0;
  n.best_llm_over_expert.reset();
  n.oneshot_correct = 0;
  n.oneshot_pass_at_n = 0;
  n.cost_per_correct.reset();
  std::ostringstream out;
  PrintSampleTables({m, n}, true, out);
  const std::string expected = R"(
Samples: LLM (anthropic-test-model); final turn of each sample, pass@n with n = samples
Task    | n | Turns | Correct | pass@1 | pass@n | fast_1.0 | fast_2.0 | >= Expert | Best LLM/Expert | Turn 1 correct | Turn 1 pass@n | Tokens in/out | Cost (USD) | USD/correct
--------+---+-------+---------+--------+--------+----------+----------+-----------+-----------------+----------------+---------------+---------------+------------+------------
softmax | 3 |     2 |     67% |    67% |   100% |      67% |      33% |       33% |           1.10x |            33% |          100% |     6000/3000 |     0.0630 |      0.0315
matmul  | 3 |     2 |      0% |     0% |     0% |       0% |       0% |        0% |               - |             0% |            0% |     6000/3000 |     0.0630 |           -
fast_p: correct and the geometric mean over the timed sizes and modes of baseline/LLM median kernel time >= p; >= Expert: the same against the expert >= 1.0; Best LLM/Expert: the best correct sample's geomean
)";
  EXPECT_EQ(out.str(), expected);
}

TEST(SamplePrinterTest, InterpretShowsDashesForTimedFigures) {
  SampleMetrics m;
  m.model = "x";
  m.task = "softmax";
  m.samples = 2;
  m.max_turns = 1;
  m.correct = 1;
  m.correct_share = m.pass_at_1 = 0.5;
  m.pass_at_n = 1;
  m.tokens_complete = false;
  std::ostringstream out;
  PrintSampleTables({m}, false, out);
  EXPECT_NE(out.str().find("|        - |        - |"), std::string::npos) << out.str();
  EXPECT_NE(out.str().find("--interpret"), std::string::npos);
}

}  // namespace
}  // namespace tritonize

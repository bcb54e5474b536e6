#include "report/leaderboard.h"

#include <gtest/gtest.h>

#include <cmath>
#include <sstream>

#include "golden.h"
#include "report/leaderboard_printer.h"
#include "report_fixtures.h"

namespace tritonize {
namespace {

using namespace testing_fixtures;
using testing_golden::ExpectMatchesGolden;

const Standing& TaskOf(const Leaderboard& board, const std::string& model,
                       const std::string& task) {
  for (const Standing& s : board.tasks) {
    if (s.model == model && s.task == task) return s;
  }
  ADD_FAILURE() << "no standing " << model << " " << task;
  return board.tasks.front();
}

TEST(BuildLeaderboardTest, RanksByShareAsFastAsTheExpert) {
  const Leaderboard board = BuildLeaderboard(TwoModelReport(), {});
  ASSERT_EQ(board.models.size(), 2u);
  EXPECT_EQ(board.models[0].model, "model-fast");
  EXPECT_EQ(board.models[1].model, "model-slow");
  EXPECT_EQ(board.k, 1);  // one candidate per task without samples
  ASSERT_EQ(board.tasks.size(), 4u);
  EXPECT_EQ(board.tasks[0].model, "model-fast");
}

TEST(BuildLeaderboardTest, OneCandidateTaskFiguresComeFromItsColumn) {
  const Leaderboard board = BuildLeaderboard(TwoModelReport(), {});
  const Standing& fast_layernorm = TaskOf(board, "model-fast", "layernorm");
  EXPECT_EQ(fast_layernorm.samples, 1);
  EXPECT_EQ(*fast_layernorm.pass_at_1, 1.0);
  EXPECT_EQ(*fast_layernorm.fast_1_expert, 1.0);  // geomean LLM/Expert 1.52x
  EXPECT_EQ(*fast_layernorm.fast_2_expert, 0.0);
  EXPECT_EQ(*fast_layernorm.fast_2_base, 1.0);
  EXPECT_EQ(fast_layernorm.cells, 4);
  EXPECT_EQ(fast_layernorm.cells_at_least_expert, 4);
  const Standing& slow_layernorm = TaskOf(board, "model-slow", "layernorm");
  EXPECT_EQ(*slow_layernorm.pass_at_1, 0.0);
  EXPECT_EQ(*slow_layernorm.fast_1_base, 0.0);  // a wrong candidate is never fast
  EXPECT_EQ(slow_layernorm.cells, 0);
  EXPECT_FALSE(slow_layernorm.llm_over_expert.has_value());
}

TEST(BuildLeaderboardTest, AcrossTasksMeansOfTasksAndGeomeanOfCells) {
  const Leaderboard board = BuildLeaderboard(TwoModelReport(), {});
  const Standing& slow = board.models[1];
  EXPECT_EQ(slow.tasks, 2);
  EXPECT_DOUBLE_EQ(*slow.pass_at_1, 0.5);  // softmax right, layernorm wrong
  EXPECT_DOUBLE_EQ(*slow.fast_1_expert, 0.0);
  EXPECT_EQ(slow.cells, 3);  // softmax's three; layernorm has none
  // Softmax at half the expert's speed, geomean over its three cells.
  const double expected = std::cbrt((4.1 / 8.2) * (10.5 / 21.0) * (40.5 / 81.0));
  ASSERT_TRUE(slow.llm_over_expert.has_value());
  EXPECT_NEAR(slow.llm_over_expert->point, expected, 1e-9);
  EXPECT_LT(slow.llm_over_expert->lo, slow.llm_over_expert->point);
  EXPECT_GT(slow.llm_over_expert->hi, slow.llm_over_expert->point);
  const Standing& fast = board.models[0];
  EXPECT_EQ(fast.cells, 7);
  EXPECT_EQ(fast.correct, 2);
  EXPECT_FALSE(fast.tokens.has_value());  // nothing recorded: "-", never zero
}

SampleMetrics Samples(const std::string& model, const std::string& task, int n, int correct,
                      long long tokens, double cost) {
  SampleMetrics m;
  m.model = model;
  m.task = task;
  m.samples = n;
  m.correct = correct;
  m.pass_at_1 = static_cast<double>(correct) / n;
  m.fast_1 = m.at_least_expert = static_cast<double>(correct) / n / 2;
  m.fast_2 = m.fast_2_expert = 0.0;
  m.tokens_in = tokens / 2;
  m.tokens_out = tokens - tokens / 2;
  m.cost_usd = cost;
  return m;
}

// Where a model has samples, its task figures are theirs: pass@k over n samples, tokens and
// cost per correct kernel.
TEST(BuildLeaderboardTest, SamplesGivePassAtKAndCostPerCorrectKernel) {
  const std::vector<SampleMetrics> samples = {Samples("model-fast", "softmax", 4, 2, 8000, 0.08),
                                              Samples("model-fast", "layernorm", 3, 3, 9000, 0.09),
                                              Samples("model-slow", "softmax", 5, 1, 5000, 0.05),
                                              Samples("model-slow", "layernorm", 5, 0, 5000, 0.05)};
  const Leaderboard board = BuildLeaderboard(TwoModelReport(), samples);
  EXPECT_EQ(board.k, 3);  // the smallest n
  const Standing& soft = TaskOf(board, "model-fast", "softmax");
  EXPECT_NEAR(*soft.pass_at_k, 1 - 0.0, 1e-12);  // 2 of 4 correct: any 3 hold one
  EXPECT_NEAR(*TaskOf(board, "model-slow", "softmax").pass_at_k, 3.0 / 5, 1e-12);
  EXPECT_NEAR(*soft.tokens_per_correct, 4000, 1e-9);
  EXPECT_NEAR(*soft.cost_per_correct, 0.04, 1e-12);
  const Standing& fast = board.models[0];
  EXPECT_EQ(fast.model, "model-fast");
  EXPECT_EQ(*fast.tokens, 17000);
  EXPECT_NEAR(*fast.cost_per_correct, 0.17 / 5, 1e-12);
  EXPECT_NEAR(*fast.pass_at_1, (0.5 + 1.0) / 2, 1e-12);
  // model-slow's layernorm: no correct kernel, no cost per correct one.
  EXPECT_FALSE(TaskOf(board, "model-slow", "layernorm").cost_per_correct.has_value());
}

TEST(BuildLeaderboardTest, AGivenKAboveSomeTasksNLeavesTheirPassAtKOpen) {
  const std::vector<SampleMetrics> samples = {Samples("model-fast", "softmax", 4, 2, 0, 0),
                                              Samples("model-fast", "layernorm", 2, 1, 0, 0)};
  const Leaderboard board = BuildLeaderboard(TwoModelReport(), samples, 3);
  EXPECT_TRUE(TaskOf(board, "model-fast", "softmax").pass_at_k.has_value());
  EXPECT_FALSE(TaskOf(board, "model-fast", "layernorm").pass_at_k.has_value());
  EXPECT_FALSE(board.models[0].pass_at_k.has_value());
}

std::string Printed(ReportFormat format) {
  Leaderboard board = BuildLeaderboard(TwoModelReport(), {});
  board.notes.push_back("Pooled over 1 run(s) (run 1 of results.db), GPUs not recorded.");
  std::ostringstream out;
  PrintLeaderboard(format, board, "Leaderboard of 2 model(s) over 1 run(s)", out);
  return out.str();
}

TEST(LeaderboardPrinterTest, TextGolden) {
  ExpectMatchesGolden("leaderboard.txt", Printed(ReportFormat::kText));
}
TEST(LeaderboardPrinterTest, MarkdownGolden) {
  ExpectMatchesGolden("leaderboard.md", Printed(ReportFormat::kMarkdown));
}
TEST(LeaderboardPrinterTest, CsvGolden) {
  ExpectMatchesGolden("leaderboard.csv", Printed(ReportFormat::kCsv));
}
TEST(LeaderboardPrinterTest, JsonGolden) {
  const std::string json = Printed(ReportFormat::kJson);
  ExpectMatchesGolden("leaderboard.json", json);
  EXPECT_EQ(nlohmann::json::parse(json)["models"][0]["rank"], 1);
}
TEST(LeaderboardPrinterTest, HtmlGolden) {
  ExpectMatchesGolden("leaderboard.html", Printed(ReportFormat::kHtml));
}

}  // namespace
}  // namespace tritonize

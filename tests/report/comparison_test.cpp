#include "report/comparison.h"

#include <gtest/gtest.h>

#include <cmath>
#include <sstream>

#include "golden.h"
#include "report/comparison_printer.h"
#include "report_fixtures.h"

namespace tritonize {
namespace {

using namespace testing_fixtures;
using testing_golden::ExpectMatchesGolden;

TEST(ClassifyChangeTest, OnlyAWholeIntervalBeyondTheAllowanceIsFlagged) {
  EXPECT_EQ(ClassifyChange({1.05, 1.03, 1.07}, 0.02), Change::kRegression);
  EXPECT_EQ(ClassifyChange({0.95, 0.93, 0.97}, 0.02), Change::kImprovement);
  // Beyond 1.0 but not beyond the 2% two machines can differ by: not flagged.
  EXPECT_EQ(ClassifyChange({1.02, 1.01, 1.03}, 0.02), Change::kWithinAllowance);
  EXPECT_EQ(ClassifyChange({0.985, 0.97, 0.995}, 0.02), Change::kWithinAllowance);
  EXPECT_EQ(ClassifyChange({1.05, 0.99, 1.11}, 0.02), Change::kNone);  // noisy: contains 1.0
  EXPECT_EQ(ClassifyChange({1.05, NAN, NAN}, 0.02), Change::kNone);
  EXPECT_EQ(ClassifyChange({1.03, 1.01, 1.05}, 0.0), Change::kRegression);
}

/// The one-model report with the LLM's softmax medians times `scale`.
BenchReport WithLlmScaled(double softmax_scale) {
  std::vector<double> softmax = {3.94, 10.5, 41.8};
  for (double& m : softmax) m *= softmax_scale;
  return TwoTaskReport({{"claude-x", softmax, {2.98, 6.88, 12.3, 19.6}}});
}

const CellRuns& Find(const Comparison& c, const std::string& task, const std::string& column,
                     const std::string& size) {
  for (const CellRuns& cell : c.cells) {
    if (cell.task == task && cell.column == column && cell.size == size && cell.mode == "forward") {
      return cell;
    }
  }
  ADD_FAILURE() << "no cell " << task << " " << column << " " << size;
  return c.cells.front();
}

TEST(CompareReportsTest, TheSameRunTwiceChangesNothing) {
  const BenchReport a = WithLlmScaled(1.0), b = WithLlmScaled(1.0);
  const Comparison c = CompareReports({&a, &b}, {"A", "B"}, {});
  EXPECT_EQ(c.regressions + c.improvements + c.broken + c.within, 0);
  EXPECT_EQ(c.unchanged, 28);
  EXPECT_TRUE(c.instabilities.empty()) << c.instabilities.front();
  EXPECT_GT(c.spread.df, 0);
}

TEST(CompareReportsTest, ASlowerLlmIsARegressionAndNothingElseIs) {
  const BenchReport a = WithLlmScaled(1.0), b = WithLlmScaled(1.10);
  const Comparison c = CompareReports({&a, &b}, {"A", "B"}, {});
  EXPECT_EQ(c.regressions, 3);
  const CellRuns& llm = Find(c, "softmax", "llm", "2048x2048");
  EXPECT_EQ(llm.changes[1], Change::kRegression);
  ASSERT_TRUE(llm.vs_first[1].has_value());
  EXPECT_NEAR(llm.vs_first[1]->point, 1.10, 1e-9);
  EXPECT_GT(llm.vs_first[1]->lo, 1.02);
  EXPECT_EQ(Find(c, "softmax", "baseline", "2048x2048").changes[1], Change::kNone);
  // The stability criterion fails too: a 10% spread, and LLM/Expert intervals apart.
  EXPECT_FALSE(c.instabilities.empty());
}

// 4% slower with intervals of about +-2.5%: beyond 1.0, but not wholly beyond the 2% two
// machines can differ by, so not flagged; with no allowance, the intervals alone flag it.
TEST(CompareReportsTest, AMoveWhoseIntervalReachesIntoTheAllowanceIsNotFlagged) {
  const BenchReport a = WithLlmScaled(1.0), b = WithLlmScaled(1.04);
  const Comparison c = CompareReports({&a, &b}, {"A", "B"}, {});
  EXPECT_EQ(c.regressions, 0);
  EXPECT_EQ(c.within, 3);
  EXPECT_EQ(Find(c, "softmax", "llm", "2048x2048").changes[1], Change::kWithinAllowance);
  CompareOptions strict;
  strict.allowance = 0;
  const Comparison s = CompareReports({&a, &b}, {"A", "B"}, strict);
  EXPECT_EQ(s.regressions, 3);
}

TEST(CompareReportsTest, ACandidateThatBreaksIsARegressionOfItsOwn) {
  const BenchReport a = WithLlmScaled(1.0);
  const BenchReport b = TwoTaskReport({{"claude-x", {}, {2.98, 6.88, 12.3, 19.6}}});
  const Comparison c = CompareReports({&a, &b}, {"A", "B"}, {});
  EXPECT_EQ(c.broken, 3);
  EXPECT_EQ(Find(c, "softmax", "llm", "1024x1024").changes[1], Change::kBroken);
  bool missing = false;
  for (const std::string& line : c.instabilities) {
    missing = missing || line.find("LLM/Expert missing in some run") != std::string::npos;
  }
  EXPECT_TRUE(missing);
}

TEST(CompareReportsTest, SmallCellsAreListedButNotCounted) {
  const BenchReport a = WithLlmScaled(1.0), b = WithLlmScaled(1.10);
  CompareOptions options;
  options.min_kernel_us = 10;
  const Comparison c = CompareReports({&a, &b}, {"A", "B"}, options);
  EXPECT_EQ(c.regressions, 2);  // 1024x1024's 4.3 us is under 10 us
  EXPECT_FALSE(Find(c, "softmax", "llm", "1024x1024").counted);
}

// Measured on the H100: a compile cell's processes kept R0_BLOCK 2048 in one run and 4096 in
// another; the failure names the configurations and the kernel that moved.
TEST(CompareReportsTest, AnUnstableCellSaysWhatMoved) {
  BenchReport a = WithLlmScaled(1.0), b = WithLlmScaled(1.10);
  Cell& cell_a = a.tables[0].rows[2].llm;
  Cell& cell_b = b.tables[0].rows[2].llm;
  cell_a.tuned = {{"k", {"BLOCK=1024", "BLOCK=1024"}}};
  cell_b.tuned = {{"k", {"BLOCK=2048", "BLOCK=2048"}}};
  cell_a.kernel_median_us = {{{"k", 41.8}}, {{"k", 42.2}}};
  cell_b.kernel_median_us = {{{"k", 46.0}}, {{"k", 46.4}}};
  const Comparison c = CompareReports({&a, &b}, {"A", "B"}, {});
  const CellRuns& llm = Find(c, "softmax", "llm", "4096x4096");
  EXPECT_EQ(llm.why,
            "per process, by run: 41.80 42.22 | 45.98 46.44 us; set per run, not per process: each "
            "run's processes within 1.00%, the runs 10.00% apart; per kernel, by run: k "
            "42.00/46.20 us; autotuned differently: k: run 1 [BLOCK=1024 | BLOCK=1024], run 2 "
            "[BLOCK=2048 | BLOCK=2048]");
}

// Where the processes of a run disagree as much as the runs do, the level is not said to be the
// run's: only the figures are given.
TEST(CompareReportsTest, ProcessesThatDisagreeWithinARunAreNotCalledARunsLevel) {
  BenchReport a = WithLlmScaled(1.0), b = WithLlmScaled(1.10);
  a.tables[0].rows[2].llm.kernel_groups = {{41.8, 41.8, 41.8}, {46.0, 46.0, 46.0}};
  b.tables[0].rows[2].llm.kernel_groups = {{46.0, 46.0, 46.0}, {45.9, 45.9, 45.9}};
  const Comparison c = CompareReports({&a, &b}, {"A", "B"}, {});
  EXPECT_EQ(Find(c, "softmax", "llm", "4096x4096").why,
            "per process, by run: 41.80 46.00 | 46.00 45.90 us");
}

TEST(CompareReportsTest, ThreeRunsEachAgainstTheFirst) {
  const BenchReport a = WithLlmScaled(1.0), b = WithLlmScaled(1.005), c3 = WithLlmScaled(1.10);
  const Comparison c = CompareReports({&a, &b, &c3}, {"A", "B", "C"}, {});
  const CellRuns& llm = Find(c, "softmax", "llm", "4096x4096");
  ASSERT_EQ(llm.changes.size(), 3u);
  EXPECT_NE(llm.changes[1], Change::kRegression);
  EXPECT_EQ(llm.changes[2], Change::kRegression);
  EXPECT_NEAR(*llm.spread, 0.10, 1e-9);
}

// An --interpret run has verdicts and no times: nothing to compare, and nothing said unchanged.
TEST(CompareReportsTest, UntimedCellsAreNotCompared) {
  const Task task = LayerNormTask();
  const JobResult base = CheckedJob(task);
  BenchReport report;
  report.timed = false;
  report.tables.push_back(BuildTaskTable(task, &base, nullptr, nullptr, ""));
  const Comparison c = CompareReports({&report, &report}, {"A", "B"}, {});
  ASSERT_FALSE(c.cells.empty());
  for (const CellRuns& cell : c.cells) EXPECT_EQ(cell.changes[1], Change::kIncomparable);
  EXPECT_EQ(c.unchanged, 0);
  EXPECT_EQ(c.instabilities,
            std::vector<std::string>{"no kernel-time median is in two or more runs: nothing was compared"});
}

std::string Printed(ReportFormat format) {
  const BenchReport a = WithLlmScaled(1.0), b = WithLlmScaled(1.10);
  Comparison c = CompareReports({&a, &b}, {"run 1 of a.db", "run 2 of a.db"}, {});
  c.notes.push_back("GPUs: run 1: GPU-21bdf09a NVIDIA H200; run 2: GPU-77aa0000 NVIDIA H200.");
  std::ostringstream out;
  PrintComparison(format, c, out);
  return out.str();
}

TEST(ComparisonPrinterTest, TextGolden) {
  ExpectMatchesGolden("compare.txt", Printed(ReportFormat::kText));
}
TEST(ComparisonPrinterTest, MarkdownGolden) {
  ExpectMatchesGolden("compare.md", Printed(ReportFormat::kMarkdown));
}
TEST(ComparisonPrinterTest, CsvGolden) {
  ExpectMatchesGolden("compare.csv", Printed(ReportFormat::kCsv));
}
TEST(ComparisonPrinterTest, JsonGolden) {
  const std::string json = Printed(ReportFormat::kJson);
  ExpectMatchesGolden("compare.json", json);
  EXPECT_EQ(nlohmann::json::parse(json)["summary"]["regressions"], 3);
}
TEST(ComparisonPrinterTest, HtmlGolden) {
  ExpectMatchesGolden("compare.html", Printed(ReportFormat::kHtml));
}

}  // namespace
}  // namespace tritonize

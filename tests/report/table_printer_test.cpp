#include "report/table_printer.h"

#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

#include "golden.h"
#include "report_fixtures.h"

namespace tritonize {
namespace {

using namespace testing_fixtures;
using testing_golden::ExpectMatchesGolden;

std::string Print(const BenchReport& report) {
  std::ostringstream out;
  PrintTables(report, out);
  return out.str();
}

BenchReport SoftmaxReport() {
  const Task task = SoftmaxTask();
  const JobResult base = TimedJob(task, {12.34, 45.6, 178.9});
  const JobResult expert = TimedJob(task, {8.1, 23.2, 90.5});
  const JobResult llm = TimedJob(task, {8.0, 28.9, 1234.5});
  BenchReport report;
  report.tables.push_back(BuildTaskTable(task, &base, &expert, &llm, "claude-x"));
  report.environment = H100Environment();
  report.method = kMethod;
  return report;
}

/// The cells of one table line, split at " | " and trimmed.
std::vector<std::string> Cells(const std::string& line) {
  std::vector<std::string> cells;
  std::stringstream stream(line);
  for (std::string cell; std::getline(stream, cell, '|');) {
    const size_t begin = cell.find_first_not_of(' ');
    const size_t end = cell.find_last_not_of(' ');
    cells.push_back(begin == std::string::npos ? "" : cell.substr(begin, end - begin + 1));
  }
  return cells;
}

/// The lines of `text` whose first cell is `label`.
std::vector<std::vector<std::string>> RowsLabelled(const std::string& text,
                                                   const std::string& label) {
  std::vector<std::vector<std::string>> rows;
  std::stringstream stream(text);
  for (std::string line; std::getline(stream, line);) {
    const auto cells = Cells(line);
    if (cells.size() > 1 && cells[0] == label) rows.push_back(cells);
  }
  return rows;
}

TEST(TablePrinterTest, SoftmaxGolden) {
  ExpectMatchesGolden("softmax.txt", Print(SoftmaxReport()));
}

TEST(TablePrinterTest, LayerNormWithBackwardAndFailuresGolden) {
  const Task task = LayerNormTask();
  const JobResult base = TimedJob(task, {10.2, 35.1, 25.7, 90.3});
  const JobResult llm = FailedJob(Status::kWrongResult,
                                  "grad_x differs at 1823x781 seed 0 (523 of 1423763 elements)");
  BenchReport report;
  report.tables.push_back(BuildTaskTable(task, &base, nullptr, &llm, "claude-x"));
  report.environment = H100Environment();
  report.method = kMethod;
  ExpectMatchesGolden("layernorm_failed.txt", Print(report));
}

TEST(TablePrinterTest, TwoTasksGolden) {
  BenchReport report = SoftmaxReport();
  const Task task = LayerNormTask();
  const JobResult base = TimedJob(task, {10.2, 35.1, 25.7, 90.3});
  const JobResult expert = TimedJob(task, {6.1, 20.4, 18.0, 60.2});
  const JobResult llm = TimedJob(task, {6.5, 19.9, 40.1, 150.0});
  report.tables.push_back(BuildTaskTable(task, &base, &expert, &llm, "claude-x"));
  ExpectMatchesGolden("two_tasks.txt", Print(report));
}

TEST(TablePrinterTest, CorrectnessOnlyGolden) {
  const Task task = LayerNormTask();
  const JobResult base = CheckedJob(task);
  const JobResult expert = FailedJob(Status::kUnavailable, "no Triton checkout (--triton-dir)");
  const JobResult llm = FailedJob(Status::kSyntaxError, "invalid syntax (candidate.py, line 12)");
  BenchReport report;
  report.timed = false;
  report.tables.push_back(BuildTaskTable(task, &base, &expert, &llm, "claude-x"));
  report.environment = {
      {"python", "3.12.3"}, {"torch", "2.11.0"}, {"triton", "3.6.0"}, {"interpret", true}};
  report.method = "Method: correctness only, under the Triton interpreter; no timings.";
  const std::string text = Print(report);
  EXPECT_EQ(text.find(" us"), std::string::npos);
  EXPECT_EQ(text.find("geomean"), std::string::npos);
  ExpectMatchesGolden("layernorm_correctness.txt", text);
}

TEST(TablePrinterTest, FailedCellsNeverShowATime) {
  const Task task = SoftmaxTask();
  const JobResult base = TimedJob(task, {12.34, 45.6, 178.9});
  const JobResult expert = FailedJob(Status::kTimeout, "no result after 600 s");
  const JobResult llm = FailedJob(Status::kCrashed, "worker killed by signal 11");
  BenchReport report;
  report.tables.push_back(BuildTaskTable(task, &base, &expert, &llm, "m"));
  const std::string text = Print(report);
  for (const std::string size : {"1024x1024", "2048x2048", "4096x4096"}) {
    const auto rows = RowsLabelled(text, size);
    // Kernel time, call latency, host time and first call (no roofline: no GPU named).
    ASSERT_EQ(rows.size(), 4u) << size << "\n" << text;
    for (const auto& cells : rows) {
      // A time in every grid: microseconds, or seconds for the first call.
      EXPECT_TRUE(cells[1].find(" us") != std::string::npos ||
                  cells[1].find(" s") != std::string::npos)
          << text;
      EXPECT_EQ(cells[2], "timeout") << text;
      EXPECT_EQ(cells[3], "crashed") << text;
    }
    // Every ratio needs the expert or the LLM.
    EXPECT_EQ(rows[0][4], "-");
    EXPECT_EQ(rows[0][5], "-");
    EXPECT_EQ(rows[0][6], "-");
    EXPECT_EQ(rows[0][7], "-");
    EXPECT_EQ(rows[0][8], "-");
  }
}

TEST(TablePrinterTest, MissingColumnShowsUnavailableAndNoRatio) {
  const Task task = SoftmaxTask();
  const JobResult base = TimedJob(task, {20, 40, 80});
  const JobResult llm = TimedJob(task, {10, 20, 40});
  BenchReport report;
  report.tables.push_back(BuildTaskTable(task, &base, nullptr, &llm, "m"));
  const std::string text = Print(report);
  const auto rows = RowsLabelled(text, "1024x1024");
  ASSERT_FALSE(rows.empty());
  EXPECT_EQ(rows[0][2], "unavailable");
  EXPECT_EQ(rows[0][4], "-");        // Expert/Base
  EXPECT_EQ(rows[0][5], "2.00x +");  // LLM/Base: a clear win, every resample above 1
  EXPECT_EQ(rows[0][6], "-");        // LLM/Expert
  const auto geomean = RowsLabelled(text, "geomean");
  ASSERT_EQ(geomean.size(), 1u);
  EXPECT_EQ(geomean[0][5], "2.00x");
  EXPECT_NE(text.find("Expert: unavailable: not requested"), std::string::npos);
}

TEST(TablePrinterTest, RatiosAndGeomeanRowAsPrinted) {
  const std::string text = Print(SoftmaxReport());
  const auto row = RowsLabelled(text, "2048x2048");
  ASSERT_FALSE(row.empty());
  EXPECT_EQ(row[0][1], "45.6 us ±1.5%");  // samples 1.02m, m, 0.99m: IQR 0.015m
  EXPECT_EQ(row[0][4], "1.97x +");  // 45.6 / 23.2
  EXPECT_EQ(row[0][5], "1.58x +");  // 45.6 / 28.9
  EXPECT_EQ(row[0][6], "0.80x -");  // 23.2 / 28.9 = 0.8028, a clear loss
  EXPECT_EQ(row[0][8], "decent");
  const auto llm_slow = RowsLabelled(text, "4096x4096");
  EXPECT_EQ(llm_slow[0][3], "1.23 ms ±1.5%");
  EXPECT_EQ(llm_slow[0][8], "significant gap");
}

TEST(TablePrinterTest, EmptyReportPrintsOnlyTheFooter) {
  BenchReport report;
  report.method = "Method: m.";
  EXPECT_EQ(Print(report), "Method: m.\n");
}

}  // namespace
}  // namespace tritonize

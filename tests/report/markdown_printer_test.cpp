#include "report/markdown_printer.h"

#include <gtest/gtest.h>

#include <sstream>

#include "golden.h"
#include "report_fixtures.h"

namespace tritonize {
namespace {

using namespace testing_fixtures;

TEST(MarkdownPrinterTest, SoftmaxGolden) {
  const Task task = SoftmaxTask();
  const JobResult base = TimedJob(task, {12.34, 45.6, 178.9});
  const JobResult expert = TimedJob(task, {8.1, 23.2, 90.5});
  const JobResult llm = FailedJob(Status::kWrongResult, "y differs at 1823x781 seed 0 | x");
  BenchReport report;
  report.tables.push_back(BuildTaskTable(task, &base, &expert, &llm, "claude-x"));
  report.environment = H100Environment();
  report.method = kMethod;
  std::ostringstream out;
  PrintMarkdown(report, out);
  testing_golden::ExpectMatchesGolden("softmax.md", out.str());
}

TEST(MarkdownPrinterTest, CorrectnessOnlyHasNoTimes) {
  const Task task = LayerNormTask();
  const JobResult base = CheckedJob(task);
  BenchReport report;
  report.timed = false;
  report.tables.push_back(BuildTaskTable(task, &base, nullptr, nullptr, ""));
  std::ostringstream out;
  PrintMarkdown(report, out);
  EXPECT_NE(out.str().find("| 37x93 bwd | ok | unavailable | unavailable |"), std::string::npos)
      << out.str();
  EXPECT_EQ(out.str().find(" us"), std::string::npos) << out.str();
}

}  // namespace
}  // namespace tritonize

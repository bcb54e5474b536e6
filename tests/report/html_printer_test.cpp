#include "report/html_printer.h"

#include <gtest/gtest.h>

#include <regex>
#include <sstream>

#include "report_fixtures.h"

namespace tritonize {
namespace {

using namespace testing_fixtures;

std::string Html(const BenchReport& report) {
  std::ostringstream out;
  PrintHtml(report, {}, "Run 1 of results.db", out);
  return out.str();
}

size_t Count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// No font, script, style or image comes from anywhere: the page is one file.
TEST(HtmlPrinterTest, PageFetchesNothing) {
  const std::string html = Html(TwoModelReport());
  EXPECT_EQ(html.find(" src="), std::string::npos);
  EXPECT_EQ(html.find("<link"), std::string::npos);
  EXPECT_EQ(html.find("@import"), std::string::npos);
  EXPECT_EQ(html.find("url("), std::string::npos);
  // The one URL is SVG's namespace name, which is never fetched.
  const std::regex url("https?://[^\"]*");
  for (auto it = std::sregex_iterator(html.begin(), html.end(), url); it != std::sregex_iterator();
       ++it) {
    EXPECT_EQ(it->str(), "http://www.w3.org/2000/svg");
  }
}

// Per task an LLM/Expert chart and a roofline chart; across tasks the leaderboard's.
TEST(HtmlPrinterTest, ChartsPerTaskAndAcrossTasks) {
  const std::string html = Html(TwoModelReport());
  EXPECT_EQ(Count(html, "<svg class=\"chart\""), 5u);
  EXPECT_NE(html.find("<section id=\"leaderboard\">"), std::string::npos);
  EXPECT_NE(html.find("<section id=\"task-softmax\""), std::string::npos);
  EXPECT_NE(html.find("<section id=\"task-layernorm\""), std::string::npos);
  // Both models' rows in one task's LLM/Expert chart; the wrong candidate's rows say so.
  EXPECT_NE(html.find("1024x1024 · model-fast"), std::string::npos);
  EXPECT_NE(html.find(">wrong_result</text>"), std::string::npos);
  // Every column's share of the roofline, the LLM columns by model.
  for (const char* series :
       {">Baseline<", ">Expert<", ">LLM (model-fast)<", ">LLM (model-slow)<", ">Compile<"}) {
    EXPECT_NE(html.find(series), std::string::npos) << series;
  }
  EXPECT_NE(html.find("<section id=\"method\">"), std::string::npos);
  EXPECT_NE(html.find("NVIDIA H100 80GB HBM3"), std::string::npos);
}

TEST(HtmlPrinterTest, TextIsEscaped) {
  BenchReport report = TwoModelReport();
  report.tables[0].description = "<script>alert(1)</script> & more";
  const std::string html = Html(report);
  EXPECT_EQ(html.find("<script>alert(1)"), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;alert(1)&lt;/script&gt; &amp; more"), std::string::npos);
}

TEST(HtmlPrinterTest, CorrectnessOnlyRunHasTablesButNoCharts) {
  const Task task = LayerNormTask();
  const JobResult base = CheckedJob(task);
  BenchReport report;
  report.timed = false;
  report.tables.push_back(BuildTaskTable(task, &base, nullptr, nullptr, ""));
  const std::string html = Html(report);
  EXPECT_EQ(html.find("<svg"), std::string::npos);
  EXPECT_NE(html.find("Correctness (no timings)"), std::string::npos);
}

}  // namespace
}  // namespace tritonize

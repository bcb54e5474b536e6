#include "report/report_printer.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "../support/test_dir.h"
#include "core/sha256.h"
#include "exec/subprocess.h"
#include "golden.h"
#include "report/report_format.h"
#include "report_fixtures.h"

namespace tritonize {
namespace {

using namespace testing_fixtures;
using testing_golden::ExpectMatchesGolden;

constexpr const char* kHeading =
    "Run 3 of results.db, started 2026-11-25T10:00:00Z (finished): tritonize bench --tasks all";

BenchReport OneModelReport() {
  return TwoTaskReport({{"claude-x", {3.94, 10.5, 41.8}, {2.98, 6.88, 12.3, 19.6}}});
}

std::string Printed(ReportFormat format, const BenchReport& report,
                    const std::vector<SampleMetrics>& samples = {}) {
  std::ostringstream out;
  std::string err;
  EXPECT_TRUE(PrintReport(format, report, samples, kHeading, out, &err)) << err;
  return out.str();
}

TEST(ReportFormatTest, EveryNameParsesToItsFormat) {
  for (const std::string& name : ReportFormatNames()) {
    ReportFormat format = ReportFormat::kText;
    std::string err;
    ASSERT_TRUE(ParseReportFormat(name, &format, &err)) << err;
    EXPECT_EQ(ReportFormatName(format), name);
  }
  EXPECT_EQ(ReportFormatNames(), (std::vector<std::string>{"text", "md", "csv", "json", "html"}));
}

TEST(ReportFormatTest, UnknownFormatNamesTheKnownOnes) {
  ReportFormat format = ReportFormat::kText;
  std::string err;
  EXPECT_FALSE(ParseReportFormat("xml", &format, &err));
  EXPECT_EQ(err, "--format: unknown format \"xml\" (known: text, md, csv, json, html)");
}

TEST(ReportPrinterTest, TextGolden) {
  ExpectMatchesGolden("two_tasks_report.txt", Printed(ReportFormat::kText, OneModelReport()));
}

// The Markdown printer was reachable from tests only; through --format md it prints every
// table the text report has, from the same section list.
TEST(ReportPrinterTest, MarkdownGolden) {
  const std::string md = Printed(ReportFormat::kMarkdown, OneModelReport());
  ExpectMatchesGolden("two_tasks_report.md", md);
  for (const char* title : {"Kernel time (median", "Throughput (GB/s", "Call latency (CUDA",
                            "Host time per call", "First call (compile"}) {
    EXPECT_NE(md.find(title), std::string::npos) << title;
  }
}

TEST(ReportPrinterTest, CsvGolden) {
  ExpectMatchesGolden("two_tasks_report.csv", Printed(ReportFormat::kCsv, OneModelReport()));
}

TEST(ReportPrinterTest, JsonGolden) {
  const std::string json = Printed(ReportFormat::kJson, OneModelReport());
  ExpectMatchesGolden("two_tasks_report.json", json);
  const auto parsed = nlohmann::json::parse(json);
  EXPECT_EQ(parsed["heading"], kHeading);
  EXPECT_EQ(parsed["tasks"].size(), 2u);
}

TEST(ReportPrinterTest, HtmlGolden) {
  ExpectMatchesGolden("two_tasks_report.html", Printed(ReportFormat::kHtml, OneModelReport()));
}

TEST(ReportPrinterTest, TextHasTheSampleTablesAfterTheReport) {
  SampleMetrics m;
  m.model = "claude-x";
  m.task = "softmax";
  m.samples = 2;
  m.correct = 1;
  const std::string text = Printed(ReportFormat::kText, OneModelReport(), {m});
  EXPECT_NE(text.find("Samples: LLM (claude-x)"), std::string::npos);
  EXPECT_GT(text.find("Samples: LLM"), text.find("Environment:"));
}

TEST(ReportPrinterTest, AFailedStreamIsAnError) {
  std::ostringstream out;
  out.setstate(std::ios::badbit);
  std::string err;
  EXPECT_FALSE(PrintReport(ReportFormat::kCsv, OneModelReport(), {}, "", out, &err));
  EXPECT_EQ(err, "cannot write the csv report");
}

/// Runs tests/report/check_csv.py (pandas when it is installed, else the csv module).
std::string CheckCsv(const std::string& csv, int rows, const std::string& numeric,
                     const std::string& booleans) {
  const std::filesystem::path dir = FreshTestDir("csv");
  std::ofstream(dir / "report.csv") << csv;
  const char* python = std::getenv("TRITONIZE_PYTHON");
  SubprocessOptions o;
  o.argv = {python != nullptr && *python != '\0' ? python : "python3",
            std::string(TRITONIZE_SOURCE_DIR) + "/tests/report/check_csv.py",
            (dir / "report.csv").string(),
            std::to_string(rows),
            "--numeric",
            numeric,
            "--bool",
            booleans};
  o.stdout_path = dir / "stdout";
  o.stderr_path = dir / "stderr";
  o.timeout_s = 60;
  const SubprocessResult r = RunSubprocess(o);
  std::string out, err, e;
  ReadFile(o.stdout_path, &out, &e);
  ReadFile(o.stderr_path, &err, &e);
  return r.exit_code == 0 ? out : "exit " + std::to_string(r.exit_code) + ": " + out + err;
}

// One record per cell, typed: two tasks (3 + 4 rows) of four columns.
TEST(ReportPrinterTest, CsvLoadsAsTypedColumns) {
  const std::string out =
      CheckCsv(Printed(ReportFormat::kCsv, OneModelReport()), 28,
               "kernel_median_us,kernel_q1_us,kernel_q3_us,kernel_rel_iqr,kernel_samples,processes,"
               "call_median_us,host_median_us,first_call_s,speedup_vs_baseline_x,"
               "speedup_vs_baseline_lo_x,speedup_vs_baseline_hi_x,llm_over_expert_x,"
               "llm_over_expert_lo_x,llm_over_expert_hi_x,gb_per_s,tflop_per_s,pct_of_peak,"
               "pct_of_measured_ceiling",
               "clock_low,above_measured_ceiling,impossible");
  EXPECT_EQ(out.rfind("ok (", 0), 0u) << out;
}

TEST(ReportPrinterTest, CsvQuotesMessagesWithCommasAndQuotes) {
  BenchReport report = TwoTaskReport({{"m", {}, {}}});
  std::string csv = Printed(ReportFormat::kCsv, report);
  // The failed LLM's message holds no comma; one with commas and quotes is quoted.
  report.tables[0].rows[0].llm.message = "y differs, at \"1823x781\"";
  csv = Printed(ReportFormat::kCsv, report);
  EXPECT_NE(csv.find(",\"y differs, at \"\"1823x781\"\"\","), std::string::npos) << csv;
}

}  // namespace
}  // namespace tritonize

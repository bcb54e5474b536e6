#include "report/json_printer.h"

#include <gtest/gtest.h>

#include "report_fixtures.h"

namespace tritonize {
namespace {

using namespace testing_fixtures;

BenchReport MakeReport() {
  const Task task = SoftmaxTask();
  const JobResult base = TimedJob(task, {20, 40, 80});
  const JobResult expert = TimedJob(task, {10, 20, 40});
  JobResult llm = TimedJob(task, {12.5, 20, 40});
  llm.timings.pop_back();
  BenchReport report;
  report.tables.push_back(BuildTaskTable(task, &base, &expert, &llm, "claude-x"));
  report.environment = H100Environment();
  report.method = kMethod;
  return report;
}

TEST(JsonPrinterTest, TopLevelFields) {
  const nlohmann::json j = ReportToJson(MakeReport());
  EXPECT_EQ(j["schema_version"], kReportJsonSchemaVersion);
  EXPECT_EQ(j["timed"], true);
  EXPECT_EQ(j["method"], kMethod);
  EXPECT_EQ(j["environment"]["gpu"], "NVIDIA H100 80GB HBM3");
  ASSERT_EQ(j["tasks"].size(), 1u);
  EXPECT_EQ(j["tasks"][0]["task"], "softmax");
  EXPECT_EQ(j["tasks"][0]["llm_name"], "claude-x");
}

TEST(JsonPrinterTest, RowHasSummariesRatiosAndRating) {
  const nlohmann::json row = ReportToJson(MakeReport())["tasks"][0]["rows"][0];
  EXPECT_EQ(row["size"], "1024x1024");
  EXPECT_EQ(row["mode"], "forward");
  EXPECT_EQ(row["baseline"]["status"], "ok");
  EXPECT_EQ(row["baseline"]["kernel_us"]["n"], 3);
  EXPECT_DOUBLE_EQ(row["baseline"]["kernel_us"]["median"].get<double>(), 20.0);
  EXPECT_DOUBLE_EQ(row["baseline"]["kernel_us"]["max"].get<double>(), 20.4);
  EXPECT_DOUBLE_EQ(row["baseline"]["call_us"]["median"].get<double>(), 28.5);
  EXPECT_DOUBLE_EQ(row["baseline"]["first_call_s"].get<double>(), 1.5);
  EXPECT_DOUBLE_EQ(row["expert_over_base"].get<double>(), 2.0);
  EXPECT_DOUBLE_EQ(row["llm_over_base"].get<double>(), 1.6);
  EXPECT_DOUBLE_EQ(row["llm_over_expert"].get<double>(), 0.8);
  EXPECT_EQ(row["rating"], "decent");
}

TEST(JsonPrinterTest, UndefinedFiguresAreNull) {
  const nlohmann::json table = ReportToJson(MakeReport())["tasks"][0];
  const nlohmann::json row = table["rows"][2];
  EXPECT_EQ(row["llm"]["status"], "unavailable");
  EXPECT_EQ(row["llm"]["message"], "no timing at 4096x4096 forward");
  EXPECT_TRUE(row["llm"]["kernel_us"].is_null());
  EXPECT_TRUE(row["llm_over_expert"].is_null());
  EXPECT_TRUE(row["rating"].is_null());
  EXPECT_DOUBLE_EQ(row["expert_over_base"].get<double>(), 2.0);
}

TEST(JsonPrinterTest, GeomeansAndNotes) {
  const nlohmann::json table = ReportToJson(MakeReport())["tasks"][0];
  EXPECT_DOUBLE_EQ(table["geomean"]["expert_over_base"].get<double>(), 2.0);
  // LLM/Expert over the two rows that have it: 0.8 and 1.0.
  EXPECT_NEAR(table["geomean"]["llm_over_expert"].get<double>(), std::sqrt(0.8), 1e-12);
  EXPECT_EQ(table["geomean"]["rating"], "very good");
  ASSERT_EQ(table["notes"].size(), 1u);
  EXPECT_EQ(table["notes"][0], "LLM (claude-x): unavailable: no timing at 4096x4096 forward");
}

TEST(JsonPrinterTest, FailedCellHasStatusAndMessageButNoTimes) {
  const Task task = SoftmaxTask();
  const JobResult llm = FailedJob(Status::kCompileError, "out of resources: shared memory");
  BenchReport report;
  report.tables.push_back(BuildTaskTable(task, nullptr, nullptr, &llm, "m"));
  const nlohmann::json cell = ReportToJson(report)["tasks"][0]["rows"][0]["llm"];
  EXPECT_EQ(cell["status"], "compile_error");
  EXPECT_EQ(cell["message"], "out of resources: shared memory");
  EXPECT_TRUE(cell["kernel_us"].is_null());
  EXPECT_TRUE(cell["call_us"].is_null());
  const nlohmann::json expert = ReportToJson(report)["tasks"][0]["rows"][0]["expert"];
  EXPECT_EQ(expert["message"], "not requested");
}

TEST(JsonPrinterTest, NaNFiguresAreNull) {
  // rel_iqr of a zero median is NaN, which JSON cannot hold.
  const Task task = SoftmaxTask();
  JobResult base = TimedJob(task, {0, 0, 0});
  BenchReport report;
  report.tables.push_back(BuildTaskTable(task, &base, nullptr, nullptr, ""));
  const nlohmann::json j = ReportToJson(report);
  EXPECT_TRUE(j["tasks"][0]["rows"][0]["baseline"]["kernel_us"]["rel_iqr"].is_null());
}

}  // namespace
}  // namespace tritonize

// `tritonize report` on a real SQLite store written through the Store, as `bench` writes it:
// the tables come back from the stored samples alone, and bad input is a clear error.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "../support/run_binary.h"
#include "../support/test_dir.h"
#include "core/task_suite.h"
#include "store/store.h"

namespace tritonize {
namespace {

namespace fs = std::filesystem;

constexpr double kTimeoutS = 60;

/// The printed prose with its line breaks and alignment folded into single spaces: the
/// footer's wrapping is not what these tests are about.
std::string Flat(const std::string& text) {
  std::string flat;
  for (char c : text) {
    const bool space = c == ' ' || c == '\n';
    if (space && (flat.empty() || flat.back() == ' ')) continue;
    flat += space ? ' ' : c;
  }
  return flat;
}

/// The timing options of a run stored before --compile-mode existed.
const nlohmann::json kOlderTimingOptions = {
    {"calls", 60}, {"warmup_calls", 7}, {"flush_bytes", 64 << 20}};

class ReportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = FreshTestDir("report");
    std::vector<std::string> errors;
    ASSERT_TRUE(TaskSuite::Load(fs::path(TRITONIZE_SOURCE_DIR) / "tasks", &suite_, &errors));
    softmax_ = suite_.Find("softmax");
    ASSERT_NE(softmax_, nullptr);
  }

  /// A job timed at every softmax size: kernel samples around median * scale.
  JobResult TimedResult(double scale, int process) const {
    JobResult result;
    result.status = Status::kOk;
    result.phase = "time";
    result.process = process;
    result.environment = {{"gpu", "NVIDIA H100 80GB HBM3"}};
    if (!gpu_uuids_.empty()) result.environment["gpu_uuid"] = gpu_uuids_[process];
    double median = 100;
    for (const auto& size : softmax_->sizes) {
      Timing timing;
      timing.size = size;
      timing.mode = "forward";
      timing.kernel_us = {median * scale * 0.99, median * scale, median * scale * 1.01};
      timing.call_us = {median * scale + 8};
      timing.host_us = {5.0};
      timing.kernels = {{"kernel", 1}};
      timing.first_call_s = 0.5;
      result.timings.push_back(timing);
      median *= 4;
    }
    return result;
  }

  /// Run 1: baseline and expert in two processes each, as `bench --repeat 2` stores them.
  void WriteRun(bool finish, const nlohmann::json& timing_options = kOlderTimingOptions) {
    std::string err;
    auto store = Store::Open(db(), &err);
    ASSERT_NE(store, nullptr) << err;
    const nlohmann::json env = {{"interpret", false}, {"timing_options", timing_options}};
    const int64_t run = store->BeginRun("tritonize bench --repeat 2", env, &err);
    ASSERT_EQ(run, 1) << err;
    for (int process = 0; process < 2; ++process) {
      Implementation baseline;
      baseline.kind = ImplKind::kBaseline;
      baseline.name = "baseline";
      baseline.content_hash = "b";
      Implementation expert = baseline;
      expert.kind = ImplKind::kExpert;
      expert.name = "expert";
      expert.content_hash = "e";
      ASSERT_TRUE(store->RecordJob(run, *softmax_, baseline,
                                   TimedResult(process == 0 ? 1.0 : 1.04, process), &err))
          << err;
      ASSERT_TRUE(store->RecordJob(run, *softmax_, expert, TimedResult(0.5, process), &err)) << err;
    }
    if (finish) {
      ASSERT_TRUE(store->FinishRun(run, "finished", &err)) << err;
    }
  }

  BinaryOutput Report(std::vector<std::string> args) const {
    args.insert(args.begin(), "report");
    return RunTritonize(dir_, args, {{"TRITONIZE_CALIBRATION", (dir_ / "none.json").string()}},
                        kTimeoutS);
  }

  fs::path db() const { return dir_ / "results.db"; }

  fs::path dir_;
  TaskSuite suite_;
  const Task* softmax_ = nullptr;
  std::vector<std::string> gpu_uuids_;  // per process; empty: not recorded (older workers)
};

TEST_F(ReportTest, PrintsTheStoredRunsTablesFromItsSamples) {
  WriteRun(true);
  const fs::path json = dir_ / "report.json";
  const BinaryOutput out = Report({"--json", json.string()});
  ASSERT_EQ(out.code, 0) << out.err;
  EXPECT_NE(out.out.find("Run 1 of "), std::string::npos) << out.out;
  EXPECT_NE(out.out.find("tritonize bench --repeat 2"), std::string::npos) << out.out;
  // Baseline processes at 100 and 104 us pool to a median of 102; the expert is 2.04x.
  EXPECT_NE(out.out.find("1024x1024 |  102 us"), std::string::npos) << out.out;
  EXPECT_NE(out.out.find("2.04x"), std::string::npos) << out.out;
  // The footer is the run's: its --calls and --warmup, Inductor's default mode (the run
  // predates --compile-mode), and the pooled spread.
  const std::string prose = Flat(out.out);
  EXPECT_NE(prose.find("batches of 60 calls"), std::string::npos) << out.out;
  EXPECT_NE(prose.find("7 warm-up calls"), std::string::npos) << out.out;
  EXPECT_NE(prose.find("torch.compile (Inductor, default mode"), std::string::npos) << out.out;
  // Three baseline cells whose processes differ by log(1.04): sqrt(3 * 0.0392^2 / 2 / 6).
  EXPECT_NE(prose.find("6 cells: 1.96% (6 degrees"), std::string::npos) << out.out;

  std::ifstream file(json);
  const nlohmann::json report = nlohmann::json::parse(file);
  EXPECT_EQ(report["run_id"], 1);
  EXPECT_EQ(report["process_spread"]["df"], 6);
  EXPECT_EQ(report["jobs"].size(), 4u);
  const auto& row = report["tasks"][0]["rows"][0];
  EXPECT_EQ(row["baseline"]["kernel_us_process_medians"], nlohmann::json({100.0, 104.0}));
}

TEST_F(ReportTest, FooterStatesTheRunsCompileMode) {
  nlohmann::json timing = kOlderTimingOptions;
  timing["compile_mode"] = "deterministic";
  WriteRun(true, timing);
  const BinaryOutput out = Report({});
  ASSERT_EQ(out.code, 0) << out.err;
  EXPECT_NE(Flat(out.out).find("torch.compile (Inductor, deterministic mode: reduction "
                               "configurations by heuristic"),
            std::string::npos)
      << out.out;
}

TEST_F(ReportTest, FooterStatesWhatTheRunsAutotunersPickedBy) {
  nlohmann::json timing = kOlderTimingOptions;
  timing["autotune_timer"] = "job";
  WriteRun(true, timing);
  const BinaryOutput job = Report({});
  ASSERT_EQ(job.code, 0) << job.err;
  EXPECT_NE(Flat(job.out).find("Triton autotuners without a do_bench of their own pick by the "
                               "same flush and CUDA events"),
            std::string::npos)
      << job.out;
}

TEST_F(ReportTest, FooterOfARunFromBeforeTheAutotuneTimerSaysTritonsOwn) {
  WriteRun(true);
  const BinaryOutput out = Report({});
  ASSERT_EQ(out.code, 0) << out.err;
  EXPECT_NE(Flat(out.out).find("Triton autotuners pick with triton.testing.do_bench"),
            std::string::npos)
      << out.out;
}

TEST_F(ReportTest, ARunWhoseJobsRanOnTwoGpusSaysSo) {
  gpu_uuids_ = {"GPU-21bdf09a-6f2c", "GPU-e3f452c6-1c59"};
  WriteRun(true);
  const BinaryOutput out = Report({});
  ASSERT_EQ(out.code, 0) << out.err;
  EXPECT_NE(Flat(out.out).find("jobs on 2 GPUs (GPU-21bdf09a x2, GPU-e3f452c6 x2)"),
            std::string::npos)
      << out.out;

  gpu_uuids_ = {"GPU-21bdf09a-6f2c", "GPU-21bdf09a-6f2c"};
  fs::remove(db());
  WriteRun(true);
  EXPECT_EQ(Flat(Report({}).out).find("GPUs"), std::string::npos);
}

TEST_F(ReportTest, UnfinishedRunIsShownWithANote) {
  WriteRun(false);
  const BinaryOutput out = Report({});
  ASSERT_EQ(out.code, 0) << out.err;
  EXPECT_NE(out.err.find("run 1 is running"), std::string::npos) << out.err;
  EXPECT_NE(out.out.find("softmax"), std::string::npos) << out.out;
}

// An unfinished run's column that one task stored and another did not is not run yet, not "not
// requested" (the H100's suite, 2026-12-05: its unfinished run's report said "LLM: unavailable:
// not requested" for the three tasks whose LLM jobs had not run).
TEST_F(ReportTest, AnUnfinishedRunsColumnsNotRunYetSaySo) {
  WriteRun(false);
  std::string err;
  auto store = Store::Open(db(), &err);
  ASSERT_NE(store, nullptr) << err;
  const Task* vector_add = suite_.Find("vector_add");
  ASSERT_NE(vector_add, nullptr);
  Implementation baseline;
  baseline.kind = ImplKind::kBaseline;
  baseline.name = "baseline";
  baseline.content_hash = "v";
  JobResult failed;
  failed.status = Status::kRuntimeError;
  failed.message = "boom";
  ASSERT_TRUE(store->RecordJob(1, *vector_add, baseline, failed, &err)) << err;
  store.reset();

  const BinaryOutput out = Report({});
  ASSERT_EQ(out.code, 0) << out.err;
  const std::string text = Flat(out.out);
  EXPECT_NE(text.find("Expert: unavailable: not run: run 1 is running (bench --resume runs it)"),
            std::string::npos)
      << out.out;
  EXPECT_EQ(text.find("Expert: unavailable: not requested"), std::string::npos) << out.out;
  // A column no task of the run has (the LLM's here) was not requested.
  EXPECT_NE(text.find("LLM: unavailable: not requested"), std::string::npos) << out.out;
  // Once finished, a column a task lacks is shown as the run stored it.
  store = Store::Open(db(), &err);
  ASSERT_TRUE(store->FinishRun(1, "finished", &err)) << err;
  store.reset();
  const BinaryOutput finished = Report({});
  ASSERT_EQ(finished.code, 0) << finished.err;
  EXPECT_EQ(Flat(finished.out).find("not run: run 1"), std::string::npos) << finished.out;
}

// --format picks the printer: the Markdown one (once reachable from tests only), CSV, JSON and
// the HTML page, each with the run it came from.
TEST_F(ReportTest, EveryFormatPrintsTheStoredRun) {
  WriteRun(true);
  const BinaryOutput md = Report({"--format", "md"});
  ASSERT_EQ(md.code, 0) << md.err;
  EXPECT_EQ(md.out.rfind("# tritonize report\n\nRun 1 of ", 0), 0u) << md.out;
  EXPECT_NE(md.out.find("## softmax"), std::string::npos) << md.out;
  EXPECT_NE(md.out.find("| 1024x1024 | 102 us"), std::string::npos) << md.out;
  const BinaryOutput csv = Report({"--format", "csv"});
  ASSERT_EQ(csv.code, 0) << csv.err;
  EXPECT_EQ(csv.out.rfind("task,model,size,mode,implementation,status,", 0), 0u) << csv.out;
  EXPECT_NE(csv.out.find("softmax,,1024x1024,forward,baseline,ok,,101.9"), std::string::npos)
      << csv.out;
  const BinaryOutput json = Report({"--format", "json"});
  ASSERT_EQ(json.code, 0) << json.err;
  const auto parsed = nlohmann::json::parse(json.out);
  EXPECT_EQ(parsed["tasks"][0]["task"], "softmax");
  EXPECT_EQ(parsed["heading"].get<std::string>().rfind("Run 1 of ", 0), 0u);
  const BinaryOutput html = Report({"--format", "html"});
  ASSERT_EQ(html.code, 0) << html.err;
  EXPECT_EQ(html.out.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_NE(html.out.find("<section id=\"task-softmax\""), std::string::npos);
  const BinaryOutput bad = Report({"--format", "xml"});
  EXPECT_EQ(bad.code, 2);
}

// A run's LLM samples are scored from the store alone: their metadata (sample, turn, tokens,
// cost) is kept with their implementation.
TEST_F(ReportTest, SampleJobsAreScoredFromTheStore) {
  std::string err;
  {
    auto store = Store::Open(db(), &err);
    ASSERT_NE(store, nullptr) << err;
    const int64_t run = store->BeginRun("tritonize bench", {{"interpret", false}}, &err);
    Implementation baseline;
    baseline.name = "baseline";
    baseline.content_hash = "b";
    ASSERT_TRUE(store->RecordJob(run, *softmax_, baseline, TimedResult(1.0, 0), &err)) << err;
    Implementation llm;
    llm.kind = ImplKind::kLlm;
    llm.name = "llm:m";
    llm.model_id = "m";
    llm.content_hash = "s0";
    ASSERT_TRUE(store->RecordJob(run, *softmax_, llm, TimedResult(0.5, 0), &err)) << err;
    llm.name = "llm:m:s0-t1";
    llm.metadata = {
        {"sample", 0}, {"turn", 1}, {"tokens_in", 700}, {"tokens_out", 300}, {"cost_usd", 0.01}};
    ASSERT_TRUE(store->RecordJob(run, *softmax_, llm, TimedResult(0.5, 0), &err)) << err;
    ASSERT_TRUE(store->FinishRun(run, "finished", &err)) << err;
  }
  const BinaryOutput out = Report({});
  ASSERT_EQ(out.code, 0) << out.err;
  EXPECT_NE(out.out.find("Samples: LLM (m)"), std::string::npos) << out.out;
  EXPECT_NE(out.out.find("700/300"), std::string::npos) << out.out;
  EXPECT_EQ(out.err.find("not shown"), std::string::npos) << out.err;
}

TEST_F(ReportTest, MissingStoreIsAUsageError) {
  const BinaryOutput out = Report({"--db", (dir_ / "nope.db").string()});
  EXPECT_EQ(out.code, 2);
  EXPECT_NE(out.err.find("nope.db: no such file"), std::string::npos) << out.err;
}

TEST_F(ReportTest, UnknownRunIsAnErrorNamingIt) {
  WriteRun(true);
  const BinaryOutput out = Report({"--run", "7"});
  EXPECT_EQ(out.code, 1);
  EXPECT_NE(out.err.find("results.db: no run 7"), std::string::npos) << out.err;
  EXPECT_EQ(out.out, "");
}

TEST_F(ReportTest, StoreWithoutRunsSaysSo) {
  std::string err;
  ASSERT_NE(Store::Open(db(), &err), nullptr) << err;
  const BinaryOutput out = Report({});
  EXPECT_EQ(out.code, 1);
  EXPECT_NE(out.err.find("has no run"), std::string::npos) << out.err;
}

}  // namespace
}  // namespace tritonize

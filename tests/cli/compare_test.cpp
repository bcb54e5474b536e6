// `tritonize compare` on real SQLite stores written through the Store: the exit status CI
// reads (0 no regression, 1 regression, 2 usage), two runs of one --db or of two files, and
// what it says about runs on different GPUs.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "../support/run_binary.h"
#include "../support/store_fixture.h"
#include "../support/test_dir.h"
#include "core/task_suite.h"

namespace tritonize {
namespace {

namespace fs = std::filesystem;

/// The printed prose with its line breaks and indents folded into single spaces.
std::string Flat(const std::string& text) {
  std::string flat;
  for (char c : text) {
    const bool space = c == ' ' || c == '\n';
    if (space && (flat.empty() || flat.back() == ' ')) continue;
    flat += space ? ' ' : c;
  }
  return flat;
}

class CompareTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = FreshTestDir("compare");
    std::vector<std::string> errors;
    ASSERT_TRUE(TaskSuite::Load(fs::path(TRITONIZE_SOURCE_DIR) / "tasks", &suite_, &errors));
    softmax_ = suite_.Find("softmax");
    ASSERT_NE(softmax_, nullptr);
  }

  /// One finished run: baseline, expert and the LLM (at `llm_scale`), two processes each,
  /// every column's times times `all_scale`.
  void WriteRun(const fs::path& db, double llm_scale,
                const std::string& first_gpu = "GPU-21bdf09a-6f2c", bool llm_ok = true,
                double all_scale = 1.0, const std::string& second_gpu = "") {
    StoreWriter writer(db);
    const int64_t run = writer.Begin("tritonize bench --repeat 2");
    for (int p = 0; p < 2; ++p) {
      // A run resumed on another machine: its second processes ran on another GPU.
      const std::string gpu = p == 1 && !second_gpu.empty() ? second_gpu : first_gpu;
      writer.Job(run, *softmax_, "baseline", "b", TimedJobOf(*softmax_, all_scale, p, gpu));
      writer.Job(run, *softmax_, "expert", "e", TimedJobOf(*softmax_, 0.5 * all_scale, p, gpu));
      JobResult llm = TimedJobOf(*softmax_, 0.5 * llm_scale * all_scale, p, gpu);
      if (!llm_ok) {
        llm = JobResult();
        llm.status = Status::kWrongResult;
        llm.message = "y differs at 1823x781 seed 0";
        llm.environment = {{"gpu", "NVIDIA H200"}, {"gpu_uuid", gpu}};
      }
      writer.Job(run, *softmax_, "llm:m", "l", llm);
    }
    writer.Finish(run);
  }

  BinaryOutput Compare(std::vector<std::string> args) const {
    args.insert(args.begin(), "compare");
    return RunTritonize(dir_, args, {{"TRITONIZE_CALIBRATION", (dir_ / "none.json").string()}}, 60);
  }

  fs::path db() const { return dir_ / "results.db"; }

  fs::path dir_;
  TaskSuite suite_;
  const Task* softmax_ = nullptr;
};

TEST_F(CompareTest, NoChangeExitsZero) {
  WriteRun(db(), 1.0);
  WriteRun(db(), 1.0);
  const BinaryOutput out = Compare({"1", "2"});
  EXPECT_EQ(out.code, 0) << out.out << out.err;
  EXPECT_NE(Flat(out.out).find("0 regression(s)"), std::string::npos) << out.out;
  EXPECT_NE(Flat(out.out).find("Stability: passed"), std::string::npos) << out.out;
  EXPECT_NE(
      Flat(out.out).find("GPUs: run 1: GPU-21bdf09a NVIDIA H200; run 2: GPU-21bdf09a NVIDIA H200."),
      std::string::npos)
      << out.out;
  EXPECT_EQ(Flat(out.out).find("ran on different GPUs"), std::string::npos) << out.out;
}

TEST_F(CompareTest, ASlowerLlmExitsOneAndNamesTheCells) {
  WriteRun(db(), 1.0);
  WriteRun(db(), 1.10);
  const BinaryOutput out = Compare({"1", "2"});
  EXPECT_EQ(out.code, 1) << out.out << out.err;
  EXPECT_NE(Flat(out.out).find("3 regression(s)"), std::string::npos) << out.out;
  EXPECT_NE(out.out.find("REGRESSION"), std::string::npos) << out.out;
  EXPECT_NE(out.out.find("+10.0%"), std::string::npos) << out.out;
}

TEST_F(CompareTest, ABrokenCandidateExitsOne) {
  WriteRun(db(), 1.0);
  WriteRun(db(), 1.0, "GPU-21bdf09a-6f2c", false);
  const BinaryOutput out = Compare({"1", "2"});
  EXPECT_EQ(out.code, 1) << out.out << out.err;
  EXPECT_NE(out.out.find("BROKEN (ok -> wrong_result)"), std::string::npos) << out.out;
}

// Two stores, as two machines write them: the newest run of each, or FILE:ID; the note says
// the intervals do not cover what differs between the GPUs.
TEST_F(CompareTest, TwoDatabasesOnTwoGpusSayWhatTheIntervalsDoNotCover) {
  WriteRun(dir_ / "a.db", 1.0, "GPU-21bdf09a-6f2c");
  WriteRun(dir_ / "b.db", 1.01, "GPU-77aa0000-1111");
  for (const auto& args :
       {std::vector<std::string>{(dir_ / "a.db").string(), (dir_ / "b.db").string()},
        std::vector<std::string>{(dir_ / "a.db").string() + ":1",
                                 (dir_ / "b.db").string() + ":1"}}) {
    const BinaryOutput out = Compare(args);
    EXPECT_EQ(out.code, 0) << out.out << out.err;
    EXPECT_NE(
        Flat(out.out).find("The runs ran on different GPUs: the intervals cover the processes "
                           "of each run on its GPU, not the spread from machine to machine"),
        std::string::npos)
        << out.out;
    EXPECT_NE(out.out.find("Run 1: run 1 of " + (dir_ / "a.db").string()), std::string::npos)
        << out.out;
  }
}

TEST_F(CompareTest, ARunThatSpansTwoGpusIsNoted) {
  WriteRun(db(), 1.0);
  WriteRun(db(), 1.0, "GPU-21bdf09a-6f2c", true, 1.0, "GPU-77aa0000-1111");
  const BinaryOutput out = Compare({"1", "2"});
  EXPECT_EQ(out.code, 0) << out.err;
  const std::string flat = Flat(out.out);
  EXPECT_NE(flat.find("run 2: GPU-21bdf09a NVIDIA H200, GPU-77aa0000 NVIDIA H200"),
            std::string::npos)
      << out.out;
  EXPECT_NE(flat.find("The runs ran on different GPUs"), std::string::npos) << out.out;
}

TEST_F(CompareTest, StabilityDecidesTheExitStatusWhenAsked) {
  WriteRun(db(), 1.0);
  WriteRun(db(), 1.0, "GPU-21bdf09a-6f2c", true, 1.03);
  // Every column 3% slower (LLM/Expert unchanged): a spread beyond --threshold 0.02 fails the
  // stability check, one within 0.05 passes it.
  EXPECT_EQ(Compare({"1", "2", "--stability"}).code, 1);
  EXPECT_EQ(Compare({"1", "2", "--stability", "--threshold", "0.05"}).code, 0);
}

TEST_F(CompareTest, CsvHasOneRecordPerCellAndLaterRun) {
  WriteRun(db(), 1.0);
  WriteRun(db(), 1.10);
  const BinaryOutput out = Compare({"1", "2", "--format", "csv"});
  EXPECT_EQ(out.code, 1) << out.err;
  EXPECT_EQ(out.out.rfind("task,model,column,size,mode,run,first_run,", 0), 0u) << out.out;
  size_t lines = 0;
  for (char c : out.out) lines += c == '\n';
  EXPECT_EQ(lines, 1u + 3 * 3);  // three columns at three sizes
}

TEST_F(CompareTest, UsageErrorsExitTwo) {
  WriteRun(db(), 1.0);
  const BinaryOutput one = Compare({"1"});
  EXPECT_EQ(one.code, 2) << one.err;
  const BinaryOutput unknown = Compare({"1", "7"});
  EXPECT_EQ(unknown.code, 2);
  EXPECT_NE(unknown.err.find("results.db: no run 7"), std::string::npos) << unknown.err;
  const BinaryOutput not_a_run = Compare({"1", "nope.db"});
  EXPECT_EQ(not_a_run.code, 2);
  EXPECT_NE(not_a_run.err.find("\"nope.db\" is not a run"), std::string::npos) << not_a_run.err;
  EXPECT_EQ(Compare({"1", "1", "--format", "xml"}).code, 2);
}

}  // namespace
}  // namespace tritonize

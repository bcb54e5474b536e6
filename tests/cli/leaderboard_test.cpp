// `tritonize leaderboard` on real SQLite stores written through the Store: runs pooled where
// their code is the same, samples scored once with their tokens and cost, the caveat in the
// footer, every format.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "../support/run_binary.h"
#include "../support/store_fixture.h"
#include "../support/test_dir.h"
#include "core/task_suite.h"

namespace tritonize {
namespace {

namespace fs = std::filesystem;

class LeaderboardTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = FreshTestDir("leaderboard");
    std::vector<std::string> errors;
    ASSERT_TRUE(TaskSuite::Load(fs::path(TRITONIZE_SOURCE_DIR) / "tasks", &suite_, &errors));
    softmax_ = suite_.Find("softmax");
    ASSERT_NE(softmax_, nullptr);
  }

  /// A finished run: baseline, expert, and per model its column (at `scale` of the baseline's
  /// time) and, for "sampled", two samples with their tokens and cost, one of them wrong.
  void WriteRun(const std::string& gpu, const std::string& fast_hash = "f") {
    StoreWriter writer(db());
    const int64_t run = writer.Begin("tritonize bench --repeat 2");
    for (int p = 0; p < 2; ++p) {
      writer.Job(run, *softmax_, "baseline", "b", TimedJobOf(*softmax_, 1.0, p, gpu));
      writer.Job(run, *softmax_, "expert", "e", TimedJobOf(*softmax_, 0.5, p, gpu));
      writer.Job(run, *softmax_, "llm:fast", fast_hash, TimedJobOf(*softmax_, 0.45, p, gpu));
      writer.Job(run, *softmax_, "llm:sampled", "s0", TimedJobOf(*softmax_, 0.8, p, gpu));
    }
    writer.Job(run, *softmax_, "llm:sampled:s0-t1", "s0", TimedJobOf(*softmax_, 0.8, 0, gpu),
               {{"sample", 0},
                {"turn", 1},
                {"tokens_in", 1000},
                {"tokens_out", 3000},
                {"cost_usd", 0.02}});
    JobResult wrong;
    wrong.status = Status::kWrongResult;
    wrong.message = "y differs";
    writer.Job(run, *softmax_, "llm:sampled:s1-t1", "s1", wrong,
               {{"sample", 1},
                {"turn", 1},
                {"tokens_in", 1000},
                {"tokens_out", 1000},
                {"cost_usd", 0.01}});
    writer.Finish(run);
  }

  BinaryOutput Leaderboard(std::vector<std::string> args) const {
    args.insert(args.begin(), "leaderboard");
    return RunTritonize(dir_, args, {{"TRITONIZE_CALIBRATION", (dir_ / "none.json").string()}}, 60);
  }

  fs::path db() const { return dir_ / "results.db"; }

  fs::path dir_;
  TaskSuite suite_;
  const Task* softmax_ = nullptr;
};

TEST_F(LeaderboardTest, RanksTheModelsOverEveryRunWithTheCaveat) {
  WriteRun("GPU-21bdf09a-6f2c");
  WriteRun("GPU-77aa0000-1111");
  const BinaryOutput out = Leaderboard({"--format", "json"});
  ASSERT_EQ(out.code, 0) << out.err;
  const auto board = nlohmann::json::parse(out.out);
  ASSERT_EQ(board["models"].size(), 2u);
  EXPECT_EQ(board["models"][0]["model"], "fast");
  EXPECT_EQ(board["models"][0]["rank"], 1);
  // 0.5 / 0.45: the fast model beats the expert by 11% in every cell.
  EXPECT_NEAR(board["models"][0]["llm_over_expert"]["geomean"].get<double>(), 0.5 / 0.45, 1e-6);
  EXPECT_EQ(board["models"][0]["fast_1_expert"], 1.0);
  // The sampled model: two samples, one correct, counted once although two runs scored them.
  const auto& sampled = board["models"][1];
  EXPECT_EQ(sampled["samples"], 2);
  EXPECT_EQ(sampled["correct"], 1);
  EXPECT_EQ(sampled["pass_at_1"], 0.5);
  EXPECT_EQ(sampled["tokens"], 6000);
  EXPECT_NEAR(sampled["cost_per_correct_usd"].get<double>(), 0.03, 1e-12);
  const std::string notes = board["notes"].dump();
  EXPECT_NE(notes.find("Pooled over 2 run(s)"), std::string::npos) << notes;
  EXPECT_NE(notes.find("2 GPU(s): GPU-21bdf09a, GPU-77aa0000 (NVIDIA H200)"), std::string::npos)
      << notes;
  EXPECT_NE(notes.find("not the spread from machine to machine"), std::string::npos) << notes;
}

TEST_F(LeaderboardTest, TextHasTheRankingThePerTaskTableAndTheFooter) {
  WriteRun("GPU-21bdf09a-6f2c");
  const BinaryOutput out = Leaderboard({});
  ASSERT_EQ(out.code, 0) << out.err;
  EXPECT_NE(out.out.find("Models, ranked"), std::string::npos) << out.out;
  EXPECT_NE(out.out.find("1 | fast"), std::string::npos) << out.out;
  EXPECT_NE(out.out.find("Per task"), std::string::npos) << out.out;
  EXPECT_NE(out.out.find("Pooled over 1 run(s)"), std::string::npos) << out.out;
}

TEST_F(LeaderboardTest, ARunWithOtherCodeIsNotPooled) {
  WriteRun("GPU-21bdf09a-6f2c", "f-old");
  WriteRun("GPU-21bdf09a-6f2c", "f-new");
  const BinaryOutput out = Leaderboard({"--format", "json"});
  ASSERT_EQ(out.code, 0) << out.err;
  EXPECT_NE(out.out.find("Not pooled: run 1's llm:fast of softmax"), std::string::npos) << out.out;
}

TEST_F(LeaderboardTest, EveryFormatPrints) {
  WriteRun("GPU-21bdf09a-6f2c");
  for (const char* format : {"text", "md", "csv", "json", "html"}) {
    const BinaryOutput out = Leaderboard({"--format", format});
    EXPECT_EQ(out.code, 0) << format << out.err;
    EXPECT_NE(out.out.find("fast"), std::string::npos) << format;
  }
  EXPECT_EQ(Leaderboard({"--format", "csv"}).out.rfind("rank,model,task,", 0), 0u);
  EXPECT_NE(Leaderboard({"--format", "html"}).out.find("<svg class=\"chart\""), std::string::npos);
}

TEST_F(LeaderboardTest, RunsCanBeNamed) {
  WriteRun("GPU-21bdf09a-6f2c");
  WriteRun("GPU-21bdf09a-6f2c");
  const BinaryOutput out = Leaderboard({"2", "--format", "json"});
  ASSERT_EQ(out.code, 0) << out.err;
  EXPECT_NE(out.out.find("Pooled over 1 run(s) (run 2 of"), std::string::npos) << out.out;
}

TEST_F(LeaderboardTest, MissingDatabaseIsAUsageError) {
  const BinaryOutput out = Leaderboard({"--db", (dir_ / "nope.db").string()});
  EXPECT_EQ(out.code, 2);
  EXPECT_NE(out.err.find("nope.db: no such file"), std::string::npos) << out.err;
}

}  // namespace
}  // namespace tritonize

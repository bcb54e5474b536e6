#include "store/store.h"
#include "store/schema.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>

namespace tritonize {
namespace {

namespace fs = std::filesystem;

class StoreTest : public testing::Test {
 protected:
  void SetUp() override {
    const auto* info = testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::path(testing::TempDir()) /
           ("tritonize_store_" + std::string(info->name()) + "_" + std::to_string(getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    db_path_ = dir_ / "results.db";
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::unique_ptr<Store> OpenOrFail() {
    std::string err;
    auto store = Store::Open(db_path_, &err);
    EXPECT_NE(store, nullptr) << err;
    return store;
  }

  // One integer from a query on a separate, raw connection: what is really in the file.
  int64_t QueryInt(const std::string& sql) {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open(db_path_.c_str(), &db), SQLITE_OK);
    sqlite3_stmt* stmt = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK) << sql;
    int64_t value = -1;
    if (sqlite3_step(stmt) == SQLITE_ROW) value = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return value;
  }

  fs::path dir_;
  fs::path db_path_;
};

Task MakeTask(const std::string& name) {
  Task task;
  task.name = name;
  task.description = "test task";
  return task;
}

Implementation MakeImpl(ImplKind kind, const std::string& name, const std::string& hash) {
  Implementation impl;
  impl.kind = kind;
  impl.name = name;
  impl.path = "/abs/" + name + ".py";
  impl.content_hash = hash;
  impl.metadata = {{"prompt", "p1"}};
  return impl;
}

JobResult MakeOkResult() {
  JobResult result;
  result.status = Status::kOk;
  result.phase = "time";
  result.wall_s = 12.5;
  result.environment = {{"gpu", "NVIDIA H100"}, {"torch", "2.11.0"}};
  result.checks.push_back(
      {"1823x781", 0, "forward", "y", true, 1.5e-7, 3e-6, 0, 1423763, 1e-6, 1e-4});
  result.checks.push_back(
      {"1823x781", 1, "forward", "y", true, 2.5e-7, 4e-6, 0, 1423763, 1e-6, 1e-4});
  Timing timing;
  timing.size = "1024x1024";
  timing.mode = "forward";
  timing.kernel_us = {12.1, 12.0, 12.3, 11.9};
  timing.call_us = {20.3, 19.8, 21.0};
  timing.kernels = {{"softmax_kernel", 1}};
  timing.first_call_s = 1.9;
  result.timings.push_back(timing);
  timing.size = "2048x2048";
  timing.kernel_us = {40.0, 41.0};
  result.timings.push_back(timing);
  return result;
}

TEST_F(StoreTest, CreatesSchemaWithUserVersionAndWal) {
  ASSERT_NE(OpenOrFail(), nullptr);
  EXPECT_EQ(QueryInt("PRAGMA user_version"), kStoreSchemaVersion);
  EXPECT_EQ(QueryInt("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name IN"
                     " ('runs', 'implementations', 'jobs', 'checks', 'results')"),
            5);
  EXPECT_EQ(QueryInt("SELECT journal_mode = 'wal' FROM pragma_journal_mode"), 1);
}

TEST_F(StoreTest, CreatesMissingParentDirectory) {
  db_path_ = dir_ / "a" / "b" / "results.db";
  ASSERT_NE(OpenOrFail(), nullptr);
  EXPECT_TRUE(fs::exists(db_path_));
}

TEST_F(StoreTest, JobRoundTripsWithChecksAndResults) {
  auto store = OpenOrFail();
  std::string err;
  const int64_t run = store->BeginRun("tritonize bench", {{"host", "h1"}}, &err);
  ASSERT_NE(run, 0) << err;
  const JobResult written = MakeOkResult();
  ASSERT_TRUE(store->RecordJob(run, MakeTask("softmax"),
                               MakeImpl(ImplKind::kExpert, "expert", "abc"), written, &err))
      << err;

  std::vector<StoredJob> jobs;
  ASSERT_TRUE(store->Jobs(run, &jobs, &err)) << err;
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0].task, "softmax");
  EXPECT_EQ(jobs[0].implementation, "expert");
  EXPECT_EQ(jobs[0].status, Status::kOk);
  EXPECT_EQ(jobs[0].content_hash, "abc");
  EXPECT_EQ(jobs[0].results, 2);

  JobResult read;
  ASSERT_TRUE(store->LoadJobResult(jobs[0].id, &read, &err)) << err;
  EXPECT_EQ(read.status, Status::kOk);
  EXPECT_EQ(read.phase, "time");
  EXPECT_DOUBLE_EQ(read.wall_s, 12.5);
  EXPECT_EQ(read.environment, written.environment);
  ASSERT_EQ(read.checks.size(), 2u);
  EXPECT_EQ(read.checks[1].seed, 1);
  EXPECT_EQ(read.checks[1].numel, 1423763);
  EXPECT_DOUBLE_EQ(read.checks[1].max_abs_err, 2.5e-7);
  EXPECT_TRUE(read.checks[1].ok);
  ASSERT_EQ(read.timings.size(), 2u);
  EXPECT_EQ(read.timings[0].size, "1024x1024");
  EXPECT_EQ(read.timings[0].kernel_us, written.timings[0].kernel_us);  // exact: JSON round-trips
  EXPECT_EQ(read.timings[0].call_us, written.timings[0].call_us);
  EXPECT_EQ(read.timings[0].kernels, written.timings[0].kernels);
  EXPECT_DOUBLE_EQ(read.timings[0].first_call_s, 1.9);
  EXPECT_EQ(read.timings[1].kernel_us, written.timings[1].kernel_us);
}

// A NaN output's figures (NaN, infinite and huge errors) are kept, not turned into 0.
TEST_F(StoreTest, NonFiniteCheckFiguresRoundTrip) {
  auto store = OpenOrFail();
  std::string err;
  const int64_t run = store->BeginRun("tritonize bench", {{"host", "h1"}}, &err);
  ASSERT_NE(run, 0) << err;
  JobResult written = MakeOkResult();
  written.status = Status::kWrongResult;
  written.timings.clear();
  written.checks[0].ok = false;
  written.checks[0].max_abs_err = std::numeric_limits<double>::quiet_NaN();
  written.checks[0].max_rel_err = std::numeric_limits<double>::infinity();
  written.checks[1].ok = false;
  written.checks[1].max_abs_err = -std::numeric_limits<double>::infinity();
  written.checks[1].max_rel_err = 1e300;
  ASSERT_TRUE(store->RecordJob(run, MakeTask("softmax"), MakeImpl(ImplKind::kLlm, "llm:m", "h"),
                               written, &err))
      << err;
  std::vector<StoredJob> jobs;
  ASSERT_TRUE(store->Jobs(run, &jobs, &err)) << err;
  JobResult read;
  ASSERT_TRUE(store->LoadJobResult(jobs[0].id, &read, &err)) << err;
  ASSERT_EQ(read.checks.size(), 2u);
  EXPECT_TRUE(std::isnan(read.checks[0].max_abs_err));
  EXPECT_EQ(read.checks[0].max_rel_err, std::numeric_limits<double>::infinity());
  EXPECT_EQ(read.checks[1].max_abs_err, -std::numeric_limits<double>::infinity());
  EXPECT_EQ(read.checks[1].max_rel_err, 1e300);
}

TEST_F(StoreTest, RepeatProcessAndNonSampleFiguresRoundTrip) {
  auto store = OpenOrFail();
  std::string err;
  const int64_t run = store->BeginRun("tritonize bench --repeat 3", {}, &err);
  JobResult written = MakeOkResult();
  written.process = 2;
  written.timings[0].host_us = {95.5, 96.0, 97.25};
  written.timings[0].sampling = {{"stop", "converged"}, {"batches", 3}, {"clock_low", false}};
  written.timings[0].env_before = {{"sm_clock_mhz", 1980}};
  written.timings[0].env_after = {{"sm_clock_mhz", 1965}};
  written.timings[0].tuned = {{"matmul_kernel", "BLOCK_M: 128, num_warps: 8"}};
  written.timings[0].kernel_median_us = {{"matmul_kernel", 6.78}, {"memset", 0.5}};
  ASSERT_TRUE(store->RecordJob(run, MakeTask("softmax"),
                               MakeImpl(ImplKind::kExpert, "expert", "abc"), written, &err))
      << err;
  std::vector<StoredJob> jobs;
  ASSERT_TRUE(store->Jobs(run, &jobs, &err)) << err;
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0].process, 2);
  JobResult read;
  ASSERT_TRUE(store->LoadJobResult(jobs[0].id, &read, &err)) << err;
  EXPECT_EQ(read.process, 2);
  ASSERT_EQ(read.timings.size(), 2u);
  EXPECT_EQ(read.timings[0].process, 2);
  EXPECT_EQ(read.timings[0].host_us, written.timings[0].host_us);
  EXPECT_EQ(read.timings[0].sampling, written.timings[0].sampling);
  EXPECT_EQ(read.timings[0].env_before, written.timings[0].env_before);
  EXPECT_EQ(read.timings[0].env_after, written.timings[0].env_after);
  EXPECT_EQ(read.timings[0].tuned, written.timings[0].tuned);
  EXPECT_TRUE(read.timings[1].tuned.empty());
  EXPECT_EQ(read.timings[0].kernel_median_us, written.timings[0].kernel_median_us);
  EXPECT_TRUE(read.timings[1].kernel_median_us.empty());
}

// A store written by the first release (schema 1) is migrated in place; its jobs keep their
// data and read back as the first process.
TEST_F(StoreTest, SchemaOneStoreIsMigratedKeepingItsJobs) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(db_path_.c_str(), &db), SQLITE_OK);
  const std::string v1 = std::string(SchemaMigration(0)) + R"sql(
INSERT INTO runs VALUES (1, '2026-11-25T01:00:00Z', NULL, 'tritonize bench', '0.1', 'running', '{}');
INSERT INTO implementations VALUES (1, 'expert', 'expert', '', 'abc', '/e.py', '{}');
INSERT INTO jobs VALUES (1, 1, 'softmax', 1, 'ok', '', '', 'time', 3.5, '{}', '2026-11-25T01:00:05Z');
INSERT INTO results (job_id, size, mode, kernel_us, call_us, kernel_n, call_n, kernels, first_call_s)
  VALUES (1, '1024x1024', 'forward', '[1.5,2.5]', '[3.0]', 2, 1, '{}', 0.25);
PRAGMA user_version = 1;
)sql";
  ASSERT_EQ(sqlite3_exec(db, v1.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);

  auto store = OpenOrFail();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(QueryInt("PRAGMA user_version"), kStoreSchemaVersion);
  std::string err;
  std::vector<StoredJob> jobs;
  ASSERT_TRUE(store->Jobs(1, &jobs, &err)) << err;
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0].process, 0);
  JobResult read;
  ASSERT_TRUE(store->LoadJobResult(1, &read, &err)) << err;
  ASSERT_EQ(read.timings.size(), 1u);
  EXPECT_EQ(read.timings[0].kernel_us, (std::vector<double>{1.5, 2.5}));
  EXPECT_TRUE(read.timings[0].host_us.empty());
}

TEST_F(StoreTest, ResultsHoldSummaryColumns) {
  auto store = OpenOrFail();
  std::string err;
  const int64_t run = store->BeginRun("cmd", nlohmann::json::object(), &err);
  ASSERT_TRUE(store->RecordJob(run, MakeTask("softmax"),
                               MakeImpl(ImplKind::kBaseline, "baseline", "h"), MakeOkResult(),
                               &err))
      << err;
  store.reset();
  // kernel_us {12.1, 12.0, 12.3, 11.9}: median 12.05, n 4; stored as integers * 100 to compare.
  EXPECT_EQ(QueryInt("SELECT CAST(round(kernel_median * 100) AS INTEGER) FROM results"
                     " WHERE size = '1024x1024'"),
            1205);
  EXPECT_EQ(QueryInt("SELECT kernel_n FROM results WHERE size = '1024x1024'"), 4);
  EXPECT_EQ(QueryInt("SELECT call_n FROM results WHERE size = '1024x1024'"), 3);
}

TEST_F(StoreTest, TwoJobsInOneRun) {
  auto store = OpenOrFail();
  std::string err;
  const int64_t run = store->BeginRun("cmd", nlohmann::json::object(), &err);
  ASSERT_TRUE(store->RecordJob(run, MakeTask("softmax"),
                               MakeImpl(ImplKind::kBaseline, "baseline", "h1"), MakeOkResult(),
                               &err))
      << err;
  JobResult failed;
  failed.status = Status::kWrongResult;
  failed.message = "y differs at 1823x781 seed 0";
  failed.phase = "check";
  failed.checks.push_back(
      {"1823x781", 0, "forward", "y", false, 0.5, 0.1, 523, 1423763, 1e-2, 1e-2});
  ASSERT_TRUE(store->RecordJob(run, MakeTask("softmax"),
                               MakeImpl(ImplKind::kLlm, "llm:claude-x", "h2"), failed, &err))
      << err;

  std::vector<StoredJob> jobs;
  ASSERT_TRUE(store->Jobs(run, &jobs, &err)) << err;
  ASSERT_EQ(jobs.size(), 2u);
  EXPECT_EQ(jobs[0].implementation, "baseline");
  EXPECT_EQ(jobs[1].implementation, "llm:claude-x");
  EXPECT_EQ(jobs[1].status, Status::kWrongResult);
  EXPECT_EQ(jobs[1].results, 0);
  JobResult read;
  ASSERT_TRUE(store->LoadJobResult(jobs[1].id, &read, &err)) << err;
  EXPECT_EQ(read.message, "y differs at 1823x781 seed 0");
  ASSERT_EQ(read.checks.size(), 1u);
  EXPECT_FALSE(read.checks[0].ok);
  EXPECT_EQ(read.checks[0].mismatches, 523);
}

TEST_F(StoreTest, JobsAreListedPerRun) {
  auto store = OpenOrFail();
  std::string err;
  const int64_t first = store->BeginRun("one", nlohmann::json::object(), &err);
  const int64_t second = store->BeginRun("two", nlohmann::json::object(), &err);
  ASSERT_NE(first, second);
  ASSERT_TRUE(store->RecordJob(second, MakeTask("matmul"),
                               MakeImpl(ImplKind::kBaseline, "baseline", "m"), MakeOkResult(),
                               &err))
      << err;
  std::vector<StoredJob> jobs;
  ASSERT_TRUE(store->Jobs(first, &jobs, &err)) << err;
  EXPECT_TRUE(jobs.empty());
  ASSERT_TRUE(store->Jobs(second, &jobs, &err)) << err;
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0].task, "matmul");
}

TEST_F(StoreTest, SameImplementationIsStoredOnce) {
  auto store = OpenOrFail();
  std::string err;
  const Implementation impl = MakeImpl(ImplKind::kExpert, "expert", "same");
  for (int i = 0; i < 2; ++i) {
    const int64_t run = store->BeginRun("cmd", nlohmann::json::object(), &err);
    ASSERT_TRUE(store->RecordJob(run, MakeTask("softmax"), impl, MakeOkResult(), &err)) << err;
  }
  ASSERT_TRUE(store->RecordJob(
      1, MakeTask("softmax"), MakeImpl(ImplKind::kExpert, "expert", "other"), MakeOkResult(), &err))
      << err;
  store.reset();
  EXPECT_EQ(QueryInt("SELECT COUNT(*) FROM implementations"), 2);
  EXPECT_EQ(QueryInt("SELECT COUNT(*) FROM jobs"), 3);
}

TEST_F(StoreTest, ReopeningKeepsData) {
  std::string err;
  int64_t run = 0;
  {
    auto store = OpenOrFail();
    run = store->BeginRun("tritonize bench --tasks softmax", {{"interpret", false}}, &err);
    ASSERT_TRUE(store->RecordJob(run, MakeTask("softmax"),
                                 MakeImpl(ImplKind::kBaseline, "baseline", "h"), MakeOkResult(),
                                 &err))
        << err;
    ASSERT_TRUE(store->FinishRun(run, "finished", &err)) << err;
  }
  auto store = OpenOrFail();
  StoredRun stored;
  ASSERT_TRUE(store->Run(run, &stored, &err)) << err;
  EXPECT_EQ(stored.command_line, "tritonize bench --tasks softmax");
  EXPECT_EQ(stored.status, "finished");
  EXPECT_EQ(stored.engine_version, TRITONIZE_VERSION);
  EXPECT_EQ(stored.environment, nlohmann::json({{"interpret", false}}));
  std::vector<StoredJob> jobs;
  ASSERT_TRUE(store->Jobs(run, &jobs, &err)) << err;
  EXPECT_EQ(jobs.size(), 1u);
  EXPECT_EQ(store->BeginRun("again", nlohmann::json::object(), &err), run + 1);
}

TEST_F(StoreTest, RunTimesAreUtcIso8601) {
  auto store = OpenOrFail();
  std::string err;
  const int64_t run = store->BeginRun("cmd", nlohmann::json::object(), &err);
  StoredRun stored;
  ASSERT_TRUE(store->Run(run, &stored, &err)) << err;
  EXPECT_EQ(stored.status, "running");
  EXPECT_TRUE(stored.finished_at.empty());
  ASSERT_TRUE(store->FinishRun(run, "interrupted", &err)) << err;
  ASSERT_TRUE(store->Run(run, &stored, &err)) << err;
  EXPECT_EQ(stored.status, "interrupted");
  // 2025-01-31T12:34:56Z
  ASSERT_EQ(stored.started_at.size(), 20u) << stored.started_at;
  EXPECT_EQ(stored.started_at[10], 'T');
  EXPECT_EQ(stored.started_at.back(), 'Z');
  EXPECT_EQ(stored.finished_at.size(), 20u) << stored.finished_at;
}

TEST_F(StoreTest, UpdateRunEnvironmentReplacesIt) {
  auto store = OpenOrFail();
  std::string err;
  const int64_t run = store->BeginRun("cmd", {{"a", 1}}, &err);
  ASSERT_TRUE(store->UpdateRunEnvironment(run, {{"worker", {{"gpu", "H100"}}}}, &err)) << err;
  StoredRun stored;
  ASSERT_TRUE(store->Run(run, &stored, &err)) << err;
  EXPECT_EQ(stored.environment["worker"]["gpu"], "H100");
  EXPECT_FALSE(store->UpdateRunEnvironment(run + 7, {{"a", 1}}, &err));
  EXPECT_NE(err.find("no run"), std::string::npos) << err;
}

TEST_F(StoreTest, FinishRunRejectsUnknownStatusAndRun) {
  auto store = OpenOrFail();
  std::string err;
  const int64_t run = store->BeginRun("cmd", nlohmann::json::object(), &err);
  EXPECT_FALSE(store->FinishRun(run, "done", &err));
  EXPECT_NE(err.find("'done'"), std::string::npos) << err;
  err.clear();
  EXPECT_FALSE(store->FinishRun(run + 1, "finished", &err));
  EXPECT_NE(err.find("no run " + std::to_string(run + 1)), std::string::npos) << err;
}

TEST_F(StoreTest, RecordJobForUnknownRunFailsOnForeignKey) {
  auto store = OpenOrFail();
  std::string err;
  EXPECT_FALSE(store->RecordJob(42, MakeTask("softmax"),
                                MakeImpl(ImplKind::kBaseline, "baseline", "h"), MakeOkResult(),
                                &err));
  EXPECT_NE(err.find(db_path_.string()), std::string::npos) << err;
  EXPECT_NE(err.find("FOREIGN KEY"), std::string::npos) << err;
  store.reset();
  // The failed transaction left nothing behind, not even the implementation.
  EXPECT_EQ(QueryInt("SELECT COUNT(*) FROM implementations"), 0);
}

TEST_F(StoreTest, FileThatIsNotADatabaseIsAClearError) {
  {
    std::ofstream file(db_path_);
    file << std::string(4096, 'x');
  }
  std::string err;
  EXPECT_EQ(Store::Open(db_path_, &err), nullptr);
  EXPECT_NE(err.find(db_path_.string()), std::string::npos) << err;
  EXPECT_NE(err.find("not a database"), std::string::npos) << err;
}

TEST_F(StoreTest, NewerSchemaVersionIsRefusedAndLeftUntouched) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(db_path_.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "CREATE TABLE future (x); PRAGMA user_version = 99", nullptr, nullptr,
                         nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  std::string err;
  EXPECT_EQ(Store::Open(db_path_, &err), nullptr);
  EXPECT_NE(err.find(db_path_.string()), std::string::npos) << err;
  EXPECT_NE(err.find("version 99 is newer"), std::string::npos) << err;
  EXPECT_EQ(QueryInt("PRAGMA user_version"), 99);
  EXPECT_EQ(QueryInt("SELECT journal_mode = 'delete' FROM pragma_journal_mode"), 1);
  EXPECT_EQ(QueryInt("SELECT COUNT(*) FROM sqlite_master WHERE name = 'runs'"), 0);
}

TEST_F(StoreTest, UncreatableDirectoryIsAClearError) {
  { std::ofstream file(dir_ / "plain_file"); }
  db_path_ = dir_ / "plain_file" / "results.db";
  std::string err;
  EXPECT_EQ(Store::Open(db_path_, &err), nullptr);
  EXPECT_NE(err.find(db_path_.string()), std::string::npos) << err;
}

TEST_F(StoreTest, JobCommittedBeforeAKillSurvives) {
  std::string err;
  int64_t run = 0;
  {
    auto store = OpenOrFail();
    run = store->BeginRun("cmd", nlohmann::json::object(), &err);
    ASSERT_NE(run, 0) << err;
  }
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // The engine is killed right after RecordJob returns: no FinishRun, no destructor.
    std::string child_err;
    auto store = Store::Open(db_path_, &child_err);
    if (store &&
        store->RecordJob(run, MakeTask("softmax"), MakeImpl(ImplKind::kBaseline, "baseline", "h"),
                         MakeOkResult(), &child_err)) {
      raise(SIGKILL);
    }
    _exit(3);
  }
  int wstatus = 0;
  ASSERT_EQ(waitpid(child, &wstatus, 0), child);
  ASSERT_TRUE(WIFSIGNALED(wstatus)) << "the child failed to record the job";
  auto store = OpenOrFail();
  std::vector<StoredJob> jobs;
  ASSERT_TRUE(store->Jobs(run, &jobs, &err)) << err;
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0].results, 2);
  StoredRun stored;
  ASSERT_TRUE(store->Run(run, &stored, &err)) << err;
  EXPECT_EQ(stored.status, "running");
}

}  // namespace
}  // namespace tritonize

namespace tritonize {
namespace {

TEST(StoreRunsTest, ListsEveryRunOldestFirstAndJobsKeepTheirImplementationsMetadata) {
  const fs::path db =
      fs::path(testing::TempDir()) / ("tritonize_store_runs_" + std::to_string(getpid()) + ".db");
  fs::remove(db);
  std::string err;
  auto store = Store::Open(db, &err);
  ASSERT_NE(store, nullptr) << err;
  std::vector<StoredRun> runs;
  ASSERT_TRUE(store->Runs(&runs, &err)) << err;
  EXPECT_TRUE(runs.empty());
  const int64_t first = store->BeginRun("tritonize bench", {{"interpret", false}}, &err);
  const int64_t second =
      store->BeginRun("tritonize bench --tasks all", {{"interpret", true}}, &err);
  Implementation impl = MakeImpl(ImplKind::kLlm, "llm:m:s0-t2", "h");
  impl.model_id = "m";
  impl.metadata = {{"sample", 0}, {"turn", 2}, {"cost_usd", 0.01}};
  ASSERT_TRUE(store->RecordJob(second, MakeTask("softmax"), impl, MakeOkResult(), &err)) << err;
  ASSERT_TRUE(store->Runs(&runs, &err)) << err;
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[0].id, first);
  EXPECT_EQ(runs[1].id, second);
  EXPECT_EQ(runs[1].command_line, "tritonize bench --tasks all");
  EXPECT_TRUE(runs[1].environment["interpret"].get<bool>());
  std::vector<StoredJob> jobs;
  ASSERT_TRUE(store->Jobs(second, &jobs, &err)) << err;
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0].model_id, "m");
  EXPECT_EQ(jobs[0].metadata["turn"], 2);
  EXPECT_EQ(jobs[0].metadata["cost_usd"], 0.01);
  store.reset();
  fs::remove(db);
}

}  // namespace
}  // namespace tritonize

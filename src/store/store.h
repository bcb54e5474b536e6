#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "core/implementation.h"
#include "core/job.h"
#include "core/status.h"
#include "core/task.h"

struct sqlite3;

namespace tritonize {

/// The on-disk schema version of the whole database file, kept in `PRAGMA user_version`. Bump
/// it with a new entry in schema.cpp's migration list whenever a table changes, whichever class
/// owns the table (Store, GenerationStore, EvaluationQueue).
constexpr int kStoreSchemaVersion = 4;

/// One job as stored: enough for `--resume` to know what is already done.
struct StoredJob {
  int64_t id = 0;
  std::string task;
  std::string implementation;  // Implementation::name
  Status status = Status::kCrashed;
  std::string content_hash;
  int results = 0;  // timed (size, mode) rows
  int process = 0;  // which of --repeat's fresh processes ran it, 0-based
  std::string model_id;                                // Implementation::model_id
  nlohmann::json metadata = nlohmann::json::object();  // Implementation::metadata
};

struct StoredRun {
  int64_t id = 0;
  std::string started_at;   // UTC ISO-8601
  std::string finished_at;  // empty while running
  std::string command_line;
  std::string engine_version;
  std::string status;  // running | finished | interrupted
  nlohmann::json environment;
};

/// The results store: one SQLite file, written job by job so that a killed engine loses
/// nothing it had finished. Every error names the file and carries SQLite's message.
class Store {
 public:
  /// Opens or creates the database at `path` (and its parent directory), migrating an older
  /// schema. Refuses a file that is not a database or has a newer schema than this engine.
  static std::unique_ptr<Store> Open(const std::filesystem::path& path, std::string* err);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  /// Starts a run in status `running`; returns its id, or 0 with *err set.
  int64_t BeginRun(const std::string& command_line, const nlohmann::json& environment,
                   std::string* err);
  bool UpdateRunEnvironment(int64_t run_id, const nlohmann::json& environment, std::string* err);
  /// `status` is finished or interrupted.
  bool FinishRun(int64_t run_id, const std::string& status, std::string* err);

  /// Stores one job with its checks and timings in one transaction, committed on return.
  /// `replaces`: a job of the same run that this one runs again (`bench --resume --rerun`),
  /// deleted in that transaction with its checks and timings, so the run never holds both
  /// verdicts nor neither; the caller keeps the old verdict in the new job's environment.
  bool RecordJob(int64_t run_id, const Task& task, const Implementation& impl,
                 const JobResult& result, std::string* err, int64_t replaces = 0);

  bool Run(int64_t run_id, StoredRun* run, std::string* err);
  /// The newest run that did not finish (killed or interrupted), for `bench --resume`;
  /// *run_id is 0 when every run finished.
  bool LastUnfinishedRun(int64_t* run_id, std::string* err);
  /// Every run, oldest first.
  bool Runs(std::vector<StoredRun>* runs, std::string* err);
  /// The newest run, finished or not; *run_id is 0 when the store has none.
  bool NewestRun(int64_t* run_id, std::string* err);
  /// Marks an unfinished run as running again (its finished jobs stay).
  bool ReopenRun(int64_t run_id, std::string* err);
  /// The run's jobs, in the order they were recorded.
  bool Jobs(int64_t run_id, std::vector<StoredJob>* jobs, std::string* err);
  /// Rebuilds a stored job's JobResult (status, messages, checks, raw timing samples).
  bool LoadJobResult(int64_t job_id, JobResult* result, std::string* err);

  const std::filesystem::path& path() const { return path_; }

 private:
  // The serve queue's tables live in the same file and record a finished evaluation's job in
  // the transaction that stores its verdict (store/evaluation_queue.h).
  friend class EvaluationQueue;

  Store(std::filesystem::path path, sqlite3* db) : path_(std::move(path)), db_(db) {}
  /// RecordJob's rows, inside a transaction the caller holds.
  bool InsertJobRows(int64_t run_id, const Task& task, const Implementation& impl,
                     const JobResult& result, int64_t* job_id, std::string* err);
  bool InsertJob(int64_t run_id, const Task& task, int64_t impl_id, const JobResult& result,
                 int64_t* job_id, std::string* err);
  bool UpsertImplementation(const Implementation& impl, int64_t* id, std::string* err);
  std::string Error(const std::string& what) const;

  std::filesystem::path path_;
  sqlite3* db_;
};

}  // namespace tritonize

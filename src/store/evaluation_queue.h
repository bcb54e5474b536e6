#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/implementation.h"
#include "core/job.h"
#include "core/task.h"
#include "store/store.h"

namespace tritonize {

/// Where an evaluation of `tritonize serve` is (docs/serve.md): waiting, in a lane (the
/// reference and the candidate's checks; then its timing, when timing is on), finished with a
/// verdict, or cancelled before it had one.
enum class EvaluationStatus { kQueued, kPreparing, kTiming, kDone, kCancelled };

std::string_view EvaluationStatusName(EvaluationStatus status);
std::optional<EvaluationStatus> ParseEvaluationStatus(std::string_view name);

/// One submission as the queue stores it. `options` is already validated and canonical, so
/// that equal submissions have equal `content_key`s.
struct NewEvaluation {
  std::string content_key;  // sha256 of task, code and options
  std::string task;
  std::string code;
  nlohmann::json options = nlohmann::json::object();
  std::string client;  // the submitter's address, for the record
  bool force = false;  // run again even when an equal submission has a verdict
};

struct EvaluationRecord {
  int64_t id = 0;
  std::string content_key;
  std::string task;
  std::string code;
  nlohmann::json options = nlohmann::json::object();
  EvaluationStatus status = EvaluationStatus::kQueued;
  bool cancel_requested = false;
  int attempts = 0;  // how many times a lane took it (more than 1 only after a restart)
  std::string client;
  std::string submitted_at, started_at, finished_at;  // UTC ISO-8601; empty until then
  nlohmann::json verdict;  // when done: EvalJson's object
  int64_t job_id = 0;      // when done and run: the stored job (checks, raw samples)
  int64_t position = -1;   // when queued: how many queued evaluations are ahead of it
};

/// What a submission got: a new evaluation, or an equal one that already exists.
struct AcceptedEvaluation {
  int64_t id = 0;
  EvaluationStatus status = EvaluationStatus::kQueued;
  int64_t position = -1;
  bool existing = false;  // an equal submission's evaluation (not cancelled), not a new one
};

struct QueueCounts {
  int64_t queued = 0;
  int64_t running = 0;  // preparing or timing
  int64_t done = 0;
  int64_t cancelled = 0;
};

/// What Recover did with the evaluations a stopped server left in a lane.
struct Recovery {
  int requeued = 0;
  int cancelled = 0;  // a cancel had been asked for
  int given_up = 0;   // taken `max_attempts` times already: done, with a crashed verdict
};

/// The durable queue of `tritonize serve`, in the results store's file: every accepted
/// evaluation is a committed row before the client hears of it, so a killed server restarts
/// with all of them; a verdict is committed with its job in one transaction, so none is stored
/// twice. Thread-safe: the HTTP threads and the lanes share one connection, one at a time.
class EvaluationQueue {
 public:
  static std::unique_ptr<EvaluationQueue> Open(const std::filesystem::path& path,
                                               std::string* err);

  /// Adds a batch, all or nothing: *full (and nothing added) when the queued evaluations would
  /// exceed `max_queued`. An equal submission (same content key) that is queued, running or done
  /// is answered with its own evaluation unless `force`.
  bool Submit(const std::vector<NewEvaluation>& batch, int64_t max_queued,
              std::vector<AcceptedEvaluation>* accepted, bool* full, std::string* err);

  /// Takes the oldest queued evaluation into a lane (status preparing, attempts + 1); *found
  /// false when none is queued.
  bool Claim(EvaluationRecord* record, bool* found, std::string* err);
  /// preparing -> timing: the candidate's checks passed and it is being timed.
  bool MarkTiming(int64_t id, std::string* err);
  /// Stores the verdict, and the job with its checks and samples under a run of its own, in
  /// one transaction. An evaluation whose cancel was asked for meanwhile becomes cancelled
  /// and keeps no verdict.
  bool Finish(int64_t id, const Task& task, const Implementation& impl, const JobResult& result,
              const nlohmann::json& verdict, std::string* err);
  /// Done without a job: a verdict the server gives itself (a candidate it could not run).
  bool FinishWithoutJob(int64_t id, const nlohmann::json& verdict, std::string* err);
  /// A lane let go of it unfinished (the server is stopping): queued again, at its place.
  bool Requeue(int64_t id, std::string* err);
  /// A lane stopped it because its cancel was asked for.
  bool MarkCancelled(int64_t id, std::string* err);

  enum class CancelOutcome { kCancelled, kCancelling, kAlreadyDone, kNotFound };
  /// Queued: cancelled now. In a lane: the cancel is recorded (the lane stops it, and a
  /// restarted server does not run it again). Done or cancelled: nothing changes.
  bool Cancel(int64_t id, CancelOutcome* outcome, std::string* err);

  bool Get(int64_t id, EvaluationRecord* record, bool* found, std::string* err);
  bool Counts(QueueCounts* counts, std::string* err);

  /// At start: the evaluations a stopped server (killed, or stopped mid-evaluation) left in a
  /// lane go back to the queue at their place, unless their cancel was asked for, or they were
  /// taken `max_attempts` times already (a candidate that takes the server down each time):
  /// those are done with the verdict `given_up_verdict` makes for them.
  bool Recover(int max_attempts,
               const std::function<nlohmann::json(const EvaluationRecord&)>& given_up_verdict,
               Recovery* recovery, std::string* err);

  const std::filesystem::path& path() const { return store_->path(); }

 private:
  explicit EvaluationQueue(std::unique_ptr<Store> store) : store_(std::move(store)) {}
  bool Position(int64_t id, int64_t* position, std::string* err);
  bool SetDone(int64_t id, const nlohmann::json& verdict, int64_t job_id, std::string* err);

  std::unique_ptr<Store> store_;
  std::mutex mutex_;
};

}  // namespace tritonize

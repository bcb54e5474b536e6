#include "store/evaluation_queue.h"

#include <sqlite3.h>

#include <array>
#include <limits>
#include <utility>

#include "store/statement.h"

namespace tritonize {
namespace {

constexpr std::array<std::string_view, 5> kStatusNames = {"queued", "preparing", "timing", "done",
                                                          "cancelled"};

constexpr const char* kNow = "strftime('%Y-%m-%dT%H:%M:%SZ', 'now')";

std::string Dump(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

nlohmann::json Parse(const std::string& text) {
  if (text.empty()) return nullptr;
  return nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
}

constexpr const char* kSelectColumns =
    "SELECT id, content_key, task, code, options, status, cancel_requested, attempts, client,"
    " submitted_at, started_at, finished_at, verdict, job_id FROM evaluations";

void ReadRecord(const Statement& s, EvaluationRecord* r) {
  r->id = s.Int(0);
  r->content_key = s.Text(1);
  r->task = s.Text(2);
  r->code = s.Text(3);
  r->options = Parse(s.Text(4));
  r->status = ParseEvaluationStatus(s.Text(5)).value_or(EvaluationStatus::kQueued);
  r->cancel_requested = s.Int(6) != 0;
  r->attempts = static_cast<int>(s.Int(7));
  r->client = s.Text(8);
  r->submitted_at = s.Text(9);
  r->started_at = s.Text(10);
  r->finished_at = s.Text(11);
  r->verdict = Parse(s.Text(12));
  r->job_id = s.Int(13);
}

}  // namespace

std::string_view EvaluationStatusName(EvaluationStatus status) {
  return kStatusNames[static_cast<size_t>(status)];
}

std::optional<EvaluationStatus> ParseEvaluationStatus(std::string_view name) {
  for (size_t i = 0; i < kStatusNames.size(); ++i) {
    if (kStatusNames[i] == name) return static_cast<EvaluationStatus>(i);
  }
  return std::nullopt;
}

std::unique_ptr<EvaluationQueue> EvaluationQueue::Open(const std::filesystem::path& path,
                                                       std::string* err) {
  std::unique_ptr<Store> store = Store::Open(path, err);
  if (!store) return nullptr;
  return std::unique_ptr<EvaluationQueue>(new EvaluationQueue(std::move(store)));
}

bool EvaluationQueue::Position(int64_t id, int64_t* position, std::string* err) {
  Statement count(store_->db_,
                  "SELECT COUNT(*) FROM evaluations WHERE status = 'queued' AND id < ?");
  count.Bind(1, id);
  if (count.Step() != SQLITE_ROW) {
    *err = store_->Error("counting the queue");
    return false;
  }
  *position = count.Int(0);
  return true;
}

bool EvaluationQueue::Submit(const std::vector<NewEvaluation>& batch, int64_t max_queued,
                             std::vector<AcceptedEvaluation>* accepted, bool* full,
                             std::string* err) {
  std::lock_guard<std::mutex> lock(mutex_);
  sqlite3* db = store_->db_;
  accepted->clear();
  *full = false;
  Transaction tx(db);
  if (!tx.Begin()) {
    *err = store_->Error("starting a submission");
    return false;
  }
  Statement count(db, "SELECT COUNT(*) FROM evaluations WHERE status = 'queued'");
  if (count.Step() != SQLITE_ROW) {
    *err = store_->Error("counting the queue");
    return false;
  }
  int64_t queued = count.Int(0);
  for (const NewEvaluation& item : batch) {
    AcceptedEvaluation answer;
    if (!item.force) {
      // The newest equal submission that was not cancelled answers for this one.
      Statement same(db,
                     "SELECT id, status FROM evaluations WHERE content_key = ?"
                     " AND status != 'cancelled' ORDER BY id DESC LIMIT 1");
      same.Bind(1, item.content_key);
      const int rc = same.Step();
      if (rc == SQLITE_ROW) {
        answer.id = same.Int(0);
        answer.status = ParseEvaluationStatus(same.Text(1)).value_or(EvaluationStatus::kQueued);
        answer.existing = true;
      } else if (rc != SQLITE_DONE) {
        *err = store_->Error("looking for an equal submission");
        return false;
      }
    }
    if (!answer.existing) {
      if (queued >= max_queued) {
        *full = true;
        accepted->clear();
        return true;  // the transaction rolls back: nothing of the batch is kept
      }
      Statement insert(db, (std::string("INSERT INTO evaluations (content_key, task, code, options,"
                                        " status, client, submitted_at) VALUES (?, ?, ?, ?,"
                                        " 'queued', ?, ") +
                            kNow + ")")
                               .c_str());
      insert.Bind(1, item.content_key)
          .Bind(2, item.task)
          .Bind(3, item.code)
          .Bind(4, Dump(item.options))
          .Bind(5, item.client);
      if (!insert.Run()) {
        *err = store_->Error("queueing an evaluation");
        return false;
      }
      answer.id = sqlite3_last_insert_rowid(db);
      ++queued;
    }
    if (answer.status == EvaluationStatus::kQueued &&
        !Position(answer.id, &answer.position, err)) {
      return false;
    }
    accepted->push_back(answer);
  }
  // Committed before the client is answered: an accepted evaluation survives a kill -9.
  if (!tx.Commit()) {
    accepted->clear();
    *err = store_->Error("committing a submission");
    return false;
  }
  return true;
}

bool EvaluationQueue::Claim(EvaluationRecord* record, bool* found, std::string* err) {
  std::lock_guard<std::mutex> lock(mutex_);
  *found = false;
  Statement claim(store_->db_,
                  (std::string("UPDATE evaluations SET status = 'preparing', attempts = attempts"
                               " + 1, started_at = ") +
                   kNow +
                   " WHERE id = (SELECT id FROM evaluations WHERE status = 'queued' ORDER BY id"
                   " LIMIT 1) RETURNING id")
                      .c_str());
  const int rc = claim.Step();
  if (rc == SQLITE_DONE) return true;
  if (rc != SQLITE_ROW) {
    *err = store_->Error("taking an evaluation from the queue");
    return false;
  }
  const int64_t id = claim.Int(0);
  if (claim.Step() != SQLITE_DONE) {
    *err = store_->Error("taking an evaluation from the queue");
    return false;
  }
  Statement select(store_->db_, (std::string(kSelectColumns) + " WHERE id = ?").c_str());
  select.Bind(1, id);
  if (select.Step() != SQLITE_ROW) {
    *err = store_->Error("reading evaluation " + std::to_string(id));
    return false;
  }
  ReadRecord(select, record);
  *found = true;
  return true;
}

bool EvaluationQueue::MarkTiming(int64_t id, std::string* err) {
  std::lock_guard<std::mutex> lock(mutex_);
  Statement update(store_->db_,
                   "UPDATE evaluations SET status = 'timing' WHERE id = ? AND status = 'preparing'");
  update.Bind(1, id);
  if (!update.Run()) {
    *err = store_->Error("marking evaluation " + std::to_string(id) + " as timing");
    return false;
  }
  return true;
}

bool EvaluationQueue::SetDone(int64_t id, const nlohmann::json& verdict, int64_t job_id,
                              std::string* err) {
  // A cancel asked for while it ran wins: the client was told it would not get this verdict.
  Statement update(store_->db_,
                   (std::string("UPDATE evaluations SET status = CASE WHEN cancel_requested THEN"
                                " 'cancelled' ELSE 'done' END, verdict = CASE WHEN"
                                " cancel_requested THEN NULL ELSE ? END, job_id = CASE WHEN"
                                " cancel_requested THEN NULL ELSE ? END, finished_at = ") +
                    kNow + " WHERE id = ? AND status IN ('preparing', 'timing')")
                       .c_str());
  update.Bind(1, Dump(verdict)).Bind(3, id);
  if (job_id > 0) {
    update.Bind(2, job_id);
  } else {
    update.Bind(2, std::numeric_limits<double>::quiet_NaN());  // NULL
  }
  if (!update.Run()) {
    *err = store_->Error("storing the verdict of evaluation " + std::to_string(id));
    return false;
  }
  if (sqlite3_changes(store_->db_) != 1) {
    *err = store_->path().string() + ": evaluation " + std::to_string(id) + " is not in a lane";
    return false;
  }
  return true;
}

bool EvaluationQueue::Finish(int64_t id, const Task& task, const Implementation& impl,
                             const JobResult& result, const nlohmann::json& verdict,
                             std::string* err) {
  std::lock_guard<std::mutex> lock(mutex_);
  sqlite3* db = store_->db_;
  Transaction tx(db);
  if (!tx.Begin()) {
    *err = store_->Error("starting to store evaluation " + std::to_string(id));
    return false;
  }
  // A run of its own, finished in the same transaction, as `eval` records its one job: the
  // store never holds an unfinished run of serve's for `bench --resume` to pick up.
  Statement run(db, (std::string("INSERT INTO runs (started_at, finished_at, command_line,"
                                 " engine_version, status, environment) VALUES (") +
                     kNow + ", " + kNow + ", ?, ?, 'finished', ?)")
                        .c_str());
  run.Bind(1, "tritonize serve: evaluation " + std::to_string(id))
      .Bind(2, std::string(TRITONIZE_VERSION))
      .Bind(3, Dump(result.environment));
  if (!run.Run()) {
    *err = store_->Error("recording the run of evaluation " + std::to_string(id));
    return false;
  }
  const int64_t run_id = sqlite3_last_insert_rowid(db);
  int64_t job_id = 0;
  if (!store_->InsertJobRows(run_id, task, impl, result, &job_id, err) ||
      !SetDone(id, verdict, job_id, err)) {
    return false;
  }
  if (!tx.Commit()) {
    *err = store_->Error("committing evaluation " + std::to_string(id));
    return false;
  }
  return true;
}

bool EvaluationQueue::FinishWithoutJob(int64_t id, const nlohmann::json& verdict,
                                       std::string* err) {
  std::lock_guard<std::mutex> lock(mutex_);
  return SetDone(id, verdict, 0, err);
}

bool EvaluationQueue::Requeue(int64_t id, std::string* err) {
  std::lock_guard<std::mutex> lock(mutex_);
  Statement update(store_->db_,
                   "UPDATE evaluations SET status = CASE WHEN cancel_requested THEN 'cancelled'"
                   " ELSE 'queued' END, started_at = NULL WHERE id = ? AND status IN"
                   " ('preparing', 'timing')");
  update.Bind(1, id);
  if (!update.Run()) {
    *err = store_->Error("queueing evaluation " + std::to_string(id) + " again");
    return false;
  }
  return true;
}

bool EvaluationQueue::MarkCancelled(int64_t id, std::string* err) {
  std::lock_guard<std::mutex> lock(mutex_);
  Statement update(store_->db_,
                   (std::string("UPDATE evaluations SET status = 'cancelled', finished_at = ") +
                    kNow + " WHERE id = ? AND status IN ('queued', 'preparing', 'timing')")
                       .c_str());
  update.Bind(1, id);
  if (!update.Run()) {
    *err = store_->Error("cancelling evaluation " + std::to_string(id));
    return false;
  }
  return true;
}

bool EvaluationQueue::Cancel(int64_t id, CancelOutcome* outcome, std::string* err) {
  std::lock_guard<std::mutex> lock(mutex_);
  sqlite3* db = store_->db_;
  Statement select(db, "SELECT status FROM evaluations WHERE id = ?");
  select.Bind(1, id);
  const int rc = select.Step();
  if (rc == SQLITE_DONE) {
    *outcome = CancelOutcome::kNotFound;
    return true;
  }
  if (rc != SQLITE_ROW) {
    *err = store_->Error("reading evaluation " + std::to_string(id));
    return false;
  }
  const auto status = ParseEvaluationStatus(select.Text(0)).value_or(EvaluationStatus::kDone);
  switch (status) {
    case EvaluationStatus::kDone:
      *outcome = CancelOutcome::kAlreadyDone;
      return true;
    case EvaluationStatus::kCancelled:
      *outcome = CancelOutcome::kCancelled;
      return true;
    case EvaluationStatus::kQueued:
    case EvaluationStatus::kPreparing:
    case EvaluationStatus::kTiming:
      break;
  }
  // Queued: cancelled at once. In a lane: asked for; the lane (or a restart) ends it.
  Statement update(db, (std::string("UPDATE evaluations SET cancel_requested = 1, status = CASE"
                                    " WHEN status = 'queued' THEN 'cancelled' ELSE status END,"
                                    " finished_at = CASE WHEN status = 'queued' THEN ") +
                        kNow + " ELSE finished_at END WHERE id = ?")
                           .c_str());
  update.Bind(1, id);
  if (!update.Run()) {
    *err = store_->Error("cancelling evaluation " + std::to_string(id));
    return false;
  }
  *outcome = status == EvaluationStatus::kQueued ? CancelOutcome::kCancelled
                                                 : CancelOutcome::kCancelling;
  return true;
}

bool EvaluationQueue::Get(int64_t id, EvaluationRecord* record, bool* found, std::string* err) {
  std::lock_guard<std::mutex> lock(mutex_);
  Statement select(store_->db_, (std::string(kSelectColumns) + " WHERE id = ?").c_str());
  select.Bind(1, id);
  const int rc = select.Step();
  *found = rc == SQLITE_ROW;
  if (rc == SQLITE_DONE) return true;
  if (rc != SQLITE_ROW) {
    *err = store_->Error("reading evaluation " + std::to_string(id));
    return false;
  }
  ReadRecord(select, record);
  record->position = -1;
  if (record->status == EvaluationStatus::kQueued) return Position(id, &record->position, err);
  return true;
}

bool EvaluationQueue::Counts(QueueCounts* counts, std::string* err) {
  std::lock_guard<std::mutex> lock(mutex_);
  Statement select(store_->db_, "SELECT status, COUNT(*) FROM evaluations GROUP BY status");
  *counts = QueueCounts();
  int rc;
  while ((rc = select.Step()) == SQLITE_ROW) {
    const auto status = ParseEvaluationStatus(select.Text(0));
    const int64_t n = select.Int(1);
    if (!status) continue;
    switch (*status) {
      case EvaluationStatus::kQueued: counts->queued += n; break;
      case EvaluationStatus::kPreparing:
      case EvaluationStatus::kTiming: counts->running += n; break;
      case EvaluationStatus::kDone: counts->done += n; break;
      case EvaluationStatus::kCancelled: counts->cancelled += n; break;
    }
  }
  if (rc != SQLITE_DONE) {
    *err = store_->Error("counting the evaluations");
    return false;
  }
  return true;
}

bool EvaluationQueue::Recover(
    int max_attempts, const std::function<nlohmann::json(const EvaluationRecord&)>& given_up_verdict,
    Recovery* recovery, std::string* err) {
  std::lock_guard<std::mutex> lock(mutex_);
  sqlite3* db = store_->db_;
  *recovery = Recovery();
  Transaction tx(db);
  if (!tx.Begin()) {
    *err = store_->Error("starting the queue's recovery");
    return false;
  }
  Statement cancelled(db, (std::string("UPDATE evaluations SET status = 'cancelled', finished_at"
                                       " = ") +
                           kNow +
                           " WHERE status IN ('preparing', 'timing') AND cancel_requested = 1")
                              .c_str());
  if (!cancelled.Run()) {
    *err = store_->Error("recovering the queue");
    return false;
  }
  recovery->cancelled = sqlite3_changes(db);
  // Given up: done, with the verdict the caller gives such a one.
  std::vector<std::pair<int64_t, nlohmann::json>> give_up;
  {
    Statement select(db, (std::string(kSelectColumns) +
                          " WHERE status IN ('preparing', 'timing') AND attempts >= ?")
                             .c_str());
    select.Bind(1, int64_t{max_attempts});
    int rc;
    while ((rc = select.Step()) == SQLITE_ROW) {
      EvaluationRecord record;
      ReadRecord(select, &record);
      give_up.emplace_back(record.id, given_up_verdict(record));
    }
    if (rc != SQLITE_DONE) {
      *err = store_->Error("recovering the queue");
      return false;
    }
  }
  for (const auto& [id, verdict] : give_up) {
    if (!SetDone(id, verdict, 0, err)) return false;
  }
  recovery->given_up = static_cast<int>(give_up.size());
  Statement requeue(db,
                    "UPDATE evaluations SET status = 'queued', started_at = NULL"
                    " WHERE status IN ('preparing', 'timing')");
  if (!requeue.Run()) {
    *err = store_->Error("recovering the queue");
    return false;
  }
  recovery->requeued = sqlite3_changes(db);
  if (!tx.Commit()) {
    *err = store_->Error("committing the queue's recovery");
    return false;
  }
  return true;
}

}  // namespace tritonize

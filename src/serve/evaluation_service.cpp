#include "serve/evaluation_service.h"

#include <chrono>
#include <iostream>

#include <fmt/format.h>

#include "core/sha256.h"
#include "exec/subprocess.h"
#include "report/eval_json.h"
#include "serve/redact.h"

namespace tritonize {
namespace {

/// The verdict the service gives itself when it cannot run an evaluation: same shape as every
/// other (report/eval_json.h), with `file` empty since no candidate file was made.
nlohmann::json ServiceVerdict(const std::string& task_name, const std::string& code,
                              Status status, const std::string& message) {
  Task task;
  task.name = task_name;
  Implementation impl;
  impl.content_hash = Sha256Hex(code);
  JobResult result;
  result.status = status;
  result.phase = "serve";
  result.message = message;
  return EvalJson(task, impl, result);
}

void Log(const std::string& line) { std::cerr << "tritonize serve: " << line << "\n"; }

}  // namespace

EvaluationService::EvaluationService(EvaluationQueue* queue, Evaluator* evaluator,
                                     const TaskSuite* suite, ServiceOptions options)
    : queue_(queue), evaluator_(evaluator), suite_(suite), options_(options) {}

EvaluationService::~EvaluationService() { Stop(); }

bool EvaluationService::Start(std::string* summary, std::string* err) {
  const int reaped = evaluator_->ReapOrphans();
  Recovery recovery;
  const int max_attempts = options_.max_attempts;
  auto given_up = [max_attempts](const EvaluationRecord& record) {
    return ServiceVerdict(record.task, record.code, Status::kCrashed,
                          fmt::format("the server stopped {} times while it ran this evaluation; "
                                      "it is not run again",
                                      max_attempts));
  };
  if (!queue_->Recover(options_.max_attempts, given_up, &recovery, err)) return false;
  QueueCounts counts;
  if (!queue_->Counts(&counts, err)) return false;
  *summary = fmt::format(
      "{} queued ({} back from a stopped server's lanes, {} cancelled, {} given up after {} "
      "attempts), {} done; {} orphaned worker processes ended",
      counts.queued, recovery.requeued, recovery.cancelled, recovery.given_up,
      options_.max_attempts, counts.done, reaped);
  for (int lane = 0; lane < evaluator_->lanes(); ++lane) {
    lanes_.emplace_back([this, lane] { RunLane(lane); });
  }
  return true;
}

void EvaluationService::Stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (std::thread& lane : lanes_) {
    if (lane.joinable()) lane.join();
  }
  lanes_.clear();
}

void EvaluationService::RunLane(int lane) {
  for (;;) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      // Interrupted: the server is stopping; nothing new is taken (it would be cut short at once).
      if (stopping_ || Interrupted()) return;
    }
    EvaluationRecord record;
    bool found = false;
    std::string err;
    if (!queue_->Claim(&record, &found, &err)) {
      Log("lane " + std::to_string(lane) + ": " + err);
    }
    if (!found) {
      // Woken by a submission, or every second to look again (another lane's requeue).
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait_for(lock, std::chrono::seconds(1));
      continue;
    }
    FinishOne(lane, record);
  }
}

void EvaluationService::FinishOne(int lane, const EvaluationRecord& record) {
  std::string err;
  const Task* task = suite_->Find(record.task);
  if (task == nullptr) {  // the suite changed between submission and run
    const auto verdict = ServiceVerdict(record.task, record.code, Status::kUnavailable,
                                        "task \"" + record.task + "\" is not in this server's suite");
    if (!queue_->FinishWithoutJob(record.id, verdict, &err)) Log(err);
    return;
  }
  auto token = std::make_shared<CancelToken>();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    running_[record.id] = token;
  }
  // A cancel that arrived between the claim and now.
  EvaluationRecord current;
  bool found = false;
  if (queue_->Get(record.id, &current, &found, &err) && found && current.cancel_requested) {
    token->Cancel();
  }

  Evaluation evaluation;
  evaluation.id = record.id;
  evaluation.attempt = record.attempts;
  evaluation.task = task;
  evaluation.code = record.code;
  evaluation.options = OptionsFromJson(record.options);
  const auto began = std::chrono::steady_clock::now();
  EvaluationOutcome outcome =
      evaluator_->Evaluate(lane, evaluation, *token, [this, &record] {
        std::string timing_err;
        if (!queue_->MarkTiming(record.id, &timing_err)) Log(timing_err);
      });
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    running_.erase(record.id);
  }
  bool stored = true;
  switch (outcome.kind) {
    case EvaluationOutcome::Kind::kFinished:
      RedactSecret(options_.secret, &outcome.result);
      RedactSecret(options_.secret, &outcome.verdict);
      stored = queue_->Finish(record.id, *task, outcome.impl, outcome.result, outcome.verdict, &err);
      if (stored) {
        Log(fmt::format("evaluation {} ({}): {} in {:.1f} s (lane {})", record.id, record.task,
                        StatusName(outcome.result.status), seconds, lane));
      }
      break;
    case EvaluationOutcome::Kind::kCancelled:
      stored = queue_->MarkCancelled(record.id, &err);
      if (stored) Log(fmt::format("evaluation {}: cancelled (lane {})", record.id, lane));
      break;
    case EvaluationOutcome::Kind::kStopped:
      stored = queue_->Requeue(record.id, &err);
      if (stored) Log(fmt::format("evaluation {}: stopped by the interrupt, queued again", record.id));
      break;
  }
  if (!stored) Log(fmt::format("evaluation {}: not stored: {}", record.id, err));
}

bool EvaluationService::Submit(const std::vector<EvaluationRequest>& requests,
                               const std::string& client,
                               std::vector<AcceptedEvaluation>* accepted, SubmitOutcome* outcome,
                               std::string* err) {
  std::vector<NewEvaluation> batch;
  batch.reserve(requests.size());
  for (const EvaluationRequest& request : requests) {
    NewEvaluation item;
    item.options = CanonicalOptions(request.options, options_.interpret);
    item.content_key = ContentKey(request.task, request.code, item.options);
    item.task = request.task;
    item.code = request.code;
    item.client = client;
    item.force = request.force;
    batch.push_back(std::move(item));
  }
  bool full = false;
  if (!queue_->Submit(batch, options_.max_queued, accepted, &full, err)) return false;
  *outcome = full ? SubmitOutcome::kFull : SubmitOutcome::kAccepted;
  if (!full) wake_.notify_all();
  return true;
}

bool EvaluationService::Cancel(int64_t id, EvaluationQueue::CancelOutcome* outcome,
                               std::string* err) {
  if (!queue_->Cancel(id, outcome, err)) return false;
  if (*outcome == EvaluationQueue::CancelOutcome::kCancelling) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto running = running_.find(id);
    if (running != running_.end()) running->second->Cancel();
  }
  return true;
}

bool EvaluationService::Get(int64_t id, EvaluationRecord* record, bool* found,
                            std::string* err) {
  return queue_->Get(id, record, found, err);
}

bool EvaluationService::Health(nlohmann::json* health, std::string* err) {
  QueueCounts counts;
  if (!queue_->Counts(&counts, err)) return false;
  size_t busy = 0;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    busy = running_.size();
  }
  *health = {{"status", "ok"},
             {"version", TRITONIZE_VERSION},
             {"interpret", options_.interpret},
             {"lanes", evaluator_->lanes()},
             {"busy_lanes", busy},
             {"queue",
              {{"queued", counts.queued},
               {"running", counts.running},
               {"done", counts.done},
               {"cancelled", counts.cancelled},
               {"max_queued", options_.max_queued}}},
             {"workers", evaluator_->Describe()}};
  return true;
}

}  // namespace tritonize

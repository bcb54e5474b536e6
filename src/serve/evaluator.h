#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "core/implementation.h"
#include "core/job.h"
#include "core/task.h"
#include "serve/evaluation_request.h"

namespace tritonize {

/// Set by the service when a client cancels an evaluation that a lane is running.
class CancelToken {
 public:
  void Cancel() { cancelled_.store(true); }
  bool cancelled() const { return cancelled_.load(); }

 private:
  std::atomic<bool> cancelled_{false};
};

/// One evaluation as a lane hands it over.
struct Evaluation {
  int64_t id = 0;
  int attempt = 1;  // > 1: a restarted server runs it again
  const Task* task = nullptr;
  std::string code;
  EvaluationOptions options;
};

/// How an evaluation ended in its lane.
struct EvaluationOutcome {
  enum class Kind {
    kFinished,   // a verdict: `impl`, `result` (stored as a job) and `verdict`
    kCancelled,  // stopped because its token was cancelled; no verdict
    kStopped,    // the server is stopping (SIGINT/SIGTERM): queued again, run after a restart
  };
  Kind kind = Kind::kFinished;
  Implementation impl;
  JobResult result;
  nlohmann::json verdict;  // EvalJson's object: what `eval --json` prints
};

/// What runs evaluations: `lanes()` of them at once, one per lane. The service's only view of
/// workers, so that the lead's run library (src/run: launchers for a local process, a step
/// server, a cluster) can take its place behind it.
class Evaluator {
 public:
  virtual ~Evaluator() = default;
  virtual int lanes() const = 0;
  /// Runs `evaluation` in `lane` (0-based; the service never gives one lane two at a time).
  /// `timing_started` is called when its checks passed and its timing began. Never throws:
  /// a candidate that fails in any way is a finished evaluation with that verdict.
  virtual EvaluationOutcome Evaluate(int lane, const Evaluation& evaluation,
                                     const CancelToken& cancel,
                                     const std::function<void()>& timing_started) = 0;
  /// For GET /v1/health: what the lanes run on ({"launcher", "lanes": [...]}).
  virtual nlohmann::json Describe() const = 0;
  /// At start, before any lane runs: ends the worker processes a killed server left behind
  /// (they would hold a GPU); returns how many.
  virtual int ReapOrphans() = 0;
};

}  // namespace tritonize

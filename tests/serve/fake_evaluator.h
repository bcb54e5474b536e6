// An Evaluator for the service and API tests: verdicts from the code's first word, and a
// candidate whose code is "block" runs until released or cancelled.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "report/eval_json.h"
#include "serve/evaluator.h"

namespace tritonize {

class FakeEvaluator : public Evaluator {
 public:
  explicit FakeEvaluator(int lanes) : lanes_(lanes) {}

  int lanes() const override { return lanes_; }
  EvaluationOutcome Evaluate(int, const Evaluation& evaluation, const CancelToken& cancel,
                             const std::function<void()>& timing_started) override {
    ++started_;
    EvaluationOutcome outcome;
    if (evaluation.code.rfind("block", 0) == 0) {
      std::unique_lock<std::mutex> lock(mutex_);
      ++blocked_;
      while (!released_ && !cancel.cancelled()) cv_.wait_for(lock, std::chrono::milliseconds(10));
      --blocked_;
      if (cancel.cancelled()) {
        outcome.kind = EvaluationOutcome::Kind::kCancelled;
        return outcome;
      }
    }
    if (timing_started) timing_started();
    outcome.impl.kind = ImplKind::kCandidate;
    outcome.impl.name = "candidate";
    outcome.impl.content_hash = "fake";
    outcome.result.status =
        evaluation.code.rfind("wrong", 0) == 0 ? Status::kWrongResult : Status::kOk;
    outcome.result.message = "fake verdict for: " + evaluation.code.substr(0, 40);
    outcome.verdict = EvalJson(*evaluation.task, outcome.impl, outcome.result);
    ++finished_;
    return outcome;
  }
  nlohmann::json Describe() const override { return {{"launcher", "fake"}}; }
  int ReapOrphans() override { return 0; }

  void Release() {
    std::lock_guard<std::mutex> lock(mutex_);
    released_ = true;
    cv_.notify_all();
  }
  int blocked() {
    std::lock_guard<std::mutex> lock(mutex_);
    return blocked_;
  }
  std::atomic<int> started_{0};
  std::atomic<int> finished_{0};

 private:
  int lanes_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool released_ = false;
  int blocked_ = 0;
};

}  // namespace tritonize

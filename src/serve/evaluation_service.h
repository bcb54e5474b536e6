#pragma once

#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/task_suite.h"
#include "serve/evaluation_request.h"
#include "serve/evaluator.h"
#include "store/evaluation_queue.h"

namespace tritonize {

struct ServiceOptions {
  int64_t max_queued = 10000;  // queued evaluations beyond which a submission gets 503
  int max_attempts = 3;        // a restart runs an interrupted evaluation again at most this often
  bool interpret = false;      // part of every content key (evaluation_request.h)
  std::string secret;          // the bearer token: redacted from every verdict and stored job
};

/// The service behind the HTTP API: the durable queue, and one thread per lane of the
/// evaluator that takes the oldest queued evaluation, runs it and stores its verdict.
class EvaluationService {
 public:
  EvaluationService(EvaluationQueue* queue, Evaluator* evaluator, const TaskSuite* suite,
                    ServiceOptions options);
  ~EvaluationService();

  /// Ends the orphans of a killed server, puts what it left in a lane back in the queue, and
  /// starts the lanes. *summary says what was recovered (for the log).
  bool Start(std::string* summary, std::string* err);
  /// Stops taking evaluations and waits for the lanes: an evaluation cut short by the
  /// interrupt goes back to the queue.
  void Stop();

  enum class SubmitOutcome { kAccepted, kFull };
  bool Submit(const std::vector<EvaluationRequest>& requests, const std::string& client,
              std::vector<AcceptedEvaluation>* accepted, SubmitOutcome* outcome,
              std::string* err);
  bool Cancel(int64_t id, EvaluationQueue::CancelOutcome* outcome, std::string* err);
  bool Get(int64_t id, EvaluationRecord* record, bool* found, std::string* err);
  /// GET /v1/health without the GPUs: lanes, busy lanes, queue counts.
  bool Health(nlohmann::json* health, std::string* err);

  const TaskSuite& suite() const { return *suite_; }
  const ServiceOptions& options() const { return options_; }

 private:
  void RunLane(int lane);
  void FinishOne(int lane, const EvaluationRecord& record);

  EvaluationQueue* queue_;
  Evaluator* evaluator_;
  const TaskSuite* suite_;
  ServiceOptions options_;

  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::map<int64_t, std::shared_ptr<CancelToken>> running_;  // by evaluation id
  std::vector<std::thread> lanes_;
};

}  // namespace tritonize

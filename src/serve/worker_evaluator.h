#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <shared_mutex>
#include <string>
#include <vector>

#include "exec/worker.h"
#include "serve/evaluator.h"

namespace tritonize {

struct WorkerEvaluatorOptions {
  WorkerOptions worker;             // python, package dir, timeouts, sandbox, interpret
  std::filesystem::path scratch;    // lanes/<k>/ below it: each lane's jobs and references
  std::vector<std::string> gpus;    // one lane per entry, its CUDA_VISIBLE_DEVICES
  int cpu_lanes = 1;                // lanes when `gpus` is empty (--interpret)
  uint64_t run_seed = 1;            // the hidden checks' seed of evaluations that name none
  bool keep_files = false;          // keep each evaluation's job folder (for debugging)
};

/// Runs each evaluation as `eval` does, with RunWorkerJob (exec/worker.h): the reference,
/// candidate and compare steps in fresh processes on this machine. A lane is a folder, a GPU
/// and a step server of its own, so a cancel can find the lane's worker processes by their
/// working directory and stop them.
class WorkerEvaluator : public Evaluator {
 public:
  explicit WorkerEvaluator(WorkerEvaluatorOptions options);

  int lanes() const override { return static_cast<int>(lane_options_.size()); }
  EvaluationOutcome Evaluate(int lane, const Evaluation& evaluation, const CancelToken& cancel,
                             const std::function<void()>& timing_started) override;
  nlohmann::json Describe() const override;
  int ReapOrphans() override;

 private:
  std::filesystem::path LaneDir(int lane) const;
  JobResult RunRepeats(const Task& task, const Implementation& impl, const WorkerOptions& worker,
                       int repeat);

  WorkerEvaluatorOptions options_;
  std::vector<WorkerOptions> lane_options_;
  // The worker's first job on a machine probes it (whether CUDA starts inside the sandbox)
  // with state of its own that is not made for concurrent first calls: the first evaluation
  // runs alone, the others share.
  std::shared_mutex warm_;
  std::atomic<bool> warmed_{false};
};

}  // namespace tritonize

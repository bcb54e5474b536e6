#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "exec/worker.h"
#include "run/launcher_slurm.h"
#include "run/runner.h"
#include "serve/evaluator.h"

namespace tritonize {

struct WorkerEvaluatorOptions {
  WorkerOptions worker;             // python, package dir, timeouts, sandbox, interpret
  std::filesystem::path scratch;    // lanes/<k>/ below it: each lane's jobs and references
  std::vector<std::string> gpus;    // `lanes_per_gpu` lanes per entry, its CUDA_VISIBLE_DEVICES
  int lanes_per_gpu = 1;            // evaluations at once on each GPU (they share its GPU lane)
  int cpu_lanes = 1;                // lanes when `gpus` is empty (--interpret)
  uint64_t run_seed = 1;            // the hidden checks' seed of evaluations that name none
  bool keep_files = false;          // keep each evaluation's job folder (for debugging)
  // Set (--launcher slurm): every step runs as a Slurm job step, `cpu_lanes` evaluations at once
  // on the cluster, its GPUs Slurm's to give (`gpus` unused).
  std::optional<SlurmOptions> slurm;
};

/// Runs each evaluation as `eval` does, through the run library (run/runner.h): the reference
/// and compare steps in the lane's step servers, the candidate step in a fresh process on this
/// machine, its timing in the GPU's lane (shared with any `bench` on the machine). A lane is a
/// folder, a GPU and a runner of its own, so a cancel can find the lane's worker processes by
/// their working directory and stop them. With `slurm`, a lane's runner sends every step to the
/// cluster (run/launcher_slurm.h) and a cancel is a scancel of the lane's steps.
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
  std::string GpuOf(size_t lane) const;  // the CUDA_VISIBLE_DEVICES of a lane; empty: none
  /// Removes what the lane's last jobs left in `jobs`, but the folder of a process kept ready.
  void ClearJobs(int lane, const std::filesystem::path& jobs) const;
  JobResult RunRepeats(int lane, const Task& task, const Implementation& impl,
                       const WorkerOptions& worker, int repeat);

  WorkerEvaluatorOptions options_;
  std::vector<WorkerOptions> lane_options_;
  std::vector<std::unique_ptr<SlurmStepLauncher>> slurm_;  // with --launcher slurm, one a lane
  std::vector<std::unique_ptr<Runner>> runners_;  // one a lane, over lane_options_
  bool warm_ = false;  // lanes keep their next candidate process ready (fewer lanes than cores)
};

}  // namespace tritonize

#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "core/task_suite.h"
#include "exec/subprocess.h"
#include "serve/evaluator.h"
#include "serve/worker_evaluator.h"

namespace tritonize {

/// How steps are sent to a Slurm cluster (`--launcher slurm`, docs/serve.md).
struct SlurmOptions {
  std::string srun = "srun";
  std::string scancel = "scancel";
  std::string squeue = "squeue";
  std::string partition;            // --slurm-partition; empty: the cluster's default
  std::string gres;                 // --slurm-gres, e.g. gpu:1; empty: none (the interpreter)
  std::vector<std::string> extra;   // --slurm-arg, each one argument to srun
  int lanes = 1;                    // steps at once (--lanes): the cluster's GPUs become lanes
  std::string binary;               // the tritonize the nodes run; default: this one's path
  double margin_s = 120;            // beyond a step's own timeouts before it is cancelled
};

void AddSlurmOptions(CLI::App* app, SlurmOptions* options);

/// Runs one step on a Slurm node with `srun`, as RunSubprocess runs it here: the step's argv,
/// environment, working folder, stdout and stderr files (on the shared scratch, the hand-over
/// between this machine and the node), and timeout. A step that overruns, whose cancel token is
/// set, or that the interrupt stops is cancelled with `scancel` (killing srun alone would leave
/// it running on the node). The seam the lead's run library takes a launcher at.
class SlurmLauncher {
 public:
  explicit SlurmLauncher(SlurmOptions options) : options_(std::move(options)) {}

  /// srun's command line for `step` under `job_name`.
  std::vector<std::string> Command(const SubprocessOptions& step, const std::string& job_name) const;
  SubprocessResult Run(const SubprocessOptions& step, const std::string& job_name,
                       const CancelToken* cancel) const;
  /// Cancels every job of this user whose name starts with `prefix`; returns how many.
  int CancelJobsNamed(const std::string& prefix, const std::filesystem::path& dir) const;

  const SlurmOptions& options() const { return options_; }

 private:
  bool Cancel(const std::string& job_name, const std::filesystem::path& dir) const;

  SlurmOptions options_;
};

/// Runs each evaluation as one Slurm job step: `tritonize serve --evaluate REQUEST --result
/// RESULT` on a node, which runs the worker's three steps there (sandbox included) as
/// WorkerEvaluator does here. The request, the result and the step's files live on the shared
/// scratch (`--scratch`, which every node must see at the same path, like the repository and
/// the binary).
class SlurmEvaluator : public Evaluator {
 public:
  SlurmEvaluator(SlurmOptions slurm, WorkerEvaluatorOptions worker);

  int lanes() const override { return launcher_.options().lanes; }
  EvaluationOutcome Evaluate(int lane, const Evaluation& evaluation, const CancelToken& cancel,
                             const std::function<void()>& timing_started) override;
  nlohmann::json Describe() const override;
  int ReapOrphans() override;

 private:
  std::vector<std::string> StepArgv(const std::filesystem::path& lane_dir,
                                    const std::filesystem::path& request,
                                    const std::filesystem::path& result,
                                    const Evaluation& evaluation) const;

  SlurmLauncher launcher_;
  WorkerEvaluatorOptions worker_;
  std::string job_prefix_;  // tritonize-<hash of the scratch>-: this server's jobs
};

/// The node's side of a SlurmEvaluator step (`serve --evaluate`): runs the request file's one
/// evaluation with a one-lane WorkerEvaluator and writes the result file. Exit 0 once the
/// result is written (whatever the verdict), 130 when stopped, 2 for an unreadable request.
int RunEvaluationStep(const std::filesystem::path& request, const std::filesystem::path& result,
                      const TaskSuite& suite, WorkerEvaluatorOptions options);

}  // namespace tritonize

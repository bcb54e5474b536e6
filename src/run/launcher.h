#pragma once

// The launcher seam: where and how a step's worker process runs. The job (run/job.h) knows what
// each step asks and what its result means; a launcher only starts the process and hands back
// its result file. Today: a fresh local process (ProcessLauncher), a pre-started one
// (WarmPool), a long-lived trusted one (ServerLauncher); a cluster's job steps fit the same
// seam. docs/runner.md.

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/job.h"
#include "exec/worker.h"

namespace tritonize {

/// One step's process, claimed from a launcher: its folder is known before it runs (the job
/// writes the candidate's outputs path into the request), and it runs once.
class StepSlot {
 public:
  virtual ~StepSlot() = default;
  /// The folder the step works in: its request, result and logs. A pre-started process was
  /// started in its own, so the job uses that one.
  virtual const std::filesystem::path& dir() const = 0;
  /// Writes the request, runs the step and reads its result. False with *failure saying why
  /// (a timeout, a crash, no result), the same for every launcher.
  virtual bool Run(const nlohmann::json& request, nlohmann::json* result, JobResult* failure) = 0;
  /// The sandbox layers the process ran in ("network, filesystem, ..."), empty if none asked.
  virtual std::string sandbox() const { return {}; }
};

class Launcher {
 public:
  virtual ~Launcher() = default;
  /// A process for `step` (its dir, timeout, sandbox, caches, GPU). Never null.
  virtual std::unique_ptr<StepSlot> Claim(const Step& step) = 0;
  virtual std::string_view name() const = 0;
  /// Whether its steps run on this machine (a cluster's run on a node, where this one cannot
  /// probe how the sandbox and CUDA get along).
  virtual bool local() const { return true; }
};

/// A step about to run in a process of its own: a new folder under the scratch folder unless it
/// names one, that folder writable in its sandbox and its Triton cache folder made.
Step FreshProcessStep(Step step, const WorkerOptions& options);

/// A fresh `python -m tritonize_worker --request R --result S` per step, in step.dir.
class ProcessLauncher : public Launcher {
 public:
  explicit ProcessLauncher(const WorkerOptions& options) : options_(options) {}
  std::unique_ptr<StepSlot> Claim(const Step& step) override;
  std::string_view name() const override { return "process"; }

 private:
  const WorkerOptions& options_;
};

}  // namespace tritonize

#pragma once

// Steps as Slurm job steps (`--launcher slurm`, docs/serve.md): `srun` runs a step's process on
// a node of the cluster, the shared scratch (the step's folder, its request and result files) is
// the hand-over, and `scancel` ends a step that overruns or is cancelled (killing srun alone
// would leave it running on the node).

#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "exec/subprocess.h"
#include "exec/worker.h"
#include "run/launcher.h"

namespace tritonize {

struct SlurmOptions {
  std::string srun = "srun";
  std::string scancel = "scancel";
  std::string squeue = "squeue";
  std::string partition;                  // empty: the cluster's default
  std::string gres;                       // e.g. gpu:1; empty: none (the interpreter)
  std::vector<std::string> extra;         // each one more argument to srun
  std::string binary;                     // the tritonize the nodes run; default: this one's path
  double margin_s = 120;                  // beyond a step's own timeout before Slurm's limit
  std::string job_prefix = "tritonize-";  // every step's job name starts with it
};

/// Whether Slurm can run steps as `options` asks: srun starts, the cluster answers (sinfo, found
/// beside srun) and knows the partition. False with *err naming what was wrong.
bool CheckSlurm(const SlurmOptions& options, const std::filesystem::path& scratch,
                std::string* err);

/// Runs one process on a Slurm node, as RunSubprocess runs one here: its argv, environment,
/// working folder, stdout and stderr files and timeout. The sandbox is not srun's to apply; see
/// SlurmStepLauncher.
class SlurmLauncher {
 public:
  explicit SlurmLauncher(SlurmOptions options);

  /// srun's command line for `step` under `job_name`.
  std::vector<std::string> Command(const SubprocessOptions& step,
                                   const std::string& job_name) const;
  /// Runs it and waits. At the step's timeout, when `cancelled` says so, or on the interrupt,
  /// the job is cancelled with scancel (timed_out says which).
  SubprocessResult Run(const SubprocessOptions& step, const std::string& job_name,
                       const std::function<bool()>& cancelled) const;
  /// Cancels every job of this user whose name starts with `prefix`; returns how many.
  int CancelJobsNamed(const std::string& prefix, const std::filesystem::path& dir) const;

  const SlurmOptions& options() const { return options_; }

 private:
  bool Cancel(const std::string& job_name, const std::filesystem::path& dir) const;

  SlurmOptions options_;
};

/// The launcher seam's Slurm launcher (run/launcher.h): every step claimed from it runs as
/// `srun ... python -m tritonize_worker --request R --result S` on a node, in the step's folder on
/// the shared scratch. A sandboxed step (the candidate) runs under `tritonize sandbox-run` on the
/// node, which applies the same sandbox there that RunSubprocess applies here; the repository,
/// the binary and the scratch must be at the same paths on every node.
class SlurmStepLauncher : public Launcher {
 public:
  SlurmStepLauncher(const WorkerOptions& options, SlurmOptions slurm);
  std::unique_ptr<StepSlot> Claim(const Step& step) override;
  std::string_view name() const override { return "slurm"; }
  bool local() const override { return false; }
  const SlurmLauncher& slurm() const { return slurm_; }

  /// Cancels (scancel) the running steps whose folder is below `dir`; returns how many. Killing
  /// the local srun would leave them running on their node.
  int CancelStepsIn(const std::filesystem::path& dir);

  /// For the slots: a step's job name while it runs, and its end.
  std::string Started(const std::string& step, const std::filesystem::path& dir);
  void Ended(const std::string& job_name);
  bool Cancelled(const std::string& job_name) const;

 private:
  const WorkerOptions& options_;
  SlurmLauncher slurm_;
  mutable std::mutex mutex_;
  int next_ = 0;
  struct Running {
    std::filesystem::path dir;
    bool cancelled = false;
  };
  std::map<std::string, Running> running_;  // by job name
};

/// `tritonize sandbox-run` arguments that apply `policy` to `argv`
/// (src/cli/sandbox_run_command.cpp); `describe` is the file it writes the applied layers to.
std::vector<std::string> SandboxRunCommand(const std::string& binary, const SandboxPolicy& policy,
                                           const std::filesystem::path& describe,
                                           const std::vector<std::string>& argv);

}  // namespace tritonize

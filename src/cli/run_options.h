#pragma once

#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/context.h"
#include "run/launcher_slurm.h"
#include "run/runner.h"

namespace tritonize {

/// How a command runs its jobs (docs/runner.md), shared by bench, eval and generate; each can
/// also be set by the environment variable named beside it.
struct RunFlags {
  int jobs = 0;       // TRITONIZE_JOBS: jobs in progress at once; 0: from cores and memory
  std::string gpus;   // TRITONIZE_GPUS: GPUs (nvidia-smi indices or UUIDs), one lane each; empty: all
  bool no_warm = false;  // no pre-started candidate processes
};

/// --gpus, and --jobs and --no-warm unless `jobs_help` is empty (a command of one job at a time).
void AddRunFlags(CLI::App* app, RunFlags* flags, const std::string& jobs_help);

/// The runner's options for this command: its lanes (one per GPU; one CPU lane with
/// --interpret) and how many jobs at once. With `steps` (a cluster's launcher), every step goes
/// through it: --jobs lanes of the cluster (default 1), no warm pool, no GPU of this machine's.
/// Problems are appended to *errors.
RunnerOptions MakeRunnerOptions(const RunFlags& flags, EngineContext* context,
                                std::vector<std::string>* errors, Launcher* steps = nullptr);

/// Where a command's GPU steps run (bench, serve): here, or as a Slurm cluster's job steps.
struct LauncherFlags {
  std::string launcher = "local";  // local or slurm
  SlurmOptions slurm;              // --slurm-partition, --slurm-gres, --slurm-arg, ...
};

/// --launcher and the Slurm options.
void AddLauncherFlags(CLI::App* app, LauncherFlags* flags, const std::string& what);

/// The Slurm step launcher that `flags` ask for, its setup checked (srun, the cluster, the
/// partition); null for --launcher local, or with a problem appended to *errors. Its job names
/// start with a prefix of the scratch folder's, so that a later run can find those it left.
std::unique_ptr<SlurmStepLauncher> MakeSlurmLauncher(const LauncherFlags& flags,
                                                     const WorkerOptions& worker,
                                                     std::vector<std::string>* errors);

}  // namespace tritonize

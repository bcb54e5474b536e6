#pragma once

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/context.h"
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
/// --interpret) and how many jobs at once. Problems are appended to *errors.
RunnerOptions MakeRunnerOptions(const RunFlags& flags, EngineContext* context,
                                std::vector<std::string>* errors);

}  // namespace tritonize

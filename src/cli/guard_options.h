#pragma once

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "exec/worker.h"

namespace tritonize {

/// The options of untrusted-candidate handling (docs/security.md), shared by bench and eval;
/// each can also be set by the environment variable named in its help.
struct GuardOptions {
  std::string sandbox = "auto";   // TRITONIZE_SANDBOX: auto | on | off
  double import_timeout_s = 120;  // TRITONIZE_IMPORT_TIMEOUT
  double compile_timeout_s = 600; // TRITONIZE_COMPILE_TIMEOUT
  double call_timeout_s = 60;     // TRITONIZE_CALL_TIMEOUT
  double cpu_s = 0;               // TRITONIZE_CPU_LIMIT; 0: 4x the job timeout
  long long file_bytes = 8LL << 30;  // TRITONIZE_FILE_LIMIT
  long long processes = 0;        // TRITONIZE_PROCESS_LIMIT; 0: none (RLIMIT_NPROC counts per user)
  uint64_t run_seed = 0;          // TRITONIZE_RUN_SEED; 0: a random one per run
};

void AddGuardOptions(CLI::App* app, GuardOptions* options);

/// Copies the options into the worker's; usage problems are appended to *errors.
void ApplyGuardOptions(const GuardOptions& options, WorkerOptions* worker,
                       std::vector<std::string>* errors);

/// A fresh random run seed (never 0).
uint64_t RandomRunSeed();

}  // namespace tritonize

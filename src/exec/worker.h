#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "core/implementation.h"
#include "core/job.h"
#include "core/task.h"

namespace tritonize {

/// How worker processes are started and what they are asked to do.
struct WorkerOptions {
  std::string python = "python3";
  std::filesystem::path package_dir;   // the folder holding tritonize_worker/
  std::filesystem::path scratch_dir;   // one subfolder per job is made under it
  double timeout_s = 900;              // per job: import, checks, compile, autotune and timing
  bool interpret = false;              // Triton interpreter on the CPU, checks only
  bool timing = true;
  int warmup_calls = 10;
  int calls = 50;
  long long flush_bytes = 256LL << 20;  // 5x the H100's 50 MB L2
};

/// The sizes a job checks: the interpreter gets the task's small sizes.
std::vector<std::string> CheckSizesFor(const Task& task, const WorkerOptions& options);

/// The request document sent to the worker (docs/protocol.md).
nlohmann::json BuildRequest(const Task& task, const Implementation& impl,
                            const WorkerOptions& options);

/// Runs one job in a fresh worker process. Never throws and never hangs: a timeout,
/// a signal, a non-zero exit or an unreadable result becomes the job's status.
JobResult RunWorkerJob(const Task& task, const Implementation& impl,
                       const WorkerOptions& options);

}  // namespace tritonize

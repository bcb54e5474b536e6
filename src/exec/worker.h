#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "core/implementation.h"
#include "core/job.h"
#include "core/task.h"
#include "exec/sandbox.h"
#include "exec/step_server.h"

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
  // The torch.compile contender: Inductor's "deterministic" mode (reduction configurations by
  // heuristic, the same in every process) or its "default" (by a benchmark in each process).
  std::string compile_mode = "deterministic";
  // What Triton's autotuners pick a configuration by: "job" (the job's read flush and CUDA events
  // around each candidate's kernel, the table's yardstick) or "triton" (its own do_bench, as the
  // authors ran it); docs/measurement.md says why "job" is the default.
  std::string autotune_timer = "job";
  // Untrusted candidates (docs/security.md).
  uint64_t run_seed = 0;          // per run: hidden check size and seed, guard draws; 0: none
  double import_timeout_s = 120;  // phase timeouts inside the worker; timeout_s still holds
  double compile_timeout_s = 600;  // the first call at a size (compile, autotune)
  double call_timeout_s = 60;     // every later call
  SandboxPolicy sandbox;          // the candidate step's sandbox; writable/hidden set per job
  std::string cuda_visible_devices;  // empty: inherited
  // Set: the compare steps go to this long-lived trusted worker instead of a fresh Python each
  // (exec/step_server.h); shared by the copies of these options.
  std::shared_ptr<StepServer> compare_server;
};

/// The hidden check size and seed of a run (none when run_seed is 0): drawn from the run seed
/// and the task's name, within the task's own check sizes, so no candidate can know them.
std::vector<std::string> HiddenSizesFor(const Task& task, const WorkerOptions& options);
std::vector<int> CheckSeedsFor(const Task& task, const WorkerOptions& options);

/// The sizes a job checks: the interpreter gets the task's small sizes.
std::vector<std::string> CheckSizesFor(const Task& task, const WorkerOptions& options);

/// The candidate step's request (docs/protocol.md); the reference and compare steps' are
/// derived from it.
nlohmann::json BuildRequest(const Task& task, const Implementation& impl,
                            const WorkerOptions& options);

/// Runs one job as three fresh worker processes: the reference step (cached per task, sizes
/// and seeds; never sees the implementation), the candidate step (sandboxed, the only one that
/// imports it), the compare step (the verdict). Never throws and never hangs: a timeout,
/// a signal, a non-zero exit or an unreadable result becomes the job's status.
/// `process` > 0 is one of bench --repeat's later processes: it checks only the last planned
/// input (the hidden size and seed) before timing, since the first process checked them all.
JobResult RunWorkerJob(const Task& task, const Implementation& impl,
                       const WorkerOptions& options, int process = 0);

}  // namespace tritonize

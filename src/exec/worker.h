#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/implementation.h"
#include "core/job.h"
#include "core/task.h"
#include "exec/sandbox.h"
#include "exec/subprocess.h"

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
  std::string cuda_visible_devices;  // --gpu: the engine's GPUs (CUDA_VISIBLE_DEVICES); empty: inherited
  // Threads each worker process may use for CPU work (torch's and OpenMP's intra-op threads,
  // Inductor's compile workers); 0: the libraries' defaults (every core). Set by the runner when
  // many jobs run at once (CpuThreadsPerJob), unless the engine's environment names them.
  int cpu_threads = 0;
};

/// The variables that carry WorkerOptions::cpu_threads into a worker process.
const std::vector<std::string>& CpuThreadVariables();

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

/// One step of a job: one worker process's work, a request file in and a result file out
/// (docs/protocol.md). How its process is started is a launcher's business (run/launcher.h).
struct Step {
  std::string name;                 // reference | candidate | compare: the files' prefix
  std::filesystem::path dir;        // its folder: request, result, logs; empty: the launcher's
  std::string label;                // names a folder the launcher makes: "<task>-<implementation>"
  double timeout_s = 0;
  // Set: untrusted code runs in it. `writable` lists what it may write besides its folder, which
  // the launcher adds.
  std::optional<SandboxPolicy> sandbox;
  std::filesystem::path cache_dir;  // Triton's and Inductor's caches; empty: <dir>/triton-cache
  std::string cuda_visible_devices; // the lane's GPU; empty: WorkerOptions' or inherited
};

/// `python -m tritonize_worker ARGS...` with the options' Python.
std::vector<std::string> WorkerArgv(const WorkerOptions& options, std::vector<std::string> args);

/// The candidate and trusted steps' argv: --request and --result in the step's folder.
std::vector<std::string> StepArgv(const Step& step, const WorkerOptions& options);

/// Makes `dir` and the Triton cache folder a step without its own caches uses in it.
void MakeStepDir(const std::filesystem::path& dir);

/// The request and result files of a step in its folder.
std::filesystem::path StepRequestPath(const Step& step);
std::filesystem::path StepResultPath(const Step& step);

/// The environment, folder and logs of a step's worker process (argv is the caller's).
SubprocessOptions StepProcessOptions(const Step& step, const WorkerOptions& options);

/// Writes the step's request file; false with *failure (crashed, phase spawn) when it cannot.
bool WriteStepRequest(const Step& step, const nlohmann::json& request, JobResult* failure);

/// The step's result, once its process has run as `run` says: a timeout, a signal, a non-zero
/// exit, no result or an unreadable one become *failure with the tail of its stderr.
bool StepResultOf(const Step& step, const SubprocessResult& run, const WorkerOptions& options,
                  nlohmann::json* result, JobResult* failure);
/// The same for a result file written by a process that answered (exit code 0).
bool ReadStepResult(const Step& step, int exit_code, const std::string& stderr_tail,
                    nlohmann::json* result, JobResult* failure);

/// What a step's failure says when the step wrote no result while its folder's disk had (almost) no
/// space left: the runner runs such a job again, alone (run/job.h OutOfScratchDisk).
inline constexpr const char* kScratchFull = "the scratch disk is full";

/// "; the scratch disk is full (N MiB free)" when `dir`'s file system has less than 256 MiB free;
/// "" otherwise.
std::string ScratchFullNote(const std::filesystem::path& dir);

/// A failed job's result.
JobResult StepFailure(Status status, std::string phase, std::string message, std::string detail);

/// "the compare step: " for a trusted step's messages; "" for the candidate's own.
std::string StepPrefix(const Step& step);

/// Whether CUDA initialises inside the full sandbox on this machine, asked once per Python and
/// devices (thread-safe): on one H100 machine cuInit failed inside the mount namespace. It asks the
/// driver (libcuda.so.1: cuInit, then a device count), not torch: every job of a run's first wave
/// waits for the answer, and importing torch took 2-3 s of it.
bool CudaWorksInSandbox(const WorkerOptions& options, const SandboxPolicy& policy,
                        const std::filesystem::path& dir, const std::string& cuda_visible_devices);

/// Only the last planned check input (bench --repeat's later processes: the hidden size and seed;
/// at a large size, which is checked with one seed, the first seed).
void OnlyLastCheck(const Task& task, nlohmann::json* request);

/// The stderr tail kept in a failure's detail.
constexpr size_t kStepTailBytes = 4000;

}  // namespace tritonize

#pragma once

// One job: one implementation of one task, checked and timed by three steps (docs/protocol.md):
// the reference (cached per task, sizes and seeds; never sees the implementation), the candidate
// (sandboxed, the only step that imports it) and the compare step (the verdict).

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/implementation.h"
#include "core/job.h"
#include "core/task.h"
#include "exec/worker.h"
#include "run/launcher.h"

namespace tritonize {

/// One GPU's lane (docs/runner.md): the lock files its jobs' workers take (python/
/// tritonize_worker/lane.py), and the CUDA_VISIBLE_DEVICES that selects the GPU.
struct GpuLane {
  int index = 0;
  std::string devices;            // CUDA_VISIBLE_DEVICES for its jobs; empty: inherited
  std::string label;              // "GPU 0" or "cpu", for the live view and the footer
  std::filesystem::path lock;     // empty: no lock (the interpreter's CPU lane)
  std::filesystem::path gate;
  double memory_bytes = 0;  // the GPU's memory; 0: not known (jobs are not admitted by it)
  std::string model{};      // as nvidia-smi names it ("NVIDIA H100 80GB HBM3"); empty: not known

  /// The request's `lane` block, with `status_file` for the live view.
  nlohmann::json ToRequest(const std::filesystem::path& status_file) const;
};

/// Reference outputs, made once per task, sizes and seeds within a run and shared by every job
/// that needs them; jobs that need one being made wait for it (thread-safe).
class ReferenceCache {
 public:
  struct Entry {
    std::mutex mutex;
    bool made = false;
    std::string task;                // whose reference it is (set when the entry is made)
    std::filesystem::path path;      // set when this cache made the file
    std::filesystem::path step_dir;  // the reference step's folder, when this cache made it
    JobResult failure;     // when it could not be made
    nlohmann::json lane;   // the lane holds of the step that made it
  };
  /// The entry for `key` (a reference of `task`), created empty the first time.
  Entry& Find(const std::string& key, const std::string& task);
  /// Removes the reference files this cache made for `task` (every task's when empty), and their
  /// steps' folders: a whole suite's float64 references came to 37 GB on the H200. Those an
  /// earlier run made stay.
  void RemoveMade(const std::string& task = "");

 private:
  std::mutex mutex_;
  std::map<std::string, std::unique_ptr<Entry>> entries_;
};

/// What a job needs besides its task and implementation.
struct JobContext {
  const WorkerOptions* options = nullptr;
  Launcher* candidate = nullptr;  // the candidate step: fresh or pre-started, sandboxed
  Launcher* trusted = nullptr;    // the reference and compare steps
  ReferenceCache* references = nullptr;
  const GpuLane* lane = nullptr;  // null: no lane
  /// Told the candidate step's folder once it is known (the live view reads its lane status).
  std::function<void(const std::filesystem::path&)> on_candidate_dir;
  /// Called once the job's reference is there (made, reused or failed): the runner's GPU memory
  /// admission stops counting it. `remade`: it failed for the GPU's memory or the disk, so the
  /// task's next job to need it makes it again (and counts it again).
  std::function<void(bool remade)> on_reference_done;
  /// The job's task reference is made before its candidate step starts, not beside it: for a job
  /// that runs alone after running out of GPU memory, whose own reference step (attention's float64
  /// at 4x32x4096x128: about 68 GiB) would otherwise share the GPU with its candidate step (an
  /// H100, 2026-12-06: the attention LLM column `runtime_error`, out of memory, "alone").
  bool reference_first = false;
};

/// A job (or step) that failed because the GPU had no memory left: torch's OutOfMemoryError, or the
/// CUDA runtime's or driver's out-of-memory error, in its message.
bool OutOfGpuMemory(const JobResult& result);

/// A job (or step) that failed because the scratch disk was full: the system's ENOSPC ("No space
/// left on device") in its message, or a step that wrote no result on a full disk (exec/worker.h).
bool OutOfScratchDisk(const JobResult& result);

/// For a single evaluation (`eval`, `serve`), which has no --resume: a job that found the scratch
/// disk full gets no verdict of its own: `unavailable`, "not judged: the scratch disk was full
/// (make room on the disk of <scratch_dir> and run it again): <message>", no timings. True when
/// it did; any other result is left as it is.
bool NoVerdictOnAFullDisk(const std::filesystem::path& scratch_dir, JobResult* result);

/// Runs one job. Never throws and never hangs: a timeout, a signal, a non-zero exit or an
/// unreadable result becomes the job's status. `process` > 0 is one of bench --repeat's later
/// processes: it checks only the last planned input (the hidden size and seed) before timing,
/// since the first process checked them all.
JobResult RunJob(const Task& task, const Implementation& impl, const JobContext& context,
                 int process = 0);

/// A new, empty job folder under the scratch folder, unique in this engine process:
/// <label>-<pid>-<n> (label: "<task>-<implementation>").
std::filesystem::path NewJobDir(const WorkerOptions& options, const std::string& label);

/// What RemoveFilesOfEndedEngines removed.
struct LeftBehind {
  int entries = 0;        // files and folders
  double bytes = 0;       // their size
  std::vector<int> pids;  // the engines that left them, ascending
};

/// Removes what engines on this machine that are no longer running left under the scratch root:
/// their reference files and reference steps' folders (`<task>-<key>-<pid>`), job folders
/// (`<label>-<pid>-<n>`) and trusted implementations' caches (`<task>-<impl>-<pid>`). Each holds
/// its engine's pid in its name, so no later engine can use it: an engine killed, or one whose run
/// stopped early before references went with the run, left tens of GB (the H100, 2026-12-05: a
/// resumed suite found the disk full). A live engine's (another bench on the same root) stay.
LeftBehind RemoveFilesOfEndedEngines(const WorkerOptions& options);

}  // namespace tritonize

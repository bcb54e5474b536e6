#pragma once

// The runner: jobs from any command (bench, eval, generate, serve) run here, many at once, over
// one GPU lane per GPU (docs/runner.md). A job's CPU-side work (process start, imports,
// compiles, checks between calls) overlaps other jobs' work; the work whose figures are
// reported holds its lane alone (python/tritonize_worker/lane.py).

#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/implementation.h"
#include "core/job.h"
#include "core/task.h"
#include "exec/worker.h"
#include "run/job.h"
#include "run/launcher.h"

namespace tritonize {

class ServerLauncher;
class WarmPool;

struct RunnerOptions {
  int jobs = 1;                 // jobs in progress at once, over all lanes
  std::vector<GpuLane> lanes;   // one per GPU; empty: one lane without a lock
  bool warm = false;            // pre-started candidate processes (run/warm_pool.h)
  int servers_per_gpu = 2;      // long-lived trusted workers for reference and compare steps
  // Set: every step of every job runs through it (a cluster's job steps: run/launcher_slurm.h),
  // with no warm pool and no local step server. Must outlive the runner.
  Launcher* steps = nullptr;
  // Room on the scratch disk for the jobs' files (outputs, references): -1, 90% of its free space
  // when the runner starts; 0, not considered.
  double disk_bytes = -1;
};

/// One job for the runner.
struct RunnerJob {
  const Task* task = nullptr;
  Implementation impl;
  int process = 0;      // bench --repeat's fresh process, 0-based
  std::string label;    // for the live view: "softmax expert (repeat 2)"
  int64_t tag = 0;      // the caller's own number for it
  // Set: the job's own options (a service's evaluation names its timing and seed), else the
  // runner's. Must outlive the job.
  const WorkerOptions* options = nullptr;
};

/// A job's end, as the runner hands it back.
struct RunnerOutcome {
  JobResult result;
  bool ran = false;     // false: not started (interrupted, or refused by `admit`)
  int lane = -1;        // the lane it ran on
  std::string last_status;  // what its worker last said it did on the lane (for an interrupted job)
};

/// What the live view shows of one job in progress.
struct RunningJob {
  std::string label;
  int lane = 0;
  std::chrono::steady_clock::time_point started;
  std::filesystem::path status_file;  // the worker's line of what it does on the lane now
  std::string note;  // set while it runs alone: why (the live view shows it, not its status)
};

/// Each lane's share of the wall time it was held (exclusively, or shared by some job).
struct LaneUse {
  std::string label;
  int jobs = 0;
  double busy_s = 0;       // held, exclusively or shared (the union of every job's holds)
  double exclusive_s = 0;  // held exclusively (timing, autotuning)
  double wait_s = 0;       // summed over jobs: time a worker waited for the lane
};

struct RunnerStats {
  double wall_s = 0;
  std::vector<LaneUse> lanes;
  int warm_claims = 0;   // candidate steps in a pre-started process
  int fresh_claims = 0;  // in a process started for them
  // Jobs that waited to start until their GPU's memory (the scratch disk) had room for them, and
  // the seconds they waited: those that then started, and those still queued or never started (an
  // interrupted run's) up to now.
  int memory_waits = 0;
  double memory_wait_s = 0;
  int disk_waits = 0;
  double disk_wait_s = 0;
  int reruns_alone = 0;  // jobs that ran again alone (out of GPU memory or disk beside others)
  // What engines no longer running had left under the scratch root, removed when the runner
  // started, before it counted the disk's free space (RemoveFilesOfEndedEngines).
  LeftBehind left_behind;
};

class Runner {
 public:
  using Done = std::function<void(const RunnerJob&, RunnerOutcome)>;
  /// Asked on a runner thread before a job starts; false: not started (--stop-after).
  using Admit = std::function<bool(const RunnerJob&)>;

  Runner(const WorkerOptions& options, RunnerOptions runner_options);
  ~Runner();
  Runner(const Runner&) = delete;
  Runner& operator=(const Runner&) = delete;

  /// Queues a job; `done` runs on a runner thread once it ends or is not started.
  void Submit(RunnerJob job, Done done);
  /// Submits and waits: for callers with a job at a time (eval, generate's chains).
  RunnerOutcome Run(RunnerJob job);
  /// Waits until no job is queued or running.
  void Drain();
  void SetAdmit(Admit admit);
  /// Once no job of `task` (of any task, when empty) will run again in this engine: removes the
  /// reference files the runner's jobs made for it. A run that stops early removes them too: they
  /// carry this engine's pid, so no later engine (a --resume) could use them.
  void RemoveReferences(const std::string& task = "");
  /// A job of `task` that ended before this runner (a resumed run's stored one): what its steps
  /// held on the GPU at most admits the task's jobs here, as an ended job's does (LearnGpuPeak).
  void LearnFromStored(const std::string& task, ImplKind kind, const JobResult& result);

  /// The jobs in progress and the number queued, for the live view.
  std::vector<RunningJob> Running() const;
  size_t Queued() const;
  /// Why the queued jobs do not start now, one line per reason, with the figures the runner
  /// counted ("3 wait for GPU memory: the first, attention expert, needs 32.0 GiB; GPU 0 counts
  /// 96.0 of 112.0 GiB for 2 jobs"); none when the queue is empty or every queued job could start.
  std::vector<std::string> Waits() const;
  const std::vector<GpuLane>& lanes() const { return options_.lanes; }
  int jobs() const { return options_.jobs; }
  /// The folder of the jobs' files (outputs; the references and caches beside it).
  const std::filesystem::path& scratch_dir() const { return worker_.scratch_dir; }
  /// Since the runner was made.
  RunnerStats Stats() const;
  /// Whether `dir` is the folder of a pre-started candidate process the runner keeps ready
  /// (RunnerOptions::warm): a caller that clears its scratch between jobs leaves it.
  bool KeepsReady(const std::filesystem::path& dir) const;

 private:
  struct Pending {
    RunnerJob job;
    Done done;
    // Its estimates (core/task_lint.h), made when it is submitted: GPU memory and scratch disk,
    // with its task's reference (the task's first job) and without.
    double gpu_with_reference = 0;
    double gpu_without = 0;
    double disk_with_reference = 0;
    double disk_without = 0;
    bool admitted = false;  // the Admit callback said yes (it is asked once)
    int overtaken = 0;      // jobs started before it while it could not start
    char waits_for = 0;     // 'm' GPU memory, 'd' scratch disk: why it could not start when asked
    std::chrono::steady_clock::time_point waits_since;
    // Set when it ran out of GPU memory ('m') or found the scratch disk full ('d') while other jobs
    // shared them: it runs again alone, on a lane with no job ('d': with no job on any lane).
    char alone = 0;
    JobResult first;                                    // that run's result
    std::chrono::steady_clock::time_point alone_since;  // when that run ended
  };
  // Overtakes allowed per thread before the queue's first job blocks those behind it.
  static constexpr int kMaxOvertakes = 2;
  // How far the search looks: a service's queue may hold thousands of jobs.
  static constexpr size_t kSearched = 256;

  void Work();
  /// Under mutex_: counts a job's wait for memory or disk (it starts now, or never will).
  void CountWait(const Pending& pending);
  /// Under mutex_: the index in queue_ of the first job that can start now (its GPU memory and
  /// scratch disk fit beside the running jobs'), or -1. The jobs it passes over are marked as
  /// waiting. A job that cannot start does not hold back those behind it (in a whole-suite run on
  /// the H200, 11 jobs waited about 360 s each, most threads blocked on the largest), up to a
  /// bound: once the queue's first job has been overtaken kMaxOvertakes times per thread, only it
  /// may start.
  int NextToStart();
  /// Under mutex_: what a queued job counts against GPU memory and disk now.
  double GpuBytes(const Pending& pending) const;
  double DiskBytes(const Pending& pending) const;
  /// Under mutex_: a lane where a job that must run alone can start now (no job there, and for
  /// `every`, no job on any lane), -1 when none is.
  int AloneLane(bool every) const;
  /// The lanes a job that runs alone for `why` ('m' GPU memory, 'd' scratch disk) closes.
  std::vector<size_t> Closes(char why, int lane) const;
  /// Under mutex_: the open lane with the fewest jobs where a job that needs `bytes` of GPU memory
  /// fits beside the jobs running there (a lane without jobs always fits; `bytes` < 0: memory not
  /// considered), -1 when none is.
  int PickLane(double bytes) const;
  /// Under mutex_: what a job of `task` counts against its lane's memory: `with_reference` when no
  /// job of the task has started yet (that one makes the task's reference), else `without`; its
  /// own part (`without`) at least what an ended job of the task and of its kind's group held
  /// (measured_gpu_bytes_, PeakKey).
  double JobBytes(const std::string& task, ImplKind kind, double with_reference,
                  double without) const;
  /// The key of measured_gpu_bytes_: the task and the group of `kind` (the task's PyTorch, the
  /// baseline and torch.compile's; or a kernel, an expert's, an LLM's or a candidate's).
  static std::string PeakKey(const std::string& task, ImplKind kind);
  /// Under mutex_: what the ended job's steps held on its GPU at most (the candidate step's and the
  /// compare step's peaks, which can overlap: the compare runs beside the timing), kept for its
  /// task and its kind's group (PeakKey) when it is the most so far. Only from the project's own
  /// code (baseline, expert, compile): a candidate's process reports its own peak, and a figure
  /// it made up would steer every later job of its task (in `serve`, other users' too).
  void LearnGpuPeak(const std::string& task, ImplKind kind, const JobResult& result);
  /// Under mutex_: whether a job whose files take `bytes` fits on the scratch disk beside the
  /// running jobs' and the kept references' (no job running: always).
  bool DiskFits(double bytes) const;
  void Account(int lane, const JobResult& result);  // under mutex_
  // A job that ran out of GPU memory while others shared its GPU runs again with its lane to
  // itself (its verdict is then its own, not the crowd's); one that found the scratch disk full,
  // with every lane to itself (the disk is the machine's), and the disk budget shrinks to three
  // quarters of what the running jobs' estimates came to (they under-counted). It goes back to
  // the queue's end and starts once a lane is empty: the jobs before it run meanwhile, and the
  // overtake bound (NextToStart) makes the lane drain for it at the latest when it is first and
  // has been overtaken enough. Its lane then takes no other job until it ends. Not with
  // RunnerOptions::steps: a cluster's lanes are no GPUs or disk of this machine.

  const WorkerOptions& worker_;
  RunnerOptions options_;
  std::unique_ptr<ServerLauncher> trusted_;
  std::unique_ptr<WarmPool> warm_;
  std::unique_ptr<Launcher> fresh_;
  ReferenceCache references_;
  Admit admit_;

  mutable std::mutex mutex_;
  std::condition_variable idle_;
  std::deque<Pending> queue_;
  std::map<int, RunningJob> running_;  // by a job number
  std::vector<int> lane_jobs_;         // running jobs per lane
  std::vector<int> lane_closers_;      // per lane: jobs running alone that close it to others
  // GPU memory admission: a job starts on a lane only if the estimates (core/task_lint.h) of the
  // jobs running there and its own fit in 80% of the GPU's memory. The first job of a task also
  // counts the task's float64 reference until it is made. On the H200 a whole-suite run at twelve
  // jobs at once ran the GPU out of memory, and the jobs that failed then ran again one by one.
  std::vector<double> lane_bytes_;           // per lane: the running jobs' estimates
  std::set<std::string> reference_counted_;  // tasks whose first job has started
  // By task and group (PeakKey): the most an ended job's steps held on the GPU (gpu_peak_mib +
  // compare_gpu_peak_mib). The estimate is the baseline's peak at one size; on the H100's suite of
  // 2026-12-05 the candidate steps held 1.1-14x it (asin 10.3 GiB against 1.5; docs/runner.md). A
  // task's later jobs of a group are admitted by the larger of the two. By group: attention's
  // baseline held 71 GiB, its expert 6, and one figure for the task ran every column alone.
  std::map<std::string, double> measured_gpu_bytes_;
  int memory_waits_ = 0;
  double memory_wait_s_ = 0;
  // Disk admission, the same way: the estimates (core/task_lint.h JobDiskBytes) of the running
  // jobs' outputs and of the references kept for their tasks (until RemoveReferences) fit in the
  // budget. On the H200 twelve jobs of the suite's large tasks at once filled its 64 GB disk.
  double disk_budget_ = 0;
  double disk_used_ = 0;
  std::map<std::string, double> reference_disk_;  // by task: its reference's estimate, while kept
  int disk_waits_ = 0;
  double disk_wait_s_ = 0;
  int reruns_alone_ = 0;
  LeftBehind left_behind_;
  // The queue, a lane's jobs or closers, the GPU memory or the disk counted changed.
  std::condition_variable changed_;
  int next_id_ = 0;
  int active_ = 0;  // queued or running: Drain waits for 0
  bool stopping_ = false;
  std::vector<std::thread> threads_;
  std::chrono::steady_clock::time_point started_;
  std::vector<std::vector<std::pair<double, double>>> holds_;  // per lane: [start, end] held
  std::vector<LaneUse> use_;
};

/// The default --jobs: jobs in progress at once from the machine's cores and memory (each job's
/// worker takes a core while it compiles and about 3 GiB with torch and CUDA), at most 12 a lane.
int DefaultJobs(int lanes);

/// WorkerOptions::cpu_threads for `jobs` worker processes at once on this machine: its cores
/// shared among them (at least 1); 0 (the libraries' defaults) for one job at a time.
int CpuThreadsPerJob(int jobs);

/// One lane per GPU of `gpus` (a comma list of CUDA_VISIBLE_DEVICES entries; empty: every GPU
/// the engine sees, else one lane with the devices inherited); one unlocked CPU lane when
/// `interpret`. Lock files live in `lanes_dir`, named by GPU, so that two engines on one machine
/// share a GPU's lane. Problems (an unknown GPU) are appended to *errors.
std::vector<GpuLane> MakeLanes(const std::string& gpus, bool interpret,
                               const std::filesystem::path& lanes_dir,
                               std::vector<std::string>* errors);

/// `count` lanes for steps that a cluster places (--launcher slurm): no lock file and no device
/// of this machine's; the cluster's allocation gives each step its GPU.
std::vector<GpuLane> ClusterLanes(int count);

/// The machine-wide folder of lane lock files: $TRITONIZE_LANES, else <tmp>/tritonize-lanes-<uid>.
std::filesystem::path DefaultLanesDir();

}  // namespace tritonize

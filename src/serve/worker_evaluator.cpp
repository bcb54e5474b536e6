#include "serve/worker_evaluator.h"

#include <fmt/format.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <mutex>
#include <thread>

#include "core/candidates.h"
#include "exec/subprocess.h"
#include "report/eval_json.h"
#include "run/job.h"

namespace tritonize {
namespace {

namespace fs = std::filesystem;

/// Whether a job folder under `jobs` holds the candidate's outputs: written once every check
/// passed, just before timing starts (python/tritonize_worker/candidate.py).
bool OutputsWritten(const fs::path& jobs) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(jobs, ec)) {
    if (fs::exists(entry.path() / "outputs.safetensors", ec)) return true;
  }
  return false;
}

}  // namespace

WorkerEvaluator::WorkerEvaluator(WorkerEvaluatorOptions options) : options_(std::move(options)) {
  if (options_.slurm) {
    options_.gpus.clear();
    options_.worker.cuda_visible_devices.clear();  // a node's own, set by Slurm
  }
  // GPU lanes go round the GPUs (lane k on GPU k mod the count), so that the first lanes of a
  // server spread over its GPUs; lanes on one GPU share its lane lock (run/runner.h): what one
  // times, no other's GPU work overlaps.
  const size_t per_gpu = static_cast<size_t>(std::max(1, options_.lanes_per_gpu));
  // Without named GPUs: the inherited ones, as one GPU (`lanes_per_gpu` lanes), or CPU lanes.
  const size_t lanes = options_.gpus.empty()
                           ? std::max(static_cast<size_t>(std::max(1, options_.cpu_lanes)), per_gpu)
                           : options_.gpus.size() * per_gpu;
  lane_options_.reserve(lanes);
  warm_ = static_cast<long>(lanes) < sysconf(_SC_NPROCESSORS_ONLN);
  for (size_t lane = 0; lane < lanes; ++lane) {
    WorkerOptions worker = options_.worker;
    worker.scratch_dir = LaneDir(static_cast<int>(lane)) / "jobs";
    if (!options_.gpus.empty()) worker.cuda_visible_devices = GpuOf(lane);
    if (!options_.slurm) worker.cpu_threads = CpuThreadsPerJob(static_cast<int>(lanes));
    // A candidate sees nothing of the other lanes: their jobs, references and the sources other
    // clients submitted. (Made first: a folder that does not exist cannot be hidden.)
    for (size_t other = 0; other < lanes; ++other) {
      if (other == lane) continue;
      std::error_code ec;
      fs::create_directories(LaneDir(static_cast<int>(other)), ec);
      worker.sandbox.hidden.push_back(LaneDir(static_cast<int>(other)));
    }
    lane_options_.push_back(std::move(worker));
  }
  for (size_t lane = 0; lane < lanes && options_.slurm; ++lane) {
    // Every step a Slurm job step; the lane is a folder on the shared scratch and a step at once.
    slurm_.push_back(std::make_unique<SlurmStepLauncher>(lane_options_[lane], *options_.slurm));
    RunnerOptions runner;
    runner.lanes = ClusterLanes(1);
    runner.lanes[0].label = fmt::format("slurm {}", lane);
    runner.steps = slurm_.back().get();
    runners_.push_back(std::make_unique<Runner>(lane_options_[lane], runner));
  }
  for (size_t lane = 0; lane < lanes && !options_.slurm; ++lane) {
    // Each lane's trusted steps go to step servers of its own, on the lane's GPU, whose lane
    // lock it takes (so that a `bench` on the same GPU never times beside it).
    RunnerOptions runner;
    runner.jobs = 1;
    if (per_gpu > 1) runner.servers_per_gpu = 1;  // one evaluation at a time: one compare at a time
    // The next evaluation's candidate process starts Python, imports torch and Triton and sets up
    // CUDA while this one runs (3-5 s a job on the H100 and H200, in every job before), where a
    // core is free for it: with as many lanes as cores, each lane's spare process takes CPU from
    // the running evaluations (docs/serve.md, "Pre-started processes").
    runner.warm = warm_;
    std::vector<std::string> errors;
    const std::string gpu = options_.gpus.empty() ? std::string() : GpuOf(lane);
    runner.lanes = MakeLanes(gpu, options_.worker.interpret, DefaultLanesDir(), &errors);
    if (!errors.empty() || runner.lanes.size() != 1) {
      // No lock files: the lane runs without one (as the interpreter's does), and says so.
      runner.lanes = {{0, gpu, gpu.empty() ? "cpu" : "GPU " + gpu, {}, {}}};
    }
    runner.lanes[0].devices = gpu;
    runners_.push_back(std::make_unique<Runner>(lane_options_[lane], runner));
  }
}

void WorkerEvaluator::ClearJobs(int lane, const fs::path& jobs) const {
  // A folder of the lane's pre-started candidate process stays: the next evaluation takes it.
  const Runner& runner = *runners_[static_cast<size_t>(lane)];
  std::error_code ec;
  std::vector<fs::path> stale;
  for (const auto& entry : fs::directory_iterator(jobs, ec)) {
    if (!runner.KeepsReady(entry.path())) stale.push_back(entry.path());
  }
  for (const auto& path : stale) fs::remove_all(path, ec);
}

std::string WorkerEvaluator::GpuOf(size_t lane) const {
  return options_.gpus.empty() ? std::string() : options_.gpus[lane % options_.gpus.size()];
}

fs::path WorkerEvaluator::LaneDir(int lane) const {
  return options_.scratch / "lanes" / std::to_string(lane);
}

JobResult WorkerEvaluator::RunRepeats(int lane, const Task& task, const Implementation& impl,
                                      const WorkerOptions& worker, int repeat) {
  // As bench --repeat: the first process checks everything, later ones the hidden input only,
  // and each times afresh; a later process that fails fails the evaluation.
  Runner& runner = *runners_[static_cast<size_t>(lane)];
  auto run = [&](int process) {
    RunnerJob job{&task, impl, process, task.name + " evaluation", 0, &worker};
    return runner.Run(std::move(job)).result;
  };
  JobResult result = run(0);
  for (int process = 1; process < repeat && result.status == Status::kOk && !Interrupted();
       ++process) {
    JobResult next = run(process);
    if (next.status != Status::kOk) {
      next.checks.insert(next.checks.begin(), result.checks.begin(), result.checks.end());
      next.timings.insert(next.timings.begin(), result.timings.begin(), result.timings.end());
      return next;
    }
    for (Timing& timing : next.timings) {
      timing.process = process;
      result.timings.push_back(std::move(timing));
    }
    result.wall_s += next.wall_s;
  }
  return result;
}

EvaluationOutcome WorkerEvaluator::Evaluate(int lane, const Evaluation& evaluation,
                                            const CancelToken& cancel,
                                            const std::function<void()>& timing_started) {
  EvaluationOutcome outcome;
  const fs::path lane_dir = LaneDir(lane);
  const fs::path jobs = lane_dir / "jobs";
  // The candidate's source lives beside the jobs, not in them: a cancel kills what runs in jobs/.
  const fs::path source_dir = lane_dir / "candidates" / fmt::format("e{}", evaluation.id);
  std::error_code ec;
  ClearJobs(lane, jobs);
  fs::remove_all(source_dir, ec);
  fs::create_directories(jobs, ec);
  fs::create_directories(source_dir, ec);
  const fs::path source = source_dir / "candidate.py";
  {
    std::ofstream out(source, std::ios::binary);
    out << evaluation.code;
  }

  Task task = *evaluation.task;
  if (!evaluation.options.sizes.empty()) task.sizes = evaluation.options.sizes;
  WorkerOptions worker = lane_options_[static_cast<size_t>(lane)];
  worker.timing = evaluation.options.timing && !worker.interpret;
  worker.run_seed = evaluation.options.seed.value_or(options_.run_seed);
  outcome.impl = CandidateImplementation(source, task);
  if (!fs::is_regular_file(source, ec)) {
    outcome.impl.unavailable = "cannot write the candidate's source to " + source.string();
  }

  // A watcher beside the job: it stops the lane's worker processes on a cancel, and says when
  // timing begins.
  std::atomic<bool> job_done{false};
  std::thread watcher([&] {
    bool timing = false;
    while (!job_done.load()) {
      if (cancel.cancelled()) {
        if (!slurm_.empty()) slurm_[static_cast<size_t>(lane)]->CancelStepsIn(jobs);
        KillProcessesIn(jobs);
      }
      if (worker.timing && !timing && OutputsWritten(jobs)) {
        timing = true;
        if (timing_started) timing_started();
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });
  JobResult result = RunRepeats(lane, task, outcome.impl, worker, evaluation.options.repeat);
  job_done.store(true);
  watcher.join();

  if (!options_.keep_files) {
    ClearJobs(lane, jobs);
    fs::remove_all(source_dir, ec);
  }
  if (cancel.cancelled()) {
    outcome.kind = EvaluationOutcome::Kind::kCancelled;
    return outcome;
  }
  if (Interrupted()) {
    outcome.kind = EvaluationOutcome::Kind::kStopped;
    return outcome;
  }
  outcome.kind = EvaluationOutcome::Kind::kFinished;
  // A full scratch disk is the service machine's state: the client gets no verdict on its code
  // (unavailable, "not judged: ..."), as `eval` gives none.
  NoVerdictOnAFullDisk(LaneDir(lane) / "jobs", &result);
  outcome.result = std::move(result);
  outcome.verdict = EvalJson(task, outcome.impl, outcome.result);
  return outcome;
}

nlohmann::json WorkerEvaluator::Describe() const {
  nlohmann::json lanes = nlohmann::json::array();
  for (size_t lane = 0; lane < lane_options_.size(); ++lane) {
    const RunnerStats stats = runners_[lane]->Stats();
    lanes.push_back({{"lane", lane},
                     {"device", options_.worker.interpret ? "cpu" : "cuda"},
                     {"cuda_visible_devices", lane_options_[lane].cuda_visible_devices},
                     {"cpu_threads", lane_options_[lane].cpu_threads},
                     {"pre_started", warm_ && !options_.slurm},
                     {"warm_claims", stats.warm_claims},
                     {"fresh_claims", stats.fresh_claims}});
  }
  if (!options_.slurm) return {{"launcher", "local"}, {"lanes", lanes}};
  return {{"launcher", "slurm"},
          {"lanes", lanes},
          {"partition", options_.slurm->partition},
          {"gres", options_.slurm->gres},
          {"binary", slurm_.front()->slurm().options().binary}};
}

int WorkerEvaluator::ReapOrphans() {
  int reaped = 0;
  if (!slurm_.empty()) {
    // A dead server's steps run on in the cluster: found by the job name prefix of this scratch.
    const SlurmLauncher& slurm = slurm_.front()->slurm();
    reaped += slurm.CancelJobsNamed(slurm.options().job_prefix, options_.scratch / "slurm");
  }
  return reaped + KillProcessesIn(options_.scratch / "lanes");
}

}  // namespace tritonize

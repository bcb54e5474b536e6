#include "cli/run_options.h"

#include <fmt/format.h>

#include "core/sha256.h"

namespace tritonize {

namespace fs = std::filesystem;

void AddRunFlags(CLI::App* app, RunFlags* flags, const std::string& jobs_help) {
  if (!jobs_help.empty()) {
    app->add_option("--jobs", flags->jobs, jobs_help)
        ->envname("TRITONIZE_JOBS")
        ->check(CLI::Range(0, 256));
    app->add_flag("--no-warm", flags->no_warm,
                  "Start each candidate's process when its job needs it, not beforehand");
  }
  app->add_option("--gpus", flags->gpus,
                  "GPUs to run on, one lane each: nvidia-smi indices or UUIDs, comma-separated "
                  "(default: CUDA_VISIBLE_DEVICES's, else every GPU)")
      ->envname("TRITONIZE_GPUS");
}

RunnerOptions MakeRunnerOptions(const RunFlags& flags, EngineContext* context,
                                std::vector<std::string>* errors, Launcher* steps) {
  RunnerOptions options;
  if (steps != nullptr) {
    if (!flags.gpus.empty()) {
      errors->push_back("--gpus: with --launcher slurm the cluster gives each step its GPU "
                        "(--slurm-gres gpu:1); --jobs says how many steps at once");
    }
    options.jobs = flags.jobs > 0 ? flags.jobs : 1;
    options.lanes = ClusterLanes(options.jobs);
    options.steps = steps;
    context->worker.cuda_visible_devices.clear();  // a node's own, set by Slurm
    return options;
  }
  const WorkerOptions& worker = context->worker;
  options.lanes = MakeLanes(flags.gpus, worker.interpret, DefaultLanesDir(), errors);
  const int lanes = std::max(1, static_cast<int>(options.lanes.size()));
  options.jobs = flags.jobs > 0 ? flags.jobs : DefaultJobs(lanes);
  options.warm = !flags.no_warm;
  context->worker.cpu_threads = CpuThreadsPerJob(options.jobs);
  // Commands that run a worker outside the runner (calibrate) use the first lane's GPU.
  if (!options.lanes.empty()) context->worker.cuda_visible_devices = options.lanes[0].devices;
  return options;
}

void AddLauncherFlags(CLI::App* app, LauncherFlags* flags, const std::string& what) {
  app->add_option("--launcher", flags->launcher, what)->capture_default_str();
  SlurmOptions& slurm = flags->slurm;
  app->add_option("--slurm-partition", slurm.partition, "Slurm partition of the job steps");
  app->add_option("--slurm-gres", slurm.gres,
                  "Generic resources of each step, e.g. gpu:1 (default: none)");
  app->add_option("--slurm-arg", slurm.extra, "One more argument to srun (repeatable)");
  app->add_option("--slurm-binary", slurm.binary,
                  "The tritonize binary the nodes run (default: this one's path)");
  app->add_option("--srun", slurm.srun, "The srun command")->capture_default_str();
}

std::unique_ptr<SlurmStepLauncher> MakeSlurmLauncher(const LauncherFlags& flags,
                                                     const WorkerOptions& worker,
                                                     std::vector<std::string>* errors) {
  if (flags.launcher == "local") return nullptr;
  if (flags.launcher != "slurm") {
    errors->push_back(
        fmt::format("--launcher: expected local or slurm, got \"{}\"", flags.launcher));
    return nullptr;
  }
  const fs::path scratch = worker.scratch_dir.parent_path();
  std::string err;
  if (!CheckSlurm(flags.slurm, scratch / "slurm", &err)) {
    errors->push_back(err);
    return nullptr;
  }
  SlurmOptions slurm = flags.slurm;
  slurm.job_prefix = "tritonize-" + Sha256Hex(scratch.string()).substr(0, 8) + "-";
  return std::make_unique<SlurmStepLauncher>(worker, std::move(slurm));
}

}  // namespace tritonize

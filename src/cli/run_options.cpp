#include "cli/run_options.h"

#include <fmt/format.h>

namespace tritonize {

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
                                std::vector<std::string>* errors) {
  RunnerOptions options;
  const WorkerOptions& worker = context->worker;
  options.lanes = MakeLanes(flags.gpus, worker.interpret, DefaultLanesDir(), errors);
  const int lanes = std::max(1, static_cast<int>(options.lanes.size()));
  options.jobs = flags.jobs > 0 ? flags.jobs : DefaultJobs(lanes);
  options.warm = !flags.no_warm;
  // Commands that run a worker outside the runner (calibrate) use the first lane's GPU.
  if (!options.lanes.empty()) context->worker.cuda_visible_devices = options.lanes[0].devices;
  return options;
}

}  // namespace tritonize

// `tritonize eval`: one candidate file, one task, one verdict as one JSON object.
#include <iostream>

#include <fmt/format.h>

#include "cli/command.h"
#include "cli/context.h"
#include "cli/guard_options.h"
#include "cli/run_options.h"
#include "core/candidates.h"
#include "exec/worker.h"
#include "report/eval_json.h"
#include "run/runner.h"
#include "store/store.h"

namespace tritonize {
namespace {

namespace fs = std::filesystem;

struct EvalOptions {
  CommonOptions common;
  std::string task;
  std::string file;
  bool json = false;
  int calls = 50;
  GuardOptions guards;
  RunFlags run;
};

void PrintHuman(const nlohmann::json& j) {
  std::cout << fmt::format("{}: {} ({})\n", j["task"].get<std::string>(),
                           j["status"].get<std::string>(), j["file"].get<std::string>());
  if (!j["message"].get<std::string>().empty()) {
    std::cout << "  " << j["message"].get<std::string>() << "\n";
  }
  for (const auto& s : j["sizes"]) {
    if (s["kernel_us"].is_null()) continue;
    std::cout << fmt::format("  {:<16} {:<8} kernel {:9.2f} us (median of {}), call {:9.2f} us\n",
                             s["size"].get<std::string>(), s["mode"].get<std::string>(),
                             s["kernel_us"]["median"].get<double>(),
                             s["kernel_us"]["n"].get<size_t>(),
                             s["call_us"].is_null() ? 0.0 : s["call_us"]["median"].get<double>());
  }
}

int RunEval(const EvalOptions& options) {
  std::vector<std::string> errors;
  EngineContext context;
  MakeContext(options.common, &context, &errors);
  const Task* task = context.suite.Find(options.task);
  if (task == nullptr && context.suite.tasks().size() > 0) {
    errors.push_back(fmt::format("--task: unknown task \"{}\"", options.task));
  }
  if (!fs::is_regular_file(options.file)) {
    errors.push_back(fmt::format("--file {}: no such file", options.file));
  }
  ApplyGuardOptions(options.guards, &context.worker, &errors);
  RunnerOptions runner_options = MakeRunnerOptions(options.run, &context, &errors);
  if (!errors.empty()) return ReportUsageErrors(errors);
  context.worker.calls = options.calls;
  // One job: nothing to overlap, and a process started beforehand would start no sooner.
  runner_options.jobs = 1;
  runner_options.warm = false;
  runner_options.servers_per_gpu = 1;

  Implementation impl = CandidateImplementation(options.file, *task);
  Runner runner(context.worker, runner_options);
  JobResult result = runner.Run({task, impl, 0, "candidate", 0}).result;
  runner.RemoveReferences();

  std::string err;
  if (NoVerdictOnAFullDisk(context.worker.scratch_dir, &result)) {
    // The machine's state, not the candidate's verdict: none stored (bench stores none either).
    std::cerr << "tritonize: error: " << result.message << "\n";
  } else if (auto store = Store::Open(options.common.db, &err)) {
    int64_t run_id = store->BeginRun(CommandLine(), result.environment, &err);
    if (run_id == 0 || !store->RecordJob(run_id, *task, impl, result, &err) ||
        !store->FinishRun(run_id, "finished", &err)) {
      std::cerr << "tritonize: warning: not stored: " << err << "\n";
    }
  } else {
    std::cerr << "tritonize: warning: not stored: " << err << "\n";
  }

  nlohmann::json j = EvalJson(*task, impl, result);
  if (options.json) {
    std::cout << j.dump(2) << "\n";
  } else {
    PrintHuman(j);
  }
  return result.status == Status::kOk ? kExitOk : kExitFailed;
}

}  // namespace

std::function<int()> SetupEval(CLI::App* app) {
  auto options = std::make_shared<EvalOptions>();
  AddCommonOptions(app, &options->common);
  app->add_option("--task", options->task, "Task name")->required();
  app->add_option("--file", options->file, "Candidate module (.py)")->required();
  app->add_flag("--json", options->json, "Print the verdict as one JSON object");
  app->add_option("--calls", options->calls, "Timed calls per size and mode (>= 30)")->capture_default_str()
      ->check(CLI::Range(30, 100000));
  AddGuardOptions(app, &options->guards);
  AddRunFlags(app, &options->run, "");
  return [options] { return RunEval(*options); };
}

}  // namespace tritonize

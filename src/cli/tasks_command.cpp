// `tritonize tasks`: the suite, one line per task; `--lint` checks that each task can tell a right
// implementation from a wrong one (docs/tasks.md, The task lint).
#include <fstream>
#include <mutex>
#include <iostream>

#include <fmt/format.h>

#include "cli/command.h"
#include "cli/context.h"
#include "cli/run_options.h"
#include "core/candidates.h"
#include "core/task_lint.h"
#include "exec/extractor.h"
#include "exec/worker.h"
#include "run/runner.h"

namespace tritonize {
namespace {

namespace fs = std::filesystem;

struct TasksOptions {
  CommonOptions common;
  bool json = false;
  bool lint = false;
  bool no_run = false;  // --lint without worker jobs: the size checks only
  std::string tasks = "all";
  RunFlags run;  // --jobs, --gpus, --no-warm: how the lint's jobs run
  std::string tutorials;
  double gpu_memory_gib = 80;  // the H100's; an H200 has 141
};

std::string Join(const std::vector<std::string>& items, const char* sep) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : sep) + item;
  return out;
}

void PrintSuite(const TaskSuite& suite) {
  std::cout << fmt::format("{:<20}  {:<16}  {:<16}  {}\n", "Task", "Entry", "Modes", "Experts");
  for (const auto& task : suite.tasks()) {
    std::vector<std::string> experts;
    for (const auto& expert : task.experts) {
      experts.push_back(fmt::format("{} ({})", expert.name,
                                    expert.tutorial.empty() ? expert.module : expert.tutorial));
    }
    std::cout << fmt::format("{:<20}  {:<16}  {:<16}  {}\n", task.name, task.entry,
                             Join(task.modes, "+"), experts.empty() ? "-" : Join(experts, ", "));
  }
}

/// The lint's copy implementation: every output is a copy of the first tensor (or tensor list)
/// argument. A task whose output is not its input must give it wrong_result.
fs::path WriteCopyImplementation(const Task& task, const fs::path& dir) {
  fs::create_directories(dir);
  const fs::path file = dir / (task.name + "_copy.py");
  std::ofstream(file) << fmt::format(
      "# tritonize tasks --lint: a copy of the first tensor argument for every output, which the\n"
      "# task's checks must reject.\n"
      "import torch\n\n\n"
      "def _copy(value):\n"
      "    return [t.clone() for t in value] if isinstance(value, (list, tuple)) else value.clone()\n\n\n"
      "def _is_tensor(value):\n"
      "    items = value if isinstance(value, (list, tuple)) and value else [value]\n"
      "    return all(isinstance(item, torch.Tensor) for item in items)\n\n\n"
      "def {}(*args):\n"
      "    first = next(arg for arg in args if _is_tensor(arg))\n"
      "    outputs = [_copy(first) for _ in range({})]\n"
      "    return outputs[0] if len(outputs) == 1 else tuple(outputs)\n",
      task.entry, task.outputs.size());
  return file;
}

/// The copy must get wrong_result, and fail some check of every distribution it was checked on.
LintFinding LintCopy(const Task& task, const JobResult& result) {
  LintFinding finding{task.name, "copy_fails", "FAIL", ""};
  if (result.status != Status::kWrongResult) {
    finding.detail = fmt::format("a copy of the input got {}, not wrong_result: {}",
                                 StatusName(result.status), result.message);
    return finding;
  }
  std::map<std::string, bool> failed;  // distribution -> some check failed
  for (const auto& check : result.checks) failed[check.distribution] |= !check.ok;
  std::vector<std::string> names, passed;
  for (const auto& [name, any] : failed) {
    names.push_back(name);
    if (!any) passed.push_back(name);
  }
  if (!passed.empty()) {
    finding.detail = "a copy of the input passes every check of " + Join(passed, ", ");
    return finding;
  }
  finding.result = "ok";
  finding.detail = names.empty() ? "wrong_result: " + result.message
                                 : "wrong_result on every distribution (" + Join(names, ", ") + ")";
  return finding;
}

LintFinding Verdict(const Task& task, const std::string& check, const JobResult& result,
                    const std::string& ok_detail) {
  if (result.status == Status::kOk) return {task.name, check, "ok", ok_detail};
  return {task.name, check, "FAIL", fmt::format("{}: {}", StatusName(result.status), result.message)};
}

/// The checks that run the worker: the baseline, a copy and every expert, per task, as one batch
/// through the run library (so they overlap as a bench's jobs do, timing off).
bool LintJobs(const TasksOptions& options, EngineContext& context,
              const std::vector<const Task*>& tasks, std::vector<LintFinding>* found) {
  WorkerOptions& worker = context.worker;
  worker.timing = false;
  std::vector<std::string> errors;
  RunnerOptions runner_options = MakeRunnerOptions(options.run, &context, &errors);
  if (!errors.empty()) {
    ReportUsageErrors(errors);
    return false;
  }
  const fs::path dir = worker.scratch_dir.parent_path() / "lint";
  ExpertSet experts = ExtractExperts(worker, FindTutorials(options.tutorials, context.root),
                                     context.tasks_dir, tasks, dir / "expert");
  if (!experts.error.empty()) std::cerr << "tritonize: " << experts.error << "\n";

  // Each job's finding is made when it ends, into its slot: the table keeps the tasks' order.
  struct Planned {
    const Task* task;
    std::string check;  // baseline, copy_fails, expert <name>
    Implementation impl;
  };
  std::vector<Planned> planned;
  std::vector<std::vector<LintFinding>> slots;  // per task: size checks come first, from RunLint
  for (const Task* task : tasks) {
    if (worker.interpret && !task->interpret_skip.empty()) {
      found->push_back({task->name, "jobs", "skipped",
                        "the interpreter cannot run the task: " + task->interpret_skip});
      continue;
    }
    planned.push_back({task, "baseline", BaselineImplementation(*task)});
    planned.push_back({task, "copy_fails",
                       CandidateImplementation(WriteCopyImplementation(*task, dir), *task)});
    for (const Implementation& impl : experts.tasks[task->name]) {
      planned.push_back({task, "expert " + impl.metadata.value("expert", impl.name), impl});
    }
  }
  std::vector<LintFinding> results(planned.size());
  std::mutex mutex;
  size_t done = 0;
  Runner runner(worker, runner_options);
  for (size_t i = 0; i < planned.size(); ++i) {
    const Planned& job = planned[i];
    if (!job.impl.unavailable.empty()) {
      results[i] = {job.task->name, job.check, "skipped", job.impl.unavailable};
      continue;
    }
    const std::string label = job.task->name + " " + job.check;
    runner.Submit({job.task, job.impl, 0, label, static_cast<int64_t>(i)},
                  [&, i, label](const RunnerJob&, RunnerOutcome outcome) {
                    const Planned& p = planned[i];
                    LintFinding finding;
                    if (!outcome.ran) {
                      finding = {p.task->name, p.check, "FAIL", "not run (interrupted)"};
                    } else if (p.check == "copy_fails") {
                      finding = LintCopy(*p.task, outcome.result);
                    } else {
                      finding = Verdict(*p.task, p.check, outcome.result,
                                        p.check == "baseline"
                                            ? "passes its own checks, and its output varies with "
                                              "the input"
                                            : "agrees with the float64 reference on every check "
                                              "size");
                    }
                    std::lock_guard<std::mutex> lock(mutex);
                    results[i] = std::move(finding);
                    std::cerr << fmt::format("tritonize: lint [{}/{}] {}: {}\n", ++done,
                                             planned.size(), label, results[i].result);
                  });
  }
  runner.Drain();
  for (auto& finding : results) found->push_back(std::move(finding));
  return true;
}

int RunLint(const TasksOptions& options, EngineContext& context) {
  std::vector<std::string> errors;
  const std::vector<const Task*> tasks = context.suite.Select(options.tasks, &errors);
  if (!errors.empty()) return ReportUsageErrors(errors);
  std::vector<LintFinding> found;
  for (const Task* task : tasks) {
    for (auto& finding : LintSizes(*task, options.gpu_memory_gib * 1024 * 1024 * 1024)) {
      found.push_back(std::move(finding));
    }
  }
  if (!options.no_run && !LintJobs(options, context, tasks, &found)) return kExitUsage;
  bool ok = true;
  nlohmann::json out = nlohmann::json::array();
  for (const auto& f : found) {
    ok = ok && f.result != "FAIL";
    out.push_back({{"task", f.task}, {"check", f.check}, {"result", f.result}, {"detail", f.detail}});
  }
  if (options.json) {
    std::cout << out.dump(2) << "\n";
  } else {
    std::cout << fmt::format("{:<20}  {:<20}  {:<7}  {}\n", "Task", "Check", "Result", "Detail");
    for (const auto& f : found) {
      std::cout << fmt::format("{:<20}  {:<20}  {:<7}  {}\n", f.task, f.check, f.result, f.detail);
    }
  }
  return ok ? kExitOk : kExitFailed;
}

int RunTasks(const TasksOptions& options) {
  std::vector<std::string> errors;
  EngineContext context;
  if (!MakeContext(options.common, &context, &errors)) return ReportUsageErrors(errors);
  if (options.lint) return RunLint(options, context);
  if (options.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& task : context.suite.tasks()) out.push_back(task.manifest);
    std::cout << out.dump(2) << "\n";
    return kExitOk;
  }
  PrintSuite(context.suite);
  return kExitOk;
}

}  // namespace

std::function<int()> SetupTasks(CLI::App* app) {
  auto options = std::make_shared<TasksOptions>();
  AddCommonOptions(app, &options->common);
  app->add_flag("--json", options->json, "Print the manifests (or the lint's findings) as JSON");
  app->add_flag("--lint", options->lint,
                "Check each task: sizes fit the GPU, interpreter sizes fit CI, the baseline passes "
                "and varies, a copy of the input fails, every expert passes");
  app->add_flag("--no-run", options->no_run, "With --lint: the size checks only, no worker jobs");
  app->add_option("--tasks", options->tasks, "With --lint: comma list of tasks, or all")
      ->capture_default_str();
  app->add_option("--tutorials", options->tutorials,
                  "Triton checkout for the tutorial experts; also TRITONIZE_TUTORIALS");
  app->add_option("--gpu-memory", options->gpu_memory_gib, "GiB of GPU memory the sizes must fit")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  AddRunFlags(app, &options->run, "With --lint: jobs in progress at once (default from cores and memory)");
  return [options] { return RunTasks(*options); };
}

}  // namespace tritonize

// `tritonize bench`: check and time baseline, expert and LLM implementations of each task
// in fresh worker processes, store every finished job at once, print the tables.
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

#include <fmt/format.h>

#include "cli/command.h"
#include "cli/context.h"
#include "cli/method.h"
#include "core/candidates.h"
#include "exec/extractor.h"
#include "exec/subprocess.h"
#include "exec/worker.h"
#include "report/bench_report.h"
#include "report/json_printer.h"
#include "report/table_printer.h"
#include "store/store.h"

namespace tritonize {
namespace {

namespace fs = std::filesystem;

struct BenchOptions {
  CommonOptions common;
  std::string tasks = "softmax";
  std::string impls = "baseline,expert,llm";
  std::string llm_dir;
  std::string models;
  std::string tutorials;
  std::string json_path;
  int calls = 50;
  int warmup_calls = 10;
};

/// One job to run and, once run, its result.
struct PlannedJob {
  const Task* task;
  Implementation impl;
  JobResult result;
};

struct BenchPlan {
  std::vector<const Task*> tasks;
  std::vector<std::string> models;  // LLM model ids, one table per task and model
  bool baseline = false, expert = false, llm = false;
  std::vector<PlannedJob> jobs;
};

bool ParseImpls(const std::string& impls, BenchPlan* plan, std::vector<std::string>* errors) {
  std::stringstream stream(impls);
  std::string name;
  while (std::getline(stream, name, ',')) {
    if (name == "baseline") {
      plan->baseline = true;
    } else if (name == "expert") {
      plan->expert = true;
    } else if (name == "llm") {
      plan->llm = true;
    } else if (!name.empty()) {
      errors->push_back(fmt::format("--impls: unknown implementation \"{}\" (known: baseline, "
                                    "expert, llm)", name));
    }
  }
  return errors->empty();
}

/// Resolves every implementation the run needs; the expert column is extracted from the
/// tutorials now, so a checkout problem shows before any GPU time is spent.
void PlanJobs(const BenchOptions& options, EngineContext& context, BenchPlan* plan) {
  std::map<std::string, Implementation> experts;
  if (plan->expert) {
    fs::path tutorials = FindTutorials(options.tutorials, context.root);
    if (tutorials.empty()) {
      std::cerr << "tritonize: no Triton tutorials checkout: the expert column will be empty; "
                << TutorialsHint() << "\n";
      for (const Task* task : plan->tasks) {
        Implementation impl;
        impl.kind = ImplKind::kExpert;
        impl.name = "expert";
        impl.unavailable = "no Triton tutorials checkout (--tutorials DIR or TRITONIZE_TUTORIALS)";
        experts[task->name] = impl;
      }
    } else {
      fs::path out = context.worker.scratch_dir.parent_path() / "expert";
      ExpertSet set = ExtractExperts(context.worker, tutorials, context.tasks_dir, plan->tasks, out);
      if (!set.error.empty()) std::cerr << "tritonize: " << set.error << "\n";
      experts = std::move(set.tasks);
    }
  }
  for (const Task* task : plan->tasks) {
    if (plan->baseline) plan->jobs.push_back({task, BaselineImplementation(*task), {}});
    if (plan->expert) plan->jobs.push_back({task, experts[task->name], {}});
    if (plan->llm) {
      for (const auto& model : plan->models) {
        plan->jobs.push_back({task, LlmImplementation(context.llm_dir, model, *task), {}});
      }
    }
  }
}

/// Runs the jobs one at a time (one GPU: concurrent jobs would disturb each other's
/// timings), committing each to the store as it finishes.
bool RunJobs(EngineContext& context, Store* store, int64_t run_id, BenchPlan* plan) {
  const size_t total = plan->jobs.size();
  bool all_ok = true;
  for (size_t i = 0; i < total; ++i) {
    PlannedJob& job = plan->jobs[i];
    std::cerr << fmt::format("[{}/{}] {} {} ... ", i + 1, total, job.task->name, job.impl.name)
              << std::flush;
    job.result = RunWorkerJob(*job.task, job.impl, context.worker);
    std::cerr << StatusName(job.result.status)
              << fmt::format(" ({:.1f} s)", job.result.wall_s)
              << (job.result.message.empty() ? "" : ": " + job.result.message) << "\n";
    std::string err;
    if (store != nullptr && !store->RecordJob(run_id, *job.task, job.impl, job.result, &err)) {
      std::cerr << "tritonize: error: " << err << "\n";
      return false;
    }
    if (job.result.status != Status::kOk && job.result.status != Status::kUnavailable) {
      all_ok = false;
    }
    if (Interrupted()) return false;
  }
  return all_ok;
}

const JobResult* FindResult(const BenchPlan& plan, const Task* task, const std::string& name) {
  for (const auto& job : plan.jobs) {
    if (job.task == task && job.impl.name == name) return &job.result;
  }
  return nullptr;
}

BenchReport BuildReport(const BenchPlan& plan, bool timed, const WorkerOptions& worker) {
  BenchReport report;
  report.timed = timed;
  report.method = timed ? TimingMethod(worker) : InterpretMethod();
  for (const Task* task : plan.tasks) {
    std::vector<std::string> models = plan.llm ? plan.models : std::vector<std::string>{""};
    if (models.empty()) models.push_back("");
    for (const auto& model : models) {
      const JobResult* llm = model.empty() ? nullptr : FindResult(plan, task, "llm:" + model);
      report.tables.push_back(BuildTaskTable(*task, FindResult(plan, task, "baseline"),
                                             FindResult(plan, task, "expert"), llm, model));
    }
  }
  for (const auto& job : plan.jobs) {
    if (!job.result.environment.empty()) {
      report.environment = job.result.environment;
      break;
    }
  }
  return report;
}

int RunBench(BenchOptions& options) {
  // Pass 1: configuration. Every usage error is collected and reported at once.
  std::vector<std::string> errors;
  EngineContext context;
  MakeContext(options.common, &context, &errors);
  BenchPlan plan;
  ParseImpls(options.impls, &plan, &errors);
  plan.tasks = context.suite.Select(options.tasks, &errors);
  if (!options.llm_dir.empty()) context.llm_dir = fs::absolute(options.llm_dir);
  if (plan.llm) {
    if (options.models.empty()) {
      plan.models = ListLlmModels(context.llm_dir);
    } else {
      std::stringstream stream(options.models);
      for (std::string m; std::getline(stream, m, ',');) {
        if (!m.empty()) plan.models.push_back(m);
      }
    }
    if (plan.models.empty()) {
      errors.push_back(fmt::format("--llm-dir {}: no model folders with candidates",
                                   context.llm_dir.string()));
    }
  }
  if (plan.expert && !options.tutorials.empty() && !fs::is_directory(options.tutorials)) {
    errors.push_back(fmt::format("--tutorials {}: no such directory; {}", options.tutorials,
                                 TutorialsHint()));
  }
  context.worker.calls = options.calls;
  context.worker.warmup_calls = options.warmup_calls;
  if (!errors.empty()) return ReportUsageErrors(errors);

  // Pass 2: resolve implementations (extract the expert column).
  PlanJobs(options, context, &plan);

  // Pass 3: open the store and run every job, each committed as it finishes.
  std::string err;
  auto store = Store::Open(options.common.db, &err);
  if (!store) {
    std::cerr << "tritonize: error: " << err << "\n";
    return kExitFailed;
  }
  nlohmann::json run_env = {{"engine_version", TRITONIZE_VERSION},
                            {"interpret", options.common.interpret},
                            {"python", context.worker.python}};
  int64_t run_id = store->BeginRun(CommandLine(), run_env, &err);
  if (run_id == 0) {
    std::cerr << "tritonize: error: " << err << "\n";
    return kExitFailed;
  }
  bool all_ok = RunJobs(context, store.get(), run_id, &plan);

  // Pass 4: report.
  BenchReport report = BuildReport(plan, !options.common.interpret, context.worker);
  PrintTables(report, std::cout);
  if (!report.environment.empty()) {
    run_env["worker"] = report.environment;
    store->UpdateRunEnvironment(run_id, run_env, &err);
  }
  if (!options.json_path.empty()) {
    nlohmann::json j = ReportToJson(report);
    j["run_id"] = run_id;
    j["db"] = fs::absolute(options.common.db).string();
    j["jobs"] = nlohmann::json::array();
    for (const auto& job : plan.jobs) {
      nlohmann::json entry = JobResultToJson(job.result);
      entry["task"] = job.task->name;
      entry["implementation"] = job.impl.name;
      entry["path"] = job.impl.path.string();
      entry["content_hash"] = job.impl.content_hash;
      entry["metadata"] = job.impl.metadata;
      j["jobs"].push_back(entry);
    }
    std::ofstream out(options.json_path);
    out << j.dump(2) << "\n";
    if (!out) {
      std::cerr << "tritonize: error: cannot write --json " << options.json_path << "\n";
      all_ok = false;
    }
  }
  const bool interrupted = Interrupted();
  store->FinishRun(run_id, interrupted ? "interrupted" : "finished", &err);
  std::cerr << fmt::format("tritonize: run {} stored in {}\n", run_id, options.common.db);
  if (interrupted) return kExitInterrupted;
  return all_ok ? kExitOk : kExitFailed;
}

}  // namespace

std::function<int()> SetupBench(CLI::App* app) {
  auto options = std::make_shared<BenchOptions>();
  AddCommonOptions(app, &options->common);
  app->add_option("--tasks", options->tasks, "Comma list of tasks, or all")->capture_default_str();
  app->add_option("--impls", options->impls, "Comma list of baseline, expert, llm")->capture_default_str();
  app->add_option("--llm-dir", options->llm_dir,
                  "Folder of LLM candidates <model-id>/<task>.py (default: <root>/llm_triton)");
  app->add_option("--models", options->models,
                  "Comma list of model ids under --llm-dir (default: all)");
  app->add_option("--tutorials", options->tutorials,
                  "Triton checkout (or its python/tutorials) for the expert column; "
                  "also TRITONIZE_TUTORIALS");
  app->add_option("--json", options->json_path, "Also write every figure as JSON to this file");
  app->add_option("--calls", options->calls, "Timed calls per size and mode (>= 30)")->capture_default_str()
      ->check(CLI::Range(30, 100000));
  app->add_option("--warmup", options->warmup_calls, "Warm-up calls after the first")->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  return [options] { return RunBench(*options); };
}

}  // namespace tritonize

// `tritonize report`: print a stored `bench` run's tables again, from the store alone. Nothing
// is run: the samples are the ones the run measured, the statistics are this engine's. Use it
// for the tables of a run whose output was lost, or to see a run under a newer method.
#include <fmt/format.h>

#include <algorithm>
#include <iostream>
#include <map>
#include <memory>
#include <set>

#include "cli/command.h"
#include "cli/context.h"
#include "report/report_builder.h"
#include "report/table_printer.h"
#include "run/plan.h"
#include "store/store.h"

namespace tritonize {
namespace {

namespace fs = std::filesystem;

struct ReportOptions {
  CommonOptions common;
  int64_t run = 0;  // 0: the newest
  std::string json_path;
  std::string calibration;
};

/// The model of a table column's LLM job ("llm:<model>"); empty for every other name, a
/// sample's ("llm:<model>:s<i>-t<j>") included.
std::string ColumnModel(const std::string& name) {
  if (name.rfind("llm:", 0) != 0) return "";
  const std::string model = name.substr(4);
  return model.find(':') == std::string::npos ? model : "";
}

/// The plan as the run left it: every stored job with its result, in the order it was stored.
bool LoadPlan(Store* store, const TaskSuite& suite, int64_t run_id, BenchPlan* plan,
              std::string* err) {
  std::vector<StoredJob> jobs;
  if (!store->Jobs(run_id, &jobs, err)) return false;
  int samples = 0;
  for (const StoredJob& stored : jobs) {
    const Task* task = suite.Find(stored.task);
    if (task == nullptr) {
      *err = fmt::format("run {} has jobs of task \"{}\", which the suite does not have (--root)",
                         run_id, stored.task);
      return false;
    }
    const bool column = stored.implementation == "baseline" || stored.implementation == "expert" ||
                        stored.implementation == ImplKindName(ImplKind::kCompile) ||
                        !ColumnModel(stored.implementation).empty();
    if (!column) {
      ++samples;
      continue;
    }
    PlannedJob job{task, Implementation(), JobResult()};
    job.impl.name = stored.implementation;
    job.impl.model_id = ColumnModel(stored.implementation);
    job.impl.content_hash = stored.content_hash;
    job.process = stored.process;
    if (!store->LoadJobResult(stored.id, &job.result, err)) return false;
    if (std::find(plan->tasks.begin(), plan->tasks.end(), task) == plan->tasks.end()) {
      plan->tasks.push_back(task);
    }
    if (!job.impl.model_id.empty() && std::find(plan->models.begin(), plan->models.end(),
                                                job.impl.model_id) == plan->models.end()) {
      plan->models.push_back(job.impl.model_id);
    }
    plan->llm = plan->llm || !job.impl.model_id.empty();
    plan->processes = std::max(plan->processes, job.process + 1);
    plan->jobs.push_back(std::move(job));
  }
  if (samples > 0) {
    std::cerr << fmt::format(
        "tritonize: note: {} sample job(s) of run {} are not shown: their scores need the "
        "samples' metadata, which `bench --llm-dir` reads\n",
        samples, run_id);
  }
  return true;
}

/// The worker options the run was timed with, for the method footer.
WorkerOptions RunTimingOptions(const StoredRun& run) {
  WorkerOptions worker;
  if (!ReadTimingOptions(run.environment, &worker)) {
    std::cerr << fmt::format(
        "tritonize: note: run {} does not record its --calls and --warmup (engine {}): the "
        "footer states the defaults\n",
        run.id, run.engine_version);
  }
  return worker;
}

int RunReport(const ReportOptions& options) {
  std::vector<std::string> errors;
  EngineContext context;
  if (!MakeContext(options.common, &context, &errors)) return ReportUsageErrors(errors);
  std::error_code ec;
  if (!fs::is_regular_file(options.common.db, ec)) {
    return ReportUsageErrors({fmt::format("--db {}: no such file", options.common.db)});
  }
  std::string err;
  auto store = Store::Open(options.common.db, &err);
  int64_t run_id = options.run;
  StoredRun run;
  if (!store || (run_id == 0 && !store->NewestRun(&run_id, &err))) {
    std::cerr << "tritonize: error: " << err << "\n";
    return kExitFailed;
  }
  if (run_id == 0) {
    std::cerr << "tritonize: error: " << options.common.db << " has no run\n";
    return kExitFailed;
  }
  if (!store->Run(run_id, &run, &err)) {
    std::cerr << "tritonize: error: " << err << "\n";
    return kExitFailed;
  }
  BenchPlan plan;
  if (!LoadPlan(store.get(), context.suite, run_id, &plan, &err)) {
    std::cerr << "tritonize: error: " << err << "\n";
    return kExitFailed;
  }
  if (plan.jobs.empty()) {
    std::cerr << fmt::format("tritonize: error: run {} of {} has no stored job\n", run_id,
                             options.common.db);
    return kExitFailed;
  }
  if (run.status != "finished") {
    std::cerr << fmt::format(
        "tritonize: note: run {} is {}: the tables show the jobs it stored (bench --resume "
        "finishes it)\n",
        run_id, run.status);
  }
  const bool timed = !run.environment.value("interpret", false);
  const BenchReport report = BuildReport(plan, timed, RunTimingOptions(run), options.calibration);
  std::cout << fmt::format("Run {} of {}, started {} ({}): {}\n\n", run_id, options.common.db,
                           run.started_at, run.status, run.command_line);
  PrintTables(report, std::cout);
  bool ok = true;
  if (!options.json_path.empty()) {
    ok = WriteBenchJson(options.json_path, report, {}, plan, run_id, options.common.db);
  }
  return ok ? kExitOk : kExitFailed;
}

}  // namespace

std::function<int()> SetupReport(CLI::App* app) {
  auto options = std::make_shared<ReportOptions>();
  AddCommonOptions(app, &options->common);
  app->add_option("--run", options->run, "The run's id in --db (default: the newest)")
      ->check(CLI::PositiveNumber);
  app->add_option("--json", options->json_path, "Also write every figure as JSON to this file");
  AddCalibrationOption(app, &options->calibration);
  return [options] { return RunReport(*options); };
}

}  // namespace tritonize

// `tritonize bench`: check and time baseline, expert and LLM implementations of each task
// in fresh worker processes, store every finished job at once, print the tables.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <map>
#include <sstream>
#include <tuple>

#include "cli/command.h"
#include "cli/context.h"
#include "cli/guard_options.h"
#include "cli/run_options.h"
#include "core/candidates.h"
#include "exec/extractor.h"
#include "exec/subprocess.h"
#include "report/bench_report.h"
#include "report/report_builder.h"
#include "report/sample_metrics.h"
#include "report/sample_printer.h"
#include "report/table_printer.h"
#include "run/plan.h"
#include "run/plan_runner.h"
#include "run/progress.h"
#include "run/runner.h"
#include "store/store.h"

namespace tritonize {
namespace {

namespace fs = std::filesystem;

struct BenchOptions {
  CommonOptions common;
  std::string tasks = "softmax";
  std::string impls = "baseline,expert,llm,compile";
  std::string llm_dir;
  std::string models;
  std::string tutorials;
  std::string json_path;
  int calls = 50;
  int warmup_calls = 10;
  GuardOptions guards;
  RunFlags run;
  LauncherFlags launch;
  bool resume = false;
  std::string rerun;  // with --resume: which stored jobs run again (plan_runner.h Rerun)
  int repeat = 2;  // fresh processes per implementation
  std::string compile_mode = "deterministic";  // Inductor's mode for the compile column
  std::string autotune_timer = "job";          // what Triton's autotuners pick by
  std::string calibration;                     // the ceilings cache (tritonize calibrate)
  double stop_after_s = 0;  // > 0: start no job that would end past this many seconds
};

int RunBench(BenchOptions& options) {
  // Pass 1: configuration. Every usage error is collected and reported at once.
  std::vector<std::string> errors;
  EngineContext context;
  MakeContext(options.common, &context, &errors);
  BenchPlan plan;
  ParseImpls(options.impls, &plan, &errors);
  // Repeats measure between-process variance of timings: an interpreter run has none.
  plan.processes = options.common.interpret ? 1 : options.repeat;
  // torch.compile is timed on the GPU: an interpreter run leaves it out unless asked for.
  if (options.common.interpret && options.impls == BenchOptions().impls) plan.compile = false;
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
      errors.push_back(
          fmt::format("--llm-dir {}: no model folders with candidates", context.llm_dir.string()));
    }
  }
  if (plan.expert && !options.tutorials.empty() && !fs::is_directory(options.tutorials)) {
    errors.push_back(
        fmt::format("--tutorials {}: no such directory; {}", options.tutorials, TutorialsHint()));
  }
  context.worker.calls = options.calls;
  context.worker.warmup_calls = options.warmup_calls;
  context.worker.compile_mode = options.compile_mode;
  context.worker.autotune_timer = options.autotune_timer;
  ApplyGuardOptions(options.guards, &context.worker, &errors);
  const std::unique_ptr<SlurmStepLauncher> slurm =
      MakeSlurmLauncher(options.launch, context.worker, &errors);
  const RunnerOptions runner_options =
      MakeRunnerOptions(options.run, &context, &errors, slurm.get());
  const Rerun rerun = ParseRerun(options.rerun);
  if (!options.rerun.empty() && !options.resume) {
    errors.push_back(fmt::format(
        "--rerun {}: reruns jobs of a stored run, so it goes with --resume (a new run runs every "
        "job)",
        options.rerun));
  }
  if (!errors.empty()) return ReportUsageErrors(errors);

  // Pass 2: plan: resolve implementations (extract the expert column).
  const fs::path tutorials = plan.expert ? FindTutorials(options.tutorials, context.root) : fs::path();
  PlanJobs(context.worker, tutorials, context.tasks_dir, context.llm_dir, &plan);

  // Pass 3: open the store and run every job, each committed as it finishes.
  std::string err;
  auto store = Store::Open(options.common.db, &err);
  if (!store) {
    std::cerr << "tritonize: error: " << err << "\n";
    return kExitFailed;
  }
  StoredJobs stored, rerun_jobs;
  int64_t run_id = 0;
  if (options.resume && !ResumeRun(store.get(), runner_options.lanes, &context.worker, rerun,
                                   &run_id, &stored, &rerun_jobs)) {
    return kExitFailed;
  }
  nlohmann::json run_env = {{"engine_version", TRITONIZE_VERSION},
                            {"interpret", options.common.interpret},
                            {"python", context.worker.python},
                            {"run_seed", context.worker.run_seed},
                            // What the method footer states, for `tritonize report`.
                            {"timing_options", TimingOptionsToJson(context.worker)}};
  if (run_id == 0) run_id = store->BeginRun(CommandLine(), run_env, &err);
  if (run_id == 0) {
    std::cerr << "tritonize: error: " << err << "\n";
    return kExitFailed;
  }
  // Many jobs at once, one lane per GPU (docs/runner.md); each job is stored as it finishes.
  PlanRunEnd end;
  bool all_ok = true;
  {
    Runner runner(context.worker, runner_options);
    Progress progress(runner, plan.jobs.size(), std::cerr, StderrIsTerminal());
    PlanRunOptions run;
    run.store = store.get();
    run.run_id = run_id;
    run.stored = &stored;
    run.rerun = &rerun_jobs;
    run.stop_after_s = options.stop_after_s;
    run.progress = &progress;
    all_ok = RunPlan(&plan, runner, run, &end);
    runner.RemoveReferences();  // a stopped run's too: a --resume is another engine (job.h)
    const RunnerStats stats = runner.Stats();
    progress.Finish(stats);
    run_env["runner"] = RunnerStatsToJson(stats, runner.jobs());
    run_env["runner"]["launcher"] = options.launch.launcher;
  }

  // Pass 4: report.
  BenchReport report =
      BuildReport(plan, !options.common.interpret, context.worker, options.calibration);
  PrintTables(report, std::cout);
  std::vector<SampleMetrics> sample_metrics = BuildSampleMetrics(plan, !options.common.interpret);
  PrintSampleTables(sample_metrics, !options.common.interpret, std::cout);
  if (!report.environment.empty()) run_env["worker"] = report.environment;
  store->UpdateRunEnvironment(run_id, run_env, &err);
  if (!options.json_path.empty() &&
      !WriteBenchJson(options.json_path, report, sample_metrics, plan, run_id, options.common.db)) {
    all_ok = false;
  }
  // An unfinished run (its jobs not run are not stored) is the one --resume takes up.
  store->FinishRun(run_id, Interrupted() || end.Unfinished() ? "interrupted" : "finished", &err);
  std::cerr << fmt::format("tritonize: run {} stored in {}\n", run_id, options.common.db);
  if (end.disk_full > 0) {
    std::cerr << fmt::format(
        "tritonize: {} jobs found the scratch disk full with no other job beside them and were not "
        "stored: make room on the disk of {} and run the same command with --resume to finish run "
        "{}\n",
        end.disk_full, context.worker.scratch_dir.string(), run_id);
  }
  if (end.stopped) {
    std::cerr << fmt::format(
        "tritonize: stopped before a job that would have ended past --stop-after {:g}: run the "
        "same command with --resume to finish run {}\n",
        options.stop_after_s, run_id);
  }
  if (Interrupted() || end.stopped) return kExitInterrupted;
  return all_ok ? kExitOk : kExitFailed;  // a disk-full job: failed
}

}  // namespace

std::function<int()> SetupBench(CLI::App* app) {
  auto options = std::make_shared<BenchOptions>();
  AddCommonOptions(app, &options->common);
  app->add_option("--tasks", options->tasks, "Comma list of tasks, or all")->capture_default_str();
  app->add_option("--impls", options->impls, "Comma list of baseline, expert, llm, compile")
      ->capture_default_str();
  app->add_option("--llm-dir", options->llm_dir,
                  "Folder of LLM candidates <model-id>/<task>.py (default: <root>/llm_triton)");
  app->add_option("--models", options->models,
                  "Comma list of model ids under --llm-dir (default: all)");
  app->add_option("--tutorials", options->tutorials,
                  "Triton checkout (or its python/tutorials) for the expert column; "
                  "also TRITONIZE_TUTORIALS");
  app->add_option("--json", options->json_path, "Also write every figure as JSON to this file");
  app->add_option("--calls", options->calls, "Timed calls per size and mode (>= 30)")
      ->capture_default_str()
      ->check(CLI::Range(30, 100000));
  app->add_option("--warmup", options->warmup_calls, "Warm-up calls after the first")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app->add_option("--repeat", options->repeat,
                  "Fresh processes per implementation; intervals of the "
                  "ratios resample them (docs/measurement.md)")
      ->capture_default_str()
      ->check(CLI::Range(1, 100));
  app->add_option("--compile-mode", options->compile_mode,
                  "Inductor's mode for the compile column: deterministic (reduction "
                  "configurations by heuristic, the same in every process) or default (by a "
                  "benchmark in each process; docs/measurement.md)")
      ->capture_default_str()
      ->check(CLI::IsMember({"deterministic", "default"}));
  app->add_option("--stop-after", options->stop_after_s,
                  "Seconds: start no job that would end after this (estimated from the last "
                  "like it); the run stops cleanly and --resume finishes it")
      ->check(CLI::PositiveNumber);
  app->add_option("--autotune-timer", options->autotune_timer,
                  "What Triton's autotuners pick a configuration by: job (the job's L2 flush and "
                  "CUDA events around each candidate's kernel, as the table measures) or triton "
                  "(its own do_bench, as the authors ran it); docs/measurement.md")
      ->capture_default_str()
      ->check(CLI::IsMember({"triton", "job"}));
  AddCalibrationOption(app, &options->calibration);
  AddGuardOptions(app, &options->guards);
  AddRunFlags(app, &options->run,
              "Jobs in progress at once, over all GPUs: their CPU-side work overlaps, their "
              "timing does not (default: from the cores and memory; with --launcher slurm, "
              "Slurm job steps at once, default 1)");
  AddLauncherFlags(app, &options->launch,
                   "Where each job's steps run: local (this machine's GPUs) or slurm (srun job "
                   "steps on the cluster's nodes; docs/runner.md)");
  app->add_flag("--resume", options->resume,
                "Finish the newest unfinished run in --db: stored jobs are kept, not rerun");
  app->add_option("--rerun", options->rerun,
                  "With --resume: run these stored jobs again, each new verdict replacing the "
                  "stored one (kept in its environment): out-of-memory (stored out of GPU "
                  "memory: the GPU's size or state, not the implementation's verdict) or failed "
                  "(every verdict but ok and unavailable)")
      ->check(
          CLI::IsMember(std::vector<std::string>(std::begin(kRerunNames), std::end(kRerunNames))));
  return [options] { return RunBench(*options); };
}

}  // namespace tritonize

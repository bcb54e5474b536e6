// `tritonize bench`: check and time baseline, expert and LLM implementations of each task
// in fresh worker processes, store every finished job at once, print the tables.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <map>
#include <sstream>
#include <tuple>

#include "cli/bench_plan.h"
#include "cli/command.h"
#include "cli/context.h"
#include "cli/guard_options.h"
#include "core/candidates.h"
#include "exec/extractor.h"
#include "exec/subprocess.h"
#include "exec/worker.h"
#include "report/bench_report.h"
#include "report/sample_metrics.h"
#include "report/sample_printer.h"
#include "report/table_printer.h"
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
  bool resume = false;
  int repeat = 2;  // fresh processes per implementation, alternating order
  std::string compile_mode = "deterministic";  // Inductor's mode for the compile column
  std::string autotune_timer = "job";          // what Triton's autotuners pick by
  std::string calibration;                     // the ceilings cache (tritonize calibrate)
  double stop_after_s = 0;  // > 0: start no job that would end past this many seconds
};

/// Jobs of an unfinished run that are already stored, by (task, implementation, content hash,
/// repeat): `--resume` keeps them and runs only the others.
using StoredJobs = std::map<std::tuple<std::string, std::string, std::string, int>, int64_t>;

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
    } else if (name == "compile") {
      plan->compile = true;
    } else if (!name.empty()) {
      errors->push_back(
          fmt::format("--impls: unknown implementation \"{}\" (known: baseline, "
                      "expert, llm, compile)",
                      name));
    }
  }
  return errors->empty();
}

/// The torch.compile contender: the task's baseline, which the worker wraps in torch.compile
/// when the implementation is named "compile" (python/tritonize_worker/inductor.py).
Implementation CompileImplementation(const Task& task) {
  Implementation impl = BaselineImplementation(task);
  impl.name = "compile";
  return impl;
}

/// --repeat R: every table column's job R times, each in a fresh process, the order of the
/// implementations reversed on every other repeat (B, E, L, C then C, L, E, B) so that no
/// implementation always runs first on a cold GPU or last on a warm one. LLM samples (scored
/// for pass@k, not in the tables) run once.
void RepeatJobs(BenchPlan* plan) {
  if (plan->repeats <= 1) return;
  std::vector<PlannedJob> first = std::move(plan->jobs);
  plan->jobs.clear();
  for (int r = 0; r < plan->repeats; ++r) {
    for (const Task* task : plan->tasks) {
      std::vector<PlannedJob> of_task;
      for (const PlannedJob& job : first) {
        const bool sample =
            job.impl.metadata.contains("sample") && job.impl.name != "llm:" + job.impl.model_id;
        if (job.task == task && (r == 0 || !sample)) of_task.push_back(job);
      }
      if (r % 2 == 1) std::reverse(of_task.begin(), of_task.end());
      for (PlannedJob& job : of_task) {
        job.repeat = r;
        plan->jobs.push_back(std::move(job));
      }
    }
  }
}

/// Resolves every implementation the run needs; the expert column is extracted from the
/// tutorials now, so a checkout problem shows before any GPU time is spent.
void PlanJobs(const BenchOptions& options, EngineContext& context, BenchPlan* plan) {
  std::map<std::string, std::vector<Implementation>> experts;
  if (plan->expert) {
    fs::path tutorials = FindTutorials(options.tutorials, context.root);
    if (tutorials.empty()) {
      std::cerr << "tritonize: no Triton tutorials checkout: the tutorial experts will be "
                   "unavailable; "
                << TutorialsHint() << "\n";
    }
    fs::path out = context.worker.scratch_dir.parent_path() / "expert";
    ExpertSet set = ExtractExperts(context.worker, tutorials, context.tasks_dir, plan->tasks, out);
    if (!set.error.empty()) std::cerr << "tritonize: " << set.error << "\n";
    experts = std::move(set.tasks);
  }
  for (const Task* task : plan->tasks) {
    if (plan->baseline) plan->jobs.push_back({task, BaselineImplementation(*task), {}});
    // One job per [[expert]]: "expert" (the table's column), then "expert:<name>" for the others.
    if (plan->expert) {
      for (auto& impl : experts[task->name]) plan->jobs.push_back({task, impl, {}});
    }
    if (plan->llm) {
      for (const auto& model : plan->models) {
        plan->jobs.push_back({task, LlmImplementation(context.llm_dir, model, *task), {}});
        // Every sample and turn `generate` wrote (docs/generate.md), scored as its own job.
        for (auto& sample : ListLlmSamples(context.llm_dir, model, *task)) {
          plan->jobs.push_back({task, std::move(sample.impl), {}});
        }
      }
    }
    if (plan->compile) plan->jobs.push_back({task, CompileImplementation(*task), {}});
    if (context.worker.interpret && !task->interpret_skip.empty()) {
      // The manifest says why the interpreter cannot run the task: every column says so.
      for (auto& job : plan->jobs) {
        if (job.task == task) job.impl.unavailable = "not under the Triton interpreter: " + task->interpret_skip;
      }
    }
  }
  RepeatJobs(plan);
}

/// An earlier LLM job of the same task with byte-identical code (the primary candidate is a
/// copy of sample 0's latest turn), or null.
const JobResult* SameCodeResult(const BenchPlan& plan, size_t i) {
  const PlannedJob& job = plan.jobs[i];
  if (job.impl.kind != ImplKind::kLlm || job.impl.content_hash.empty()) return nullptr;
  for (size_t k = 0; k < i; ++k) {
    const PlannedJob& other = plan.jobs[k];
    if (other.task == job.task && other.impl.kind == ImplKind::kLlm && other.repeat == job.repeat &&
        other.impl.content_hash == job.impl.content_hash) {
      return &other.result;
    }
  }
  return nullptr;
}

/// The first process's result of a later repeat's job, or null.
const JobResult* FirstRepeat(const BenchPlan& plan, size_t i) {
  const PlannedJob& job = plan.jobs[i];
  if (job.repeat == 0) return nullptr;
  for (size_t k = 0; k < i; ++k) {
    const PlannedJob& other = plan.jobs[k];
    if (other.repeat == 0 && other.task == job.task && other.impl.name == job.impl.name &&
        other.impl.content_hash == job.impl.content_hash) {
      return &other.result;
    }
  }
  return nullptr;
}

/// Marks jobs [from, end) as not run, for --resume to finish, saying why.
void NotRun(BenchPlan* plan, size_t from, const std::string& why) {
  for (size_t k = from; k < plan->jobs.size(); ++k) {
    plan->jobs[k].result = JobResult();
    plan->jobs[k].result.status = Status::kUnavailable;
    plan->jobs[k].result.message = "not run: " + why + " (--resume finishes it)";
    plan->jobs[k].skipped = true;
  }
}

/// How long a job is expected to take, for --stop-after: the last one of the same task,
/// implementation and kind of process (the first checks every input, so it takes longer),
/// else the longest so far (an expert's autotuning can take four times a baseline's).
class JobClock {
 public:
  JobClock() : started_(std::chrono::steady_clock::now()) {}

  double Elapsed() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
  }
  double Expected(const PlannedJob& job) const {
    const auto same = last_.find(Key(job));
    return same != last_.end() ? same->second : longest_;
  }
  void Took(const PlannedJob& job, double wall_s) {
    last_[Key(job)] = wall_s;
    longest_ = std::max(longest_, wall_s);
  }

 private:
  static std::tuple<std::string, std::string, bool> Key(const PlannedJob& job) {
    return {job.task->name, job.impl.name, job.repeat > 0};
  }
  std::chrono::steady_clock::time_point started_;
  std::map<std::tuple<std::string, std::string, bool>, double> last_;
  double longest_ = 0;
};

/// Runs the jobs one at a time (one GPU: concurrent jobs would disturb each other's
/// timings), committing each to the store as it finishes. With `stop_after_s`, a job that
/// would end past it is not started (*stopped): what is done is kept for --resume, and no
/// job's work is lost to a kill at the allocation's end.
bool RunJobs(EngineContext& context, Store* store, int64_t run_id, const StoredJobs& stored,
             double stop_after_s, BenchPlan* plan, bool* stopped) {
  const size_t total = plan->jobs.size();
  bool all_ok = true;
  JobClock clock;
  for (size_t i = 0; i < total; ++i) {
    PlannedJob& job = plan->jobs[i];
    if (const JobResult* same = SameCodeResult(*plan, i)) {
      job.result = *same;  // a sample's file identical to one already run: same verdict
      continue;
    }
    if (const JobResult* first = FirstRepeat(*plan, i);
        first != nullptr && first->status != Status::kOk) {
      job.result = *first;  // nothing to time: the first process's verdict stands
      job.result.timings.clear();
      job.result.process = job.repeat;
      job.skipped = true;
      continue;
    }
    std::cerr << fmt::format("[{}/{}] {} {}{} ... ", i + 1, total, job.task->name, job.impl.name,
                             job.repeat > 0 ? fmt::format(" (repeat {})", job.repeat + 1) : "")
              << std::flush;
    auto done = stored.find({job.task->name, job.impl.name, job.impl.content_hash, job.repeat});
    std::string load_err;
    if (done != stored.end() && store != nullptr &&
        store->LoadJobResult(done->second, &job.result, &load_err)) {
      std::cerr << StatusName(job.result.status) << " (stored, job " << done->second << ")\n";
      clock.Took(job, job.result.wall_s);
      if (job.result.status != Status::kOk && job.result.status != Status::kUnavailable) {
        all_ok = false;
      }
      continue;
    }
    if (stop_after_s > 0 && clock.Elapsed() + clock.Expected(job) > stop_after_s) {
      std::cerr << fmt::format(
          "not started: {:.0f} s elapsed, about {:.0f} s expected, --stop-after {:g}\n",
          clock.Elapsed(), clock.Expected(job), stop_after_s);
      NotRun(plan, i, "--stop-after was reached");
      *stopped = true;
      return false;
    }
    job.result = RunWorkerJob(*job.task, job.impl, context.worker, job.repeat);
    if (Interrupted()) {
      // Cut short, not finished: storing it would make --resume keep a "crashed" job. It and
      // every later job are reported as not run, never as a failure of the implementation.
      std::cerr << "interrupted (not stored: --resume runs it again)\n";
      NotRun(plan, i, "the run was interrupted");
      return false;
    }
    clock.Took(job, job.result.wall_s);
    for (Timing& timing : job.result.timings) timing.process = job.repeat;
    std::cerr << StatusName(job.result.status) << fmt::format(" ({:.1f} s)", job.result.wall_s)
              << (job.result.message.empty() ? "" : ": " + job.result.message) << "\n";
    std::string err;
    if (store != nullptr && !store->RecordJob(run_id, *job.task, job.impl, job.result, &err)) {
      std::cerr << "tritonize: error: " << err << "\n";
      return false;
    }
    if (job.result.status != Status::kOk && job.result.status != Status::kUnavailable) {
      all_ok = false;
    }
  }
  return all_ok;
}

/// --resume: the newest unfinished run in the store, its run seed (so the hidden checks are
/// the same) and its stored jobs.
bool ResumeRun(Store* store, WorkerOptions* worker, int64_t* run_id, StoredJobs* stored) {
  std::string err;
  StoredRun run;
  std::vector<StoredJob> jobs;
  if (!store->LastUnfinishedRun(run_id, &err) ||
      (*run_id != 0 && (!store->Run(*run_id, &run, &err) || !store->Jobs(*run_id, &jobs, &err) ||
                        !store->ReopenRun(*run_id, &err)))) {
    std::cerr << "tritonize: error: " << err << "\n";
    return false;
  }
  if (*run_id == 0) {
    std::cerr << "tritonize: error: --resume: " << store->path().string()
              << " has no unfinished run (every run finished); run without --resume\n";
    return false;
  }
  if (run.environment.contains("run_seed") && run.environment["run_seed"].is_number_unsigned()) {
    worker->run_seed = run.environment["run_seed"].get<uint64_t>();
  }
  // A resumed run is measured as it began, whatever this command line says.
  const WorkerOptions given = *worker;
  if (ReadTimingOptions(run.environment, worker)) {
    if (given.calls != worker->calls || given.warmup_calls != worker->warmup_calls ||
        given.compile_mode != worker->compile_mode ||
        given.autotune_timer != worker->autotune_timer) {
      std::cerr << fmt::format(
          "tritonize: note: --resume keeps run {}'s options (--calls {}, --warmup {}, "
          "--compile-mode {}, --autotune-timer {}), not this command line's\n",
          *run_id, worker->calls, worker->warmup_calls, worker->compile_mode,
          worker->autotune_timer);
    }
  }
  for (const auto& job : jobs) {
    (*stored)[{job.task, job.implementation, job.content_hash, job.process}] = job.id;
  }
  std::cerr << fmt::format("tritonize: resuming run {} ({} jobs stored)\n", *run_id, jobs.size());
  return true;
}

int RunBench(BenchOptions& options) {
  // Pass 1: configuration. Every usage error is collected and reported at once.
  std::vector<std::string> errors;
  EngineContext context;
  MakeContext(options.common, &context, &errors);
  BenchPlan plan;
  ParseImpls(options.impls, &plan, &errors);
  // Repeats measure between-process variance of timings: an interpreter run has none.
  plan.repeats = options.common.interpret ? 1 : options.repeat;
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
  StoredJobs stored;
  int64_t run_id = 0;
  if (options.resume && !ResumeRun(store.get(), &context.worker, &run_id, &stored)) {
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
  bool stopped = false;
  bool all_ok =
      RunJobs(context, store.get(), run_id, stored, options.stop_after_s, &plan, &stopped);

  // Pass 4: report.
  BenchReport report =
      BuildReport(plan, !options.common.interpret, context.worker, options.calibration);
  PrintTables(report, std::cout);
  std::vector<SampleMetrics> sample_metrics = BuildSampleMetrics(plan, !options.common.interpret);
  PrintSampleTables(sample_metrics, !options.common.interpret, std::cout);
  if (!report.environment.empty()) {
    run_env["worker"] = report.environment;
    store->UpdateRunEnvironment(run_id, run_env, &err);
  }
  if (!options.json_path.empty() &&
      !WriteBenchJson(options.json_path, report, sample_metrics, plan, run_id, options.common.db)) {
    all_ok = false;
  }
  const bool interrupted = Interrupted() || stopped;
  store->FinishRun(run_id, interrupted ? "interrupted" : "finished", &err);
  std::cerr << fmt::format("tritonize: run {} stored in {}\n", run_id, options.common.db);
  if (stopped) {
    std::cerr << fmt::format(
        "tritonize: stopped before a job that would have ended past --stop-after {:g}: run the "
        "same command with --resume to finish run {}\n",
        options.stop_after_s, run_id);
  }
  if (interrupted) return kExitInterrupted;
  return all_ok ? kExitOk : kExitFailed;
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
                  "Fresh processes per implementation, in alternating order; intervals of the "
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
  app->add_flag("--resume", options->resume,
                "Finish the newest unfinished run in --db: stored jobs are kept, not rerun");
  return [options] { return RunBench(*options); };
}

}  // namespace tritonize

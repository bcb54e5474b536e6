#include "serve/slurm_launcher.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include <fmt/format.h>

#include "cli/command.h"
#include "core/sha256.h"
#include "report/eval_json.h"

namespace tritonize {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

constexpr int kStepSchemaVersion = 1;

std::string SelfPath() {
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  return ec ? "tritonize" : self.string();
}

bool WriteJson(const fs::path& path, const json& j) {
  const fs::path temporary = path.string() + ".partial";
  {
    std::ofstream out(temporary, std::ios::binary);
    out << j.dump(2, ' ', false, json::error_handler_t::replace);
    if (!out) return false;
  }
  std::error_code ec;
  fs::rename(temporary, path, ec);  // whole or not at all: the other side polls nothing half-written
  return !ec;
}

std::string FormatNumber(double value) { return fmt::format("{}", value); }

/// A verdict the server gives when a step produced none.
EvaluationOutcome StepFailure(const Task& task, const Implementation& impl, Status status,
                              const std::string& message, const std::string& detail) {
  EvaluationOutcome outcome;
  outcome.kind = EvaluationOutcome::Kind::kFinished;
  outcome.impl = impl;
  outcome.result.status = status;
  outcome.result.phase = "slurm";
  outcome.result.message = message;
  outcome.result.detail = detail;
  outcome.verdict = EvalJson(task, impl, outcome.result);
  return outcome;
}

}  // namespace

void AddSlurmOptions(CLI::App* app, SlurmOptions* options) {
  app->add_option("--slurm-partition", options->partition, "Slurm partition of the job steps");
  app->add_option("--slurm-gres", options->gres,
                  "Generic resources of each step, e.g. gpu:1 (default: none)");
  app->add_option("--slurm-arg", options->extra, "One more argument to srun (repeatable)");
  app->add_option("--slurm-binary", options->binary,
                  "The tritonize binary the nodes run (default: this one's path)");
  app->add_option("--srun", options->srun, "The srun command")->capture_default_str();
}

std::vector<std::string> SlurmLauncher::Command(const SubprocessOptions& step,
                                                const std::string& job_name) const {
  const double limit_s = step.timeout_s > 0 ? step.timeout_s + options_.margin_s : 0;
  std::vector<std::string> argv = {options_.srun,
                                   "--job-name=" + job_name,
                                   "--nodes=1",
                                   "--ntasks=1",
                                   "--quiet",
                                   "--kill-on-bad-exit=1"};
  if (!step.cwd.empty()) argv.push_back("--chdir=" + step.cwd.string());
  if (!step.stdout_path.empty()) argv.push_back("--output=" + step.stdout_path.string());
  if (!step.stderr_path.empty()) argv.push_back("--error=" + step.stderr_path.string());
  if (limit_s > 0) {
    argv.push_back(fmt::format("--time={}", static_cast<int>(std::ceil(limit_s / 60))));
  }
  if (!options_.partition.empty()) argv.push_back("--partition=" + options_.partition);
  if (!options_.gres.empty()) argv.push_back("--gres=" + options_.gres);
  argv.insert(argv.end(), options_.extra.begin(), options_.extra.end());
  argv.push_back("--");
  // The step's own variables on top of what srun exports (the engine's environment): through
  // env(1), since --export splits its list at commas that a path may hold.
  if (!step.env.empty()) {
    argv.push_back("env");
    for (const auto& [name, value] : step.env) argv.push_back(name + "=" + value);
  }
  argv.insert(argv.end(), step.argv.begin(), step.argv.end());
  return argv;
}

bool SlurmLauncher::Cancel(const std::string& job_name, const fs::path& dir) const {
  SubprocessOptions scancel;
  scancel.argv = {options_.scancel, "--name=" + job_name};
  scancel.stdout_path = dir / "scancel-stdout.log";
  scancel.stderr_path = dir / "scancel-stderr.log";
  scancel.timeout_s = 30;
  const SubprocessResult run = RunSubprocess(scancel);
  return run.started && run.exit_code == 0;
}

SubprocessResult SlurmLauncher::Run(const SubprocessOptions& step, const std::string& job_name,
                                    const CancelToken* cancel) const {
  const fs::path dir = step.stderr_path.empty() ? fs::temp_directory_path()
                                                : step.stderr_path.parent_path();
  SubprocessOptions srun;
  srun.argv = Command(step, job_name);
  srun.stdout_path = dir / (job_name + "-srun-stdout.log");
  srun.stderr_path = dir / (job_name + "-srun-stderr.log");
  // srun is the backstop's only target; the step itself is ended by scancel below.
  srun.timeout_s = step.timeout_s > 0 ? step.timeout_s + 2 * options_.margin_s : 0;

  std::atomic<bool> finished{false};
  std::atomic<bool> deadline{false};
  std::thread watcher([&] {
    const auto start = std::chrono::steady_clock::now();
    bool cancelled = false;
    while (!finished.load()) {
      const double elapsed =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      const bool overran = step.timeout_s > 0 && elapsed > step.timeout_s;
      if (!cancelled && (overran || Interrupted() || (cancel != nullptr && cancel->cancelled()))) {
        deadline.store(overran);
        cancelled = Cancel(job_name, dir);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  });
  SubprocessResult result = RunSubprocess(srun);
  finished.store(true);
  watcher.join();
  if (deadline.load()) result.timed_out = true;
  if (!result.started) {
    result.spawn_error = "slurm: " + result.spawn_error + " (is Slurm's srun on PATH? --srun)";
  }
  return result;
}

int SlurmLauncher::CancelJobsNamed(const std::string& prefix, const fs::path& dir) const {
  SubprocessOptions squeue;
  squeue.argv = {options_.squeue, "--noheader", "--format=%j", "--user=" + std::to_string(getuid())};
  std::error_code ec;
  fs::create_directories(dir, ec);
  squeue.stdout_path = dir / "squeue-stdout.log";
  squeue.stderr_path = dir / "squeue-stderr.log";
  squeue.timeout_s = 30;
  const SubprocessResult run = RunSubprocess(squeue);
  std::string text, err;
  if (!run.started || run.exit_code != 0 || !ReadFile(squeue.stdout_path, &text, &err)) return 0;
  std::istringstream lines(text);
  std::string name;
  int cancelled = 0;
  while (std::getline(lines, name)) {
    if (name.rfind(prefix, 0) == 0 && Cancel(name, dir)) ++cancelled;
  }
  return cancelled;
}

SlurmEvaluator::SlurmEvaluator(SlurmOptions slurm, WorkerEvaluatorOptions worker)
    : launcher_([&] {
        if (slurm.binary.empty()) slurm.binary = SelfPath();
        slurm.lanes = std::max(1, slurm.lanes);
        return std::move(slurm);
      }()),
      worker_(std::move(worker)),
      job_prefix_("tritonize-" + Sha256Hex(worker_.scratch.string()).substr(0, 8) + "-") {}

std::vector<std::string> SlurmEvaluator::StepArgv(const fs::path& lane_dir, const fs::path& request,
                                                  const fs::path& result,
                                                  const Evaluation& evaluation) const {
  const WorkerOptions& w = worker_.worker;
  std::vector<std::string> argv = {
      launcher_.options().binary,
      "serve",
      "--evaluate", request.string(),
      "--result", result.string(),
      "--root", w.package_dir.parent_path().string(),
      "--python", w.python,
      "--scratch", (lane_dir / "node").string(),
      "--timeout", FormatNumber(w.timeout_s),
      "--sandbox", std::string(SandboxModeName(w.sandbox.mode)),
      "--import-timeout", FormatNumber(w.import_timeout_s),
      "--compile-timeout", FormatNumber(w.compile_timeout_s),
      "--call-timeout", FormatNumber(w.call_timeout_s),
      "--cpu-limit", FormatNumber(w.sandbox.cpu_s),
      "--file-limit", std::to_string(w.sandbox.file_bytes),
      "--process-limit", std::to_string(w.sandbox.processes),
      "--run-seed", std::to_string(evaluation.options.seed.value_or(worker_.run_seed))};
  if (w.interpret) argv.push_back("--interpret");
  if (worker_.keep_files) argv.push_back("--keep-files");
  return argv;
}

EvaluationOutcome SlurmEvaluator::Evaluate(int lane, const Evaluation& evaluation,
                                           const CancelToken& cancel,
                                           const std::function<void()>& /*timing_started*/) {
  // One folder per lane on the shared scratch: the node's jobs and cached references for the
  // lane's evaluations, one at a time; the request and result files of this one.
  const fs::path lane_dir = worker_.scratch / "slurm" / fmt::format("lane-{}", lane);
  const fs::path step_dir = lane_dir / fmt::format("e{}-a{}", evaluation.id, evaluation.attempt);
  std::error_code ec;
  fs::remove_all(step_dir, ec);
  fs::create_directories(step_dir, ec);
  const fs::path request = step_dir / "request.json";
  const fs::path result_path = step_dir / "result.json";

  Task task = *evaluation.task;
  if (!evaluation.options.sizes.empty()) task.sizes = evaluation.options.sizes;
  Implementation impl;
  impl.kind = ImplKind::kCandidate;
  impl.name = "candidate";
  impl.entry = task.entry;
  impl.content_hash = Sha256Hex(evaluation.code);

  const json request_json = {{"schema_version", kStepSchemaVersion},
                             {"id", evaluation.id},
                             {"attempt", evaluation.attempt},
                             {"task", evaluation.task->name},
                             {"code", evaluation.code},
                             {"options", CanonicalOptions(evaluation.options, worker_.worker.interpret)}};
  if (!WriteJson(request, request_json)) {
    return StepFailure(task, impl, Status::kCrashed,
                       "cannot write the Slurm step's request " + request.string(), "");
  }
  SubprocessOptions step;
  step.argv = StepArgv(lane_dir, request, result_path, evaluation);
  step.cwd = step_dir;
  step.stdout_path = step_dir / "step-stdout.log";
  step.stderr_path = step_dir / "step-stderr.log";
  // Reference, candidate and compare steps, each up to the job timeout, per timed process.
  step.timeout_s = worker_.worker.timeout_s * 3 * std::max(1, evaluation.options.repeat);
  const std::string job_name = fmt::format("{}e{}-a{}", job_prefix_, evaluation.id, evaluation.attempt);
  const SubprocessResult run = launcher_.Run(step, job_name, &cancel);

  EvaluationOutcome outcome;
  if (cancel.cancelled()) {
    outcome.kind = EvaluationOutcome::Kind::kCancelled;
    return outcome;
  }
  if (Interrupted()) {
    outcome.kind = EvaluationOutcome::Kind::kStopped;
    return outcome;
  }
  const std::string tail = TailOfFile(step.stderr_path, 4000);
  const std::string srun_tail =
      TailOfFile(step_dir / (job_name + "-srun-stderr.log"), 2000);
  std::string text, err;
  if (!ReadFile(result_path, &text, &err)) {
    if (!run.started) return StepFailure(task, impl, Status::kCrashed, run.spawn_error, "");
    if (run.timed_out) {
      return StepFailure(task, impl, Status::kTimeout,
                         fmt::format("the Slurm step was cancelled after {:.0f} s", step.timeout_s),
                         tail);
    }
    return StepFailure(task, impl, Status::kCrashed,
                       fmt::format("the Slurm step wrote no result (srun exit code {}, signal "
                                   "{}){}",
                                   run.exit_code, run.signal,
                                   srun_tail.empty() ? "" : ": " + srun_tail),
                       tail);
  }
  const json answer = json::parse(text, nullptr, false);
  JobResult result;
  std::string parse_err;
  if (!answer.is_object() || answer.value("kind", "") != "finished" || !answer.contains("job") ||
      !ParseJobResult(answer["job"], &result, &parse_err)) {
    if (answer.is_object() && answer.value("kind", "") == "stopped") {
      outcome.kind = EvaluationOutcome::Kind::kStopped;
      return outcome;
    }
    return StepFailure(task, impl, Status::kCrashed,
                       "the Slurm step's result is unreadable: " +
                           (parse_err.empty() ? std::string("not a finished result") : parse_err),
                       text.substr(0, 2000));
  }
  const json& job = answer["job"];
  result.process = job.value("process", 0);
  const json timings = job.value("timings", json::array());
  for (size_t i = 0; i < result.timings.size() && i < timings.size(); ++i) {
    result.timings[i].process = timings[i].value("process", 0);
  }
  const json& implementation = answer.value("implementation", json::object());
  impl.path = implementation.value("path", "");
  outcome.kind = EvaluationOutcome::Kind::kFinished;
  outcome.impl = impl;
  outcome.result = std::move(result);
  outcome.verdict = EvalJson(task, outcome.impl, outcome.result);
  if (!worker_.keep_files) fs::remove_all(step_dir, ec);
  return outcome;
}

nlohmann::json SlurmEvaluator::Describe() const {
  const SlurmOptions& o = launcher_.options();
  return {{"launcher", "slurm"},
          {"lanes", o.lanes},
          {"partition", o.partition},
          {"gres", o.gres},
          {"binary", o.binary}};
}

int SlurmEvaluator::ReapOrphans() {
  return launcher_.CancelJobsNamed(job_prefix_, worker_.scratch / "slurm");
}

int RunEvaluationStep(const fs::path& request, const fs::path& result, const TaskSuite& suite,
                      WorkerEvaluatorOptions options) {
  std::string text, err;
  if (result.empty() || !ReadFile(request, &text, &err)) {
    std::cerr << "tritonize: error: --evaluate needs a readable request and --result: " << err << "\n";
    return kExitUsage;
  }
  const json j = json::parse(text, nullptr, false);
  const Task* task = j.is_object() ? suite.Find(j.value("task", "")) : nullptr;
  if (task == nullptr || j.value("schema_version", 0) != kStepSchemaVersion ||
      !j.contains("code") || !j["code"].is_string()) {
    std::cerr << "tritonize: error: " << request.string()
              << ": not an evaluation step request of this version, or an unknown task\n";
    return kExitUsage;
  }
  Evaluation evaluation;
  evaluation.id = j.value("id", int64_t{0});
  evaluation.attempt = j.value("attempt", 1);
  evaluation.task = task;
  evaluation.code = j["code"].get<std::string>();
  evaluation.options = OptionsFromJson(j.value("options", json::object()));
  options.gpus.clear();  // the node's GPU is the one Slurm gave the step
  options.cpu_lanes = 1;
  WorkerEvaluator evaluator(std::move(options));
  CancelToken never;
  EvaluationOutcome outcome = evaluator.Evaluate(0, evaluation, never, nullptr);
  json answer = {{"schema_version", kStepSchemaVersion}};
  if (outcome.kind != EvaluationOutcome::Kind::kFinished) {
    answer["kind"] = "stopped";
  } else {
    answer["kind"] = "finished";
    json job = JobResultToJson(outcome.result);
    job["schema_version"] = kWorkerSchemaVersion;
    answer["job"] = std::move(job);
    answer["implementation"] = {{"path", outcome.impl.path.string()},
                                {"content_hash", outcome.impl.content_hash}};
  }
  if (!WriteJson(result, answer)) {
    std::cerr << "tritonize: error: cannot write " << result.string() << "\n";
    return kExitFailed;
  }
  return outcome.kind == EvaluationOutcome::Kind::kFinished ? kExitOk : kExitInterrupted;
}

}  // namespace tritonize

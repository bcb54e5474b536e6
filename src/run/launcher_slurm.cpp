#include "run/launcher_slurm.h"

#include <fmt/format.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <sstream>
#include <thread>

#include "core/sha256.h"
#include "run/job.h"

namespace tritonize {
namespace {

namespace fs = std::filesystem;

std::string SelfPath() {
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  return ec ? "tritonize" : self.string();
}

class SlurmSlot : public StepSlot {
 public:
  SlurmSlot(Step step, const WorkerOptions& options, SlurmStepLauncher& launcher)
      : step_(FreshProcessStep(std::move(step), options)),
        options_(options),
        launcher_(launcher),
        slurm_(launcher.slurm()) {}
  const fs::path& dir() const override { return step_.dir; }
  std::string sandbox() const override { return sandbox_; }

  bool Run(const nlohmann::json& request, nlohmann::json* result, JobResult* failure) override {
    if (!WriteStepRequest(step_, request, failure)) return false;
    SubprocessOptions sub = StepProcessOptions(step_, options_);
    std::vector<std::string> argv = StepArgv(step_, options_);
    const fs::path describe = step_.dir / "sandbox.txt";
    if (sub.sandbox) {
      argv = SandboxRunCommand(slurm_.options().binary, *sub.sandbox, describe, argv);
      sub.sandbox.reset();  // applied on the node, by sandbox-run
    }
    sub.argv = std::move(argv);
    const std::string job_name = launcher_.Started(step_.name, step_.dir);
    const SubprocessResult run =
        slurm_.Run(sub, job_name, [&] { return launcher_.Cancelled(job_name); });
    launcher_.Ended(job_name);
    std::string layers, err;
    if (step_.sandbox && ReadFile(describe, &layers, &err)) {
      sandbox_ = "slurm node: " + layers;
    } else if (step_.sandbox) {
      sandbox_ = "slurm node: sandbox not reported";
    }
    return StepResultOf(step_, run, options_, result, failure);
  }

 private:
  Step step_;
  const WorkerOptions& options_;
  SlurmStepLauncher& launcher_;
  const SlurmLauncher& slurm_;
  std::string sandbox_;
};

}  // namespace

std::vector<std::string> SandboxRunCommand(const std::string& binary, const SandboxPolicy& policy,
                                           const fs::path& describe,
                                           const std::vector<std::string>& argv) {
  std::vector<std::string> command = {binary,       "sandbox-run",
                                      "--sandbox",  std::string(SandboxModeName(policy.mode)),
                                      "--describe", describe.string()};
  for (const fs::path& dir : policy.writable)
    command.insert(command.end(), {"--writable", dir.string()});
  for (const fs::path& dir : policy.hidden)
    command.insert(command.end(), {"--hidden", dir.string()});
  command.insert(command.end(), {"--cpu-limit", fmt::format("{}", policy.cpu_s), "--file-limit",
                                 std::to_string(policy.file_bytes), "--process-limit",
                                 std::to_string(policy.processes)});
  if (!policy.no_filesystem.empty())
    command.insert(command.end(), {"--no-filesystem", policy.no_filesystem});
  command.push_back("--");
  command.insert(command.end(), argv.begin(), argv.end());
  return command;
}

SlurmLauncher::SlurmLauncher(SlurmOptions options) : options_(std::move(options)) {
  if (options_.binary.empty()) options_.binary = SelfPath();
}

bool CheckSlurm(const SlurmOptions& options, const fs::path& scratch, std::string* err) {
  std::error_code ec;
  fs::create_directories(scratch, ec);
  auto run = [&](std::vector<std::string> argv, const std::string& name, std::string* out) {
    SubprocessOptions o;
    o.argv = std::move(argv);
    o.stdout_path = scratch / (name + "-check.out");
    o.stderr_path = scratch / (name + "-check.err");
    o.timeout_s = 30;
    const SubprocessResult r = RunSubprocess(o);
    std::string e;
    ReadFile(o.stdout_path, out, &e);
    if (!r.started) return r.spawn_error;
    if (r.timed_out) return std::string("no answer in 30 s");
    if (r.exit_code != 0) {
      const std::string tail = TailOfFile(o.stderr_path, 600);
      return fmt::format("exit code {}{}", r.exit_code, tail.empty() ? "" : ": " + tail);
    }
    return std::string();
  };
  std::string out;
  if (std::string why = run({options.srun, "--version"}, "srun", &out); !why.empty()) {
    *err = fmt::format(
        "--launcher slurm: cannot run srun \"{}\" ({}); install Slurm's client "
        "or name it with --srun",
        options.srun, why);
    return false;
  }
  const fs::path srun(options.srun);
  const std::string sinfo =
      srun.has_parent_path() ? (srun.parent_path() / "sinfo").string() : std::string("sinfo");
  if (std::string why = run({sinfo, "--noheader", "--format=%R"}, "sinfo", &out); !why.empty()) {
    *err = fmt::format("--launcher slurm: the Slurm cluster does not answer ({} {})", sinfo, why);
    return false;
  }
  if (options.partition.empty()) return true;
  std::istringstream lines(out);
  std::string known;
  for (std::string line; std::getline(lines, line);) {
    if (line == options.partition) return true;
    known += (known.empty() ? "" : ", ") + line;
  }
  *err = fmt::format("--slurm-partition: the cluster has no partition \"{}\" (sinfo lists: {})",
                     options.partition, known.empty() ? "none" : known);
  return false;
}

std::vector<std::string> SlurmLauncher::Command(const SubprocessOptions& step,
                                                const std::string& job_name) const {
  const double limit_s = step.timeout_s > 0 ? step.timeout_s + options_.margin_s : 0;
  std::vector<std::string> argv = {options_.srun, "--job-name=" + job_name,
                                   "--nodes=1",   "--ntasks=1",
                                   "--quiet",     "--kill-on-bad-exit=1"};
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
                                    const std::function<bool()>& cancelled) const {
  const fs::path dir =
      step.stderr_path.empty() ? fs::temp_directory_path() : step.stderr_path.parent_path();
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
    bool sent = false;
    while (!finished.load()) {
      const double elapsed =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      const bool overran = step.timeout_s > 0 && elapsed > step.timeout_s;
      if (!sent && (overran || Interrupted() || (cancelled && cancelled()))) {
        deadline.store(overran);
        sent = Cancel(job_name, dir);
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
  squeue.argv = {options_.squeue, "--noheader", "--format=%j",
                 "--user=" + std::to_string(getuid())};
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

SlurmStepLauncher::SlurmStepLauncher(const WorkerOptions& options, SlurmOptions slurm)
    : options_(options), slurm_(std::move(slurm)) {}

std::unique_ptr<StepSlot> SlurmStepLauncher::Claim(const Step& step) {
  return std::make_unique<SlurmSlot>(step, options_, *this);
}

std::string SlurmStepLauncher::Started(const std::string& step, const fs::path& dir) {
  std::lock_guard<std::mutex> lock(mutex_);
  const std::string name =
      fmt::format("{}{}-{}-{}", slurm_.options().job_prefix, step, getpid(), next_++);
  running_[name] = {dir, false};
  return name;
}

void SlurmStepLauncher::Ended(const std::string& job_name) {
  std::lock_guard<std::mutex> lock(mutex_);
  running_.erase(job_name);
}

bool SlurmStepLauncher::Cancelled(const std::string& job_name) const {
  std::lock_guard<std::mutex> lock(mutex_);
  const auto found = running_.find(job_name);
  return found != running_.end() && found->second.cancelled;
}

int SlurmStepLauncher::CancelStepsIn(const fs::path& dir) {
  // Marked here; each step's own watcher (SlurmLauncher::Run) sends the scancel.
  std::lock_guard<std::mutex> lock(mutex_);
  const std::string prefix = dir.lexically_normal().string();
  int marked = 0;
  for (auto& [name, running] : running_) {
    if (!running.cancelled && running.dir.lexically_normal().string().rfind(prefix, 0) == 0) {
      running.cancelled = true;
      ++marked;
    }
  }
  return marked;
}

}  // namespace tritonize

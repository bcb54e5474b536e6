#include "exec/worker.h"

#include <signal.h>
#include <string.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <map>
#include <optional>

#include <fmt/format.h>

#include "core/sha256.h"
#include "exec/roofline_check.h"
#include "exec/subprocess.h"

namespace tritonize {
namespace {

namespace fs = std::filesystem;

constexpr size_t kTailBytes = 4000;

std::string SafeName(const std::string& name) {
  std::string out;
  for (char c : name) out += (std::isalnum(static_cast<unsigned char>(c)) || c == '-') ? c : '_';
  return out;
}

fs::path MakeJobDir(const WorkerOptions& options, const Task& task, const Implementation& impl) {
  static std::atomic<int> counter{0};
  fs::path dir = options.scratch_dir /
                 fmt::format("{}-{}-{}-{}", SafeName(task.name), SafeName(impl.name), getpid(),
                             counter.fetch_add(1));
  std::error_code ec;
  fs::remove_all(dir, ec);
  fs::create_directories(dir / "triton-cache", ec);
  return dir;
}

JobResult Failure(Status status, std::string phase, std::string message, std::string detail) {
  JobResult r;
  r.status = status;
  r.phase = std::move(phase);
  r.message = std::move(message);
  r.detail = std::move(detail);
  return r;
}

std::string LastLine(const std::string& text) {
  auto end = text.find_last_not_of("\n ");
  if (end == std::string::npos) return {};
  auto start = text.rfind('\n', end);
  return text.substr(start == std::string::npos ? 0 : start + 1, end - (start == std::string::npos ? 0 : start + 1) + 1);
}

/// splitmix64: a well-mixed stream of numbers from one seed.
uint64_t Mix(uint64_t* state) {
  uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

uint64_t TaskSeed(const Task& task, const WorkerOptions& options) {
  uint64_t state = options.run_seed;
  for (char c : task.name) state = state * 131 + static_cast<unsigned char>(c);
  return state;
}

/// One worker process: writes `request` to <dir>/<name>-request.json, runs it, reads
/// <dir>/<name>-result.json. A failure of the process itself becomes *failure.
struct Step {
  std::string name;
  std::filesystem::path dir;
  double timeout_s = 0;
  std::optional<SandboxPolicy> sandbox;
  std::filesystem::path cache_dir;  // Triton's and Inductor's caches; empty: <dir>/triton-cache
};

bool WriteRequest(const fs::path& path, const nlohmann::json& request, JobResult* failure) {
  std::ofstream out(path);
  out << request.dump(2);
  if (!out) {
    *failure = Failure(Status::kCrashed, "spawn",
                       fmt::format("cannot write {} (disk full?)", path.string()), "");
    return false;
  }
  return true;
}

/// The environment, folder and logs of a step's worker process (argv is the caller's).
SubprocessOptions StepProcess(const Step& step, const WorkerOptions& options) {
  SubprocessOptions sub;
  sub.env["PYTHONPATH"] = options.package_dir.string();
  sub.env["PYTHONUNBUFFERED"] = "1";
  sub.env["PYTHONDONTWRITEBYTECODE"] = "1";
  if (step.cache_dir.empty()) {
    sub.env["TRITON_CACHE_DIR"] = (step.dir / "triton-cache").string();
  } else {
    sub.env["TRITON_CACHE_DIR"] = (step.cache_dir / "triton").string();
    sub.env["TORCHINDUCTOR_CACHE_DIR"] = (step.cache_dir / "inductor").string();
  }
  if (options.interpret) sub.env["TRITON_INTERPRET"] = "1";
  if (!options.cuda_visible_devices.empty()) {
    sub.env["CUDA_VISIBLE_DEVICES"] = options.cuda_visible_devices;
  }
  if (step.sandbox) {
    // Everything the candidate's process may write is in its folder.
    std::error_code ec;
    fs::create_directories(step.dir / "tmp", ec);
    sub.env["TMPDIR"] = (step.dir / "tmp").string();
    sub.env["HOME"] = step.dir.string();
    sub.env["XDG_CACHE_HOME"] = (step.dir / "tmp").string();
  }
  sub.cwd = step.dir;
  sub.stdout_path = step.dir / (step.name + "-stdout.log");
  sub.stderr_path = step.dir / (step.name + "-stderr.log");
  sub.timeout_s = step.timeout_s;
  sub.sandbox = step.sandbox;
  return sub;
}

std::string StepPrefix(const Step& step) {
  return step.name == "candidate" ? "" : "the " + step.name + " step: ";
}

/// The step's result file, once its process has answered or exited with `exit_code`.
bool ReadStepResult(const Step& step, const fs::path& result_path, int exit_code,
                    const std::string& stderr_tail, nlohmann::json* result, JobResult* failure) {
  const std::string where = StepPrefix(step);
  std::string text;
  std::string err;
  if (!ReadFile(result_path, &text, &err)) {
    *failure = Failure(Status::kCrashed, "run",
                       fmt::format("{}worker exited with code {} and wrote no result{}", where,
                                   exit_code,
                                   stderr_tail.empty() ? "" : ": " + LastLine(stderr_tail)),
                       stderr_tail);
    return false;
  }
  *result = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (result->is_discarded() || !result->is_object()) {
    *failure = Failure(Status::kCrashed, "run",
                       fmt::format("{}worker wrote an unreadable result (not valid JSON), exit code {}",
                                   where, exit_code),
                       stderr_tail);
    return false;
  }
  if (exit_code != 0) {
    *failure = Failure(Status::kCrashed, "run",
                       fmt::format("{}worker exited with code {}", where, exit_code), stderr_tail);
    return false;
  }
  return true;
}

bool RunStep(const Step& step, const nlohmann::json& request, const WorkerOptions& options,
             nlohmann::json* result, JobResult* failure, std::string* sandbox_used) {
  const fs::path request_path = step.dir / (step.name + "-request.json");
  const fs::path result_path = step.dir / (step.name + "-result.json");
  if (!WriteRequest(request_path, request, failure)) return false;
  SubprocessOptions sub = StepProcess(step, options);
  sub.argv = {options.python, "-m", "tritonize_worker", "--request", request_path.string(),
              "--result", result_path.string()};

  SubprocessResult run = RunSubprocess(sub);
  if (sandbox_used != nullptr) *sandbox_used = run.sandbox;
  const std::string stderr_tail = TailOfFile(sub.stderr_path, kTailBytes);
  const std::string where = StepPrefix(step);
  if (!run.started) {
    *failure = Failure(Status::kCrashed, "spawn", run.spawn_error,
                       "set --python or TRITONIZE_PYTHON to a Python with torch and triton");
    return false;
  }
  if (run.timed_out) {
    *failure = Failure(Status::kTimeout, "run",
                       fmt::format("{}killed after the {:.0f} s job timeout (--timeout)", where,
                                   step.timeout_s),
                       stderr_tail);
    failure->wall_s = run.wall_s;
    return false;
  }
  if (run.interrupted) {
    *failure = Failure(Status::kCrashed, "run", "interrupted by the user", stderr_tail);
    return false;
  }
  if (run.signal != 0) {
    *failure = Failure(Status::kCrashed, "run",
                       fmt::format("{}worker killed by signal {} ({}){}", where, run.signal,
                                   strsignal(run.signal),
                                   stderr_tail.empty() ? "" : ": " + LastLine(stderr_tail)),
                       stderr_tail);
    failure->wall_s = run.wall_s;
    return false;
  }
  if (!ReadStepResult(step, result_path, run.exit_code, stderr_tail, result, failure)) return false;
  failure->wall_s = run.wall_s;
  return true;
}

/// A step for `server` (options.compare_server): the same request and result files as a
/// fresh process's, the same failures. Where the server cannot take it (it would not start, or
/// died without answering) the step runs in a fresh process after all, which also gives the
/// failure its own message if the step itself is what kills a worker.
bool ServeStep(StepServer& server, const Step& step, const nlohmann::json& request,
               const WorkerOptions& options, nlohmann::json* result, JobResult* failure) {
  const fs::path request_path = step.dir / (step.name + "-request.json");
  const fs::path result_path = step.dir / (step.name + "-result.json");
  const std::string line = request_path.string() + "\t" + result_path.string();
  if (line.find('\n') != std::string::npos ||
      std::count(line.begin(), line.end(), '\t') != 1) {
    server.CountFallback();  // a path the line protocol cannot carry
    return RunStep(step, request, options, result, failure, nullptr);
  }
  if (!WriteRequest(request_path, request, failure)) return false;
  const fs::path home = options.scratch_dir.parent_path() / fmt::format("step-server-{}", getpid());
  std::error_code ec;
  fs::create_directories(home / "triton-cache", ec);
  Step server_step{"step-server", home, 0, std::nullopt, {}};
  SubprocessOptions start = StepProcess(server_step, options);
  start.argv = {options.python, "-m", "tritonize_worker", "--serve"};
  start.stdout_path.clear();

  const auto began = std::chrono::steady_clock::now();
  std::string reply;
  std::string why;
  const StepServer::Outcome outcome = server.Run(start, line, step.timeout_s, &reply, &why);
  const double wall_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
  const std::string stderr_tail = TailOfFile(start.stderr_path, kTailBytes);
  switch (outcome) {
    case StepServer::Outcome::kUnavailable:
      server.CountFallback();
      return RunStep(step, request, options, result, failure, nullptr);
    case StepServer::Outcome::kTimedOut:
      *failure = Failure(Status::kTimeout, "run",
                         fmt::format("{}killed after the {:.0f} s job timeout (--timeout)",
                                     StepPrefix(step), step.timeout_s),
                         stderr_tail);
      failure->wall_s = wall_s;
      return false;
    case StepServer::Outcome::kInterrupted:
      *failure = Failure(Status::kCrashed, "run", "interrupted by the user", stderr_tail);
      return false;
    case StepServer::Outcome::kDone:
      break;
  }
  if (reply != "done") {  // the server's reason for writing no result
    *failure = Failure(Status::kCrashed, "run",
                       fmt::format("{}the step server wrote no result: {}", StepPrefix(step), reply),
                       stderr_tail);
    return false;
  }
  if (!ReadStepResult(step, result_path, 0, stderr_tail, result, failure)) return false;
  failure->wall_s = wall_s;
  return true;
}

/// The reference outputs for this task, sizes and seeds: made once, then reused (within a
/// run the hidden size and seed are the same for every job of a task).
bool EnsureReference(const nlohmann::json& candidate_request, const WorkerOptions& options,
                     const std::string& task_name, fs::path* path, JobResult* failure) {
  nlohmann::json request = candidate_request;
  request.erase("implementation");
  request["role"] = "reference";
  request["timing"] = {{"enabled", false}};
  const std::string key = Sha256Hex(request.dump()).substr(0, 16);
  const fs::path dir = options.scratch_dir.parent_path() / "references";
  *path = dir / fmt::format("{}-{}.safetensors", SafeName(task_name), key);
  std::error_code ec;
  if (fs::is_regular_file(*path, ec)) return true;
  const fs::path step_dir = dir / fmt::format("{}-{}", SafeName(task_name), key);
  fs::create_directories(step_dir / "triton-cache", ec);
  request["files"] = {{"reference", path->string()}};
  nlohmann::json result;
  Step step{"reference", step_dir, options.timeout_s, std::nullopt, {}};
  if (!RunStep(step, request, options, &result, failure, nullptr)) {
    failure->message = "the reference step failed: " + failure->message;
    return false;
  }
  if (result.value("status", "") != "ok") {
    JobResult parsed;
    std::string err;
    ParseJobResult(result, &parsed, &err);
    *failure = parsed;
    return false;
  }
  return fs::is_regular_file(*path, ec);
}

/// Whether CUDA initialises inside the full sandbox on this machine (asked once per Python).
/// On one H100 machine cuInit failed (error 304) inside the mount namespace while the network
/// namespace alone was fine: measured here rather than assumed.
bool CudaWorksInSandbox(const WorkerOptions& options, const SandboxPolicy& policy,
                        const fs::path& dir) {
  static std::map<std::string, bool> cache;
  auto found = cache.find(options.python);
  if (found != cache.end()) return found->second;
  SubprocessOptions sub;
  sub.argv = {options.python, "-c",
              "import sys, torch; sys.exit(0 if torch.cuda.is_available() else 3)"};
  if (!options.cuda_visible_devices.empty()) {
    sub.env["CUDA_VISIBLE_DEVICES"] = options.cuda_visible_devices;
  }
  sub.env["HOME"] = dir.string();
  sub.env["TMPDIR"] = dir.string();
  sub.cwd = dir;
  sub.stdout_path = dir / "cuda-probe-stdout.log";
  sub.stderr_path = dir / "cuda-probe-stderr.log";
  sub.timeout_s = 180;
  sub.sandbox = policy;
  SubprocessResult run = RunSubprocess(sub);
  return cache[options.python] = run.started && !run.timed_out && run.exit_code == 0;
}

}  // namespace

std::vector<std::string> CheckSizesFor(const Task& task, const WorkerOptions& options) {
  std::vector<std::string> sizes = options.interpret ? task.interpret_check_sizes : task.check_sizes;
  for (auto& hidden : HiddenSizesFor(task, options)) sizes.push_back(hidden);
  return sizes;
}

std::vector<std::string> HiddenSizesFor(const Task& task, const WorkerOptions& options) {
  if (options.run_seed == 0) return {};
  const auto& base = options.interpret ? task.interpret_check_sizes : task.check_sizes;
  std::vector<long long> largest(task.dims.size(), 1);
  for (const auto& size : base) {
    std::vector<long long> values;
    if (!ParseSize(size, task.dims.size(), &values)) continue;
    for (size_t i = 0; i < values.size(); ++i) largest[i] = std::max(largest[i], values[i]);
  }
  uint64_t state = TaskSeed(task, options);
  std::string size;
  for (size_t i = 0; i < largest.size(); ++i) {
    // An odd number in [1, largest]: odd sizes catch missing masks.
    const auto span = static_cast<uint64_t>(largest[i]);
    uint64_t value = std::min<uint64_t>((Mix(&state) % span) | 1, span);
    // A dim the manifest constrains (multiple_of, what the experts' kernels need): its multiple.
    if (auto it = task.multiple_of.find(task.dims[i]); it != task.multiple_of.end()) {
      const auto multiple = static_cast<uint64_t>(it->second);
      value = std::max<uint64_t>(multiple, value / multiple * multiple);
    }
    size += (i == 0 ? "" : "x") + std::to_string(value);
  }
  return {size};
}

std::vector<int> CheckSeedsFor(const Task& task, const WorkerOptions& options) {
  std::vector<int> seeds = task.seeds;
  if (options.run_seed == 0) return seeds;
  uint64_t state = TaskSeed(task, options) ^ 0x5eedULL;
  int hidden = static_cast<int>(Mix(&state) % 2000000000ULL) + 1000;
  seeds.push_back(hidden);
  return seeds;
}

nlohmann::json BuildRequest(const Task& task, const Implementation& impl,
                            const WorkerOptions& options) {
  nlohmann::json request;
  request["schema_version"] = kWorkerSchemaVersion;
  request["role"] = "candidate";
  request["task"] = task.manifest;
  request["task_dir"] = task.dir.string();
  request["implementation"] = {{"name", impl.name},
                               {"kind", ImplKindName(impl.kind)},
                               {"path", impl.path.string()},
                               {"entry", impl.entry}};
  if (impl.name == "compile") request["implementation"]["compile_mode"] = options.compile_mode;
  request["device"] = options.interpret ? "cpu" : "cuda";
  request["interpret"] = options.interpret;
  request["check"] = {{"sizes", CheckSizesFor(task, options)},
                      {"seeds", CheckSeedsFor(task, options)}};
  const bool timing = options.timing && !options.interpret;
  request["timing"] = {{"enabled", timing},
                       {"sizes", task.sizes},
                       {"warmup_calls", options.warmup_calls},
                       {"calls", options.calls},
                       {"flush_bytes", options.flush_bytes},
                       {"autotune_timer", options.autotune_timer}};
  request["guards"] = {{"run_seed", options.run_seed & 0x7fffffffffffULL},
                       {"import_s", options.import_timeout_s},
                       {"compile_s", options.compile_timeout_s},
                       {"call_s", options.call_timeout_s}};
  return request;
}

namespace {

/// A repeat process checks one input, the last planned: the run's hidden size and seed when
/// it has them. The full request's reference file holds it already.
void OnlyLastCheck(nlohmann::json* request) {
  nlohmann::json& check = (*request)["check"];
  check["sizes"] = nlohmann::json::array({check["sizes"].back()});
  check["seeds"] = nlohmann::json::array({check["seeds"].back()});
}

/// The compiler caches that a trusted implementation's repeats share within one engine
/// process (so only the first pays for compiling); empty for candidate code, whose every
/// process starts with an empty cache it cannot have prepared.
fs::path SharedCacheDir(const Task& task, const Implementation& impl,
                        const WorkerOptions& options) {
  if (impl.kind != ImplKind::kBaseline && impl.kind != ImplKind::kExpert) return {};
  const fs::path dir = options.scratch_dir.parent_path() / "caches" /
                       fmt::format("{}-{}-{}", SafeName(task.name), SafeName(impl.name), getpid());
  std::error_code ec;
  fs::create_directories(dir, ec);
  return ec ? fs::path() : dir;
}

}  // namespace

JobResult RunWorkerJob(const Task& task, const Implementation& impl,
                       const WorkerOptions& options, int process) {
  if (!impl.unavailable.empty()) {
    return Failure(Status::kUnavailable, "spawn", impl.unavailable, "");
  }
  const fs::path dir = MakeJobDir(options, task, impl);
  const nlohmann::json request = BuildRequest(task, impl, options);
  JobResult failure;

  // 1. The reference, from a process that never sees the implementation.
  fs::path reference;
  if (!EnsureReference(request, options, task.name, &reference, &failure)) return failure;
  const double reference_wall_s = failure.wall_s;  // 0 when the reference was reused
  failure.wall_s = 0;

  // 2. The candidate, alone in its sandbox: it writes only to its folder and cannot read the
  // reference files.
  const fs::path outputs = dir / "outputs.safetensors";
  nlohmann::json candidate_request = request;
  if (process > 0) OnlyLastCheck(&candidate_request);
  candidate_request["files"] = {{"outputs", outputs.string()}};
  const fs::path cache = SharedCacheDir(task, impl, options);
  SandboxPolicy policy = options.sandbox;
  policy.writable = {dir};
  if (!cache.empty()) policy.writable.push_back(cache);
  policy.hidden = {reference.parent_path()};
  if (!options.interpret && policy.mode != SandboxMode::kOff && ProbeSandbox().filesystem &&
      !CudaWorksInSandbox(options, policy, dir)) {
    const std::string why = "CUDA does not initialise inside the mount namespace on this machine";
    if (policy.mode == SandboxMode::kOn) {
      return Failure(Status::kCrashed, "spawn",
                     "sandbox: --sandbox on, but " + why + " (use --sandbox auto or off)", "");
    }
    policy.no_filesystem = why;
  }
  Step candidate{"candidate", dir, options.timeout_s, policy, cache};
  nlohmann::json candidate_result;
  std::string sandbox;
  if (!RunStep(candidate, candidate_request, options, &candidate_result, &failure, &sandbox)) {
    failure.environment["sandbox"] = sandbox;
    return failure;
  }
  const double candidate_wall_s = failure.wall_s;

  // 3. The verdict, from the files, in a process that never imports candidate code.
  nlohmann::json compare_request = candidate_request;
  compare_request["role"] = "compare";
  compare_request["files"] = {{"reference", reference.string()},
                              {"outputs", outputs.string()},
                              {"candidate_result", (dir / "candidate-result.json").string()}};
  nlohmann::json final_result;
  Step compare{"compare", dir, options.timeout_s, std::nullopt, {}};
  const bool compared =
      options.compare_server
          ? ServeStep(*options.compare_server, compare, compare_request, options, &final_result,
                      &failure)
          : RunStep(compare, compare_request, options, &final_result, &failure, nullptr);
  if (!compared) {
    failure.status = Status::kRuntimeError;
    failure.message = "worker error: " + failure.message;
    return failure;
  }
  JobResult result;
  std::string err;
  if (!ParseJobResult(final_result, &result, &err)) {
    return Failure(Status::kCrashed, "run", fmt::format("worker wrote an unreadable result ({})", err),
                   "");
  }
  result.environment["sandbox"] = sandbox;
  // Where the job's time went, step by step (the candidate's own phases are in phase_s).
  result.environment["step_s"] = {{"reference", reference_wall_s},
                                  {"candidate", candidate_wall_s},
                                  {"compare", failure.wall_s}};
  result.wall_s = reference_wall_s + candidate_wall_s + failure.wall_s;
  result.process = process;
  std::string roofline_note;
  CheckRoofline(task, &result, &roofline_note);
  if (!roofline_note.empty()) result.environment["roofline"] = roofline_note;
  return result;
}

}  // namespace tritonize

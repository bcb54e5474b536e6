#include "exec/worker.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>

#include "core/sha256.h"
#include "core/task_lint.h"

namespace tritonize {
namespace {

namespace fs = std::filesystem;

// In a step's folder, where Triton caches its compiles when the step has no caches of its own.
constexpr const char* kStepTritonCache = "triton-cache";

std::string LastLine(const std::string& text) {
  auto end = text.find_last_not_of("\n ");
  if (end == std::string::npos) return {};
  auto start = text.rfind('\n', end);
  const size_t from = start == std::string::npos ? 0 : start + 1;
  return text.substr(from, end - from + 1);
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

}  // namespace

JobResult StepFailure(Status status, std::string phase, std::string message, std::string detail) {
  JobResult r;
  r.status = status;
  r.phase = std::move(phase);
  r.message = std::move(message);
  r.detail = std::move(detail);
  return r;
}

fs::path StepRequestPath(const Step& step) { return step.dir / (step.name + "-request.json"); }
fs::path StepResultPath(const Step& step) { return step.dir / (step.name + "-result.json"); }

bool WriteStepRequest(const Step& step, const nlohmann::json& request, JobResult* failure) {
  const fs::path path = StepRequestPath(step);
  // A new file, never one found there: a link in a folder a candidate could write to would send the
  // request, and the step's reply, elsewhere.
  std::error_code removed;
  fs::remove(path, removed);
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
  const std::string text = request.dump(2);
  bool written = fd >= 0;
  for (size_t done = 0; written && done < text.size();) {
    const ssize_t n = write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    written = n > 0;
    if (written) done += static_cast<size_t>(n);
  }
  if (fd >= 0 && close(fd) != 0) written = false;
  if (!written) {
    *failure = StepFailure(Status::kCrashed, "spawn",
                           fmt::format("cannot write {} (disk full?)", path.string()), "");
    return false;
  }
  return true;
}

const std::vector<std::string>& CpuThreadVariables() {
  static const std::vector<std::string> names = {"OMP_NUM_THREADS", "MKL_NUM_THREADS",
                                                 "OPENBLAS_NUM_THREADS",
                                                 "TORCHINDUCTOR_COMPILE_THREADS"};
  return names;
}

std::vector<std::string> WorkerArgv(const WorkerOptions& options, std::vector<std::string> args) {
  std::vector<std::string> argv = {options.python, "-m", "tritonize_worker"};
  argv.insert(argv.end(), std::make_move_iterator(args.begin()),
              std::make_move_iterator(args.end()));
  return argv;
}

std::vector<std::string> StepArgv(const Step& step, const WorkerOptions& options) {
  return WorkerArgv(options, {"--request", StepRequestPath(step).string(), "--result",
                              StepResultPath(step).string()});
}

void MakeStepDir(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir / kStepTritonCache, ec);
}

SubprocessOptions StepProcessOptions(const Step& step, const WorkerOptions& options) {
  SubprocessOptions sub;
  if (options.cpu_threads > 0) {
    // Many workers at once, each with a thread per core, would spin on each other's cores; a
    // variable the user set is theirs.
    for (const auto& name : CpuThreadVariables()) {
      if (std::getenv(name.c_str()) == nullptr) sub.env[name] = std::to_string(options.cpu_threads);
    }
  }
  sub.env["PYTHONPATH"] = options.package_dir.string();
  sub.env["PYTHONUNBUFFERED"] = "1";
  sub.env["PYTHONDONTWRITEBYTECODE"] = "1";
  if (step.cache_dir.empty()) {
    sub.env["TRITON_CACHE_DIR"] = (step.dir / kStepTritonCache).string();
  } else {
    sub.env["TRITON_CACHE_DIR"] = (step.cache_dir / "triton").string();
    sub.env["TORCHINDUCTOR_CACHE_DIR"] = (step.cache_dir / "inductor").string();
  }
  if (options.interpret) sub.env["TRITON_INTERPRET"] = "1";
  const std::string& devices =
      step.cuda_visible_devices.empty() ? options.cuda_visible_devices : step.cuda_visible_devices;
  if (!devices.empty()) sub.env["CUDA_VISIBLE_DEVICES"] = devices;
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

std::string ScratchFullNote(const fs::path& dir) {
  std::error_code ec;
  const fs::space_info space = fs::space(dir, ec);
  constexpr double kMiB = 1024.0 * 1024.0;
  if (ec || static_cast<double>(space.available) >= 256 * kMiB) return "";
  return fmt::format("; {} ({:.0f} MiB free)", kScratchFull,
                     static_cast<double>(space.available) / kMiB);
}

std::string StepPrefix(const Step& step) {
  return step.name == "candidate" ? "" : "the " + step.name + " step: ";
}

bool ReadStepResult(const Step& step, int exit_code, const std::string& stderr_tail,
                    nlohmann::json* result, JobResult* failure) {
  const std::string where = StepPrefix(step);
  std::string text;
  std::string err;
  // In the step's folder, which a candidate could write to: never read through a link.
  if (!ReadRegularFile(StepResultPath(step), &text, &err)) {
    *failure =
        StepFailure(Status::kCrashed, "run",
                    fmt::format("{}worker exited with code {} and wrote no result{}{}", where,
                                exit_code, stderr_tail.empty() ? "" : ": " + LastLine(stderr_tail),
                                ScratchFullNote(step.dir)),
                    stderr_tail);
    return false;
  }
  *result = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (result->is_discarded() || !result->is_object()) {
    *failure = StepFailure(
        Status::kCrashed, "run",
        fmt::format("{}worker wrote an unreadable result (not valid JSON), exit code {}", where,
                    exit_code),
        stderr_tail);
    return false;
  }
  if (exit_code != 0) {
    *failure = StepFailure(Status::kCrashed, "run",
                           fmt::format("{}worker exited with code {}", where, exit_code),
                           stderr_tail);
    return false;
  }
  return true;
}

bool StepResultOf(const Step& step, const SubprocessResult& run, const WorkerOptions& options,
                  nlohmann::json* result, JobResult* failure) {
  const fs::path stderr_path = step.dir / (step.name + "-stderr.log");
  const std::string stderr_tail = TailOfFile(stderr_path, kStepTailBytes);
  const std::string where = StepPrefix(step);
  if (!run.started) {
    *failure = StepFailure(Status::kCrashed, "spawn", run.spawn_error,
                           fmt::format("set --python or TRITONIZE_PYTHON to a Python with torch "
                                       "and triton (now: {})",
                                       options.python));
    return false;
  }
  if (run.timed_out) {
    *failure = StepFailure(Status::kTimeout, "run",
                           fmt::format("{}killed after the {:.0f} s job timeout (--timeout)",
                                       where, step.timeout_s),
                           stderr_tail);
    failure->wall_s = run.wall_s;
    return false;
  }
  if (run.interrupted) {
    *failure = StepFailure(Status::kCrashed, "run", "interrupted by the user", stderr_tail);
    return false;
  }
  if (run.signal != 0) {
    *failure = StepFailure(Status::kCrashed, "run",
                           fmt::format("{}worker killed by signal {} ({}){}", where, run.signal,
                                       strsignal(run.signal),
                                       stderr_tail.empty() ? "" : ": " + LastLine(stderr_tail)),
                           stderr_tail);
    failure->wall_s = run.wall_s;
    return false;
  }
  if (!ReadStepResult(step, run.exit_code, stderr_tail, result, failure)) return false;
  failure->wall_s = run.wall_s;
  return true;
}

// The driver's own answer (what torch.cuda.is_available() comes to, without importing torch):
// exit 0 if cuInit succeeds and sees a device, 3 otherwise.
constexpr const char* kCudaProbe = R"(import ctypes, sys
try:
    cuda = ctypes.CDLL("libcuda.so.1")
except OSError:
    sys.exit(3)
count = ctypes.c_int(0)
sys.exit(0 if cuda.cuInit(0) == 0 and cuda.cuDeviceGetCount(ctypes.byref(count)) == 0 and count.value > 0 else 3)
)";

bool CudaWorksInSandbox(const WorkerOptions& options, const SandboxPolicy& policy,
                        const fs::path& dir, const std::string& cuda_visible_devices) {
  // Asked from many runner threads at once: the first asks, the others wait for its answer.
  static std::mutex mutex;
  static std::map<std::string, bool> cache;
  const std::string& devices =
      cuda_visible_devices.empty() ? options.cuda_visible_devices : cuda_visible_devices;
  const std::string key = options.python + "\n" + devices;
  std::lock_guard<std::mutex> lock(mutex);
  auto found = cache.find(key);
  if (found != cache.end()) return found->second;
  SubprocessOptions sub;
  sub.argv = {options.python, "-c", kCudaProbe};
  if (!devices.empty()) sub.env["CUDA_VISIBLE_DEVICES"] = devices;
  sub.env["HOME"] = dir.string();
  sub.env["TMPDIR"] = dir.string();
  sub.cwd = dir;
  sub.stdout_path = dir / "cuda-probe-stdout.log";
  sub.stderr_path = dir / "cuda-probe-stderr.log";
  sub.timeout_s = 180;
  sub.sandbox = policy;
  SubprocessResult run = RunSubprocess(sub);
  return cache[key] = run.started && !run.timed_out && run.exit_code == 0;
}

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
  if (impl.kind == ImplKind::kCompile) {
    request["implementation"]["compile_mode"] = options.compile_mode;
  }
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

void OnlyLastCheck(const Task& task, nlohmann::json* request) {
  nlohmann::json& check = (*request)["check"];
  const std::string last = check["sizes"].back().get<std::string>();
  check["sizes"] = nlohmann::json::array({last});
  // A large size is checked with the first seed only (core/task_lint.h CheckedOnce): the case the
  // first process's reference holds.
  const bool once = CheckedOnce(task, last);
  check["seeds"] = nlohmann::json::array({once ? check["seeds"].front() : check["seeds"].back()});
}

}  // namespace tritonize

#include "exec/worker.h"

#include <signal.h>
#include <string.h>

#include <atomic>
#include <fstream>

#include <fmt/format.h>

#include "core/sha256.h"
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

}  // namespace

std::vector<std::string> CheckSizesFor(const Task& task, const WorkerOptions& options) {
  return options.interpret ? task.interpret_check_sizes : task.check_sizes;
}

nlohmann::json BuildRequest(const Task& task, const Implementation& impl,
                            const WorkerOptions& options) {
  nlohmann::json request;
  request["schema_version"] = 1;
  request["task"] = task.manifest;
  request["task_dir"] = task.dir.string();
  request["implementation"] = {{"name", impl.name},
                               {"kind", ImplKindName(impl.kind)},
                               {"path", impl.path.string()},
                               {"entry", impl.entry}};
  request["device"] = options.interpret ? "cpu" : "cuda";
  request["interpret"] = options.interpret;
  request["check"] = {{"sizes", CheckSizesFor(task, options)}, {"seeds", task.seeds}};
  const bool timing = options.timing && !options.interpret;
  request["timing"] = {{"enabled", timing},
                       {"sizes", task.sizes},
                       {"warmup_calls", options.warmup_calls},
                       {"calls", options.calls},
                       {"flush_bytes", options.flush_bytes}};
  return request;
}

JobResult RunWorkerJob(const Task& task, const Implementation& impl,
                       const WorkerOptions& options) {
  if (!impl.unavailable.empty()) {
    return Failure(Status::kUnavailable, "spawn", impl.unavailable, "");
  }
  const fs::path dir = MakeJobDir(options, task, impl);
  const fs::path request_path = dir / "request.json";
  const fs::path result_path = dir / "result.json";
  {
    std::ofstream out(request_path);
    out << BuildRequest(task, impl, options).dump(2);
    if (!out) {
      return Failure(Status::kCrashed, "spawn",
                     fmt::format("cannot write {}", request_path.string()), "");
    }
  }

  SubprocessOptions sub;
  sub.argv = {options.python, "-m", "tritonize_worker", "--request", request_path.string(),
              "--result", result_path.string()};
  sub.env["PYTHONPATH"] = options.package_dir.string();
  sub.env["PYTHONUNBUFFERED"] = "1";
  sub.env["TRITON_CACHE_DIR"] = (dir / "triton-cache").string();
  if (options.interpret) sub.env["TRITON_INTERPRET"] = "1";
  sub.cwd = dir;
  sub.stdout_path = dir / "stdout.log";
  sub.stderr_path = dir / "stderr.log";
  sub.timeout_s = options.timeout_s;

  SubprocessResult run = RunSubprocess(sub);
  const std::string stderr_tail = TailOfFile(sub.stderr_path, kTailBytes);
  if (!run.started) {
    return Failure(Status::kCrashed, "spawn", run.spawn_error,
                   "set --python or TRITONIZE_PYTHON to a Python with torch and triton");
  }
  if (run.timed_out) {
    JobResult r = Failure(Status::kTimeout, "run",
                          fmt::format("killed after the {:.0f} s job timeout (--timeout)",
                                      options.timeout_s),
                          stderr_tail);
    r.wall_s = run.wall_s;
    return r;
  }
  if (run.interrupted) {
    return Failure(Status::kCrashed, "run", "interrupted by the user", stderr_tail);
  }
  if (run.signal != 0) {
    JobResult r = Failure(Status::kCrashed, "run",
                          fmt::format("worker killed by signal {} ({}){}", run.signal,
                                      strsignal(run.signal),
                                      stderr_tail.empty() ? "" : ": " + LastLine(stderr_tail)),
                          stderr_tail);
    r.wall_s = run.wall_s;
    return r;
  }
  std::string text;
  std::string err;
  if (!ReadFile(result_path, &text, &err)) {
    return Failure(Status::kCrashed, "run",
                   fmt::format("worker exited with code {} and wrote no result{}", run.exit_code,
                               stderr_tail.empty() ? "" : ": " + LastLine(stderr_tail)),
                   stderr_tail);
  }
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  JobResult result;
  if (j.is_discarded() || !ParseJobResult(j, &result, &err)) {
    if (j.is_discarded()) err = "not valid JSON";
    return Failure(Status::kCrashed, "run",
                   fmt::format("worker wrote an unreadable result ({}), exit code {}", err,
                               run.exit_code),
                   stderr_tail);
  }
  if (run.exit_code != 0) {
    return Failure(Status::kCrashed, "run",
                   fmt::format("worker exited with code {}", run.exit_code), stderr_tail);
  }
  result.wall_s = run.wall_s;
  return result;
}

}  // namespace tritonize

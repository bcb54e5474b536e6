#include "run/job.h"

#include <fmt/format.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <future>
#include <map>
#include <regex>
#include <set>
#include <thread>

#include "core/sha256.h"
#include "exec/roofline_check.h"

namespace tritonize {
namespace {

namespace fs = std::filesystem;

std::string SafeName(const std::string& name) {
  std::string out;
  for (char c : name) out += (std::isalnum(static_cast<unsigned char>(c)) || c == '-') ? c : '_';
  return out;
}

/// The compiler caches that a trusted implementation's repeats share within one engine process
/// (so only the first pays for compiling); empty for candidate code, whose every process starts
/// with an empty cache it cannot have prepared.
/// The folder of every such cache: hidden from candidate steps.
fs::path CachesDir(const WorkerOptions& options) {
  return options.scratch_dir.parent_path() / "caches";
}

fs::path SharedCacheDir(const Task& task, const Implementation& impl, const WorkerOptions& options) {
  if (!IsTrustedKind(impl.kind)) return {};
  const fs::path dir = CachesDir(options) /
                       fmt::format("{}-{}-{}", SafeName(task.name), SafeName(impl.name), getpid());
  std::error_code ec;
  fs::create_directories(dir, ec);
  return ec ? fs::path() : dir;
}

void AddLane(const JobContext& context, const fs::path& dir, nlohmann::json* request) {
  if (context.lane != nullptr) (*request)["lane"] = context.lane->ToRequest(dir / "lane-status");
}

std::string Devices(const JobContext& context) {
  return context.lane != nullptr ? context.lane->devices : std::string();
}

/// Where every reference file of a run is made: hidden from candidate steps.
fs::path ReferenceDir(const WorkerOptions& options) {
  return options.scratch_dir.parent_path() / "references";
}

/// Removes a tensor file the worker wrote and the files that belong to it: every file beside it
/// whose name is its name and a dot and more (tensor_files.py: its parts, `<name>.part<N>`, the
/// later outputs, `<name>.later`, and a write cut short, `<name>.<pid>.partial`).
void RemoveTensorFile(const fs::path& path) {
  std::error_code ec;
  fs::remove(path, ec);
  const std::string prefix = path.filename().string() + ".";
  std::vector<fs::path> belonging;
  for (const auto& entry : fs::directory_iterator(path.parent_path(), ec)) {
    if (entry.path().filename().string().rfind(prefix, 0) == 0) belonging.push_back(entry.path());
  }
  for (const auto& file : belonging) fs::remove(file, ec);
}

/// The reference outputs for this task, sizes and seeds: made once, then reused (within a run the
/// hidden size and seed are the same for every job of a task). *made gets the step's lane holds
/// (`lane`) and its peak of GPU memory (`gpu_peak_mib`) when this call made it.
bool EnsureReference(const nlohmann::json& candidate_request, const JobContext& context,
                     const std::string& task_name, fs::path* path, JobResult* failure,
                     nlohmann::json* made) {
  const WorkerOptions& options = *context.options;
  nlohmann::json request = candidate_request;
  request.erase("implementation");
  request["role"] = "reference";
  request["timing"] = {{"enabled", false}};
  const std::string key = Sha256Hex(request.dump()).substr(0, 16);
  const fs::path dir = ReferenceDir(options);
  // The engine's own file (its pid in the name): two engines on one root with the same run seed
  // would otherwise share one, and the first to finish would remove it under the other.
  const std::string name = fmt::format("{}-{}-{}", SafeName(task_name), key, getpid());
  *path = dir / (name + ".safetensors");

  ReferenceCache::Entry& entry = context.references->Find(key, task_name);
  std::lock_guard<std::mutex> lock(entry.mutex);  // one job makes it; the others wait here
  if (entry.made) {
    *failure = entry.failure;
    return entry.failure.message.empty();
  }
  entry.made = true;
  std::error_code ec;
  if (fs::is_regular_file(*path, ec)) return true;  // an earlier engine of this pid: the same
  const fs::path step_dir = dir / name;
  MakeStepDir(step_dir);
  request["files"] = {{"reference", path->string()}};
  AddLane(context, step_dir, &request);
  nlohmann::json result;
  Step step{"reference", step_dir, "", options.timeout_s, std::nullopt, {}, Devices(context)};
  bool ok = context.trusted->Claim(step)->Run(request, &result, failure);
  if (!ok) {
    failure->message = "the reference step failed: " + failure->message;
  } else if (result.value("status", "") != "ok") {
    JobResult parsed;
    std::string err;
    ParseJobResult(result, &parsed, &err);
    *failure = parsed;
    if (failure->message.empty()) failure->message = "the reference step failed";
    ok = false;
  } else if (!fs::is_regular_file(*path, ec)) {
    *failure = StepFailure(Status::kRuntimeError, "reference",
                           "worker error: the reference step wrote no " + path->string(), "");
    ok = false;
  }
  if (result.is_object() && result.contains("environment") && result["environment"].is_object()) {
    for (const char* field : {"lane", "gpu_peak_mib"}) {
      if (result["environment"].contains(field)) (*made)[field] = result["environment"][field];
    }
  }
  if (ok) {
    entry.path = *path;
    entry.step_dir = step_dir;
    return true;
  }
  RemoveTensorFile(*path);  // what a failed step wrote (its parts, its first file)
  if (OutOfGpuMemory(*failure) || OutOfScratchDisk(*failure)) {
    // Not the baseline's verdict but the GPU's or the disk's state (other jobs' memory or files):
    // the next job of the task, or this one run again with the GPU to itself, makes it again.
    entry.made = false;
  } else {
    entry.failure = *failure;
  }
  return ok;
}

/// Removes a job's outputs file when told, or at the latest when the job's scope ends.
class OutputsRemover {
 public:
  explicit OutputsRemover(fs::path path) : path_(std::move(path)) {
    const char* keep = std::getenv("TRITONIZE_KEEP_OUTPUTS");
    keep_ = keep != nullptr && std::string(keep) == "1";
  }
  OutputsRemover(const OutputsRemover&) = delete;
  OutputsRemover& operator=(const OutputsRemover&) = delete;
  ~OutputsRemover() { Now(); }
  void Now() const {
    if (!keep_) RemoveTensorFile(path_);
  }

 private:
  fs::path path_;
  bool keep_ = false;
};

double SecondsSince(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

}  // namespace

bool OutOfGpuMemory(const JobResult& result) {
  if (result.status != Status::kRuntimeError && result.status != Status::kCrashed) return false;
  for (const char* marker : {"CUDA out of memory", "OutOfMemoryError", "CUDA error: out of memory",
                             "CUDA_ERROR_OUT_OF_MEMORY"}) {
    if (result.message.find(marker) != std::string::npos) return true;
  }
  return false;
}

bool OutOfScratchDisk(const JobResult& result) {
  if (result.status != Status::kRuntimeError && result.status != Status::kCrashed) return false;
  for (const char* marker : {"No space left on device", "(os error 28)", kScratchFull}) {
    if (result.message.find(marker) != std::string::npos) return true;
  }
  return false;
}

nlohmann::json GpuLane::ToRequest(const fs::path& status_file) const {
  return {{"index", index},
          {"lock", lock.string()},
          {"gate", gate.string()},
          {"status_file", status_file.string()}};
}

ReferenceCache::Entry& ReferenceCache::Find(const std::string& key, const std::string& task) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto& entry = entries_[key];
  if (!entry) {
    entry = std::make_unique<Entry>();
    entry->task = task;
  }
  return *entry;
}

bool NoVerdictOnAFullDisk(const fs::path& scratch_dir, JobResult* result) {
  if (!OutOfScratchDisk(*result)) return false;
  result->status = Status::kUnavailable;
  result->message = fmt::format(
      "not judged: the scratch disk was full (make room on the disk of {} and run it again): {}",
      scratch_dir.string(), result->message.substr(0, 300));
  result->timings.clear();
  return true;
}

void ReferenceCache::RemoveMade(const std::string& task) {
  std::lock_guard<std::mutex> lock(mutex_);
  for (auto& [key, entry] : entries_) {
    // Another task's entry is not waited for (its step may be making it now).
    if (!task.empty() && entry->task != task) continue;
    std::lock_guard<std::mutex> held(entry->mutex);
    std::error_code ec;
    if (!entry->path.empty()) RemoveTensorFile(entry->path);
    if (!entry->step_dir.empty()) fs::remove_all(entry->step_dir, ec);
    entry->path.clear();
    entry->step_dir.clear();
  }
}

fs::path NewJobDir(const WorkerOptions& options, const std::string& label) {
  static std::atomic<int> counter{0};
  fs::path dir =
      options.scratch_dir / fmt::format("{}-{}-{}", SafeName(label), getpid(), counter.fetch_add(1));
  std::error_code ec;
  fs::remove_all(dir, ec);
  fs::create_directories(dir, ec);
  return dir;
}

namespace {

/// The engine pid in the name of one of its files or folders, by the folder's naming (see
/// RemoveFilesOfEndedEngines), or 0.
int EnginePid(const std::string& name, const std::regex& pattern) {
  std::smatch match;
  if (!std::regex_match(name, match, pattern)) return 0;
  try {
    return std::stoi(match[1].str());
  } catch (const std::exception&) {
    return 0;
  }
}

bool ProcessRunning(int pid) { return kill(pid, 0) == 0 || errno == EPERM; }

double SizeOf(const fs::path& path) {
  std::error_code ec;
  if (fs::is_symlink(path, ec)) return 0;
  if (!fs::is_directory(path, ec)) {
    const auto size = fs::file_size(path, ec);
    return ec ? 0 : static_cast<double>(size);
  }
  double bytes = 0;
  for (auto it = fs::recursive_directory_iterator(
           path, fs::directory_options::skip_permission_denied, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    std::error_code size_ec;
    if (it->is_regular_file(size_ec) && !it->is_symlink(size_ec)) {
      const auto size = it->file_size(size_ec);
      if (!size_ec) bytes += static_cast<double>(size);
    }
  }
  return bytes;
}

}  // namespace

LeftBehind RemoveFilesOfEndedEngines(const WorkerOptions& options) {
  // Each folder with its own naming; the pid is the first group.
  const std::regex reference(R"(.+-[0-9a-f]{16}-([0-9]+)(\.safetensors.*)?)");
  const std::regex job(R"(.+-([0-9]+)-[0-9]+)");
  const std::regex cache(R"(.+-([0-9]+))");
  const std::pair<fs::path, const std::regex*> folders[] = {
      {ReferenceDir(options), &reference},
      {options.scratch_dir, &job},
      {CachesDir(options), &cache},
  };
  LeftBehind removed;
  std::set<int> pids;
  std::map<int, bool> running;
  for (const auto& [folder, pattern] : folders) {
    std::error_code ec;
    std::vector<fs::path> entries;
    for (const auto& entry : fs::directory_iterator(folder, ec)) entries.push_back(entry.path());
    for (const fs::path& path : entries) {
      const int pid = EnginePid(path.filename().string(), *pattern);
      if (pid <= 0 || pid == getpid()) continue;
      auto known = running.find(pid);
      if (known == running.end()) known = running.emplace(pid, ProcessRunning(pid)).first;
      if (known->second) continue;
      const double bytes = SizeOf(path);
      std::error_code removed_ec;
      fs::remove_all(path, removed_ec);
      if (removed_ec) continue;
      ++removed.entries;
      removed.bytes += bytes;
      pids.insert(pid);
    }
  }
  removed.pids.assign(pids.begin(), pids.end());
  return removed;
}

JobResult RunJob(const Task& task, const Implementation& impl, const JobContext& context,
                 int process) {
  if (!impl.unavailable.empty()) {
    return StepFailure(Status::kUnavailable, "spawn", impl.unavailable, "");
  }
  const auto started = std::chrono::steady_clock::now();
  const WorkerOptions& options = *context.options;
  const nlohmann::json request = BuildRequest(task, impl, options);
  JobResult failure;

  // 1. The reference, from a process that never sees the implementation, made while the
  // candidate step runs: only the compare step reads it (on the H200 the first job of a task
  // waited 13 s for it). A reference that cannot be made is the job's verdict, as before.
  fs::path reference;
  nlohmann::json reference_step;  // its lane holds and peak of GPU memory, if this job made it
  JobResult reference_failure;
  // The folder exists before any candidate process starts, so that its sandbox hides it (a
  // folder that does not exist yet cannot be hidden, and the reference is written while the
  // candidate runs).
  std::error_code made_dir;
  fs::create_directories(ReferenceDir(options), made_dir);
  // Declared after what it writes: an early return waits for it (a std::async future does).
  std::shared_future<bool> reference_made =
      std::async(std::launch::async, [&] {
        const bool made = EnsureReference(request, context, task.name, &reference,
                                          &reference_failure, &reference_step);
        if (context.on_reference_done) {
          context.on_reference_done(
              !made && (OutOfGpuMemory(reference_failure) || OutOfScratchDisk(reference_failure)));
        }
        return made;
      }).share();

  // (A reference that cannot be made is the job's verdict: no candidate step for it then.)
  if (context.reference_first && !reference_made.get()) return reference_failure;

  // 2. The candidate, alone in its sandbox: it writes only to its folder and cannot read the
  // reference files.
  const fs::path cache = SharedCacheDir(task, impl, options);
  Step candidate{"candidate", {}, task.name + "-" + impl.name, options.timeout_s, options.sandbox,
                 cache, Devices(context)};
  SandboxPolicy& policy = *candidate.sandbox;
  policy.writable.clear();
  if (!cache.empty()) policy.writable.push_back(cache);
  // Hidden besides what the options hide (serve: the other lanes' folders): the references, every
  // other job's folder (a baseline's outputs on the same inputs, copied as a candidate's own, would
  // pass its checks), and the trusted implementations' caches (an expert's compiled kernels); the
  // job's own folder and cache, inside them, are put back (exec/sandbox.h).
  // (Each made now if it is not there: a folder that does not exist yet cannot be hidden.)
  for (const fs::path& dir : {ReferenceDir(options), options.scratch_dir, CachesDir(options)}) {
    fs::create_directories(dir, made_dir);
    policy.hidden.push_back(dir);
  }
  // (A cluster's node applies the sandbox itself: tritonize sandbox-run, run/launcher_slurm.h.)
  if (!options.interpret && policy.mode != SandboxMode::kOff && context.candidate->local() &&
      ProbeSandbox().filesystem &&
      !CudaWorksInSandbox(options, policy, options.scratch_dir, candidate.cuda_visible_devices)) {
    const std::string why = "CUDA does not initialise inside the mount namespace on this machine";
    if (policy.mode == SandboxMode::kOn) {
      return StepFailure(Status::kCrashed, "spawn",
                         "sandbox: --sandbox on, but " + why + " (use --sandbox auto or off)", "");
    }
    policy.no_filesystem = why;
  }
  // Waiting for a process (a warm one from the pool, a step server) is part of the job's wall time
  // that no step's own figure holds: recorded as `claim_s`.
  auto claimed = std::chrono::steady_clock::now();
  const double setup_s = SecondsSince(started);  // the sandbox's probes, the first job's CUDA one
  std::unique_ptr<StepSlot> slot = context.candidate->Claim(candidate);
  const double candidate_claim_s = SecondsSince(claimed);
  const fs::path dir = slot->dir();  // a pre-started process has its own folder
  if (context.on_candidate_dir) context.on_candidate_dir(dir);
  const fs::path outputs = dir / "outputs.safetensors";
  // The outputs of every check case, once judged or once the job ends otherwise (its reference
  // failed, the compare step did not run): gigabytes for an attention job, which a suite's jobs
  // would otherwise leave behind by the dozen (TRITONIZE_KEEP_OUTPUTS=1 keeps them).
  const OutputsRemover remove_outputs(outputs);
  nlohmann::json candidate_request = request;
  if (process > 0) OnlyLastCheck(task, &candidate_request);
  candidate_request["files"] = {{"outputs", outputs.string()}};
  if (!cache.empty()) candidate_request["cache_dir"] = cache.string();
  AddLane(context, dir, &candidate_request);
  // The compare step's request: the candidate's files, the reference's once it is made; its lane
  // status in a folder of its own (step 3).
  nlohmann::json compare_request = candidate_request;
  compare_request["role"] = "compare";  // keeps the lane: it compares on the job's GPU
  compare_request.erase("cache_dir");
  compare_request["files"] = {{"outputs", outputs.string()}};

  // 2b. The compare step's first part, beside the candidate step's timing: once the outputs file is
  // there (written whole after the checks, before timing: docs/protocol.md) and the reference is
  // made, the values are compared while the candidate times, and the compare step after it has
  // only the late check's outputs left. Not for a cluster's steps (their files are on its nodes),
  // nor without timing (nothing comes after the checks to run beside).
  std::atomic<bool> candidate_over{false};
  const bool beside = options.timing && !options.interpret && context.candidate->local() &&
                      context.trusted->local();
  std::future<fs::path> first_part = std::async(std::launch::async, [&]() -> fs::path {
    std::error_code ec;
    while (beside && !candidate_over.load() && !fs::exists(outputs, ec)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    if (!beside || candidate_over.load() || !reference_made.get()) return {};
    const fs::path part_dir = NewJobDir(options, task.name + "-" + impl.name + "-compare-first");
    nlohmann::json part_request = compare_request;
    part_request["files"]["reference"] = reference.string();
    part_request["files"]["compared"] = (part_dir / "compared.json").string();
    AddLane(context, part_dir, &part_request);
    Step step{"compare", part_dir, "", options.timeout_s, std::nullopt, {}, Devices(context)};
    nlohmann::json part_result;
    JobResult part_failure;
    const bool ran = context.trusted->Claim(step)->Run(part_request, &part_result, &part_failure);
    // A first part that failed is no verdict: the compare step then does it all.
    if (!ran || part_result.value("status", "") != "ok") return {};
    return fs::exists(part_dir / "compared.json", ec) ? part_dir / "compared.json" : fs::path();
  });

  nlohmann::json candidate_result;
  const bool candidate_ran = slot->Run(candidate_request, &candidate_result, &failure);
  candidate_over.store(true);
  const std::string sandbox = slot->sandbox();
  slot.reset();
  const auto candidate_ended = std::chrono::steady_clock::now();
  if (!reference_made.get()) return reference_failure;
  const double reference_wait_s = SecondsSince(candidate_ended);
  const double reference_wall_s = reference_failure.wall_s;  // 0 when the reference was reused
  if (!candidate_ran) {
    failure.environment["sandbox"] = sandbox;
    return failure;
  }
  const double candidate_wall_s = failure.wall_s;

  // 3. The verdict, from the files, in a process that never imports candidate code, with a folder
  // of its own for its request, result and lane status: the candidate's folder may hold links it
  // left there (to a key of the engine's user, to the reference), which a trusted process writing
  // a file of that name would follow. It reads the candidate's files without following any.
  const fs::path compare_dir = NewJobDir(options, task.name + "-" + impl.name + "-compare");
  if (context.on_candidate_dir) context.on_candidate_dir(compare_dir);
  // The first part first: until it has ended it may still be copying the request.
  const fs::path first_compared = first_part.get();
  compare_request["files"]["reference"] = reference.string();
  compare_request["files"]["candidate_result"] = (dir / "candidate-result.json").string();
  if (!first_compared.empty()) compare_request["files"]["compared"] = first_compared.string();
  AddLane(context, compare_dir, &compare_request);
  nlohmann::json final_result;
  Step compare{"compare", compare_dir, "", options.timeout_s, std::nullopt, {}, Devices(context)};
  claimed = std::chrono::steady_clock::now();
  std::unique_ptr<StepSlot> compare_slot = context.trusted->Claim(compare);
  const double compare_claim_s = SecondsSince(claimed);
  const bool compared = compare_slot->Run(compare_request, &final_result, &failure);
  compare_slot.reset();
  remove_outputs.Now();
  if (!compared) {
    failure.status = Status::kRuntimeError;
    failure.message = "worker error: " + failure.message;
    return failure;
  }
  JobResult result;
  std::string err;
  if (!ParseJobResult(final_result, &result, &err)) {
    return StepFailure(Status::kCrashed, "run",
                       fmt::format("worker wrote an unreadable result ({})", err), "");
  }
  result.environment["sandbox"] = sandbox;
  if (reference_step.contains("lane")) {
    result.environment["reference_lane"] = reference_step["lane"];
  }
  if (reference_step.contains("gpu_peak_mib")) {
    result.environment["reference_gpu_peak_mib"] = reference_step["gpu_peak_mib"];
  }
  // Where the job's time went, step by step (the candidate's own phases are in phase_s).
  result.environment["step_s"] = {{"setup", setup_s},
                                  {"reference", reference_wall_s},
                                  {"candidate", candidate_wall_s},
                                  {"reference_wait", reference_wait_s},
                                  {"compare", failure.wall_s}};
  result.environment["claim_s"] = {{"candidate", candidate_claim_s}, {"compare", compare_claim_s}};
  // The job's own wall time: its reference and candidate steps overlap.
  result.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  result.process = process;
  std::string roofline_note;
  CheckRoofline(task, &result, &roofline_note);
  if (!roofline_note.empty()) result.environment["roofline"] = roofline_note;
  return result;
}

}  // namespace tritonize

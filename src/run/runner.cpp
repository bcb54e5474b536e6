#include "run/runner.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include "core/sha256.h"
#include "core/task_lint.h"
#include "exec/subprocess.h"
#include "run/server_launcher.h"
#include "run/warm_pool.h"

namespace tritonize {
namespace {

namespace fs = std::filesystem;

double MonotonicSeconds(std::chrono::steady_clock::time_point t) {
  // steady_clock is CLOCK_MONOTONIC on Linux: the clock the worker's time.monotonic() reads.
  return std::chrono::duration<double>(t.time_since_epoch()).count();
}

/// The total length of the union of intervals, each clipped to [from, to].
double UnionLength(std::vector<std::pair<double, double>> spans, double from, double to) {
  std::sort(spans.begin(), spans.end());
  double total = 0;
  double open = from;
  for (auto [start, end] : spans) {
    start = std::max(start, open);
    end = std::min(end, to);
    if (end > start) {
      total += end - start;
      open = end;
    }
  }
  return total;
}

void AddHolds(const nlohmann::json& record, std::vector<std::pair<double, double>>* holds,
              LaneUse* use) {
  if (!record.is_object()) return;
  use->wait_s += record.value("wait_s", 0.0);
  const auto found = record.find("holds");
  if (found == record.end() || !found->is_array()) return;
  for (const auto& hold : *found) {
    if (!hold.is_array() || hold.size() != 3 || !hold[1].is_number() || !hold[2].is_number()) {
      continue;
    }
    const double start = hold[1].get<double>();
    const double end = hold[2].get<double>();
    if (end < start) continue;
    holds->emplace_back(start, end);
    if (hold[0] == "exclusive") use->exclusive_s += end - start;
  }
}

struct GpuRecord {
  std::string index, uuid, name;
  double memory_bytes = 0;
};

/// The GPUs nvidia-smi lists (physical numbering), or none where it cannot.
std::vector<GpuRecord> ListGpus(const fs::path& scratch) {
  SubprocessOptions o;
  o.argv = {"nvidia-smi", "--query-gpu=index,uuid,name,memory.total",
            "--format=csv,noheader,nounits"};
  o.stdout_path = scratch / "nvidia-smi.out";
  o.stderr_path = scratch / "nvidia-smi.err";
  o.timeout_s = 20;
  const SubprocessResult run = RunSubprocess(o);
  std::vector<GpuRecord> gpus;
  std::string text, err;
  if (!run.started || run.exit_code != 0 || !ReadFile(o.stdout_path, &text, &err)) return gpus;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    std::vector<std::string> fields;
    std::istringstream parts(line);
    for (std::string field; std::getline(parts, field, ',');) {
      const auto first = field.find_first_not_of(' ');
      fields.push_back(first == std::string::npos ? "" : field.substr(first));
    }
    if (fields.size() >= 3) {
      GpuRecord gpu{fields[0], fields[1], fields[2]};
      // memory.total in MiB; "[N/A]" or nothing where the GPU does not say.
      if (fields.size() >= 4) {
        gpu.memory_bytes = std::strtod(fields[3].c_str(), nullptr) * 1048576.0;
      }
      gpus.push_back(gpu);
    }
  }
  return gpus;
}

std::vector<std::string> SplitList(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream stream(text);
  for (std::string item; std::getline(stream, item, ',');) {
    item.erase(0, item.find_first_not_of(' '));
    item.erase(item.find_last_not_of(' ') + 1);
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

bool TouchFile(const fs::path& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return false;
  close(fd);
  return true;
}

}  // namespace

fs::path DefaultLanesDir() {
  if (const char* dir = std::getenv("TRITONIZE_LANES"); dir != nullptr && *dir != '\0') {
    return fs::absolute(dir);
  }
  std::error_code ec;
  fs::path tmp = fs::temp_directory_path(ec);
  if (ec) tmp = "/tmp";
  return tmp / fmt::format("tritonize-lanes-{}", getuid());
}

std::vector<GpuLane> MakeLanes(const std::string& gpus, bool interpret, const fs::path& lanes_dir,
                               std::vector<std::string>* errors) {
  std::vector<GpuLane> lanes;
  if (interpret) {  // the Triton interpreter on the CPU: nothing is timed, nothing to keep apart
    lanes.push_back({0, "", "cpu", {}, {}});
    return lanes;
  }
  std::error_code ec;
  fs::create_directories(lanes_dir, ec);
  if (ec) {
    errors->push_back(fmt::format("cannot create the lanes folder {}: {} (TRITONIZE_LANES)",
                                  lanes_dir.string(), ec.message()));
    return lanes;
  }
  const std::vector<GpuRecord> known = ListGpus(lanes_dir);
  std::vector<std::string> entries = SplitList(gpus);
  if (entries.empty()) {
    const char* visible = std::getenv("CUDA_VISIBLE_DEVICES");
    if (visible != nullptr && *visible != '\0') {
      entries = SplitList(visible);
    } else {
      for (const auto& gpu : known) entries.push_back(gpu.index);
    }
  }
  if (entries.empty()) {
    // No nvidia-smi: one lane on whatever GPU the workers find.
    GpuLane lane{0, "", "GPU", lanes_dir / "gpu-default.lock", lanes_dir / "gpu-default.gate"};
    if (!TouchFile(lane.lock) || !TouchFile(lane.gate)) {
      errors->push_back(fmt::format("cannot create the lane files in {}", lanes_dir.string()));
    }
    lanes.push_back(lane);
    return lanes;
  }
  for (const std::string& entry : entries) {
    std::string uuid = entry.rfind("GPU-", 0) == 0 ? entry : "";
    std::string name;
    double memory_bytes = 0;
    for (const auto& gpu : known) {
      if (gpu.index == entry || gpu.uuid == entry) {
        uuid = gpu.uuid;
        name = gpu.name;
        memory_bytes = gpu.memory_bytes;
      }
    }
    if (!known.empty() && uuid.empty()) {
      std::string have;
      for (const auto& gpu : known) have += (have.empty() ? "" : ", ") + gpu.index;
      errors->push_back(fmt::format("--gpus: no GPU {} on this machine (nvidia-smi lists {})",
                                    entry, have));
      continue;
    }
    const std::string file = uuid.empty() ? "gpu-" + entry : uuid;
    GpuLane lane{static_cast<int>(lanes.size()),
                 entry,
                 "GPU " + entry,
                 lanes_dir / (file + ".lock"),
                 lanes_dir / (file + ".gate"),
                 memory_bytes,
                 name};
    if (!TouchFile(lane.lock) || !TouchFile(lane.gate)) {
      errors->push_back(fmt::format("cannot create the lane files of GPU {} in {}", entry,
                                    lanes_dir.string()));
    }
    lanes.push_back(lane);
  }
  return lanes;
}

std::vector<GpuLane> ClusterLanes(int count) {
  std::vector<GpuLane> lanes;
  for (int i = 0; i < std::max(1, count); ++i) {
    lanes.push_back({i, "", fmt::format("slurm {}", i), {}, {}});
  }
  return lanes;
}

int DefaultJobs(int lanes) {
  const long cores = sysconf(_SC_NPROCESSORS_ONLN);
  const long pages = sysconf(_SC_PHYS_PAGES);
  const long page = sysconf(_SC_PAGE_SIZE);
  const double gib = pages > 0 && page > 0
                         ? static_cast<double>(pages) * static_cast<double>(page) / (1ULL << 30)
                         : 8;
  const long by_memory = static_cast<long>(gib / 3);
  long jobs = std::min(std::max(1L, cores - 1), std::max(1L, by_memory));
  jobs = std::min<long>(jobs, 12L * std::max(1, lanes));
  return static_cast<int>(std::max(1L, jobs));
}

int CpuThreadsPerJob(int jobs) {
  if (jobs <= 1) return 0;
  const long cores = std::max(1L, sysconf(_SC_NPROCESSORS_ONLN));
  return static_cast<int>(std::max(1L, cores / jobs));
}

Runner::Runner(const WorkerOptions& options, RunnerOptions runner_options)
    : worker_(options), options_(std::move(runner_options)) {
  if (options_.lanes.empty()) options_.lanes.push_back({0, "", "GPU", {}, {}});
  options_.jobs = std::max(1, options_.jobs);
  started_ = std::chrono::steady_clock::now();
  // Compare steps of many jobs at once queue for the servers (on the H200, 15-35 s with 4 for 12
  // jobs): as many as a lane has jobs, since each job's compare step now has a first part that
  // runs beside its candidate's timing (run/job.h). Each starts when first needed.
  const int per_gpu =
      std::max(options_.servers_per_gpu, options_.jobs / static_cast<int>(options_.lanes.size()));
  if (options_.steps == nullptr) {
    trusted_ = std::make_unique<ServerLauncher>(
        options, options.scratch_dir.parent_path() / "servers", per_gpu);
    fresh_ = std::make_unique<ProcessLauncher>(options);
  }
  if (options_.warm && options_.steps == nullptr) {
    const int per_lane = (options_.jobs + static_cast<int>(options_.lanes.size()) - 1) /
                         static_cast<int>(options_.lanes.size());
    warm_ = std::make_unique<WarmPool>(options, std::clamp(per_lane / 2, 1, 4));
  }
  lane_jobs_.assign(options_.lanes.size(), 0);
  lane_closers_.assign(options_.lanes.size(), 0);
  lane_bytes_.assign(options_.lanes.size(), 0.0);
  // Before the disk's free space is counted: what ended engines left takes none of it then.
  if (options_.steps == nullptr) left_behind_ = RemoveFilesOfEndedEngines(options);
  disk_budget_ = options_.disk_bytes;
  if (disk_budget_ < 0) {
    std::error_code ec;
    fs::create_directories(options.scratch_dir, ec);
    const fs::space_info space = fs::space(options.scratch_dir, ec);
    disk_budget_ = ec ? 0 : 0.9 * static_cast<double>(space.available);
  }
  holds_.resize(options_.lanes.size());
  use_.resize(options_.lanes.size());
  for (size_t i = 0; i < options_.lanes.size(); ++i) use_[i].label = options_.lanes[i].label;
  for (int i = 0; i < options_.jobs; ++i) threads_.emplace_back([this] { Work(); });
}

Runner::~Runner() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  for (auto& thread : threads_) thread.join();
}

void Runner::SetAdmit(Admit admit) {
  std::lock_guard<std::mutex> lock(mutex_);
  admit_ = std::move(admit);
}

void Runner::Submit(RunnerJob job, Done done) {
  Pending pending;
  pending.job = std::move(job);
  pending.done = std::move(done);
  // A cluster's steps run on its nodes: no GPU or disk of this machine to count.
  if (options_.steps == nullptr && pending.job.task != nullptr) {
    const Task& task = *pending.job.task;
    const WorkerOptions& options = pending.job.options != nullptr ? *pending.job.options : worker_;
    const CheckPlanShape plan{CheckSizesFor(task, options),
                              static_cast<int>(CheckSeedsFor(task, options).size()),
                              options.run_seed != 0};
    pending.gpu_with_reference = JobGpuBytes(task, pending.job.impl.kind, true);
    pending.gpu_without = JobGpuBytes(task, pending.job.impl.kind, false);
    pending.disk_with_reference = JobDiskBytes(task, plan, true);
    pending.disk_without = JobDiskBytes(task, plan, false);
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    ++active_;
    queue_.push_back(std::move(pending));
  }
  changed_.notify_all();
}

RunnerOutcome Runner::Run(RunnerJob job) {
  std::mutex mutex;
  std::condition_variable ended;
  bool finished = false;
  RunnerOutcome outcome;
  Submit(std::move(job), [&](const RunnerJob&, RunnerOutcome got) {
    std::lock_guard<std::mutex> lock(mutex);
    outcome = std::move(got);
    finished = true;
    ended.notify_all();
  });
  std::unique_lock<std::mutex> lock(mutex);
  ended.wait(lock, [&] { return finished; });
  return outcome;
}

void Runner::Drain() {
  std::unique_lock<std::mutex> lock(mutex_);
  idle_.wait(lock, [&] { return active_ == 0; });
}

int Runner::PickLane(double bytes) const {
  int best = -1;
  for (size_t i = 0; i < lane_jobs_.size(); ++i) {
    if (lane_closers_[i] > 0) continue;
    const double budget = 0.8 * options_.lanes[i].memory_bytes;
    if (bytes >= 0 && budget > 0 && lane_jobs_[i] > 0 && lane_bytes_[i] + bytes > budget) continue;
    if (best < 0 || lane_jobs_[i] < lane_jobs_[static_cast<size_t>(best)]) {
      best = static_cast<int>(i);
    }
  }
  return best;
}

double Runner::GpuBytes(const Pending& pending) const {
  return JobBytes(pending.job.task != nullptr ? pending.job.task->name : "", pending.job.impl.kind,
                  pending.gpu_with_reference, pending.gpu_without);
}

double Runner::DiskBytes(const Pending& pending) const {
  const bool kept =
      pending.job.task != nullptr && reference_counted_.count(pending.job.task->name) > 0;
  return kept ? pending.disk_without : pending.disk_with_reference;
}

int Runner::NextToStart() {
  if (PickLane(-1) < 0) return -1;  // every lane is closed for a job running alone
  const auto now = std::chrono::steady_clock::now();
  const size_t searched = queue_.front().overtaken >= kMaxOvertakes * options_.jobs
                              ? 1
                              : std::min(queue_.size(), kSearched);
  for (size_t i = 0; i < searched; ++i) {
    Pending& pending = queue_[i];
    if (pending.alone != 0) {
      if (AloneLane(pending.alone == 'd') >= 0) return static_cast<int>(i);
      continue;
    }
    const bool memory = PickLane(GpuBytes(pending)) >= 0;
    const bool disk = DiskFits(DiskBytes(pending));
    if (memory && disk) return static_cast<int>(i);
    if (pending.waits_for == 0) {
      pending.waits_for = memory ? 'd' : 'm';
      pending.waits_since = now;
    }
  }
  return -1;
}

void Runner::Work() {
  for (;;) {
    std::unique_lock<std::mutex> lock(mutex_);
    int index = -1;
    changed_.wait(lock, [&] {
      if (queue_.empty()) return stopping_;
      // An interrupted run starts nothing: each job is taken at once, to be told so.
      index = Interrupted() ? 0 : NextToStart();
      return index >= 0;
    });
    if (index < 0) return;  // stopping, and nothing left
    Pending queued = std::move(queue_[static_cast<size_t>(index)]);
    queue_.erase(queue_.begin() + index);
    if (index > 0) ++queue_.front().overtaken;
    bool start = !Interrupted();
    if (start && !queued.admitted) {
      // Outside the lock: `admit` may take the caller's own, which its `done` holds to submit.
      const Admit admit = admit_;
      lock.unlock();
      start = !admit || admit(queued.job);
      queued.admitted = start;
      lock.lock();
      if (start && !Interrupted() &&
          (PickLane(GpuBytes(queued)) < 0 || !DiskFits(DiskBytes(queued)))) {
        // Another job took the room meanwhile: back to the queue's head, to start next.
        queue_.push_front(std::move(queued));
        continue;
      }
      start = start && !Interrupted();
    }
    if (start && queued.alone != 0 && AloneLane(queued.alone == 'd') < 0) {
      // NextToStart found it an empty lane under this same lock; should that ever not hold, it
      // waits.
      queue_.push_front(std::move(queued));
      continue;
    }
    CountWait(queued);
    const int id = next_id_++;
    RunnerOutcome outcome;
    int lane = 0;
    // What the job counts against its GPU's memory while it runs, and of that, its task's reference
    // until the reference is there.
    double bytes = 0;
    double reference_bytes = 0;
    double job_disk = 0;  // its outputs' estimate on the scratch disk
    char again = 0;       // it runs again alone: why (Pending::alone)
    if (start) {
      const Task& task = *queued.job.task;
      bytes = GpuBytes(queued);
      if (reference_counted_.count(task.name) == 0) {
        reference_disk_[task.name] = queued.disk_with_reference - queued.disk_without;
        disk_used_ += queued.disk_with_reference - queued.disk_without;
      }
      disk_used_ += queued.disk_without;
      if (reference_counted_.insert(task.name).second) reference_bytes = bytes - queued.gpu_without;
      job_disk = queued.disk_without;
      lane = queued.alone != 0 ? AloneLane(queued.alone == 'd') : PickLane(bytes);
      ++lane_jobs_[static_cast<size_t>(lane)];
      lane_bytes_[static_cast<size_t>(lane)] += bytes;
      std::string note;
      if (queued.alone != 0) {
        for (const size_t i : Closes(queued.alone, lane)) ++lane_closers_[i];
        note = queued.alone == 'd' ? "runs alone (the scratch disk was full beside other jobs)"
                                   : "runs alone (out of GPU memory beside other jobs)";
      }
      running_[id] = {queued.job.label, lane, std::chrono::steady_clock::now(), {}, note};
    }
    // What it was admitted by, for its record beside the steps' measured peaks (gpu_peak_mib), and
    // whether an ended job's peak (LearnGpuPeak) set it rather than the estimate.
    const double admitted_gpu_mib = bytes / (1024.0 * 1024.0);
    const double admitted_reference_mib = reference_bytes / (1024.0 * 1024.0);
    const bool admitted_by_measured =
        start && queued.job.task != nullptr &&
        measured_gpu_bytes_.count(PeakKey(queued.job.task->name, queued.job.impl.kind)) > 0 &&
        measured_gpu_bytes_.at(PeakKey(queued.job.task->name, queued.job.impl.kind)) >
            queued.gpu_without;
    lock.unlock();
    outcome.lane = lane;
    // Alone for want of GPU memory: the GPU's pre-started processes (a CUDA context each) end until
    // it has ended (run/warm_pool.h).
    const bool pauses_warm = start && queued.alone == 'm' && warm_ != nullptr;
    const std::string& lane_devices = options_.lanes[static_cast<size_t>(lane)].devices;
    const int ready_ended = pauses_warm ? warm_->Pause(lane_devices) : 0;

    if (start) {
      JobContext context;
      context.options = queued.job.options != nullptr ? queued.job.options : &worker_;
      if (options_.steps != nullptr) {
        context.candidate = context.trusted = options_.steps;
      } else {
        context.candidate = warm_ ? static_cast<Launcher*>(warm_.get()) : fresh_.get();
        context.trusted = trusted_.get();
      }
      context.references = &references_;
      // Out of GPU memory beside others: alone now, and its reference (if it is the one to make
      // it) before its candidate step rather than beside it.
      context.reference_first = queued.alone == 'm';
      context.lane = &options_.lanes[static_cast<size_t>(lane)];
      const std::string task_name = queued.job.task->name;
      const bool counts_reference = reference_bytes > 0;
      context.on_reference_done = [this, lane, &bytes, &reference_bytes, task_name,
                                   counts_reference](bool remade) {
        std::lock_guard<std::mutex> held(mutex_);
        if (remade && counts_reference) {
          // Not made (out of GPU memory or disk): the task's next job to start makes it, so that
          // job counts it, on the GPU and the disk (before 2026-12-06 it did not, and attention's
          // LLM column, which made it "alone" on an H100, was admitted without it).
          reference_counted_.erase(task_name);
          const auto disk = reference_disk_.find(task_name);
          if (disk != reference_disk_.end()) {
            disk_used_ -= disk->second;
            reference_disk_.erase(disk);
          }
        }
        lane_bytes_[static_cast<size_t>(lane)] -= reference_bytes;
        bytes -= reference_bytes;
        reference_bytes = 0;
        changed_.notify_all();
      };
      context.on_candidate_dir = [this, id](const fs::path& dir) {
        std::lock_guard<std::mutex> held(mutex_);
        auto found = running_.find(id);
        if (found != running_.end()) found->second.status_file = dir / "lane-status";
      };
      const auto began = std::chrono::steady_clock::now();
      outcome.result = RunJob(*queued.job.task, queued.job.impl, context, queued.job.process);
      outcome.ran = true;
      if (!outcome.result.environment.is_object()) {
        outcome.result.environment = nlohmann::json::object();
      }
      // The runner's estimate of the job's GPU memory (core/task_lint.h JobGpuBytes), with its
      // task's reference when this job counted it, beside what the steps held at most.
      outcome.result.environment["admitted_gpu_mib"] = {
          {"job", std::round(admitted_gpu_mib * 10) / 10},
          {"of_it_reference", std::round(admitted_reference_mib * 10) / 10},
          {"by", admitted_by_measured ? "an ended job's peak" : "the estimate"}};
      if (queued.alone != 0) {
        JobResult& result = outcome.result;
        if (!result.environment.is_object()) result.environment = nlohmann::json::object();
        result.environment["rerun_alone"] = {
            {"why", queued.alone == 'd' ? "the scratch disk was full while other jobs shared it"
                                        : "out of GPU memory while other jobs shared the GPU"},
            {"first_status", std::string(StatusName(queued.first.status))},
            {"first_message", queued.first.message.substr(0, 500)},
            {"waited_s", std::chrono::duration<double>(began - queued.alone_since).count()}};
        if (pauses_warm) result.environment["rerun_alone"]["ready_processes_ended"] = ready_ended;
      } else if (options_.jobs > 1 && options_.steps == nullptr && !Interrupted()) {
        // Not for a cluster's steps: their lanes are no GPUs of this machine (Slurm places each
        // step, with --slurm-gres on a GPU of its own), so emptying a lane frees no GPU memory.
        if (OutOfGpuMemory(outcome.result)) {
          again = 'm';
        } else if (OutOfScratchDisk(outcome.result)) {
          again = 'd';
        }
      }
    } else {
      outcome.result.status = Status::kUnavailable;
      outcome.result.message = Interrupted() ? "not run: the run was interrupted"
                                             : "not run: not admitted";
    }
    if (pauses_warm) warm_->Resume(lane_devices);

    lock.lock();
    if (start) {
      // Read before the job's entry goes: an interrupted job's line says what it was doing.
      const auto entry = running_.find(id);
      if (entry != running_.end() && !entry->second.status_file.empty()) {
        std::string text, err;
        if (ReadRegularFile(entry->second.status_file, &text, &err, 4096)) {
          outcome.last_status = text.substr(0, text.find('\n'));
        }
      }
      running_.erase(id);
      LearnGpuPeak(queued.job.task != nullptr ? queued.job.task->name : "", queued.job.impl.kind,
                   outcome.result);
      if (queued.alone != 0) {
        for (const size_t i : Closes(queued.alone, lane)) --lane_closers_[i];
      }
      if (again == 'd' && disk_budget_ > 0) {
        disk_budget_ = std::min(disk_budget_, 0.75 * disk_used_);
      }
      --lane_jobs_[static_cast<size_t>(lane)];
      lane_bytes_[static_cast<size_t>(lane)] -= bytes;
      disk_used_ -= job_disk;
      if (again != 0) {
        // Back to the queue's end, to run alone; its first run is neither counted nor handed back.
        queued.alone = again;
        queued.first = std::move(outcome.result);
        queued.alone_since = std::chrono::steady_clock::now();
        queued.waits_for = 0;
        queued.overtaken = 0;
        queue_.push_back(std::move(queued));
        ++reruns_alone_;
        changed_.notify_all();
        continue;
      }
      Account(lane, outcome.result);
      changed_.notify_all();
    }
    lock.unlock();
    queued.done(queued.job, std::move(outcome));
    lock.lock();
    if (--active_ == 0) idle_.notify_all();
  }
}

void Runner::CountWait(const Pending& pending) {
  if (pending.waits_for == 0) return;
  const double waited =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - pending.waits_since).count();
  if (pending.waits_for == 'm') {
    ++memory_waits_;
    memory_wait_s_ += waited;
  } else {
    ++disk_waits_;
    disk_wait_s_ += waited;
  }
}

int Runner::AloneLane(bool every) const {
  int found = -1;
  for (size_t i = 0; i < lane_jobs_.size(); ++i) {
    if (lane_jobs_[i] > 0 || lane_closers_[i] > 0) {
      if (every) return -1;
      continue;
    }
    if (found < 0) found = static_cast<int>(i);
  }
  return found;
}

std::vector<size_t> Runner::Closes(char why, int lane) const {
  if (why != 'd') return {static_cast<size_t>(lane)};
  std::vector<size_t> every;
  for (size_t i = 0; i < lane_jobs_.size(); ++i) every.push_back(i);
  return every;
}

void Runner::Account(int lane, const JobResult& result) {
  auto& holds = holds_[static_cast<size_t>(lane)];
  LaneUse& use = use_[static_cast<size_t>(lane)];
  ++use.jobs;
  // A cluster's node holds no lane of this machine, and its clock is not this one's.
  if (options_.steps != nullptr || !result.environment.is_object()) return;
  for (const char* key : {"lane", "reference_lane", "compare_lane"}) {
    const auto found = result.environment.find(key);
    if (found != result.environment.end()) AddHolds(*found, &holds, &use);
  }
}

std::vector<RunningJob> Runner::Running() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<RunningJob> out;
  for (const auto& [id, job] : running_) out.push_back(job);
  return out;
}

size_t Runner::Queued() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return queue_.size();
}

std::vector<std::string> Runner::Waits() const {
  constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<std::string> lines;
  if (queue_.empty()) return lines;
  int running = 0;
  for (const int jobs : lane_jobs_) running += jobs;
  // Lanes closed while a job runs alone on them: nothing else starts there until it ends.
  std::string alone;
  for (const auto& [id, job] : running_) {
    if (!job.note.empty()) alone += (alone.empty() ? "" : ", ") + job.label;
  }
  for (size_t i = 0; i < options_.lanes.size(); ++i) {
    if (lane_closers_[i] > 0) {
      lines.push_back(fmt::format("{} takes no other job while {} runs alone",
                                  options_.lanes[i].label, alone.empty() ? "a job" : alone));
    }
  }
  // Jobs that wait to run alone, for an empty lane.
  int waiting_alone = 0;
  std::string first_alone;
  for (const Pending& pending : queue_) {
    if (pending.alone == 0) continue;
    if (waiting_alone++ == 0) {
      first_alone =
          fmt::format("{} ({})", pending.job.label,
                      pending.alone == 'd' ? "found the scratch disk full beside other jobs"
                                           : "out of GPU memory beside other jobs");
    }
  }
  if (waiting_alone > 0) {
    lines.push_back(fmt::format("{} wait{} to run again alone, once {} no job: {}", waiting_alone,
                                waiting_alone == 1 ? "s" : "",
                                options_.lanes.size() == 1 ? "the lane has" : "a lane has",
                                first_alone));
  }
  // As NextToStart looks: the queue's head alone once it has been overtaken often enough.
  const bool head_only = queue_.front().overtaken >= kMaxOvertakes * options_.jobs;
  const size_t searched = head_only ? 1 : std::min(queue_.size(), kSearched);
  int memory = 0, disk = 0, ready = 0;
  const Pending* first_memory = nullptr;
  const Pending* first_disk = nullptr;
  double memory_need = 0, disk_need = 0;
  for (size_t i = 0; i < searched; ++i) {
    const Pending& pending = queue_[i];
    if (pending.alone != 0) continue;  // said above
    const double gpu = GpuBytes(pending);
    const double files = DiskBytes(pending);
    if (PickLane(gpu) < 0) {
      if (first_memory == nullptr) {
        first_memory = &pending;
        memory_need = gpu;
      }
      ++memory;
    } else if (!DiskFits(files)) {
      if (first_disk == nullptr) {
        first_disk = &pending;
        disk_need = files;
      }
      ++disk;
    } else {
      ++ready;
    }
  }
  if (head_only && queue_.size() > 1) {
    lines.push_back(
        fmt::format("{} has been overtaken {} times: the {} jobs behind it wait for it "
                    "to start",
                    queue_.front().job.label, queue_.front().overtaken, queue_.size() - 1));
  }
  if (memory > 0) {
    std::string counted;
    for (size_t i = 0; i < options_.lanes.size(); ++i) {
      counted +=
          fmt::format("{}{} counts {:.1f} of {:.1f} GiB for {} jobs", counted.empty() ? "" : ", ",
                      options_.lanes[i].label, lane_bytes_[i] / kGiB,
                      0.8 * options_.lanes[i].memory_bytes / kGiB, lane_jobs_[i]);
    }
    lines.push_back(fmt::format("{} wait for GPU memory: the first, {}, needs {:.1f} GiB; {}",
                                memory, first_memory->job.label, memory_need / kGiB, counted));
  }
  if (disk > 0) {
    std::string kept;
    for (const auto& [task, bytes] : reference_disk_) {
      if (bytes > 0) {
        kept += fmt::format("{}{} {:.1f}", kept.empty() ? "" : ", ", task, bytes / kGiB);
      }
    }
    lines.push_back(fmt::format(
        "{} wait for room on the scratch disk: the first, {}, needs {:.1f} GiB; {:.1f} of {:.1f} "
        "GiB counted for {} running jobs and the references kept{}",
        disk, first_disk->job.label, disk_need / kGiB, disk_used_ / kGiB, disk_budget_ / kGiB,
        running, kept.empty() ? "" : " (" + kept + " GiB)"));
  }
  if (ready > 0 && running >= options_.jobs) {
    lines.push_back(fmt::format("{} wait for one of the {} jobs in progress to end (--jobs {})",
                                ready, running, options_.jobs));
  }
  return lines;
}

bool Runner::DiskFits(double bytes) const {
  int running = 0;
  for (const int jobs : lane_jobs_) running += jobs;
  return disk_budget_ <= 0 || running == 0 || disk_used_ + bytes <= disk_budget_;
}

void Runner::RemoveReferences(const std::string& task) {
  references_.RemoveMade(task);
  std::lock_guard<std::mutex> lock(mutex_);
  for (auto it = reference_disk_.begin(); it != reference_disk_.end();) {
    if (task.empty() || it->first == task) {
      disk_used_ -= it->second;
      it = reference_disk_.erase(it);
    } else {
      ++it;
    }
  }
  changed_.notify_all();
}

std::string Runner::PeakKey(const std::string& task, ImplKind kind) {
  // The baseline and torch.compile of it run the task's PyTorch, which may materialise what a
  // kernel does not (attention's score matrices: 71 GiB against 6 for the expert, on the H100);
  // an expert's, an LLM's or a candidate's Triton hold alike.
  return task + (RunsTaskPyTorch(kind) ? "\x1f"
                                         "pytorch"
                                       : "\x1f"
                                         "kernels");
}

double Runner::JobBytes(const std::string& task, ImplKind kind, double with_reference,
                        double without) const {
  const auto measured = measured_gpu_bytes_.find(PeakKey(task, kind));
  const double own =
      measured != measured_gpu_bytes_.end() ? std::max(without, measured->second) : without;
  return reference_counted_.count(task) > 0 ? own : with_reference - without + own;
}

void Runner::LearnFromStored(const std::string& task, ImplKind kind, const JobResult& result) {
  std::lock_guard<std::mutex> lock(mutex_);
  LearnGpuPeak(task, kind, result);
}

void Runner::LearnGpuPeak(const std::string& task, ImplKind kind, const JobResult& result) {
  if (kind == ImplKind::kLlm || kind == ImplKind::kCandidate) return;
  if (task.empty() || !result.environment.is_object()) return;
  double mib = 0;
  for (const char* field : {"gpu_peak_mib", "compare_gpu_peak_mib"}) {
    const auto found = result.environment.find(field);
    if (found != result.environment.end() && found->is_number()) mib += found->get<double>();
  }
  if (mib <= 0) return;
  double& most = measured_gpu_bytes_[PeakKey(task, kind)];
  most = std::max(most, mib * 1024 * 1024);
}

bool Runner::KeepsReady(const fs::path& dir) const { return warm_ && warm_->Holds(dir); }

RunnerStats Runner::Stats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  RunnerStats stats;
  const auto now = std::chrono::steady_clock::now();
  stats.wall_s = std::chrono::duration<double>(now - started_).count();
  for (size_t i = 0; i < use_.size(); ++i) {
    LaneUse use = use_[i];
    use.busy_s = UnionLength(holds_[i], MonotonicSeconds(started_), MonotonicSeconds(now));
    stats.lanes.push_back(use);
  }
  stats.memory_waits = memory_waits_;
  stats.memory_wait_s = memory_wait_s_;
  stats.disk_waits = disk_waits_;
  stats.disk_wait_s = disk_wait_s_;
  stats.reruns_alone = reruns_alone_;
  stats.left_behind = left_behind_;
  for (const Pending& pending : queue_) {  // still waiting: counted up to now
    if (pending.waits_for == 0) continue;
    const double waited = std::chrono::duration<double>(now - pending.waits_since).count();
    (pending.waits_for == 'm' ? stats.memory_waits : stats.disk_waits) += 1;
    (pending.waits_for == 'm' ? stats.memory_wait_s : stats.disk_wait_s) += waited;
  }
  if (warm_) {
    stats.warm_claims = warm_->warm_claims();
    stats.fresh_claims = warm_->fresh_claims();
  }
  return stats;
}

}  // namespace tritonize

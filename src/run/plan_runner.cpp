#include "run/plan_runner.h"

#include <fmt/format.h>

#include <chrono>
#include <iostream>
#include <map>
#include <mutex>
#include <set>

#include "exec/subprocess.h"
#include "run/job.h"
#include "run/progress.h"
#include "store/store.h"

namespace tritonize {
namespace {

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
    return {job.task->name, job.impl.name, job.process > 0};
  }
  std::chrono::steady_clock::time_point started_;
  std::map<std::tuple<std::string, std::string, bool>, double> last_;
  double longest_ = 0;
};

bool Failed(const JobResult& result) {
  return result.status != Status::kOk && result.status != Status::kUnavailable;
}

std::string Label(const PlannedJob& job) {
  return fmt::format("{} {}{}", job.task->name, job.impl.name,
                     job.process > 0 ? fmt::format(" (repeat {})", job.process + 1) : "");
}

/// The pass's state, shared by the runner's threads under one mutex.
class PlanRun {
 public:
  PlanRun(BenchPlan* plan, Runner& runner, const PlanRunOptions& options)
      : plan_(*plan), runner_(runner), options_(options), done_(plan->jobs.size(), false),
        waiting_(plan->jobs.size(), false), lane_(plan->jobs.size()) {}

  bool Run(PlanRunEnd* end) {
    Link();
    runner_.SetAdmit([this](const RunnerJob& job) { return Admit(job); });
    {
      std::lock_guard<std::mutex> lock(mutex_);
      // Repeats start with their first process, not after it: a job's critical path is then
      // one process, not two. A repeat whose first process fails takes its verdict instead.
      for (size_t i = 0; i < plan_.jobs.size(); ++i) {
        if (twin_of_[i] >= 0) continue;  // takes the verdict of the job it is a copy of
        if (!LoadStored(i)) Submit(i);
      }
    }
    runner_.Drain();
    runner_.SetAdmit(nullptr);
    std::lock_guard<std::mutex> lock(mutex_);
    for (size_t i = 0; i < plan_.jobs.size(); ++i) {
      if (twin_of_[i] >= 0 && done_[static_cast<size_t>(twin_of_[i])] && !done_[i]) {
        plan_.jobs[i].result = plan_.jobs[static_cast<size_t>(twin_of_[i])].result;
        done_[i] = true;
      }
      if (!done_[i]) {
        NotRun(i, disk_full_.count(i) > 0 ? "the scratch disk was full, with no other job beside it"
                  : stop_                 ? "--stop-after was reached"
                                          : "the run was interrupted");
      }
    }
    end->stopped = stop_;
    end->disk_full = static_cast<int>(disk_full_.size());
    return all_ok_;
  }

 private:
  /// Which job each one follows: a later repeat its first process, a sample its twin.
  void Link() {
    const size_t n = plan_.jobs.size();
    twin_of_.assign(n, -1);
    first_of_.assign(n, -1);
    for (size_t i = 0; i < n; ++i) {
      const PlannedJob& job = plan_.jobs[i];
      for (size_t k = 0; k < i; ++k) {
        const PlannedJob& other = plan_.jobs[k];
        if (other.task != job.task) continue;
        if (job.process > 0 && other.process == 0 && other.impl.name == job.impl.name &&
            other.impl.content_hash == job.impl.content_hash && first_of_[i] < 0) {
          first_of_[i] = static_cast<int>(k);
        }
        // A sample's file identical to one run before it (the primary candidate is a copy of
        // sample 0's latest turn): same verdict.
        if (job.impl.kind == ImplKind::kLlm && !job.impl.content_hash.empty() &&
            other.impl.kind == ImplKind::kLlm && other.process == job.process &&
            other.impl.content_hash == job.impl.content_hash && twin_of_[i] < 0 &&
            twin_of_[k] < 0) {
          twin_of_[i] = static_cast<int>(k);
        }
      }
      if (twin_of_[i] >= 0) first_of_[i] = -1;
    }
  }

  bool LoadStored(size_t i) {
    PlannedJob& job = plan_.jobs[i];
    if (options_.stored == nullptr || options_.store == nullptr) return false;
    auto found =
        options_.stored->find({job.task->name, job.impl.name, job.impl.content_hash, job.process});
    std::string err;
    if (found == options_.stored->end() ||
        !options_.store->LoadJobResult(found->second, &job.result, &err)) {
      return false;
    }
    clock_.Took(job, job.result.wall_s);
    runner_.LearnFromStored(job.task->name, job.impl.kind, job.result);
    if (Failed(job.result)) all_ok_ = false;
    ++finished_;
    Line(fmt::format("{}: {} (stored, job {})", Label(job), StatusName(job.result.status),
                     found->second));
    Finished(i);
    return true;
  }

  void Submit(size_t i) {
    const PlannedJob& job = plan_.jobs[i];
    ++open_by_task_[job.task->name];
    RunnerJob task_job{job.task, job.impl, job.process, Label(job), static_cast<int64_t>(i)};
    runner_.Submit(std::move(task_job), [this, i](const RunnerJob&, RunnerOutcome outcome) {
      std::lock_guard<std::mutex> lock(mutex_);
      Ended(i, std::move(outcome));
    });
  }

  bool Admit(const RunnerJob& job) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stop_) return false;
    if (options_.stop_after_s <= 0) return true;
    const PlannedJob& planned = plan_.jobs[static_cast<size_t>(job.tag)];
    const double expected = clock_.Expected(planned);
    if (clock_.Elapsed() + expected <= options_.stop_after_s) return true;
    Note(fmt::format("{}: not started: {:.0f} s elapsed, about {:.0f} s expected, --stop-after {:g}",
                     Label(planned), clock_.Elapsed(), expected, options_.stop_after_s));
    stop_ = true;  // and no later job either: --resume takes them in order
    return false;
  }

  void Ended(size_t i, RunnerOutcome outcome) {
    PlannedJob& job = plan_.jobs[i];
    TaskJobEnded(job.task->name);
    if (!outcome.ran || Interrupted()) {
      // Not started, or cut short: storing it would make --resume keep a "crashed" job.
      if (outcome.ran) {
        Note(fmt::format("{}: interrupted after {:.0f} s{} (not stored: --resume runs it again)",
                         Label(job), outcome.result.wall_s,
                         outcome.last_status.empty() ? "" : ", while: " + outcome.last_status));
      }
      return;  // NotRun at the end
    }
    if (OutOfScratchDisk(outcome.result)) {
      // It ran with no other job beside it (the runner runs a job that found the disk full beside
      // others again alone), so the disk is full of what is not the job's: the machine's state,
      // not the implementation's verdict (the H100, 2026-12-05: eight jobs stored runtime_error,
      // "SafetensorError: ... No space left on device"). Not stored: --resume runs it again.
      disk_full_.insert(i);
      all_ok_ = false;
      Note(fmt::format(
          "{}: the scratch disk was full, with no other job of this run beside it "
          "(not stored, not the implementation's verdict: make room on the disk of "
          "{} and --resume runs it again): {}",
          Label(job), runner_.scratch_dir().string(), outcome.result.message.substr(0, 300)));
      return;  // NotRun at the end
    }
    job.result = std::move(outcome.result);
    for (Timing& timing : job.result.timings) timing.process = job.process;
    clock_.Took(job, job.result.wall_s);
    lane_[i] = runner_.lanes().size() > 1
                   ? ", " + runner_.lanes()[static_cast<size_t>(outcome.lane)].label
                   : "";
    const int first = first_of_[i];
    if (first >= 0 && !done_[static_cast<size_t>(first)]) {
      waiting_[i] = true;  // stored once its first process has ended ok
      return;
    }
    Settle(i);
  }

  /// A job that ran: stored, or, for a repeat of a failed first process, that verdict instead.
  void Settle(size_t i) {
    PlannedJob& job = plan_.jobs[i];
    waiting_[i] = false;
    const int first_index = first_of_[i];
    if (first_index >= 0) {
      const JobResult& first = plan_.jobs[static_cast<size_t>(first_index)].result;
      if (first.status != Status::kOk) {
        job.result = first;  // nothing to time: the first process's verdict stands
        job.result.timings.clear();
        job.result.process = job.process;
        job.skipped = true;
        ++finished_;
        Finished(i);
        return;
      }
    }
    const std::string& lane = lane_[i];
    std::string err;
    const int64_t replaces = Replaces(job);
    if (options_.store != nullptr &&
        !options_.store->RecordJob(options_.run_id, *job.task, job.impl, job.result, &err,
                                   replaces)) {
      Note("tritonize: error: " + err);
      all_ok_ = false;
      stop_ = true;  // nothing more is run that could not be stored
      return;
    }
    if (Failed(job.result)) all_ok_ = false;
    ++finished_;
    Line(fmt::format("{}: {} ({:.1f} s{}{}){}", Label(job), StatusName(job.result.status),
                     job.result.wall_s, lane,
                     replaces != 0 ? fmt::format(", replaces job {}", replaces) : "",
                     job.result.message.empty() ? "" : ": " + job.result.message));
    Finished(i);
  }

  /// The stored job this one runs again (--rerun), or 0; its verdict goes into the new job's
  /// environment, so the store keeps what it said.
  int64_t Replaces(PlannedJob& job) {
    if (options_.rerun == nullptr || options_.store == nullptr) return 0;
    const auto found =
        options_.rerun->find({job.task->name, job.impl.name, job.impl.content_hash, job.process});
    if (found == options_.rerun->end()) return 0;
    JobResult old;
    std::string err;
    nlohmann::json replaced = {{"job", found->second}};
    if (options_.store->LoadJobResult(found->second, &old, &err)) {
      replaced["status"] = std::string(StatusName(old.status));
      replaced["message"] = old.message.substr(0, 500);
      replaced["wall_s"] = old.wall_s;
    }
    if (!job.result.environment.is_object()) job.result.environment = nlohmann::json::object();
    job.result.environment["replaces"] = replaced;
    return found->second;
  }

  /// Job i is done: its repeats that ended before it are settled now.
  void Finished(size_t i) {
    done_[i] = true;
    for (size_t k = 0; k < plan_.jobs.size(); ++k) {
      if (first_of_[k] == static_cast<int>(i) && waiting_[k]) Settle(k);
    }
  }

  void NotRun(size_t i, const std::string& why) {
    PlannedJob& job = plan_.jobs[i];
    job.result = JobResult();
    job.result.status = Status::kUnavailable;
    job.result.message = "not run: " + why + " (--resume finishes it)";
    job.skipped = true;
  }

  /// A finished job's line, numbered by how many are done.
  void Line(const std::string& line) { Note(fmt::format("[{}/{}] {}", finished_, plan_.jobs.size(), line)); }

  void Note(const std::string& text) {
    if (options_.progress != nullptr) {
      options_.progress->Print(text);
    } else {
      std::cerr << text << "\n";
    }
  }

  /// A task's reference files go once its last job in this engine has ended: the whole suite's
  /// would not fit the H200 machine's disk at once. Those of a task with a job not run (an
  /// interrupt, --stop-after) go too: they carry this engine's pid, and the --resume that runs the
  /// job is another engine, which makes its own (kept, they filled the H100 machine's disk over a
  /// suite's three resumed calls, 2026-12-05).
  void TaskJobEnded(const std::string& task) {
    if (--open_by_task_[task] == 0) runner_.RemoveReferences(task);
  }

  BenchPlan& plan_;
  Runner& runner_;
  std::map<std::string, int> open_by_task_;  // submitted jobs not ended, per task
  std::set<size_t> disk_full_;               // jobs that found the scratch disk full, alone
  const PlanRunOptions& options_;
  std::mutex mutex_;
  std::vector<bool> done_;
  std::vector<int> twin_of_, first_of_;
  std::vector<bool> waiting_;      // ran, waits for its first process's verdict
  std::vector<std::string> lane_;  // ", GPU n" where the job ran (several lanes)
  JobClock clock_;
  size_t finished_ = 0;
  bool all_ok_ = true;
  bool stop_ = false;
};

}  // namespace

namespace {

/// Why the lanes cannot take up a run whose stored jobs ran on `ran_on` (GPU models, as the
/// worker records them in each job's environment), or "" where they can: every lane's GPU is of
/// a model the run used. Where either side does not say (the interpreter, no nvidia-smi, a job
/// that failed before it saw the GPU), nothing is refused.
std::string OtherGpuModel(int64_t run_id, const std::set<std::string>& ran_on,
                          const std::vector<GpuLane>& lanes) {
  if (ran_on.empty()) return "";
  for (const GpuLane& lane : lanes) {
    if (lane.model.empty() || ran_on.count(lane.model) > 0) continue;
    std::string models;
    for (const auto& model : ran_on) models += (models.empty() ? "" : ", ") + model;
    return fmt::format(
        "--resume: run {}'s jobs ran on {}, and this machine's {} is an {}: a task's columns "
        "timed on two GPU models give no true ratio. Resume it on a machine with that GPU, or "
        "start a new run (without --resume); run {} stays as it is",
        run_id, models, lane.label, lane.model, run_id);
  }
  return "";
}

}  // namespace

Rerun ParseRerun(const std::string& name) {
  if (name == kRerunNames[0]) return Rerun::kOutOfMemory;
  if (name == kRerunNames[1]) return Rerun::kFailed;
  return Rerun::kNone;
}

bool RerunsStored(Rerun what, const JobResult& result) {
  switch (what) {
    case Rerun::kNone:
      return false;
    case Rerun::kOutOfMemory:
      return OutOfGpuMemory(result);
    case Rerun::kFailed:
      return Failed(result);
  }
  return false;
}

bool ResumeRun(Store* store, const std::vector<GpuLane>& lanes, WorkerOptions* worker, Rerun rerun,
               int64_t* run_id, StoredJobs* stored, StoredJobs* rerun_jobs) {
  std::string err;
  StoredRun run;
  std::vector<StoredJob> jobs;
  if (!store->LastUnfinishedRun(run_id, &err) ||
      (*run_id != 0 && (!store->Run(*run_id, &run, &err) || !store->Jobs(*run_id, &jobs, &err)))) {
    std::cerr << "tritonize: error: " << err << "\n";
    return false;
  }
  if (*run_id == 0) {
    std::cerr << "tritonize: error: --resume: " << store->path().string()
              << " has no unfinished run (every run finished); run without --resume\n";
    return false;
  }
  // Before the run is reopened: a refused --resume leaves it as it was.
  std::set<std::string> ran_on;
  std::set<int64_t> again;
  for (const auto& job : jobs) {
    JobResult result;
    if (!store->LoadJobResult(job.id, &result, &err)) {
      std::cerr << "tritonize: error: " << err << "\n";
      return false;
    }
    if (RerunsStored(rerun, result)) again.insert(job.id);
    const auto gpu = result.environment.find("gpu");
    if (gpu != result.environment.end() && gpu->is_string() && !gpu->get<std::string>().empty()) {
      ran_on.insert(gpu->get<std::string>());
    }
  }
  if (const std::string refused = OtherGpuModel(*run_id, ran_on, lanes); !refused.empty()) {
    std::cerr << "tritonize: error: " << refused << "\n";
    return false;
  }
  if (!store->ReopenRun(*run_id, &err)) {
    std::cerr << "tritonize: error: " << err << "\n";
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
    StoredJobs& into = again.count(job.id) > 0 ? *rerun_jobs : *stored;
    into[{job.task, job.implementation, job.content_hash, job.process}] = job.id;
  }
  std::cerr << fmt::format("tritonize: resuming run {} ({} jobs stored{})\n", *run_id, jobs.size(),
                           rerun == Rerun::kNone
                               ? ""
                               : fmt::format(", {} of them run again: --rerun {}", again.size(),
                                             kRerunNames[static_cast<int>(rerun) - 1]));
  return true;
}

bool RunPlan(BenchPlan* plan, Runner& runner, const PlanRunOptions& options, PlanRunEnd* end) {
  PlanRun run(plan, runner, options);
  return run.Run(end);
}

}  // namespace tritonize

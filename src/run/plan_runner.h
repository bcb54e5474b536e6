#pragma once

// A bench plan's jobs on the runner: many at once, each committed to the store as it finishes,
// repeats after their first process, --resume and --stop-after (docs/runner.md).

#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "run/plan.h"
#include "run/runner.h"

namespace tritonize {

class Store;
class Progress;

/// Jobs of an unfinished run that are already stored, by (task, implementation, content hash,
/// repeat): `--resume` keeps them and runs only the others.
using StoredJobs = std::map<std::tuple<std::string, std::string, std::string, int>, int64_t>;

/// Which stored jobs `bench --resume --rerun` runs again, by their verdict.
enum class Rerun {
  kNone,
  kOutOfMemory,  // out of GPU memory (run/job.h OutOfGpuMemory): the GPU's size or state
  kFailed,       // every verdict but ok and unavailable
};
/// The --rerun words, in the order the help lists them.
inline constexpr const char* kRerunNames[] = {"out-of-memory", "failed"};
Rerun ParseRerun(const std::string& name);  // kNone for a word not in kRerunNames
/// Whether --rerun `what` runs a job stored with `result` again.
bool RerunsStored(Rerun what, const JobResult& result);

/// --resume: the newest unfinished run in the store, its run seed (so the hidden checks are the
/// same), its timing options and its stored jobs: kept in *stored, or, those --rerun selects,
/// in *rerun, to run again and be replaced. False with a message on stderr, the run left
/// as it was, also where a lane's GPU is of another model than the one its stored jobs ran on
/// (an H100's expert against an H200's LLM is no ratio); another GPU of the same model is taken
/// (the report's footer lists the run's GPUs).
bool ResumeRun(Store* store, const std::vector<GpuLane>& lanes, WorkerOptions* worker, Rerun rerun,
               int64_t* run_id, StoredJobs* stored, StoredJobs* rerun_jobs);

struct PlanRunOptions {
  Store* store = nullptr;  // null: nothing stored
  int64_t run_id = 0;
  const StoredJobs* stored = nullptr;
  // Stored jobs run again (--rerun): each new verdict replaces the stored job in one transaction,
  // which it names in its environment ("replaces": the job, its status and message).
  const StoredJobs* rerun = nullptr;
  double stop_after_s = 0;  // > 0: start no job that would end past this many seconds
  Progress* progress = nullptr;
};

/// Runs the plan's jobs on `runner` and waits for them, in plan order, repeats with their first
/// process; a repeat is stored once its first process has ended ok (a failed first process's
/// verdict stands for its repeats, which are then not stored); an LLM sample byte-identical to
/// another job of its task shares that job's verdict. Each finished job is committed to the store
/// at once. An interrupt or --stop-after leaves the jobs not run marked so, for --resume; so does a
/// job that found the scratch disk full with no other job beside it (the disk's state, not its
/// verdict: not stored). Returns whether every job that ran was ok (or unavailable) and stored.
struct PlanRunEnd {
  bool stopped = false;  // by --stop-after
  int disk_full = 0;     // jobs not stored: the scratch disk was full with the job alone
  bool Unfinished() const { return stopped || disk_full > 0; }
};
bool RunPlan(BenchPlan* plan, Runner& runner, const PlanRunOptions& options, PlanRunEnd* end);

}  // namespace tritonize

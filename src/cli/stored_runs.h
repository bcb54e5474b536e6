#pragma once

// Runs read back from results stores: what `report`, `compare` and `leaderboard` are built
// from. Nothing is run; the samples are the ones the runs measured.
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "report/report_builder.h"
#include "run/plan.h"
#include "core/task_suite.h"
#include "report/bench_report.h"
#include "report/sample_metrics.h"
#include "store/store.h"

namespace tritonize {

/// A stored run: its record and its plan, every stored job with its result and its
/// implementation's metadata (LLM samples included), in the order it was stored.
struct LoadedRun {
  std::filesystem::path db;
  StoredRun run;
  BenchPlan plan;
  bool timed = true;  // false: an --interpret run, correctness only
};

/// A run as the command line names it: "ID" (a run of --db), "FILE" (the newest run of FILE;
/// for `leaderboard`, every run of it) or "FILE:ID".
struct RunSpec {
  std::filesystem::path db;
  int64_t run = 0;  // 0: not named
};

/// False, with an error naming the text, when it is neither. A FILE must exist.
bool ParseRunSpec(const std::string& text, const std::string& default_db, RunSpec* spec,
                  std::string* err);

/// Loads run `run_id` of `db` (0: the newest). A job of a task the suite lacks is an error
/// naming it (--root); so is a store without that run, or without any run.
bool LoadRun(const std::filesystem::path& db, int64_t run_id, const TaskSuite& suite,
             LoadedRun* out, std::string* err);

/// An unfinished run (interrupted, stopped by --stop-after, a full disk) stored only the jobs that
/// ended: each table column (baseline, expert, compile, an LLM model's) that some task of the run
/// has and another lacks gets an `unavailable` job there saying it was not run, instead of the
/// report's "not requested" (which would tell the reader the column was never asked for). A
/// finished run is left as it is.
void MarkColumnsNotRun(LoadedRun* run);

/// Every run of `db`, oldest first, leaving out runs that stored no job.
bool LoadAllRuns(const std::filesystem::path& db, const TaskSuite& suite,
                 std::vector<LoadedRun>* out, std::string* err);

/// The run's tables as `bench` built them, with the timing options it recorded (a note on
/// stderr when it predates them) and the ceilings of `calibration` (empty: the default cache).
BenchReport ReportOfRun(const LoadedRun& run, const std::string& calibration);

/// pass@k, fast_p and the rest per model and task, from the run's sample jobs.
std::vector<SampleMetrics> SampleMetricsOfRun(const LoadedRun& run);

/// "Run 3 of results.db, started 2026-11-25T10:00:00Z (finished): tritonize bench ..."
std::string RunHeading(const LoadedRun& run);

/// "run 3 of results.db"
std::string RunName(const LoadedRun& run);

/// The GPUs the run's jobs ran on: uuid -> the GPU's name. Jobs that did not record a uuid
/// (older workers, --interpret) are not counted.
std::map<std::string, std::string> RunGpus(const LoadedRun& run);

/// One run made of several, for the leaderboard: every run's processes of a column pooled
/// where its code (content hash) is the newest run's; each LLM sample once, the newest run's.
/// `runs` oldest first. *notes says what was left out and why.
LoadedRun PoolRuns(const std::vector<LoadedRun>& runs, std::vector<std::string>* notes);

}  // namespace tritonize

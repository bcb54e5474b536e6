#pragma once

// What `bench` plans and runs, and the report built from it: shared by `bench`, which runs
// the jobs, and `report`, which loads them from the store.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "core/implementation.h"
#include "core/job.h"
#include "core/task.h"
#include "exec/worker.h"
#include "report/bench_report.h"
#include "report/sample_metrics.h"

namespace tritonize {

/// One job to run and, once run, its result.
struct PlannedJob {
  const Task* task;
  Implementation impl;
  JobResult result;
  int repeat = 0;        // which of --repeat's fresh processes
  bool skipped = false;  // not run: a repeat of a failed job, or after an interrupt
};

struct BenchPlan {
  std::vector<const Task*> tasks;
  std::vector<std::string> models;  // LLM model ids, one table per task and model
  bool baseline = false, expert = false, llm = false, compile = false;
  int repeats = 1;
  std::vector<PlannedJob> jobs;
};

/// Every repeat's result of one implementation of one task, in repeat order.
std::vector<const JobResult*> FindResults(const BenchPlan& plan, const Task* task,
                                          const std::string& name);

/// Per model and task with samples: pass@k, fast_p and the rest (report/sample_metrics.h).
std::vector<SampleMetrics> BuildSampleMetrics(const BenchPlan& plan, bool timed);

/// The tables of every task and model, the roofline against the GPU's spec and the ceilings
/// cached by `calibrate` (`calibration`, empty: the default cache), the intervals widened by
/// the run's pooled process spread, and the method footer.
BenchReport BuildReport(const BenchPlan& plan, bool timed, const WorkerOptions& worker,
                        const std::string& calibration);

/// The options a run is measured with, as its stored environment keeps them
/// ("timing_options"): what the method footer states and what `--resume` goes on with.
nlohmann::json TimingOptionsToJson(const WorkerOptions& worker);
/// Sets them from a run's stored environment; false, leaving *worker as it was, when the run
/// predates them. A run that lacks only compile_mode used Inductor's default mode.
bool ReadTimingOptions(const nlohmann::json& run_environment, WorkerOptions* worker);

/// `--calibration FILE`: the ceilings cache BuildReport reads, for every command that builds one.
void AddCalibrationOption(CLI::App* app, std::string* calibration);

/// `--json`: the report, the sample metrics and every job run (not the skipped repeats).
/// False with a message on stderr when the file cannot be written.
bool WriteBenchJson(const std::filesystem::path& path, const BenchReport& report,
                    const std::vector<SampleMetrics>& sample_metrics, const BenchPlan& plan,
                    int64_t run_id, const std::filesystem::path& db);

}  // namespace tritonize

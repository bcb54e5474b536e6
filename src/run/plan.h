#pragma once

// What a bench run plans: its tasks, columns and jobs, and, once run, each job's result. Built
// by `bench` (run/plan_runner.h runs it) and by `report` (loaded from the store).

#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/implementation.h"
#include "core/job.h"
#include "core/task.h"
#include "exec/worker.h"

namespace tritonize {

/// One job to run and, once run, its result.
struct PlannedJob {
  const Task* task;
  Implementation impl;
  JobResult result;
  int process = 0;       // which of --repeat's fresh processes, 0-based (as JobResult::process)
  bool skipped = false;  // not run: a repeat of a failed job, or after an interrupt
};

struct BenchPlan {
  std::vector<const Task*> tasks;
  std::vector<std::string> models;  // LLM model ids, one table per task and model
  bool baseline = false, expert = false, llm = false, compile = false;
  int processes = 1;  // --repeat: fresh processes per table column
  std::vector<PlannedJob> jobs;
};

/// --impls: sets the plan's columns; unknown names are appended to *errors.
bool ParseImpls(const std::string& impls, BenchPlan* plan, std::vector<std::string>* errors);

/// --repeat R: every table column's job R times, each in a fresh process, the order of the
/// implementations reversed on every other repeat (B, E, L, C then C, L, E, B). LLM samples
/// (scored for pass@k, not in the tables) run once.
void RepeatJobs(BenchPlan* plan);

/// The torch.compile contender: the task's baseline, which the worker wraps in torch.compile.
Implementation CompileImplementation(const Task& task);

/// Resolves every implementation the plan's columns need, then repeats them (RepeatJobs). The
/// expert column is extracted from `tutorials` now (empty: no checkout, the column is
/// unavailable and says why), so a checkout problem shows before any GPU time is spent.
void PlanJobs(const WorkerOptions& worker, const std::filesystem::path& tutorials,
              const std::filesystem::path& tasks_dir, const std::filesystem::path& llm_dir,
              BenchPlan* plan);

/// Every repeat's result of one implementation of one task, in repeat order.
std::vector<const JobResult*> FindResults(const BenchPlan& plan, const Task* task,
                                          const std::string& name);

/// The options a run is measured with, as its stored environment keeps them
/// ("timing_options"): what the method footer states and what `--resume` goes on with.
nlohmann::json TimingOptionsToJson(const WorkerOptions& worker);
/// Sets them from a run's stored environment; false, leaving *worker as it was, when the run
/// predates them. A run that lacks only compile_mode used Inductor's default mode.
bool ReadTimingOptions(const nlohmann::json& run_environment, WorkerOptions* worker);

}  // namespace tritonize

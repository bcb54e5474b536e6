#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/job.h"
#include "core/status.h"
#include "core/task.h"
#include "stats/stats.h"

namespace tritonize {

/// One implementation at one size and mode. Only an ok cell has timings.
struct Cell {
  Status status = Status::kUnavailable;
  std::string message;
  std::optional<Summary> kernel_us;  // CUPTI kernel time per call
  std::optional<Summary> call_us;    // CUDA-event latency per call
  double first_call_s = 0;           // compile + autotune
};

/// One size and mode of a task. Ratios are speedups of kernel-time medians (higher is
/// better), set only when both cells are ok and have samples.
struct Row {
  std::string size;
  std::string mode;  // forward | backward
  Cell baseline, expert, llm;
  std::optional<double> expert_over_base;  // baseline / expert
  std::optional<double> llm_over_base;     // baseline / LLM
  std::optional<double> llm_over_expert;   // expert / LLM: 1.00x means the LLM matches
};

struct TaskTable {
  std::string task;
  std::string description;
  std::string llm_name;  // model id; empty when no LLM column was requested
  std::vector<Row> rows;
  // Geometric means of the ratio columns over the rows where the ratio is defined.
  std::optional<double> geomean_expert_over_base;
  std::optional<double> geomean_llm_over_base;
  std::optional<double> geomean_llm_over_expert;
  std::vector<std::string> notes;  // one line per failed or missing column or cell
};

struct BenchReport {
  std::vector<TaskTable> tables;
  nlohmann::json environment = nlohmann::json::object();  // the worker's environment
  std::string method;  // how things were measured, printed as the footer
  bool timed = true;   // false: correctness only (interpreter), no times
};

/// Builds one task's table. Rows are the (size, mode) pairs the jobs timed, in the task's
/// order; with no timings at all, the pairs they checked; failing that, the task's sizes and
/// modes. A job that failed fills every row of its column with its status; a null job is a
/// column that was not requested (unavailable, "not requested").
TaskTable BuildTaskTable(const Task& task, const JobResult* baseline, const JobResult* expert,
                         const JobResult* llm, const std::string& llm_name);

/// "LLM (model)", or "LLM" when the model is unnamed.
std::string LlmColumnName(const std::string& llm_name);

}  // namespace tritonize

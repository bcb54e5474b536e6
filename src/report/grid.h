#pragma once

#include <string>
#include <vector>

#include "report/bench_report.h"

namespace tritonize {

/// A table's text before layout: what each printer (plain text, Markdown) renders its own way.
struct Grid {
  std::vector<std::string> header;
  std::vector<bool> right_aligned;  // per column
  std::vector<std::vector<std::string>> rows;
  bool last_row_is_summary = false;  // the geomean row, set apart by the printers
};

/// Size | Baseline | Expert | LLM | Expert/Base | LLM/Base | LLM/Expert | Rating, kernel-time
/// medians, then a geomean row. A cell that is not ok shows its status, never a time.
Grid KernelTimeGrid(const TaskTable& table);

/// Size | Baseline | Expert | LLM with call-latency medians.
Grid CallLatencyGrid(const TaskTable& table);

/// Size | Baseline | Expert | LLM with "ok" or the status, for runs without timings.
Grid CorrectnessGrid(const TaskTable& table);

}  // namespace tritonize

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

/// Size | Baseline | Expert | LLM [| Compile] | Expert/Base | LLM/Base | LLM/Expert | 95% CI
/// [| Compile/Base] | Rating: kernel-time medians with their noise (IQR / median), ratios
/// marked + (clear win), - (clear loss), ~ (tie: the interval contains 1.0) or ! (a cell above
/// 100% of peak), then a geomean row. A cell that is not ok shows its status, never a time.
Grid KernelTimeGrid(const TaskTable& table);

/// A task with several experts: Size | Expert (<name>)... | LLM/<name>...: each expert's kernel
/// time (the kernel-time table's Expert column is the fastest at each size) and the LLM against
/// each, with a geomean row.
Grid ExpertsGrid(const TaskTable& table);
bool HasSeveralExperts(const TaskTable& table);

/// Size | Baseline | Expert | LLM [| Compile] with call-latency medians.
Grid CallLatencyGrid(const TaskTable& table);

/// Host time per call (back-to-back calls, no synchronisation), medians over the rounds.
Grid HostOverheadGrid(const TaskTable& table);

/// Achieved GB/s (memory-bound rows) or TFLOP/s, % of the spec roofline, [% of the measured
/// ceilings], IMPOSSIBLE above 100% of the spec peak.
Grid RooflineGrid(const TaskTable& table);

/// Wall time of the first call at each size: compile and autotune.
Grid FirstCallGrid(const TaskTable& table);

/// Whether any cell of the table has a roofline (the GPU and the costs were known).
bool HasRoofline(const TaskTable& table);
/// The notes under the throughput grid for its cells marked ^ (above the measured ceiling): one
/// for GB/s cells (faster than the measured copy), one for TFLOP/s cells (faster than the
/// measured GEMM); none when no cell is marked.
std::vector<std::string> AboveCeilingNotes(const TaskTable& table);
extern const char* kAboveCopyCeilingNote;
extern const char* kAboveGemmCeilingNote;

/// Size | Baseline | Expert | LLM with "ok" or the status, for runs without timings.
Grid CorrectnessGrid(const TaskTable& table);

}  // namespace tritonize

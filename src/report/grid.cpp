#include "report/grid.h"

#include <cmath>
#include <functional>
#include <optional>

#include <fmt/format.h>

#include "report/format.h"
#include "report/rating.h"

namespace tritonize {
namespace {

std::vector<std::string> ColumnHeader(const TaskTable& table) {
  // Several experts: the Expert column is the fastest of them at each size (Row::expert_name).
  std::vector<std::string> header = {"Size", "Baseline",
                                     table.expert_names.empty() ? "Expert" : "Expert (fastest)",
                                     LlmColumnName(table.llm_name)};
  if (table.has_compile) header.push_back("Compile");
  return header;
}

std::vector<const Cell*> Cells(const TaskTable& table, const Row& row) {
  std::vector<const Cell*> cells = {&row.baseline, &row.expert, &row.llm};
  if (table.has_compile) cells.push_back(&row.compile);
  return cells;
}

std::string TimeText(const Cell& cell, const std::optional<Summary>& summary) {
  if (cell.status != Status::kOk) {
    return std::string(StatusName(cell.status));
  }
  return summary ? FormatMicroseconds(summary->median) : "-";
}

// The median with its noise (IQR / median), and "*" when the SM clock was low.
std::string KernelTimeText(const Cell& cell) {
  if (cell.status != Status::kOk || !cell.kernel_us) return TimeText(cell, cell.kernel_us);
  const double noise = cell.kernel_us->rel_iqr;
  return FormatMicroseconds(cell.kernel_us->median) +
         (std::isfinite(noise) ? fmt::format(" ±{:.1f}%", 100 * noise) : "") +
         (cell.clock_low ? "*" : "");
}

std::string SpeedupText(const std::optional<double>& ratio) {
  return ratio ? FormatSpeedup(*ratio) : "-";
}

// "+" clear win, "-" clear loss, "~" tie (the interval contains 1.0), "!" impossible.
std::string VerdictMark(const RatioEstimate& estimate) {
  if (estimate.impossible) return "!";
  switch (estimate.verdict) {
    case Verdict::kWin:
      return "+";
    case Verdict::kLoss:
      return "-";
    case Verdict::kTie:
      return "~";
  }
  return "~";
}

std::string MarkedSpeedup(const std::optional<double>& ratio,
                          const std::optional<RatioEstimate>& estimate) {
  if (!ratio) return "-";
  return FormatSpeedup(*ratio) + (estimate ? " " + VerdictMark(*estimate) : "");
}

std::string IntervalText(const std::optional<RatioEstimate>& estimate) {
  if (!estimate || !std::isfinite(estimate->ci.lo)) return "-";
  return fmt::format("{:.2f}-{:.2f}", estimate->ci.lo, estimate->ci.hi);
}

std::string RooflineText(const Cell& cell) {
  if (cell.status != Status::kOk) return std::string(StatusName(cell.status));
  if (!cell.roofline) return "-";
  const Roofline& r = *cell.roofline;
  std::string text = r.memory_bound ? fmt::format("{:.0f} GB/s", r.gb_s)
                                    : fmt::format("{:.0f} TFLOP/s", r.tflop_s);
  text += fmt::format(" {:.0f}%", r.pct_of_peak);
  if (r.pct_of_measured > 0) text += fmt::format(" [{:.0f}%]", r.pct_of_measured);
  if (r.impossible) text += " IMPOSSIBLE";
  if (r.above_ceiling) text += " ^";
  return text;
}

std::string SecondsText(const Cell& cell) {
  if (cell.status != Status::kOk) return std::string(StatusName(cell.status));
  return cell.kernel_us ? FormatMicroseconds(cell.first_call_s * 1e6) : "-";
}

Grid CellGrid(const TaskTable& table, const std::function<std::string(const Cell&)>& text) {
  Grid grid;
  grid.header = ColumnHeader(table);
  grid.right_aligned.assign(grid.header.size(), true);
  grid.right_aligned[0] = false;
  for (const Row& row : table.rows) {
    std::vector<std::string> line = {RowLabel(row.size, row.mode)};
    for (const Cell* cell : Cells(table, row)) line.push_back(text(*cell));
    grid.rows.push_back(std::move(line));
  }
  return grid;
}

std::string RatingText(const std::optional<double>& ratio) {
  return ratio ? std::string(Rating(*ratio)) : "-";
}

}  // namespace

Grid KernelTimeGrid(const TaskTable& table) {
  Grid grid = CellGrid(table, KernelTimeText);
  const bool compile = table.has_compile;
  for (const char* name : {"Expert/Base", "LLM/Base", "LLM/Expert", "95% CI"}) {
    grid.header.push_back(name);
  }
  if (compile) grid.header.push_back("Compile/Base");
  grid.header.push_back("Rating");
  const bool several = !table.expert_names.empty();
  if (several) grid.header.push_back("Fastest expert");
  grid.right_aligned.resize(grid.header.size(), true);
  grid.right_aligned.back() = false;
  if (several) grid.right_aligned[grid.header.size() - 2] = false;
  for (size_t r = 0; r < table.rows.size(); ++r) {
    const Row& row = table.rows[r];
    auto& line = grid.rows[r];
    line.push_back(MarkedSpeedup(row.expert_over_base, row.expert_over_base_ci));
    line.push_back(MarkedSpeedup(row.llm_over_base, row.llm_over_base_ci));
    line.push_back(MarkedSpeedup(row.llm_over_expert, row.llm_over_expert_ci));
    line.push_back(IntervalText(row.llm_over_expert_ci));
    if (compile) line.push_back(MarkedSpeedup(row.compile_over_base, row.compile_over_base_ci));
    line.push_back(RatingText(row.llm_over_expert));
    if (several) line.push_back(row.expert_name);
  }
  std::vector<std::string> summary(ColumnHeader(table).size(), "");
  summary[0] = "geomean";
  for (const auto& text : {SpeedupText(table.geomean_expert_over_base),
                           SpeedupText(table.geomean_llm_over_base),
                           SpeedupText(table.geomean_llm_over_expert), std::string()}) {
    summary.push_back(text);
  }
  if (compile) summary.push_back(SpeedupText(table.geomean_compile_over_base));
  summary.push_back(RatingText(table.geomean_llm_over_expert));
  if (several) summary.push_back("");
  grid.rows.push_back(std::move(summary));
  grid.last_row_is_summary = true;
  return grid;
}

Grid ExpertsGrid(const TaskTable& table) {
  Grid grid;
  grid.header = {"Size"};
  for (const auto& name : table.expert_names) grid.header.push_back("Expert (" + name + ")");
  for (const auto& name : table.expert_names) grid.header.push_back("LLM/" + name);
  grid.right_aligned.assign(grid.header.size(), true);
  grid.right_aligned[0] = false;
  for (const Row& row : table.rows) {
    std::vector<std::string> line = {RowLabel(row.size, row.mode)};
    for (const Cell& cell : row.experts) line.push_back(KernelTimeText(cell));
    for (const auto& ratio : row.llm_over_experts) line.push_back(SpeedupText(ratio));
    grid.rows.push_back(std::move(line));
  }
  std::vector<std::string> summary(1 + table.expert_names.size(), "");
  summary[0] = "geomean";
  for (const auto& ratio : table.geomean_llm_over_experts) summary.push_back(SpeedupText(ratio));
  grid.rows.push_back(std::move(summary));
  grid.last_row_is_summary = true;
  return grid;
}

bool HasSeveralExperts(const TaskTable& table) { return !table.expert_names.empty(); }

Grid CallLatencyGrid(const TaskTable& table) {
  return CellGrid(table, [](const Cell& cell) { return TimeText(cell, cell.call_us); });
}

Grid HostOverheadGrid(const TaskTable& table) {
  return CellGrid(table, [](const Cell& cell) { return TimeText(cell, cell.host_us); });
}

Grid RooflineGrid(const TaskTable& table) { return CellGrid(table, RooflineText); }

Grid FirstCallGrid(const TaskTable& table) { return CellGrid(table, SecondsText); }

bool HasRoofline(const TaskTable& table) {
  for (const Row& row : table.rows) {
    for (const Cell* cell : Cells(table, row)) {
      if (cell->roofline) return true;
    }
  }
  return false;
}

std::vector<std::string> AboveCeilingNotes(const TaskTable& table) {
  bool copy = false, gemm = false;
  for (const Row& row : table.rows) {
    for (const Cell* cell : Cells(table, row)) {
      if (!cell->roofline || !cell->roofline->above_ceiling) continue;
      (cell->roofline->memory_bound ? copy : gemm) = true;
    }
  }
  std::vector<std::string> notes;
  if (copy) notes.emplace_back(kAboveCopyCeilingNote);
  if (gemm) notes.emplace_back(kAboveGemmCeilingNote);
  return notes;
}

const char* kAboveCopyCeilingNote =
    "^ on GB/s: faster than the measured copy ceiling or the spec bandwidth: part of the "
    "kernel's writes is likely still in the L2 when it ends (docs/measurement.md); its GB/s "
    "overstates what DRAM did";
const char* kAboveGemmCeilingNote =
    "^ on TFLOP/s: faster than the measured GEMM ceiling, which is the rate of one large cuBLAS "
    "GEMM (tritonize calibrate), a reference rather than a bound (docs/measurement.md)";

Grid CorrectnessGrid(const TaskTable& table) {
  Grid grid = CellGrid(table, [](const Cell& cell) { return std::string(StatusName(cell.status)); });
  grid.right_aligned.assign(grid.header.size(), false);
  return grid;
}

}  // namespace tritonize

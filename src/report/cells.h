#pragma once

#include <optional>
#include <string>
#include <vector>

#include "report/bench_report.h"

namespace tritonize {

/// A table column as the machine-readable outputs name it, with the speedup over the
/// baseline that belongs to it (none for the baseline itself).
struct ColumnSpec {
  const char* name;  // baseline | expert | llm | compile
  Cell Row::*cell;
  std::optional<double> Row::*over_base;            // null for the baseline
  std::optional<RatioEstimate> Row::*over_base_ci;  // null for the baseline
};

/// The four columns, in table order.
const std::vector<ColumnSpec>& ColumnSpecs();

/// One cell of a report: one implementation at one size and mode.
struct CellRef {
  const TaskTable* table;
  const Row* row;
  const ColumnSpec* column;
  const Cell* cell;
  std::string model;  // the LLM column's model; empty for the other columns
};

/// Whether the cell's column was not asked for (bench --impls): BuildTaskTable's
/// unavailable "not requested".
bool NotRequested(const Cell& cell);

/// Every cell once, leaving out columns that were not requested, table by table and row by row: a
/// task with several models has a table per model whose baseline, expert and compile cells are the
/// same jobs, so those come from its first table only. The compile column only where it was
/// requested.
std::vector<CellRef> ReportCells(const BenchReport& report);

/// "win", "loss", "tie" or "impossible" (a cell above 100% of peak: no verdict).
const char* VerdictName(const RatioEstimate& estimate);

}  // namespace tritonize

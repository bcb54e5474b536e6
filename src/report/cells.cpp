#include "report/cells.h"

#include <set>

namespace tritonize {

const std::vector<ColumnSpec>& ColumnSpecs() {
  static const std::vector<ColumnSpec> kColumns = {
      {"baseline", &Row::baseline, nullptr, nullptr},
      {"expert", &Row::expert, &Row::expert_over_base, &Row::expert_over_base_ci},
      {"llm", &Row::llm, &Row::llm_over_base, &Row::llm_over_base_ci},
      {"compile", &Row::compile, &Row::compile_over_base, &Row::compile_over_base_ci},
  };
  return kColumns;
}

bool NotRequested(const Cell& cell) {
  return cell.status == Status::kUnavailable && cell.message == "not requested";
}

std::vector<CellRef> ReportCells(const BenchReport& report) {
  std::vector<CellRef> cells;
  std::set<std::string> tasks_seen;
  for (const TaskTable& table : report.tables) {
    const bool first_of_task = tasks_seen.insert(table.task).second;
    for (const Row& row : table.rows) {
      for (const ColumnSpec& column : ColumnSpecs()) {
        const bool llm = column.cell == &Row::llm;
        if (!llm && !first_of_task) continue;
        if (column.cell == &Row::compile && !table.has_compile) continue;
        const Cell& cell = row.*column.cell;
        if (NotRequested(cell)) continue;
        cells.push_back({&table, &row, &column, &cell, llm ? table.llm_name : ""});
      }
    }
  }
  return cells;
}

const char* VerdictName(const RatioEstimate& estimate) {
  if (estimate.impossible) return "impossible";
  switch (estimate.verdict) {
    case Verdict::kWin:
      return "win";
    case Verdict::kLoss:
      return "loss";
    case Verdict::kTie:
      return "tie";
  }
  return "tie";
}

}  // namespace tritonize

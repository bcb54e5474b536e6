#include "report/grid.h"

#include <optional>

#include "report/format.h"
#include "report/rating.h"

namespace tritonize {
namespace {

std::vector<std::string> ColumnHeader(const TaskTable& table) {
  return {"Size", "Baseline", "Expert", LlmColumnName(table.llm_name)};
}

std::string TimeText(const Cell& cell, const std::optional<Summary>& summary) {
  if (cell.status != Status::kOk) {
    return std::string(StatusName(cell.status));
  }
  return summary ? FormatMicroseconds(summary->median) : "-";
}

std::string SpeedupText(const std::optional<double>& ratio) {
  return ratio ? FormatSpeedup(*ratio) : "-";
}

std::string RatingText(const std::optional<double>& ratio) {
  return ratio ? std::string(Rating(*ratio)) : "-";
}

}  // namespace

Grid KernelTimeGrid(const TaskTable& table) {
  Grid grid;
  grid.header = ColumnHeader(table);
  for (const char* name : {"Expert/Base", "LLM/Base", "LLM/Expert", "Rating"}) {
    grid.header.push_back(name);
  }
  grid.right_aligned = {false, true, true, true, true, true, true, false};
  for (const Row& row : table.rows) {
    grid.rows.push_back(
        {RowLabel(row.size, row.mode), TimeText(row.baseline, row.baseline.kernel_us),
         TimeText(row.expert, row.expert.kernel_us), TimeText(row.llm, row.llm.kernel_us),
         SpeedupText(row.expert_over_base), SpeedupText(row.llm_over_base),
         SpeedupText(row.llm_over_expert), RatingText(row.llm_over_expert)});
  }
  grid.rows.push_back({"geomean", "", "", "", SpeedupText(table.geomean_expert_over_base),
                       SpeedupText(table.geomean_llm_over_base),
                       SpeedupText(table.geomean_llm_over_expert),
                       RatingText(table.geomean_llm_over_expert)});
  grid.last_row_is_summary = true;
  return grid;
}

Grid CallLatencyGrid(const TaskTable& table) {
  Grid grid;
  grid.header = ColumnHeader(table);
  grid.right_aligned = {false, true, true, true};
  for (const Row& row : table.rows) {
    grid.rows.push_back({RowLabel(row.size, row.mode), TimeText(row.baseline, row.baseline.call_us),
                         TimeText(row.expert, row.expert.call_us),
                         TimeText(row.llm, row.llm.call_us)});
  }
  return grid;
}

Grid CorrectnessGrid(const TaskTable& table) {
  Grid grid;
  grid.header = ColumnHeader(table);
  grid.right_aligned = {false, false, false, false};
  for (const Row& row : table.rows) {
    grid.rows.push_back({RowLabel(row.size, row.mode), std::string(StatusName(row.baseline.status)),
                         std::string(StatusName(row.expert.status)),
                         std::string(StatusName(row.llm.status))});
  }
  return grid;
}

}  // namespace tritonize

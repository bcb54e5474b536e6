#include "report/json_printer.h"

#include <cmath>

#include "report/rating.h"

namespace tritonize {
namespace {

nlohmann::json Number(double value) {
  return std::isfinite(value) ? nlohmann::json(value) : nlohmann::json(nullptr);
}

nlohmann::json OptionalNumber(const std::optional<double>& value) {
  return value ? Number(*value) : nlohmann::json(nullptr);
}

nlohmann::json OptionalRating(const std::optional<double>& value) {
  return value ? nlohmann::json(std::string(Rating(*value))) : nlohmann::json(nullptr);
}

nlohmann::json SummaryToJson(const std::optional<Summary>& s) {
  if (!s) {
    return nullptr;
  }
  return {{"n", s->n},
          {"median", Number(s->median)},
          {"q1", Number(s->q1)},
          {"q3", Number(s->q3)},
          {"iqr", Number(s->iqr)},
          {"min", Number(s->min)},
          {"max", Number(s->max)},
          {"rel_iqr", Number(s->rel_iqr)}};
}

nlohmann::json CellToJson(const Cell& cell) {
  return {{"status", StatusName(cell.status)},
          {"message", cell.message},
          {"kernel_us", SummaryToJson(cell.kernel_us)},
          {"call_us", SummaryToJson(cell.call_us)},
          {"first_call_s", Number(cell.first_call_s)}};
}

nlohmann::json RowToJson(const Row& row) {
  return {{"size", row.size},
          {"mode", row.mode},
          {"baseline", CellToJson(row.baseline)},
          {"expert", CellToJson(row.expert)},
          {"llm", CellToJson(row.llm)},
          {"expert_over_base", OptionalNumber(row.expert_over_base)},
          {"llm_over_base", OptionalNumber(row.llm_over_base)},
          {"llm_over_expert", OptionalNumber(row.llm_over_expert)},
          {"rating", OptionalRating(row.llm_over_expert)}};
}

nlohmann::json TableToJson(const TaskTable& table) {
  nlohmann::json rows = nlohmann::json::array();
  for (const Row& row : table.rows) {
    rows.push_back(RowToJson(row));
  }
  return {{"task", table.task},
          {"description", table.description},
          {"llm_name", table.llm_name},
          {"rows", rows},
          {"geomean",
           {{"expert_over_base", OptionalNumber(table.geomean_expert_over_base)},
            {"llm_over_base", OptionalNumber(table.geomean_llm_over_base)},
            {"llm_over_expert", OptionalNumber(table.geomean_llm_over_expert)},
            {"rating", OptionalRating(table.geomean_llm_over_expert)}}},
          {"notes", table.notes}};
}

}  // namespace

nlohmann::json ReportToJson(const BenchReport& report) {
  nlohmann::json tables = nlohmann::json::array();
  for (const TaskTable& table : report.tables) {
    tables.push_back(TableToJson(table));
  }
  return {{"schema_version", kReportJsonSchemaVersion},
          {"timed", report.timed},
          {"method", report.method},
          {"environment", report.environment},
          {"tasks", tables}};
}

}  // namespace tritonize

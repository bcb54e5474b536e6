#include "report/json_printer.h"

#include <cmath>

#include "report/cells.h"
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

nlohmann::json RooflineToJson(const std::optional<Roofline>& r) {
  if (!r) return nullptr;
  return {{"gb_s", Number(r->gb_s)},
          {"tflop_s", Number(r->tflop_s)},
          {"memory_bound", r->memory_bound},
          {"pct_of_peak", Number(r->pct_of_peak)},
          {"pct_of_measured", r->pct_of_measured > 0 ? Number(r->pct_of_measured) : nullptr},
          {"impossible", r->impossible},
          {"above_ceiling", r->above_ceiling}};
}

nlohmann::json CellToJson(const Cell& cell) {
  nlohmann::json process_medians = nlohmann::json::array();
  for (const auto& group : cell.kernel_groups) process_medians.push_back(Number(Median(group)));
  return {{"status", StatusName(cell.status)},
          {"message", cell.message},
          {"kernel_us", SummaryToJson(cell.kernel_us)},
          {"kernel_us_process_medians", process_medians},
          {"call_us", SummaryToJson(cell.call_us)},
          {"host_us", SummaryToJson(cell.host_us)},
          {"first_call_s", Number(cell.first_call_s)},
          {"clock_low", cell.clock_low},
          {"stop", cell.stop},
          {"roofline", RooflineToJson(cell.roofline)},
          {"tuned", cell.tuned}};
}

nlohmann::json IntervalToJson(const std::optional<RatioEstimate>& e) {
  if (!e) return nullptr;
  const char* verdict = VerdictName(*e);
  return {{"point", Number(e->ci.point)},
          {"lo", Number(e->ci.lo)},
          {"hi", Number(e->ci.hi)},
          {"verdict", verdict}};
}

nlohmann::json RowToJson(const Row& row) {
  return {{"size", row.size},
          {"mode", row.mode},
          {"baseline", CellToJson(row.baseline)},
          {"expert", CellToJson(row.expert)},
          {"llm", CellToJson(row.llm)},
          {"compile", CellToJson(row.compile)},
          {"expert_over_base", OptionalNumber(row.expert_over_base)},
          {"llm_over_base", OptionalNumber(row.llm_over_base)},
          {"llm_over_expert", OptionalNumber(row.llm_over_expert)},
          {"compile_over_base", OptionalNumber(row.compile_over_base)},
          {"expert_over_base_ci", IntervalToJson(row.expert_over_base_ci)},
          {"llm_over_base_ci", IntervalToJson(row.llm_over_base_ci)},
          {"llm_over_expert_ci", IntervalToJson(row.llm_over_expert_ci)},
          {"compile_over_base_ci", IntervalToJson(row.compile_over_base_ci)},
          {"rating", OptionalRating(row.llm_over_expert)}};
}

nlohmann::json TableToJson(const TaskTable& table) {
  nlohmann::json rows = nlohmann::json::array();
  for (const Row& row : table.rows) {
    nlohmann::json json_row = RowToJson(row);
    if (!table.expert_names.empty()) {
      // Several experts: "expert" is the fastest, named; each one's cell and the LLM against it.
      json_row["expert_name"] = row.expert_name;
      json_row["experts"] = nlohmann::json::array();
      for (size_t i = 0; i < row.experts.size(); ++i) {
        json_row["experts"].push_back(
            {{"name", table.expert_names[i]},
             {"cell", CellToJson(row.experts[i])},
             {"llm_over_expert", OptionalNumber(row.llm_over_experts[i])}});
      }
    }
    rows.push_back(std::move(json_row));
  }
  nlohmann::json out = {{"task", table.task},
                        {"description", table.description},
                        {"llm_name", table.llm_name},
                        {"rows", rows},
                        {"geomean",
                         {{"expert_over_base", OptionalNumber(table.geomean_expert_over_base)},
                          {"llm_over_base", OptionalNumber(table.geomean_llm_over_base)},
                          {"llm_over_expert", OptionalNumber(table.geomean_llm_over_expert)},
                          {"compile_over_base", OptionalNumber(table.geomean_compile_over_base)},
                          {"rating", OptionalRating(table.geomean_llm_over_expert)}}},
                        {"notes", table.notes}};
  if (!table.expert_names.empty()) {
    out["expert_names"] = table.expert_names;
    nlohmann::json each = nlohmann::json::object();
    for (size_t i = 0; i < table.expert_names.size(); ++i) {
      each[table.expert_names[i]] = OptionalNumber(table.geomean_llm_over_experts[i]);
    }
    out["geomean"]["llm_over_each_expert"] = each;
  }
  return out;
}

// Null when no cell had two processes: nothing was pooled.
nlohmann::json ProcessSpreadToJson(const ProcessSpread& spread) {
  if (spread.df <= 0) return nullptr;
  return {
      {"sigma_log", std::sqrt(spread.log_variance)}, {"df", spread.df}, {"cells", spread.cells}};
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
          {"process_spread", ProcessSpreadToJson(report.process_spread)},
          {"tasks", tables}};
}

}  // namespace tritonize

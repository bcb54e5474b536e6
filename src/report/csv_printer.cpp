#include "report/csv_printer.h"

#include <fmt/format.h>

#include <cmath>

#include "report/cells.h"

namespace tritonize {
namespace {

const std::vector<std::string> kHeader = {
    "task",
    "model",
    "size",
    "mode",
    "implementation",
    "status",
    "message",
    "kernel_median_us",
    "kernel_q1_us",
    "kernel_q3_us",
    "kernel_rel_iqr",
    "kernel_samples",
    "processes",
    "call_median_us",
    "host_median_us",
    "first_call_s",
    "clock_low",
    "stop",
    "speedup_vs_baseline_x",
    "speedup_vs_baseline_lo_x",
    "speedup_vs_baseline_hi_x",
    "verdict_vs_baseline",
    "llm_over_expert_x",
    "llm_over_expert_lo_x",
    "llm_over_expert_hi_x",
    "verdict_vs_expert",
    "bound",
    "gb_per_s",
    "tflop_per_s",
    "pct_of_peak",
    "pct_of_measured_ceiling",
    "above_measured_ceiling",
    "impossible",
    "expert_name",
};

const char* Bool(bool value) { return value ? "true" : "false"; }

/// The ratio, its interval and its verdict; four empty fields when there is none.
void AddRatio(const std::optional<double>& ratio, const std::optional<RatioEstimate>& estimate,
              std::vector<std::string>* fields) {
  fields->push_back(CsvNumber(ratio));
  fields->push_back(estimate ? CsvNumber(estimate->ci.lo) : "");
  fields->push_back(estimate ? CsvNumber(estimate->ci.hi) : "");
  fields->push_back(ratio && estimate ? VerdictName(*estimate) : "");
}

std::string Median(const std::optional<Summary>& summary) {
  return summary ? CsvNumber(summary->median) : "";
}

std::vector<std::string> Record(const CellRef& ref) {
  const Cell& cell = *ref.cell;
  const Row& row = *ref.row;
  const std::optional<Summary>& k = cell.kernel_us;
  std::vector<std::string> f = {ref.table->task,
                                ref.model,
                                row.size,
                                row.mode,
                                ref.column->name,
                                std::string(StatusName(cell.status)),
                                cell.message,
                                Median(k),
                                k ? CsvNumber(k->q1) : "",
                                k ? CsvNumber(k->q3) : "",
                                k ? CsvNumber(k->rel_iqr) : "",
                                k ? std::to_string(k->n) : "",
                                k ? std::to_string(NonEmptyGroups(cell.kernel_groups)) : "",
                                Median(cell.call_us),
                                Median(cell.host_us),
                                k ? CsvNumber(cell.first_call_s) : "",
                                Bool(cell.clock_low),
                                cell.stop};
  if (ref.column->over_base != nullptr) {
    AddRatio(row.*ref.column->over_base, row.*ref.column->over_base_ci, &f);
  } else {
    AddRatio(std::nullopt, std::nullopt, &f);
  }
  if (ref.column->cell == &Row::llm) {
    AddRatio(row.llm_over_expert, row.llm_over_expert_ci, &f);
  } else {
    AddRatio(std::nullopt, std::nullopt, &f);
  }
  const std::optional<Roofline>& r = cell.roofline;
  f.push_back(r ? (r->memory_bound ? "memory" : "compute") : "");
  f.push_back(r ? CsvNumber(r->gb_s) : "");
  f.push_back(r ? CsvNumber(r->tflop_s) : "");
  f.push_back(r ? CsvNumber(r->pct_of_peak) : "");
  f.push_back(r && r->pct_of_measured > 0 ? CsvNumber(r->pct_of_measured) : "");
  f.push_back(Bool(r && r->above_ceiling));
  f.push_back(Bool(r && r->impossible));
  // A task with several experts: which of them the expert record is (the fastest at this row).
  f.push_back(ref.column->cell == &Row::expert ? row.expert_name : "");
  return f;
}

}  // namespace

std::string CsvField(const std::string& text) {
  if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
  std::string quoted = "\"";
  for (char c : text) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  return quoted + "\"";
}

void PrintCsvRecord(const std::vector<std::string>& fields, std::ostream& out) {
  for (size_t i = 0; i < fields.size(); ++i) out << (i ? "," : "") << CsvField(fields[i]);
  out << "\n";
}

// Seven significant digits: the samples are stored to the nanosecond, and a ratio of medians
// has no more meaning than that; 1.0406091370558377 would only be float noise to a reader.
std::string CsvNumber(double value) {
  return std::isfinite(value) ? fmt::format("{:.7g}", value) : "";
}

std::string CsvNumber(const std::optional<double>& value) { return value ? CsvNumber(*value) : ""; }

void PrintCsv(const BenchReport& report, std::ostream& out) {
  PrintCsvRecord(kHeader, out);
  for (const CellRef& ref : ReportCells(report)) PrintCsvRecord(Record(ref), out);
}

}  // namespace tritonize

#include "report/sample_printer.h"

#include <fmt/format.h>

#include <algorithm>

#include "report/table_printer.h"

namespace tritonize {
namespace {

std::string Percent(double v) { return fmt::format("{:.0f}%", v * 100); }
std::string Percent(const std::optional<double>& v) { return v ? Percent(*v) : "-"; }
std::string Usd(const std::optional<double>& v, bool complete) {
  if (!v) return "-";
  return fmt::format("{:.4f}{}", *v, complete ? "" : "+");
}

std::vector<std::string> MetricsRow(const SampleMetrics& m) {
  std::string tokens =
      m.tokens_complete
          ? fmt::format("{}/{}", m.tokens_in, m.tokens_out)
          : (m.tokens_in + m.tokens_out == 0 ? "-"
                                             : fmt::format("{}+/{}+", m.tokens_in, m.tokens_out));
  return {m.task,
          std::to_string(m.samples),
          std::to_string(m.max_turns),
          Percent(m.correct_share),
          Percent(m.pass_at_1),
          Percent(m.pass_at_n),
          Percent(m.fast_1),
          Percent(m.fast_2),
          Percent(m.at_least_expert),
          m.best_llm_over_expert ? fmt::format("{:.2f}x", *m.best_llm_over_expert) : "-",
          Percent(static_cast<double>(m.oneshot_correct) / std::max(1, m.samples)),
          Percent(m.oneshot_pass_at_n),
          tokens,
          Usd(m.cost_usd, m.cost_complete),
          Usd(m.cost_per_correct, m.cost_complete)};
}

}  // namespace

std::vector<SampleTable> SampleTables(const std::vector<SampleMetrics>& metrics) {
  std::vector<std::string> models;
  for (const auto& m : metrics) {
    if (std::find(models.begin(), models.end(), m.model) == models.end()) models.push_back(m.model);
  }
  std::vector<SampleTable> tables;
  for (const auto& model : models) {
    SampleTable table;
    table.title =
        fmt::format("Samples: LLM ({}); final turn of each sample, pass@n with n = samples", model);
    table.grid.header = {"Task",           "n",
                         "Turns",          "Correct",
                         "pass@1",         "pass@n",
                         "fast_1.0",       "fast_2.0",
                         ">= Expert",      "Best LLM/Expert",
                         "Turn 1 correct", "Turn 1 pass@n",
                         "Tokens in/out",  "Cost (USD)",
                         "USD/correct"};
    table.grid.right_aligned.assign(table.grid.header.size(), true);
    table.grid.right_aligned[0] = false;
    for (const auto& m : metrics) {
      if (m.model == model) table.grid.rows.push_back(MetricsRow(m));
    }
    tables.push_back(std::move(table));
  }
  return tables;
}

std::string SampleFootnote(bool timed) {
  return timed ? "fast_p: correct and the geometric mean over the timed sizes and modes of "
                 "baseline/LLM median kernel time >= p; >= Expert: the same against the expert "
                 ">= 1.0; Best LLM/Expert: the best correct sample's geomean"
               : "--interpret: correctness only; fast_p and expert ratios need timings (-)";
}

void PrintSampleTables(const std::vector<SampleMetrics>& metrics, bool timed, std::ostream& out) {
  const std::vector<SampleTable> tables = SampleTables(metrics);
  for (const SampleTable& table : tables) {
    out << "\n" << table.title << "\n";
    PrintTextGrid(table.grid, out);
  }
  if (!tables.empty()) out << SampleFootnote(timed) << "\n";
}

}  // namespace tritonize

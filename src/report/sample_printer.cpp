#include "report/sample_printer.h"

#include <fmt/format.h>

#include <algorithm>

namespace tritonize {
namespace {

/// Left-aligned first column, the rest right-aligned, a rule under the header.
void PrintGrid(const std::vector<std::vector<std::string>>& rows, std::ostream& out) {
  std::vector<size_t> width(rows[0].size(), 0);
  for (const auto& row : rows) {
    for (size_t c = 0; c < row.size(); ++c) width[c] = std::max(width[c], row[c].size());
  }
  for (size_t r = 0; r < rows.size(); ++r) {
    std::string line;
    for (size_t c = 0; c < rows[r].size(); ++c) {
      line += (c ? " | " : "") + (c == 0 ? fmt::format("{:<{}}", rows[r][c], width[c])
                                         : fmt::format("{:>{}}", rows[r][c], width[c]));
    }
    out << line << "\n";
    if (r == 0) {
      std::string rule;
      for (size_t c = 0; c < width.size(); ++c)
        rule += (c ? "-+-" : "") + std::string(width[c], '-');
      out << rule << "\n";
    }
  }
}

std::string Percent(double v) { return fmt::format("{:.0f}%", v * 100); }
std::string Percent(const std::optional<double>& v) { return v ? Percent(*v) : "-"; }
std::string Usd(const std::optional<double>& v, bool complete) {
  if (!v) return "-";
  return fmt::format("{:.4f}{}", *v, complete ? "" : "+");
}

}  // namespace

void PrintSampleTables(const std::vector<SampleMetrics>& metrics, bool timed, std::ostream& out) {
  std::vector<std::string> models;
  for (const auto& m : metrics) {
    if (std::find(models.begin(), models.end(), m.model) == models.end()) models.push_back(m.model);
  }
  for (const auto& model : models) {
    out << fmt::format("\nSamples: LLM ({}); final turn of each sample, pass@n with n = samples\n",
                       model);
    std::vector<std::vector<std::string>> grid = {
        {"Task", "n", "Turns", "Correct", "pass@1", "pass@n", "fast_1.0", "fast_2.0", ">= Expert",
         "Best LLM/Expert", "Turn 1 correct", "Turn 1 pass@n", "Tokens in/out", "Cost (USD)",
         "USD/correct"}};
    for (const auto& m : metrics) {
      if (m.model != model) continue;
      std::string tokens = m.tokens_complete
                               ? fmt::format("{}/{}", m.tokens_in, m.tokens_out)
                               : (m.tokens_in + m.tokens_out == 0
                                      ? "-"
                                      : fmt::format("{}+/{}+", m.tokens_in, m.tokens_out));
      grid.push_back(
          {m.task, std::to_string(m.samples), std::to_string(m.max_turns), Percent(m.correct_share),
           Percent(m.pass_at_1), Percent(m.pass_at_n), Percent(m.fast_1), Percent(m.fast_2),
           Percent(m.at_least_expert),
           m.best_llm_over_expert ? fmt::format("{:.2f}x", *m.best_llm_over_expert) : "-",
           Percent(static_cast<double>(m.oneshot_correct) / std::max(1, m.samples)),
           Percent(m.oneshot_pass_at_n), tokens, Usd(m.cost_usd, m.cost_complete),
           Usd(m.cost_per_correct, m.cost_complete)});
    }
    PrintGrid(grid, out);
  }
  if (!models.empty()) {
    out << (timed ? "fast_p: correct and the geometric mean over the timed sizes and modes of "
                    "baseline/LLM median kernel time >= p; >= Expert: the same against the expert "
                    ">= 1.0; Best LLM/Expert: the best correct sample's geomean\n"
                  : "--interpret: correctness only; fast_p and expert ratios need timings (-)\n");
  }
}

}  // namespace tritonize

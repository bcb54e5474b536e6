#include "report/comparison_printer.h"

#include <fmt/format.h>

#include <cmath>

#include "report/csv_printer.h"
#include "report/format.h"
#include "report/html_page.h"
#include "report/markdown_printer.h"
#include "report/svg_chart.h"
#include "report/table_printer.h"

namespace tritonize {
namespace {

constexpr size_t kFooterWidth = 100;

std::string MedianText(const Cell* cell) {
  if (cell == nullptr) return "missing";
  if (cell->status != Status::kOk) return std::string(StatusName(cell->status));
  return cell->kernel_us ? FormatMicroseconds(cell->kernel_us->median) : "-";
}

// A ratio as a change in percent, rounded to a tenth; -0.0% reads as +0.0%.
std::string Percent(double ratio) {
  const double change = 100 * (ratio - 1);
  return fmt::format("{:+.1f}%", std::fabs(change) < 0.05 ? 0.0 : change);
}

/// "Run 1", "Run 2": the columns; the footer says which run each is.
std::string RunColumn(size_t r) { return fmt::format("Run {}", r + 1); }

std::string IntervalText(const std::optional<RatioCi>& ci) {
  if (!ci || !std::isfinite(ci->lo)) return "-";
  return Percent(ci->lo) + ".." + Percent(ci->hi);
}

std::string ChangeText(const CellRuns& c, size_t r, double min_kernel_us) {
  std::string text = ChangeName(c.changes[r]);
  if (c.changes[r] == Change::kBroken || c.changes[r] == Change::kFixed) {
    text +=
        fmt::format(" ({} -> {})", StatusName(c.cells[0]->status), StatusName(c.cells[r]->status));
  } else if (min_kernel_us > 0 && !c.counted && c.vs_first[r]) {
    text += fmt::format(" (< {:g} us)", min_kernel_us);
  }
  return text;
}

std::string RatioText(const std::optional<RatioEstimate>& e) {
  if (!e) return "-";
  std::string text = FormatSpeedup(e->ci.point);
  if (std::isfinite(e->ci.lo)) text += fmt::format(" ({:.2f}-{:.2f})", e->ci.lo, e->ci.hi);
  return text;
}

std::string OverlapText(const std::optional<bool>& overlap) {
  return !overlap ? "-" : *overlap ? "yes" : "NO";
}

nlohmann::json Number(double v) {
  return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr);
}

nlohmann::json CellToJson(const CellRuns& c) {
  nlohmann::json runs = nlohmann::json::array(), changes = nlohmann::json::array();
  for (size_t r = 0; r < c.cells.size(); ++r) {
    const Cell* cell = c.cells[r];
    runs.push_back(
        {{"status", cell ? nlohmann::json(StatusName(cell->status)) : nlohmann::json(nullptr)},
         {"kernel_median_us",
          cell && cell->kernel_us ? Number(cell->kernel_us->median) : nlohmann::json(nullptr)},
         {"processes", cell ? NonEmptyGroups(cell->kernel_groups) : 0}});
    if (r == 0) continue;
    const auto& ci = c.vs_first[r];
    changes.push_back({{"ratio", ci ? Number(ci->point) : nlohmann::json(nullptr)},
                       {"lo", ci ? Number(ci->lo) : nlohmann::json(nullptr)},
                       {"hi", ci ? Number(ci->hi) : nlohmann::json(nullptr)},
                       {"change", ChangeName(c.changes[r])}});
  }
  return {
      {"task", c.task},       {"model", c.model},
      {"column", c.column},   {"size", c.size},
      {"mode", c.mode},       {"runs", runs},
      {"vs_first", changes},  {"spread", c.spread ? Number(*c.spread) : nlohmann::json(nullptr)},
      {"counted", c.counted}, {"why", c.why}};
}

void PrintCsvComparison(const Comparison& cmp, std::ostream& out) {
  PrintCsvRecord({"task", "model", "column", "size", "mode", "run", "first_run", "status_first",
                  "status", "kernel_median_first_us", "kernel_median_us", "ratio_x", "ratio_lo_x",
                  "ratio_hi_x", "change", "spread_x", "counted"},
                 out);
  for (const CellRuns& c : cmp.cells) {
    for (size_t r = 1; r < c.cells.size(); ++r) {
      const Cell* first = c.cells[0];
      const Cell* cell = c.cells[r];
      const auto& ci = c.vs_first[r];
      PrintCsvRecord(
          {c.task, c.model, c.column, c.size, c.mode, cmp.runs[r], cmp.runs[0],
           first ? std::string(StatusName(first->status)) : "missing",
           cell ? std::string(StatusName(cell->status)) : "missing",
           first && first->kernel_us ? CsvNumber(first->kernel_us->median) : "",
           cell && cell->kernel_us ? CsvNumber(cell->kernel_us->median) : "",
           ci ? CsvNumber(ci->point) : "", ci ? CsvNumber(ci->lo) : "", ci ? CsvNumber(ci->hi) : "",
           ChangeName(c.changes[r]), CsvNumber(c.spread), c.counted ? "true" : "false"},
          out);
    }
  }
}

void PrintTextComparison(const Comparison& cmp, bool markdown, std::ostream& out) {
  auto grid = [&](const Grid& g) { markdown ? PrintMarkdownGrid(g, out) : PrintTextGrid(g, out); };
  out << (markdown ? "## " : "") << "Kernel time per cell, each run against run 1"
      << (markdown ? "\n\n" : "\n");
  grid(ChangeGrid(cmp));
  const Grid ratios = ExpertRatioGrid(cmp);
  if (!ratios.rows.empty()) {
    out << (markdown ? "\n## " : "\n") << "LLM/Expert per run, with its 95% interval"
        << (markdown ? "\n\n" : "\n");
    grid(ratios);
  }
  out << "\n";
  for (const std::string& line : ComparisonFooter(cmp)) {
    if (markdown) {
      out << line << "\n\n";
      continue;
    }
    const auto lines = WrapText(line, kFooterWidth);
    for (size_t i = 0; i < lines.size(); ++i) out << (i ? "  " : "") << lines[i] << "\n";
  }
}

void PrintHtmlComparison(const Comparison& cmp, std::ostream& out) {
  BeginHtmlPage("tritonize compare", out);
  out << "<h1>tritonize compare</h1>\n<p class=\"heading\">";
  for (size_t r = 0; r < cmp.runs.size(); ++r) out << (r ? "<br>" : "") << XmlEscape(cmp.runs[r]);
  out << "</p>\n<h2>Kernel time per cell, each run against the first</h2>\n";
  PrintHtmlTable(ChangeGrid(cmp), out);
  const Grid ratios = ExpertRatioGrid(cmp);
  if (!ratios.rows.empty()) {
    out << "<h2>LLM/Expert per run, with its 95% interval</h2>\n";
    PrintHtmlTable(ratios, out);
  }
  for (const std::string& line : ComparisonFooter(cmp)) {
    out << "<p class=\"caveat\">" << XmlEscape(line) << "</p>\n";
  }
  EndHtmlPage(out);
}

}  // namespace

Grid ChangeGrid(const Comparison& cmp) {
  Grid grid;
  grid.header = {"Task", "Column", "Size"};
  for (size_t r = 0; r < cmp.runs.size(); ++r) grid.header.push_back(RunColumn(r));
  for (size_t r = 1; r < cmp.runs.size(); ++r) {
    grid.header.push_back(cmp.runs.size() > 2 ? fmt::format("Change {}", r + 1) : "Change");
    grid.header.push_back("95% CI");
    grid.header.push_back("Verdict");
  }
  const bool spread = cmp.runs.size() > 2;
  if (spread) grid.header.push_back("Spread");
  grid.right_aligned.assign(grid.header.size(), true);
  grid.right_aligned[0] = grid.right_aligned[1] = grid.right_aligned[2] = false;
  for (size_t r = 1; r < cmp.runs.size(); ++r)
    grid.right_aligned[3 + cmp.runs.size() + 3 * r - 1] = false;
  for (const CellRuns& c : cmp.cells) {
    std::vector<std::string> row = {c.task, c.label, RowLabel(c.size, c.mode)};
    for (const Cell* cell : c.cells) row.push_back(MedianText(cell));
    for (size_t r = 1; r < c.cells.size(); ++r) {
      row.push_back(c.vs_first[r] ? Percent(c.vs_first[r]->point) : "-");
      row.push_back(IntervalText(c.vs_first[r]));
      row.push_back(ChangeText(c, r, cmp.options.min_kernel_us));
    }
    if (spread) row.push_back(c.spread ? fmt::format("{:.1f}%", 100 * *c.spread) : "-");
    grid.rows.push_back(std::move(row));
  }
  return grid;
}

Grid ExpertRatioGrid(const Comparison& cmp) {
  Grid grid;
  grid.header = {"Task", "Model", "Size"};
  for (size_t r = 0; r < cmp.runs.size(); ++r) grid.header.push_back(RunColumn(r));
  grid.header.push_back("Overlap");
  grid.right_aligned.assign(grid.header.size(), true);
  grid.right_aligned[0] = grid.right_aligned[1] = grid.right_aligned[2] = false;
  for (const RowRuns& row : cmp.rows) {
    std::vector<std::string> line = {row.task, row.model, RowLabel(row.size, row.mode)};
    for (const auto& e : row.llm_over_expert) line.push_back(RatioText(e));
    line.push_back(OverlapText(row.overlap));
    grid.rows.push_back(std::move(line));
  }
  return grid;
}

std::vector<std::string> ComparisonFooter(const Comparison& cmp) {
  std::vector<std::string> lines;
  for (size_t r = 0; r < cmp.runs.size(); ++r) {
    lines.push_back(fmt::format("Run {}: {}", r + 1, cmp.runs[r]));
  }
  lines.push_back(fmt::format(
      "Changes against run 1: {} regression(s), {} broken (ok before, failing now), {} "
      "improvement(s), {} fixed, {} within the allowance, {} unchanged.",
      cmp.regressions, cmp.broken, cmp.improvements, cmp.fixed, cmp.within, cmp.unchanged));
  const std::string spread =
      cmp.spread.df > 0
          ? fmt::format(
                "; each interval is at least the t interval of the between-process spread "
                "pooled over the runs' cells, {:.2f}% ({} degrees of freedom)",
                100 * std::sqrt(cmp.spread.log_variance), cmp.spread.df)
          : "; with one process per cell, the intervals see only the noise within a process";
  lines.push_back(fmt::format(
      "Change: the later run's kernel-time median over the first's, with a 95% bootstrap interval "
      "(processes, then calls){}. A change is flagged only when its whole interval lies beyond "
      "the allowance of +-{:.1f}% (--threshold; docs/measurement.md's stability criterion): the "
      "intervals cover the processes of these runs, and the allowance what moves between runs "
      "and machines, which no interval of one run covers.",
      spread, 100 * cmp.options.allowance));
  for (const std::string& note : cmp.notes) lines.push_back(note);
  if (cmp.instabilities.empty()) {
    lines.push_back(fmt::format(
        "Stability: passed (every kernel-time median{} within {:.1f}% across the runs, every "
        "LLM/Expert interval overlapping, no row missing).",
        cmp.options.min_kernel_us > 0
            ? fmt::format(" of {:g} us or more", cmp.options.min_kernel_us)
            : "",
        100 * cmp.options.allowance));
  } else {
    lines.push_back(fmt::format("Stability: FAILED on {} count(s):", cmp.instabilities.size()));
    for (const std::string& line : cmp.instabilities) lines.push_back("FAIL " + line);
  }
  return lines;
}

nlohmann::json ComparisonToJson(const Comparison& cmp) {
  nlohmann::json cells = nlohmann::json::array(), rows = nlohmann::json::array();
  for (const CellRuns& c : cmp.cells) cells.push_back(CellToJson(c));
  for (const RowRuns& row : cmp.rows) {
    nlohmann::json runs = nlohmann::json::array();
    for (const auto& e : row.llm_over_expert) {
      runs.push_back(e ? nlohmann::json{{"point", Number(e->ci.point)},
                                        {"lo", Number(e->ci.lo)},
                                        {"hi", Number(e->ci.hi)}}
                       : nlohmann::json(nullptr));
    }
    rows.push_back(
        {{"task", row.task},
         {"model", row.model},
         {"size", row.size},
         {"mode", row.mode},
         {"llm_over_expert", runs},
         {"overlap", row.overlap ? nlohmann::json(*row.overlap) : nlohmann::json(nullptr)}});
  }
  return {{"schema_version", kComparisonJsonSchemaVersion},
          {"runs", cmp.runs},
          {"allowance", cmp.options.allowance},
          {"min_kernel_us", cmp.options.min_kernel_us},
          {"process_spread", cmp.spread.df > 0
                                 ? nlohmann::json{{"sigma_log", std::sqrt(cmp.spread.log_variance)},
                                                  {"df", cmp.spread.df}}
                                 : nlohmann::json(nullptr)},
          {"cells", cells},
          {"rows", rows},
          {"summary",
           {{"regressions", cmp.regressions},
            {"broken", cmp.broken},
            {"improvements", cmp.improvements},
            {"fixed", cmp.fixed},
            {"within_allowance", cmp.within},
            {"unchanged", cmp.unchanged}}},
          {"instabilities", cmp.instabilities},
          {"notes", cmp.notes}};
}

void PrintComparison(ReportFormat format, const Comparison& comparison, std::ostream& out) {
  switch (format) {
    case ReportFormat::kText:
      PrintTextComparison(comparison, false, out);
      return;
    case ReportFormat::kMarkdown:
      PrintTextComparison(comparison, true, out);
      return;
    case ReportFormat::kCsv:
      PrintCsvComparison(comparison, out);
      return;
    case ReportFormat::kJson:
      out << ComparisonToJson(comparison).dump(2) << "\n";
      return;
    case ReportFormat::kHtml:
      PrintHtmlComparison(comparison, out);
      return;
  }
}

}  // namespace tritonize

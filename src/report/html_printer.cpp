#include "report/html_printer.h"

#include <fmt/format.h>

#include <cmath>

#include "report/cells.h"
#include "report/format.h"
#include "report/html_page.h"
#include "report/leaderboard.h"
#include "report/leaderboard_printer.h"
#include "report/sample_printer.h"
#include "report/sections.h"
#include "report/svg_chart.h"

namespace tritonize {
namespace {

using TaskGroup = std::vector<const TaskTable*>;  // one task's tables, one per model

std::vector<TaskGroup> GroupByTask(const BenchReport& report) {
  std::vector<TaskGroup> groups;
  for (const TaskTable& table : report.tables) {
    if (groups.empty() || groups.back().front()->task != table.task) groups.emplace_back();
    groups.back().push_back(&table);
  }
  return groups;
}

std::string Anchor(const std::string& task) { return "task-" + task; }

IntervalMark ExpertMark(const Row& row, const std::string& label) {
  IntervalMark m;
  m.label = label;
  m.point = m.lo = m.hi = NAN;
  m.kind = "tie";
  if (!row.llm_over_expert) {
    m.text = row.llm.status != Status::kOk ? std::string(StatusName(row.llm.status))
             : row.expert.status != Status::kOk
                 ? "expert " + std::string(StatusName(row.expert.status))
                 : "-";
    return m;
  }
  m.point = *row.llm_over_expert;
  m.text = FormatSpeedup(m.point);
  if (row.llm_over_expert_ci && std::isfinite(row.llm_over_expert_ci->ci.lo)) {
    m.lo = row.llm_over_expert_ci->ci.lo;
    m.hi = row.llm_over_expert_ci->ci.hi;
    m.kind = VerdictName(*row.llm_over_expert_ci);
    m.text += fmt::format(" ({:.2f}-{:.2f})", m.lo, m.hi);
  }
  return m;
}

std::string ExpertChart(const TaskGroup& group) {
  std::vector<IntervalMark> marks;
  bool any = false;
  for (const TaskTable* table : group) {
    if (table->llm_name.empty()) continue;
    for (const Row& row : table->rows) {
      std::string label = RowLabel(row.size, row.mode);
      if (group.size() > 1) label += " · " + table->llm_name;
      marks.push_back(ExpertMark(row, label));
      any = any || row.llm_over_expert.has_value();
    }
  }
  if (!any) return "";
  return IntervalChart("LLM/Expert per size: kernel-time speedup with its 95% interval", marks,
                       "= expert");
}

Bar RooflineBar(const Cell& cell, size_t series) {
  Bar bar;
  bar.series = series;
  bar.value = NAN;
  if (cell.status != Status::kOk) {
    bar.text = std::string(StatusName(cell.status));
  } else if (!cell.roofline) {
    bar.text = "-";
  } else {
    const Roofline& r = *cell.roofline;
    bar.value = r.pct_of_peak;
    bar.text = (r.memory_bound ? fmt::format("{:.0f} GB/s", r.gb_s)
                               : fmt::format("{:.0f} TFLOP/s", r.tflop_s)) +
               fmt::format(", {:.0f}%", r.pct_of_peak) +
               (r.impossible      ? " IMPOSSIBLE"
                : r.above_ceiling ? " ^"
                                  : "");
    bar.flagged = r.impossible || r.above_ceiling;
  }
  return bar;
}

std::string RooflineChart(const TaskGroup& group) {
  bool any = false;
  for (const TaskTable* table : group) any = any || HasRoofline(*table);
  if (!any) return "";
  const TaskTable& first = *group.front();
  std::vector<std::string> series = {"Baseline", "Expert"};
  for (const TaskTable* table : group) {
    if (!table->llm_name.empty()) series.push_back(LlmColumnName(table->llm_name));
  }
  if (first.has_compile) series.push_back("Compile");
  std::vector<BarGroup> groups;
  for (size_t r = 0; r < first.rows.size(); ++r) {
    const Row& row = first.rows[r];
    BarGroup g;
    g.label = RowLabel(row.size, row.mode);
    size_t s = 0;
    g.bars.push_back(RooflineBar(row.baseline, s++));
    g.bars.push_back(RooflineBar(row.expert, s++));
    for (const TaskTable* table : group) {
      if (table->llm_name.empty()) continue;
      for (const Row& other : table->rows) {
        if (other.size == row.size && other.mode == row.mode)
          g.bars.push_back(RooflineBar(other.llm, s));
      }
      ++s;
    }
    if (first.has_compile) g.bars.push_back(RooflineBar(row.compile, s));
    groups.push_back(std::move(g));
  }
  return BarChart(
      "Share of the spec roofline per column, % of peak (dashed: ^ or IMPOSSIBLE in "
      "the throughput table)",
      groups, series, 100, "spec peak", "%");
}

void PrintSections(const TaskTable& table, bool timed, std::ostream& out) {
  bool first = true;
  for (const Section& section : Sections(timed)) {
    if (!Shown(section, table)) continue;
    if (first) {
      out << "<h3>" << XmlEscape(section.title) << "</h3>\n";
    } else {
      out << "<details><summary>" << XmlEscape(section.title) << "</summary>\n";
    }
    PrintHtmlTable(section.grid(table), out);
    for (const std::string& note : SectionNotes(section, table)) {
      out << "<p class=\"muted\">" << XmlEscape(note) << "</p>\n";
    }
    if (!first) out << "</details>\n";
    first = false;
  }
  if (!table.notes.empty()) {
    out << "<ul class=\"notes\">\n";
    for (const std::string& note : table.notes) out << "<li>" << XmlEscape(note) << "</li>\n";
    out << "</ul>\n";
  }
}

void PrintTask(const TaskGroup& group, bool timed, std::ostream& out) {
  const TaskTable& first = *group.front();
  out << "<section id=\"" << XmlEscape(Anchor(first.task)) << "\" class=\"task\">\n<h2>"
      << XmlEscape(first.task) << "</h2>\n<p>" << XmlEscape(first.description) << "</p>\n";
  if (timed) {
    for (const std::string& chart : {ExpertChart(group), RooflineChart(group)}) {
      if (!chart.empty()) out << "<figure>\n" << chart << "</figure>\n";
    }
  }
  for (const TaskTable* table : group) {
    if (group.size() > 1) {
      out << "<h3>" << XmlEscape(LlmColumnName(table->llm_name)) << "</h3>\n";
    }
    PrintSections(*table, timed, out);
  }
  out << "</section>\n";
}

void PrintSamples(const std::vector<SampleMetrics>& samples, bool timed, std::ostream& out) {
  const std::vector<SampleTable> tables = SampleTables(samples);
  if (tables.empty()) return;
  out << "<section id=\"samples\">\n<h2>Samples</h2>\n";
  for (const SampleTable& table : tables) {
    out << "<h3>" << XmlEscape(table.title) << "</h3>\n";
    PrintHtmlTable(table.grid, out);
  }
  out << "<p class=\"muted\">" << XmlEscape(SampleFootnote(timed)) << "</p>\n</section>\n";
}

}  // namespace

void PrintHtml(const BenchReport& report, const std::vector<SampleMetrics>& samples,
               const std::string& heading, std::ostream& out) {
  const std::vector<TaskGroup> groups = GroupByTask(report);
  const std::string environment = EnvironmentLine(report.environment);
  BeginHtmlPage("tritonize report", out);
  out << "<h1>tritonize report</h1>\n";
  if (!heading.empty()) out << "<p class=\"heading\">" << XmlEscape(heading) << "</p>\n";
  if (!environment.empty()) {
    out << "<p class=\"muted\">Environment: " << XmlEscape(environment) << "</p>\n";
  }
  const Leaderboard board = BuildLeaderboard(report, samples);
  out << "<nav>" << (board.models.empty() ? "" : "<a href=\"#leaderboard\">Models</a>");
  for (const TaskGroup& group : groups) {
    out << "<a href=\"#" << XmlEscape(Anchor(group.front()->task)) << "\">"
        << XmlEscape(group.front()->task) << "</a>";
  }
  out << "<a href=\"#method\">Method</a></nav>\n";
  if (!board.models.empty()) PrintLeaderboardHtml(board, out);
  for (const TaskGroup& group : groups) PrintTask(group, report.timed, out);
  PrintSamples(samples, report.timed, out);
  out << "<section id=\"method\">\n<h2>Method and environment</h2>\n<p>" << XmlEscape(report.method)
      << "</p>\n";
  if (!environment.empty()) out << "<p>Environment: " << XmlEscape(environment) << "</p>\n";
  out << "</section>\n";
  EndHtmlPage(out);
}

}  // namespace tritonize

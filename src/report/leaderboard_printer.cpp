#include "report/leaderboard_printer.h"

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

std::string Percent(const std::optional<double>& v) {
  return v ? fmt::format("{:.0f}%", *v * 100) : "-";
}

std::string Ratio(const Standing& s) {
  return s.llm_over_expert ? FormatSpeedup(s.llm_over_expert->point) : "-";
}

std::string Interval(const Standing& s) {
  if (!s.llm_over_expert || !std::isfinite(s.llm_over_expert->lo)) return "-";
  return fmt::format("{:.2f}-{:.2f}", s.llm_over_expert->lo, s.llm_over_expert->hi);
}

std::string Cells(const Standing& s) {
  return s.cells == 0 ? "-" : fmt::format("{}/{}", s.cells_at_least_expert, s.cells);
}

std::string PerCorrect(const std::optional<double>& v, bool complete, const char* format) {
  if (!v) return "-";
  return fmt::vformat(format, fmt::make_format_args(*v)) + (complete ? "" : "+");
}

// pass@k is left out where k is 1: it is pass@1.
std::vector<std::string> Figures(const Standing& s, int k) {
  std::vector<std::string> figures = {std::to_string(s.samples), Percent(s.pass_at_1)};
  if (k > 1) figures.push_back(Percent(s.pass_at_k));
  for (auto& f : std::vector<std::string>{
           Percent(s.fast_1_base), Percent(s.fast_2_base), Percent(s.fast_1_expert),
           Percent(s.fast_2_expert), Ratio(s), Interval(s), Cells(s),
           PerCorrect(s.tokens_per_correct, s.tokens_complete, "{:.0f}"),
           PerCorrect(s.cost_per_correct, s.cost_complete, "{:.4f}")}) {
    figures.push_back(std::move(f));
  }
  return figures;
}

std::vector<std::string> FigureHeader(int k) {
  std::vector<std::string> header = {"n", "pass@1"};
  if (k > 1) header.push_back("pass@" + std::to_string(k));
  for (const char* h :
       {"fast_1.0 base", "fast_2.0 base", "fast_1.0 expert", "fast_2.0 expert", "LLM/Expert",
        "95% CI", "Cells >= expert", "Tokens/correct", "USD/correct"}) {
    header.emplace_back(h);
  }
  return header;
}

Grid MakeGrid(std::vector<std::string> header, size_t left_columns) {
  Grid grid;
  grid.header = std::move(header);
  grid.right_aligned.assign(grid.header.size(), true);
  for (size_t c = 0; c < left_columns && c < grid.right_aligned.size(); ++c) {
    grid.right_aligned[c] = false;
  }
  return grid;
}

std::string Optional(const std::optional<double>& v) { return CsvNumber(v); }

nlohmann::json OptionalJson(const std::optional<double>& v) {
  return v && std::isfinite(*v) ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

nlohmann::json StandingToJson(const Standing& s, int rank) {
  nlohmann::json j = {{"model", s.model},
                      {"task", s.task.empty() ? nlohmann::json(nullptr) : nlohmann::json(s.task)},
                      {"tasks", s.tasks},
                      {"samples", s.samples},
                      {"correct", s.correct},
                      {"pass_at_1", OptionalJson(s.pass_at_1)},
                      {"pass_at_k", OptionalJson(s.pass_at_k)},
                      {"fast_1_base", OptionalJson(s.fast_1_base)},
                      {"fast_2_base", OptionalJson(s.fast_2_base)},
                      {"fast_1_expert", OptionalJson(s.fast_1_expert)},
                      {"fast_2_expert", OptionalJson(s.fast_2_expert)},
                      {"llm_over_expert", nullptr},
                      {"cells", s.cells},
                      {"cells_at_least_expert", s.cells_at_least_expert},
                      {"tokens", s.tokens ? nlohmann::json(*s.tokens) : nlohmann::json(nullptr)},
                      {"tokens_complete", s.tokens_complete},
                      {"cost_usd", OptionalJson(s.cost_usd)},
                      {"cost_complete", s.cost_complete},
                      {"tokens_per_correct", OptionalJson(s.tokens_per_correct)},
                      {"cost_per_correct_usd", OptionalJson(s.cost_per_correct)}};
  if (s.llm_over_expert) {
    j["llm_over_expert"] = {{"geomean", OptionalJson(s.llm_over_expert->point)},
                            {"lo", OptionalJson(s.llm_over_expert->lo)},
                            {"hi", OptionalJson(s.llm_over_expert->hi)}};
  }
  if (rank > 0) j["rank"] = rank;
  return j;
}

int RankOf(const Leaderboard& board, const std::string& model) {
  for (size_t i = 0; i < board.models.size(); ++i) {
    if (board.models[i].model == model) return static_cast<int>(i + 1);
  }
  return 0;
}

std::vector<std::string> CsvRecord(const Standing& s, int rank, int k) {
  const std::optional<RatioCi>& r = s.llm_over_expert;
  return {std::to_string(rank),
          s.model,
          s.task.empty() ? "all" : s.task,
          std::to_string(s.tasks),
          std::to_string(s.samples),
          std::to_string(s.correct),
          std::to_string(k),
          Optional(s.pass_at_1),
          Optional(s.pass_at_k),
          Optional(s.fast_1_base),
          Optional(s.fast_2_base),
          Optional(s.fast_1_expert),
          Optional(s.fast_2_expert),
          r ? CsvNumber(r->point) : "",
          r ? CsvNumber(r->lo) : "",
          r ? CsvNumber(r->hi) : "",
          std::to_string(s.cells),
          std::to_string(s.cells_at_least_expert),
          s.tokens ? std::to_string(*s.tokens) : "",
          s.tokens_complete ? "true" : "false",
          Optional(s.cost_usd),
          s.cost_complete ? "true" : "false",
          Optional(s.tokens_per_correct),
          Optional(s.cost_per_correct)};
}

void PrintCsvBoard(const Leaderboard& board, std::ostream& out) {
  PrintCsvRecord({"rank",
                  "model",
                  "task",
                  "tasks",
                  "samples",
                  "correct",
                  "k",
                  "pass_at_1",
                  "pass_at_k",
                  "fast_1_base",
                  "fast_2_base",
                  "fast_1_expert",
                  "fast_2_expert",
                  "llm_over_expert_x",
                  "llm_over_expert_lo_x",
                  "llm_over_expert_hi_x",
                  "cells",
                  "cells_at_least_expert",
                  "tokens",
                  "tokens_complete",
                  "cost_usd",
                  "cost_complete",
                  "tokens_per_correct",
                  "cost_per_correct_usd"},
                 out);
  for (size_t i = 0; i < board.models.size(); ++i) {
    PrintCsvRecord(CsvRecord(board.models[i], static_cast<int>(i + 1), board.k), out);
  }
  for (const Standing& s : board.tasks) {
    PrintCsvRecord(CsvRecord(s, RankOf(board, s.model), board.k), out);
  }
}

void PrintTextBoard(const Leaderboard& board, const std::string& heading, bool markdown,
                    std::ostream& out) {
  auto grid = [&](const Grid& g) { markdown ? PrintMarkdownGrid(g, out) : PrintTextGrid(g, out); };
  if (!heading.empty()) out << heading << "\n\n";
  out << (markdown ? "## Models\n\n" : "Models, ranked\n");
  grid(LeaderboardGrid(board));
  out << (markdown ? "\n## Per task\n\n" : "\nPer task\n");
  grid(TaskStandingsGrid(board));
  out << "\n";
  for (const std::string& note : board.notes) {
    if (markdown) {
      out << note << "\n\n";
      continue;
    }
    for (const auto& line : WrapText(note, kFooterWidth)) out << line << "\n";
  }
}

void PrintHtmlBoard(const Leaderboard& board, const std::string& heading, std::ostream& out) {
  BeginHtmlPage("tritonize leaderboard", out);
  out << "<h1>tritonize leaderboard</h1>\n";
  if (!heading.empty()) out << "<p class=\"heading\">" << XmlEscape(heading) << "</p>\n";
  PrintLeaderboardHtml(board, out);
  EndHtmlPage(out);
}

}  // namespace

Grid LeaderboardGrid(const Leaderboard& board) {
  std::vector<std::string> header = {"#", "Model", "Tasks"};
  for (auto& h : FigureHeader(board.k)) header.push_back(std::move(h));
  Grid grid = MakeGrid(std::move(header), 2);
  grid.right_aligned[0] = true;
  for (size_t i = 0; i < board.models.size(); ++i) {
    const Standing& s = board.models[i];
    std::vector<std::string> row = {std::to_string(i + 1), s.model, std::to_string(s.tasks)};
    for (auto& f : Figures(s, board.k)) row.push_back(std::move(f));
    grid.rows.push_back(std::move(row));
  }
  return grid;
}

Grid TaskStandingsGrid(const Leaderboard& board) {
  std::vector<std::string> header = {"Model", "Task"};
  for (auto& h : FigureHeader(board.k)) header.push_back(std::move(h));
  Grid grid = MakeGrid(std::move(header), 2);
  for (const Standing& s : board.tasks) {
    std::vector<std::string> row = {s.model, s.task};
    for (auto& f : Figures(s, board.k)) row.push_back(std::move(f));
    grid.rows.push_back(std::move(row));
  }
  return grid;
}

std::string LeaderboardChart(const Leaderboard& board) {
  std::vector<IntervalMark> marks;
  for (const Standing& s : board.models) {
    if (!s.llm_over_expert) continue;
    const RatioCi& r = *s.llm_over_expert;
    IntervalMark m;
    m.label = s.model;
    m.point = r.point;
    m.lo = r.lo;
    m.hi = r.hi;
    m.kind = !std::isfinite(r.lo) ? "tie" : r.lo > 1 ? "win" : r.hi < 1 ? "loss" : "tie";
    m.text = FormatSpeedup(r.point) +
             (std::isfinite(r.lo) ? fmt::format(" ({:.2f}-{:.2f})", r.lo, r.hi) : "");
    marks.push_back(std::move(m));
  }
  if (marks.empty()) return "";
  return IntervalChart("Geomean LLM/Expert over every cell, with its 95% interval", marks,
                       "= expert");
}

nlohmann::json LeaderboardToJson(const Leaderboard& board) {
  nlohmann::json models = nlohmann::json::array(), tasks = nlohmann::json::array();
  for (size_t i = 0; i < board.models.size(); ++i) {
    models.push_back(StandingToJson(board.models[i], static_cast<int>(i + 1)));
  }
  for (const Standing& s : board.tasks) tasks.push_back(StandingToJson(s, 0));
  return {{"schema_version", kLeaderboardJsonSchemaVersion},
          {"k", board.k},
          {"timed", board.timed},
          {"models", models},
          {"tasks", tasks},
          {"notes", board.notes}};
}

void PrintLeaderboardHtml(const Leaderboard& board, std::ostream& out) {
  out << "<section id=\"leaderboard\">\n<h2>Models across tasks</h2>\n";
  const std::string chart = LeaderboardChart(board);
  if (!chart.empty()) out << "<figure>\n" << chart << "</figure>\n";
  PrintHtmlTable(LeaderboardGrid(board), out);
  out << "<details><summary>Per task</summary>\n";
  PrintHtmlTable(TaskStandingsGrid(board), out);
  out << "</details>\n";
  for (const std::string& note : board.notes) {
    out << "<p class=\"" << (&note == &board.notes.front() ? "muted" : "caveat") << "\">"
        << XmlEscape(note) << "</p>\n";
  }
  out << "</section>\n";
}

void PrintLeaderboard(ReportFormat format, const Leaderboard& board, const std::string& heading,
                      std::ostream& out) {
  switch (format) {
    case ReportFormat::kText:
      PrintTextBoard(board, heading, false, out);
      return;
    case ReportFormat::kMarkdown:
      PrintTextBoard(board, heading, true, out);
      return;
    case ReportFormat::kCsv:
      PrintCsvBoard(board, out);
      return;
    case ReportFormat::kJson: {
      nlohmann::json j = LeaderboardToJson(board);
      j["heading"] = heading;
      out << j.dump(2) << "\n";
      return;
    }
    case ReportFormat::kHtml:
      PrintHtmlBoard(board, heading, out);
      return;
  }
}

}  // namespace tritonize

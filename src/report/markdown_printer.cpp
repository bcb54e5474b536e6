#include "report/markdown_printer.h"

#include <string>

#include "report/format.h"
#include "report/grid.h"
#include "report/sections.h"

namespace tritonize {
namespace {

std::string Escape(const std::string& text) {
  std::string escaped;
  for (char c : text) {
    if (c == '|') {
      escaped += '\\';
    }
    escaped += c;
  }
  return escaped;
}

void PrintRow(const std::vector<std::string>& cells, bool bold, std::ostream& out) {
  out << "|";
  for (const auto& cell : cells) {
    if (bold && !cell.empty() && cell != "-") {
      out << " **" << Escape(cell) << "** |";
    } else {
      out << " " << Escape(cell) << " |";
    }
  }
  out << "\n";
}

}  // namespace

void PrintMarkdownGrid(const Grid& grid, std::ostream& out) {
  PrintRow(grid.header, false, out);
  out << "|";
  for (bool right : grid.right_aligned) {
    out << (right ? " ---: |" : " :--- |");
  }
  out << "\n";
  for (size_t r = 0; r < grid.rows.size(); ++r) {
    PrintRow(grid.rows[r], grid.last_row_is_summary && r + 1 == grid.rows.size(), out);
  }
}

void PrintMarkdown(const BenchReport& report, std::ostream& out) {
  for (const TaskTable& table : report.tables) {
    out << "## " << table.task << "\n\n" << table.description << "\n\n";
    bool first = true;
    for (const Section& section : Sections(report.timed)) {
      if (!Shown(section, table)) continue;
      out << (first ? "" : "\n") << section.title << ".\n\n";
      PrintMarkdownGrid(section.grid(table), out);
      for (const std::string& note : SectionNotes(section, table)) out << "\n" << note << ".\n";
      first = false;
    }
    if (!table.notes.empty()) {
      out << "\nNotes:\n\n";
      for (const auto& note : table.notes) {
        out << "- " << note << "\n";
      }
    }
    out << "\n";
  }
  if (!report.method.empty()) {
    out << report.method << "\n";
  }
  const std::string environment = EnvironmentLine(report.environment);
  if (!environment.empty()) {
    out << "\nEnvironment: " << environment << "\n";
  }
}

}  // namespace tritonize

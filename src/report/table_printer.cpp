#include "report/table_printer.h"

#include <algorithm>
#include <string>
#include <vector>

#include "report/format.h"
#include "report/grid.h"
#include "report/sections.h"

namespace tritonize {
namespace {

constexpr size_t kFooterWidth = 100;

// Columns on screen, not bytes: "±" is two bytes of UTF-8 and one column.
size_t DisplayWidth(const std::string& text) {
  size_t width = 0;
  for (const char c : text) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++width;
  }
  return width;
}

std::string Pad(const std::string& text, size_t width, bool right) {
  const size_t shown = DisplayWidth(text);
  const std::string fill(width > shown ? width - shown : 0, ' ');
  return right ? fill + text : text + fill;
}

std::string TrimRight(std::string line) {
  line.erase(line.find_last_not_of(' ') + 1);
  return line;
}

std::string Line(const std::vector<std::string>& cells, const std::vector<size_t>& widths,
                 const std::vector<bool>& right) {
  std::string line;
  for (size_t i = 0; i < cells.size(); ++i) {
    if (i > 0) {
      line += " | ";
    }
    line += Pad(cells[i], widths[i], right[i]);
  }
  return TrimRight(line);
}

std::string Rule(const std::vector<size_t>& widths) {
  std::string line;
  for (size_t i = 0; i < widths.size(); ++i) {
    if (i > 0) {
      line += "-+-";
    }
    line += std::string(widths[i], '-');
  }
  return line;
}

}  // namespace

void PrintTextGrid(const Grid& grid, std::ostream& out) {
  std::vector<size_t> widths(grid.header.size());
  for (size_t i = 0; i < widths.size(); ++i) {
    widths[i] = DisplayWidth(grid.header[i]);
    for (const auto& row : grid.rows) {
      widths[i] = std::max(widths[i], DisplayWidth(row[i]));
    }
  }
  // Headers are aligned like their column, so a number's header sits over its digits.
  out << Line(grid.header, widths, grid.right_aligned) << "\n" << Rule(widths) << "\n";
  for (size_t r = 0; r < grid.rows.size(); ++r) {
    if (grid.last_row_is_summary && r + 1 == grid.rows.size()) {
      out << Rule(widths) << "\n";
    }
    out << Line(grid.rows[r], widths, grid.right_aligned) << "\n";
  }
}

namespace {

void PrintTaskTable(const TaskTable& table, bool timed, std::ostream& out) {
  out << table.task << ": " << table.description << "\n\n";
  bool first = true;
  for (const Section& section : Sections(timed)) {
    if (!Shown(section, table)) continue;
    out << (first ? "" : "\n") << section.title << "\n";
    PrintTextGrid(section.grid(table), out);
    for (const std::string& note : SectionNotes(section, table)) out << note << "\n";
    first = false;
  }
  if (!table.notes.empty()) {
    out << "\nNotes:\n";
    for (const auto& note : table.notes) {
      out << "  " << note << "\n";
    }
  }
}

}  // namespace

void PrintTables(const BenchReport& report, std::ostream& out) {
  for (const TaskTable& table : report.tables) {
    PrintTaskTable(table, report.timed, out);
    out << "\n";
  }
  for (const auto& line : WrapText(report.method, kFooterWidth)) {
    out << line << "\n";
  }
  const std::string environment = EnvironmentLine(report.environment);
  if (!environment.empty()) {
    out << "Environment: " << environment << "\n";
  }
}

}  // namespace tritonize

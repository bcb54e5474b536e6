#include "report/markdown_printer.h"

#include <string>

#include "report/format.h"
#include "report/grid.h"

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

void PrintGrid(const Grid& grid, std::ostream& out) {
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

}  // namespace

void PrintMarkdown(const BenchReport& report, std::ostream& out) {
  for (const TaskTable& table : report.tables) {
    out << "## " << table.task << "\n\n" << table.description << "\n\n";
    if (report.timed) {
      out << "Kernel time (median per call ±IQR/median); ratios are speedups, higher is better: "
             "+ clear win, - clear loss, ~ tie (the 95% interval contains 1.0).\n\n";
      PrintGrid(KernelTimeGrid(table), out);
      if (HasRoofline(table)) {
        out << "\nThroughput (GB/s if memory-bound, else TFLOP/s), % of the spec roofline "
               "[% of the measured ceiling].\n\n";
        PrintGrid(RooflineGrid(table), out);
        for (const std::string& note : AboveCeilingNotes(table)) out << "\n" << note << ".\n";
      }
      out << "\nCall latency (CUDA events, median per call).\n\n";
      PrintGrid(CallLatencyGrid(table), out);
      out << "\nHost time per call (back-to-back calls, no synchronisation).\n\n";
      PrintGrid(HostOverheadGrid(table), out);
      out << "\nFirst call (compile + autotune, wall time).\n\n";
      PrintGrid(FirstCallGrid(table), out);
    } else {
      out << "Correctness (no timings).\n\n";
      PrintGrid(CorrectnessGrid(table), out);
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

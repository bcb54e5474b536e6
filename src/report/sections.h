#pragma once

#include <string>
#include <vector>

#include "report/bench_report.h"
#include "report/grid.h"

namespace tritonize {

/// One table of a task's report. The list below is the one place that says which tables a
/// report has and in what order: the text, Markdown and HTML printers all walk it.
struct Section {
  const char* id;     // a stable name: HTML anchors and CSS classes
  const char* title;  // what the table measures, without a final period
  Grid (*grid)(const TaskTable& table);
  bool (*shown)(const TaskTable& table);                      // null: always
  std::vector<std::string> (*notes)(const TaskTable& table);  // lines under it; null: none
};

/// The tables of a timed report (kernel time, throughput, call latency, host time, first
/// call), or of a correctness-only one.
const std::vector<Section>& Sections(bool timed);

/// Whether `section` has something to show for `table`.
bool Shown(const Section& section, const TaskTable& table);

/// The section's notes for `table`; empty when it has none.
std::vector<std::string> SectionNotes(const Section& section, const TaskTable& table);

}  // namespace tritonize

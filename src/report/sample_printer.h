#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "report/grid.h"
#include "report/sample_metrics.h"

namespace tritonize {

/// One table of sample metrics: a model's, one row per task.
struct SampleTable {
  std::string title;  // "Samples: LLM (model); final turn of each sample, ..."
  Grid grid;
};

/// One table per model, in the order the models first appear. Fractions as percentages; "-"
/// where a figure does not exist (no timings under --interpret, no price).
std::vector<SampleTable> SampleTables(const std::vector<SampleMetrics>& metrics);

/// What the figures mean, printed under the tables.
std::string SampleFootnote(bool timed);

/// The tables as text, each after a blank line, then the footnote; nothing without metrics.
void PrintSampleTables(const std::vector<SampleMetrics>& metrics, bool timed, std::ostream& out);

}  // namespace tritonize

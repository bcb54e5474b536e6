#pragma once

#include <ostream>
#include <vector>

#include "report/sample_metrics.h"

namespace tritonize {

/// One table per model of the sample metrics, one row per task. Fractions as percentages;
/// "-" where a figure does not exist (no timings under --interpret, no price).
void PrintSampleTables(const std::vector<SampleMetrics>& metrics, bool timed, std::ostream& out);

}  // namespace tritonize

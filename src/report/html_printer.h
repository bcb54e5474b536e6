#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "report/bench_report.h"
#include "report/sample_metrics.h"

namespace tritonize {

/// The report as one self-contained HTML page (inline style and SVG, nothing fetched): across
/// tasks, the model leaderboard; per task, LLM/Expert with its 95% interval per size and model
/// and the share of the spec roofline of every column as charts, then the same tables as the
/// text report (Sections); the sample tables; the method and the environment.
void PrintHtml(const BenchReport& report, const std::vector<SampleMetrics>& samples,
               const std::string& heading, std::ostream& out);

}  // namespace tritonize

#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "report/bench_report.h"
#include "report/report_format.h"
#include "report/sample_metrics.h"

namespace tritonize {

/// Prints a report in `format`: what `report --format` and `bench --format` print.
///   text: the aligned tables, the sample tables, the method and environment (PrintTables)
///   md:   the same as GitHub Markdown
///   csv:  one record per cell (PrintCsv); the sample metrics are in the other formats
///   json: ReportToJson with "samples" and "heading"
///   html: one self-contained page with charts (PrintHtml)
/// `heading` says where the report comes from ("Run 3 of results.db, started ..."); empty:
/// none. False, with *err, when the stream could not be written.
bool PrintReport(ReportFormat format, const BenchReport& report,
                 const std::vector<SampleMetrics>& samples, const std::string& heading,
                 std::ostream& out, std::string* err);

}  // namespace tritonize

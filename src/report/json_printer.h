#pragma once

#include <nlohmann/json.hpp>

#include "report/bench_report.h"

namespace tritonize {

constexpr int kReportJsonSchemaVersion = 1;

/// The whole report as JSON: every summary, ratio, geomean, rating, status, message and note,
/// with the environment and the method. Figures that are undefined are null.
nlohmann::json ReportToJson(const BenchReport& report);

}  // namespace tritonize

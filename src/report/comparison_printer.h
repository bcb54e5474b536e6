#pragma once

#include <nlohmann/json.hpp>
#include <ostream>
#include <string>

#include "report/comparison.h"
#include "report/grid.h"
#include "report/report_format.h"

namespace tritonize {

constexpr int kComparisonJsonSchemaVersion = 1;

/// Task | Column | Size | each run's kernel-time median | per later run: its change against
/// the first, the 95% interval of that change, what it says [| Spread across the runs].
Grid ChangeGrid(const Comparison& comparison);

/// Task | Model | Size | each run's LLM/Expert with its interval | whether they overlap.
Grid ExpertRatioGrid(const Comparison& comparison);

/// The lines under the tables: the count of each change, the rule that flags one (the
/// allowance and what the intervals cover), the caller's notes, the stability verdict.
std::vector<std::string> ComparisonFooter(const Comparison& comparison);

nlohmann::json ComparisonToJson(const Comparison& comparison);

/// The comparison in `format`. CSV: one record per cell and later run.
void PrintComparison(ReportFormat format, const Comparison& comparison, std::ostream& out);

}  // namespace tritonize

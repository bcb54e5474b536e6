#pragma once

#include <ostream>

#include "report/bench_report.h"

namespace tritonize {

/// The same tables as PrintTables, as GitHub-flavoured Markdown (for READMEs and PRs).
void PrintMarkdown(const BenchReport& report, std::ostream& out);

}  // namespace tritonize

#pragma once

#include <ostream>

#include "report/bench_report.h"
#include "report/grid.h"

namespace tritonize {

/// The same tables as PrintTables, as GitHub-flavoured Markdown (for READMEs and PRs).
void PrintMarkdown(const BenchReport& report, std::ostream& out);

/// One grid as a GitHub-flavoured Markdown table ("|" in a cell escaped, a summary row bold).
void PrintMarkdownGrid(const Grid& grid, std::ostream& out);

}  // namespace tritonize

#pragma once

#include <ostream>

#include "report/bench_report.h"
#include "report/grid.h"

namespace tritonize {

/// Plain-text tables for a terminal: per task the kernel-time table with speedups and
/// ratings, the call-latency table and the notes (or, for an untimed run, the correctness
/// table and the notes); then the method and the environment.
void PrintTables(const BenchReport& report, std::ostream& out);

/// One grid as an aligned text table: " | " between columns, a rule under the header and
/// above a summary row; widths in display columns (UTF-8 aware).
void PrintTextGrid(const Grid& grid, std::ostream& out);

}  // namespace tritonize

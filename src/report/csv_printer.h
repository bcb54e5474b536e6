#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "report/bench_report.h"

namespace tritonize {

/// A field as RFC 4180 writes it: quoted, with quotes doubled, when it holds a comma, a
/// quote, a CR or a LF; as it is otherwise.
std::string CsvField(const std::string& text);

/// One record: the fields joined by commas, ended by a LF.
void PrintCsvRecord(const std::vector<std::string>& fields, std::ostream& out);

/// A number as CSV holds it: the shortest text that reads back as the same double; an empty
/// field when it is not finite or absent, so that a reader sees a missing value.
std::string CsvNumber(double value);
std::string CsvNumber(const std::optional<double>& value);

/// One record per cell (ReportCells: task, model, size, mode, implementation), the header
/// naming each figure's unit (_us, _s, _x for a speedup, _pct, gb_per_s): what pandas.read_csv
/// loads as typed columns. Undefined figures are empty fields; booleans are true or false.
void PrintCsv(const BenchReport& report, std::ostream& out);

}  // namespace tritonize

#pragma once

#include <CLI/CLI.hpp>
#include <string>

namespace tritonize {

/// `--format text|md|csv|json|html` (default text; also TRITONIZE_FORMAT): what every command
/// that prints a report takes, parsed with ParseReportFormat (report/report_format.h).
void AddFormatOption(CLI::App* app, std::string* format);

}  // namespace tritonize

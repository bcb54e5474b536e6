#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace tritonize {

/// What a report is printed as: the one list of formats every command's --format takes.
enum class ReportFormat { kText, kMarkdown, kCsv, kJson, kHtml };

/// "text", "md", "csv", "json", "html": in the order --help lists them.
const std::vector<std::string>& ReportFormatNames();

std::string_view ReportFormatName(ReportFormat format);

/// False, with an error naming the formats there are, for any other name.
bool ParseReportFormat(const std::string& name, ReportFormat* format, std::string* err);

}  // namespace tritonize

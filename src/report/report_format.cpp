#include "report/report_format.h"

#include <array>
#include <utility>

namespace tritonize {
namespace {

constexpr std::array<std::pair<ReportFormat, std::string_view>, 5> kFormats = {{
    {ReportFormat::kText, "text"},
    {ReportFormat::kMarkdown, "md"},
    {ReportFormat::kCsv, "csv"},
    {ReportFormat::kJson, "json"},
    {ReportFormat::kHtml, "html"},
}};

}  // namespace

const std::vector<std::string>& ReportFormatNames() {
  static const std::vector<std::string> kNames = [] {
    std::vector<std::string> names;
    for (const auto& [format, name] : kFormats) names.emplace_back(name);
    return names;
  }();
  return kNames;
}

std::string_view ReportFormatName(ReportFormat format) {
  for (const auto& [f, name] : kFormats) {
    if (f == format) return name;
  }
  return "text";
}

bool ParseReportFormat(const std::string& name, ReportFormat* format, std::string* err) {
  for (const auto& [f, known] : kFormats) {
    if (name == known) {
      *format = f;
      return true;
    }
  }
  std::string names;
  for (const auto& known : ReportFormatNames()) names += (names.empty() ? "" : ", ") + known;
  *err = "--format: unknown format \"" + name + "\" (known: " + names + ")";
  return false;
}

}  // namespace tritonize

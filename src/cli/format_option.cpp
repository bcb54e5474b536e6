#include "cli/format_option.h"

#include "report/report_format.h"

namespace tritonize {

void AddFormatOption(CLI::App* app, std::string* format) {
  std::string names;
  for (const auto& name : ReportFormatNames()) names += (names.empty() ? "" : "|") + name;
  *format = "text";
  app->add_option("--format", *format,
                  "What to print: " + names +
                      " (text: aligned tables; md: Markdown; csv: one record per cell; json; "
                      "html: one self-contained page with charts)")
      ->capture_default_str()
      ->envname("TRITONIZE_FORMAT")
      ->check(CLI::IsMember(ReportFormatNames()));
}

}  // namespace tritonize

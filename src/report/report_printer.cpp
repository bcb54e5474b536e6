#include "report/report_printer.h"

#include <array>

#include "report/csv_printer.h"
#include "report/html_printer.h"
#include "report/json_printer.h"
#include "report/markdown_printer.h"
#include "report/sample_printer.h"
#include "report/table_printer.h"

namespace tritonize {
namespace {

struct Document {
  const BenchReport& report;
  const std::vector<SampleMetrics>& samples;
  const std::string& heading;
};

void PrintText(const Document& d, std::ostream& out) {
  if (!d.heading.empty()) out << d.heading << "\n\n";
  PrintTables(d.report, out);
  PrintSampleTables(d.samples, d.report.timed, out);
}

void PrintMd(const Document& d, std::ostream& out) {
  out << "# tritonize report\n\n";
  if (!d.heading.empty()) out << d.heading << "\n\n";
  PrintMarkdown(d.report, out);
  const std::vector<SampleTable> tables = SampleTables(d.samples);
  for (const SampleTable& table : tables) {
    out << "\n## " << table.title << "\n\n";
    PrintMarkdownGrid(table.grid, out);
  }
  if (!tables.empty()) out << "\n" << SampleFootnote(d.report.timed) << "\n";
}

void PrintCsvDocument(const Document& d, std::ostream& out) { PrintCsv(d.report, out); }

void PrintJson(const Document& d, std::ostream& out) {
  nlohmann::json j = ReportToJson(d.report);
  j["heading"] = d.heading;
  j["samples"] = nlohmann::json::array();
  for (const SampleMetrics& m : d.samples) j["samples"].push_back(SampleMetricsToJson(m));
  out << j.dump(2) << "\n";
}

void PrintHtmlDocument(const Document& d, std::ostream& out) {
  PrintHtml(d.report, d.samples, d.heading, out);
}

/// The printers, one per format.
struct Printer {
  ReportFormat format;
  void (*print)(const Document& document, std::ostream& out);
};

constexpr std::array<Printer, 5> kPrinters = {{
    {ReportFormat::kText, PrintText},
    {ReportFormat::kMarkdown, PrintMd},
    {ReportFormat::kCsv, PrintCsvDocument},
    {ReportFormat::kJson, PrintJson},
    {ReportFormat::kHtml, PrintHtmlDocument},
}};

}  // namespace

bool PrintReport(ReportFormat format, const BenchReport& report,
                 const std::vector<SampleMetrics>& samples, const std::string& heading,
                 std::ostream& out, std::string* err) {
  for (const Printer& printer : kPrinters) {
    if (printer.format == format) printer.print({report, samples, heading}, out);
  }
  out.flush();
  if (!out) {
    *err = "cannot write the " + std::string(ReportFormatName(format)) + " report";
    return false;
  }
  return true;
}

}  // namespace tritonize

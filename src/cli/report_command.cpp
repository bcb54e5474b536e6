// `tritonize report`: print a stored `bench` run's tables again, from the store alone. Nothing
// is run: the samples are the ones the run measured, the statistics are this engine's. Use it
// for the tables of a run whose output was lost, to see a run under a newer method, or to
// print it in another format (--format md|csv|json|html).
#include <fmt/format.h>

#include <iostream>
#include <memory>

#include "cli/command.h"
#include "cli/context.h"
#include "cli/format_option.h"
#include "cli/stored_runs.h"
#include "report/report_printer.h"

namespace tritonize {
namespace {

namespace fs = std::filesystem;

struct ReportOptions {
  CommonOptions common;
  int64_t run = 0;  // 0: the newest
  std::string json_path;
  std::string calibration;
  std::string format;
};

int RunReport(const ReportOptions& options) {
  // Pass 1: configuration; every usage error at once.
  std::vector<std::string> errors;
  EngineContext context;
  MakeContext(options.common, &context, &errors);
  ReportFormat format = ReportFormat::kText;
  std::string err;
  if (!ParseReportFormat(options.format, &format, &err)) errors.push_back(err);
  std::error_code ec;
  if (!fs::is_regular_file(options.common.db, ec)) {
    errors.push_back(fmt::format("--db {}: no such file", options.common.db));
  }
  if (!errors.empty()) return ReportUsageErrors(errors);

  // Pass 2: the run and its jobs, from the store.
  LoadedRun run;
  if (!LoadRun(options.common.db, options.run, context.suite, &run, &err)) {
    std::cerr << "tritonize: error: " << err << "\n";
    return kExitFailed;
  }
  if (run.run.status != "finished") {
    std::cerr << fmt::format(
        "tritonize: note: run {} is {}: the tables show the jobs it stored (bench --resume "
        "finishes it)\n",
        run.run.id, run.run.status);
    MarkColumnsNotRun(&run);
  }

  // Pass 3: the tables, as bench built them, in the format asked for.
  const BenchReport report = ReportOfRun(run, options.calibration);
  const std::vector<SampleMetrics> samples = SampleMetricsOfRun(run);
  bool ok = PrintReport(format, report, samples, RunHeading(run), std::cout, &err);
  if (!ok) std::cerr << "tritonize: error: " << err << "\n";
  if (!options.json_path.empty()) {
    ok = WriteBenchJson(options.json_path, report, samples, run.plan, run.run.id,
                        options.common.db) &&
         ok;
  }
  return ok ? kExitOk : kExitFailed;
}

}  // namespace

std::function<int()> SetupReport(CLI::App* app) {
  auto options = std::make_shared<ReportOptions>();
  AddCommonOptions(app, &options->common);
  app->add_option("--run", options->run, "The run's id in --db (default: the newest)")
      ->check(CLI::PositiveNumber);
  app->add_option("--json", options->json_path, "Also write every figure as JSON to this file");
  AddFormatOption(app, &options->format);
  AddCalibrationOption(app, &options->calibration);
  return [options] { return RunReport(*options); };
}

}  // namespace tritonize

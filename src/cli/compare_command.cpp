// `tritonize compare RUN_A RUN_B [RUN ...]`: how each cell's kernel time moved from the first
// run to each later one, flagged only when its interval and the allowance for what moves
// between machines both say so. Exit status for CI: 0 no regression, 1 a regression (a cell
// slower beyond the allowance, or ok before and failing now), 2 usage. With --stability, 1
// when docs/measurement.md's stability criterion fails instead.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <iostream>
#include <memory>
#include <set>

#include "cli/command.h"
#include "cli/context.h"
#include "cli/format_option.h"
#include "cli/stored_runs.h"
#include "report/comparison.h"
#include "report/comparison_printer.h"

namespace tritonize {
namespace {

struct CompareCommandOptions {
  CommonOptions common;
  std::vector<std::string> runs;
  double threshold = 0.02;
  double min_kernel_us = 0;
  bool stability = false;
  std::string format;
  std::string calibration;
};

std::string GpuList(const std::map<std::string, std::string>& gpus) {
  std::vector<std::string> parts;
  for (const auto& [uuid, name] : gpus) {
    parts.push_back(uuid.substr(0, 12) + (name.empty() ? "" : " " + name));
  }
  return parts.empty() ? "not recorded" : fmt::format("{}", fmt::join(parts, ", "));
}

/// What the runs' GPUs say about reading the intervals.
std::vector<std::string> GpuNotes(const std::vector<LoadedRun>& runs) {
  std::vector<std::string> notes;
  std::set<std::set<std::string>> sets;
  std::string each;
  bool unknown = false, spans = false;
  for (size_t r = 0; r < runs.size(); ++r) {
    const auto gpus = RunGpus(runs[r]);
    std::set<std::string> uuids;
    for (const auto& [uuid, name] : gpus) uuids.insert(uuid);
    sets.insert(uuids);
    unknown = unknown || uuids.empty();
    spans = spans || uuids.size() > 1;
    each += fmt::format("{}run {}: {}", r ? "; " : "", r + 1, GpuList(gpus));
  }
  notes.push_back("GPUs: " + each + ".");
  if (unknown) {
    notes.push_back(
        "Some run does not record its GPU's uuid: whether the runs ran on one machine is not "
        "known, and the intervals cover one process on one GPU, not the spread from machine to "
        "machine.");
  } else if (sets.size() > 1 || spans) {
    if (spans) {
      notes.push_back(
          "A run's jobs ran on several GPUs (resumed on another machine): its processes' levels "
          "include the GPUs' differences.");
    }
    notes.push_back(
        "The runs ran on different GPUs: the intervals cover the processes of each run on its "
        "GPU, not the spread from machine to machine (two --repeat 1 runs on two H200s had 6 of "
        "21 LLM/Expert intervals disjoint). Only a change beyond the allowance is flagged; read a "
        "change within it as a tie.");
  }
  return notes;
}

int RunCompare(const CompareCommandOptions& options) {
  // Pass 1: configuration and the runs; every usage error at once.
  std::vector<std::string> errors;
  EngineContext context;
  MakeContext(options.common, &context, &errors);
  ReportFormat format = ReportFormat::kText;
  std::string err;
  if (!ParseReportFormat(options.format, &format, &err)) errors.push_back(err);
  std::vector<LoadedRun> runs(options.runs.size());
  for (size_t i = 0; errors.empty() && i < options.runs.size(); ++i) {
    RunSpec spec;
    if (!ParseRunSpec(options.runs[i], options.common.db, &spec, &err) ||
        !LoadRun(spec.db, spec.run, context.suite, &runs[i], &err)) {
      errors.push_back(err);
    }
  }
  if (!errors.empty()) return ReportUsageErrors(errors);

  // Pass 2: each run's tables, then every cell against the first run's.
  std::vector<BenchReport> reports;
  std::vector<std::string> labels;
  for (const LoadedRun& run : runs) {
    reports.push_back(ReportOfRun(run, options.calibration));
    labels.push_back(RunName(run));
  }
  std::vector<const BenchReport*> pointers;
  for (const BenchReport& report : reports) pointers.push_back(&report);
  CompareOptions compare;
  compare.allowance = options.threshold;
  compare.min_kernel_us = options.min_kernel_us;
  Comparison comparison = CompareReports(pointers, labels, compare);
  comparison.notes = GpuNotes(runs);
  for (const LoadedRun& run : runs) {
    if (!run.timed) comparison.notes.push_back(RunName(run) + " is an --interpret run: no times.");
  }

  // Pass 3: print; the exit status says whether there was a regression (or instability).
  PrintComparison(format, comparison, std::cout);
  std::cout.flush();
  if (!std::cout) return kExitFailed;
  if (options.stability) return comparison.instabilities.empty() ? kExitOk : kExitFailed;
  return comparison.regressions + comparison.broken > 0 ? kExitFailed : kExitOk;
}

}  // namespace

std::function<int()> SetupCompare(CLI::App* app) {
  auto options = std::make_shared<CompareCommandOptions>();
  AddCommonOptions(app, &options->common);
  app->add_option("runs", options->runs,
                  "Two or more runs, the first the reference: ID (a run of --db), FILE (the "
                  "newest run of that database) or FILE:ID")
      ->required()
      ->expected(2, 100);
  app->add_option("--threshold", options->threshold,
                  "Allowance for what moves between runs and machines, as a fraction: a change "
                  "is flagged only when its whole 95% interval lies beyond it")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 10.0));
  app->add_option("--min-kernel-us", options->min_kernel_us,
                  "Cells whose median is below this in any run are listed but never flagged")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app->add_flag("--stability", options->stability,
                "Exit 1 unless docs/measurement.md's stability criterion holds (every counted "
                "median within --threshold across the runs, every LLM/Expert interval "
                "overlapping, no row missing), instead of on regressions");
  AddFormatOption(app, &options->format);
  AddCalibrationOption(app, &options->calibration);
  return [options] { return RunCompare(*options); };
}

}  // namespace tritonize

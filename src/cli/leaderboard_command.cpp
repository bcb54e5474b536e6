// `tritonize leaderboard`: the models ranked over every stored run of a suite. The runs' table
// columns are pooled process by process where their code is the same, each LLM sample is
// scored once, and the footer says what the pooled intervals cover and what they do not.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <iostream>
#include <memory>
#include <set>

#include "cli/command.h"
#include "cli/context.h"
#include "cli/format_option.h"
#include "cli/stored_runs.h"
#include "report/leaderboard.h"
#include "report/leaderboard_printer.h"

namespace tritonize {
namespace {

struct LeaderboardOptions {
  CommonOptions common;
  std::vector<std::string> runs;  // RunSpecs; empty: every run of --db
  int k = 0;
  std::string format;
  std::string calibration;
};

/// The runs named, or every run of --db; a FILE alone stands for every run of it.
bool LoadRuns(const LeaderboardOptions& options, const TaskSuite& suite,
              std::vector<LoadedRun>* runs, std::vector<std::string>* errors) {
  std::vector<std::string> specs = options.runs;
  std::error_code ec;
  if (specs.empty() && !std::filesystem::is_regular_file(options.common.db, ec)) {
    errors->push_back(fmt::format("--db {}: no such file", options.common.db));
    return false;
  }
  if (specs.empty()) specs.push_back(options.common.db);
  for (const std::string& text : specs) {
    RunSpec spec;
    std::string err;
    if (!ParseRunSpec(text, options.common.db, &spec, &err)) {
      errors->push_back(err);
      continue;
    }
    LoadedRun run;
    const bool loaded = spec.run == 0 ? LoadAllRuns(spec.db, suite, runs, &err)
                                      : LoadRun(spec.db, spec.run, suite, &run, &err);
    if (!loaded) {
      errors->push_back(err);
    } else if (spec.run != 0) {
      runs->push_back(std::move(run));
    }
  }
  return errors->empty();
}

/// An interpreter run has verdicts but no times: pooled only when every run is one.
std::vector<LoadedRun> TimedOnly(std::vector<LoadedRun> runs, std::vector<std::string>* notes) {
  std::vector<LoadedRun> timed;
  for (LoadedRun& run : runs) {
    if (run.timed) timed.push_back(std::move(run));
  }
  if (timed.empty()) return runs;
  if (timed.size() < runs.size()) {
    notes->push_back(fmt::format("Left out: {} --interpret run(s), which have no timings.",
                                 runs.size() - timed.size()));
  }
  return timed;
}

std::string Caveat(const std::vector<LoadedRun>& runs) {
  std::set<std::string> uuids, names;
  std::string ids;
  for (const LoadedRun& run : runs) {
    ids += (ids.empty() ? "" : ", ") + RunName(run);
    for (const auto& [uuid, name] : RunGpus(run)) {
      uuids.insert(uuid.substr(0, 12));
      if (!name.empty()) names.insert(name);
    }
  }
  std::string gpus = uuids.empty()
                         ? "GPUs not recorded"
                         : fmt::format("{} GPU(s): {}", uuids.size(), fmt::join(uuids, ", "));
  if (!names.empty()) gpus += fmt::format(" ({})", fmt::join(names, ", "));
  return fmt::format(
      "Pooled over {} run(s) ({}), {}. Each cell pools the processes of every run, so its "
      "interval holds the run-to-run spread only as far as these runs sample it; an interval "
      "covers processes on the GPUs these runs had, not the spread from machine to machine (two "
      "--repeat 1 runs on two H200s had 6 of 21 LLM/Expert intervals disjoint). Models within "
      "about 2% of each other (docs/measurement.md's stability criterion) are not told apart.",
      runs.size(), ids, gpus);
}

int RunLeaderboard(const LeaderboardOptions& options) {
  // Pass 1: configuration and the runs; every usage error at once.
  std::vector<std::string> errors;
  EngineContext context;
  MakeContext(options.common, &context, &errors);
  ReportFormat format = ReportFormat::kText;
  std::string err;
  if (!ParseReportFormat(options.format, &format, &err)) errors.push_back(err);
  std::vector<LoadedRun> runs;
  if (errors.empty()) LoadRuns(options, context.suite, &runs, &errors);
  if (!errors.empty()) return ReportUsageErrors(errors);
  if (runs.empty()) {
    std::cerr << "tritonize: error: no stored run with jobs in " << options.common.db << "\n";
    return kExitFailed;
  }

  // Pass 2: one pooled run, its tables and sample metrics, the ranking.
  std::vector<std::string> notes;
  runs = TimedOnly(std::move(runs), &notes);
  const LoadedRun pooled = PoolRuns(runs, &notes);
  const BenchReport report = ReportOfRun(pooled, options.calibration);
  Leaderboard board = BuildLeaderboard(report, SampleMetricsOfRun(pooled), options.k);
  if (board.models.empty()) {
    std::cerr << "tritonize: error: the runs have no LLM column: nothing to rank (bench --impls "
                 "with llm)\n";
    return kExitFailed;
  }
  board.notes.push_back(Caveat(runs));
  for (const std::string& note : notes) board.notes.push_back(note);

  // Pass 3: print.
  const std::string heading =
      fmt::format("Leaderboard of {} model(s) over {} run(s)", board.models.size(), runs.size());
  PrintLeaderboard(format, board, heading, std::cout);
  std::cout.flush();
  return std::cout ? kExitOk : kExitFailed;
}

}  // namespace

std::function<int()> SetupLeaderboard(CLI::App* app) {
  auto options = std::make_shared<LeaderboardOptions>();
  AddCommonOptions(app, &options->common);
  app->add_option("runs", options->runs,
                  "Runs to pool: ID (a run of --db), FILE (every run of that database) or "
                  "FILE:ID (default: every run of --db)");
  app->add_option("--k", options->k,
                  "k of pass@k (default: the smallest number of candidates of any model and "
                  "task, so that every pass@k is defined)")
      ->check(CLI::PositiveNumber);
  AddFormatOption(app, &options->format);
  AddCalibrationOption(app, &options->calibration);
  return [options] { return RunLeaderboard(*options); };
}

}  // namespace tritonize

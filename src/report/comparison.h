#pragma once

#include <optional>
#include <string>
#include <vector>

#include "report/bench_report.h"
#include "stats/process_spread.h"
#include "stats/stats.h"

namespace tritonize {

/// How one cell's kernel time moved from the first run to a later one.
enum class Change {
  kNone,             // the interval of later/first contains 1.0
  kWithinAllowance,  // it excludes 1.0 but reaches into [1/(1+a), 1+a]: not beyond machines
  kRegression,       // slower: the whole interval above 1 + allowance
  kImprovement,      // faster: the whole interval below 1 / (1 + allowance)
  kBroken,           // ok in the first run, not ok in the later one
  kFixed,            // not ok in the first run, ok in the later one
  kIncomparable,     // missing from one of the runs, or not ok in either
};

/// What an interval of later/first kernel time says, given the allowance for what moves
/// between machines and runs that no interval of one run covers (0.02: 2%). NaN bounds: kNone.
Change ClassifyChange(const RatioCi& later_over_first, double allowance);

/// "regression", "improvement", "within allowance", "~", "broken", "fixed", "-".
const char* ChangeName(Change change);

/// One cell (task, column, size, mode) in every run.
struct CellRuns {
  std::string task, model, column, label, size, mode;  // column: baseline|expert|llm|compile
  std::vector<const Cell*> cells;                      // per run; null: not in that run
  std::vector<std::optional<RatioCi>> vs_first;        // later/first kernel time; [0] none
  std::vector<Change> changes;                         // per run; [0] kNone
  std::optional<double> spread;                        // (max - min) / min of the runs' medians
  bool counted = false;  // in every run, with a median >= min_kernel_us
  std::string why;       // what moved: tuning differences, kernels that shifted
};

/// LLM/Expert of one row in every run.
struct RowRuns {
  std::string task, model, size, mode;
  std::vector<std::optional<RatioEstimate>> llm_over_expert;  // per run
  std::vector<bool> present;                                  // per run: the run has the row
  std::optional<bool> overlap;  // do the intervals share a point; nullopt: fewer than two
};

struct CompareOptions {
  double allowance = 0.02;   // docs/measurement.md's stability criterion
  double min_kernel_us = 0;  // cells below it in any run are listed, never flagged
  int bootstrap_iterations = 2000;
  double confidence = 0.95;
};

struct Comparison {
  std::vector<std::string> runs;  // one label per run, as the caller gave them
  CompareOptions options;
  std::vector<CellRuns> cells;
  std::vector<RowRuns> rows;
  ProcessSpread spread;  // between processes, pooled over every run's cells
  int regressions = 0, improvements = 0, broken = 0, fixed = 0, within = 0, unchanged = 0;
  // The stability criterion of docs/measurement.md: every counted median within the
  // allowance across the runs, every LLM/Expert interval overlapping, no row missing.
  std::vector<std::string> instabilities;
  std::vector<std::string> notes;  // what the caller adds: GPUs, machines
};

/// Compares the runs' cells, each later run against the first: the ratio of kernel-time
/// medians with a hierarchical bootstrap interval (processes, then calls), widened to at
/// least the t interval of the between-process spread pooled over every run, classified
/// against the allowance. Also the stability criterion over all the runs.
Comparison CompareReports(const std::vector<const BenchReport*>& reports,
                          const std::vector<std::string>& labels, const CompareOptions& options);

}  // namespace tritonize

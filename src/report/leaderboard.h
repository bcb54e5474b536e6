#pragma once

#include <optional>
#include <string>
#include <vector>

#include "report/bench_report.h"
#include "report/sample_metrics.h"
#include "stats/stats.h"

namespace tritonize {

/// One model's figures on one task, or across all its tasks (task empty).
struct Standing {
  std::string model;
  std::string task;
  int tasks = 0;
  int samples = 0;  // candidates scored: final turns of its samples, else its one candidate
  int correct = 0;
  std::optional<double> pass_at_1, pass_at_k;
  // fast_p against the baseline and the expert: the share of candidates correct and at least
  // p times as fast (geomean over the timed sizes and modes); across tasks, the mean.
  std::optional<double> fast_1_base, fast_2_base, fast_1_expert, fast_2_expert;
  std::optional<RatioCi> llm_over_expert;  // geomean over the cells, with its interval
  int cells = 0;                           // cells with an LLM/Expert ratio
  int cells_at_least_expert = 0;           // of those, LLM/Expert >= 1.00 as tables round it
  std::optional<long long> tokens;         // in + out, every turn; nullopt: none recorded
  bool tokens_complete = true;             // false: some turn did not record them
  std::optional<double> cost_usd;
  bool cost_complete = true;
  std::optional<double> tokens_per_correct, cost_per_correct;
};

struct Leaderboard {
  int k = 1;  // of pass@k
  bool timed = true;
  std::vector<Standing> models;    // ranked
  std::vector<Standing> tasks;     // per model, in rank order, then per task in report order
  std::vector<std::string> notes;  // definitions, then what the caller adds (runs, GPUs)
};

/// The models of a report ranked by fast_1.0 against the expert (the share of candidates as
/// fast as the expert), then geomean LLM/Expert, then pass@1. A model's task figures come
/// from its samples (`samples`, bench's sample jobs) where it has them, else from its table
/// column as one candidate. k = 0: the smallest n of any model and task, so that every
/// model's pass@k is defined. `confidence` is that of the report's intervals.
Leaderboard BuildLeaderboard(const BenchReport& report, const std::vector<SampleMetrics>& samples,
                             int k = 0, double confidence = 0.95);

}  // namespace tritonize

#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/job.h"

namespace tritonize {

/// One scored turn of one sample of an LLM for one task.
struct SampleTurn {
  int sample = 0;
  int turn = 1;
  bool correct = false;  // the worker's status is ok
  /// Geometric mean over the timed (size, mode) pairs of baseline/LLM median kernel time;
  /// nullopt when not timed or not correct.
  std::optional<double> speedup_vs_baseline;
  std::optional<double> speedup_vs_expert;  // the same against the expert: LLM/Expert
  long long tokens_in = -1;                 // -1: unknown
  long long tokens_out = -1;
  double cost_usd = -1;  // -1: unknown
};

/// Per model and task, over the final turn of each sample unless named otherwise.
struct SampleMetrics {
  std::string model;
  std::string task;
  int samples = 0;  // n: samples with at least one answered turn
  int max_turns = 0;
  int correct = 0;  // final turns that are correct
  double correct_share = 0;
  double pass_at_1 = 0;
  double pass_at_n = 0;                   // pass@k with k = n
  std::optional<double> fast_1;           // share correct and >= 1.0x the baseline's speed
  std::optional<double> fast_2;           // share correct and >= 2.0x
  std::optional<double> at_least_expert;  // share correct and >= 1.0x the expert's speed
  std::optional<double> fast_2_expert;    // share correct and >= 2.0x the expert's speed
  std::optional<double> best_llm_over_expert;
  int oneshot_correct = 0;  // turn 1 of each sample
  double oneshot_pass_at_n = 0;
  long long tokens_in = 0;  // every turn of every sample
  long long tokens_out = 0;
  bool tokens_complete = true;
  std::optional<double> cost_usd;  // nullopt when no turn has a cost
  bool cost_complete = true;
  std::optional<double> cost_per_correct;  // cost / correct final turns
};

/// Geomean over the (size, mode) pairs both jobs timed of median(reference)/median(impl)
/// kernel time; nullopt when either is not ok or they share no timed pair.
std::optional<double> GeomeanSpeedup(const JobResult& reference, const JobResult& impl);

/// `timed` false (--interpret): fast_p and the expert ratios stay nullopt.
SampleMetrics ComputeSampleMetrics(const std::string& model, const std::string& task,
                                   const std::vector<SampleTurn>& turns, bool timed);

nlohmann::json SampleMetricsToJson(const SampleMetrics& m);

}  // namespace tritonize

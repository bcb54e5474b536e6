#include "report/sample_metrics.h"

#include <algorithm>
#include <map>

#include "stats/scores.h"
#include "stats/stats.h"

namespace tritonize {

std::optional<double> GeomeanSpeedup(const JobResult& reference, const JobResult& impl) {
  if (reference.status != Status::kOk || impl.status != Status::kOk) return std::nullopt;
  std::vector<double> ratios;
  for (const auto& t : impl.timings) {
    if (t.kernel_us.empty()) continue;
    for (const auto& r : reference.timings) {
      if (r.size == t.size && r.mode == t.mode && !r.kernel_us.empty()) {
        ratios.push_back(Median(r.kernel_us) / Median(t.kernel_us));
      }
    }
  }
  return GeometricMean(ratios);
}

namespace {

double Share(int count, int n) { return n == 0 ? 0.0 : static_cast<double>(count) / n; }

std::optional<double> ShareAtLeast(const std::vector<const SampleTurn*>& finals,
                                   std::optional<double> SampleTurn::*field, double p, bool timed) {
  if (!timed || finals.empty()) return std::nullopt;
  std::vector<SpeedupOutcome> outcomes;
  bool any = false;
  for (const SampleTurn* t : finals) {
    any = any || (t->*field).has_value();
    outcomes.push_back({t->correct, t->*field});
  }
  if (!any && field == &SampleTurn::speedup_vs_expert) return std::nullopt;  // no expert column
  return FastP(outcomes, p);
}

}  // namespace

SampleMetrics ComputeSampleMetrics(const std::string& model, const std::string& task,
                                   const std::vector<SampleTurn>& turns, bool timed) {
  SampleMetrics m;
  m.model = model;
  m.task = task;
  std::map<int, const SampleTurn*> first, last;
  for (const auto& t : turns) {
    if (!first.count(t.sample) || t.turn < first[t.sample]->turn) first[t.sample] = &t;
    if (!last.count(t.sample) || t.turn > last[t.sample]->turn) last[t.sample] = &t;
    m.max_turns = std::max(m.max_turns, t.turn);
    if (t.tokens_in < 0 || t.tokens_out < 0) m.tokens_complete = false;
    m.tokens_in += std::max(0LL, t.tokens_in);
    m.tokens_out += std::max(0LL, t.tokens_out);
    if (t.cost_usd >= 0)
      m.cost_usd = m.cost_usd.value_or(0) + t.cost_usd;
    else
      m.cost_complete = false;
  }
  std::vector<const SampleTurn*> finals;
  for (const auto& [s, t] : last) finals.push_back(t);
  m.samples = static_cast<int>(finals.size());
  for (const SampleTurn* t : finals) m.correct += t->correct;
  for (const auto& [s, t] : first) m.oneshot_correct += t->correct;
  m.correct_share = Share(m.correct, m.samples);
  if (m.samples > 0) {
    m.pass_at_1 = PassAtK(m.samples, m.correct, 1);
    m.pass_at_n = PassAtK(m.samples, m.correct, m.samples);
    m.oneshot_pass_at_n = PassAtK(m.samples, m.oneshot_correct, m.samples);
  }
  m.fast_1 = ShareAtLeast(finals, &SampleTurn::speedup_vs_baseline, 1.0, timed);
  m.fast_2 = ShareAtLeast(finals, &SampleTurn::speedup_vs_baseline, 2.0, timed);
  m.at_least_expert = ShareAtLeast(finals, &SampleTurn::speedup_vs_expert, 1.0, timed);
  m.fast_2_expert = ShareAtLeast(finals, &SampleTurn::speedup_vs_expert, 2.0, timed);
  if (timed) {
    for (const SampleTurn* t : finals) {
      if (t->correct && t->speedup_vs_expert) {
        m.best_llm_over_expert =
            std::max(m.best_llm_over_expert.value_or(0), *t->speedup_vs_expert);
      }
    }
  }
  if (m.cost_usd && m.correct > 0) m.cost_per_correct = *m.cost_usd / m.correct;
  return m;
}

nlohmann::json SampleMetricsToJson(const SampleMetrics& m) {
  auto opt = [](const std::optional<double>& v) {
    return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
  };
  return {
      {"model", m.model},
      {"task", m.task},
      {"samples", m.samples},
      {"max_turns", m.max_turns},
      {"correct", m.correct},
      {"correct_share", m.correct_share},
      {"pass_at_1", m.pass_at_1},
      {"pass_at_n", m.pass_at_n},
      {"fast_1", opt(m.fast_1)},
      {"fast_2", opt(m.fast_2)},
      {"at_least_expert", opt(m.at_least_expert)},
      {"fast_2_expert", opt(m.fast_2_expert)},
      {"best_llm_over_expert", opt(m.best_llm_over_expert)},
      {"oneshot_correct", m.oneshot_correct},
      {"oneshot_pass_at_n", m.oneshot_pass_at_n},
      {"tokens_in", m.tokens_complete ? nlohmann::json(m.tokens_in) : nlohmann::json(nullptr)},
      {"tokens_out", m.tokens_complete ? nlohmann::json(m.tokens_out) : nlohmann::json(nullptr)},
      {"cost_usd", m.cost_complete ? opt(m.cost_usd) : nlohmann::json(nullptr)},
      {"cost_per_correct_usd", m.cost_complete ? opt(m.cost_per_correct) : nlohmann::json(nullptr)},
      {"definitions",
       "final turn of each sample; pass@k unbiased (Chen et al. 2021) with k = n; fast_p: "
       "correct and geomean over the timed sizes and modes of baseline/LLM median kernel "
       "time >= p; at_least_expert, fast_2_expert: the same ratio against the expert >= 1, >= 2"}};
}

}  // namespace tritonize

#include "report/leaderboard.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <tuple>

#include "stats/scores.h"

namespace tritonize {
namespace {

const SampleMetrics* FindMetrics(const std::vector<SampleMetrics>& samples,
                                 const std::string& model, const std::string& task) {
  for (const SampleMetrics& m : samples) {
    if (m.model == model && m.task == task) return &m;
  }
  return nullptr;
}

std::optional<double> Defined(double value) {
  return std::isfinite(value) ? std::optional<double>(value) : std::nullopt;
}

void FromSamples(const SampleMetrics& m, Standing* s) {
  s->samples = m.samples;
  s->correct = m.correct;
  s->pass_at_1 = m.pass_at_1;
  s->fast_1_base = m.fast_1;
  s->fast_2_base = m.fast_2;
  s->fast_1_expert = m.at_least_expert;
  s->fast_2_expert = m.fast_2_expert;
  if (m.tokens_complete || m.tokens_in + m.tokens_out > 0) s->tokens = m.tokens_in + m.tokens_out;
  s->tokens_complete = m.tokens_complete;
  s->cost_usd = m.cost_usd;
  s->cost_complete = m.cost_complete;
}

/// The table's LLM column as the model's one candidate for the task.
void FromTable(const TaskTable& table, bool timed, Standing* s) {
  bool correct = !table.rows.empty();
  for (const Row& row : table.rows) correct = correct && row.llm.status == Status::kOk;
  s->samples = 1;
  s->correct = correct ? 1 : 0;
  s->pass_at_1 = correct ? 1.0 : 0.0;
  s->tokens_complete = false;
  s->cost_complete = false;
  if (!timed) return;
  const std::vector<SpeedupOutcome> base = {{correct, table.geomean_llm_over_base}};
  s->fast_1_base = FastP(base, 1.0);
  s->fast_2_base = FastP(base, 2.0);
  const bool expert = std::any_of(table.rows.begin(), table.rows.end(),
                                  [](const Row& row) { return row.expert.status == Status::kOk; });
  if (!expert) return;
  const std::vector<SpeedupOutcome> vs_expert = {{correct, table.geomean_llm_over_expert}};
  s->fast_1_expert = FastP(vs_expert, 1.0);
  s->fast_2_expert = FastP(vs_expert, 2.0);
}

/// LLM/Expert of every cell of the tables, with their intervals.
std::vector<RatioCi> ExpertRatios(const std::vector<const TaskTable*>& tables) {
  std::vector<RatioCi> ratios;
  for (const TaskTable* table : tables) {
    for (const Row& row : table->rows) {
      if (!row.llm_over_expert) continue;
      RatioCi ci{*row.llm_over_expert, NAN, NAN};
      if (row.llm_over_expert_ci) {
        ci.lo = row.llm_over_expert_ci->ci.lo;
        ci.hi = row.llm_over_expert_ci->ci.hi;
      }
      ratios.push_back(ci);
    }
  }
  return ratios;
}

void SetCells(const std::vector<const TaskTable*>& tables, double confidence, Standing* s) {
  const std::vector<RatioCi> ratios = ExpertRatios(tables);
  s->cells = static_cast<int>(ratios.size());
  s->cells_at_least_expert =
      static_cast<int>(std::count_if(ratios.begin(), ratios.end(), [](const RatioCi& r) {
        return std::round(r.point * 100) / 100 >= 1.0;
      }));
  if (!ratios.empty()) s->llm_over_expert = GeomeanInterval(ratios, confidence);
}

void SetPerCorrect(Standing* s) {
  if (s->correct == 0) return;
  if (s->tokens) s->tokens_per_correct = static_cast<double>(*s->tokens) / s->correct;
  if (s->cost_usd) s->cost_per_correct = *s->cost_usd / s->correct;
}

/// The mean of a figure over the task standings that have it; nullopt when none has.
std::optional<double> MeanOver(const std::vector<const Standing*>& tasks,
                               std::optional<double> Standing::*figure, bool all_needed) {
  double sum = 0;
  int n = 0;
  for (const Standing* t : tasks) {
    if (!(t->*figure)) {
      if (all_needed) return std::nullopt;
      continue;
    }
    sum += *(t->*figure);
    ++n;
  }
  return n == 0 ? std::nullopt : std::optional<double>(sum / n);
}

Standing Overall(const std::string& model, const std::vector<const Standing*>& tasks,
                 const std::vector<const TaskTable*>& tables, double confidence) {
  Standing s;
  s.model = model;
  s.tasks = static_cast<int>(tasks.size());
  for (const Standing* t : tasks) {
    s.samples += t->samples;
    s.correct += t->correct;
    if (t->tokens) s.tokens = s.tokens.value_or(0) + *t->tokens;
    s.tokens_complete = s.tokens_complete && t->tokens_complete && t->tokens;
    if (t->cost_usd) s.cost_usd = s.cost_usd.value_or(0) + *t->cost_usd;
    s.cost_complete = s.cost_complete && t->cost_complete && t->cost_usd;
  }
  s.pass_at_1 = MeanOver(tasks, &Standing::pass_at_1, true);
  s.pass_at_k = MeanOver(tasks, &Standing::pass_at_k, true);
  for (auto figure : {&Standing::fast_1_base, &Standing::fast_2_base, &Standing::fast_1_expert,
                      &Standing::fast_2_expert}) {
    s.*figure = MeanOver(tasks, figure, false);
  }
  SetCells(tables, confidence, &s);
  SetPerCorrect(&s);
  return s;
}

/// Higher first; an absent figure ranks below every present one.
double RankValue(const std::optional<double>& v) { return v ? *v : -1; }

bool RanksBefore(const Standing& a, const Standing& b) {
  const double ra = a.llm_over_expert ? a.llm_over_expert->point : -1;
  const double rb = b.llm_over_expert ? b.llm_over_expert->point : -1;
  return std::make_tuple(-RankValue(a.fast_1_expert), -ra, -RankValue(a.pass_at_1), a.model) <
         std::make_tuple(-RankValue(b.fast_1_expert), -rb, -RankValue(b.pass_at_1), b.model);
}

}  // namespace

Leaderboard BuildLeaderboard(const BenchReport& report, const std::vector<SampleMetrics>& samples,
                             int k, double confidence) {
  Leaderboard board;
  board.timed = report.timed;
  std::vector<std::string> models;
  std::vector<Standing> per_task;
  for (const TaskTable& table : report.tables) {
    if (table.llm_name.empty()) continue;
    if (std::find(models.begin(), models.end(), table.llm_name) == models.end()) {
      models.push_back(table.llm_name);
    }
    Standing s;
    s.model = table.llm_name;
    s.task = table.task;
    s.tasks = 1;
    if (const SampleMetrics* m = FindMetrics(samples, table.llm_name, table.task)) {
      FromSamples(*m, &s);
    } else {
      FromTable(table, report.timed, &s);
    }
    SetCells({&table}, confidence, &s);
    SetPerCorrect(&s);
    per_task.push_back(std::move(s));
  }
  board.k = k;
  if (board.k <= 0) {
    board.k = per_task.empty() ? 1 : per_task.front().samples;
    for (const Standing& s : per_task) board.k = std::min(board.k, s.samples);
    board.k = std::max(board.k, 1);
  }
  for (Standing& s : per_task) {
    if (s.samples >= board.k) s.pass_at_k = Defined(PassAtK(s.samples, s.correct, board.k));
  }
  for (const std::string& model : models) {
    std::vector<const Standing*> tasks;
    std::vector<const TaskTable*> tables;
    for (const Standing& s : per_task) {
      if (s.model == model) tasks.push_back(&s);
    }
    for (const TaskTable& table : report.tables) {
      if (table.llm_name == model) tables.push_back(&table);
    }
    board.models.push_back(Overall(model, tasks, tables, confidence));
  }
  std::sort(board.models.begin(), board.models.end(), RanksBefore);
  for (const Standing& overall : board.models) {
    for (const Standing& s : per_task) {
      if (s.model == overall.model) board.tasks.push_back(s);
    }
  }
  board.notes.push_back(fmt::format(
      "Ranked by fast_1.0 against the expert, then geomean LLM/Expert, then pass@1. {0}: the "
      "unbiased estimator (Chen et al. 2021) over each task's candidates (the "
      "final turn of each sample, else the one candidate), averaged over tasks. fast_p: the "
      "share of a task's candidates that are correct and at least p times as fast as the "
      "baseline (expert), by the geomean over its timed sizes and modes of the median kernel "
      "times; averaged over tasks. LLM/Expert: the geomean over every cell of the model's "
      "column, its 95% interval treating each cell's interval as normal on the log scale and "
      "the cells as independent. Cells >= expert: LLM/Expert >= 1.00 as the tables round it. "
      "Tokens and USD per correct kernel: every turn's, divided by the correct candidates.",
      board.k > 1 ? fmt::format("pass@1 and pass@{}", board.k) : std::string("pass@1")));
  return board;
}

}  // namespace tritonize

#include "report/comparison.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <tuple>
#include <utility>

#include "report/cells.h"
#include "report/format.h"

namespace tritonize {
namespace {

std::string Key(const std::string& task, const std::string& column, const std::string& size,
                const std::string& mode) {
  return task + "\x1f" + column + "\x1f" + size + "\x1f" + mode;
}

bool Timed(const Cell* cell) {
  return cell != nullptr && cell->status == Status::kOk && cell->kernel_us;
}

/// Cells of every run, matched by task, column (the LLM's with its model), size and mode, in
/// the order they first appear.
std::vector<CellRuns> MatchCells(const std::vector<const BenchReport*>& reports) {
  std::vector<CellRuns> cells;
  std::vector<std::string> keys;
  for (size_t r = 0; r < reports.size(); ++r) {
    for (const CellRef& ref : ReportCells(*reports[r])) {
      const std::string column =
          ref.model.empty() ? ref.column->name : std::string(ref.column->name) + ":" + ref.model;
      const std::string key = Key(ref.table->task, column, ref.row->size, ref.row->mode);
      auto at = std::find(keys.begin(), keys.end(), key);
      if (at == keys.end()) {
        keys.push_back(key);
        CellRuns c;
        c.task = ref.table->task;
        c.model = ref.model;
        c.column = ref.column->name;
        c.label = c.column == "llm"        ? LlmColumnName(ref.model)
                  : c.column == "baseline" ? "Baseline"
                  : c.column == "expert"   ? "Expert"
                                           : "Compile";
        c.size = ref.row->size;
        c.mode = ref.row->mode;
        c.cells.assign(reports.size(), nullptr);
        cells.push_back(std::move(c));
        at = keys.end() - 1;
      }
      cells[static_cast<size_t>(at - keys.begin())].cells[r] = ref.cell;
    }
  }
  return cells;
}

std::vector<RowRuns> MatchRows(const std::vector<const BenchReport*>& reports) {
  std::vector<RowRuns> rows;
  std::vector<std::string> keys;
  for (size_t r = 0; r < reports.size(); ++r) {
    for (const TaskTable& table : reports[r]->tables) {
      if (table.llm_name.empty()) continue;
      for (const Row& row : table.rows) {
        const std::string key = Key(table.task, table.llm_name, row.size, row.mode);
        auto at = std::find(keys.begin(), keys.end(), key);
        if (at == keys.end()) {
          keys.push_back(key);
          RowRuns runs;
          runs.task = table.task;
          runs.model = table.llm_name;
          runs.size = row.size;
          runs.mode = row.mode;
          runs.llm_over_expert.resize(reports.size());
          runs.present.assign(reports.size(), false);
          rows.push_back(std::move(runs));
          at = keys.end() - 1;
        }
        RowRuns& runs = rows[static_cast<size_t>(at - keys.begin())];
        runs.llm_over_expert[r] = row.llm_over_expert_ci;
        runs.present[r] = true;
      }
    }
  }
  return rows;
}

ProcessSpread PooledSpread(const std::vector<const BenchReport*>& reports) {
  std::vector<SampleGroups> groups;
  for (const BenchReport* report : reports) {
    for (const CellRef& ref : ReportCells(*report)) {
      if (Timed(ref.cell)) groups.push_back(ref.cell->kernel_groups);
    }
  }
  return PooledProcessSpread(groups);
}

/// "_kernel: run 1 [A | A], run 2 [B | B]" for each autotuned kernel whose processes, over
/// all the runs, kept more than one configuration.
std::string TuningDifferences(const CellRuns& c) {
  std::map<std::string, std::vector<std::pair<size_t, std::vector<std::string>>>> kernels;
  for (size_t r = 0; r < c.cells.size(); ++r) {
    if (c.cells[r] == nullptr) continue;
    for (const auto& [kernel, configs] : c.cells[r]->tuned) kernels[kernel].push_back({r, configs});
  }
  std::string text;
  for (const auto& [kernel, by_run] : kernels) {
    std::set<std::string> distinct;
    for (const auto& [run, configs] : by_run) distinct.insert(configs.begin(), configs.end());
    if (distinct.size() < 2) continue;
    text += (text.empty() ? "" : "; ") + kernel + ":";
    for (size_t i = 0; i < by_run.size(); ++i) {
      std::string joined;
      for (const auto& config : by_run[i].second) joined += (joined.empty() ? "" : " | ") + config;
      text += fmt::format("{} run {} [{}]", i ? "," : "", by_run[i].first + 1, joined);
    }
  }
  return text.empty() ? "" : "autotuned differently: " + text;
}

/// The kernels whose time per call moved most between the runs (each run: the median over
/// its processes), "kernel a/b us", at most three.
std::string KernelShifts(const CellRuns& c) {
  std::set<std::string> names;
  for (const Cell* cell : c.cells) {
    if (cell == nullptr || cell->kernel_median_us.empty()) return "";
    for (const auto& process : cell->kernel_median_us) {
      for (const auto& [name, us] : process) names.insert(name);
    }
  }
  std::vector<std::tuple<double, std::string, std::vector<double>>> moves;
  for (const std::string& name : names) {
    std::vector<double> per_run;
    for (const Cell* cell : c.cells) {
      std::vector<double> values;
      for (const auto& process : cell->kernel_median_us) {
        auto it = process.find(name);
        values.push_back(it == process.end() ? 0.0 : it->second);
      }
      per_run.push_back(Median(values));
    }
    const auto [lo, hi] = std::minmax_element(per_run.begin(), per_run.end());
    moves.emplace_back(*hi - *lo, name, per_run);
  }
  std::stable_sort(moves.begin(), moves.end(),
                   [](const auto& a, const auto& b) { return std::get<0>(a) > std::get<0>(b); });
  std::string text;
  for (size_t i = 0; i < moves.size() && i < 3; ++i) {
    std::string values;
    for (double v : std::get<2>(moves[i]))
      values += fmt::format("{}{:.2f}", values.empty() ? "" : "/", v);
    text += fmt::format("{}{} {} us", text.empty() ? "" : "; ", std::get<1>(moves[i]), values);
  }
  return text.empty() ? "" : "per kernel, by run: " + text;
}

/// Each process's median kernel time, by run ("per process, by run: 43.25 43.20 | 42.43 42.48 us"),
/// and where every run's processes agree more closely than the runs do, that the level was set
/// per run, not per process. On an H100 (2026-12-05) the layernorm baseline's two processes of
/// each run agreed within 0.1% while the runs were 2.2% apart: what moved was something a run's
/// processes share (its seed picks the hidden checks), which a spread of processes cannot show.
std::string ProcessLevels(const CellRuns& c) {
  std::vector<std::vector<double>> by_run;
  for (const Cell* cell : c.cells) {
    if (cell == nullptr) return "";
    std::vector<double> medians;
    for (const auto& group : cell->kernel_groups) {
      if (!group.empty()) medians.push_back(Median(group));
    }
    if (medians.empty()) return "";
    by_run.push_back(std::move(medians));
  }
  if (by_run.size() < 2) return "";
  std::string text;
  double within = 0;
  bool every_run_has_two = true;
  std::vector<double> run_medians;
  for (const std::vector<double>& run : by_run) {
    std::string values;
    for (double v : run) values += fmt::format("{}{:.2f}", values.empty() ? "" : " ", v);
    text += (text.empty() ? "" : " | ") + values;
    const auto [lo, hi] = std::minmax_element(run.begin(), run.end());
    if (*lo > 0) within = std::max(within, (*hi - *lo) / *lo);
    every_run_has_two = every_run_has_two && run.size() >= 2;
    run_medians.push_back(Median(run));
  }
  text = "per process, by run: " + text + " us";
  const auto [lo, hi] = std::minmax_element(run_medians.begin(), run_medians.end());
  const double between = *lo > 0 ? (*hi - *lo) / *lo : 0;
  if (every_run_has_two && between > 2 * within) {
    text += fmt::format(
        "; set per run, not per process: each run's processes within {:.2f}%, the runs {:.2f}% "
        "apart",
        100 * within, 100 * between);
  }
  return text;
}

std::string Why(const CellRuns& c) {
  std::string why = ProcessLevels(c);
  const std::string shifts = KernelShifts(c);
  if (!shifts.empty()) why += (why.empty() ? "" : "; ") + shifts;
  const std::string tuning = TuningDifferences(c);
  if (!tuning.empty()) why += (why.empty() ? "" : "; ") + tuning;
  return why;
}

void CompareCell(const CompareOptions& options, const ProcessSpread& spread, uint64_t seed,
                 CellRuns* c) {
  c->vs_first.assign(c->cells.size(), std::nullopt);
  c->changes.assign(c->cells.size(), Change::kNone);
  const Cell* first = c->cells[0];
  std::vector<double> medians;
  bool all_big = true;
  for (size_t r = 0; r < c->cells.size(); ++r) {
    const Cell* cell = c->cells[r];
    if (Timed(cell)) {
      medians.push_back(cell->kernel_us->median);
      all_big = all_big && cell->kernel_us->median >= options.min_kernel_us;
    } else {
      all_big = false;
    }
    if (r == 0) continue;
    const bool ok_first = first != nullptr && first->status == Status::kOk;
    const bool ok_later = cell != nullptr && cell->status == Status::kOk;
    if (first == nullptr || cell == nullptr || (!ok_first && !ok_later)) {
      c->changes[r] = Change::kIncomparable;
    } else if (ok_first && !ok_later) {
      c->changes[r] = Change::kBroken;
    } else if (!ok_first && ok_later) {
      c->changes[r] = Change::kFixed;
    } else if (Timed(first) && Timed(cell)) {
      RatioCi ci =
          HierarchicalBootstrapRatioCi(cell->kernel_groups, first->kernel_groups,
                                       options.bootstrap_iterations, seed + r, options.confidence);
      ci = WidenByProcessSpread(ci, spread, NonEmptyGroups(cell->kernel_groups),
                                NonEmptyGroups(first->kernel_groups), options.confidence);
      c->vs_first[r] = ci;
      c->changes[r] = ClassifyChange(ci, options.allowance);
    } else {
      c->changes[r] = Change::kIncomparable;  // ok in both, timed in neither (--interpret)
    }
  }
  c->counted = all_big && medians.size() == c->cells.size();
  if (medians.size() >= 2) {
    const auto [lo, hi] = std::minmax_element(medians.begin(), medians.end());
    c->spread = (*hi - *lo) / *lo;
  }
}

std::optional<bool> Overlap(const std::vector<std::optional<RatioEstimate>>& estimates) {
  double lo = -INFINITY, hi = INFINITY;
  int n = 0;
  for (const auto& e : estimates) {
    if (!e || !std::isfinite(e->ci.lo) || !std::isfinite(e->ci.hi)) continue;
    lo = std::max(lo, e->ci.lo);
    hi = std::min(hi, e->ci.hi);
    ++n;
  }
  if (n < 2) return std::nullopt;
  return lo <= hi;
}

void Count(Change change, Comparison* out) {
  switch (change) {
    case Change::kRegression:
      ++out->regressions;
      break;
    case Change::kImprovement:
      ++out->improvements;
      break;
    case Change::kBroken:
      ++out->broken;
      break;
    case Change::kFixed:
      ++out->fixed;
      break;
    case Change::kWithinAllowance:
      ++out->within;
      break;
    case Change::kNone:
      ++out->unchanged;
      break;
    case Change::kIncomparable:
      break;
  }
}

std::string CellName(const CellRuns& c) {
  return fmt::format("{} {} {} {}", c.task, c.size, c.mode, c.label);
}

void Instabilities(Comparison* out) {
  int compared = 0;
  for (const CellRuns& c : out->cells) {
    if (!c.spread) continue;
    ++compared;
    if (c.counted && *c.spread > out->options.allowance) {
      std::vector<std::string> medians;
      for (const Cell* cell : c.cells)
        medians.push_back(FormatMicroseconds(cell->kernel_us->median));
      std::string line = fmt::format("{}: medians {} spread {:.2f}%", CellName(c),
                                     fmt::join(medians, ", "), 100 * *c.spread);
      if (!c.why.empty()) line += " (" + c.why + ")";
      out->instabilities.push_back(line);
    }
  }
  // As the acceptance always read it: the rows of the first run; a row only later runs have
  // (another model) is listed but decides nothing.
  for (const RowRuns& row : out->rows) {
    if (!row.present[0]) continue;
    int with = 0;
    for (const auto& e : row.llm_over_expert) with += e.has_value();
    const std::string name = fmt::format("{} {} {} ({})", row.task, row.size, row.mode, row.model);
    if (with > 0 && with < static_cast<int>(row.llm_over_expert.size())) {
      out->instabilities.push_back(name + ": LLM/Expert missing in some run");
    } else if (row.overlap == false) {
      out->instabilities.push_back(name + ": LLM/Expert intervals do not overlap");
    }
  }
  if (compared == 0) {
    out->instabilities.push_back(
        "no kernel-time median is in two or more runs: nothing was compared");
  }
}

}  // namespace

Change ClassifyChange(const RatioCi& later_over_first, double allowance) {
  const RatioCi& ci = later_over_first;
  if (!std::isfinite(ci.lo) || !std::isfinite(ci.hi)) return Change::kNone;
  if (ci.lo <= 1 && ci.hi >= 1) return Change::kNone;
  if (ci.lo > 1 + allowance) return Change::kRegression;
  if (ci.hi < 1 / (1 + allowance)) return Change::kImprovement;
  return Change::kWithinAllowance;
}

const char* ChangeName(Change change) {
  switch (change) {
    case Change::kNone:
      return "~";
    case Change::kWithinAllowance:
      return "within allowance";
    case Change::kRegression:
      return "REGRESSION";
    case Change::kImprovement:
      return "improvement";
    case Change::kBroken:
      return "BROKEN";
    case Change::kFixed:
      return "fixed";
    case Change::kIncomparable:
      return "-";
  }
  return "-";
}

Comparison CompareReports(const std::vector<const BenchReport*>& reports,
                          const std::vector<std::string>& labels, const CompareOptions& options) {
  Comparison out;
  out.runs = labels;
  out.options = options;
  out.spread = PooledSpread(reports);
  out.cells = MatchCells(reports);
  uint64_t seed = 1;
  for (CellRuns& c : out.cells) {
    CompareCell(options, out.spread, seed, &c);
    seed += reports.size();
    for (size_t r = 1; r < c.changes.size(); ++r) {
      if (c.counted || c.changes[r] == Change::kBroken || c.changes[r] == Change::kFixed ||
          options.min_kernel_us <= 0) {
        Count(c.changes[r], &out);
      }
    }
    const bool flagged = std::any_of(c.changes.begin(), c.changes.end(), [](Change ch) {
      return ch == Change::kRegression || ch == Change::kImprovement;
    });
    if (flagged || (c.spread && *c.spread > options.allowance)) c.why = Why(c);
  }
  out.rows = MatchRows(reports);
  for (RowRuns& row : out.rows) row.overlap = Overlap(row.llm_over_expert);
  Instabilities(&out);
  return out;
}

}  // namespace tritonize

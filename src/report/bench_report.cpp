#include "report/bench_report.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <functional>
#include <map>
#include <set>
#include <utility>

#include "core/formula.h"
#include "core/gpu_specs.h"

namespace tritonize {
namespace {

using RowKey = std::pair<std::string, std::string>;  // size, mode

struct Column {
  std::string label;
  std::vector<const JobResult*> jobs;  // one per repeat; empty: not requested
  Cell Row::*cell;

  /// The job that decides the column's status: the first that is not ok, else the first.
  const JobResult* job() const {
    for (const JobResult* j : jobs) {
      if (j->status != Status::kOk) return j;
    }
    return jobs.empty() ? nullptr : jobs.front();
  }
};

using Columns = std::array<Column, 4>;

void AddKey(const std::string& size, const std::string& mode, std::vector<RowKey>* keys) {
  RowKey key{size, mode};
  if (std::find(keys->begin(), keys->end(), key) == keys->end()) {
    keys->push_back(key);
  }
}

size_t IndexIn(const std::vector<std::string>& list, const std::string& value) {
  return static_cast<size_t>(std::find(list.begin(), list.end(), value) - list.begin());
}

// The task's order: sizes as the manifest lists them (timed, then checked), forward before
// backward; anything the manifest does not list keeps the order the jobs reported it in.
void SortKeys(const Task& task, std::vector<RowKey>* keys) {
  std::vector<std::string> sizes = task.sizes;
  for (const auto* list : {&task.check_sizes, &task.interpret_check_sizes}) {
    for (const auto& size : *list) {
      if (IndexIn(sizes, size) == sizes.size()) {
        sizes.push_back(size);
      }
    }
  }
  for (const auto& [size, mode] : *keys) {
    if (IndexIn(sizes, size) == sizes.size()) {
      sizes.push_back(size);
    }
  }
  std::stable_sort(keys->begin(), keys->end(), [&](const RowKey& a, const RowKey& b) {
    const size_t sa = IndexIn(sizes, a.first), sb = IndexIn(sizes, b.first);
    if (sa != sb) {
      return sa < sb;
    }
    return IndexIn(task.modes, a.second) < IndexIn(task.modes, b.second);
  });
}

/// Returns the rows' keys and whether they came from timings.
std::pair<std::vector<RowKey>, bool> RowKeys(const Task& task, const Columns& columns) {
  std::vector<RowKey> keys;
  for (const Column& c : columns) {
    for (const JobResult* job : c.jobs) {
      for (const Timing& t : job->timings) {
        AddKey(t.size, t.mode, &keys);
      }
    }
  }
  const bool timed = !keys.empty();
  for (const Column& c : columns) {
    if (c.job() == nullptr || timed) {
      continue;
    }
    for (const CheckRecord& check : c.job()->checks) {
      AddKey(check.size, check.mode, &keys);
    }
  }
  if (keys.empty()) {
    for (const auto& size : task.sizes) {
      for (const auto& mode : task.modes) {
        AddKey(size, mode, &keys);
      }
    }
  }
  SortKeys(task, &keys);
  return {keys, timed};
}

std::optional<Summary> SummaryOf(const std::vector<double>& samples) {
  if (samples.empty()) {
    return std::nullopt;
  }
  return Summarize(samples);
}

const Timing* FindTiming(const JobResult& job, const RowKey& key) {
  for (const Timing& t : job.timings) {
    if (t.size == key.first && t.mode == key.second) return &t;
  }
  return nullptr;
}

// Every repeat's samples of one size and mode; the first repeat's compile time; the worst
// stop reason and any low clock.
void FillTimes(const std::vector<const Timing*>& timings, Cell* cell) {
  std::vector<double> call_us, host_us;
  for (const Timing* t : timings) {
    cell->kernel_groups.push_back(t->kernel_us);
    for (const auto& [kernel, config] : t->tuned) cell->tuned[kernel].push_back(config);
    cell->kernel_median_us.push_back(t->kernel_median_us);
    call_us.insert(call_us.end(), t->call_us.begin(), t->call_us.end());
    host_us.insert(host_us.end(), t->host_us.begin(), t->host_us.end());
    cell->clock_low = cell->clock_low || t->sampling.value("clock_low", false);
    const std::string stop = t->sampling.value("stop", "");
    if (cell->stop.empty() || cell->stop == "converged") cell->stop = stop;
  }
  cell->kernel_us = SummaryOf(Pool(cell->kernel_groups));
  cell->call_us = SummaryOf(call_us);
  cell->host_us = SummaryOf(host_us);
  cell->first_call_s = timings.front()->first_call_s;
}

Cell MakeCell(const Column& column, const RowKey& key, bool rows_are_timed) {
  Cell cell;
  const JobResult* job = column.job();
  if (job == nullptr) {
    cell.message = "not requested";
    return cell;
  }
  cell.status = job->status;
  cell.message = job->message;
  if (job->status != Status::kOk) {
    return cell;
  }
  std::vector<const Timing*> timings;
  for (const JobResult* repeat : column.jobs) {
    if (const Timing* t = FindTiming(*repeat, key)) timings.push_back(t);
  }
  if (!timings.empty()) {
    FillTimes(timings, &cell);
    return cell;
  }
  if (rows_are_timed) {
    cell.status = Status::kUnavailable;
    cell.message = "no timing at " + key.first + " " + key.second;
  }
  return cell;
}

/// The interval of reference / subject, from every repeat's samples.
std::optional<RatioEstimate> SpeedupInterval(const Cell& reference, const Cell& subject,
                                             const TableInputs& inputs, uint64_t seed) {
  if (reference.status != Status::kOk || subject.status != Status::kOk || !reference.kernel_us ||
      !subject.kernel_us) {
    return std::nullopt;
  }
  RatioEstimate estimate;
  estimate.ci = HierarchicalBootstrapRatioCi(reference.kernel_groups, subject.kernel_groups,
                                             inputs.bootstrap_iterations, seed, inputs.confidence);
  if (!std::isfinite(estimate.ci.point)) return std::nullopt;
  estimate.verdict = VerdictOf(estimate.ci);
  estimate.impossible = (reference.roofline && reference.roofline->impossible) ||
                        (subject.roofline && subject.roofline->impossible);
  return estimate;
}

/// reference / subject kernel-time medians: the subject's speedup over the reference.
std::optional<double> Speedup(const Cell& reference, const Cell& subject) {
  if (reference.status != Status::kOk || subject.status != Status::kOk) {
    return std::nullopt;
  }
  if (!reference.kernel_us || !subject.kernel_us) {
    return std::nullopt;
  }
  const double ratio = reference.kernel_us->median / subject.kernel_us->median;
  if (!std::isfinite(ratio) || !(ratio > 0)) {
    return std::nullopt;
  }
  return ratio;
}

std::optional<double> ColumnGeomean(const std::vector<Row>& rows,
                                    std::optional<double> Row::*ratio) {
  std::vector<double> values;
  for (const Row& row : rows) {
    if (row.*ratio) {
      values.push_back(*(row.*ratio));
    }
  }
  return GeometricMean(values);
}

std::string OneLine(std::string text) {
  std::replace(text.begin(), text.end(), '\n', ' ');
  return text;
}

/// Whether a kernel's processes kept more than one configuration.
bool Differ(const std::vector<std::string>& configs) {
  return std::set<std::string>(configs.begin(), configs.end()).size() > 1;
}

/// "_kernel: process 0 A, process 1 B" for each kernel the cell's processes tuned differently.
std::string TunedDifferences(const Cell& cell) {
  std::string text;
  for (const auto& [kernel, configs] : cell.tuned) {
    if (!Differ(configs)) continue;
    text += (text.empty() ? "" : "; ") + kernel + ":";
    for (size_t p = 0; p < configs.size(); ++p) {
      text += fmt::format("{} process {} [{}]", p ? "," : "", p, configs[p]);
    }
  }
  return text;
}

/// One column's notes: its job's failure; else each row whose cell is not ok (an ok job can
/// still lack a row another job timed) or whose processes autotuned differently.
void NoteColumn(const Column& c, const std::function<const Cell&(const Row&)>& cell_of,
                TaskTable* table) {
  const JobResult* job = c.job();
  const Status status = job == nullptr ? Status::kUnavailable : job->status;
  if (status != Status::kOk) {
    const std::string message = job == nullptr ? "not requested" : OneLine(job->message);
    table->notes.push_back(c.label + ": " + std::string(StatusName(status)) +
                           (message.empty() ? "" : ": " + message));
    return;
  }
  for (const Row& row : table->rows) {
    const Cell& cell = cell_of(row);
    if (cell.status != Status::kOk) {
      table->notes.push_back(c.label + ": " + std::string(StatusName(cell.status)) + ": " +
                             cell.message);
    } else if (TunedDifferently(cell)) {
      table->notes.push_back(fmt::format(
          "{} {} {}: its processes autotuned differently, so their times may sit on different "
          "levels ({})",
          c.label, row.size, row.mode, TunedDifferences(cell)));
    }
  }
}

/// The columns' notes; with several experts, each expert's under its own name, not the Expert
/// column's (which is the fastest of them at each row).
void AddNotes(const Columns& columns, const std::vector<Column>& experts, TaskTable* table) {
  for (const Column& c : columns) {
    if (c.cell == &Row::compile && !table->has_compile) continue;
    if (c.cell == &Row::expert && !experts.empty()) {
      for (size_t i = 0; i < experts.size(); ++i) {
        NoteColumn(
            experts[i], [i](const Row& row) -> const Cell& { return row.experts[i]; }, table);
      }
      continue;
    }
    NoteColumn(
        c, [&c](const Row& row) -> const Cell& { return row.*c.cell; }, table);
  }
}

/// Which of several experts' cells a row's Expert cell is: the fastest ok one with a time; else
/// the first ok one (a correctness-only run); else the first.
size_t BestExpert(const std::vector<Cell>& experts) {
  std::optional<size_t> best;
  for (size_t i = 0; i < experts.size(); ++i) {
    const Cell& cell = experts[i];
    if (cell.status != Status::kOk) continue;
    if (!best) {
      best = i;
    } else if (cell.kernel_us && (!experts[*best].kernel_us ||
                                  cell.kernel_us->median < experts[*best].kernel_us->median)) {
      best = i;
    }
  }
  return best.value_or(0);
}

}  // namespace

bool TunedDifferently(const Cell& cell) {
  return std::any_of(cell.tuned.begin(), cell.tuned.end(),
                     [](const auto& kernel) { return Differ(kernel.second); });
}

std::string LlmColumnName(const std::string& llm_name) {
  return llm_name.empty() ? "LLM" : "LLM (" + llm_name + ")";
}

TaskTable BuildTaskTable(const Task& task, const JobResult* baseline, const JobResult* expert,
                         const JobResult* llm, const std::string& llm_name) {
  TableInputs inputs;
  if (baseline != nullptr) inputs.baseline = {baseline};
  if (expert != nullptr) inputs.expert = {expert};
  if (llm != nullptr) inputs.llm = {llm};
  inputs.llm_name = llm_name;
  return BuildTaskTable(task, inputs);
}

TaskTable BuildTaskTable(const Task& task, const TableInputs& inputs) {
  const Columns columns = {{{"Baseline", inputs.baseline, &Row::baseline},
                            {"Expert", inputs.expert, &Row::expert},
                            {LlmColumnName(inputs.llm_name), inputs.llm, &Row::llm},
                            {"Compile", inputs.compile, &Row::compile}}};
  TaskTable table;
  table.task = task.name;
  table.description = task.description;
  table.llm_name = inputs.llm_name;
  table.has_compile = !inputs.compile.empty();
  std::vector<Column> experts;  // a task with several: each one's column
  if (inputs.experts.size() > 1) {
    for (const auto& expert : inputs.experts) {
      experts.push_back({"Expert (" + expert.name + ")", expert.jobs, &Row::expert});
      table.expert_names.push_back(expert.name);
    }
  }
  const auto [keys, rows_are_timed] = RowKeys(task, columns);
  uint64_t seed = 1;
  for (const RowKey& key : keys) {
    Row row;
    row.size = key.first;
    row.mode = key.second;
    const auto make = [&](const Column& c) {
      Cell cell = MakeCell(c, key, rows_are_timed);
      if (inputs.peaks && cell.kernel_us) {
        cell.roofline =
            RooflineOf(task, key.first, key.second, cell.kernel_us->median, *inputs.peaks);
      }
      return cell;
    };
    for (const Column& c : columns) row.*c.cell = make(c);
    if (!experts.empty()) {
      for (const Column& c : experts) row.experts.push_back(make(c));
      const size_t best = BestExpert(row.experts);
      row.expert = row.experts[best];
      row.expert_name = table.expert_names[best];
      for (const Cell& cell : row.experts) row.llm_over_experts.push_back(Speedup(cell, row.llm));
    }
    row.expert_over_base = Speedup(row.baseline, row.expert);
    row.llm_over_base = Speedup(row.baseline, row.llm);
    row.llm_over_expert = Speedup(row.expert, row.llm);
    row.compile_over_base = Speedup(row.baseline, row.compile);
    // A fixed seed per ratio: the same samples always give the same interval.
    row.expert_over_base_ci = SpeedupInterval(row.baseline, row.expert, inputs, seed++);
    row.llm_over_base_ci = SpeedupInterval(row.baseline, row.llm, inputs, seed++);
    row.llm_over_expert_ci = SpeedupInterval(row.expert, row.llm, inputs, seed++);
    row.compile_over_base_ci = SpeedupInterval(row.baseline, row.compile, inputs, seed++);
    table.rows.push_back(std::move(row));
  }
  table.geomean_expert_over_base = ColumnGeomean(table.rows, &Row::expert_over_base);
  table.geomean_llm_over_base = ColumnGeomean(table.rows, &Row::llm_over_base);
  table.geomean_llm_over_expert = ColumnGeomean(table.rows, &Row::llm_over_expert);
  table.geomean_compile_over_base = ColumnGeomean(table.rows, &Row::compile_over_base);
  for (size_t i = 0; i < experts.size(); ++i) {
    std::vector<double> values;
    for (const Row& row : table.rows) {
      if (row.llm_over_experts[i]) values.push_back(*row.llm_over_experts[i]);
    }
    table.geomean_llm_over_experts.push_back(GeometricMean(values));
  }
  AddNotes(columns, experts, &table);
  return table;
}

void ApplyProcessSpread(BenchReport* report, double confidence) {
  constexpr std::array<Cell Row::*, 4> kCells = {&Row::baseline, &Row::expert, &Row::llm,
                                                 &Row::compile};
  std::vector<SampleGroups> cells;
  for (const TaskTable& table : report->tables) {
    for (const Row& row : table.rows) {
      for (Cell Row::*cell : kCells) {
        if ((row.*cell).status == Status::kOk) cells.push_back((row.*cell).kernel_groups);
      }
    }
  }
  report->process_spread = PooledProcessSpread(cells);
  const ProcessSpread& spread = report->process_spread;
  if (spread.df <= 0) return;
  auto widen = [&](std::optional<RatioEstimate>& estimate, const Cell& reference,
                   const Cell& subject) {
    if (!estimate) return;
    estimate->ci =
        WidenByProcessSpread(estimate->ci, spread, NonEmptyGroups(reference.kernel_groups),
                             NonEmptyGroups(subject.kernel_groups), confidence);
    estimate->verdict = VerdictOf(estimate->ci);
  };
  for (TaskTable& table : report->tables) {
    for (Row& row : table.rows) {
      widen(row.expert_over_base_ci, row.baseline, row.expert);
      widen(row.llm_over_base_ci, row.baseline, row.llm);
      widen(row.llm_over_expert_ci, row.expert, row.llm);
      widen(row.compile_over_base_ci, row.baseline, row.compile);
    }
  }
  report->method += fmt::format(
      " Between-process spread of a median, pooled over this run's {} cells: {:.2f}% ({} degrees "
      "of freedom); every interval is at least the Student t interval that spread gives the "
      "ratio of two pooled medians.",
      spread.cells, 100 * std::sqrt(spread.log_variance), spread.df);
}

std::optional<Roofline> RooflineOf(const Task& task, const std::string& size,
                                   const std::string& mode, double median_us,
                                   const PeakLimits& peaks) {
  auto cost = task.cost.find(mode);
  std::map<std::string, double> dims;
  if (cost == task.cost.end() || !(median_us > 0) || !(peaks.bandwidth_gb_s > 0) ||
      !BindDims(task.dims, size, &dims)) {
    return std::nullopt;
  }
  double bytes = 0, flops = 0;
  std::string err;
  if (!EvaluateFormula(cost->second.bytes, dims, &bytes, &err) ||
      !EvaluateFormula(cost->second.flops, dims, &flops, &err)) {
    return std::nullopt;
  }
  Roofline r;
  r.gb_s = bytes / median_us / 1e3;
  r.tflop_s = flops / median_us / 1e6;
  // The roofline time: the slower of moving the bytes at peak bandwidth and doing the flops
  // at peak FLOP/s (a zero FLOP peak leaves the memory bound alone).
  const double memory_us = bytes / peaks.bandwidth_gb_s / 1e3;
  const double compute_us = peaks.tflops > 0 ? flops / peaks.tflops / 1e6 : 0;
  r.memory_bound = memory_us >= compute_us;
  r.pct_of_peak = 100 * std::max(memory_us, compute_us) / median_us;
  if (peaks.measured_gb_s > 0) {
    const double measured_memory_us = bytes / peaks.measured_gb_s / 1e3;
    const double measured_compute_us =
        peaks.measured_tflops > 0 ? flops / peaks.measured_tflops / 1e6 : 0;
    r.pct_of_measured = 100 * std::max(measured_memory_us, measured_compute_us) / median_us;
  }
  // Impossible: faster than the floor, which leaves out the writes the L2 may still hold (the
  // roofline check's bound, exec/roofline_check.cpp); the spec's % may pass 100 short of that.
  r.impossible = median_us < std::max(MemoryFloorUs(bytes, peaks.l2_bytes, peaks.bandwidth_gb_s),
                                      compute_us);
  r.above_ceiling = !r.impossible && (r.pct_of_measured > 100 || r.pct_of_peak > 100);
  return r;
}

}  // namespace tritonize

#include "report/bench_report.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <utility>

namespace tritonize {
namespace {

using RowKey = std::pair<std::string, std::string>;  // size, mode

struct Column {
  std::string label;
  const JobResult* job;
  Cell Row::*cell;
};

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
std::pair<std::vector<RowKey>, bool> RowKeys(const Task& task,
                                             const std::array<Column, 3>& columns) {
  std::vector<RowKey> keys;
  for (const Column& c : columns) {
    if (c.job == nullptr) {
      continue;
    }
    for (const Timing& t : c.job->timings) {
      AddKey(t.size, t.mode, &keys);
    }
  }
  const bool timed = !keys.empty();
  for (const Column& c : columns) {
    if (c.job == nullptr || timed) {
      continue;
    }
    for (const CheckRecord& check : c.job->checks) {
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

Cell MakeCell(const JobResult* job, const RowKey& key, bool rows_are_timed) {
  Cell cell;
  if (job == nullptr) {
    cell.message = "not requested";
    return cell;
  }
  cell.status = job->status;
  cell.message = job->message;
  if (job->status != Status::kOk) {
    return cell;
  }
  for (const Timing& t : job->timings) {
    if (t.size != key.first || t.mode != key.second) {
      continue;
    }
    cell.kernel_us = SummaryOf(t.kernel_us);
    cell.call_us = SummaryOf(t.call_us);
    cell.first_call_s = t.first_call_s;
    return cell;
  }
  if (rows_are_timed) {
    cell.status = Status::kUnavailable;
    cell.message = "no timing at " + key.first + " " + key.second;
  }
  return cell;
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

void AddNotes(const std::array<Column, 3>& columns, TaskTable* table) {
  for (const Column& c : columns) {
    const Status status = c.job == nullptr ? Status::kUnavailable : c.job->status;
    if (status != Status::kOk) {
      const std::string message = c.job == nullptr ? "not requested" : OneLine(c.job->message);
      table->notes.push_back(c.label + ": " + std::string(StatusName(status)) +
                             (message.empty() ? "" : ": " + message));
      continue;
    }
    // An ok job can still lack a row another job timed.
    for (const Row& row : table->rows) {
      const Cell& cell = row.*c.cell;
      if (cell.status != Status::kOk) {
        table->notes.push_back(c.label + ": " + std::string(StatusName(cell.status)) + ": " +
                               cell.message);
      }
    }
  }
}

}  // namespace

std::string LlmColumnName(const std::string& llm_name) {
  return llm_name.empty() ? "LLM" : "LLM (" + llm_name + ")";
}

TaskTable BuildTaskTable(const Task& task, const JobResult* baseline, const JobResult* expert,
                         const JobResult* llm, const std::string& llm_name) {
  const std::array<Column, 3> columns = {{{"Baseline", baseline, &Row::baseline},
                                          {"Expert", expert, &Row::expert},
                                          {LlmColumnName(llm_name), llm, &Row::llm}}};
  TaskTable table;
  table.task = task.name;
  table.description = task.description;
  table.llm_name = llm_name;
  const auto [keys, rows_are_timed] = RowKeys(task, columns);
  for (const RowKey& key : keys) {
    Row row;
    row.size = key.first;
    row.mode = key.second;
    for (const Column& c : columns) {
      row.*c.cell = MakeCell(c.job, key, rows_are_timed);
    }
    row.expert_over_base = Speedup(row.baseline, row.expert);
    row.llm_over_base = Speedup(row.baseline, row.llm);
    row.llm_over_expert = Speedup(row.expert, row.llm);
    table.rows.push_back(std::move(row));
  }
  table.geomean_expert_over_base = ColumnGeomean(table.rows, &Row::expert_over_base);
  table.geomean_llm_over_base = ColumnGeomean(table.rows, &Row::llm_over_base);
  table.geomean_llm_over_expert = ColumnGeomean(table.rows, &Row::llm_over_expert);
  AddNotes(columns, &table);
  return table;
}

}  // namespace tritonize

#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/job.h"
#include "core/status.h"
#include "core/task.h"
#include "stats/process_spread.h"
#include "stats/stats.h"

namespace tritonize {

/// Achieved throughput of one cell against the GPU's limits (docs/measurement.md).
struct Roofline {
  double gb_s = 0;             // manifest bytes / median kernel time
  double tflop_s = 0;          // manifest flops / median kernel time
  bool memory_bound = true;    // bytes / peak bandwidth >= flops / peak FLOP/s
  double pct_of_peak = 0;      // roofline time at the spec peaks / median kernel time, in %
  double pct_of_measured = 0;  // the same against the calibrated ceilings; 0 when none
  // Faster than the spec's peaks allow, even with the L2 holding writes when the kernel ends
  // (MemoryFloorUs): a measurement or cost-formula error, never a win.
  bool impossible = false;
  // Above 100% of the measured ceiling, or of the spec's bandwidth, but not impossible.
  // Memory-bound: part of its writes likely still in the L2 when its last kernel ends (written
  // back later, on the next flush's time). Compute-bound: faster than calibrate's one large
  // cuBLAS GEMM, whose rate is a reference, not a bound.
  bool above_ceiling = false;
};

/// One implementation at one size and mode. Only an ok cell has timings.
struct Cell {
  Status status = Status::kUnavailable;
  std::string message;
  std::optional<Summary> kernel_us;  // CUPTI kernel time per call, every process pooled
  std::optional<Summary> call_us;    // CUDA-event latency per call
  std::optional<Summary> host_us;    // host time per call, back to back (one per round)
  SampleGroups kernel_groups;        // kernel_us samples per fresh process (--repeat)
  double first_call_s = 0;           // compile + autotune (the first process's)
  bool clock_low = false;            // the SM clock was below 75% of its maximum
  std::string stop;                  // why sampling stopped: converged, max_calls, timeout
  std::optional<Roofline> roofline;
  // Autotuned kernel -> the configuration each process picked, in process order: processes
  // that picked differently can time on different levels.
  std::map<std::string, std::vector<std::string>> tuned;
  // Per process, each kernel's median time per call in us (the worker's kernel_median_us):
  // which kernel moved, when a cell moves between runs.
  std::vector<std::map<std::string, double>> kernel_median_us;
};

/// Whether the processes of a cell picked different configurations for some autotuned kernel.
bool TunedDifferently(const Cell& cell);

/// A speedup with its bootstrap interval and what the interval says.
struct RatioEstimate {
  RatioCi ci;
  Verdict verdict = Verdict::kTie;
  bool impossible = false;  // a cell above 100% of peak: no verdict is given
};

/// One size and mode of a task. Ratios are speedups of kernel-time medians (higher is
/// better), set only when both cells are ok and have samples.
struct Row {
  std::string size;
  std::string mode;  // forward | backward
  Cell baseline, expert, llm, compile;
  // A task with several experts ([[expert]]): each one's own cell, in the manifest's order, and
  // which of them the Expert cell is (the fastest ok one at this size and mode); its LLM/Expert
  // against each. Empty for a task with one expert.
  std::vector<Cell> experts;
  std::string expert_name;
  std::vector<std::optional<double>> llm_over_experts;
  std::optional<double> expert_over_base;   // baseline / expert
  std::optional<double> llm_over_base;      // baseline / LLM
  std::optional<double> llm_over_expert;    // expert / LLM: 1.00x means the LLM matches
  std::optional<double> compile_over_base;  // baseline / torch.compile
  std::optional<RatioEstimate> expert_over_base_ci, llm_over_base_ci, llm_over_expert_ci,
      compile_over_base_ci;
};

struct TaskTable {
  std::string task;
  std::string description;
  std::string llm_name;  // model id; empty when no LLM column was requested
  std::vector<Row> rows;
  // Geometric means of the ratio columns over the rows where the ratio is defined.
  std::optional<double> geomean_expert_over_base;
  std::optional<double> geomean_llm_over_base;
  std::optional<double> geomean_llm_over_expert;
  std::optional<double> geomean_compile_over_base;
  bool has_compile = false;        // a torch.compile column was requested
  // The experts' names when the task has several (Row::experts); empty otherwise.
  std::vector<std::string> expert_names;
  std::vector<std::optional<double>> geomean_llm_over_experts;  // per expert
  std::vector<std::string> notes;  // one line per failed or missing column or cell
};

/// The GPU's limits that the roofline is drawn against.
struct PeakLimits {
  std::string gpu;             // the spec's name; empty when the GPU is not in the table
  double bandwidth_gb_s = 0;   // spec: memory clock and bus width
  double tflops = 0;           // spec: dense peak for the task's dtype (set per task)
  double measured_gb_s = 0;    // calibrate: device-to-device copy; 0 when not calibrated
  double measured_tflops = 0;  // calibrate: cuBLAS GEMM of the task's dtype
  double l2_bytes = 0;         // the L2's size: writes it may hold when a kernel ends (impossible)
};

/// What a table is built from: every repeat's job of each column (one per fresh process;
/// empty: the column was not requested).
struct TableInputs {
  std::vector<const JobResult*> baseline, expert, llm, compile;
  // Every expert column when the task has several, by name in the manifest's order (the first is
  // `expert`'s jobs): each row's Expert cell is then the fastest ok one, named.
  struct NamedJobs {
    std::string name;
    std::vector<const JobResult*> jobs;
  };
  std::vector<NamedJobs> experts;
  std::string llm_name;
  std::optional<PeakLimits> peaks;  // none: no roofline
  int bootstrap_iterations = 2000;
  double confidence = 0.95;
};

struct BenchReport {
  std::vector<TaskTable> tables;
  nlohmann::json environment = nlohmann::json::object();  // the worker's environment
  std::string method;            // how things were measured, printed as the footer
  bool timed = true;             // false: correctness only (interpreter), no times
  ProcessSpread process_spread;  // pooled over every cell of every table (--repeat >= 2)
};

/// Pools the between-process spread of every ok cell of every table (PooledProcessSpread),
/// widens every ratio's interval to at least the t interval it implies
/// (WidenByProcessSpread), gives each ratio its verdict again, and says so in the method.
/// Nothing changes when no cell has two processes (--repeat 1). Call once, after the tables.
void ApplyProcessSpread(BenchReport* report, double confidence = 0.95);

/// Builds one task's table. Rows are the (size, mode) pairs the jobs timed, in the task's
/// order; with no timings at all, the pairs they checked; failing that, the task's sizes and
/// modes. A job that failed fills every row of its column with its status; a null job is a
/// column that was not requested (unavailable, "not requested").
TaskTable BuildTaskTable(const Task& task, const JobResult* baseline, const JobResult* expert,
                         const JobResult* llm, const std::string& llm_name);

/// The same with repeats, the torch.compile column, intervals and the roofline.
TaskTable BuildTaskTable(const Task& task, const TableInputs& inputs);

/// The roofline of one cell: bytes and flops from the task's [cost.<mode>] formulas at the
/// row's size; nullopt when a formula cannot be evaluated or the peaks are unknown.
std::optional<Roofline> RooflineOf(const Task& task, const std::string& size,
                                   const std::string& mode, double median_us,
                                   const PeakLimits& peaks);

/// "LLM (model)", or "LLM" when the model is unnamed.
std::string LlmColumnName(const std::string& llm_name);

}  // namespace tritonize

#pragma once

// Hand-made tasks and job results for the report tests.

#include <string>
#include <vector>

#include "core/job.h"
#include "core/task.h"
#include "report/bench_report.h"

namespace tritonize::testing_fixtures {

inline Task SoftmaxTask() {
  Task task;
  task.name = "softmax";
  task.description = "Row-wise softmax of a 2-D float16 matrix.";
  task.modes = {"forward"};
  task.sizes = {"1024x1024", "2048x2048", "4096x4096"};
  task.check_sizes = {"1823x781", "3x5", "1024x1024", "2048x2048", "4096x4096"};
  task.interpret_check_sizes = {"37x93", "64x128"};
  return task;
}

inline Task LayerNormTask() {
  Task task;
  task.name = "layernorm";
  task.description = "Layer normalisation over the last dimension; forward and backward.";
  task.modes = {"forward", "backward"};
  task.sizes = {"1024x1024", "2048x2048"};
  task.check_sizes = {"1823x781", "1024x1024", "2048x2048"};
  task.interpret_check_sizes = {"37x93"};
  return task;
}

/// Three kernel samples whose median is `median_us`; call latency 8 us more.
inline Timing MakeTiming(const std::string& size, const std::string& mode, double median_us) {
  Timing t;
  t.size = size;
  t.mode = mode;
  t.kernel_us = {median_us * 1.02, median_us, median_us * 0.99};
  t.call_us = {median_us + 9, median_us + 8, median_us + 8.5};
  t.host_us = {6.5, 6.0, 6.2};
  t.kernels = {{"kernel", 1}};
  t.first_call_s = 1.5;
  return t;
}

/// An ok job timed at the task's sizes, mode-major (every forward row, then every backward
/// row), with the given kernel medians in that order.
inline JobResult TimedJob(const Task& task, const std::vector<double>& medians_us) {
  JobResult job;
  job.status = Status::kOk;
  job.phase = "time";
  size_t i = 0;
  for (const auto& mode : task.modes) {
    for (const auto& size : task.sizes) {
      job.timings.push_back(MakeTiming(size, mode, medians_us.at(i++)));
    }
  }
  return job;
}

inline JobResult FailedJob(Status status, const std::string& message) {
  JobResult job;
  job.status = status;
  job.message = message;
  job.phase = "check";
  return job;
}

/// An ok job of a correctness-only run: checks at the interpreter sizes, no timings.
inline JobResult CheckedJob(const Task& task) {
  JobResult job;
  job.status = Status::kOk;
  job.phase = "check";
  for (const auto& size : task.interpret_check_sizes) {
    for (const auto& mode : task.modes) {
      for (int seed : {0, 1}) {
        job.checks.push_back({size, seed, mode, "y", true, 1e-7, 1e-6, 0, 100, 1e-2, 1e-2});
      }
    }
  }
  return job;
}

inline nlohmann::json H100Environment() {
  return {{"python", "3.12.3"},
          {"torch", "2.11.0"},
          {"triton", "3.6.0"},
          {"cuda", "13.0"},
          {"gpu", "NVIDIA H100 80GB HBM3"},
          {"driver", "580.82.07"},
          {"sm_clock_mhz_before", 1980},
          {"sm_clock_mhz_after", 1755},
          {"sm_clock_max_mhz", 1980},
          {"interpret", false}};
}

inline constexpr const char* kMethod =
    "Method: kernel time = sum of the implementation's GPU activity per call from CUPTI, L2 "
    "flushed before every call, median of 50 calls. Ratios are speedups of the kernel-time "
    "medians.";

/// SoftmaxTask with its costs: float32 read and written, five flops an element.
inline Task CostedSoftmaxTask() {
  Task task = SoftmaxTask();
  task.dims = {"M", "N"};
  task.cost["forward"] = CostFormula{"2 * M * N * 4", "5 * M * N"};
  task.manifest = {{"inputs", {{{"name", "x"}, {"kind", "tensor"}, {"dtype", "float32"}}}}};
  return task;
}

/// LayerNormTask with its costs, float16.
inline Task CostedLayerNormTask() {
  Task task = LayerNormTask();
  task.dims = {"M", "N"};
  task.cost["forward"] = CostFormula{"2 * M * N * 2", "8 * M * N"};
  task.cost["backward"] = CostFormula{"3 * M * N * 2", "14 * M * N"};
  task.manifest = {{"inputs", {{{"name", "x"}, {"kind", "tensor"}, {"dtype", "float16"}}}}};
  return task;
}

/// TimedJob with every median times `scale`: another process of the same column.
inline JobResult ScaledJob(const Task& task, std::vector<double> medians_us, double scale) {
  for (double& m : medians_us) m *= scale;
  return TimedJob(task, medians_us);
}

/// One model's LLM medians per task (task order: softmax, layernorm); empty: its job failed.
struct ModelMedians {
  std::string model;
  std::vector<double> softmax, layernorm;
};

/// A timed two-task report as `bench --repeat 2` builds it: baseline, expert, compile and an
/// LLM column per model, each in two processes 1% apart, against H100-like peaks with
/// calibrated ceilings, the intervals widened by the pooled process spread.
inline BenchReport TwoTaskReport(const std::vector<ModelMedians>& models) {
  BenchReport report;
  report.environment = H100Environment();
  report.method = kMethod;
  const Task softmax = CostedSoftmaxTask();
  const Task layernorm = CostedLayerNormTask();
  const PeakLimits peaks{"H100", 3352, 494.7, 3025, 0};
  for (const Task* task : {&softmax, &layernorm}) {
    const bool is_softmax = task == &softmax;
    const std::vector<double> base = is_softmax ? std::vector<double>{23.5, 51.8, 220}
                                                : std::vector<double>{43.4, 95.4, 77.3, 228};
    const std::vector<double> expert = is_softmax ? std::vector<double>{4.1, 10.5, 40.5}
                                                  : std::vector<double>{3.58, 8.19, 23.1, 40.8};
    const std::vector<double> compile = is_softmax ? std::vector<double>{4.0, 11.0, 40.5}
                                                   : std::vector<double>{2.88, 6.88, 13.7, 30.5};
    const JobResult b0 = ScaledJob(*task, base, 1.0), b1 = ScaledJob(*task, base, 1.01);
    const JobResult e0 = ScaledJob(*task, expert, 1.0), e1 = ScaledJob(*task, expert, 1.01);
    const JobResult c0 = ScaledJob(*task, compile, 1.0), c1 = ScaledJob(*task, compile, 1.01);
    for (const ModelMedians& m : models) {
      const std::vector<double>& llm = is_softmax ? m.softmax : m.layernorm;
      const JobResult l0 = llm.empty()
                               ? FailedJob(Status::kWrongResult, "y differs at 1823x781 seed 0")
                               : ScaledJob(*task, llm, 1.0);
      const JobResult l1 = llm.empty() ? l0 : ScaledJob(*task, llm, 1.01);
      TableInputs inputs;
      inputs.baseline = {&b0, &b1};
      inputs.expert = {&e0, &e1};
      inputs.llm = {&l0, &l1};
      inputs.compile = {&c0, &c1};
      inputs.llm_name = m.model;
      inputs.peaks = peaks;
      report.tables.push_back(BuildTaskTable(*task, inputs));
    }
  }
  ApplyProcessSpread(&report);
  return report;
}

/// Two models: one as fast as the expert or faster everywhere, one slower whose layernorm
/// candidate is wrong.
inline BenchReport TwoModelReport() {
  return TwoTaskReport({{"model-fast", {3.94, 10.5, 41.8}, {2.98, 6.88, 12.3, 19.6}},
                        {"model-slow", {8.2, 21.0, 81.0}, {}}});
}

}  // namespace tritonize::testing_fixtures

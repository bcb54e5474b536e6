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

}  // namespace tritonize::testing_fixtures

// Runs written into a real SQLite store through the Store, as `bench` writes them: what the
// tests of `report`, `compare` and `leaderboard` read back through the binary.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>

#include "core/task.h"
#include "store/store.h"

namespace tritonize {

/// The timing options a run records (run/plan.h's TimingOptionsToJson).
inline nlohmann::json StoredTimingOptions() {
  return {{"calls", 50},
          {"warmup_calls", 10},
          {"flush_bytes", 256 << 20},
          {"compile_mode", "deterministic"},
          {"autotune_timer", "job"}};
}

/// One process's job timed at every size of `task` (forward): three kernel samples around
/// median * scale, 100 us at the first size and four times more at each next one.
inline JobResult TimedJobOf(const Task& task, double scale, int process,
                            const std::string& gpu_uuid = "") {
  JobResult result;
  result.status = Status::kOk;
  result.phase = "time";
  result.process = process;
  result.environment = {{"gpu", "NVIDIA H200"}};
  if (!gpu_uuid.empty()) result.environment["gpu_uuid"] = gpu_uuid;
  double median = 100;
  for (const auto& size : task.sizes) {
    Timing timing;
    timing.size = size;
    timing.mode = "forward";
    timing.kernel_us = {median * scale * 0.99, median * scale, median * scale * 1.01,
                        median * scale * 0.995, median * scale * 1.005};
    timing.call_us = {median * scale + 8};
    timing.host_us = {5.0};
    timing.kernels = {{"kernel", 1}};
    timing.first_call_s = 0.5;
    timing.process = process;
    result.timings.push_back(timing);
    median *= 4;
  }
  return result;
}

/// Writes runs into one database file.
class StoreWriter {
 public:
  explicit StoreWriter(const std::filesystem::path& db) {
    std::string err;
    store_ = Store::Open(db, &err);
    EXPECT_NE(store_, nullptr) << err;
  }

  int64_t Begin(const std::string& command_line, bool interpret = false) {
    std::string err;
    const int64_t run = store_->BeginRun(
        command_line, {{"interpret", interpret}, {"timing_options", StoredTimingOptions()}}, &err);
    EXPECT_GT(run, 0) << err;
    return run;
  }

  /// impl: baseline, expert, compile, llm:<model> or llm:<model>:s<k>-t<turn>.
  void Job(int64_t run, const Task& task, const std::string& impl, const std::string& hash,
           const JobResult& result, const nlohmann::json& metadata = nlohmann::json::object()) {
    Implementation implementation;
    implementation.kind = impl.rfind("llm:", 0) == 0 ? ImplKind::kLlm
                          : impl == "expert"         ? ImplKind::kExpert
                                                     : ImplKind::kBaseline;
    implementation.name = impl;
    if (implementation.kind == ImplKind::kLlm) {
      const std::string rest = impl.substr(4);
      implementation.model_id = rest.substr(0, rest.find(':'));
    }
    implementation.content_hash = hash;
    implementation.metadata = metadata;
    std::string err;
    EXPECT_TRUE(store_->RecordJob(run, task, implementation, result, &err)) << err;
  }

  void Finish(int64_t run) {
    std::string err;
    EXPECT_TRUE(store_->FinishRun(run, "finished", &err)) << err;
  }

 private:
  std::unique_ptr<Store> store_;
};

}  // namespace tritonize

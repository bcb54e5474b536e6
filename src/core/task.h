#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace tritonize {

/// Ideal DRAM bytes and arithmetic per call, as formulas over the task's dims.
struct CostFormula {
  std::string bytes;
  std::string flops;
};

/// A benchmark task: tasks/<name>/task.toml plus its PyTorch baseline (docs/tasks.md).
struct Task {
  std::string name;
  std::string description;
  std::string entry;
  std::string signature;
  std::filesystem::path dir;
  std::filesystem::path baseline;  // absolute
  std::vector<std::string> modes;
  std::vector<std::string> dims;
  std::vector<std::string> sizes;
  std::vector<std::string> check_sizes;
  std::vector<std::string> interpret_check_sizes;
  std::vector<int> seeds;
  std::map<std::string, CostFormula> cost;  // by mode
  std::string expert_tutorial;               // empty: the task has no expert
  std::string expert_entry;
  nlohmann::json manifest;  // the whole manifest, as the worker receives it
};

constexpr int kTaskSchemaVersion = 1;

/// Reads and validates tasks/<name>/task.toml. Every problem found is appended to *errors
/// as "FILE: field `x`: what is wrong"; returns false if there was any.
bool LoadTask(const std::filesystem::path& manifest_path, Task* task,
              std::vector<std::string>* errors);

/// Splits "2048x2048" into numbers, one per dim; false if malformed.
bool ParseSize(const std::string& size, size_t dims, std::vector<long long>* values);

}  // namespace tritonize

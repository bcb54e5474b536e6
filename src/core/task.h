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

/// One expert column of a task: a Triton tutorial's kernel, extracted at run time, or an installed
/// library's (docs/expert.md). Exactly one of `tutorial` and `module` is set.
struct Expert {
  std::string name;                // the column's name: tutorial, persistent, liger, ...
  std::string tutorial;            // a file in a Triton checkout's python/tutorials
  std::string module;              // an installed module, e.g. liger_kernel.ops.rms_norm
  std::vector<std::string> names;  // what the entry uses from `module`
  std::string entry;               // an expression over the kept or imported names
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
  std::vector<std::string> interpret_check_sizes;  // empty when interpret_skip says why
  std::string interpret_skip;  // why the Triton interpreter cannot run the task; empty: it can
  std::map<std::string, long long> multiple_of;  // dim -> what every size of it is a multiple of
  std::vector<int> seeds;
  std::vector<std::string> outputs;  // the entry's results, by name (y when the manifest names none)
  std::map<std::string, CostFormula> cost;  // by mode
  std::vector<Expert> experts;              // empty: the task has no expert column
  nlohmann::json manifest;  // the whole manifest, as the worker receives it
};

/// The manifest format this engine reads (python/tritonize_worker/manifest_schema.toml).
constexpr int kTaskSchemaVersion = 2;

/// Reads and validates tasks/<name>/task.toml against the manifest schema and its rules (the
/// worker checks the same, python/tritonize_worker/manifest.py). Every problem found is appended
/// to *errors as "FILE: <path>: what is wrong"; returns false if there was any.
bool LoadTask(const std::filesystem::path& manifest_path, Task* task,
              std::vector<std::string>* errors);

/// Checks a manifest already parsed (TOML as JSON) as LoadTask does, without the file system's
/// part (the folder's name, the baseline file). Appends "<path>: what is wrong" per problem.
bool CheckManifest(const nlohmann::json& manifest, std::vector<std::string>* problems);

/// The dtype that bounds a task's arithmetic (the roofline's FLOP peak, the calibrated GEMM): its
/// first tensor or tensor-list input's; empty when it has none.
std::string TaskDtype(const Task& task);

/// Splits "2048x2048" into numbers, one per dim; false if malformed.
bool ParseSize(const std::string& size, size_t dims, std::vector<long long>* values);

}  // namespace tritonize

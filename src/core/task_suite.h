#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "core/task.h"

namespace tritonize {

/// All tasks found under a tasks directory, in name order.
class TaskSuite {
 public:
  /// Loads every tasks/<name>/task.toml; all manifest errors are collected in *errors.
  static bool Load(const std::filesystem::path& tasks_dir, TaskSuite* suite,
                   std::vector<std::string>* errors);

  const std::vector<Task>& tasks() const { return tasks_; }
  const Task* Find(const std::string& name) const;

  /// Resolves a comma list ("softmax,matmul" or "all"); unknown names go to *errors.
  std::vector<const Task*> Select(const std::string& names,
                                  std::vector<std::string>* errors) const;

 private:
  std::vector<Task> tasks_;
};

}  // namespace tritonize

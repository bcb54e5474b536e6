#include "core/task_suite.h"

#include <algorithm>
#include <sstream>

#include <fmt/format.h>

namespace tritonize {

bool TaskSuite::Load(const std::filesystem::path& tasks_dir, TaskSuite* suite,
                     std::vector<std::string>* errors) {
  namespace fs = std::filesystem;
  suite->tasks_.clear();
  std::error_code ec;
  if (!fs::is_directory(tasks_dir, ec)) {
    errors->push_back(fmt::format("{}: tasks directory not found", tasks_dir.string()));
    return false;
  }
  std::vector<fs::path> manifests;
  for (const auto& entry : fs::directory_iterator(tasks_dir, ec)) {
    if (entry.is_directory() && fs::exists(entry.path() / "task.toml")) {
      manifests.push_back(entry.path() / "task.toml");
    }
  }
  std::sort(manifests.begin(), manifests.end());
  const size_t errors_before = errors->size();
  for (const auto& manifest : manifests) {
    Task task;
    if (LoadTask(manifest, &task, errors)) suite->tasks_.push_back(std::move(task));
  }
  if (manifests.empty()) {
    errors->push_back(fmt::format("{}: no tasks (no */task.toml)", tasks_dir.string()));
  }
  return errors->size() == errors_before;
}

const Task* TaskSuite::Find(const std::string& name) const {
  for (const auto& task : tasks_) {
    if (task.name == name) return &task;
  }
  return nullptr;
}

std::vector<const Task*> TaskSuite::Select(const std::string& names,
                                           std::vector<std::string>* errors) const {
  std::vector<const Task*> out;
  if (names == "all") {
    for (const auto& task : tasks_) out.push_back(&task);
    return out;
  }
  std::stringstream stream(names);
  std::string name;
  while (std::getline(stream, name, ',')) {
    if (name.empty()) continue;
    const Task* task = Find(name);
    if (task == nullptr) {
      std::string known;
      for (const auto& t : tasks_) known += (known.empty() ? "" : ", ") + t.name;
      errors->push_back(fmt::format("--tasks: unknown task \"{}\" (known: {}, or all)", name, known));
    } else if (std::find(out.begin(), out.end(), task) == out.end()) {
      out.push_back(task);
    }
  }
  return out;
}

}  // namespace tritonize

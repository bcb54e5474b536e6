#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "core/implementation.h"
#include "core/task.h"
#include "exec/worker.h"

namespace tritonize {

/// The expert columns: modules extracted from a Triton checkout's tutorials, or importing an
/// installed library's kernels, by `python -m tritonize_worker.extract` (docs/expert.md).
struct ExpertSet {
  bool ok = false;
  std::string error;  // the extractor could not run at all
  // By task name: one per [[expert]] of its manifest, in its order; unavailable ones say why.
  std::map<std::string, std::vector<Implementation>> tasks;
};

/// How a user gets a checkout, for messages.
std::string TutorialsHint();

/// The implementation name of a task's expert: "expert" for its first [[expert]] (the table's
/// Expert column, as stored since the first runs), "expert:<name>" for each other one.
std::string ExpertImplName(const Task& task, size_t index);

/// Runs the extractor for the given tasks' experts into out_dir. `tutorials` may be empty (no
/// checkout): the tutorial experts are then unavailable and say so, the library ones still run.
/// With options.interpret, an expert whose manifest gives `interpret_skip` is unavailable with it.
ExpertSet ExtractExperts(const WorkerOptions& options, const std::filesystem::path& tutorials,
                         const std::filesystem::path& tasks_dir,
                         const std::vector<const Task*>& tasks,
                         const std::filesystem::path& out_dir);

}  // namespace tritonize

#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "core/implementation.h"
#include "core/task.h"
#include "exec/worker.h"

namespace tritonize {

/// The expert column: modules extracted from a Triton checkout's tutorials by
/// `python -m tritonize_worker.extract` (docs/expert.md).
struct ExpertSet {
  bool ok = false;
  std::string error;                            // the extractor could not run at all
  std::map<std::string, Implementation> tasks;  // by task name; unavailable ones say why
};

/// How a user gets a checkout, for messages.
std::string TutorialsHint();

/// Runs the extractor for the given tasks into out_dir.
ExpertSet ExtractExperts(const WorkerOptions& options, const std::filesystem::path& tutorials,
                         const std::filesystem::path& tasks_dir,
                         const std::vector<const Task*>& tasks,
                         const std::filesystem::path& out_dir);

}  // namespace tritonize

#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "core/implementation.h"
#include "core/task.h"

namespace tritonize {

/// Model ids with candidates under an LLM directory: llm_triton/<model-id>/<task>.py,
/// each with <task>.meta.json saying how it was produced (docs/llm-candidates.md).
std::vector<std::string> ListLlmModels(const std::filesystem::path& llm_dir);

/// The LLM column for one task and model; `unavailable` is set when there is no file.
Implementation LlmImplementation(const std::filesystem::path& llm_dir, const std::string& model,
                                 const Task& task);

Implementation BaselineImplementation(const Task& task);

/// A file given on the command line (`tritonize eval --file`).
Implementation CandidateImplementation(const std::filesystem::path& file, const Task& task);

/// Fills content_hash from the file's bytes; sets `unavailable` if it cannot be read.
void HashImplementation(Implementation* impl);

}  // namespace tritonize

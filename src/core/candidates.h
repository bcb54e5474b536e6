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

/// One turn of one sample: llm_triton/<model-id>/samples/<task>/s<k>-t<turn>.meta.json and,
/// when the answer had code, s<k>-t<turn>.py (docs/generate.md). Named llm:<model>:s<k>-t<turn>.
struct LlmSample {
  int sample = 0;
  int turn = 1;
  Implementation impl;  // `unavailable` when the answer had no code
};

/// Every sample and turn of a model for a task, by sample then turn; empty without samples/.
std::vector<LlmSample> ListLlmSamples(const std::filesystem::path& llm_dir, const std::string& model,
                                      const Task& task);

Implementation BaselineImplementation(const Task& task);

/// A file given on the command line (`tritonize eval --file`).
Implementation CandidateImplementation(const std::filesystem::path& file, const Task& task);

/// Fills content_hash from the file's bytes; sets `unavailable` if it cannot be read.
void HashImplementation(Implementation* impl);

}  // namespace tritonize

#pragma once

#include <filesystem>
#include <map>
#include <string>

#include "core/job.h"
#include "core/task.h"

namespace tritonize {

/// A versioned prompt template, prompts/<name>.txt; {{var}} placeholders.
struct PromptTemplate {
  std::string name;  // e.g. oneshot-v1
  std::string path;  // relative to the root, for metadata: prompts/oneshot-v1.txt
  std::string text;
  std::string sha256;  // of the template file's bytes
};

bool LoadPromptTemplate(const std::filesystem::path& root, const std::string& name,
                        PromptTemplate* out, std::string* err);

using PromptVars = std::map<std::string, std::string>;

/// Substitutes every {{var}}; false naming the first placeholder with no value.
bool RenderPrompt(const std::string& text, const PromptVars& vars, std::string* out,
                  std::string* err);

/// The one-shot template's variables for a task: its manifest and baseline, never the expert.
/// `gpu` names the GPU the run targets ("NVIDIA H200"; empty: unknown, "an NVIDIA GPU").
bool OneshotVars(const Task& task, const std::string& gpu, PromptVars* vars, std::string* err);

/// The GPU a prompt targets: `flag` (--gpu), else $TRITONIZE_GPU, else this machine's first GPU
/// as nvidia-smi names it; empty when none.
std::string TargetGpu(const std::string& flag);

/// How the prompt names it: "the NVIDIA H200 GPU (Hopper)", or "an NVIDIA GPU" when unknown.
std::string GpuPhrase(const std::string& gpu);

/// The refinement template's variables: the worker's verdict on the previous answer.
/// `baseline` may be null (no timing run); `code_found` false when the answer had no code.
PromptVars RefineVars(const Task& task, int turn, bool code_found, const JobResult& verdict,
                      const JobResult* baseline);

/// Python's repr() of a float (1e-06, 0.0001, 1.0), as the manifest's values are shown.
std::string PythonFloat(double value);

}  // namespace tritonize

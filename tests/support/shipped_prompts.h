// What the shipped LLM set (llm_triton/claude-devsession-oneshot) was prompted with, against
// what the engine renders today.
#pragma once

#include <string>

namespace tritonize {

// The shipped matmul prompt says atol=0.05: the model saw that. tasks/matmul/task.toml widened it
// to 0.5 afterwards (cuBLAS's fp16 split-K error reached 0.19 on the H100), which is the one line
// in which today's rendering differs from what was sent.
inline std::string AsRenderedToday(const std::string& task, std::string shipped_prompt) {
  const std::string old_line = "tolerances: y: atol=0.05, rtol=0.01.";
  auto at = shipped_prompt.find(old_line);
  if (task == "matmul" && at != std::string::npos) {
    shipped_prompt.replace(at, old_line.size(), "tolerances: y: atol=0.5, rtol=0.01.");
  }
  return shipped_prompt;
}

}  // namespace tritonize

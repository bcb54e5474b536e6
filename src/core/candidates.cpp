#include "core/candidates.h"

#include <algorithm>

#include <fmt/format.h>

#include "core/sha256.h"

namespace tritonize {

namespace fs = std::filesystem;

std::vector<std::string> ListLlmModels(const fs::path& llm_dir) {
  std::vector<std::string> models;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(llm_dir, ec)) {
    if (entry.is_directory()) models.push_back(entry.path().filename().string());
  }
  std::sort(models.begin(), models.end());
  return models;
}

void HashImplementation(Implementation* impl) {
  std::string bytes;
  std::string err;
  if (!ReadFile(impl->path, &bytes, &err)) {
    impl->unavailable = err;
    return;
  }
  impl->content_hash = Sha256Hex(bytes);
}

Implementation LlmImplementation(const fs::path& llm_dir, const std::string& model,
                                 const Task& task) {
  Implementation impl;
  impl.kind = ImplKind::kLlm;
  impl.name = "llm:" + model;
  impl.model_id = model;
  impl.entry = task.entry;
  impl.path = fs::absolute(llm_dir / model / (task.name + ".py"));
  if (!fs::is_regular_file(impl.path)) {
    impl.unavailable = fmt::format("no LLM candidate: {} does not exist", impl.path.string());
    return impl;
  }
  HashImplementation(&impl);
  std::string text;
  std::string err;
  fs::path meta = llm_dir / model / (task.name + ".meta.json");
  if (ReadFile(meta, &text, &err)) {
    auto j = nlohmann::json::parse(text, nullptr, false);
    impl.metadata = j.is_discarded() ? nlohmann::json{{"error", meta.string() + ": not JSON"}} : j;
  } else {
    impl.metadata = {{"error", "no metadata record: " + meta.string()}};
  }
  return impl;
}

Implementation BaselineImplementation(const Task& task) {
  Implementation impl;
  impl.kind = ImplKind::kBaseline;
  impl.name = "baseline";
  impl.entry = task.entry;
  impl.path = task.baseline;
  HashImplementation(&impl);
  return impl;
}

Implementation CandidateImplementation(const fs::path& file, const Task& task) {
  Implementation impl;
  impl.kind = ImplKind::kCandidate;
  impl.name = "candidate";
  impl.entry = task.entry;
  impl.path = fs::absolute(file);
  HashImplementation(&impl);
  return impl;
}

}  // namespace tritonize

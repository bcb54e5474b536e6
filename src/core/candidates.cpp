#include "core/candidates.h"

#include <algorithm>
#include <regex>

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
    // The generator's record says why when the model answered without code.
    std::string text;
    std::string err;
    if (ReadFile(llm_dir / model / (task.name + ".meta.json"), &text, &err)) {
      const auto meta = nlohmann::json::parse(text, nullptr, false);
      if (!meta.is_discarded() && meta.is_object() && meta.value("status", "") == "no_code") {
        impl.unavailable = fmt::format("no LLM candidate: the model's answer held no code ({})",
                                       (llm_dir / model / (task.name + ".response.md")).string());
      }
    }
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

std::vector<LlmSample> ListLlmSamples(const fs::path& llm_dir, const std::string& model,
                                      const Task& task) {
  std::vector<LlmSample> samples;
  const fs::path dir = llm_dir / model / "samples" / task.name;
  const std::regex name(R"(s(\d+)-t(\d+)\.meta\.json)");
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    std::smatch m;
    std::string file = entry.path().filename().string();
    if (!std::regex_match(file, m, name)) continue;
    LlmSample s;
    s.sample = std::stoi(m[1].str());
    s.turn = std::stoi(m[2].str());
    Implementation& impl = s.impl;
    impl.kind = ImplKind::kLlm;
    impl.name = fmt::format("llm:{}:s{}-t{}", model, s.sample, s.turn);
    impl.model_id = model;
    impl.entry = task.entry;
    impl.path = fs::absolute(dir / fmt::format("s{}-t{}.py", s.sample, s.turn));
    std::string text, err;
    if (ReadFile(entry.path(), &text, &err)) {
      auto j = nlohmann::json::parse(text, nullptr, false);
      impl.metadata = j.is_discarded() ? nlohmann::json{{"error", file + ": not JSON"}} : j;
    }
    if (fs::is_regular_file(impl.path)) {
      HashImplementation(&impl);
    } else {
      impl.unavailable = fmt::format("no code in the answer ({})",
                                     impl.metadata.value("status", std::string("no file")));
    }
    samples.push_back(std::move(s));
  }
  std::sort(samples.begin(), samples.end(), [](const LlmSample& a, const LlmSample& b) {
    return std::tie(a.sample, a.turn) < std::tie(b.sample, b.turn);
  });
  return samples;
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

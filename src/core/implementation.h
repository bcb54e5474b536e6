#pragma once

#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

namespace tritonize {

/// Which column of the table an implementation fills.
enum class ImplKind { kBaseline, kExpert, kLlm, kCandidate };

std::string_view ImplKindName(ImplKind kind);

/// One implementation of one task: a Python module and the expression that is its entry.
struct Implementation {
  ImplKind kind = ImplKind::kBaseline;
  std::string name;             // baseline | expert | llm:<model-id> | candidate
  std::string model_id;         // for kLlm
  std::filesystem::path path;   // the module file; empty when unavailable
  std::string entry;            // evaluated in the module's namespace
  std::string content_hash;     // sha256 of the file's bytes
  std::string unavailable;      // why it cannot run (no checkout, no file), empty if it can
  nlohmann::json metadata = nlohmann::json::object();  // how it was produced (LLM candidates)
};

}  // namespace tritonize

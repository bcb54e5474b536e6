#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace tritonize {

/// Which column of the table an implementation fills.
/// The one list of kinds; python/tritonize_worker/protocol.py IMPL_KINDS is the same list (tested
/// from both sides: tests/core/kinds_test.cpp).
enum class ImplKind {
  kBaseline,   // the task's plain PyTorch baseline
  kExpert,     // an expert's Triton (a tutorial's, extracted at run time)
  kLlm,        // a model's candidate of an LLM column or sample
  kCandidate,  // a file given to `eval`
  kCompile,    // the baseline under torch.compile (Inductor)
};
inline constexpr ImplKind kAllImplKinds[] = {ImplKind::kBaseline, ImplKind::kExpert, ImplKind::kLlm,
                                             ImplKind::kCandidate, ImplKind::kCompile};

std::string_view ImplKindName(ImplKind kind);
/// The kind ImplKindName gives `name`; nullopt when it names none.
std::optional<ImplKind> ImplKindNamed(std::string_view name);
/// Trusted code (the baseline, the tutorials' experts, Inductor's output): not scanned, caches
/// shared.
bool IsTrustedKind(ImplKind kind);
/// Runs the task's own PyTorch (the baseline, and torch.compile of it): may hold what the baseline
/// materialises (the manifest's peak_bytes), which a Triton kernel of the task does not.
bool RunsTaskPyTorch(ImplKind kind);

/// One implementation of one task: a Python module and the expression that is its entry.
struct Implementation {
  ImplKind kind = ImplKind::kBaseline;
  std::string name;            // baseline | expert | llm:<model-id> | candidate | compile
  std::string model_id;        // for kLlm
  std::filesystem::path path;  // the module file; empty when unavailable
  std::string entry;           // evaluated in the module's namespace
  std::string content_hash;    // sha256 of the file's bytes
  std::string unavailable;     // why it cannot run (no checkout, no file), empty if it can
  nlohmann::json metadata = nlohmann::json::object();  // how it was produced (LLM candidates)
};

}  // namespace tritonize

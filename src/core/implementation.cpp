#include "core/implementation.h"

namespace tritonize {

std::string_view ImplKindName(ImplKind kind) {
  switch (kind) {
    case ImplKind::kBaseline:
      return "baseline";
    case ImplKind::kExpert:
      return "expert";
    case ImplKind::kLlm:
      return "llm";
    case ImplKind::kCandidate:
      return "candidate";
    case ImplKind::kCompile:
      return "compile";
  }
  return "unknown";
}

std::optional<ImplKind> ImplKindNamed(std::string_view name) {
  for (ImplKind kind : kAllImplKinds) {
    if (ImplKindName(kind) == name) return kind;
  }
  return std::nullopt;
}

bool IsTrustedKind(ImplKind kind) {
  return kind == ImplKind::kBaseline || kind == ImplKind::kExpert || kind == ImplKind::kCompile;
}

bool RunsTaskPyTorch(ImplKind kind) {
  return kind == ImplKind::kBaseline || kind == ImplKind::kCompile;
}

}  // namespace tritonize

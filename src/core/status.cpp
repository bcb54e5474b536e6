#include "core/status.h"

#include <array>
#include <utility>

namespace tritonize {
namespace {

constexpr std::array<std::pair<Status, std::string_view>, 11> kNames = {{
    {Status::kOk, "ok"},
    {Status::kWrongResult, "wrong_result"},
    {Status::kSyntaxError, "syntax_error"},
    {Status::kImportError, "import_error"},
    {Status::kMissingEntry, "missing_entry"},
    {Status::kCompileError, "compile_error"},
    {Status::kRuntimeError, "runtime_error"},
    {Status::kTimeout, "timeout"},
    {Status::kCrashed, "crashed"},
    {Status::kRejected, "rejected"},
    {Status::kUnavailable, "unavailable"},
}};

}  // namespace

std::string_view StatusName(Status status) {
  for (const auto& [value, name] : kNames) {
    if (value == status) return name;
  }
  return "unknown";
}

std::optional<Status> ParseStatus(std::string_view name) {
  for (const auto& [value, known] : kNames) {
    if (known == name) return value;
  }
  return std::nullopt;
}

}  // namespace tritonize

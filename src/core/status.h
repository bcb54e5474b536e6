#pragma once

#include <optional>
#include <string_view>

namespace tritonize {

/// The verdict of one job. Expected failures are values, never exceptions: one bad
/// candidate gets its status and the run goes on.
enum class Status {
  kOk,
  kWrongResult,
  kSyntaxError,
  kImportError,
  kMissingEntry,
  kCompileError,
  kRuntimeError,
  kTimeout,
  kCrashed,
  kRejected,
  kUnavailable,  // not run: e.g. no Triton checkout for the expert, no LLM candidate file
};

std::string_view StatusName(Status status);
std::optional<Status> ParseStatus(std::string_view name);

}  // namespace tritonize

#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/task_suite.h"

namespace tritonize {

/// What a client may choose per evaluation (docs/serve.md).
struct EvaluationOptions {
  std::vector<std::string> sizes;  // timed sizes, a subset of the task's; empty: all of them
  bool timing = true;              // false: correctness only
  int repeat = 1;                  // fresh processes that time it (bench --repeat)
  std::optional<uint64_t> seed;    // the run seed of the hidden checks; none: the server's
};

/// One submission: a candidate module's source for a task.
struct EvaluationRequest {
  std::string task;
  std::string code;
  EvaluationOptions options;
  bool force = false;  // run it even when an equal submission already has a verdict
};

/// Bounds on what one request may hold.
struct SubmissionLimits {
  size_t max_batch = 256;           // evaluations in one request
  size_t max_code_bytes = 1 << 20;  // one candidate's source
  int max_repeat = 5;
};

/// A request that is refused: the HTTP status, the field at fault (a JSON path such as
/// `evaluations[2].options.sizes[0]`, empty for the body as a whole) and why.
struct ApiError {
  int status = 400;
  std::string field;
  std::string message;
};

/// Parses a POST /v1/evaluations body: one submission object, or {"evaluations": [...]}
/// (*batch true). Every field is checked against `suite` and `limits`; the first problem is
/// returned naming its field.
bool ParseSubmission(const std::string& body, const TaskSuite& suite,
                     const SubmissionLimits& limits, std::vector<EvaluationRequest>* requests,
                     bool* batch, ApiError* error);

/// The options as stored and hashed: every field explicit, in one order. `interpret` is part
/// of it: a verdict of the interpreter (correctness only) never answers for a GPU one.
nlohmann::json CanonicalOptions(const EvaluationOptions& options, bool interpret);
/// The inverse, for an evaluation read back from the queue.
EvaluationOptions OptionsFromJson(const nlohmann::json& canonical);

/// sha256 of the task, the code and the canonical options: equal submissions, equal keys.
std::string ContentKey(const std::string& task, const std::string& code,
                       const nlohmann::json& canonical_options);

/// {"error": {"status", "field", "message"}}
nlohmann::json ApiErrorJson(const ApiError& error);

}  // namespace tritonize

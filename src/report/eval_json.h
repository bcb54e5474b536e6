#pragma once

#include <nlohmann/json.hpp>

#include "core/implementation.h"
#include "core/job.h"
#include "core/task.h"

namespace tritonize {

/// The verdict of one candidate as one JSON object: the job's status, message, checks and
/// environment, with each timed size and mode summarised (median, quartiles, n) instead of the
/// raw samples. What `tritonize eval --json` prints and `tritonize serve` answers
/// (docs/serve.md), so the two can never disagree on its shape.
nlohmann::json EvalJson(const Task& task, const Implementation& impl, const JobResult& result);

}  // namespace tritonize

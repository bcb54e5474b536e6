#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "core/job.h"

namespace tritonize {

/// Replaces every occurrence of `secret` in `text` with "[redacted]"; nothing when it is empty.
void RedactSecret(const std::string& secret, std::string* text);
/// ...in every string (and object key) of a JSON value.
void RedactSecret(const std::string& secret, nlohmann::json* value);
/// ...in a job's messages, environment, check and timing labels: what is stored and answered.
/// A candidate can read the files of its user (the token file among them) and print them into
/// its error; the server's token must still reach neither the store nor a client.
void RedactSecret(const std::string& secret, JobResult* result);

}  // namespace tritonize

#pragma once

#include <string>

#include "exec/worker.h"

namespace tritonize {

/// The measurement method, printed under every table and stored in the JSON.
std::string TimingMethod(const WorkerOptions& worker, int process_count = 1);
std::string InterpretMethod();

}  // namespace tritonize

#pragma once

#include <string>

#include "core/job.h"
#include "core/task.h"

namespace tritonize {

/// The `roofline` anti-cheat check (docs/security.md): a median kernel time faster than the
/// task's ideal bytes at the GPU's peak bandwidth (less what its L2 may still hold as dirty lines
/// when the kernel ends: MemoryFloorUs), or its flops at the peak FLOP rate, is impossible, so
/// the job is rejected. Applies to an ok result with timings on a GPU the spec
/// table knows; otherwise it leaves the result as it is and says why in *note.
void CheckRoofline(const Task& task, JobResult* result, std::string* note);

/// Measured time may undercut the ideal by this factor before it counts as impossible
/// (clock and profiler granularity).
constexpr double kRooflineSlack = 0.95;

}  // namespace tritonize

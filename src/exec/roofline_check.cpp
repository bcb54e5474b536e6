#include "exec/roofline_check.h"

#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "core/formula.h"
#include "core/gpu_specs.h"
#include "stats/stats.h"

namespace tritonize {

void CheckRoofline(const Task& task, JobResult* result, std::string* note) {
  if (result->status != Status::kOk || result->timings.empty()) return;
  const nlohmann::json& env = result->environment;
  const std::string gpu = env.is_object() ? env.value("gpu", "") : "";
  const auto spec = FindGpuSpec(gpu);
  if (!spec) {
    *note = fmt::format("roofline not checked: no peaks known for GPU \"{}\"", gpu);
    return;
  }
  const double bandwidth = PeakBandwidthGbS(env, spec);
  const double l2_bytes = L2Bytes(env, spec);
  const double tflops = PeakTflops(*spec, TaskDtype(task));
  for (const auto& timing : result->timings) {
    const auto cost = task.cost.find(timing.mode);
    std::map<std::string, double> dims;
    if (cost == task.cost.end() || timing.kernel_us.empty() ||
        !BindDims(task.dims, timing.size, &dims)) {
      continue;
    }
    double bytes = 0, flops = 0;
    std::string err;
    const bool have_bytes = !cost->second.bytes.empty() &&
                            EvaluateFormula(cost->second.bytes, dims, &bytes, &err);
    const bool have_flops = !cost->second.flops.empty() &&
                            EvaluateFormula(cost->second.flops, dims, &flops, &err);
    // The traffic's floor leaves out what the L2 may still hold as dirty lines when the kernel
    // ends: on the H100 (2026-12-05) torch.compile's swiglu at 4096x4096 took 28.46 us, 95% of
    // its whole 100.7 MB at the spec bandwidth, and was rejected although nothing was skipped.
    double ideal_us = 0;
    if (have_bytes) ideal_us = std::max(ideal_us, MemoryFloorUs(bytes, l2_bytes, bandwidth));
    if (have_flops && tflops > 0) ideal_us = std::max(ideal_us, flops / (tflops * 1e6));
    const double median_us = Summarize(timing.kernel_us).median;
    if (ideal_us > 0 && median_us < kRooflineSlack * ideal_us) {
      result->status = Status::kRejected;
      result->phase = "time";
      result->message = fmt::format(
          "roofline: {} {} took {:.2f} us (median kernel time), faster than the {:.2f} us the "
          "ideal traffic (less the {:.0f} MiB the L2 may still hold when it ends) and arithmetic "
          "need at {}'s peaks ({:.0f} GB/s, {:.0f} TFLOP/s)",
          timing.size, timing.mode, median_us, ideal_us, l2_bytes / (1024 * 1024), spec->name,
          bandwidth, tflops);
      result->timings.clear();
      return;
    }
  }
}

}  // namespace tritonize

#include "cli/method.h"

#include <fmt/format.h>

namespace tritonize {

std::string TimingMethod(const WorkerOptions& worker) {
  return fmt::format(
      "Method: kernel time = sum of the implementation's GPU activity per call (kernels, "
      "memcpy, memset, all streams) from CUPTI via torch.profiler, L2 flushed before every call "
      "({} MiB written by a separate kernel, excluded), median of {} calls after the first call "
      "(compile, autotune) and {} warm-up calls. Call latency = CUDA events around each call, "
      "same flush, median of {}. Each implementation runs in its own fresh process and is "
      "checked against an fp64 reference before it is timed. Ratios are speedups of the "
      "kernel-time medians: Expert/Base = baseline/expert, LLM/Base = baseline/LLM, LLM/Expert "
      "= expert/LLM. Rating of LLM/Expert: >=1.0 matches, >0.8 very good, 0.5-0.8 decent, <0.5 "
      "significant gap.",
      worker.flush_bytes >> 20, worker.calls, worker.warmup_calls, worker.calls);
}

std::string InterpretMethod() {
  return "Method: correctness only, on the CPU under the Triton interpreter (TRITON_INTERPRET=1) "
         "at the task's interpret_check_sizes and seeds, against an fp64 reference; no timings.";
}

}  // namespace tritonize

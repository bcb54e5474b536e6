#include "report/method.h"

#include <fmt/format.h>

namespace tritonize {

namespace {

std::string CompileModeText(const std::string& mode) {
  return mode == "deterministic" ? "deterministic mode: reduction configurations by heuristic, "
                                   "the same in every process"
                                 : "default mode: configurations chosen by a benchmark in each "
                                   "process";
}

std::string AutotuneTimerText(const std::string& timer) {
  return timer == "job"
             ? "Triton autotuners without a do_bench of their own pick by the same flush and CUDA "
               "events around each candidate's kernel (median of 20-100 calls)."
             : "Triton autotuners pick with triton.testing.do_bench, as their authors ran them.";
}

}  // namespace

std::string TimingMethod(const WorkerOptions& worker, int process_count) {
  const std::string processes =
      process_count > 1 ? fmt::format(
                        "{} fresh processes per implementation (the "
                        "first checks every input, the others the hidden one, then time); "
                        "medians pool every process's calls; the 95% intervals resample "
                        "processes, then calls within each",
                        process_count)
                  : "one fresh process per implementation; the 95% intervals resample calls "
                    "(within-process noise only: --repeat R adds the between-process variance)";
  return fmt::format(
      "Method (docs/measurement.md): kernel time = sum of the implementation's GPU activity per "
      "call (kernels, memcpy, memset, all streams) from CUPTI via torch.profiler, the L2 flushed "
      "before every call by a separate kernel that reads {} MiB (excluded). Adaptive sampling: "
      "batches of {} calls until at least {} calls and 1 ms of GPU time are in hand and the "
      "median's relative standard error is below 0.25% (at most 1000 calls or 10 s), after the "
      "first call (compile, autotune) and {} warm-up calls; median ±IQR/median shown. {} {}. "
      "The SM "
      "clock is read before and after; a measurement below 75% of the maximum SM clock is made "
      "again once and marked * if still low. Call latency = CUDA events around each call, same "
      "flush, median of {}. Host time = 50 calls back to back without synchronisation, per call, "
      "median of 5 rounds, before any profiling. Throughput = the task's [cost] bytes and flops "
      "over the median; % of the roofline at the spec peaks (bandwidth = 2 x memory clock x bus "
      "width; dense tensor-core FLOP/s), [% of the ceilings measured by tritonize calibrate]; "
      "above 100% of peak is IMPOSSIBLE and never a win. Compile = the baseline under "
      "torch.compile (Inductor, {}). Each implementation is checked against an fp64 reference "
      "before it is timed. Ratios are speedups of the kernel-time medians: Expert/Base = "
      "baseline/expert, LLM/Base = baseline/LLM, LLM/Expert = expert/LLM, Compile/Base = "
      "baseline/compile. Rating of LLM/Expert: >=1.0 matches, >0.8 very good, 0.5-0.8 decent, "
      "<0.5 significant gap.",
      worker.flush_bytes >> 20, worker.calls, worker.calls, worker.warmup_calls,
      AutotuneTimerText(worker.autotune_timer), processes, worker.calls,
      CompileModeText(worker.compile_mode));
}

std::string InterpretMethod() {
  return "Method: correctness only, on the CPU under the Triton interpreter (TRITON_INTERPRET=1) "
         "at the task's interpret_check_sizes and seeds, against an fp64 reference; no timings.";
}

}  // namespace tritonize

// `tritonize checks`: every check an untrusted candidate must pass, where it runs and the
// exploit it stops (docs/security.md). The names are those a rejection carries.
#include <iostream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/command.h"

namespace tritonize {
namespace {

struct CheckInfo {
  const char* name;
  const char* where;  // the step (process) that makes it
  const char* stops;
};

// Every check fails by default: when it cannot establish what it needs, the candidate is
// rejected naming it; none is a warning. Verdict precedence (docs/security.md): wrong values
// first, then the candidate's own failures, then these rejections.
constexpr CheckInfo kChecks[] = {
    {"forbidden_op", "candidate (op observer: every checked call, the late check; every thread)",
     "the task's own PyTorch op (e.g. torch.softmax in softmax) actually dispatched during a call "
     "of candidate code, however reached (a name built at run time, torch.ops.aten, a method, a "
     "thread, a fallback that runs); list in the manifest's [checks].forbidden. A reference in "
     "the source is evidence in the message, not a verdict"},
    {"no_dynamic_code", "candidate (static, before import)",
     "eval/exec/compile: code built from strings that no reader or check can see"},
    {"no_harness_access", "candidate (static, before import)",
     "reaching into the worker's process instead of computing: importing tritonize_worker, "
     "sys.modules, frame and code introspection, gc object walks, tracing hooks, the switches "
     "of PyTorch's op recorder and dispatcher"},
    {"no_side_streams", "candidate (static, before import)",
     "work on CUDA streams or graphs of its own that the call-latency timer would not wait for"},
    {"trusted_functions", "candidate (static; after its calls and after timing)",
     "patching timers, CUDA events, the profiler and op recorder, torch comparison functions or "
     "the worker's own functions and methods: assignments to them rejected before import, "
     "changes found at run time after every call"},
    {"inputs_unchanged", "candidate (every call)",
     "zeroing or rewriting the inputs so that the next call or the reference agrees"},
    {"no_output_alias", "candidate (every call)",
     "returning an input or a view of it, or writing the result into an input"},
    {"deterministic", "candidate (first seed of every size)",
     "outputs that differ between two calls on identical inputs beyond the tolerance, each "
     "right (a wrong one is wrong_result first)"},
    {"output_follows_input", "candidate (largest check size)",
     "caching the output by shape or by input address: new values at the same address and the "
     "same values at new addresses must give the output of those values"},
    {"poisoned_outputs", "candidate (GPU, every call) + compare",
     "leaving part of the output unwritten: freed allocator blocks are filled with NaN first, "
     "and NaN where the reference is finite fails the comparison"},
    {"same_stream", "candidate (every call, GPU)",
     "switching the current CUDA stream during the call"},
    {"plain_tensor_outputs", "candidate (every call)",
     "returning a tensor subclass or a lazy tensor that runs its own code when the worker looks "
     "at it: wrong_result"},
    {"late_check", "candidate (GPU, after timing) + compare",
     "warm-up detection: the last input once more, observed and compared, after the timed "
     "calls"},
    {"triton_time_share", "candidate (GPU, profiler on all streams) + compare (timed calls)",
     "doing the work in PyTorch/cuBLAS instead of the module's own Triton kernels, in a profile "
     "after timing and in the timed calls' own kernel records; threshold "
     "[checks].triton_time_share (baseline exempt)"},
    {"hidden_checks", "engine + every step",
     "hard-coding the tested shapes or seeds: one check size and one seed per run are drawn "
     "from a run seed (--run-seed) and appear in no manifest or prompt"},
    {"reference_in_separate_process", "reference + compare",
     "reading or overwriting the reference, or faking the comparison: the reference is made "
     "and the verdict given in processes that never import candidate code; tensors travel as "
     "safetensors files, never pickles; the reference folder is hidden from the candidate"},
    {"reference_varies", "reference (task lint)",
     "a task whose reference does not depend on its input, on which no check can tell a "
     "computed output from a cached one"},
    {"sandbox", "engine (candidate process)",
     "the engine's secrets (an environment allow-list: no API key or token), network access, "
     "writes outside the job's folder, reading other processes' /proc entries, processes that "
     "outlive the job (a PID namespace whose init ends with the worker), root's capabilities, "
     "runaway CPU or files: --sandbox; doctor and each job's environment say which layers hold"},
    {"phase_timeouts", "candidate (watchdog) + engine",
     "hanging at import, in compilation or in a kernel that never ends: --import-timeout, "
     "--compile-timeout, --call-timeout, and the job's --timeout"},
    {"roofline", "engine (after the compare step, GPU)",
     "a median kernel time faster than the task's ideal bytes at the GPU's peak bandwidth or "
     "its flops at the peak FLOP rate ([cost.<mode>], src/core/gpu_specs), 5% slack"},
};

int RunChecks(bool json) {
  if (json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& c : kChecks) {
      out.push_back({{"name", c.name}, {"where", c.where}, {"stops", c.stops}});
    }
    std::cout << out.dump(2) << "\n";
    return kExitOk;
  }
  for (const auto& c : kChecks) {
    std::cout << fmt::format("{}  [{}]\n    stops: {}\n", c.name, c.where, c.stops);
  }
  return kExitOk;
}

}  // namespace

std::function<int()> SetupChecks(CLI::App* app) {
  auto json = std::make_shared<bool>(false);
  app->add_flag("--json", *json, "Print the checks as a JSON array");
  return [json] { return RunChecks(*json); };
}

}  // namespace tritonize

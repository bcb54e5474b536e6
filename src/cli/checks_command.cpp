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
// rejected naming it; none is a warning.
constexpr CheckInfo kChecks[] = {
    {"forbidden_op", "candidate (AST, before import)",
     "calling the task's own PyTorch op (e.g. torch.softmax in softmax), by name, alias, "
     "method or getattr; list in the manifest's [checks].forbidden"},
    {"no_fallback", "candidate (AST, before import)",
     "a try/except that swallows a failing kernel and falls back to PyTorch"},
    {"no_dynamic_code", "candidate (AST, before import)",
     "eval/exec/__import__/importlib/ctypes/subprocess or getattr with a computed name, which "
     "would hide a forbidden op from the AST check"},
    {"no_side_streams", "candidate (AST, before import)",
     "work on CUDA streams or graphs of its own that the call-latency timer would not wait for"},
    {"trusted_functions", "candidate (after its calls and after timing)",
     "patching timers, CUDA events, the profiler, torch comparison functions or the worker's "
     "own functions"},
    {"inputs_unchanged", "candidate (every call)",
     "zeroing or rewriting the inputs so that the next call or the reference agrees"},
    {"no_output_alias", "candidate (every call)",
     "returning an input or a view of it, or writing the result into an input"},
    {"deterministic", "candidate (first seed of every size)",
     "outputs that differ between two calls on identical inputs (races, uninitialised memory)"},
    {"output_follows_input", "candidate (largest check size)",
     "caching the output by shape or by input address: new values at the same address and the "
     "same values at new addresses must give the output of those values"},
    {"poisoned_outputs", "candidate (GPU, every call) + compare",
     "leaving part of the output unwritten: freed allocator blocks are filled with NaN first, "
     "and NaN where the reference is finite fails the comparison"},
    {"same_stream", "candidate (every call, GPU)",
     "switching the current CUDA stream during the call"},
    {"triton_time_share", "candidate (GPU, profiler on all streams)",
     "doing the work in PyTorch/cuBLAS instead of the module's own Triton kernels; threshold "
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
     "network access, writes outside the job's folder, runaway CPU, files or processes: "
     "network and mount namespaces, rlimits, process-group kill (--sandbox)"},
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

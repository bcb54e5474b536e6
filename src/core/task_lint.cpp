#include "core/task_lint.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "core/formula.h"
#include "core/manifest_schema.h"

namespace tritonize {
namespace {

using nlohmann::json;

/// Bytes of one element of a dtype of the schema (its dtype_bytes).
double ItemSize(const std::string& dtype) {
  const json& sizes = ManifestSchema()["dtype_bytes"];
  return sizes.contains(dtype) ? sizes[dtype].get<double>() : 8;
}

bool Elements(const json& shape, const std::map<std::string, double>& dims, double* count,
              std::string* err) {
  *count = 1;
  for (const auto& entry : shape) {
    double value = 0;
    if (entry.is_number()) {
      value = entry.get<double>();
    } else if (!EvaluateFormula(entry.get<std::string>(), dims, &value, err)) {
      return false;
    }
    *count *= std::floor(value);
  }
  return true;
}

/// Bytes of one element of `dtype` at InputBytes' `bytes_per_element`.
double Width(const std::string& dtype, double bytes_per_element) {
  if (bytes_per_element > 0) return bytes_per_element;
  const double own = ItemSize(dtype);
  if (bytes_per_element == kReferenceStored) {
    return own <= ManifestSchema()["reference"]["narrow_bytes"].get<double>() ? 4 : 8;
  }
  return own;
}

std::string GiB(double bytes) { return fmt::format("{:.1f} GiB", bytes / (1024.0 * 1024 * 1024)); }

}  // namespace

bool InputBytes(const Task& task, const std::string& size, double bytes_per_element, double* bytes,
                std::string* err) {
  std::map<std::string, double> dims;
  if (!BindDims(task.dims, size, &dims)) {
    *err = fmt::format("size \"{}\" does not bind the dims", size);
    return false;
  }
  *bytes = 0;
  for (const auto& input : task.manifest.value("inputs", json::array())) {
    const std::string kind = input.value("kind", "");
    std::vector<json> shapes;
    if (kind == "tensor") shapes.push_back(input["shape"]);
    if (kind == "tensor_list") shapes = input["shapes"].get<std::vector<json>>();
    for (const auto& shape : shapes) {
      double count = 0;
      if (!Elements(shape, dims, &count, err)) return false;
      *bytes += count * Width(input["dtype"].get<std::string>(), bytes_per_element);
    }
  }
  return true;
}

namespace {

/// The manifest's peak_bytes at `size` into *value (0 without one); false with *err when it does
/// not evaluate.
bool PeakBytes(const Task& task, const std::string& size, double* value, std::string* err) {
  *value = 0;
  const std::string peak = task.manifest.value("peak_bytes", "");
  if (peak.empty()) return true;
  std::map<std::string, double> dims;
  return BindDims(task.dims, size, &dims) && EvaluateFormula(peak, dims, value, err);
}

}  // namespace

bool ReferenceBytes(const Task& task, const std::string& size, double* bytes, std::string* err) {
  double inputs = 0;
  double peak = 0;
  if (!InputBytes(task, size, 8, &inputs, err) || !PeakBytes(task, size, &peak, err)) return false;
  // peak_bytes is in the task's own dtype: the float64 reference holds the same elements wider.
  std::string dtype = "float32";
  for (const auto& input : task.manifest.value("inputs", json::array())) {
    if (input.contains("dtype")) {
      dtype = input["dtype"].get<std::string>();
      break;
    }
  }
  // A reference made one index of a dim at a time (reference_slices) holds one slice's peak.
  const std::string sliced = task.manifest.value("reference_slices", "");
  if (!sliced.empty()) {
    std::map<std::string, double> dims;
    if (BindDims(task.dims, size, &dims) && dims.count(sliced) > 0 && dims[sliced] >= 1) {
      peak /= dims[sliced];
    }
  }
  *bytes = std::max(3 * inputs, peak * 8 / std::max(ItemSize(dtype), 4.0));
  return true;
}

namespace {

/// The forward mode's outputs at `size` (`inputs`: its tensor inputs' bytes): what the manifest's
/// [cost.forward] bytes (read and written) has beyond the inputs, which a matrix product's output
/// may exceed; the inputs' bytes without a cost that evaluates.
double ForwardOutputBytes(const Task& task, const std::string& size, double inputs) {
  const json cost = task.manifest.value("cost", json::object());
  if (!cost.contains("forward") || !cost["forward"].contains("bytes")) return inputs;
  std::map<std::string, double> dims;
  double bytes = 0;
  std::string err;
  if (!BindDims(task.dims, size, &dims) ||
      !EvaluateFormula(cost["forward"]["bytes"].get<std::string>(), dims, &bytes, &err)) {
    return inputs;
  }
  return std::max(0.0, bytes - inputs);
}

}  // namespace

bool CandidateBytes(const Task& task, const std::string& size, ImplKind kind, double* bytes,
                    std::string* err) {
  double inputs = 0;
  double peak = 0;
  if (!InputBytes(task, size, 0, &inputs, err)) return false;
  if (RunsTaskPyTorch(kind) && !PeakBytes(task, size, &peak, err)) return false;
  // What a forward case holds at once in the candidate step (python/tritonize_worker/
  // guarded_calls.py, run): the drawn inputs on the GPU, the call's copy of them, their snapshot
  // (inputs_unchanged) and the repeated call's copy; the two calls' outputs. Three times the
  // inputs until 2026-12-05: asin's steps held 10.3 GiB where that said 1.5 (docs/runner.md).
  *bytes = std::max(4 * inputs + 2 * ForwardOutputBytes(task, size, inputs), peak);
  return true;
}

double JobGpuBytes(const Task& task, ImplKind kind, bool with_reference) {
  double most = 0;
  std::string err;
  for (const auto& size : task.check_sizes) {
    double candidate = 0;
    double reference = 0;
    if (!CandidateBytes(task, size, kind, &candidate, &err)) return 0;
    if (with_reference && !ReferenceBytes(task, size, &reference, &err)) return 0;
    most = std::max(most, candidate + reference);
  }
  return most;
}

bool CheckedOnce(const Task& task, const std::string& size) {
  double inputs = 0;
  std::string err;
  const double bound = ManifestSchema()["plan"]["full_check_bytes"].get<double>();
  return InputBytes(task, size, 0, &inputs, &err) && inputs > bound;
}

int CheckCasesAt(const Task& task, const std::string& size, int seeds, bool run_seeded) {
  if (CheckedOnce(task, size)) return 1;
  const auto distributions =
      static_cast<int>(task.manifest.value("distributions", json::array()).size());
  return seeds * (1 + distributions + (distributions > 0 && run_seeded ? 1 : 0));
}

double JobDiskBytes(const Task& task, const CheckPlanShape& plan, bool with_reference) {
  const json& schema = ManifestSchema();
  const json modes = task.manifest.value("modes", json::array());
  const auto has = [&](const char* mode) {
    return std::find(modes.begin(), modes.end(), mode) != modes.end();
  };
  // Forward calls a case makes besides the checked one, for its outputs' checks (a random op's);
  // whether the reference stores any forward output (one checked by its properties it does not).
  double calls = 0;
  const json outputs = task.manifest.value("outputs", json::array());
  bool by_value = outputs.empty();  // the one output a manifest without [[outputs]] has
  for (const auto& output : outputs) {
    const std::string check = output.value("check", "values");
    by_value = by_value || check == "values";
    if (schema["output_check_calls"].contains(check)) {
      calls = std::max(calls, schema["output_check_calls"][check].get<double>());
    }
  }
  const double seeds = std::max(1, plan.seeds);
  double total = 0;
  double last = 0;  // the last size's inputs
  std::string err;
  for (const auto& size : plan.sizes) {
    double inputs = 0;
    double wide = 0;
    if (!InputBytes(task, size, 0, &inputs, &err) ||
        !InputBytes(task, size, kReferenceStored, &wide, &err)) {
      return 0;
    }
    const double cases = CheckCasesAt(task, size, plan.seeds, plan.run_seeded);
    // The first seed's cases are called twice more in forward mode (the determinism guard).
    const double repeated = cases == 1 ? 1 : cases / seeds;
    // A case's outputs: the forward's (ForwardOutputBytes), the backward's as large as the inputs
    // at most (their gradients); the reference's the same as it stores them (float32 or float64).
    const double forward = has("forward") ? ForwardOutputBytes(task, size, inputs) : 0;
    const double backward = has("backward") ? inputs : 0;
    total += (cases * (1 + calls) + repeated) * forward + cases * backward;
    if (with_reference && inputs > 0) {
      total += cases * ((by_value ? forward : 0) + backward) * wide / inputs;
    }
    last = forward + backward;
  }
  // The late check: every mode once more on a case of the last size.
  return total + last;
}

std::vector<LintFinding> LintSizes(const Task& task, double gpu_bytes) {
  std::vector<LintFinding> found;
  // 1. Every check size's reference within the GPU's memory (with a fifth to spare).
  double largest = 0;
  std::string at;
  std::string err;
  bool ok = true;
  for (const auto& size : task.check_sizes) {
    double bytes = 0;
    if (!ReferenceBytes(task, size, &bytes, &err)) {
      found.push_back({task.name, "memory", "FAIL", err});
      ok = false;
      break;
    }
    if (bytes > largest) {
      largest = bytes;
      at = size;
    }
  }
  if (ok) {
    const bool fits = largest <= 0.8 * gpu_bytes;
    found.push_back({task.name, "memory", fits ? "ok" : "FAIL",
                     fmt::format("the float64 reference needs about {} at {}, {} 80% of {}",
                                 GiB(largest), at, fits ? "within" : "beyond", GiB(gpu_bytes))});
  }
  // 2. What a job writes to the scratch disk (the runner's admission counts it): with a run seed,
  // whose hidden size is at most the largest check size in every dim (taken as that size here).
  if (ok) {
    CheckPlanShape plan{task.check_sizes, static_cast<int>(task.seeds.size()) + 1, true};
    std::string biggest;
    double most = -1;
    for (const auto& size : task.check_sizes) {
      double bytes = 0;
      if (InputBytes(task, size, 0, &bytes, &err) && bytes > most) {
        most = bytes;
        biggest = size;
      }
    }
    if (!biggest.empty()) plan.sizes.push_back(biggest);
    const double outputs = JobDiskBytes(task, plan, false);
    found.push_back({task.name, "scratch_disk", "info",
                     fmt::format("a job writes up to about {} of outputs; the task's reference "
                                 "(float64, float32 for narrow dtypes), kept until its last job "
                                 "ends, about {} more",
                                 GiB(outputs), GiB(JobDiskBytes(task, plan, true) - outputs))});
  }
  // 3. The interpreter's sizes small enough for CI.
  if (!task.interpret_skip.empty()) {
    found.push_back({task.name, "interpreter_sizes", "skipped",
                     "the interpreter cannot run the task: " + task.interpret_skip});
    return found;
  }
  std::vector<std::string> over;
  for (const auto& size : task.interpret_check_sizes) {
    double bytes = 0, flops = 0;
    std::map<std::string, double> dims;
    const auto cost = task.cost.find("forward");
    if (!InputBytes(task, size, 1, &bytes, &err) || !BindDims(task.dims, size, &dims) ||
        cost == task.cost.end() || !EvaluateFormula(cost->second.flops, dims, &flops, &err)) {
      over.push_back(fmt::format("{}: {}", size, err));
      continue;
    }
    if (bytes > kInterpretMaxElements || flops > kInterpretMaxFlops) {
      over.push_back(fmt::format("{}: {:.0f} input elements, {:.3g} flops", size, bytes, flops));
    }
  }
  found.push_back({task.name, "interpreter_sizes", over.empty() ? "ok" : "FAIL",
                   over.empty() ? fmt::format("at most {:.0f} input elements and {:.0e} flops per call",
                                              kInterpretMaxElements, kInterpretMaxFlops)
                                : "too large for CI under the interpreter: " + over[0]});
  return found;
}

}  // namespace tritonize

#pragma once

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"

namespace tritonize {

/// The engine-worker protocol's version (docs/protocol.md), in requests and results.
constexpr int kWorkerSchemaVersion = 2;

/// One correctness comparison made by the worker (one size, seed, mode and output).
struct CheckRecord {
  std::string size;
  int seed = 0;
  std::string mode;    // forward | backward
  std::string output;  // y | grad_<input>
  bool ok = false;
  double max_abs_err = 0;  // NaN where an output is NaN and the reference is not, or no figure
  double max_rel_err = 0;  // (shape mismatch); +inf where it is infinite
  long long mismatches = 0;
  long long numel = 0;
  double atol = 0;
  double rtol = 0;
  long long nonfinite = 0;  // elements NaN or infinite where the reference is finite
  std::string distribution = "default";  // how the inputs were drawn (the manifest's [[distributions]])
};

/// Raw per-call samples for one timed size and mode, as measured by the worker.
struct Timing {
  std::string size;
  std::string mode;
  std::vector<double> kernel_us;          // CUPTI: sum of device activity per call, L2 flushed
  std::vector<double> call_us;            // CUDA events around each call, L2 flushed
  std::map<std::string, int> kernels;     // kernel name -> launches per call
  // Kernel name -> median over calls of its time per call (which kernel holds, or moved, the time).
  std::map<std::string, double> kernel_median_us;
  // Autotuned kernel name -> the configuration this process's autotuner picked for it.
  std::map<std::string, std::string> tuned;
  double first_call_s = 0;                // compile + autotune, wall time
  std::vector<double> host_us;            // per-call host time, one per round (no sync)
  nlohmann::json sampling = nlohmann::json::object();  // stop reason, batches, clock_low
  nlohmann::json env_before = nullptr;    // clocks, power, temperature around kernel_us
  nlohmann::json env_after = nullptr;
  int process = 0;                        // which repeat (fresh process) measured it, 0-based
};

/// Everything one job (one implementation of one task) produced.
struct JobResult {
  Status status = Status::kCrashed;
  std::string message;      // one readable line when status != ok
  std::string detail;       // traceback, mismatch listing, stderr tail
  std::string phase;        // load | check | time | spawn
  std::vector<CheckRecord> checks;
  std::vector<Timing> timings;
  nlohmann::json environment = nlohmann::json::object();
  double wall_s = 0;
  int process = 0;  // which of bench --repeat's fresh processes ran the job, 0-based
};

/// A figure in JSON. JSON has no NaN or infinity, and null would lose the figure, so those are
/// the strings "NaN", "Infinity" and "-Infinity" (the worker writes them the same way:
/// python/tritonize_worker/protocol.py, NONFINITE_JSON). Every double the engine writes to JSON
/// that can be non-finite goes through JsonNumber.
nlohmann::json JsonNumber(double value);
/// Reads a JsonNumber (a JSON number or one of those strings); null reads as NaN (no figure).
/// False for anything else.
bool ReadJsonNumber(const nlohmann::json& j, double* out);

/// Parses the worker's result file (docs/protocol.md). Returns false with *err naming
/// the offending field when the JSON does not have the documented shape.
bool ParseJobResult(const nlohmann::json& j, JobResult* out, std::string* err);
nlohmann::json JobResultToJson(const JobResult& result);

}  // namespace tritonize

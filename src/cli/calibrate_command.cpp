// `tritonize calibrate`: measure the GPU's ceilings (a device-to-device copy, large cuBLAS
// GEMMs) in a fresh worker process, print them against the datasheet, cache them per GPU for
// the roofline of `bench`.
#include <array>
#include <chrono>
#include <ctime>
#include <tuple>
#include <fstream>
#include <iostream>

#include <fmt/format.h>

#include "cli/command.h"
#include "cli/context.h"
#include "core/calibration.h"
#include "core/gpu_specs.h"
#include "exec/subprocess.h"

namespace tritonize {
namespace {

namespace fs = std::filesystem;

struct CalibrateOptions {
  CommonOptions common;
  std::string cache;  // default: DefaultCalibrationPath()
  std::string json_path;
};

std::string UtcNow() {
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&now, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

/// Runs python -m tritonize_worker.calibrate and reads its result.
bool MeasureCeilings(const EngineContext& context, nlohmann::json* result, std::string* err) {
  const fs::path dir = context.worker.scratch_dir / "calibrate";
  std::error_code ec;
  fs::create_directories(dir, ec);
  SubprocessOptions sub;
  sub.argv = {context.worker.python, "-m", "tritonize_worker.calibrate", "--result",
              (dir / "ceilings.json").string()};
  sub.env = {{"PYTHONPATH", context.worker.package_dir.string()}, {"TRITON_INTERPRET", "0"}};
  sub.stdout_path = dir / "calibrate.out";
  sub.stderr_path = dir / "calibrate.err";
  sub.timeout_s = context.worker.timeout_s;
  const SubprocessResult run = RunSubprocess(sub);
  if (!run.started || run.timed_out || run.exit_code != 0) {
    *err = run.started ? "the calibration worker failed: " + TailOfFile(sub.stderr_path, 2000)
                       : run.spawn_error;
    return false;
  }
  std::ifstream in(dir / "ceilings.json");
  *result = nlohmann::json::parse(in, nullptr, false);
  if (result->is_discarded()) {
    *err = "the calibration worker wrote no readable result";
    return false;
  }
  return true;
}

std::string Percent(double measured, double peak) {
  return peak > 0 ? fmt::format("{:.0f}%", 100 * measured / peak) : "-";
}

void PrintCeilings(const Ceilings& c, const nlohmann::json& environment, std::ostream& out) {
  const auto spec = FindGpuSpec(c.gpu);
  const double bandwidth = PeakBandwidthGbS(environment, spec);
  out << fmt::format("Measured ceilings of {} against its spec ({})\n\n", c.gpu,
                     spec ? spec->source : "GPU not in the spec table");
  out << fmt::format("{:<30} | {:>13} | {:>13} | {:>9}\n", "Ceiling", "Measured", "Spec peak",
                     "% of spec");
  out << std::string(30, '-') << "-+-" << std::string(13, '-') << "-+-" << std::string(13, '-')
      << "-+-" << std::string(9, '-') << "\n";
  out << fmt::format("{:<30} | {:>8.0f} GB/s | {:>8.0f} GB/s | {:>9}\n",
                     "DRAM copy (read + write)", c.copy_gb_s, bandwidth,
                     Percent(c.copy_gb_s, bandwidth));
  const std::array<std::tuple<const char*, double, double>, 4> gemms = {{
      {"GEMM float16 (tensor, dense)", c.gemm_tflops_fp16, spec ? spec->fp16_tensor_tflops : 0},
      {"GEMM bfloat16 (tensor, dense)", c.gemm_tflops_bf16, spec ? spec->bf16_tensor_tflops : 0},
      {"GEMM tf32 (tensor, dense)", c.gemm_tflops_tf32, spec ? spec->tf32_tensor_tflops : 0},
      {"GEMM float32 (vector)", c.gemm_tflops_fp32, spec ? spec->fp32_vector_tflops : 0},
  }};
  for (const auto& [name, measured, peak] : gemms) {
    out << fmt::format("{:<30} | {:>5.0f} TFLOP/s | {:>5.0f} TFLOP/s | {:>9}\n", name, measured,
                       peak, Percent(measured, peak));
  }
  out << "\nMethod: CUPTI device time (torch.profiler) of a 2 GiB device-to-device copy (bytes "
         "read + written per second) and of 8192^3 cuBLAS GEMMs (2*M*N*K flops), median of 20 "
         "calls after 5 warm-up calls. Spec bandwidth = 2 x memory clock x bus width, as the "
         "driver reports them.\n";
}

int RunCalibrate(const CalibrateOptions& options) {
  // Pass 1: configuration.
  std::vector<std::string> errors;
  EngineContext context;
  MakeContext(options.common, &context, &errors);
  if (options.common.interpret) errors.push_back("--interpret: calibration needs a CUDA GPU");
  if (!errors.empty()) return ReportUsageErrors(errors);

  // Pass 2: measure in a fresh worker process.
  nlohmann::json result;
  std::string err;
  Ceilings ceilings;
  if (!MeasureCeilings(context, &result, &err) || !ParseCalibration(result, &ceilings, &err)) {
    std::cerr << "tritonize: error: " << err << "\n";
    return Interrupted() ? kExitInterrupted : kExitFailed;
  }
  ceilings.measured_at = UtcNow();

  // Pass 3: cache per GPU, print against the spec.
  const fs::path cache = options.cache.empty() ? DefaultCalibrationPath() : fs::path(options.cache);
  if (!SaveCeilings(cache, ceilings, &err)) {
    std::cerr << "tritonize: error: " << err << "\n";
    return kExitFailed;
  }
  PrintCeilings(ceilings, result.value("environment", nlohmann::json::object()), std::cout);
  std::cerr << fmt::format("tritonize: ceilings of {} cached in {}\n", ceilings.gpu,
                           cache.string());
  if (!options.json_path.empty()) {
    std::ofstream out(options.json_path);
    out << result.dump(2) << "\n";
    if (!out) {
      std::cerr << "tritonize: error: cannot write --json " << options.json_path << "\n";
      return kExitFailed;
    }
  }
  return kExitOk;
}

}  // namespace

std::function<int()> SetupCalibrate(CLI::App* app) {
  auto options = std::make_shared<CalibrateOptions>();
  AddCommonOptions(app, &options->common);
  app->add_option("--cache", options->cache,
                  "Calibration cache file (default: $TRITONIZE_CALIBRATION, else "
                  "~/.cache/tritonize/calibration.json)");
  app->add_option("--json", options->json_path, "Also write the worker's measurement as JSON");
  return [options] { return RunCalibrate(*options); };
}

}  // namespace tritonize

#pragma once

#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

namespace tritonize {

/// A GPU's measured ceilings (`tritonize calibrate`): device-to-device copy bandwidth and
/// cuBLAS GEMM throughput per dtype, as the worker's calibrate module measured them.
struct Ceilings {
  std::string gpu;
  double copy_gb_s = 0;
  double gemm_tflops_fp16 = 0;
  double gemm_tflops_bf16 = 0;
  double gemm_tflops_tf32 = 0;
  double gemm_tflops_fp32 = 0;
  std::string measured_at;  // UTC, ISO 8601
};

/// The cache file: $TRITONIZE_CALIBRATION, else $XDG_CACHE_HOME/tritonize/calibration.json,
/// else ~/.cache/tritonize/calibration.json. One entry per GPU name.
std::filesystem::path DefaultCalibrationPath();

/// Reads the worker's calibrate result (python -m tritonize_worker.calibrate) into *out.
bool ParseCalibration(const nlohmann::json& result, Ceilings* out, std::string* err);

/// The cached ceilings of `gpu`; false with *err empty when the file has none for it, with
/// *err set when the file cannot be read or parsed.
bool LoadCeilings(const std::filesystem::path& path, const std::string& gpu, Ceilings* out,
                  std::string* err);

/// Stores `ceilings` under its GPU's name, keeping the other GPUs' entries.
bool SaveCeilings(const std::filesystem::path& path, const Ceilings& ceilings, std::string* err);

/// The measured GEMM ceiling for a task dtype (float16, bfloat16, float32 -> TF32); 0 if none.
double MeasuredTflops(const Ceilings& ceilings, const std::string& dtype);

}  // namespace tritonize

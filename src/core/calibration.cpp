#include "core/calibration.h"

#include <cstdlib>
#include <fstream>

#include <fmt/format.h>

namespace tritonize {
namespace {

namespace fs = std::filesystem;

nlohmann::json ToJson(const Ceilings& c) {
  return {{"gpu", c.gpu},
          {"copy_gb_s", c.copy_gb_s},
          {"gemm_tflops",
           {{"float16", c.gemm_tflops_fp16},
            {"bfloat16", c.gemm_tflops_bf16},
            {"tf32", c.gemm_tflops_tf32},
            {"float32", c.gemm_tflops_fp32}}},
          {"measured_at", c.measured_at}};
}

Ceilings FromJson(const nlohmann::json& j) {
  Ceilings c;
  c.gpu = j.value("gpu", "");
  c.copy_gb_s = j.value("copy_gb_s", 0.0);
  const auto gemm = j.value("gemm_tflops", nlohmann::json::object());
  c.gemm_tflops_fp16 = gemm.value("float16", 0.0);
  c.gemm_tflops_bf16 = gemm.value("bfloat16", 0.0);
  c.gemm_tflops_tf32 = gemm.value("tf32", 0.0);
  c.gemm_tflops_fp32 = gemm.value("float32", 0.0);
  c.measured_at = j.value("measured_at", "");
  return c;
}

bool ReadCache(const fs::path& path, nlohmann::json* cache, std::string* err) {
  *cache = nlohmann::json::object();
  std::error_code ec;
  if (!fs::exists(path, ec)) return true;
  std::ifstream in(path);
  try {
    in >> *cache;
  } catch (const nlohmann::json::exception& e) {
    *err = fmt::format("{}: not JSON: {}", path.string(), e.what());
    return false;
  }
  if (!cache->is_object()) {
    *err = fmt::format("{}: expected an object of GPU name -> ceilings", path.string());
    return false;
  }
  return true;
}

}  // namespace

fs::path DefaultCalibrationPath() {
  if (const char* path = std::getenv("TRITONIZE_CALIBRATION"); path != nullptr && *path) {
    return path;
  }
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg != nullptr && *xdg) {
    return fs::path(xdg) / "tritonize" / "calibration.json";
  }
  const char* home = std::getenv("HOME");
  return fs::path(home != nullptr ? home : ".") / ".cache" / "tritonize" / "calibration.json";
}

bool ParseCalibration(const nlohmann::json& result, Ceilings* out, std::string* err) {
  try {
    if (result.value("status", "") != "ok") {
      *err = "calibration failed: " + result.value("message", std::string("no message"));
      return false;
    }
    const auto& ceilings = result.at("ceilings");
    out->gpu = result.at("environment").value("gpu", "");
    out->copy_gb_s = ceilings.at("copy").at("gb_per_s").get<double>();
    for (const auto& gemm : ceilings.at("gemm")) {
      const std::string dtype = gemm.at("dtype").get<std::string>();
      const double tflops = gemm.at("tflop_per_s").get<double>();
      if (dtype == "float16") out->gemm_tflops_fp16 = tflops;
      if (dtype == "bfloat16") out->gemm_tflops_bf16 = tflops;
      if (dtype == "tf32") out->gemm_tflops_tf32 = tflops;
      if (dtype == "float32") out->gemm_tflops_fp32 = tflops;
    }
  } catch (const nlohmann::json::exception& e) {
    *err = fmt::format("malformed calibration result: {}", e.what());
    return false;
  }
  if (out->gpu.empty()) {
    *err = "calibration result names no GPU";
    return false;
  }
  return true;
}

bool LoadCeilings(const fs::path& path, const std::string& gpu, Ceilings* out,
                  std::string* err) {
  err->clear();
  nlohmann::json cache;
  if (!ReadCache(path, &cache, err)) return false;
  auto it = cache.find(gpu);
  if (it == cache.end() || !it->is_object()) return false;
  *out = FromJson(*it);
  return true;
}

bool SaveCeilings(const fs::path& path, const Ceilings& ceilings, std::string* err) {
  nlohmann::json cache;
  if (!ReadCache(path, &cache, err)) return false;
  cache[ceilings.gpu] = ToJson(ceilings);
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  std::ofstream out(path);
  out << cache.dump(2) << "\n";
  if (!out) {
    *err = fmt::format("cannot write {}", path.string());
    return false;
  }
  return true;
}

double MeasuredTflops(const Ceilings& ceilings, const std::string& dtype) {
  if (dtype == "float16") return ceilings.gemm_tflops_fp16;
  if (dtype == "bfloat16") return ceilings.gemm_tflops_bf16;
  if (dtype == "float32") return ceilings.gemm_tflops_tf32;
  return 0;
}

}  // namespace tritonize

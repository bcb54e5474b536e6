#pragma once

#include <chrono>
#include <filesystem>
#include <mutex>
#include <string>

#include <nlohmann/json.hpp>

namespace tritonize {

/// The GPUs' clocks, temperature and power for GET /v1/health, read with nvidia-smi at most
/// every few seconds (a read takes about 30 ms on the H100). Where nvidia-smi is missing or
/// fails, the answer says so instead of guessing.
class GpuStatus {
 public:
  /// `dir`: where nvidia-smi's output goes; `enabled` false (--interpret): no GPU to ask.
  GpuStatus(std::filesystem::path dir, bool enabled) : dir_(std::move(dir)), enabled_(enabled) {}

  /// {"query": "nvidia-smi" | why not, "gpus": [{index, name, sm_clock_mhz, sm_clock_max_mhz,
  /// mem_clock_mhz, temperature_c, power_w}]}
  nlohmann::json Read();

 private:
  std::filesystem::path dir_;
  bool enabled_;
  std::mutex mutex_;
  std::chrono::steady_clock::time_point read_at_{};
  nlohmann::json cached_;
};

/// Parses `nvidia-smi --query-gpu=index,name,clocks.sm,clocks.max.sm,clocks.mem,temperature.gpu,
/// power.draw --format=csv,noheader,nounits` output; a field that is not a number is null.
nlohmann::json ParseNvidiaSmi(const std::string& csv);

}  // namespace tritonize

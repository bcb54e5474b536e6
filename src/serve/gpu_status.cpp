#include "serve/gpu_status.h"

#include <sstream>
#include <vector>

#include "core/sha256.h"
#include "exec/subprocess.h"

namespace tritonize {
namespace {

constexpr std::chrono::seconds kMaxAge{5};

std::string Trim(const std::string& text) {
  const auto begin = text.find_first_not_of(" \t\r");
  if (begin == std::string::npos) return {};
  return text.substr(begin, text.find_last_not_of(" \t\r") - begin + 1);
}

nlohmann::json Number(const std::string& text) {
  try {
    size_t used = 0;
    const double value = std::stod(text, &used);
    if (used == text.size()) return value;
  } catch (const std::exception&) {
  }
  return nullptr;  // "[N/A]", "[Not Supported]"
}

}  // namespace

nlohmann::json ParseNvidiaSmi(const std::string& csv) {
  static const char* kFields[] = {"index", "name", "sm_clock_mhz", "sm_clock_max_mhz",
                                  "mem_clock_mhz", "temperature_c", "power_w"};
  nlohmann::json gpus = nlohmann::json::array();
  std::istringstream lines(csv);
  std::string line;
  while (std::getline(lines, line)) {
    if (Trim(line).empty()) continue;
    std::vector<std::string> cells;
    std::istringstream fields(line);
    std::string cell;
    while (std::getline(fields, cell, ',')) cells.push_back(Trim(cell));
    if (cells.size() != std::size(kFields)) continue;
    nlohmann::json gpu;
    for (size_t i = 0; i < cells.size(); ++i) {
      gpu[kFields[i]] = i == 1 ? nlohmann::json(cells[i]) : Number(cells[i]);
    }
    gpus.push_back(gpu);
  }
  return gpus;
}

nlohmann::json GpuStatus::Read() {
  if (!enabled_) return {{"query", "none: --interpret runs on the CPU"}, {"gpus", nlohmann::json::array()}};
  std::lock_guard<std::mutex> lock(mutex_);
  const auto now = std::chrono::steady_clock::now();
  if (!cached_.is_null() && now - read_at_ < kMaxAge) return cached_;
  SubprocessOptions smi;
  smi.argv = {"nvidia-smi",
              "--query-gpu=index,name,clocks.sm,clocks.max.sm,clocks.mem,temperature.gpu,power.draw",
              "--format=csv,noheader,nounits"};
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  smi.stdout_path = dir_ / "nvidia-smi.csv";
  smi.stderr_path = dir_ / "nvidia-smi.err";
  smi.timeout_s = 10;
  const SubprocessResult run = RunSubprocess(smi);
  std::string csv, err;
  if (!run.started) {
    cached_ = {{"query", "none: " + run.spawn_error}, {"gpus", nlohmann::json::array()}};
  } else if (run.exit_code != 0 || !ReadFile(smi.stdout_path, &csv, &err)) {
    cached_ = {{"query", "none: nvidia-smi failed: " + TailOfFile(smi.stderr_path, 300)},
               {"gpus", nlohmann::json::array()}};
  } else {
    cached_ = {{"query", "nvidia-smi"}, {"gpus", ParseNvidiaSmi(csv)}};
  }
  read_at_ = now;
  return cached_;
}

}  // namespace tritonize

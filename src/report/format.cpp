#include "report/format.h"

#include <fmt/format.h>

#include <array>
#include <cmath>
#include <sstream>

namespace tritonize {
namespace {

double RoundToSignificant3(double v) {
  if (v == 0) {
    return 0;
  }
  const double scale = std::pow(10.0, 2 - std::floor(std::log10(std::fabs(v))));
  return std::round(v * scale) / scale;
}

// Strings as they are, numbers as JSON writes them (1980, not 1980.0 for integers).
std::string EnvValue(const nlohmann::json& environment, const char* key) {
  const auto it = environment.find(key);
  if (it == environment.end() || it->is_null()) {
    return "";
  }
  if (it->is_string()) {
    return it->get<std::string>();
  }
  return it->dump();
}

}  // namespace

std::string FormatMicroseconds(double us) {
  if (!std::isfinite(us)) {
    return "-";
  }
  constexpr std::array<const char*, 3> kUnits = {"us", "ms", "s"};
  size_t unit = 0;
  double value = RoundToSignificant3(us);
  // Rounding first lets 999.7 us carry over into "1.00 ms" rather than print "1000 us".
  while (unit + 1 < kUnits.size() && std::fabs(value) >= 1000) {
    us /= 1000;
    value = RoundToSignificant3(us);
    ++unit;
  }
  const double magnitude = std::fabs(value);
  int decimals = 0;
  if (magnitude > 0 && magnitude < 100) {
    decimals = 2 - static_cast<int>(std::floor(std::log10(magnitude)));
  } else if (magnitude == 0) {
    decimals = 2;
  }
  return fmt::format("{:.{}f} {}", value, decimals, kUnits[unit]);
}

std::string FormatSpeedup(double ratio) {
  if (!std::isfinite(ratio)) {
    return "-";
  }
  return fmt::format("{:.2f}x", ratio);
}

std::string RowLabel(const std::string& size, const std::string& mode) {
  return mode == "backward" ? size + " bwd" : size;
}

std::string EnvironmentLine(const nlohmann::json& environment) {
  if (!environment.is_object()) {
    return "";
  }
  std::vector<std::string> parts;
  const auto add = [&](const char* key, const std::string& prefix) {
    const std::string value = EnvValue(environment, key);
    if (!value.empty()) {
      parts.push_back(prefix + value);
    }
  };
  add("gpu", "");
  add("driver", "driver ");
  add("cuda", "CUDA ");
  add("torch", "torch ");
  add("triton", "triton ");
  add("python", "Python ");
  const std::string before = EnvValue(environment, "sm_clock_mhz_before");
  const std::string after = EnvValue(environment, "sm_clock_mhz_after");
  const std::string max = EnvValue(environment, "sm_clock_max_mhz");
  if (!before.empty() || !after.empty()) {
    parts.push_back(fmt::format("SM clock {} -> {} MHz", before.empty() ? "?" : before,
                                after.empty() ? "?" : after) +
                    (max.empty() ? "" : " (max " + max + ")"));
  }
  const auto gpus = environment.find("gpus");
  if (gpus != environment.end() && gpus->is_object() && gpus->size() > 1) {
    std::string each;
    for (const auto& [uuid, jobs] : gpus->items()) {
      each += fmt::format("{}{} x{}", each.empty() ? "" : ", ", uuid.substr(0, 12), jobs.dump());
    }
    parts.push_back(fmt::format("jobs on {} GPUs ({}): the spreads include their differences",
                                gpus->size(), each));
  }
  const auto libraries = environment.find("expert_libraries");
  if (libraries != environment.end() && libraries->is_array() && !libraries->empty()) {
    std::string each;
    for (const auto& library : *libraries) {
      if (library.is_string()) each += (each.empty() ? "" : ", ") + library.get<std::string>();
    }
    if (!each.empty()) parts.push_back("library experts " + each);
  }
  const auto interpret = environment.find("interpret");
  if (interpret != environment.end() && interpret->is_boolean() && interpret->get<bool>()) {
    parts.push_back("Triton interpreter on the CPU");
  }
  std::string line;
  for (const auto& part : parts) {
    line += (line.empty() ? "" : ", ") + part;
  }
  return line;
}

std::vector<std::string> WrapText(const std::string& text, size_t width) {
  std::vector<std::string> lines;
  std::istringstream words(text);
  std::string line;
  for (std::string word; words >> word;) {
    if (!line.empty() && line.size() + 1 + word.size() > width) {
      lines.push_back(line);
      line.clear();
    }
    line += (line.empty() ? "" : " ") + word;
  }
  if (!line.empty()) {
    lines.push_back(line);
  }
  return lines;
}

}  // namespace tritonize

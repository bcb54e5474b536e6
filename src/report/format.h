#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace tritonize {

/// A duration given in microseconds, to 3 significant digits in the largest unit that keeps
/// it >= 1: "0.512 us", "12.3 us", "999 us", "1.00 ms", "2.35 s". "-" when not finite.
std::string FormatMicroseconds(double us);

/// A speedup with two decimals: "3.93x". "-" when not finite.
std::string FormatSpeedup(double ratio);

/// "4096x4096" for forward rows, "4096x4096 bwd" for backward ones.
std::string RowLabel(const std::string& size, const std::string& mode);

/// One line from the worker's environment JSON, with whatever of GPU, driver, CUDA, torch,
/// triton, Python and SM clocks it holds: "NVIDIA H100, driver 580.1, torch 2.11.0, ...".
/// Empty when it holds none of them.
std::string EnvironmentLine(const nlohmann::json& environment);

/// Splits text into lines of at most `width` columns at spaces (a longer word stays whole).
std::vector<std::string> WrapText(const std::string& text, size_t width);

}  // namespace tritonize

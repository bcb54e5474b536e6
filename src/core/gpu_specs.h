#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace tritonize {

/// A GPU's datasheet peaks: dense (no structured sparsity) tensor-core figures, the vector
/// FP32 figure and the DRAM bandwidth. TFLOP/s and GB/s (10^12, 10^9).
struct GpuSpec {
  std::string name;          // as the table names it, e.g. "H100 SXM5"
  std::string architecture;  // "Hopper", "Ampere", "Ada"
  double fp16_tensor_tflops = 0;
  double bf16_tensor_tflops = 0;
  double tf32_tensor_tflops = 0;
  double fp32_vector_tflops = 0;
  double bandwidth_gb_s = 0;  // datasheet; PeakBandwidth prefers the measured clock and bus
  std::string source;         // where the figures come from
};

/// The spec of the GPU the worker names (torch.cuda.get_device_name), or nullopt when the
/// table does not know it.
std::optional<GpuSpec> FindGpuSpec(const std::string& gpu_name);

/// DRAM bandwidth peak in GB/s from the memory clock and the bus width the driver reports
/// (the worker's environment.device: mem_clock_khz, mem_bus_width_bits): double data rate,
/// 2 * clock * width / 8. Falls back to the spec's datasheet figure; 0 when neither is known.
double PeakBandwidthGbS(const nlohmann::json& environment, const std::optional<GpuSpec>& spec);

/// The FLOP peak that bounds a task whose tensors are of `dtype`: the dense tensor-core figure
/// of float16, bfloat16, or TF32 for float32 (Triton's tl.dot uses TF32 for float32 inputs).
/// 0 when unknown. The higher candidate peak is taken where in doubt, so that a figure is
/// never flagged impossible because the peak was chosen too low.
double PeakTflops(const GpuSpec& spec, const std::string& dtype);

}  // namespace tritonize

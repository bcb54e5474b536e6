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
  double l2_mib = 0;          // L2 cache; L2Bytes prefers what the driver reports
  std::string source;         // where the figures come from
};

/// The spec of the GPU the worker names (torch.cuda.get_device_name), or nullopt when the
/// table does not know it.
std::optional<GpuSpec> FindGpuSpec(const std::string& gpu_name);

/// DRAM bandwidth peak in GB/s from the memory clock and the bus width the driver reports
/// (the worker's environment.device: mem_clock_khz, mem_bus_width_bits): double data rate,
/// 2 * clock * width / 8. Falls back to the spec's datasheet figure; 0 when neither is known.
double PeakBandwidthGbS(const nlohmann::json& environment, const std::optional<GpuSpec>& spec);

/// The L2 cache's size in bytes: the driver's (the worker's environment.device.l2_bytes), else
/// the spec's; 0 when neither is known.
double L2Bytes(const nlohmann::json& environment, const std::optional<GpuSpec>& spec);

/// The least time, in us, that a kernel's DRAM traffic of `bytes` can take at `bandwidth_gb_s`
/// before the kernel ends: all of it but what the L2 (`l2_bytes`) can still hold as dirty lines
/// then, written back later, on the next flush's time (docs/measurement.md). The timed call's
/// inputs are never in the L2 (the flush before it evicts them); its writes may be. 0 when the
/// bandwidth is unknown.
double MemoryFloorUs(double bytes, double l2_bytes, double bandwidth_gb_s);

/// The FLOP peak that bounds a task whose tensors are of `dtype`: the dense tensor-core figure
/// of float16, bfloat16, or TF32 for float32 (Triton's tl.dot uses TF32 for float32 inputs).
/// 0 when unknown. The higher candidate peak is taken where in doubt, so that a figure is
/// never flagged impossible because the peak was chosen too low.
double PeakTflops(const GpuSpec& spec, const std::string& dtype);

}  // namespace tritonize

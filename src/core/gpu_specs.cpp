#include "core/gpu_specs.h"

#include <algorithm>
#include <array>

namespace tritonize {
namespace {

// Dense figures: NVIDIA's datasheets print the tensor-core peaks "with sparsity" (2:4
// structured); the dense peak is half of that. Boost clock, board power at its default. L2:
// the Hopper whitepaper (50 MB on GH100 products, H200 the same die), the A100 whitepaper
// (40 MB), the Ada whitepaper (AD102: 96 MB); the driver's own figure is preferred.
const std::array<GpuSpec, 8> kSpecs = {{
    // NVIDIA H100 Tensor Core GPU datasheet (nvidia.com/en-us/data-center/h100, 2023):
    // H100 PCIe: FP16/BF16 1,513, TF32 756 (sparse), FP32 51, 2.0 TB/s HBM2e.
    {"H100 PCIe", "Hopper", 756.5, 756.5, 378.0, 51.2, 2000, 50, "NVIDIA H100 datasheet (PCIe)"},
    // Same datasheet, H100 NVL: FP16/BF16 3,341, TF32 1,671 (sparse, per pair) -> per GPU
    // 835 dense; FP32 60; 3.9 TB/s HBM3.
    {"H100 NVL", "Hopper", 835.0, 835.0, 417.5, 60.0, 3900, 50, "NVIDIA H100 datasheet (NVL)"},
    // Same datasheet, H100 SXM5: FP16/BF16 1,979, TF32 989 (sparse), FP32 67, 3.35 TB/s
    // HBM3 (the Hopper whitepaper's 5120-bit bus at 2619 MHz: 2 * 2.619e9 * 640 B).
    {"H100", "Hopper", 989.5, 989.5, 494.7, 66.9, 3350, 50, "NVIDIA H100 datasheet (SXM5)"},
    // NVIDIA H200 datasheet (nvidia.com/en-us/data-center/h200, 2024): H200 SXM: FP16/BF16
    // 1,979, TF32 989 (sparse), FP32 67, 4.8 TB/s HBM3e.
    {"H200", "Hopper", 989.5, 989.5, 494.7, 66.9, 4800, 50, "NVIDIA H200 datasheet (SXM)"},
    // NVIDIA A100 datasheet (nvidia.com/en-us/data-center/a100, 2021): FP16/BF16 312,
    // TF32 156 (dense), FP32 19.5; 80GB SXM 2,039 GB/s, 80GB PCIe 1,935, 40GB 1,555.
    {"A100-SXM4-80GB", "Ampere", 312, 312, 156, 19.5, 2039, 40, "NVIDIA A100 datasheet (SXM 80GB)"},
    {"A100 80GB PCIe", "Ampere", 312, 312, 156, 19.5, 1935, 40, "NVIDIA A100 datasheet (PCIe 80GB)"},
    {"A100", "Ampere", 312, 312, 156, 19.5, 1555, 40, "NVIDIA A100 datasheet (40GB)"},
    // NVIDIA L40S datasheet (2023): FP16/BF16 733, TF32 366 (sparse), FP32 91.6, 864 GB/s.
    {"L40S", "Ada", 366.5, 366.5, 183.0, 91.6, 864, 96, "NVIDIA L40S datasheet"},
}};

}  // namespace

std::optional<GpuSpec> FindGpuSpec(const std::string& gpu_name) {
  // First match wins: the table lists the specific variants before the family's default.
  for (const GpuSpec& spec : kSpecs) {
    if (gpu_name.find(spec.name) != std::string::npos) return spec;
  }
  return std::nullopt;
}

double PeakBandwidthGbS(const nlohmann::json& environment, const std::optional<GpuSpec>& spec) {
  const nlohmann::json device = environment.value("device", nlohmann::json::object());
  if (device.is_object()) {
    const auto clock = device.find("mem_clock_khz");
    const auto width = device.find("mem_bus_width_bits");
    if (clock != device.end() && width != device.end() && clock->is_number() &&
        width->is_number() && clock->get<double>() > 0 && width->get<double>() > 0) {
      return 2.0 * clock->get<double>() * 1e3 * width->get<double>() / 8.0 / 1e9;
    }
  }
  return spec ? spec->bandwidth_gb_s : 0.0;
}

double L2Bytes(const nlohmann::json& environment, const std::optional<GpuSpec>& spec) {
  const nlohmann::json device = environment.value("device", nlohmann::json::object());
  if (device.is_object()) {
    const auto l2 = device.find("l2_bytes");
    if (l2 != device.end() && l2->is_number() && l2->get<double>() > 0) return l2->get<double>();
  }
  return spec ? spec->l2_mib * 1024 * 1024 : 0.0;
}

double MemoryFloorUs(double bytes, double l2_bytes, double bandwidth_gb_s) {
  if (!(bandwidth_gb_s > 0)) return 0;
  return std::max(0.0, bytes - std::max(0.0, l2_bytes)) / (bandwidth_gb_s * 1e3);
}

double PeakTflops(const GpuSpec& spec, const std::string& dtype) {
  if (dtype == "float16") return spec.fp16_tensor_tflops;
  if (dtype == "bfloat16") return spec.bf16_tensor_tflops;
  // A float32 tl.dot runs on TF32 tensor cores by default: the higher, TF32 peak bounds it.
  if (dtype == "float32") return spec.tf32_tensor_tflops;
  return 0.0;
}

}  // namespace tritonize

#include "core/gpu_specs.h"

#include <gtest/gtest.h>

namespace tritonize {
namespace {

TEST(GpuSpecsTest, VariantsMatchBeforeTheFamily) {
  EXPECT_EQ(FindGpuSpec("NVIDIA H100 80GB HBM3")->name, "H100");
  EXPECT_EQ(FindGpuSpec("NVIDIA H100 PCIe")->name, "H100 PCIe");
  EXPECT_EQ(FindGpuSpec("NVIDIA H200")->name, "H200");
  EXPECT_EQ(FindGpuSpec("NVIDIA A100-SXM4-80GB")->name, "A100-SXM4-80GB");
  EXPECT_EQ(FindGpuSpec("NVIDIA A100-PCIE-40GB")->name, "A100");
  EXPECT_FALSE(FindGpuSpec("NVIDIA GeForce GTX 1080").has_value());
}

TEST(GpuSpecsTest, H100PeaksAreDenseNotSparse) {
  const GpuSpec h100 = *FindGpuSpec("NVIDIA H100 80GB HBM3");
  EXPECT_NEAR(h100.fp16_tensor_tflops, 1979.0 / 2, 1.0);
  EXPECT_DOUBLE_EQ(PeakTflops(h100, "float16"), h100.fp16_tensor_tflops);
  EXPECT_DOUBLE_EQ(PeakTflops(h100, "float32"), h100.tf32_tensor_tflops);
  EXPECT_DOUBLE_EQ(PeakTflops(h100, "int8"), 0.0);
}

TEST(GpuSpecsTest, BandwidthComesFromTheReportedClockAndBus) {
  // The H100 SXM as its driver reports it: 2619 MHz HBM3 on a 5120-bit bus.
  const nlohmann::json environment = {
      {"device", {{"mem_clock_khz", 2619000}, {"mem_bus_width_bits", 5120}}}};
  EXPECT_NEAR(PeakBandwidthGbS(environment, FindGpuSpec("NVIDIA H100 80GB HBM3")), 3352.3, 0.1);
  // Not reported: the datasheet's figure; neither: 0.
  EXPECT_DOUBLE_EQ(PeakBandwidthGbS(nlohmann::json::object(), FindGpuSpec("NVIDIA H200")), 4800);
  EXPECT_DOUBLE_EQ(PeakBandwidthGbS(nlohmann::json::object(), std::nullopt), 0.0);
}

TEST(GpuSpecsTest, TheL2IsTheDriversElseTheSpecs) {
  const nlohmann::json reported = {{"device", {{"l2_bytes", 62914560}}}};
  EXPECT_DOUBLE_EQ(L2Bytes(reported, FindGpuSpec("NVIDIA H200")), 62914560.0);
  EXPECT_DOUBLE_EQ(L2Bytes(nlohmann::json::object(), FindGpuSpec("NVIDIA H200")),
                   50.0 * 1024 * 1024);
  EXPECT_DOUBLE_EQ(L2Bytes(nlohmann::json::object(), FindGpuSpec("NVIDIA A100-SXM4-80GB")),
                   40.0 * 1024 * 1024);
  EXPECT_DOUBLE_EQ(L2Bytes(nlohmann::json::object(), std::nullopt), 0.0);
}

}  // namespace
}  // namespace tritonize

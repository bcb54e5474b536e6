#include "serve/gpu_status.h"

#include <gtest/gtest.h>

#include "../support/test_dir.h"

namespace tritonize {
namespace {

TEST(GpuStatusTest, ParsesNvidiaSmiAndNullsWhatItCannotRead) {
  const auto gpus = ParseNvidiaSmi(
      "0, NVIDIA H200, 1980, 1980, 3201, 34, 121.50\n"
      "1, NVIDIA H200, [N/A], 1980, 3201, 35, [Not Supported]\n"
      "garbage line\n");
  ASSERT_EQ(gpus.size(), 2u);
  EXPECT_EQ(gpus[0]["name"], "NVIDIA H200");
  EXPECT_EQ(gpus[0]["sm_clock_mhz"], 1980.0);
  EXPECT_EQ(gpus[0]["power_w"], 121.5);
  EXPECT_TRUE(gpus[1]["sm_clock_mhz"].is_null());
  EXPECT_TRUE(gpus[1]["power_w"].is_null());
}

TEST(GpuStatusTest, InterpreterHasNoGpuToAsk) {
  GpuStatus status(FreshTestDir("gpu"), /*enabled=*/false);
  const auto j = status.Read();
  EXPECT_TRUE(j["gpus"].empty());
  EXPECT_NE(j["query"].get<std::string>().find("interpret"), std::string::npos);
}

}  // namespace
}  // namespace tritonize

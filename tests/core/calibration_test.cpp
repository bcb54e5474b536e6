#include "core/calibration.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace tritonize {
namespace {

namespace fs = std::filesystem;

nlohmann::json WorkerResult(const std::string& gpu) {
  return {{"status", "ok"},
          {"environment", {{"gpu", gpu}}},
          {"ceilings",
           {{"copy", {{"gb_per_s", 3024.7}}},
            {"gemm",
             {{{"dtype", "float16"}, {"tflop_per_s", 766.3}},
              {{"dtype", "bfloat16"}, {"tflop_per_s", 799.2}},
              {{"dtype", "tf32"}, {"tflop_per_s", 411.2}},
              {{"dtype", "float32"}, {"tflop_per_s", 51.7}}}}}}};
}

fs::path TempFile(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / ("tritonize-calibration-" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir / "sub" / "calibration.json";
}

TEST(CalibrationTest, ParsesTheWorkersResult) {
  Ceilings c;
  std::string err;
  ASSERT_TRUE(ParseCalibration(WorkerResult("NVIDIA H100 80GB HBM3"), &c, &err)) << err;
  EXPECT_EQ(c.gpu, "NVIDIA H100 80GB HBM3");
  EXPECT_DOUBLE_EQ(c.copy_gb_s, 3024.7);
  EXPECT_DOUBLE_EQ(MeasuredTflops(c, "float16"), 766.3);
  EXPECT_DOUBLE_EQ(MeasuredTflops(c, "float32"), 411.2);  // float32 dots run as TF32
}

TEST(CalibrationTest, AFailedMeasurementIsAnError) {
  Ceilings c;
  std::string err;
  EXPECT_FALSE(ParseCalibration({{"status", "runtime_error"}, {"message", "no CUDA"}}, &c, &err));
  EXPECT_EQ(err, "calibration failed: no CUDA");
  EXPECT_FALSE(ParseCalibration({{"status", "ok"}}, &c, &err));
  EXPECT_NE(err.find("malformed calibration result"), std::string::npos);
}

TEST(CalibrationTest, CacheKeepsOneEntryPerGpu) {
  const fs::path path = TempFile("cache");
  Ceilings h100, a100, loaded;
  std::string err;
  ASSERT_TRUE(ParseCalibration(WorkerResult("NVIDIA H100 80GB HBM3"), &h100, &err));
  ASSERT_TRUE(ParseCalibration(WorkerResult("NVIDIA A100-SXM4-80GB"), &a100, &err));
  a100.copy_gb_s = 1800;
  ASSERT_TRUE(SaveCeilings(path, h100, &err)) << err;
  ASSERT_TRUE(SaveCeilings(path, a100, &err)) << err;
  ASSERT_TRUE(LoadCeilings(path, "NVIDIA H100 80GB HBM3", &loaded, &err)) << err;
  EXPECT_DOUBLE_EQ(loaded.copy_gb_s, 3024.7);
  ASSERT_TRUE(LoadCeilings(path, "NVIDIA A100-SXM4-80GB", &loaded, &err)) << err;
  EXPECT_DOUBLE_EQ(loaded.copy_gb_s, 1800);
  EXPECT_FALSE(LoadCeilings(path, "NVIDIA H200", &loaded, &err));
  EXPECT_TRUE(err.empty());
}

TEST(CalibrationTest, UnreadableCacheIsAnErrorNamingTheFile) {
  const fs::path path = TempFile("broken");
  fs::create_directories(path.parent_path());
  std::ofstream(path) << "{ not json";
  Ceilings c;
  std::string err;
  EXPECT_FALSE(LoadCeilings(path, "NVIDIA H100 80GB HBM3", &c, &err));
  EXPECT_NE(err.find(path.string() + ": not JSON"), std::string::npos);
}

}  // namespace
}  // namespace tritonize

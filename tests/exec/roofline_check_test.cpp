#include "exec/roofline_check.h"

#include <gtest/gtest.h>

#include "core/gpu_specs.h"
#include "core/task_suite.h"

namespace tritonize {
namespace {

JobResult TimedSoftmax(double kernel_us) {
  JobResult r;
  r.status = Status::kOk;
  r.environment = {{"gpu", "NVIDIA H100 80GB HBM3"}};
  Timing t;
  t.size = "4096x4096";
  t.mode = "forward";
  t.kernel_us = {kernel_us, kernel_us, kernel_us};
  r.timings.push_back(t);
  return r;
}

class RooflineCheckTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::vector<std::string> errors;
    ASSERT_TRUE(TaskSuite::Load(std::filesystem::path(TRITONIZE_SOURCE_DIR) / "tasks", &suite_,
                                &errors));
  }
  TaskSuite suite_;
};

TEST_F(RooflineCheckTest, FasterThanPeakBandwidthIsRejected) {
  // softmax 4096x4096 fp32 moves 134 MB: about 40 us at the H100's ~3.35 TB/s.
  JobResult impossible = TimedSoftmax(5.0);
  std::string note;
  CheckRoofline(*suite_.Find("softmax"), &impossible, &note);
  EXPECT_EQ(impossible.status, Status::kRejected) << note;
  EXPECT_EQ(impossible.message.rfind("roofline: ", 0), 0u) << impossible.message;
  EXPECT_TRUE(impossible.timings.empty());

  JobResult plausible = TimedSoftmax(48.0);  // the expert's measured time on the H100
  CheckRoofline(*suite_.Find("softmax"), &plausible, &note);
  EXPECT_EQ(plausible.status, Status::kOk) << plausible.message;
}

// softmax 4096x4096 fp32: 134.2 MB, 40.0 us at 3352 GB/s. A kernel may end with up to the L2's
// size of its writes still in the L2 (dirty lines written back on the next flush's time), so the
// floor is (134.2 MB - 50 MiB) / 3352 GB/s = 24.4 us; 0.95 of it is 23.2 us. torch.compile's
// swiglu at 4096x4096 took 95% of its whole bytes' time on the H100 (2026-12-05) and was rejected.
TEST_F(RooflineCheckTest, WritesTheL2MayStillHoldAreNotInTheFloor) {
  const Task& softmax = *suite_.Find("softmax");
  for (const nlohmann::json& device :
       {nlohmann::json{{"mem_clock_khz", 2619000}, {"mem_bus_width_bits", 5120},
                       {"l2_bytes", 52428800}},
        nlohmann::json{{"mem_clock_khz", 2619000}, {"mem_bus_width_bits", 5120}}}) {  // the spec's L2
    JobResult near_the_bytes = TimedSoftmax(36.0);  // 90% of the whole bytes' time
    near_the_bytes.environment["device"] = device;
    std::string note;
    CheckRoofline(softmax, &near_the_bytes, &note);
    EXPECT_EQ(near_the_bytes.status, Status::kOk) << near_the_bytes.message;

    JobResult below_the_floor = TimedSoftmax(22.0);
    below_the_floor.environment["device"] = device;
    CheckRoofline(softmax, &below_the_floor, &note);
    EXPECT_EQ(below_the_floor.status, Status::kRejected);
    EXPECT_NE(below_the_floor.message.find("faster than the 24.40 us the ideal traffic (less the 50 "
                                           "MiB the L2 may still hold when it ends)"),
              std::string::npos)
        << below_the_floor.message;
  }
  EXPECT_NEAR(MemoryFloorUs(134217728.0, 52428800.0, 3352.3), 24.40, 0.01);
  EXPECT_EQ(MemoryFloorUs(1e6, 52428800.0, 3352.3), 0.0);  // all of it may stay in the L2
  EXPECT_EQ(MemoryFloorUs(1e9, 0, 0), 0.0);                 // no bandwidth known: no floor
}

TEST_F(RooflineCheckTest, UnknownGpuIsLeftAloneAndSaysWhy) {
  JobResult r = TimedSoftmax(0.001);
  r.environment["gpu"] = "Imaginary GPU 9000";
  std::string note;
  CheckRoofline(*suite_.Find("softmax"), &r, &note);
  EXPECT_EQ(r.status, Status::kOk);
  EXPECT_NE(note.find("no peaks known"), std::string::npos);
}

}  // namespace
}  // namespace tritonize

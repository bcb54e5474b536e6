#include "exec/roofline_check.h"

#include <gtest/gtest.h>

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

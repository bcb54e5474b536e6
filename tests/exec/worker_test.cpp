// What a step's process is started with (exec/worker.h).
#include "exec/worker.h"

#include <gtest/gtest.h>
#include <stdlib.h>

namespace tritonize {
namespace {

Step AStep() {
  Step step;
  step.name = "candidate";
  step.dir = "/tmp/tritonize-worker-test";
  return step;
}

TEST(StepProcessOptionsTest, ManyJobsAtOnceShareTheCores) {
  for (const auto& name : CpuThreadVariables()) unsetenv(name.c_str());
  WorkerOptions options;
  options.cpu_threads = 3;
  const SubprocessOptions sub = StepProcessOptions(AStep(), options);
  for (const auto& name : CpuThreadVariables()) {
    ASSERT_TRUE(sub.env.count(name)) << name;
    EXPECT_EQ(sub.env.at(name), "3") << name;
  }
}

TEST(StepProcessOptionsTest, AThreadCountTheUserSetIsTheirs) {
  for (const auto& name : CpuThreadVariables()) unsetenv(name.c_str());
  setenv("OMP_NUM_THREADS", "5", 1);
  WorkerOptions options;
  options.cpu_threads = 3;
  const SubprocessOptions sub = StepProcessOptions(AStep(), options);
  unsetenv("OMP_NUM_THREADS");
  EXPECT_FALSE(sub.env.count("OMP_NUM_THREADS"));  // inherited as the user set it
  EXPECT_EQ(sub.env.at("TORCHINDUCTOR_COMPILE_THREADS"), "3");
}

TEST(StepProcessOptionsTest, OneJobAtATimeLeavesTheLibrariesTheirDefaults) {
  for (const auto& name : CpuThreadVariables()) unsetenv(name.c_str());
  const SubprocessOptions sub = StepProcessOptions(AStep(), WorkerOptions{});
  for (const auto& name : CpuThreadVariables()) EXPECT_FALSE(sub.env.count(name)) << name;
}

}  // namespace
}  // namespace tritonize

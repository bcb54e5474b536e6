// What a step's process is started with (exec/worker.h).
#include "exec/worker.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

#include "core/task_suite.h"

namespace tritonize {
namespace {

namespace fs = std::filesystem;

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

TEST(OnlyLastCheckTest, ALaterProcessChecksTheLastPlannedCase) {
  TaskSuite suite;
  std::vector<std::string> errors;
  ASSERT_TRUE(TaskSuite::Load(fs::path(TRITONIZE_SOURCE_DIR) / "tasks", &suite, &errors));
  const Task& attention = *suite.Find("attention");
  // The last size small: its last seed. The last size large (checked with one seed): the first,
  // the case the first process's reference holds.
  nlohmann::json request = {
      {"check", {{"sizes", {"4x32x4096x128", "4x32x1024x64"}}, {"seeds", {0, 1, 77}}}}};
  OnlyLastCheck(attention, &request);
  EXPECT_EQ(request["check"]["sizes"], nlohmann::json::array({"4x32x1024x64"}));
  EXPECT_EQ(request["check"]["seeds"], nlohmann::json::array({77}));
  request = {{"check", {{"sizes", {"4x32x1024x64", "4x32x4096x128"}}, {"seeds", {0, 1, 77}}}}};
  OnlyLastCheck(attention, &request);
  EXPECT_EQ(request["check"]["sizes"], nlohmann::json::array({"4x32x4096x128"}));
  EXPECT_EQ(request["check"]["seeds"], nlohmann::json::array({0}));
}

}  // namespace
}  // namespace tritonize

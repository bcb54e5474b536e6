// The service's lanes: how they are laid over the GPUs. No worker runs here (the step servers
// start on a lane's first evaluation).
#include "serve/worker_evaluator.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include "../support/test_dir.h"
#include "run/runner.h"

namespace tritonize {
namespace {

TEST(WorkerEvaluatorTest, LanesGoRoundTheGpusAndShareTheMachinesCores) {
  WorkerEvaluatorOptions options;
  options.scratch = FreshTestDir("worker-evaluator");
  options.gpus = {"0", "1"};
  options.lanes_per_gpu = 3;
  WorkerEvaluator evaluator(options);

  ASSERT_EQ(evaluator.lanes(), 6);
  const nlohmann::json described = evaluator.Describe();
  std::vector<std::string> devices;
  for (const auto& lane : described["lanes"]) {
    devices.push_back(lane["cuda_visible_devices"].get<std::string>());
    EXPECT_EQ(lane["cpu_threads"].get<int>(), CpuThreadsPerJob(6));
  }
  EXPECT_EQ(devices, (std::vector<std::string>{"0", "1", "0", "1", "0", "1"}));
}

TEST(WorkerEvaluatorTest, OneLaneAGpuLeavesTheThreadsToTheLibraries) {
  WorkerEvaluatorOptions options;
  options.scratch = FreshTestDir("worker-evaluator-one");
  options.gpus = {"0"};
  WorkerEvaluator evaluator(options);

  ASSERT_EQ(evaluator.lanes(), 1);
  EXPECT_EQ(evaluator.Describe()["lanes"][0]["cpu_threads"].get<int>(), 0);
}

TEST(WorkerEvaluatorTest, WithoutNamedGpusTheInheritedOnesGetTheirLanesToo) {
  WorkerEvaluatorOptions options;
  options.scratch = FreshTestDir("worker-evaluator-inherited");
  options.lanes_per_gpu = 4;  // serve --lanes 4 on a machine whose GPU comes from the environment
  WorkerEvaluator evaluator(options);

  ASSERT_EQ(evaluator.lanes(), 4);
  for (const auto& lane : evaluator.Describe()["lanes"]) {
    EXPECT_EQ(lane["cuda_visible_devices"].get<std::string>(), "");
  }
}

// A lane keeps its next candidate process ready where a core is free for it: with as many lanes
// as cores, the spare processes' imports took CPU from the running evaluations (on 2 cores under
// the interpreter, 2 lanes served 25 evaluations a minute with them and 30 without).
TEST(WorkerEvaluatorTest, LanesPreStartProcessesOnlyWithACoreToSpare) {
  const long cores = sysconf(_SC_NPROCESSORS_ONLN);
  WorkerEvaluatorOptions options;
  options.scratch = FreshTestDir("worker-evaluator-warm");
  options.cpu_lanes = static_cast<int>(cores);
  options.lanes_per_gpu = 1;
  EXPECT_FALSE(WorkerEvaluator(options).Describe()["lanes"][0]["pre_started"].get<bool>());
  if (cores < 2) GTEST_SKIP() << "one core: no lane has one to spare";
  options.cpu_lanes = 1;
  EXPECT_TRUE(WorkerEvaluator(options).Describe()["lanes"][0]["pre_started"].get<bool>());
}

TEST(CpuThreadsPerJobTest, TheCoresAreSharedAmongTheJobsAtOnce) {
  EXPECT_EQ(CpuThreadsPerJob(1), 0);
  EXPECT_EQ(CpuThreadsPerJob(0), 0);
  EXPECT_GE(CpuThreadsPerJob(2), 1);
  EXPECT_EQ(CpuThreadsPerJob(100000), 1);
}

}  // namespace
}  // namespace tritonize

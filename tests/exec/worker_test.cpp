// What a step's process is started with (exec/worker.h).
#include "exec/worker.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <sstream>
#include <string>

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

// The CUDA probe asks the driver (libcuda.so.1) itself: here a stand-in driver
// (tests/fixtures/fake_cuda) found through LD_LIBRARY_PATH, which answers by the devices asked
// for. Each case asks for other devices: the answer is kept per Python and devices.
bool ProbeWithTheStandInDriver(const std::string& devices, SandboxMode mode,
                               const std::string& python = "python3") {
  const char* before = std::getenv("LD_LIBRARY_PATH");
  const std::string kept = before != nullptr ? before : "";
  setenv("LD_LIBRARY_PATH", TRITONIZE_FAKE_CUDA_DIR, 1);
  WorkerOptions options;
  options.python = python;
  SandboxPolicy policy;
  policy.mode = mode;
  const fs::path dir = fs::temp_directory_path() / "tritonize-cuda-probe-test";
  fs::create_directories(dir);
  const bool works = CudaWorksInSandbox(options, policy, dir, devices);
  if (before != nullptr) {
    setenv("LD_LIBRARY_PATH", kept.c_str(), 1);
  } else {
    unsetenv("LD_LIBRARY_PATH");
  }
  return works;
}

TEST(CudaWorksInSandboxTest, ADriverThatInitialisesWithADeviceWorks) {
  EXPECT_TRUE(ProbeWithTheStandInDriver("0", SandboxMode::kOff));
}

TEST(CudaWorksInSandboxTest, ADriverThatFailsToInitialiseDoesNot) {
  EXPECT_FALSE(ProbeWithTheStandInDriver("init-fails", SandboxMode::kOff));
}

TEST(CudaWorksInSandboxTest, ADriverWithNoDeviceDoesNot) {
  EXPECT_FALSE(ProbeWithTheStandInDriver("5", SandboxMode::kOff));
}

TEST(CudaWorksInSandboxTest, TheDriverIsAskedInsideTheSandbox) {
  // The full sandbox where this machine allows it (doctor says which layers): the stand-in driver
  // is found and answers there as outside. Another spelling of the Python, for an answer of its
  // own.
  std::string python;
  std::stringstream path(std::getenv("PATH") != nullptr ? std::getenv("PATH") : "");
  for (std::string dir; std::getline(path, dir, ':') && python.empty();) {
    if (fs::exists(fs::path(dir) / "python3")) python = (fs::path(dir) / "python3").string();
  }
  ASSERT_FALSE(python.empty()) << "no python3 on PATH";
  EXPECT_TRUE(ProbeWithTheStandInDriver("0", SandboxMode::kAuto, python));
}

}  // namespace
}  // namespace tritonize

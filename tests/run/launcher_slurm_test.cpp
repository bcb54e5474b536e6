// The Slurm launcher for real, on the one-node cluster scripts/slurm-loopback.sh starts on
// loopback (scripts/test.sh does, and exports SLURM_CONF): a worker step through srun, a whole
// job's steps through the launcher seam (the candidate's sandbox applied on the node by
// `tritonize sandbox-run`), a step cancelled at its timeout and by its caller. Without the
// cluster (or TRITONIZE_PYTHON) they are skipped, visibly.
#include "run/launcher_slurm.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "../support/test_dir.h"
#include "core/candidates.h"
#include "core/sha256.h"
#include "core/task_suite.h"
#include "exec/worker.h"
#include "run/job.h"

namespace tritonize {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

bool HaveCluster() {
  const char* conf = std::getenv("SLURM_CONF");
  return conf != nullptr && *conf != '\0' && fs::exists(conf);
}
bool HavePython() {
  const char* p = std::getenv("TRITONIZE_PYTHON");
  return p != nullptr && *p != '\0';
}

#define REQUIRE_CLUSTER()                                                                  \
  if (!HaveCluster())                                                                      \
  GTEST_SKIP() << "no Slurm cluster (SLURM_CONF): scripts/test.sh starts one on loopback " \
                  "as root with scripts/slurm-loopback.sh"

TEST(SlurmLauncherTest, CommandCarriesFolderFilesLimitAndEnvironment) {
  SlurmOptions options;
  options.partition = "gpu";
  options.gres = "gpu:1";
  options.extra = {"--account=lab"};
  options.margin_s = 60;
  options.binary = "/bin/tritonize";
  SlurmLauncher launcher(options);
  SubprocessOptions step;
  step.argv = {"python3",   "-m",       "tritonize_worker", "--request",
               "/s/r.json", "--result", "/s/o.json"};
  step.env = {{"PYTHONPATH", "/repo/python"}, {"TRITON_INTERPRET", "1"}};
  step.cwd = "/s";
  step.stdout_path = "/s/out.log";
  step.stderr_path = "/s/err.log";
  step.timeout_s = 300;
  const std::vector<std::string> expected = {"srun",
                                             "--job-name=tritonize-x",
                                             "--nodes=1",
                                             "--ntasks=1",
                                             "--quiet",
                                             "--kill-on-bad-exit=1",
                                             "--chdir=/s",
                                             "--output=/s/out.log",
                                             "--error=/s/err.log",
                                             "--time=6",
                                             "--partition=gpu",
                                             "--gres=gpu:1",
                                             "--account=lab",
                                             "--",
                                             "env",
                                             "PYTHONPATH=/repo/python",
                                             "TRITON_INTERPRET=1",
                                             "python3",
                                             "-m",
                                             "tritonize_worker",
                                             "--request",
                                             "/s/r.json",
                                             "--result",
                                             "/s/o.json"};
  EXPECT_EQ(launcher.Command(step, "tritonize-x"), expected);
}

// The worker's reference step, exactly as a local run makes it, on a Slurm node: the request
// and result files on the shared scratch are the hand-over.
TEST(SlurmLauncherTest, RunsAWorkerStepOnANode) {
  REQUIRE_CLUSTER();
  if (!HavePython()) GTEST_SKIP() << "TRITONIZE_PYTHON not set";
  const fs::path dir = FreshTestDir("slurm");
  TaskSuite suite;
  std::vector<std::string> errors;
  ASSERT_TRUE(TaskSuite::Load(fs::path(TRITONIZE_SOURCE_DIR) / "tasks", &suite, &errors));
  const Task& task = *suite.Find("softmax");
  WorkerOptions worker;
  worker.interpret = true;
  nlohmann::json request = BuildRequest(task, BaselineImplementation(task), worker);
  request.erase("implementation");
  request["role"] = "reference";
  request["timing"] = {{"enabled", false}};
  request["files"] = {{"reference", (dir / "reference.safetensors").string()}};
  std::ofstream(dir / "request.json") << request.dump(2);

  SubprocessOptions step;
  step.argv = {std::getenv("TRITONIZE_PYTHON"),
               "-m",
               "tritonize_worker",
               "--request",
               (dir / "request.json").string(),
               "--result",
               (dir / "result.json").string()};
  step.env = {{"PYTHONPATH", std::string(TRITONIZE_SOURCE_DIR) + "/python"},
              {"TRITON_INTERPRET", "1"},
              {"TRITON_CACHE_DIR", (dir / "triton-cache").string()}};
  step.cwd = dir;
  step.stdout_path = dir / "step-stdout.log";
  step.stderr_path = dir / "step-stderr.log";
  step.timeout_s = 300;
  const SubprocessResult run =
      SlurmLauncher(SlurmOptions()).Run(step, "tritonize-test-ref", nullptr);
  std::string stderr_text, err;
  ReadFile(step.stderr_path, &stderr_text, &err);
  ASSERT_TRUE(run.started) << run.spawn_error;
  EXPECT_EQ(run.exit_code, 0) << stderr_text;
  std::string text;
  ASSERT_TRUE(ReadFile(dir / "result.json", &text, &err)) << err << stderr_text;
  EXPECT_EQ(json::parse(text)["status"], "ok") << text;
  EXPECT_TRUE(fs::exists(dir / "reference.safetensors"));
}

// A whole job through the launcher seam: the reference, candidate and compare steps each an srun
// job step, the candidate's sandbox applied on the node by `tritonize sandbox-run`.
TEST(SlurmLauncherTest, AJobsStepsRunOnTheNodeThroughTheSeam) {
  REQUIRE_CLUSTER();
  if (!HavePython()) GTEST_SKIP() << "TRITONIZE_PYTHON not set";
  const fs::path dir = FreshTestDir("slurm-job");
  TaskSuite suite;
  std::vector<std::string> errors;
  ASSERT_TRUE(TaskSuite::Load(fs::path(TRITONIZE_SOURCE_DIR) / "tasks", &suite, &errors));
  WorkerOptions options;
  options.python = std::getenv("TRITONIZE_PYTHON");
  options.package_dir = fs::path(TRITONIZE_SOURCE_DIR) / "python";
  options.scratch_dir = dir / "jobs";
  options.interpret = true;
  options.timing = false;
  options.timeout_s = 600;
  options.run_seed = 42;
  options.sandbox.cpu_s = 600;  // so that the node's layers include the rlimits
  fs::create_directories(options.scratch_dir);
  SlurmOptions slurm;
  slurm.binary = TRITONIZE_BINARY;
  SlurmStepLauncher launcher(options, slurm);
  ReferenceCache references;
  JobContext context;
  context.options = &options;
  context.candidate = &launcher;
  context.trusted = &launcher;
  context.references = &references;
  const Task& task = *suite.Find("softmax");
  const fs::path fixtures = fs::path(TRITONIZE_SOURCE_DIR) / "tests" / "fixtures" / "candidates";
  const JobResult ok =
      RunJob(task, CandidateImplementation(fixtures / "softmax_ok.py", task), context);
  EXPECT_EQ(ok.status, Status::kOk) << ok.message << "\n" << ok.detail;
  EXPECT_FALSE(ok.checks.empty());
  const std::string sandbox = ok.environment.value("sandbox", "");
  EXPECT_EQ(sandbox.rfind("slurm node: ", 0), 0u) << sandbox;
  EXPECT_NE(sandbox.find("rlimits"), std::string::npos) << sandbox;
  const JobResult wrong =
      RunJob(task, CandidateImplementation(fixtures / "softmax_wrong.py", task), context);
  EXPECT_EQ(wrong.status, Status::kWrongResult) << wrong.message;
}

TEST(SlurmLauncherTest, OverrunningStepIsCancelledOnTheNode) {
  REQUIRE_CLUSTER();
  const fs::path dir = FreshTestDir("slurm");
  SubprocessOptions step;
  step.argv = {"sleep", "600"};
  step.cwd = dir;
  step.stdout_path = dir / "out.log";
  step.stderr_path = dir / "err.log";
  step.timeout_s = 3;
  SlurmOptions options;
  options.margin_s = 60;
  const auto began = std::chrono::steady_clock::now();
  const SubprocessResult run = SlurmLauncher(options).Run(step, "tritonize-test-overrun", nullptr);
  const double took =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
  EXPECT_TRUE(run.timed_out);
  EXPECT_NE(run.exit_code, 0);
  EXPECT_LT(took, 40) << "scancel did not end the step";
}

TEST(SlurmLauncherTest, CancelTokenCancelsTheStep) {
  REQUIRE_CLUSTER();
  const fs::path dir = FreshTestDir("slurm");
  SubprocessOptions step;
  step.argv = {"sleep", "600"};
  step.cwd = dir;
  step.stdout_path = dir / "out.log";
  step.stderr_path = dir / "err.log";
  step.timeout_s = 600;
  std::atomic<bool> cancel{false};
  std::thread canceller([&] {
    std::this_thread::sleep_for(std::chrono::seconds(3));
    cancel.store(true);
  });
  const SubprocessResult run =
      SlurmLauncher(SlurmOptions()).Run(step, "tritonize-test-cancel", [&cancel] {
        return cancel.load();
      });
  canceller.join();
  EXPECT_FALSE(run.timed_out);
  EXPECT_NE(run.exit_code, 0);
}

}  // namespace
}  // namespace tritonize

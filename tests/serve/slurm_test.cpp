// `--launcher slurm` for real, on the one-node cluster scripts/slurm-loopback.sh starts on
// loopback (scripts/test.sh does, and exports SLURM_CONF): worker steps through srun, a step
// cancelled at its timeout, and `serve --launcher slurm --interpret` end to end. Without the
// cluster (or TRITONIZE_PYTHON) they are skipped, visibly.
#include "serve/slurm_launcher.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include <nlohmann/json.hpp>

#include "core/candidates.h"
#include "exec/worker.h"
#include "../support/test_dir.h"
#include "server_process.h"

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
  SlurmLauncher launcher(options);
  SubprocessOptions step;
  step.argv = {"python3", "-m", "tritonize_worker", "--request", "/s/r.json", "--result", "/s/o.json"};
  step.env = {{"PYTHONPATH", "/repo/python"}, {"TRITON_INTERPRET", "1"}};
  step.cwd = "/s";
  step.stdout_path = "/s/out.log";
  step.stderr_path = "/s/err.log";
  step.timeout_s = 300;
  const std::vector<std::string> expected = {
      "srun", "--job-name=tritonize-x", "--nodes=1", "--ntasks=1", "--quiet",
      "--kill-on-bad-exit=1", "--chdir=/s", "--output=/s/out.log", "--error=/s/err.log",
      "--time=6", "--partition=gpu", "--gres=gpu:1", "--account=lab", "--",
      "env", "PYTHONPATH=/repo/python", "TRITON_INTERPRET=1",
      "python3", "-m", "tritonize_worker", "--request", "/s/r.json", "--result", "/s/o.json"};
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
  step.argv = {std::getenv("TRITONIZE_PYTHON"), "-m", "tritonize_worker", "--request",
               (dir / "request.json").string(), "--result", (dir / "result.json").string()};
  step.env = {{"PYTHONPATH", std::string(TRITONIZE_SOURCE_DIR) + "/python"},
              {"TRITON_INTERPRET", "1"},
              {"TRITON_CACHE_DIR", (dir / "triton-cache").string()}};
  step.cwd = dir;
  step.stdout_path = dir / "step-stdout.log";
  step.stderr_path = dir / "step-stderr.log";
  step.timeout_s = 300;
  const SubprocessResult run = SlurmLauncher(SlurmOptions()).Run(step, "tritonize-test-ref", nullptr);
  std::string stderr_text, err;
  ReadFile(step.stderr_path, &stderr_text, &err);
  ASSERT_TRUE(run.started) << run.spawn_error;
  EXPECT_EQ(run.exit_code, 0) << stderr_text;
  std::string text;
  ASSERT_TRUE(ReadFile(dir / "result.json", &text, &err)) << err << stderr_text;
  EXPECT_EQ(json::parse(text)["status"], "ok") << text;
  EXPECT_TRUE(fs::exists(dir / "reference.safetensors"));
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
  const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
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
  CancelToken cancel;
  std::thread canceller([&] {
    std::this_thread::sleep_for(std::chrono::seconds(3));
    cancel.Cancel();
  });
  const SubprocessResult run = SlurmLauncher(SlurmOptions()).Run(step, "tritonize-test-cancel", &cancel);
  canceller.join();
  EXPECT_FALSE(run.timed_out);
  EXPECT_NE(run.exit_code, 0);
}

// serve with its evaluations as Slurm job steps; each step runs the worker's three steps on the
// node under the interpreter.
TEST(SlurmServeTest, EvaluationsRunAsJobSteps) {
  REQUIRE_CLUSTER();
  if (!HavePython()) GTEST_SKIP() << "TRITONIZE_PYTHON not set";
  const fs::path dir = FreshTestDir("slurm-serve");
  ServerProcess server;
  ASSERT_TRUE(server.Start(dir, {"--interpret", "--launcher", "slurm", "--lanes", "2", "--run-seed",
                                 "42", "--python", std::getenv("TRITONIZE_PYTHON")}))
      << server.Log();
  auto client = server.Client();
  std::string ok, wrong, err;
  const fs::path fixtures = fs::path(TRITONIZE_SOURCE_DIR) / "tests" / "fixtures" / "candidates";
  ASSERT_TRUE(ReadFile(fixtures / "softmax_ok.py", &ok, &err));
  ASSERT_TRUE(ReadFile(fixtures / "softmax_wrong.py", &wrong, &err));
  const json body = {{"evaluations", {{{"task", "softmax"}, {"code", ok}}, {{"task", "softmax"}, {"code", wrong}}}}};
  auto r = client.Post("/v1/evaluations", body.dump(), "application/json");
  ASSERT_TRUE(r && r->status == 202) << (r ? r->body : "no answer");
  const json items = json::parse(r->body)["evaluations"];
  std::vector<std::string> statuses;
  for (const auto& item : items) {
    json final;
    for (int i = 0; i < 1500; ++i) {
      auto poll = client.Get(("/v1/evaluations/" + std::to_string(item["id"].get<int64_t>())).c_str());
      if (poll && poll->status == 200) {
        final = json::parse(poll->body);
        if (final["status"] == "done") break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    ASSERT_EQ(final["status"], "done") << final.dump(2) << server.Log();
    statuses.push_back(final["verdict"]["status"]);
    EXPECT_FALSE(final["verdict"]["checks"].empty()) << final.dump(2);
  }
  EXPECT_EQ(statuses, (std::vector<std::string>{"ok", "wrong_result"}));
  auto health = client.Get("/v1/health");
  ASSERT_TRUE(health);
  EXPECT_EQ(json::parse(health->body)["workers"]["launcher"], "slurm");
}

}  // namespace
}  // namespace tritonize

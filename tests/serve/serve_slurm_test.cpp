// serve --launcher slurm for real, on the loopback cluster (tests/run/launcher_slurm_test.cpp
// says how it is started): each step of each evaluation an srun job step on the node (the
// candidate under sandbox-run). Skipped, visibly, without the cluster or TRITONIZE_PYTHON.
#include <gtest/gtest.h>

#include <cstdlib>
#include <nlohmann/json.hpp>

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

// serve with its evaluations as Slurm job steps; each step runs the worker's three steps on the
// node under the interpreter.
TEST(SlurmServeTest, EvaluationsRunAsJobSteps) {
  if (!HaveCluster()) GTEST_SKIP() << "no Slurm cluster (SLURM_CONF): scripts/slurm-loopback.sh";
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
  const json body = {
      {"evaluations",
       {{{"task", "softmax"}, {"code", ok}}, {{"task", "softmax"}, {"code", wrong}}}}};
  auto r = client.Post("/v1/evaluations", body.dump(), "application/json");
  ASSERT_TRUE(r && r->status == 202) << (r ? r->body : "no answer");
  const json items = json::parse(r->body)["evaluations"];
  std::vector<std::string> statuses;
  for (const auto& item : items) {
    json final;
    for (int i = 0; i < 1500; ++i) {
      auto poll =
          client.Get(("/v1/evaluations/" + std::to_string(item["id"].get<int64_t>())).c_str());
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

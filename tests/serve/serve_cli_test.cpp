// `tritonize serve --interpret` end to end: the real binary, the real worker on the CPU under
// the Triton interpreter, a real SQLite store; kill -9 and restart. Needs TRITONIZE_PYTHON
// (scripts/test.sh sets it); skipped, visibly, without it.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cstdlib>
#include <nlohmann/json.hpp>
#include <set>

#include "../support/run_binary.h"
#include "../support/test_dir.h"
#include "server_process.h"

namespace tritonize {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

constexpr const char* kToken = "serve-test-secret-7f3a9c1d2e4b5a6f";

bool HavePython() {
  const char* p = std::getenv("TRITONIZE_PYTHON");
  return p != nullptr && *p != '\0';
}

#define REQUIRE_PYTHON() \
  if (!HavePython()) GTEST_SKIP() << "TRITONIZE_PYTHON not set: needs torch+triton"

std::string Fixture(const std::string& name) {
  std::string text, err;
  ReadFile(fs::path(TRITONIZE_SOURCE_DIR) / "tests" / "fixtures" / "candidates" / name, &text, &err);
  return text;
}

json Submit(httplib::Client& client, const json& body, int expected = 202) {
  auto r = client.Post("/v1/evaluations", body.dump(), "application/json");
  EXPECT_TRUE(r) << httplib::to_string(r.error());
  if (!r) return {};
  EXPECT_EQ(r->status, expected) << r->body;
  return json::parse(r->body);
}

json Poll(httplib::Client& client, int64_t id) {
  auto r = client.Get(("/v1/evaluations/" + std::to_string(id)).c_str());
  if (!r || r->status != 200) return {};
  return json::parse(r->body);
}

json WaitFinal(httplib::Client& client, int64_t id, double timeout_s = 300) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
  while (std::chrono::steady_clock::now() < deadline) {
    json j = Poll(client, id);
    if (!j.is_null() && (j["status"] == "done" || j["status"] == "cancelled")) return j;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  ADD_FAILURE() << "evaluation " << id << " not finished within " << timeout_s << " s";
  return {};
}

int64_t QueryInt(const fs::path& db_path, const std::string& sql) {
  sqlite3* db = nullptr;
  sqlite3_open(db_path.c_str(), &db);
  sqlite3_stmt* stmt = nullptr;
  sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr);
  int64_t n = -1;
  if (sqlite3_step(stmt) == SQLITE_ROW) n = sqlite3_column_int64(stmt, 0);
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return n;
}

class ServeCliTest : public testing::Test {
 protected:
  void SetUp() override { dir_ = FreshTestDir("serve"); }
  void TearDown() override { server_.Kill(SIGKILL); }

  void Start(std::vector<std::string> args = {}) {
    std::ofstream(dir_ / "token") << kToken << "\n";
    std::vector<std::string> all = {"--interpret", "--token-file", (dir_ / "token").string(),
                                    "--run-seed", "42"};
    all.insert(all.end(), args.begin(), args.end());
    ASSERT_TRUE(server_.Start(dir_, all)) << server_.Log();
  }
  httplib::Client Client() { return server_.Client(kToken); }

  fs::path dir_;
  ServerProcess server_;
};

TEST_F(ServeCliTest, UsageErrors) {
  BinaryOutput o = RunTritonize(dir_, {"serve", "--host", "0.0.0.0", "--port", "0"}, {}, 60);
  EXPECT_EQ(o.code, 2);
  EXPECT_NE(o.err.find("needs a token"), std::string::npos) << o.err;
  o = RunTritonize(dir_, {"serve", "--launcher", "pigeon"}, {{"TRITONIZE_TOKEN", "short"}}, 60);
  EXPECT_EQ(o.code, 2);
  EXPECT_NE(o.err.find("--launcher"), std::string::npos) << o.err;
  EXPECT_NE(o.err.find("at least 16"), std::string::npos) << o.err;
  EXPECT_EQ(o.err.find("short"), o.err.find("short-")) << "the token itself is never printed";
}

// The verdict served is the object `eval --json` prints for the same file and run seed.
TEST_F(ServeCliTest, VerdictMatchesEval) {
  REQUIRE_PYTHON();
  Start();
  auto client = Client();
  const json accepted = Submit(client, {{"task", "softmax"}, {"code", Fixture("softmax_ok.py")}});
  const json served = WaitFinal(client, accepted["id"]);
  ASSERT_EQ(served["status"], "done") << served.dump(2) << server_.Log();
  const json verdict = served["verdict"];

  const fs::path file = dir_ / "softmax_ok.py";
  std::ofstream(file) << Fixture("softmax_ok.py");
  fs::create_directories(dir_ / "eval");
  const BinaryOutput eval = RunTritonize(
      dir_ / "eval", {"eval", "--task", "softmax", "--file", file.string(), "--interpret", "--json",
                    "--run-seed", "42", "--db", (dir_ / "eval.db").string()},
      {}, 600);
  ASSERT_EQ(eval.code, 0) << eval.err;
  const json expected = json::parse(eval.out);
  EXPECT_EQ(verdict["status"], "ok");
  for (const char* key : {"status", "message", "task", "content_hash", "sizes", "phase"}) {
    EXPECT_EQ(verdict[key], expected[key]) << key;
  }
  ASSERT_EQ(verdict["checks"].size(), expected["checks"].size());
  for (size_t i = 0; i < verdict["checks"].size(); ++i) {
    for (const char* key : {"size", "seed", "mode", "output", "ok", "max_abs_err", "mismatches"}) {
      EXPECT_EQ(verdict["checks"][i][key], expected["checks"][i][key]) << i << " " << key;
    }
  }
  std::set<std::string> served_keys, eval_keys;
  for (const auto& [k, v] : verdict.items()) served_keys.insert(k);
  for (const auto& [k, v] : expected.items()) eval_keys.insert(k);
  EXPECT_EQ(served_keys, eval_keys) << "the same object";
}

// A lane starts the next evaluation's candidate process while the current one runs (with a core to
// spare for it), and the next evaluation takes it: no job of a busy server waits for Python to
// start and import torch.
TEST_F(ServeCliTest, TheNextEvaluationTakesAProcessStartedBeforeItCame) {
  REQUIRE_PYTHON();
  if (sysconf(_SC_NPROCESSORS_ONLN) < 2) GTEST_SKIP() << "one core: no lane has one to spare";
  Start({"--lanes", "1"});
  auto client = Client();
  for (int i = 0; i < 2; ++i) {
    const std::string code = "# evaluation " + std::to_string(i) + "\n" + Fixture("softmax_ok.py");
    const json accepted = Submit(client, {{"task", "softmax"}, {"code", code}});
    const json served = WaitFinal(client, accepted["id"]);
    ASSERT_EQ(served["status"], "done") << served.dump(2) << server_.Log();
    EXPECT_EQ(served["verdict"]["status"], "ok") << served.dump(2);
  }
  auto r = client.Get("/v1/health");
  ASSERT_TRUE(r && r->status == 200);
  const json lane = json::parse(r->body)["workers"]["lanes"][0];
  EXPECT_EQ(lane["fresh_claims"], 1) << lane.dump();  // the first: none was ready yet
  EXPECT_EQ(lane["warm_claims"], 1) << lane.dump();
}

// A candidate that hangs and one that crashes its worker: each its verdict, and the server
// goes on to the next.
TEST_F(ServeCliTest, HangingAndCrashingCandidatesGetVerdicts) {
  REQUIRE_PYTHON();
  Start({"--import-timeout", "5", "--timeout", "60"});
  auto client = Client();
  const json batch = Submit(client, {{"evaluations",
                                      {{{"task", "softmax"}, {"code", Fixture("softmax_hang.py")}},
                                       {{"task", "softmax"}, {"code", Fixture("softmax_segfault.py")}},
                                       {{"task", "softmax"}, {"code", Fixture("softmax_wrong.py")}}}}});
  const auto& items = batch["evaluations"];
  ASSERT_EQ(items.size(), 3u);
  const json hang = WaitFinal(client, items[0]["id"]);
  const json crash = WaitFinal(client, items[1]["id"]);
  const json wrong = WaitFinal(client, items[2]["id"]);
  EXPECT_EQ(hang["verdict"]["status"], "timeout") << hang.dump(2);
  EXPECT_EQ(crash["verdict"]["status"], "crashed") << crash.dump(2);
  EXPECT_NE(crash["verdict"]["message"].get<std::string>().find("signal 11"), std::string::npos)
      << crash["verdict"]["message"];
  EXPECT_EQ(wrong["verdict"]["status"], "wrong_result");
  auto health = client.Get("/v1/health");
  ASSERT_TRUE(health);
  EXPECT_EQ(json::parse(health->body)["queue"]["done"], 3);
}

// A cancel stops the running worker: the lane is free again at once, not after the timeout.
TEST_F(ServeCliTest, CancelStopsARunningCandidate) {
  REQUIRE_PYTHON();
  Start({"--import-timeout", "300", "--timeout", "300"});
  auto client = Client();
  const int64_t id = Submit(client, {{"task", "softmax"}, {"code", Fixture("softmax_hang.py")}})["id"];
  for (int i = 0; i < 600 && Poll(client, id)["status"] == "queued"; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  std::this_thread::sleep_for(std::chrono::seconds(3));  // into the candidate step
  const auto began = std::chrono::steady_clock::now();
  auto r = client.Delete(("/v1/evaluations/" + std::to_string(id)).c_str());
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 202) << r->body;
  EXPECT_EQ(WaitFinal(client, id, 60)["status"], "cancelled");
  const double took =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
  EXPECT_LT(took, 30) << "the candidate was not stopped";
  EXPECT_EQ(QueryInt(dir_ / "results.db", "SELECT COUNT(*) FROM jobs"), 0);
}

// kill -9 of the server in the middle: after a restart every accepted evaluation finishes,
// each with exactly one stored job, and the interrupted one is run again (attempt 2).
TEST_F(ServeCliTest, KillNineThenRestartLosesNothingAndRunsNothingTwice) {
  REQUIRE_PYTHON();
  Start();
  auto client = Client();
  json list = json::array();
  for (int i = 0; i < 5; ++i) {
    list.push_back({{"task", "softmax"},
                    {"code", "# variant " + std::to_string(i) + "\n" + Fixture("softmax_wrong.py")}});
  }
  const json batch = Submit(client, {{"evaluations", list}});
  std::vector<int64_t> ids;
  for (const auto& item : batch["evaluations"]) ids.push_back(item["id"]);
  // Kill it once the first has its verdict and the next is in the lane.
  WaitFinal(client, ids[0]);
  for (int i = 0; i < 600 && Poll(client, ids[1])["status"] == "queued"; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  server_.Kill(SIGKILL);
  Start();
  auto again = Client();
  for (int64_t id : ids) {
    const json j = WaitFinal(again, id);
    EXPECT_EQ(j["status"], "done") << id;
    EXPECT_EQ(j["verdict"]["status"], "wrong_result") << j.dump(2);
  }
  EXPECT_EQ(Poll(again, ids[1])["attempts"], 2) << "the interrupted one ran again";
  const fs::path db = dir_ / "results.db";
  EXPECT_EQ(QueryInt(db, "SELECT COUNT(*) FROM evaluations"), 5);
  EXPECT_EQ(QueryInt(db, "SELECT COUNT(*) FROM jobs"), 5) << "one stored job per evaluation";
  EXPECT_EQ(QueryInt(db, "SELECT COUNT(DISTINCT job_id) FROM evaluations"), 5);
  EXPECT_NE(server_.Log().find("back from a stopped server's lanes"), std::string::npos);
}

// The token reaches no candidate's environment, no verdict, no log and no store, even when a
// candidate reads the token file and prints it into its error.
TEST_F(ServeCliTest, TokenNeverLeaks) {
  REQUIRE_PYTHON();
  std::ofstream(dir_ / "token") << kToken << "\n";
  ASSERT_TRUE(server_.Start(dir_, {"--interpret", "--lanes", "1"}, {{"TRITONIZE_TOKEN", kToken}}))
      << server_.Log();
  auto client = Client();
  // What a process of the same user sees of the server's environment (/proc/<pid>/environ):
  // at best what a candidate could read.
  std::string environ_bytes, err;
  ASSERT_TRUE(ReadFile("/proc/" + std::to_string(server_.pid()) + "/environ", &environ_bytes, &err))
      << err;
  EXPECT_EQ(environ_bytes.find("serve-test-secret"), std::string::npos);
  const std::string spy =
      "import os\n"
      "secret = open(" + json((dir_ / "token").string()).dump() + ").read().strip()\n"
      "raise ImportError('in-env=%s in-parent=False file=%s' % (\n"
      "    any('serve-test-secret' in v for v in os.environ.values()), secret))\n";
  const json accepted = Submit(client, {{"task", "softmax"}, {"code", spy}});
  const json done = WaitFinal(client, accepted["id"]);
  const std::string message = done["verdict"]["message"];
  EXPECT_NE(message.find("in-env=False in-parent=False"), std::string::npos) << message;
  EXPECT_NE(message.find("file=[redacted]"), std::string::npos) << message;
  EXPECT_EQ(done.dump().find(kToken), std::string::npos);
  EXPECT_EQ(server_.Log().find(kToken), std::string::npos);
  server_.Kill(SIGTERM);
  for (const char* name : {"results.db", "results.db-wal"}) {
    std::string bytes, read_err;
    if (!ReadFile(dir_ / name, &bytes, &read_err)) continue;
    EXPECT_EQ(bytes.find(kToken), std::string::npos) << name;
  }
}

// SIGTERM: the server stops, and what a lane was running is queued again, not lost.
TEST_F(ServeCliTest, SigtermRequeuesTheRunningEvaluation) {
  REQUIRE_PYTHON();
  Start({"--import-timeout", "300"});
  auto client = Client();
  const int64_t id = Submit(client, {{"task", "softmax"}, {"code", Fixture("softmax_hang.py")}})["id"];
  for (int i = 0; i < 600 && Poll(client, id)["status"] == "queued"; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  std::this_thread::sleep_for(std::chrono::seconds(2));  // into its worker processes
  const int status = server_.Kill(SIGTERM);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 130) << server_.Log();
  // Taken by a lane once (attempts 1), and back in the queue.
  EXPECT_EQ(QueryInt(dir_ / "results.db",
                     "SELECT COUNT(*) FROM evaluations WHERE status = 'queued' AND attempts = 1"
                     " AND id = " + std::to_string(id)),
            1)
      << server_.Log();
  EXPECT_NE(server_.Log().find("stopped by the interrupt, queued again"), std::string::npos)
      << server_.Log();
  EXPECT_EQ(QueryInt(dir_ / "results.db", "SELECT COUNT(*) FROM jobs"), 0);
}

}  // namespace
}  // namespace tritonize

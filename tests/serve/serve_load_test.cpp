// The load test at reduced scale (docs/serve.md; scripts/serve_load.py runs the full one):
// 200 submissions from 16 concurrent clients on loopback against `serve --interpret` with the
// real worker, a kill -9 of the server in the middle and a restart. Every submission is
// answered, none is lost, none is run twice. Clients retry a refused or dropped request with
// the same body, which the server answers idempotently (same content, same evaluation). The
// 200 are 25 distinct candidates, each sent 8 times by different clients: a worker process
// costs seconds here (it imports torch), and the load is on the service, which must map every
// equal submission to one evaluation run once.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <cstdlib>
#include <map>
#include <mutex>
#include <set>

#include <nlohmann/json.hpp>

#include "../support/test_dir.h"
#include "server_process.h"

namespace tritonize {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

constexpr int kClients = 16;
constexpr int kSubmissions = 200;
constexpr int kDistinct = 25;

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

TEST(ServeLoadTest, SixteenClientsTwoHundredSubmissionsAndAKillNine) {
  const char* python = std::getenv("TRITONIZE_PYTHON");
  if (python == nullptr || *python == '\0') GTEST_SKIP() << "TRITONIZE_PYTHON not set";
  const fs::path dir = FreshTestDir("load");
  const std::vector<std::string> args = {"--interpret", "--lanes", "2", "--rate", "0",
                                         "--run-seed", "42"};
  // The port changes with the restart; clients read it from here.
  std::atomic<int> port{0};
  ServerProcess server;
  ASSERT_TRUE(server.Start(dir, args)) << server.Log();
  port.store(server.port());

  // Each submission is a candidate of its own that fails fast (a syntax error): the load is on
  // the service, and every verdict is still the worker's.
  std::mutex mutex;
  std::map<int, int64_t> ids;  // submission -> evaluation id
  std::atomic<int> submitted{0}, retries{0};
  const auto submit_all = [&](int client) {
    for (int i = client; i < kSubmissions; i += kClients) {
      const json body = {{"task", "softmax"},
                         {"code", "# candidate " + std::to_string(i % kDistinct) + "\ndef softmax(x)\n"}};
      for (int attempt = 0;; ++attempt) {
        httplib::Client http("127.0.0.1", port.load());
        http.set_connection_timeout(2, 0);
        http.set_read_timeout(30, 0);
        auto r = http.Post("/v1/evaluations", body.dump(), "application/json");
        if (r && (r->status == 202 || r->status == 200)) {
          std::lock_guard<std::mutex> lock(mutex);
          ids[i] = json::parse(r->body)["id"];
          break;
        }
        ++retries;
        ASSERT_LT(attempt, 600) << "submission " << i << " never accepted";
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
      ++submitted;
    }
  };
  const auto began = std::chrono::steady_clock::now();
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) clients.emplace_back(submit_all, c);
  // kill -9 once about half are in, then restart on a new port.
  while (submitted.load() < kSubmissions / 2) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  server.Kill(SIGKILL);
  ServerProcess restarted;
  ASSERT_TRUE(restarted.Start(dir, args)) << restarted.Log();
  port.store(restarted.port());
  for (auto& c : clients) c.join();
  ASSERT_EQ(ids.size(), static_cast<size_t>(kSubmissions));
  // Equal submissions, one evaluation; different ones, different evaluations.
  std::map<int, int64_t> by_candidate;
  std::set<int64_t> distinct;
  for (const auto& [i, id] : ids) {
    const auto [it, inserted] = by_candidate.emplace(i % kDistinct, id);
    EXPECT_EQ(it->second, id) << "submission " << i << " got another evaluation than its equals";
    distinct.insert(id);
  }
  EXPECT_EQ(distinct.size(), static_cast<size_t>(kDistinct));

  // Every one answered: poll in batches until all are done.
  auto http = restarted.Client();
  std::map<int64_t, std::string> verdicts;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(15);
  while (verdicts.size() < distinct.size() && std::chrono::steady_clock::now() < deadline) {
    std::string query;
    for (int64_t id : distinct) {
      if (verdicts.count(id)) continue;
      if (!query.empty()) query += ",";
      query += std::to_string(id);
      if (query.size() > 1000) break;
    }
    auto r = http.Get(("/v1/evaluations?ids=" + query).c_str());
    ASSERT_TRUE(r && r->status == 200) << (r ? r->body : httplib::to_string(r.error()));
    const json answer = json::parse(r->body);  // kept: a loop over a temporary's member dangles
    for (const auto& e : answer["evaluations"]) {
      if (e["status"] == "done") verdicts[e["id"]] = e["verdict"]["status"];
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
  ASSERT_EQ(verdicts.size(), distinct.size()) << restarted.Log();
  for (const auto& [id, status] : verdicts) EXPECT_EQ(status, "syntax_error") << id;
  const fs::path db = dir / "results.db";
  EXPECT_EQ(QueryInt(db, "SELECT COUNT(*) FROM evaluations"), kDistinct);
  EXPECT_EQ(QueryInt(db, "SELECT COUNT(*) FROM jobs"), kDistinct) << "a job stored twice";
  EXPECT_EQ(QueryInt(db, "SELECT COUNT(DISTINCT job_id) FROM evaluations"), kDistinct);
  std::cerr << "load: " << kSubmissions << " submissions (" << kDistinct << " distinct) from "
            << kClients << " clients, "
            << retries.load() << " retried requests (the kill -9), all answered in " << seconds
            << " s\n";
}

}  // namespace
}  // namespace tritonize

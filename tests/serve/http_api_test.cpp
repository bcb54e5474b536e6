// The API over a real HTTP server on loopback, with a fake evaluator behind the real service
// and the real queue (a SQLite file): status codes, limits, hostile bodies.
#include "serve/http_api.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <thread>

#include "../support/test_dir.h"
#include "fake_evaluator.h"

namespace tritonize {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

constexpr const char* kToken = "test-token-0123456789abcdef";

class HttpApiTest : public testing::Test {
 protected:
  void SetUp() override { dir_ = FreshTestDir("http"); }
  void TearDown() override { StopServer(); }

  void StartServer(int lanes = 1, HttpApiOptions api = {}, ServiceOptions service = {}) {
    std::vector<std::string> errors;
    ASSERT_TRUE(TaskSuite::Load(fs::path(TRITONIZE_SOURCE_DIR) / "tasks", &suite_, &errors));
    std::string err;
    queue_ = EvaluationQueue::Open(dir_ / "results.db", &err);
    ASSERT_NE(queue_, nullptr) << err;
    evaluator_ = std::make_unique<FakeEvaluator>(lanes);
    service_ = std::make_unique<EvaluationService>(queue_.get(), evaluator_.get(), &suite_, service);
    if (!api.token.enabled()) api.token = BearerToken::FromValue(kToken);
    api_ = std::make_unique<HttpApi>(service_.get(), api, [] { return json{{"query", "test"}}; });
    ASSERT_TRUE(api_->Bind("127.0.0.1", 0, &err)) << err;
    std::string summary;
    ASSERT_TRUE(service_->Start(&summary, &err)) << err;
    thread_ = std::thread([this] { api_->Serve(); });
    client_ = std::make_unique<httplib::Client>("127.0.0.1", api_->port());
    client_->set_bearer_token_auth(kToken);
    client_->set_read_timeout(30, 0);
    for (int i = 0; i < 500 && !Get("/v1/health"); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  void StopServer() {
    if (evaluator_) evaluator_->Release();
    if (api_) api_->Stop();
    if (thread_.joinable()) thread_.join();
    if (service_) service_->Stop();
  }
  httplib::Result Post(const std::string& body) {
    return client_->Post("/v1/evaluations", body, "application/json");
  }
  httplib::Result Get(const std::string& path) { return client_->Get(path.c_str()); }
  static json Body(const httplib::Result& r) { return json::parse(r->body); }

  /// Polls until the evaluation leaves the queue and its lane.
  json WaitDone(int64_t id) {
    for (int i = 0; i < 1000; ++i) {
      auto r = Get("/v1/evaluations/" + std::to_string(id));
      if (r && r->status == 200) {
        json j = Body(r);
        if (j["status"] == "done" || j["status"] == "cancelled") return j;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ADD_FAILURE() << "evaluation " << id << " never finished";
    return {};
  }

  fs::path dir_;
  TaskSuite suite_;
  std::unique_ptr<EvaluationQueue> queue_;
  std::unique_ptr<FakeEvaluator> evaluator_;
  std::unique_ptr<EvaluationService> service_;
  std::unique_ptr<HttpApi> api_;
  std::thread thread_;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(HttpApiTest, SubmitPollAndGetTheVerdict) {
  StartServer();
  auto r = Post(R"({"task": "softmax", "code": "ok candidate"})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 202) << r->body;
  const json accepted = Body(r);
  EXPECT_EQ(accepted["status"], "queued");
  EXPECT_TRUE(accepted.contains("position"));
  const json done = WaitDone(accepted["id"]);
  EXPECT_EQ(done["status"], "done");
  EXPECT_EQ(done["verdict"]["status"], "ok");
  EXPECT_EQ(done["verdict"]["task"], "softmax");
  EXPECT_TRUE(done["verdict"].contains("sizes")) << "the object eval --json prints";
  EXPECT_EQ(done["attempts"], 1);
  // The same submission again: its stored verdict, no new run.
  auto again = Post(R"({"task": "softmax", "code": "ok candidate"})");
  EXPECT_EQ(again->status, 200);
  EXPECT_EQ(Body(again)["id"], accepted["id"]);
  EXPECT_TRUE(Body(again)["existing"].get<bool>());
  EXPECT_EQ(evaluator_->started_.load(), 1);
  // force: run again.
  auto forced = Post(R"({"task": "softmax", "code": "ok candidate", "force": true})");
  EXPECT_EQ(forced->status, 202);
  EXPECT_NE(Body(forced)["id"], accepted["id"]);
}

TEST_F(HttpApiTest, BatchSubmissionAndBatchPolling) {
  StartServer(/*lanes=*/2);
  auto r = Post(R"({"evaluations": [{"task": "softmax", "code": "ok 1"},
                                   {"task": "matmul", "code": "wrong 2"},
                                   {"task": "softmax", "code": "ok 1"}]})");
  ASSERT_EQ(r->status, 202) << r->body;
  const json items = Body(r)["evaluations"];
  ASSERT_EQ(items.size(), 3u);
  EXPECT_EQ(items[2]["id"], items[0]["id"]) << "an equal submission within the batch";
  for (const auto& item : items) WaitDone(item["id"]);
  auto polled = Get("/v1/evaluations?ids=" + std::to_string(items[0]["id"].get<int64_t>()) + "," +
                    std::to_string(items[1]["id"].get<int64_t>()) + ",999");
  ASSERT_EQ(polled->status, 200) << polled->body;
  const json list = Body(polled)["evaluations"];
  ASSERT_EQ(list.size(), 3u);
  EXPECT_EQ(list[0]["verdict"]["status"], "ok");
  EXPECT_EQ(list[1]["verdict"]["status"], "wrong_result");
  EXPECT_TRUE(list[2]["status"].is_null());
  EXPECT_EQ(Get("/v1/evaluations?ids=1,x")->status, 400);
  EXPECT_EQ(Get("/v1/evaluations")->status, 400);
}

TEST_F(HttpApiTest, HostileBodiesGetTheirStatusAndTheServerKeepsServing) {
  HttpApiOptions api;
  api.max_body_bytes = 1 << 20;
  StartServer(1, api);
  struct Case {
    std::string body;
    int status;
    std::string field;
  };
  const std::vector<Case> cases = {
      {"{\"task\": \"softmax\", \"code\": ", 400, ""},
      {"not json at all", 400, ""},
      {"\"a string\"", 400, ""},
      {R"({"task": ["softmax"], "code": "x"})", 400, "task"},
      {R"({"task": "softmax", "code": 42})", 400, "code"},
      {R"({"task": "no_such_task", "code": "x"})", 400, "task"},
      {R"({"task": "softmax", "code": "x", "options": {"repeat": "many"}})", 400, "options.repeat"},
      {std::string("{\"task\": \"softmax\", \"code\": \"\xff\xfe\"}"), 400, ""},
  };
  for (const Case& c : cases) {
    auto r = Post(c.body);
    ASSERT_TRUE(r) << c.body;
    EXPECT_EQ(r->status, c.status) << c.body << " -> " << r->body;
    const json error = Body(r)["error"];
    EXPECT_EQ(error["field"], c.field) << r->body;
    EXPECT_FALSE(error["message"].get<std::string>().empty());
  }
  // 100 MB: refused with 413, and the next request is served.
  const std::string huge(100u << 20, 'x');
  auto r = Post(huge);
  ASSERT_TRUE(r) << "no answer to a 100 MB body: " << httplib::to_string(r.error());
  EXPECT_EQ(r->status, 413) << r->body;
  EXPECT_EQ(Get("/v1/evaluations/1")->status, 404);
  EXPECT_EQ(Get("/v1/no/such/path")->status, 404);
  auto ok = Post(R"({"task": "softmax", "code": "ok"})");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 202);
  EXPECT_EQ(WaitDone(Body(ok)["id"])["verdict"]["status"], "ok");
}

TEST_F(HttpApiTest, TokenIsRequiredEverywhere) {
  StartServer();
  httplib::Client anonymous("127.0.0.1", api_->port());
  for (const char* path : {"/v1/health", "/v1/tasks", "/v1/evaluations/1"}) {
    auto r = anonymous.Get(path);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 401) << path;
    EXPECT_EQ(r->get_header_value("WWW-Authenticate"), "Bearer");
  }
  auto post = anonymous.Post("/v1/evaluations", R"({"task": "softmax", "code": "ok"})",
                             "application/json");
  EXPECT_EQ(post->status, 401);
  httplib::Client wrong("127.0.0.1", api_->port());
  wrong.set_bearer_token_auth("test-token-0123456789abcdeX");
  EXPECT_EQ(wrong.Get("/v1/health")->status, 401);
  EXPECT_EQ(wrong.Delete("/v1/evaluations/1")->status, 401);
  QueueCounts counts;
  std::string err;
  ASSERT_TRUE(queue_->Counts(&counts, &err));
  EXPECT_EQ(counts.queued + counts.running + counts.done, 0) << "nothing got in";
}

TEST_F(HttpApiTest, RateLimitAnswers429WithRetryAfter) {
  HttpApiOptions api;
  api.rate_per_second = 1;
  api.rate_burst = 3;
  StartServer(1, api);  // StartServer's health probe took one
  int limited = 0;
  std::string retry_after;
  for (int i = 0; i < 5; ++i) {
    auto r = Get("/v1/tasks");
    ASSERT_TRUE(r);
    if (r->status == 429) {
      ++limited;
      retry_after = r->get_header_value("Retry-After");
    } else {
      EXPECT_EQ(r->status, 200);
    }
  }
  EXPECT_GE(limited, 2);
  EXPECT_EQ(retry_after, "1");
}

TEST_F(HttpApiTest, FullQueueAnswers503AndKeepsNothingOfTheBatch) {
  ServiceOptions service;
  service.max_queued = 2;
  StartServer(1, {}, service);
  // The one lane is held by a blocking candidate, so the queue fills.
  ASSERT_EQ(Post(R"({"task": "softmax", "code": "block 0"})")->status, 202);
  while (evaluator_->blocked() == 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ASSERT_EQ(Post(R"({"task": "softmax", "code": "ok 1"})")->status, 202);
  auto r = Post(R"({"evaluations": [{"task": "softmax", "code": "ok 2"},
                                   {"task": "softmax", "code": "ok 3"}]})");
  EXPECT_EQ(r->status, 503) << r->body;
  EXPECT_EQ(r->get_header_value("Retry-After"), "5");
  EXPECT_EQ(Post(R"({"task": "softmax", "code": "ok 2"})")->status, 202);
  EXPECT_EQ(Post(R"({"task": "softmax", "code": "ok 3"})")->status, 503);
}

TEST_F(HttpApiTest, CancelQueuedAndRunningEvaluations) {
  StartServer();
  const int64_t running = Body(Post(R"({"task": "softmax", "code": "block a"})"))["id"];
  while (evaluator_->blocked() == 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  const int64_t queued = Body(Post(R"({"task": "softmax", "code": "ok b"})"))["id"];
  auto cancel_queued = client_->Delete(("/v1/evaluations/" + std::to_string(queued)).c_str());
  EXPECT_EQ(cancel_queued->status, 200) << cancel_queued->body;
  EXPECT_EQ(Body(cancel_queued)["status"], "cancelled");
  auto cancel_running = client_->Delete(("/v1/evaluations/" + std::to_string(running)).c_str());
  EXPECT_EQ(cancel_running->status, 202) << cancel_running->body;
  EXPECT_EQ(WaitDone(running)["status"], "cancelled");
  EXPECT_EQ(WaitDone(queued)["status"], "cancelled");
  EXPECT_EQ(evaluator_->finished_.load(), 0) << "neither produced a verdict";
  EXPECT_EQ(client_->Delete("/v1/evaluations/12345")->status, 404);
  const int64_t done = Body(Post(R"({"task": "softmax", "code": "ok c"})"))["id"];
  WaitDone(done);
  EXPECT_EQ(client_->Delete(("/v1/evaluations/" + std::to_string(done)).c_str())->status, 409);
}

TEST_F(HttpApiTest, TasksAndHealth) {
  StartServer(/*lanes=*/3);
  auto tasks = Get("/v1/tasks");
  ASSERT_EQ(tasks->status, 200);
  const json list = Body(tasks)["tasks"];
  ASSERT_EQ(list.size(), suite_.tasks().size());
  json softmax, rms_norm;
  for (const json& task : list) {
    if (task["name"] == "softmax") softmax = task;
    if (task["name"] == "rms_norm") rms_norm = task;
  }
  ASSERT_TRUE(softmax.is_object()) << list.dump();
  EXPECT_EQ(softmax["entry"], "softmax");
  EXPECT_FALSE(softmax["sizes"].empty());
  EXPECT_EQ(softmax["experts"], json::array({"tutorial"}));
  EXPECT_TRUE(softmax["has_expert"]);
  ASSERT_TRUE(rms_norm.is_object()) << list.dump();
  EXPECT_EQ(rms_norm["experts"], json::array({"liger"}));
  auto health = Get("/v1/health");
  ASSERT_EQ(health->status, 200);
  const json h = Body(health);
  EXPECT_EQ(h["lanes"], 3);
  EXPECT_EQ(h["queue"]["queued"], 0);
  EXPECT_EQ(h["gpus"]["query"], "test");
  EXPECT_EQ(h["workers"]["launcher"], "fake");
}

}  // namespace
}  // namespace tritonize

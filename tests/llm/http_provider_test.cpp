// The providers and the libcurl transport against a real HTTP server on loopback.
#include <gtest/gtest.h>

#include <chrono>

#include "llm/anthropic_provider.h"
#include "llm/openai_provider.h"
#include "llm/retry.h"
#include "loopback_server.h"

namespace tritonize {
namespace {

class NoSleepClock : public Clock {
 public:
  double Now() override { return 0; }
  void Sleep(double s) override { sleeps.push_back(s); }
  std::vector<double> sleeps;
};

ScriptedReply Ok(const std::string& body) { return {200, body, {}, 0}; }

TEST(HttpProviderTest, AnthropicRoundTripPutsTheKeyInAHeaderOnly) {
  LoopbackServer server(
      [](const httplib::Request&) { return Ok(AnthropicBody("hi", "end_turn", 12, 34)); });
  auto provider = MakeAnthropicProvider(server.base());
  auto transport = MakeCurlTransport();
  GenerationParams params;
  params.temperature = 0.5;
  HttpRequest request =
      provider->BuildRequest("test-model", {{"user", "hello"}}, params, "sk-SECRET");
  Completion c = provider->ParseResponse(transport->Post(request));
  ASSERT_TRUE(c.ok) << c.error;
  EXPECT_EQ(c.text, "hi");
  EXPECT_EQ(c.tokens_in, 12);
  EXPECT_EQ(c.tokens_out, 34);
  auto body = nlohmann::json::parse(server.requests().at(0));
  EXPECT_EQ(body["model"], "test-model");
  EXPECT_EQ(body["messages"][0]["content"], "hello");
  EXPECT_EQ(body["temperature"], 0.5);
  EXPECT_EQ(server.requests()[0].find("sk-SECRET"), std::string::npos);
  bool header = false;
  for (const auto& h : server.headers_seen()) header = header || h == "x-api-key: sk-SECRET";
  EXPECT_TRUE(header);
}

TEST(HttpProviderTest, RetriesOverloaded429And500ThenSucceeds) {
  LoopbackServer server([](const httplib::Request&) { return Ok(AnthropicBody("done")); });
  server.Script({{529,
                  R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})",
                  {},
                  0},
                 {429, R"({"error":{"message":"rate limited"}})", {{"retry-after", "7"}}, 0},
                 {500, "oops", {}, 0}});
  auto provider = MakeAnthropicProvider(server.base());
  auto transport = MakeCurlTransport();
  NoSleepClock clock;
  RetryPolicy policy;
  policy.base_delay_s = 1;
  std::vector<std::string> log;
  SendOutcome out = SendWithRetry(*transport, provider->BuildRequest("m", {{"user", "x"}}, {}, "k"),
                                  policy, clock, [&](const std::string& l) { log.push_back(l); });
  EXPECT_EQ(out.attempts, 4);
  EXPECT_EQ(server.hits(), 4);
  ASSERT_EQ(clock.sleeps.size(), 3u);
  EXPECT_GE(clock.sleeps[0], 0.5);  // backoff after attempt 1: U[0.5, 1] x 1 s
  EXPECT_LE(clock.sleeps[0], 1.0);
  EXPECT_DOUBLE_EQ(clock.sleeps[1], 7.0);  // the server's retry-after
  EXPECT_GE(clock.sleeps[2], 2.0);         // attempt 3: U[0.5, 1] x 4 s
  EXPECT_LE(clock.sleeps[2], 4.0);
  EXPECT_NE(log.at(0).find("HTTP 529"), std::string::npos);
  EXPECT_TRUE(provider->ParseResponse(out.response).ok);
}

TEST(HttpProviderTest, StalledServerTimesOutWithinTheTotalTimeout) {
  LoopbackServer server([](const httplib::Request&) { return ScriptedReply{200, "{}", {}, 3.0}; });
  auto provider = MakeAnthropicProvider(server.base());
  auto transport = MakeCurlTransport();
  HttpRequest request = provider->BuildRequest("m", {{"user", "x"}}, {}, "k");
  request.total_timeout_s = 0.5;
  auto start = std::chrono::steady_clock::now();
  HttpResponse r = transport->Post(request);
  double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(r.status, 0);
  EXPECT_TRUE(r.timed_out);
  EXPECT_GE(elapsed, 0.4);
  EXPECT_LT(elapsed, 2.0);
  EXPECT_TRUE(IsRetryable(r));
}

TEST(HttpProviderTest, MalformedJsonAndRejectedModelAreOneLineErrors) {
  LoopbackServer server([](const httplib::Request&) { return Ok("{not json"); });
  server.Script({{404,
                  R"({"type":"error","error":{"type":"not_found_error","message":"model: nope"}})",
                  {},
                  0}});
  auto provider = MakeAnthropicProvider(server.base());
  auto transport = MakeCurlTransport();
  HttpRequest request = provider->BuildRequest("nope", {{"user", "x"}}, {}, "k");
  Completion rejected = provider->ParseResponse(transport->Post(request));
  EXPECT_FALSE(rejected.ok);
  EXPECT_EQ(rejected.error, "HTTP 404: model: nope");
  Completion malformed = provider->ParseResponse(transport->Post(request));
  EXPECT_FALSE(malformed.ok);
  EXPECT_NE(malformed.error.find("not JSON"), std::string::npos);
}

TEST(HttpProviderTest, OpenAiTruncationRefusalAndUsage) {
  nlohmann::json refusal = nlohmann::json::parse(OpenAiBody(""));
  refusal["choices"][0]["message"]["content"] = nullptr;
  refusal["choices"][0]["message"]["refusal"] = "I can't help with that.";
  LoopbackServer server([](const httplib::Request&) { return Ok(OpenAiBody("x")); });
  server.Script(
      {Ok(OpenAiBody("```python\nimport triton", "length", 10, 16000)), Ok(refusal.dump())});
  auto provider = MakeOpenAiProvider(server.base() + "/v1");
  auto transport = MakeCurlTransport();
  GenerationParams params;
  params.seed = 7;
  HttpRequest request = provider->BuildRequest("local", {{"user", "x"}}, params, "k");
  Completion truncated = provider->ParseResponse(transport->Post(request));
  ASSERT_TRUE(truncated.ok) << truncated.error;
  EXPECT_TRUE(truncated.truncated);
  EXPECT_EQ(truncated.tokens_out, 16000);
  Completion refused = provider->ParseResponse(transport->Post(request));
  EXPECT_TRUE(refused.refused);
  auto body = nlohmann::json::parse(server.requests().at(0));
  EXPECT_EQ(body["seed"], 7);
  EXPECT_TRUE(body.contains("max_tokens"));  // not api.openai.com: max_tokens
  bool bearer = false;
  for (const auto& h : server.headers_seen())
    bearer = bearer || h == "Authorization: Bearer k" || h == "authorization: Bearer k";
  EXPECT_TRUE(bearer);
}

TEST(HttpProviderTest, UnreachableHostIsANetworkError) {
  auto transport = MakeCurlTransport();
  HttpRequest request;
  request.url = "http://127.0.0.1:1/v1/messages";
  request.connect_timeout_s = 2;
  HttpResponse r = transport->Post(request);
  EXPECT_EQ(r.status, 0);
  EXPECT_FALSE(r.error.empty());
}

}  // namespace
}  // namespace tritonize

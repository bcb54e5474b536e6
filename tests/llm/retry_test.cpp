#include "llm/retry.h"

#include <gtest/gtest.h>

#include <deque>

namespace tritonize {
namespace {

class FakeClock : public Clock {
 public:
  double Now() override { return now_; }
  void Sleep(double s) override {
    now_ += s;
    sleeps.push_back(s);
  }
  std::vector<double> sleeps;

 private:
  double now_ = 0;
};

class FakeTransport : public HttpTransport {
 public:
  explicit FakeTransport(std::deque<HttpResponse> replies) : replies_(std::move(replies)) {}
  HttpResponse Post(const HttpRequest&) override {
    ++posts;
    HttpResponse r = replies_.front();
    if (replies_.size() > 1) replies_.pop_front();
    return r;
  }
  int posts = 0;

 private:
  std::deque<HttpResponse> replies_;
};

HttpResponse Status(int code, const std::string& retry_after = "") {
  HttpResponse r;
  r.status = code;
  if (!retry_after.empty()) r.headers["retry-after"] = retry_after;
  return r;
}

TEST(RetryTest, HonoursRetryAfterOn429) {
  FakeTransport transport({Status(429, "3"), Status(200)});
  FakeClock clock;
  SendOutcome out = SendWithRetry(transport, {}, RetryPolicy{}, clock, nullptr);
  EXPECT_EQ(out.response.status, 200);
  EXPECT_EQ(out.attempts, 2);
  ASSERT_EQ(clock.sleeps.size(), 1u);
  EXPECT_DOUBLE_EQ(clock.sleeps[0], 3.0);
}

TEST(RetryTest, BacksOffExponentiallyWithJitterWithinBounds) {
  FakeTransport transport({Status(500), Status(529), Status(0), Status(503), Status(200)});
  FakeClock clock;
  RetryPolicy policy;
  policy.base_delay_s = 1;
  policy.max_delay_s = 5;
  SendOutcome out = SendWithRetry(transport, {}, policy, clock, nullptr);
  EXPECT_EQ(out.response.status, 200);
  ASSERT_EQ(clock.sleeps.size(), 4u);
  const double ceilings[] = {1, 2, 4, 5};  // capped at max_delay_s
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_GE(clock.sleeps[i], ceilings[i] * 0.5) << i;
    EXPECT_LE(clock.sleeps[i], ceilings[i]) << i;
  }
}

TEST(RetryTest, GivesUpAfterMaxAttempts) {
  FakeTransport transport({Status(529)});
  FakeClock clock;
  RetryPolicy policy;
  policy.max_attempts = 3;
  SendOutcome out = SendWithRetry(transport, {}, policy, clock, nullptr);
  EXPECT_EQ(out.response.status, 529);
  EXPECT_EQ(transport.posts, 3);
  EXPECT_EQ(clock.sleeps.size(), 2u);
}

TEST(RetryTest, DoesNotRetryClientErrors) {
  FakeTransport transport({Status(400), Status(200)});
  FakeClock clock;
  SendOutcome out = SendWithRetry(transport, {}, RetryPolicy{}, clock, nullptr);
  EXPECT_EQ(out.response.status, 400);
  EXPECT_EQ(transport.posts, 1);
}

}  // namespace
}  // namespace tritonize

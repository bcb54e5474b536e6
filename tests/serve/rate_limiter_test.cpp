#include "serve/rate_limiter.h"

#include <gtest/gtest.h>

namespace tritonize {
namespace {

using Clock = RateLimiter::Clock;
using std::chrono::milliseconds;

TEST(RateLimiterTest, BurstThenRefusedWithRetryAfter) {
  RateLimiter limiter(/*per_second=*/2, /*burst=*/3);
  const Clock::time_point t0{};
  int retry = 0;
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(limiter.Allow("a", t0, &retry)) << i;
  EXPECT_FALSE(limiter.Allow("a", t0, &retry));
  EXPECT_EQ(retry, 1);  // half a second, in whole seconds
  EXPECT_TRUE(limiter.Allow("b", t0, &retry)) << "clients have their own buckets";
  EXPECT_TRUE(limiter.Allow("a", t0 + milliseconds(500), &retry));
  EXPECT_FALSE(limiter.Allow("a", t0 + milliseconds(500), &retry));
}

TEST(RateLimiterTest, SlowRateGivesLongerRetryAfter) {
  RateLimiter limiter(/*per_second=*/0.1, /*burst=*/1);
  const Clock::time_point t0{};
  int retry = 0;
  EXPECT_TRUE(limiter.Allow("a", t0, &retry));
  EXPECT_FALSE(limiter.Allow("a", t0, &retry));
  EXPECT_EQ(retry, 10);
}

TEST(RateLimiterTest, ZeroRateMeansNoLimit) {
  RateLimiter limiter(0, 1);
  int retry = 0;
  for (int i = 0; i < 1000; ++i) EXPECT_TRUE(limiter.Allow("a", Clock::time_point{}, &retry));
}

TEST(RateLimiterTest, MemoryStaysBoundedByDroppingIdleClients) {
  RateLimiter limiter(/*per_second=*/100, /*burst=*/1, /*max_clients=*/10);
  int retry = 0;
  Clock::time_point t{};
  for (int i = 0; i < 1000; ++i) {
    t += milliseconds(100);  // each earlier client's bucket has refilled: idle
    EXPECT_TRUE(limiter.Allow("client-" + std::to_string(i), t, &retry));
  }
  EXPECT_LE(limiter.clients(), 10u);
}

}  // namespace
}  // namespace tritonize

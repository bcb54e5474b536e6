#include "serve/redact.h"

#include <gtest/gtest.h>

namespace tritonize {
namespace {

TEST(RedactTest, EveryStringLosesTheSecret) {
  const std::string secret = "tok-0123456789abcdef";
  JobResult result;
  result.message = "ImportError: " + secret;
  result.detail = secret + secret;
  result.environment = {{"list", {secret, 1}}, {secret, "key too"}};
  Timing timing;
  timing.kernels[secret] = 1;
  result.timings.push_back(timing);
  RedactSecret(secret, &result);
  EXPECT_EQ(result.message, "ImportError: [redacted]");
  EXPECT_EQ(result.detail, "[redacted][redacted]");
  EXPECT_EQ(result.environment.dump().find(secret), std::string::npos) << result.environment;
  EXPECT_EQ(result.timings[0].kernels.count("[redacted]"), 1u);
  nlohmann::json j = {{"a", {{"b", "x" + secret}}}};
  RedactSecret(secret, &j);
  EXPECT_EQ(j["a"]["b"], "x[redacted]");
}

TEST(RedactTest, EmptySecretChangesNothing) {
  std::string text = "abc";
  RedactSecret("", &text);
  EXPECT_EQ(text, "abc");
}

}  // namespace
}  // namespace tritonize

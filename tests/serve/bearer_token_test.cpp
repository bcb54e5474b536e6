#include "serve/bearer_token.h"

#include <gtest/gtest.h>

#include <fstream>

#include "../support/test_dir.h"

namespace tritonize {
namespace {

constexpr const char* kToken = "s3cret-token-0123456789abcdef";

TEST(BearerTokenTest, AcceptsOnlyTheToken) {
  const BearerToken token = BearerToken::FromValue(kToken);
  EXPECT_TRUE(token.enabled());
  EXPECT_TRUE(token.Accepts(std::string("Bearer ") + kToken));
  EXPECT_FALSE(token.Accepts(""));
  EXPECT_FALSE(token.Accepts(kToken)) << "the scheme is required";
  EXPECT_FALSE(token.Accepts(std::string("Bearer ") + kToken + "x"));
  EXPECT_FALSE(token.Accepts("Bearer s3cret-token-0123456789abcdeF"));
  EXPECT_FALSE(token.Accepts("Basic abc"));
}

TEST(BearerTokenTest, NoTokenLetsEveryoneIn) {
  BearerToken token;
  std::string value, err;
  ASSERT_TRUE(BearerToken::Load("", "", &token, &value, &err)) << err;
  EXPECT_FALSE(token.enabled());
  EXPECT_TRUE(token.Accepts(""));
}

TEST(BearerTokenTest, FileWinsOverEnvironmentAndIsTrimmed) {
  const auto dir = FreshTestDir("token");
  std::ofstream(dir / "token") << "  " << kToken << "\n";
  BearerToken token;
  std::string value, err;
  ASSERT_TRUE(BearerToken::Load((dir / "token").string(), "other-token-0123456789", &token, &value,
                                &err))
      << err;
  EXPECT_EQ(value, kToken);
  EXPECT_TRUE(token.Accepts(std::string("Bearer ") + kToken));
}

TEST(BearerTokenTest, BadTokensAreRefusedWithoutShowingThem) {
  const auto dir = FreshTestDir("token");
  BearerToken token;
  std::string value, err;
  EXPECT_FALSE(BearerToken::Load("", "short-tok", &token, &value, &err));
  EXPECT_NE(err.find("at least 16"), std::string::npos) << err;
  EXPECT_EQ(err.find("short-tok"), std::string::npos) << "the token is never shown: " << err;
  EXPECT_FALSE(BearerToken::Load("", "has a space inside it !!", &token, &value, &err));
  std::ofstream(dir / "empty") << "\n";
  EXPECT_FALSE(BearerToken::Load((dir / "empty").string(), "", &token, &value, &err));
  EXPECT_FALSE(BearerToken::Load((dir / "missing").string(), "", &token, &value, &err));
  EXPECT_NE(err.find("--token-file"), std::string::npos) << err;
}

TEST(BearerTokenTest, ConstantTimeEqualsIsEquality) {
  EXPECT_TRUE(ConstantTimeEquals("abc", "abc"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abd"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "ab"));
  EXPECT_TRUE(ConstantTimeEquals("", ""));
}

}  // namespace
}  // namespace tritonize

#include "serve/bearer_token.h"

#include <cctype>

#include "core/sha256.h"

namespace tritonize {
namespace {

constexpr size_t kMinTokenLength = 16;

std::string Trim(const std::string& text) {
  const auto begin = text.find_first_not_of(" \t\r\n");
  if (begin == std::string::npos) return {};
  const auto end = text.find_last_not_of(" \t\r\n");
  return text.substr(begin, end - begin + 1);
}

}  // namespace

bool ConstantTimeEquals(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return false;
  unsigned char difference = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    difference = static_cast<unsigned char>(difference | (a[i] ^ b[i]));
  }
  return difference == 0;
}

BearerToken BearerToken::FromValue(const std::string& value) {
  BearerToken token;
  if (!value.empty()) token.digest_ = Sha256Hex(value);
  return token;
}

bool BearerToken::Load(const std::string& file, const std::string& env_value, BearerToken* token,
                       std::string* token_value, std::string* err) {
  std::string value;
  std::string where;
  if (!file.empty()) {
    std::string read_err;
    if (!ReadFile(file, &value, &read_err)) {
      *err = "--token-file: " + read_err;
      return false;
    }
    value = Trim(value);
    where = "--token-file " + file;
  } else {
    value = Trim(env_value);
    where = "TRITONIZE_TOKEN";
  }
  if (value.empty()) {
    if (!file.empty()) {
      *err = where + ": the file is empty";
      return false;
    }
    *token = BearerToken();
    token_value->clear();
    return true;
  }
  // Never the token itself in a message: only what is wrong with it.
  if (value.size() < kMinTokenLength) {
    *err = where + ": the token is " + std::to_string(value.size()) +
           " characters; use at least 16 (e.g. `openssl rand -hex 32`)";
    return false;
  }
  for (unsigned char c : value) {
    if (std::isspace(c) || std::iscntrl(c)) {
      *err = where + ": the token holds whitespace or control characters";
      return false;
    }
  }
  *token = FromValue(value);
  *token_value = value;
  return true;
}

bool BearerToken::Accepts(const std::string& authorization) const {
  if (!enabled()) return true;
  static const std::string kScheme = "Bearer ";
  // The scheme is not secret; what follows it is compared by digest, in constant time.
  const std::string presented =
      authorization.size() > kScheme.size() && authorization.compare(0, kScheme.size(), kScheme) == 0
          ? authorization.substr(kScheme.size())
          : std::string();
  return ConstantTimeEquals(Sha256Hex(presented), digest_);
}

}  // namespace tritonize

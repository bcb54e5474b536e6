#pragma once

#include <string>

namespace tritonize {

/// The API's bearer token. Only its SHA-256 is kept in memory, and a presented token is
/// compared by hashing it and comparing the digests in constant time, so neither the token's
/// length nor any prefix of it can be learned from response times.
class BearerToken {
 public:
  /// The token from `file` (surrounding whitespace trimmed), else from `env_value`; none when
  /// both are empty (then every request is let in). *value gets the token itself (for the
  /// redaction of verdicts; never to be printed). False with *err when the file cannot be read,
  /// or the token is shorter than 16 characters or holds whitespace or control bytes.
  static bool Load(const std::string& file, const std::string& env_value, BearerToken* token,
                   std::string* value, std::string* err);
  static BearerToken FromValue(const std::string& value);

  bool enabled() const { return !digest_.empty(); }
  /// Whether an `Authorization` header value ("Bearer <token>") carries the token.
  bool Accepts(const std::string& authorization) const;

 private:
  std::string digest_;  // hex SHA-256 of the token; empty: no token
};

/// Constant-time equality of two strings of the same length (false when lengths differ).
bool ConstantTimeEquals(const std::string& a, const std::string& b);

}  // namespace tritonize

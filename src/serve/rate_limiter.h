#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <mutex>
#include <string>

namespace tritonize {

/// Per-client token buckets: each client may make `burst` requests at once and `per_second`
/// on average. Memory is bounded: past `max_clients` the full (idle) buckets are dropped.
class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;

  /// per_second <= 0: no limit.
  RateLimiter(double per_second, double burst, size_t max_clients = 10000)
      : per_second_(per_second), burst_(burst < 1 ? 1 : burst), max_clients_(max_clients) {}

  /// Takes one request from `client`'s bucket at time `now`: true when it may proceed; else
  /// false with *retry_after_s the whole seconds (>= 1) until it may.
  bool Allow(const std::string& client, Clock::time_point now, int* retry_after_s);
  size_t clients() const;

 private:
  struct Bucket {
    double tokens = 0;
    Clock::time_point last;
  };
  void Refill(Bucket* bucket, Clock::time_point now) const;

  double per_second_;
  double burst_;
  size_t max_clients_;
  mutable std::mutex mutex_;
  std::map<std::string, Bucket> buckets_;
};

}  // namespace tritonize

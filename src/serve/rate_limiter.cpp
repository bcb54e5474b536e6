#include "serve/rate_limiter.h"

#include <algorithm>
#include <cmath>

namespace tritonize {

void RateLimiter::Refill(Bucket* bucket, Clock::time_point now) const {
  const double elapsed = std::chrono::duration<double>(now - bucket->last).count();
  if (elapsed > 0) {
    bucket->tokens = std::min(burst_, bucket->tokens + elapsed * per_second_);
    bucket->last = now;
  }
}

bool RateLimiter::Allow(const std::string& client, Clock::time_point now, int* retry_after_s) {
  if (per_second_ <= 0) return true;
  std::lock_guard<std::mutex> lock(mutex_);
  auto found = buckets_.find(client);
  if (found == buckets_.end()) {
    if (buckets_.size() >= max_clients_) {
      // A full bucket holds nothing a new one would not: dropping it changes no answer.
      for (auto it = buckets_.begin(); it != buckets_.end();) {
        Refill(&it->second, now);
        it = it->second.tokens >= burst_ ? buckets_.erase(it) : std::next(it);
      }
    }
    found = buckets_.emplace(client, Bucket{burst_, now}).first;
  }
  Bucket& bucket = found->second;
  Refill(&bucket, now);
  if (bucket.tokens >= 1) {
    bucket.tokens -= 1;
    return true;
  }
  *retry_after_s = std::max(1, static_cast<int>(std::ceil((1 - bucket.tokens) / per_second_)));
  return false;
}

size_t RateLimiter::clients() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return buckets_.size();
}

}  // namespace tritonize

#pragma once

#include <functional>
#include <string>
#include <vector>

#include "llm/clock.h"
#include "llm/http_transport.h"

namespace tritonize {

/// Exponential backoff with jitter: attempt a (1-based) waits
/// min(max_delay_s, base_delay_s * 2^(a-1)) * U[0.5, 1], or the server's retry-after
/// (seconds) when it sends one, capped at max_retry_after_s.
struct RetryPolicy {
  int max_attempts = 5;
  double base_delay_s = 2;
  double max_delay_s = 60;
  double max_retry_after_s = 300;
};

/// 429, 5xx (Anthropic's 529 "overloaded" included) and network errors (status 0).
bool IsRetryable(const HttpResponse& response);

/// The wait before the next attempt after `attempt` failed; jitter01 in [0, 1].
double RetryDelay(const HttpResponse& response, int attempt, const RetryPolicy& policy,
                  double jitter01);

struct SendOutcome {
  HttpResponse response;  // the last one
  int attempts = 0;
  std::vector<double> waits;  // seconds slept between attempts
};

/// Posts, retrying retryable failures. `log` gets one line per retry (no key, no body).
SendOutcome SendWithRetry(HttpTransport& transport, const HttpRequest& request,
                          const RetryPolicy& policy, Clock& clock,
                          const std::function<void(const std::string&)>& log);

}  // namespace tritonize

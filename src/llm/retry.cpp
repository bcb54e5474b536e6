#include "llm/retry.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <random>

namespace tritonize {

bool IsRetryable(const HttpResponse& response) {
  return response.status == 0 || response.status == 429 || response.status >= 500;
}

double RetryDelay(const HttpResponse& response, int attempt, const RetryPolicy& policy,
                  double jitter01) {
  auto it = response.headers.find("retry-after");
  if (it != response.headers.end()) {
    char* end = nullptr;
    double seconds = std::strtod(it->second.c_str(), &end);
    // An HTTP-date retry-after is not parsed: the backoff below applies instead.
    if (end != it->second.c_str() && *end == '\0' && seconds >= 0) {
      return std::min(seconds, policy.max_retry_after_s);
    }
  }
  double ceiling = std::min(policy.max_delay_s, policy.base_delay_s * std::pow(2.0, attempt - 1));
  return ceiling * (0.5 + 0.5 * std::clamp(jitter01, 0.0, 1.0));
}

SendOutcome SendWithRetry(HttpTransport& transport, const HttpRequest& request,
                          const RetryPolicy& policy, Clock& clock,
                          const std::function<void(const std::string&)>& log) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  SendOutcome outcome;
  for (int attempt = 1;; ++attempt) {
    outcome.response = transport.Post(request);
    outcome.attempts = attempt;
    if (!IsRetryable(outcome.response) || attempt >= policy.max_attempts) return outcome;
    double wait = RetryDelay(outcome.response, attempt, policy, unit(rng));
    if (log) {
      std::string why = outcome.response.status == 0
                            ? outcome.response.error
                            : fmt::format("HTTP {}", outcome.response.status);
      log(fmt::format("{}; retry {} of {} in {:.1f} s", why, attempt, policy.max_attempts - 1,
                      wait));
    }
    outcome.waits.push_back(wait);
    clock.Sleep(wait);
  }
}

}  // namespace tritonize

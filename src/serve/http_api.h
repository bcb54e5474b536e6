#pragma once

#include <functional>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "serve/bearer_token.h"
#include "serve/evaluation_request.h"
#include "serve/evaluation_service.h"
#include "serve/rate_limiter.h"

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace tritonize {

struct HttpApiOptions {
  BearerToken token;                     // none: every request is let in
  size_t max_body_bytes = 16u << 20;     // larger bodies get 413
  double rate_per_second = 50;           // per client address; <= 0: no limit (429 beyond)
  double rate_burst = 100;
  SubmissionLimits limits;
  int threads = 16;                      // connections served at once
  int queue_full_retry_after_s = 5;      // Retry-After of a 503 (queue full)
  bool log_requests = false;             // every request to stderr, not only changes and errors
};

/// The JSON HTTP API of `tritonize serve` (docs/serve.md, docs/serve.openapi.yaml) over
/// cpp-httplib: authentication, limits and routing; the work is the service's.
class HttpApi {
 public:
  /// `gpu_status` fills GET /v1/health's `gpus` (clocks where known).
  HttpApi(EvaluationService* service, HttpApiOptions options,
          std::function<nlohmann::json()> gpu_status);
  ~HttpApi();
  HttpApi(const HttpApi&) = delete;
  HttpApi& operator=(const HttpApi&) = delete;

  /// Binds host:port (0: a free port, see port()); false with *err.
  bool Bind(const std::string& host, int port, std::string* err);
  int port() const { return port_; }
  /// Serves until Stop; false when the server could not run.
  bool Serve();
  void Stop();

 private:
  void Routes();
  /// The token and the rate limit: false with the refusal written to `res`.
  bool Admit(const httplib::Request& req, httplib::Response& res);

  EvaluationService* service_;
  HttpApiOptions options_;
  std::function<nlohmann::json()> gpu_status_;
  RateLimiter limiter_;
  std::unique_ptr<httplib::Server> server_;
  int port_ = 0;
};

/// GET /v1/evaluations/{id}'s object for one evaluation.
nlohmann::json EvaluationJson(const EvaluationRecord& record);

}  // namespace tritonize

#pragma once

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace tritonize {

struct HttpRequest {
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;  // may carry the API key
  std::string body;
  double connect_timeout_s = 10;
  double total_timeout_s = 600;
};

struct HttpResponse {
  int status = 0;  // 0: no HTTP response (connection refused, DNS, timeout)
  std::string body;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string error;                           // transport error when status == 0
  bool timed_out = false;
  double latency_s = 0;
};

/// One HTTP POST. Implementations never throw; every failure is a response with status 0.
class HttpTransport {
 public:
  virtual ~HttpTransport() = default;
  virtual HttpResponse Post(const HttpRequest& request) = 0;
};

/// libcurl: HTTPS, the proxy variables (http_proxy, https_proxy, no_proxy) honoured as
/// libcurl does by default, connect and total timeouts. Safe to use from several threads.
std::unique_ptr<HttpTransport> MakeCurlTransport();

}  // namespace tritonize

#include "llm/http_error.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

namespace tritonize {

std::string HttpErrorLine(const HttpResponse& response) {
  if (response.status == 0) {
    return response.timed_out ? "timed out: " + response.error : "no response: " + response.error;
  }
  std::string detail;
  auto j = nlohmann::json::parse(response.body, nullptr, false);
  if (!j.is_discarded() && j.is_object() && j.contains("error")) {
    const auto& e = j["error"];
    if (e.is_object() && e.contains("message") && e["message"].is_string()) {
      detail = e["message"].get<std::string>();
    } else if (e.is_string()) {
      detail = e.get<std::string>();
    }
  }
  if (detail.empty()) detail = response.body.substr(0, 200);
  for (char& c : detail) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return fmt::format("HTTP {}: {}", response.status, detail);
}

}  // namespace tritonize

#include "llm/anthropic_provider.h"

#include "llm/http_error.h"

namespace tritonize {
namespace {

class AnthropicProvider : public Provider {
 public:
  explicit AnthropicProvider(std::string base) : base_(std::move(base)) {}
  std::string name() const override { return "anthropic"; }

  HttpRequest BuildRequest(const std::string& model, const std::vector<Message>& messages,
                           const GenerationParams& params,
                           const std::string& api_key) const override {
    nlohmann::json body = {{"model", model}, {"max_tokens", params.max_tokens}};
    body["messages"] = nlohmann::json::array();
    for (const auto& m : messages)
      body["messages"].push_back({{"role", m.role}, {"content", m.content}});
    if (params.temperature) body["temperature"] = *params.temperature;
    HttpRequest request;
    request.url = base_ + "/v1/messages";
    request.headers = {{"content-type", "application/json"},
                       {"anthropic-version", "2023-06-01"},
                       {"x-api-key", api_key}};
    request.body = body.dump();
    return request;
  }

  Completion ParseResponse(const HttpResponse& response) const override {
    if (response.status != 200) {
      Completion c;
      c.error = HttpErrorLine(response);
      return c;
    }
    auto j = nlohmann::json::parse(response.body, nullptr, false);
    if (j.is_discarded()) {
      Completion c;
      c.error = "HTTP 200 but the body is not JSON: " + response.body.substr(0, 120);
      return c;
    }
    return ParseBody(j);
  }

  Completion ParseBody(const nlohmann::json& j) const override {
    Completion c;
    if (!j.is_object() || !j.contains("content") || !j["content"].is_array()) {
      c.error = "the response has no content array (not a Messages API response)";
      return c;
    }
    for (const auto& block : j["content"]) {
      if (block.value("type", "") == "text" && block.contains("text") &&
          block["text"].is_string()) {
        c.text += block["text"].get<std::string>();
      }
    }
    c.stop_reason = j.value("stop_reason", "");
    if (j.contains("usage") && j["usage"].is_object()) {
      c.tokens_in = j["usage"].value("input_tokens", -1LL);
      c.tokens_out = j["usage"].value("output_tokens", -1LL);
    }
    c.truncated = c.stop_reason == "max_tokens";
    c.refused = c.stop_reason == "refusal";
    c.ok = true;
    return c;
  }

 private:
  std::string base_;
};

std::string TrimSlash(std::string s) {
  while (!s.empty() && s.back() == '/') s.pop_back();
  return s;
}

}  // namespace

std::unique_ptr<Provider> MakeAnthropicProvider(const std::string& base_url) {
  return std::make_unique<AnthropicProvider>(
      TrimSlash(base_url.empty() ? "https://api.anthropic.com" : base_url));
}

}  // namespace tritonize

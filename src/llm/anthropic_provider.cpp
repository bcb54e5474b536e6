#include "llm/anthropic_provider.h"

namespace tritonize {
namespace {

class AnthropicProvider : public Provider {
 public:
  explicit AnthropicProvider(std::string base) : base_(std::move(base)) {}
  std::string name() const override { return "anthropic"; }

  HttpRequest BuildRequest(const std::string& model, const std::vector<Message>& messages,
                           const GenerationParams& params,
                           const std::string& api_key) const override {
    nlohmann::json body = {
        {"model", model}, {"max_tokens", params.max_tokens}, {"messages", MessagesJson(messages)}};
    if (params.temperature) body["temperature"] = *params.temperature;
    return JsonPost(base_ + "/v1/messages",
                    {{"anthropic-version", "2023-06-01"}, {"x-api-key", api_key}}, body);
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

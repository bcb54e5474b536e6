#include "llm/openai_provider.h"

namespace tritonize {
namespace {

class OpenAiProvider : public Provider {
 public:
  explicit OpenAiProvider(std::string base) : base_(std::move(base)) {}
  std::string name() const override { return "openai"; }

  HttpRequest BuildRequest(const std::string& model, const std::vector<Message>& messages,
                           const GenerationParams& params,
                           const std::string& api_key) const override {
    nlohmann::json body = {{"model", model}, {"messages", MessagesJson(messages)}};
    // OpenAI's own API wants max_completion_tokens (reasoning models reject max_tokens);
    // vLLM, llama.cpp and Ollama read max_tokens.
    bool official = base_.find("api.openai.com") != std::string::npos;
    body[official ? "max_completion_tokens" : "max_tokens"] = params.max_tokens;
    if (params.temperature) body["temperature"] = *params.temperature;
    if (params.seed) body["seed"] = *params.seed;
    return JsonPost(base_ + "/chat/completions", {{"authorization", "Bearer " + api_key}}, body);
  }

  Completion ParseBody(const nlohmann::json& j) const override {
    Completion c;
    if (!j.is_object() || !j.contains("choices") || !j["choices"].is_array() ||
        j["choices"].empty()) {
      c.error = "the response has no choices (not a chat-completions response)";
      return c;
    }
    const auto& choice = j["choices"][0];
    if (choice.contains("message") && choice["message"].is_object()) {
      const auto& m = choice["message"];
      if (m.contains("content") && m["content"].is_string())
        c.text = m["content"].get<std::string>();
      if (m.contains("refusal") && m["refusal"].is_string() &&
          !m["refusal"].get<std::string>().empty()) {
        c.refused = true;
        if (c.text.empty()) c.text = m["refusal"].get<std::string>();
      }
    }
    if (choice.contains("finish_reason") && choice["finish_reason"].is_string()) {
      c.stop_reason = choice["finish_reason"].get<std::string>();
    }
    if (j.contains("usage") && j["usage"].is_object()) {
      c.tokens_in = j["usage"].value("prompt_tokens", -1LL);
      c.tokens_out = j["usage"].value("completion_tokens", -1LL);
    }
    c.truncated = c.stop_reason == "length";
    c.refused = c.refused || c.stop_reason == "content_filter";
    c.ok = true;
    return c;
  }

 private:
  std::string base_;
};

}  // namespace

std::unique_ptr<Provider> MakeOpenAiProvider(const std::string& base_url) {
  std::string base = base_url.empty() ? "https://api.openai.com/v1" : base_url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  return std::make_unique<OpenAiProvider>(base);
}

}  // namespace tritonize

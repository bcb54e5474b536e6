#include "llm/provider.h"

#include <fmt/format.h>

#include <utility>

#include "llm/anthropic_provider.h"
#include "llm/http_error.h"
#include "llm/openai_provider.h"

namespace tritonize {

bool ParseModelSpec(const std::string& text, ModelSpec* spec, std::string* err) {
  auto colon = text.find(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size()) {
    *err = fmt::format(
        "--model {}: expected PROVIDER:MODEL, e.g. anthropic:claude-sonnet-4-5, "
        "openai:gpt-5 or replay:NAME",
        text);
    return false;
  }
  spec->provider = text.substr(0, colon);
  spec->model = text.substr(colon + 1);
  if (spec->provider != "anthropic" && spec->provider != "openai" && spec->provider != "replay") {
    *err = fmt::format(
        "--model {}: unknown provider \"{}\" (known: anthropic, openai, replay; "
        "any OpenAI-compatible server is openai with --base-url)",
        text, spec->provider);
    return false;
  }
  return true;
}

std::string DefaultModelId(const ModelSpec& spec) {
  std::string id = spec.provider == "replay" ? spec.model : spec.provider + "-" + spec.model;
  for (char& c : id) {
    bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '.' || c == '_' || c == '-';
    if (!keep) c = '-';
  }
  return id;
}

nlohmann::json GenerationParams::ToJson() const {
  nlohmann::json j = {{"max_tokens", max_tokens}};
  j["temperature"] = temperature ? nlohmann::json(*temperature) : nlohmann::json(nullptr);
  j["seed"] = seed ? nlohmann::json(*seed) : nlohmann::json(nullptr);
  return j;
}

Completion Provider::ParseResponse(const HttpResponse& response) const {
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

nlohmann::json Provider::MessagesJson(const std::vector<Message>& messages) {
  nlohmann::json array = nlohmann::json::array();
  for (const auto& m : messages) array.push_back({{"role", m.role}, {"content", m.content}});
  return array;
}

HttpRequest Provider::JsonPost(std::string url,
                               std::vector<std::pair<std::string, std::string>> headers,
                               const nlohmann::json& body) {
  headers.insert(headers.begin(), {"content-type", "application/json"});
  HttpRequest request;
  request.url = std::move(url);
  request.headers = std::move(headers);
  request.body = body.dump();
  return request;
}

std::unique_ptr<Provider> MakeProvider(const std::string& provider, const std::string& base_url,
                                       std::string* err) {
  if (provider == "anthropic") return MakeAnthropicProvider(base_url);
  if (provider == "openai") return MakeOpenAiProvider(base_url);
  *err = fmt::format("no HTTP provider \"{}\"", provider);
  return nullptr;
}

std::string DefaultKeyVariable(const std::string& provider) {
  if (provider == "anthropic") return "ANTHROPIC_API_KEY";
  if (provider == "openai") return "OPENAI_API_KEY";
  return "";
}

std::string Redact(std::string text, const std::string& key) {
  if (key.empty()) return text;
  for (auto pos = text.find(key); pos != std::string::npos; pos = text.find(key, pos)) {
    text.replace(pos, key.size(), "[redacted]");
  }
  return text;
}

}  // namespace tritonize

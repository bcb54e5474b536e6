#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "llm/http_transport.h"

namespace tritonize {

/// `--model PROVIDER:MODEL`: anthropic, openai (any chat-completions server) or replay.
struct ModelSpec {
  std::string provider;
  std::string model;
};

bool ParseModelSpec(const std::string& text, ModelSpec* spec, std::string* err);

/// The folder name under llm_triton/ for a model: "<provider>-<model>" with characters
/// other than [A-Za-z0-9._-] replaced by '-'; a replay keeps its NAME.
std::string DefaultModelId(const ModelSpec& spec);

struct Message {
  std::string role;  // user | assistant
  std::string content;
};

struct GenerationParams {
  std::optional<double> temperature;
  std::optional<long long> seed;  // sent where the API has one (OpenAI-compatible)
  int max_tokens = 16000;
  nlohmann::json ToJson() const;
};

/// What came back from one request, success or not.
struct Completion {
  bool ok = false;  // a well-formed model answer (possibly truncated or refused)
  std::string text;
  long long tokens_in = -1;  // -1: not reported
  long long tokens_out = -1;
  std::string stop_reason;  // as the API says it: end_turn, max_tokens, stop, length, ...
  bool truncated = false;   // max_tokens / length reached
  bool refused = false;     // refusal stop reason, content filter or refusal field
  std::string error;        // one line when !ok (HTTP status and the API's message)
};

/// One wire format. The key is only ever put into request headers.
class Provider {
 public:
  virtual ~Provider() = default;
  virtual std::string name() const = 0;
  virtual HttpRequest BuildRequest(const std::string& model, const std::vector<Message>& messages,
                                   const GenerationParams& params,
                                   const std::string& api_key) const = 0;
  /// A failed request (HttpErrorLine) or a body that is not JSON is an error; else ParseBody.
  Completion ParseResponse(const HttpResponse& response) const;
  /// Parses a response body (also used for recorded responses and batch results).
  virtual Completion ParseBody(const nlohmann::json& body) const = 0;

 protected:
  /// The conversation as both wire formats send it: [{role, content}, ...].
  static nlohmann::json MessagesJson(const std::vector<Message>& messages);
  /// A POST of body as JSON to url, with headers after the content type.
  static HttpRequest JsonPost(std::string url,
                              std::vector<std::pair<std::string, std::string>> headers,
                              const nlohmann::json& body);
};

/// anthropic (Messages API) or openai (chat completions); nullptr with *err otherwise.
/// An empty base_url takes the provider's public endpoint.
std::unique_ptr<Provider> MakeProvider(const std::string& provider, const std::string& base_url,
                                       std::string* err);

/// The environment variable holding the provider's key.
std::string DefaultKeyVariable(const std::string& provider);

/// Replaces every occurrence of the key in text; for echoing responses into errors.
std::string Redact(std::string text, const std::string& key);

}  // namespace tritonize

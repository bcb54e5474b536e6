#pragma once

#include <memory>
#include <string>

#include "llm/provider.h"

namespace tritonize {

/// OpenAI-compatible chat completions: POST {base}/chat/completions with a bearer key. Serves
/// OpenAI, vLLM, SGLang, llama.cpp's server, Ollama and gateways (base e.g. http://host:8000/v1).
std::unique_ptr<Provider> MakeOpenAiProvider(const std::string& base_url);

}  // namespace tritonize

#pragma once

#include <memory>
#include <string>

#include "llm/provider.h"

namespace tritonize {

/// The Anthropic Messages API: POST {base}/v1/messages, x-api-key, anthropic-version.
std::unique_ptr<Provider> MakeAnthropicProvider(const std::string& base_url);

}  // namespace tritonize

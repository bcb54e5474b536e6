#pragma once

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "llm/provider.h"

namespace tritonize {

/// Recorded responses for `--model replay:NAME --responses DIR` (docs/generate.md):
///  - <task>-s<k>-t<turn>.md    the answer's text (sample k from 0, turn from 1)
///  - <task>-s<k>-t<turn>.json  a Messages API or chat-completions response body
///  - *.jsonl                   batch results: Anthropic Message Batches
///                              ({"custom_id", "result": {"type": "succeeded", "message"}}) or
///                              OpenAI Batch ({"custom_id", "response": {"status_code", "body"}}),
///                              custom_id = <task>-s<k>-t<turn>
///  - <task>.response.md        the shipped llm_triton/ layout: sample 0, turn 1; a
///                              <task>.meta.json beside it is kept as the sample's provenance
class ReplaySource {
 public:
  static bool Load(const std::filesystem::path& dir, ReplaySource* out, std::string* err);

  static std::string RequestName(const std::string& task, int sample, int turn);

  /// The recorded answer; false when there is none for this request.
  bool Find(const std::string& task, int sample, int turn, Completion* completion, std::string* raw,
            std::string* origin) const;

  /// The provenance record for a task's sample 0 (the shipped layout's meta), or null.
  nlohmann::json Provenance(const std::string& task) const;

  const std::filesystem::path& dir() const { return dir_; }

 private:
  struct Recorded {
    Completion completion;
    std::string raw;
    std::string origin;  // file (and line) it came from
  };
  std::filesystem::path dir_;
  std::map<std::string, Recorded> recorded_;  // by request name
  std::map<std::string, nlohmann::json> provenance_;
};

}  // namespace tritonize

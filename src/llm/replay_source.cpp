#include "llm/replay_source.h"

#include <fmt/format.h>

#include <fstream>
#include <regex>

#include "core/sha256.h"
#include "llm/anthropic_provider.h"
#include "llm/openai_provider.h"

namespace tritonize {

namespace fs = std::filesystem;

namespace {

/// A response body in either wire format, told apart by its shape.
bool ParseAnyBody(const nlohmann::json& body, Completion* c, std::string* err) {
  if (body.is_object() && body.contains("content")) {
    *c = MakeAnthropicProvider("")->ParseBody(body);
  } else if (body.is_object() && body.contains("choices")) {
    *c = MakeOpenAiProvider("")->ParseBody(body);
  } else {
    *err = "neither a Messages API body (content) nor a chat-completions body (choices)";
    return false;
  }
  if (!c->ok) *err = c->error;
  return c->ok;
}

}  // namespace

std::string ReplaySource::RequestName(const std::string& task, int sample, int turn) {
  return fmt::format("{}-s{}-t{}", task, sample, turn);
}

bool ReplaySource::Load(const fs::path& dir, ReplaySource* out, std::string* err) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    *err = fmt::format("--responses {}: no such directory", dir.string());
    return false;
  }
  out->dir_ = dir;
  const std::regex single(R"((.+-s\d+-t\d+)\.(md|json))");
  const std::regex legacy(R"((.+)\.response\.md)");
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (!entry.is_regular_file()) continue;
    std::string name = entry.path().filename().string();
    std::smatch m;
    std::string text;
    if (std::regex_match(name, m, single) || std::regex_match(name, m, legacy)) {
      if (!ReadFile(entry.path(), &text, err)) return false;
      std::string key = m.size() == 3 ? m[1].str() : RequestName(m[1].str(), 0, 1);
      Recorded r;
      r.raw = text;
      r.origin = entry.path().string();
      if (name.ends_with(".json")) {
        auto body = nlohmann::json::parse(text, nullptr, false);
        std::string why;
        if (body.is_discarded() || !ParseAnyBody(body, &r.completion, &why)) {
          *err = fmt::format("{}: {}", r.origin, body.is_discarded() ? "not JSON" : why);
          return false;
        }
      } else {
        r.completion.ok = true;
        r.completion.text = text;
      }
      out->recorded_[key] = r;
      if (m.size() == 2) {
        std::string meta_text, ignored;
        if (ReadFile(dir / (m[1].str() + ".meta.json"), &meta_text, &ignored)) {
          auto meta = nlohmann::json::parse(meta_text, nullptr, false);
          if (!meta.is_discarded()) out->provenance_[m[1].str()] = meta;
        }
      }
    } else if (name.ends_with(".jsonl")) {
      std::ifstream in(entry.path());
      std::string line;
      for (int number = 1; std::getline(in, line); ++number) {
        if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
        std::string where = fmt::format("{}:{}", entry.path().string(), number);
        auto j = nlohmann::json::parse(line, nullptr, false);
        if (j.is_discarded() || !j.contains("custom_id") || !j["custom_id"].is_string()) {
          *err = where + ": not a batch result line (JSON with custom_id)";
          return false;
        }
        nlohmann::json body;
        if (j.contains("result")) {  // Anthropic Message Batches
          if (j["result"].value("type", "") != "succeeded")
            continue;  // errored/expired: not answered
          body = j["result"].value("message", nlohmann::json());
        } else if (j.contains("response") && j["response"].is_object()) {  // OpenAI Batch
          if (j["response"].value("status_code", 0) != 200) continue;
          body = j["response"].value("body", nlohmann::json());
        } else {
          continue;  // an OpenAI error line: {"custom_id", "error"}
        }
        Recorded r;
        r.raw = body.dump();
        r.origin = where;
        std::string why;
        if (!ParseAnyBody(body, &r.completion, &why)) {
          *err = where + ": " + why;
          return false;
        }
        out->recorded_[j["custom_id"].get<std::string>()] = r;
      }
    }
  }
  if (out->recorded_.empty()) {
    *err = fmt::format(
        "--responses {}: no recorded responses (<task>-s<k>-t<turn>.md/.json, "
        "<task>.response.md or batch *.jsonl)",
        dir.string());
    return false;
  }
  return true;
}

bool ReplaySource::Find(const std::string& task, int sample, int turn, Completion* completion,
                        std::string* raw, std::string* origin) const {
  auto it = recorded_.find(RequestName(task, sample, turn));
  if (it == recorded_.end()) return false;
  *completion = it->second.completion;
  *raw = it->second.raw;
  *origin = it->second.origin;
  return true;
}

nlohmann::json ReplaySource::Provenance(const std::string& task) const {
  auto it = provenance_.find(task);
  return it == provenance_.end() ? nlohmann::json() : it->second;
}

}  // namespace tritonize

#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>

struct sqlite3;

namespace tritonize {

/// One model request and what came back. Never holds an API key: the request is stored as its
/// messages and parameters, the response as the body the server sent.
struct GenerationRecord {
  int64_t id = 0;
  std::string cache_key;  // sha256 of provider, model, messages, parameters, sample index
  std::string provider;
  std::string model;
  std::string base_url;
  std::string model_id;
  std::string task;
  int sample = 0;
  int turn = 1;
  std::string prompt_template;
  std::string prompt_sha256;
  nlohmann::json params = nlohmann::json::object();
  nlohmann::json messages = nlohmann::json::array();
  std::string raw_response;  // the HTTP body or recorded file
  std::string text;          // the answer's text
  std::string stop_reason;
  long long tokens_in = -1;
  long long tokens_out = -1;
  double cost_usd = -1;  // -1: unknown
  double latency_s = 0;
  int attempts = 0;
  std::string status;  // ok | no_code | refused | truncated
  std::string message;
  std::string created_at;
};

/// The generation tables in the results database. Only answered requests are stored: a
/// request that failed costs nothing and is asked again next run.
class GenerationStore {
 public:
  static std::unique_ptr<GenerationStore> Open(const std::filesystem::path& path, std::string* err);
  ~GenerationStore();
  GenerationStore(const GenerationStore&) = delete;
  GenerationStore& operator=(const GenerationStore&) = delete;

  /// Looks a request up by cache key: true with *record filled when it was answered before.
  bool Find(const std::string& cache_key, GenerationRecord* record, std::string* err);
  /// Stores an answered request (replacing one with the same key); sets record->id.
  bool Insert(GenerationRecord* record, std::string* err);

 private:
  GenerationStore(std::filesystem::path path, sqlite3* db) : path_(std::move(path)), db_(db) {}
  std::string Error(const std::string& what) const;

  std::filesystem::path path_;
  sqlite3* db_;
  std::mutex mutex_;  // one connection shared by the generate threads
};

}  // namespace tritonize

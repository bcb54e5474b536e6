#include "store/generation_store.h"

#include <fmt/format.h>
#include <sqlite3.h>

#include "store/schema.h"
#include "store/statement.h"

namespace tritonize {

std::string GenerationStore::Error(const std::string& what) const {
  return fmt::format("{}: {}: {}", path_.string(), what, sqlite3_errmsg(db_));
}

std::unique_ptr<GenerationStore> GenerationStore::Open(const std::filesystem::path& path,
                                                       std::string* err) {
  std::error_code ec;
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path(), ec);
  sqlite3* db = nullptr;
  if (sqlite3_open(path.string().c_str(), &db) != SQLITE_OK) {
    *err = fmt::format("{}: cannot open: {}", path.string(),
                       db ? sqlite3_errmsg(db) : "out of memory");
    sqlite3_close(db);
    return nullptr;
  }
  sqlite3_busy_timeout(db, 10000);
  std::unique_ptr<GenerationStore> store(new GenerationStore(path, db));
  // The generation tables are versioned with the rest of the file (store/schema.h).
  if (!MigrateSchema(db, path, err)) return nullptr;
  return store;
}

GenerationStore::~GenerationStore() { sqlite3_close(db_); }

bool GenerationStore::Find(const std::string& cache_key, GenerationRecord* r, std::string* err) {
  std::lock_guard<std::mutex> lock(mutex_);
  Statement s(db_,
              "SELECT id, provider, model, base_url, model_id, task, sample, turn, prompt_template,"
              " prompt_sha256, params, messages, raw_response, text, stop_reason, tokens_in,"
              " tokens_out, cost_usd, latency_s, attempts, status, message, created_at"
              " FROM generations WHERE cache_key = ?");
  s.Bind(1, cache_key);
  int rc = s.Step();
  if (rc == SQLITE_DONE) return false;
  if (rc != SQLITE_ROW) {
    *err = Error("cannot read the generation cache");
    return false;
  }
  r->id = s.Int(0);
  r->cache_key = cache_key;
  r->provider = s.Text(1);
  r->model = s.Text(2);
  r->base_url = s.Text(3);
  r->model_id = s.Text(4);
  r->task = s.Text(5);
  r->sample = static_cast<int>(s.Int(6));
  r->turn = static_cast<int>(s.Int(7));
  r->prompt_template = s.Text(8);
  r->prompt_sha256 = s.Text(9);
  r->params = nlohmann::json::parse(s.Text(10), nullptr, false);
  r->messages = nlohmann::json::parse(s.Text(11), nullptr, false);
  r->raw_response = s.Text(12);
  r->text = s.Text(13);
  r->stop_reason = s.Text(14);
  r->tokens_in = s.Text(15).empty() ? -1 : s.Int(15);
  r->tokens_out = s.Text(16).empty() ? -1 : s.Int(16);
  r->cost_usd = s.Text(17).empty() ? -1 : s.Double(17);
  r->latency_s = s.Double(18);
  r->attempts = static_cast<int>(s.Int(19));
  r->status = s.Text(20);
  r->message = s.Text(21);
  r->created_at = s.Text(22);
  return true;
}

bool GenerationStore::Insert(GenerationRecord* r, std::string* err) {
  std::lock_guard<std::mutex> lock(mutex_);
  Statement s(db_,
              "INSERT OR REPLACE INTO generations (cache_key, provider, model, base_url, model_id,"
              " task, sample, turn, prompt_template, prompt_sha256, params, messages,"
              " raw_response, text, stop_reason, tokens_in, tokens_out, cost_usd, latency_s,"
              " attempts, status, message, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
              " ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))");
  const double nan = std::numeric_limits<double>::quiet_NaN();
  s.Bind(1, r->cache_key)
      .Bind(2, r->provider)
      .Bind(3, r->model)
      .Bind(4, r->base_url)
      .Bind(5, r->model_id)
      .Bind(6, r->task)
      .Bind(7, int64_t{r->sample})
      .Bind(8, int64_t{r->turn})
      .Bind(9, r->prompt_template)
      .Bind(10, r->prompt_sha256)
      .Bind(11, r->params.dump())
      .Bind(12, r->messages.dump())
      .Bind(13, r->raw_response)
      .Bind(14, r->text)
      .Bind(15, r->stop_reason)
      .Bind(16, r->tokens_in < 0 ? nan : static_cast<double>(r->tokens_in))
      .Bind(17, r->tokens_out < 0 ? nan : static_cast<double>(r->tokens_out))
      .Bind(18, r->cost_usd < 0 ? nan : r->cost_usd)
      .Bind(19, r->latency_s)
      .Bind(20, int64_t{r->attempts})
      .Bind(21, r->status)
      .Bind(22, r->message);
  if (!s.Run()) {
    *err = Error("cannot store a generation");
    return false;
  }
  r->id = sqlite3_last_insert_rowid(db_);
  return true;
}

}  // namespace tritonize

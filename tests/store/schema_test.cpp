// One version scheme for the whole database file: PRAGMA user_version over one migration list,
// whichever class (Store, GenerationStore) opens the file first.
#include "store/schema.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <string>

#include "store/generation_store.h"
#include "store/store.h"
#include "../support/test_dir.h"

namespace tritonize {
namespace {

namespace fs = std::filesystem;

int64_t QueryInt(const fs::path& db_path, const std::string& sql) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open(db_path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK) << sql;
  int64_t value = -1;
  if (sqlite3_step(stmt) == SQLITE_ROW) value = sqlite3_column_int64(stmt, 0);
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return value;
}

void Exec(const fs::path& db_path, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(db_path.c_str(), &db), SQLITE_OK);
  char* message = nullptr;
  ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &message), SQLITE_OK)
      << (message ? message : "");
  sqlite3_close(db);
}

// The generation tables as the second version scheme created them (generation_schema, 1).
const char* kOldGenerationTables = R"sql(
CREATE TABLE generation_schema (version INTEGER NOT NULL);
INSERT INTO generation_schema VALUES (1);
CREATE TABLE generations (
  id INTEGER PRIMARY KEY, cache_key TEXT NOT NULL UNIQUE, provider TEXT NOT NULL,
  model TEXT NOT NULL, base_url TEXT NOT NULL, model_id TEXT NOT NULL, task TEXT NOT NULL,
  sample INTEGER NOT NULL, turn INTEGER NOT NULL, prompt_template TEXT NOT NULL,
  prompt_sha256 TEXT NOT NULL, params TEXT NOT NULL, messages TEXT NOT NULL,
  raw_response TEXT NOT NULL, text TEXT NOT NULL, stop_reason TEXT NOT NULL,
  tokens_in INTEGER, tokens_out INTEGER, cost_usd REAL, latency_s REAL,
  attempts INTEGER NOT NULL, status TEXT NOT NULL, message TEXT NOT NULL,
  created_at TEXT NOT NULL);
INSERT INTO generations VALUES (1, 'key-1', 'replay', 'm', '', 'm', 'softmax', 0, 1, 't', 'h',
  '{}', '[]', 'raw', 'text', 'end', 10, 20, NULL, 0.5, 1, 'ok', '', '2026-11-25T00:00:00Z');
)sql";

TEST(SchemaTest, GenerateFirstMakesEveryTableAtTheOneVersion) {
  const fs::path db = FreshTestDir("schema") / "results.db";
  std::string err;
  ASSERT_NE(GenerationStore::Open(db, &err), nullptr) << err;
  EXPECT_EQ(QueryInt(db, "PRAGMA user_version"), kStoreSchemaVersion);
  EXPECT_EQ(QueryInt(db, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name IN"
                         " ('runs', 'jobs', 'generations', 'evaluations')"),
            4);
  EXPECT_EQ(QueryInt(db, "SELECT COUNT(*) FROM sqlite_master WHERE name = 'generation_schema'"), 0);
  ASSERT_NE(Store::Open(db, &err), nullptr) << err;  // the other owner finds nothing to do
  EXPECT_EQ(QueryInt(db, "PRAGMA user_version"), kStoreSchemaVersion);
}

// A results store of schema 2 that `generate` had also used under the old scheme: the rows of
// both survive and the second version table goes.
TEST(SchemaTest, OldGenerationSchemeIsFoldedIntoUserVersionKeepingRows) {
  const fs::path db = FreshTestDir("schema") / "results.db";
  Exec(db, std::string(SchemaMigration(0)) + SchemaMigration(1) + kOldGenerationTables +
               "INSERT INTO runs VALUES (1, '2026-11-25T01:00:00Z', NULL, 'tritonize bench',"
               " '0.1', 'finished', '{}'); PRAGMA user_version = 2;");
  std::string err;
  auto store = GenerationStore::Open(db, &err);
  ASSERT_NE(store, nullptr) << err;
  EXPECT_EQ(QueryInt(db, "PRAGMA user_version"), kStoreSchemaVersion);
  EXPECT_EQ(QueryInt(db, "SELECT COUNT(*) FROM sqlite_master WHERE name = 'generation_schema'"), 0);
  EXPECT_EQ(QueryInt(db, "SELECT COUNT(*) FROM runs"), 1);
  GenerationRecord record;
  ASSERT_TRUE(store->Find("key-1", &record, &err)) << err;
  EXPECT_EQ(record.text, "text");
  EXPECT_EQ(record.tokens_out, 20);
}

// A file only `generate` had written (user_version 0, generation tables of the old scheme).
TEST(SchemaTest, GenerationOnlyFileGetsTheResultsTables) {
  const fs::path db = FreshTestDir("schema") / "results.db";
  Exec(db, kOldGenerationTables);
  std::string err;
  ASSERT_NE(Store::Open(db, &err), nullptr) << err;
  EXPECT_EQ(QueryInt(db, "PRAGMA user_version"), kStoreSchemaVersion);
  EXPECT_EQ(QueryInt(db, "SELECT COUNT(*) FROM generations"), 1);
  EXPECT_EQ(QueryInt(db, "SELECT COUNT(*) FROM sqlite_master WHERE name = 'generation_schema'"), 0);
}

TEST(SchemaTest, GenerationStoreRefusesANewerFile) {
  const fs::path db = FreshTestDir("schema") / "results.db";
  Exec(db, "CREATE TABLE future (x); PRAGMA user_version = 99");
  std::string err;
  EXPECT_EQ(GenerationStore::Open(db, &err), nullptr);
  EXPECT_NE(err.find("version 99 is newer"), std::string::npos) << err;
  EXPECT_EQ(QueryInt(db, "PRAGMA user_version"), 99);
}

TEST(SchemaTest, EveryVersionHasItsMigration) {
  for (int64_t v = 0; v < kStoreSchemaVersion; ++v) EXPECT_NE(SchemaMigration(v), nullptr) << v;
  EXPECT_EQ(SchemaMigration(kStoreSchemaVersion), nullptr);
  EXPECT_EQ(SchemaMigration(-1), nullptr);
}

}  // namespace
}  // namespace tritonize

#include "store/schema.h"

#include <sqlite3.h>

#include <array>

#include "store/statement.h"

namespace tritonize {
namespace {

// kMigrations[v] takes the schema from version v to v + 1. Entries are never edited once
// released: a database in the field has run them.
constexpr std::array<const char*, kStoreSchemaVersion> kMigrations = {
    R"sql(
CREATE TABLE runs (
  id INTEGER PRIMARY KEY,
  started_at TEXT NOT NULL,
  finished_at TEXT,
  command_line TEXT NOT NULL,
  engine_version TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('running', 'finished', 'interrupted')),
  environment TEXT NOT NULL
);
CREATE TABLE implementations (
  id INTEGER PRIMARY KEY,
  kind TEXT NOT NULL,
  name TEXT NOT NULL,
  model_id TEXT NOT NULL,
  content_hash TEXT NOT NULL,
  path TEXT NOT NULL,
  metadata TEXT NOT NULL,
  UNIQUE (name, content_hash)
);
CREATE TABLE jobs (
  id INTEGER PRIMARY KEY,
  run_id INTEGER NOT NULL REFERENCES runs(id),
  task TEXT NOT NULL,
  implementation_id INTEGER NOT NULL REFERENCES implementations(id),
  status TEXT NOT NULL,
  message TEXT NOT NULL,
  detail TEXT NOT NULL,
  phase TEXT NOT NULL,
  wall_s REAL,
  environment TEXT NOT NULL,
  finished_at TEXT NOT NULL
);
CREATE INDEX jobs_by_run ON jobs(run_id);
CREATE TABLE checks (
  id INTEGER PRIMARY KEY,
  job_id INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
  size TEXT NOT NULL,
  seed INTEGER NOT NULL,
  mode TEXT NOT NULL,
  output TEXT NOT NULL,
  ok INTEGER NOT NULL,
  max_abs_err REAL,
  max_rel_err REAL,
  mismatches INTEGER NOT NULL,
  numel INTEGER NOT NULL,
  atol REAL,
  rtol REAL
);
CREATE INDEX checks_by_job ON checks(job_id);
CREATE TABLE results (
  id INTEGER PRIMARY KEY,
  job_id INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
  size TEXT NOT NULL,
  mode TEXT NOT NULL,
  kernel_us TEXT NOT NULL,
  call_us TEXT NOT NULL,
  kernel_median REAL, kernel_q1 REAL, kernel_q3 REAL, kernel_min REAL, kernel_n INTEGER NOT NULL,
  call_median REAL, call_q1 REAL, call_q3 REAL, call_n INTEGER NOT NULL,
  kernels TEXT NOT NULL,
  first_call_s REAL
);
CREATE INDEX results_by_job ON results(job_id);
)sql",
    // 1 -> 2: which of --repeat's fresh processes ran a job (so --resume keeps every repeat),
    // and the per-result figures that are not samples (host time, sampling, clocks) as JSON,
    // so a resumed run's tables lose nothing.
    R"sql(
ALTER TABLE jobs ADD COLUMN process INTEGER NOT NULL DEFAULT 0;
ALTER TABLE results ADD COLUMN extra TEXT NOT NULL DEFAULT '{}';
)sql",
    // 2 -> 3: the generation tables join the one version scheme. Until now `generate` created
    // them itself (IF NOT EXISTS) and kept their version, 1, in a table of its own; a file that
    // has them keeps its rows, and that table goes.
    R"sql(
CREATE TABLE IF NOT EXISTS generations (
  id INTEGER PRIMARY KEY,
  cache_key TEXT NOT NULL UNIQUE,
  provider TEXT NOT NULL,
  model TEXT NOT NULL,
  base_url TEXT NOT NULL,
  model_id TEXT NOT NULL,
  task TEXT NOT NULL,
  sample INTEGER NOT NULL,
  turn INTEGER NOT NULL,
  prompt_template TEXT NOT NULL,
  prompt_sha256 TEXT NOT NULL,
  params TEXT NOT NULL,
  messages TEXT NOT NULL,
  raw_response TEXT NOT NULL,
  text TEXT NOT NULL,
  stop_reason TEXT NOT NULL,
  tokens_in INTEGER,
  tokens_out INTEGER,
  cost_usd REAL,
  latency_s REAL,
  attempts INTEGER NOT NULL,
  status TEXT NOT NULL,
  message TEXT NOT NULL,
  created_at TEXT NOT NULL
);
DROP TABLE IF EXISTS generation_schema;
)sql",
    // 3 -> 4: the durable queue of `tritonize serve` (docs/serve.md). One row per accepted
    // evaluation, committed before the client is answered; `content_key` (sha256 of task, code
    // and options) finds an earlier verdict for the same submission; `job_id` is the stored job
    // (checks, raw samples) of a finished one, recorded in the same transaction as its verdict.
    R"sql(
CREATE TABLE evaluations (
  id INTEGER PRIMARY KEY,
  content_key TEXT NOT NULL,
  task TEXT NOT NULL,
  code TEXT NOT NULL,
  options TEXT NOT NULL,
  status TEXT NOT NULL
    CHECK (status IN ('queued', 'preparing', 'timing', 'done', 'cancelled')),
  cancel_requested INTEGER NOT NULL DEFAULT 0,
  attempts INTEGER NOT NULL DEFAULT 0,
  client TEXT NOT NULL,
  submitted_at TEXT NOT NULL,
  started_at TEXT,
  finished_at TEXT,
  verdict TEXT,
  job_id INTEGER REFERENCES jobs(id)
);
CREATE INDEX evaluations_by_status ON evaluations(status, id);
CREATE INDEX evaluations_by_content ON evaluations(content_key, id);
)sql",
};

}  // namespace

const char* SchemaMigration(int64_t from_version) {
  if (from_version < 0 || from_version >= kStoreSchemaVersion) {
    return nullptr;
  }
  return kMigrations[static_cast<size_t>(from_version)];
}

}  // namespace tritonize

namespace tritonize {
namespace {

// The statement is finalized on return: a live statement would hold a read transaction, and
// journal_mode cannot change inside one.
bool ReadUserVersion(sqlite3* db, int64_t* version) {
  Statement select(db, "PRAGMA user_version");
  if (select.Step() != SQLITE_ROW) {
    return false;
  }
  *version = select.Int(0);
  return true;
}

bool CheckVersion(int64_t version, const std::filesystem::path& path, std::string* err) {
  if (version <= kStoreSchemaVersion) {
    return true;
  }
  *err = path.string() + ": database schema version " + std::to_string(version) +
         " is newer than this engine's (" + std::to_string(kStoreSchemaVersion) +
         "); use a newer tritonize or another database file";
  return false;
}

}  // namespace

std::string DatabaseError(sqlite3* db, const std::filesystem::path& path,
                          const std::string& what) {
  const char* message = db != nullptr ? sqlite3_errmsg(db) : "out of memory";
  std::string hint;
  switch (db != nullptr ? sqlite3_errcode(db) & 0xff : 0) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      hint =
          " (another process holds a lock on the database: is another tritonize using it? "
          "nothing was written; run again when it is done, with --resume to keep finished jobs)";
      break;
    case SQLITE_FULL:
      hint =
          " (the disk is full: free space, then `tritonize bench --resume` finishes the run; "
          "every job stored before this one is intact)";
      break;
    case SQLITE_READONLY:
    case SQLITE_CANTOPEN:
    case SQLITE_IOERR:
      hint = " (check the file's permissions and the free space of its disk)";
      break;
    default:
      break;
  }
  return path.string() + ": " + what + ": " + message + hint;
}

bool MigrateSchema(sqlite3* db, const std::filesystem::path& path, std::string* err) {
  // The version is read before anything is written, so a newer database is left untouched
  // (journal_mode=WAL would otherwise persist into its header).
  int64_t version = 0;
  if (!ReadUserVersion(db, &version)) {
    *err = DatabaseError(db, path, "reading the schema version");
    return false;
  }
  if (!CheckVersion(version, path, err)) {
    return false;
  }
  if (!ExecSql(db, "PRAGMA journal_mode = WAL") || !ExecSql(db, "PRAGMA foreign_keys = ON")) {
    *err = DatabaseError(db, path, "configuring the connection");
    return false;
  }
  if (version == kStoreSchemaVersion) {
    return true;
  }
  Transaction tx(db);
  if (!tx.Begin()) {
    *err = DatabaseError(db, path, "starting the schema migration");
    return false;
  }
  // Another engine, maybe a newer one, may have migrated between our read and our lock.
  if (!ReadUserVersion(db, &version)) {
    *err = DatabaseError(db, path, "reading the schema version");
    return false;
  }
  if (!CheckVersion(version, path, err)) {
    return false;
  }
  for (int64_t v = version; v < kStoreSchemaVersion; ++v) {
    if (!ExecSql(db, SchemaMigration(v))) {
      *err = DatabaseError(db, path, "migrating the schema to version " + std::to_string(v + 1));
      return false;
    }
  }
  const std::string set_version = "PRAGMA user_version = " + std::to_string(kStoreSchemaVersion);
  if (!ExecSql(db, set_version.c_str()) || !tx.Commit()) {
    *err = DatabaseError(db, path, "committing the schema migration");
    return false;
  }
  return true;
}

}  // namespace tritonize

#include "store/schema.h"

#include <array>

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
};

}  // namespace

const char* SchemaMigration(int64_t from_version) {
  if (from_version < 0 || from_version >= kStoreSchemaVersion) {
    return nullptr;
  }
  return kMigrations[static_cast<size_t>(from_version)];
}

}  // namespace tritonize

#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "store/store.h"

struct sqlite3;

namespace tritonize {

/// The SQL that takes the database's schema from `from_version` to `from_version + 1`, or
/// nullptr outside [0, kStoreSchemaVersion).
const char* SchemaMigration(int64_t from_version);

/// Configures a freshly opened connection to the database file at `path` (WAL, foreign keys)
/// and migrates its schema to kStoreSchemaVersion: one migration list and one version, PRAGMA
/// user_version, for every table in the file (results, generations, the serve queue), whichever
/// class opens it. A file with a newer version is refused and left untouched. Errors name the
/// file and carry SQLite's message.
bool MigrateSchema(sqlite3* db, const std::filesystem::path& path, std::string* err);

/// "<path>: <what>: <SQLite's message>" plus what to do about a locked database, a full disk
/// or a file that cannot be written.
std::string DatabaseError(sqlite3* db, const std::filesystem::path& path, const std::string& what);

}  // namespace tritonize

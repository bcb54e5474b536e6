#pragma once

#include <cstdint>
#include <string>

struct sqlite3;
struct sqlite3_stmt;

namespace tritonize {

/// One prepared SQLite statement. Errors are SQLite result codes; the first failure (prepare
/// or bind) is kept and returned by Step(), so a caller checks once, after stepping.
class Statement {
 public:
  Statement(sqlite3* db, const char* sql);
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  /// Parameters are numbered from 1, as in SQL. A NaN binds NULL (SQLite does the same).
  Statement& Bind(int index, int64_t value);
  Statement& Bind(int index, double value);
  Statement& Bind(int index, const std::string& value);

  /// SQLITE_ROW, SQLITE_DONE, or the error code.
  int Step();
  /// Runs a statement that returns no rows: true when it completed.
  bool Run();

  /// Columns are numbered from 0. A NULL double reads as NaN, a NULL text as "".
  int64_t Int(int column) const;
  double Double(int column) const;
  std::string Text(int column) const;

 private:
  void Keep(int rc);

  sqlite3_stmt* stmt_ = nullptr;
  int rc_ = 0;  // SQLITE_OK, or the first failure
};

/// Executes SQL with no results (may hold several statements); true on success.
bool ExecSql(sqlite3* db, const char* sql);

/// A write transaction, rolled back unless committed. BEGIN IMMEDIATE takes the write lock at
/// once, so a concurrent writer makes us wait (busy_timeout) rather than fail mid-transaction.
class Transaction {
 public:
  explicit Transaction(sqlite3* db) : db_(db) {}
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

  bool Begin();
  bool Commit();

 private:
  sqlite3* db_;
  bool open_ = false;
};

}  // namespace tritonize

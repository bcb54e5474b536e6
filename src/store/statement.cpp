#include "store/statement.h"

#include <sqlite3.h>

#include <cmath>
#include <limits>

namespace tritonize {

Statement::Statement(sqlite3* db, const char* sql) {
  Keep(sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr));
}

Statement::~Statement() { sqlite3_finalize(stmt_); }

void Statement::Keep(int rc) {
  if (rc_ == SQLITE_OK && rc != SQLITE_OK) {
    rc_ = rc;
  }
}

Statement& Statement::Bind(int index, int64_t value) {
  if (stmt_ != nullptr) {
    Keep(sqlite3_bind_int64(stmt_, index, value));
  }
  return *this;
}

Statement& Statement::Bind(int index, double value) {
  if (stmt_ != nullptr) {
    Keep(sqlite3_bind_double(stmt_, index, value));
  }
  return *this;
}

Statement& Statement::Bind(int index, const std::string& value) {
  if (stmt_ != nullptr) {
    Keep(sqlite3_bind_text64(stmt_, index, value.data(), value.size(), SQLITE_TRANSIENT,
                             SQLITE_UTF8));
  }
  return *this;
}

int Statement::Step() {
  if (rc_ != SQLITE_OK) {
    return rc_;
  }
  return sqlite3_step(stmt_);
}

bool Statement::Run() { return Step() == SQLITE_DONE; }

int64_t Statement::Int(int column) const { return sqlite3_column_int64(stmt_, column); }

double Statement::Double(int column) const {
  if (sqlite3_column_type(stmt_, column) == SQLITE_NULL) {
    return std::numeric_limits<double>::quiet_NaN();
  }
  return sqlite3_column_double(stmt_, column);
}

std::string Statement::Text(int column) const {
  const auto* text = sqlite3_column_text(stmt_, column);
  if (text == nullptr) {
    return "";
  }
  const int bytes = sqlite3_column_bytes(stmt_, column);
  return std::string(reinterpret_cast<const char*>(text), static_cast<size_t>(bytes));
}

bool ExecSql(sqlite3* db, const char* sql) {
  return sqlite3_exec(db, sql, nullptr, nullptr, nullptr) == SQLITE_OK;
}

Transaction::~Transaction() {
  // A failed ROLLBACK leaves nothing to do: SQLite rolls back when the connection closes.
  if (open_) {
    ExecSql(db_, "ROLLBACK");
  }
}

bool Transaction::Begin() {
  open_ = ExecSql(db_, "BEGIN IMMEDIATE");
  return open_;
}

bool Transaction::Commit() {
  if (!open_ || !ExecSql(db_, "COMMIT")) {
    return false;
  }
  open_ = false;
  return true;
}

}  // namespace tritonize

// Database: the storage seam. A backend (SQLite or PostgreSQL) runs units of work — Read or
// Write transactions — over SQL written once in the portable subset both dialects share:
// `?` placeholders (rewritten to $n for PostgreSQL), TEXT/BIGINT/DOUBLE PRECISION columns,
// `INSERT ... ON CONFLICT`, `RETURNING`. Repositories (repositories.h) hold all SQL and are the
// same for every backend; the storage test suite runs against each backend.
//
// Thread-safety: a Database is shared by all threads; each Read/Write borrows one connection for the
// duration of the callback. A Tx must not escape its callback.
//
// Isolation. A Read sees one snapshot (SQLite deferred BEGIN in WAL mode; PostgreSQL REPEATABLE
// READ, READ ONLY: writing inside a Read fails there). Write transactions on SQLite serialise
// (BEGIN IMMEDIATE); on PostgreSQL they run at READ COMMITTED, where a conditional UPDATE
// (`... SET used = used + ? WHERE used + ? <= ?`) blocked by another writer re-evaluates its WHERE
// on the committed row, so such updates stay exact across threads and processes. Write units of
// work should touch rows in a consistent order; a deadlock or serialization failure makes
// PostgreSQL re-run the whole callback (up to PostgresOptions::max_attempts), so a callback must
// have no effects outside its Tx except assigning its results.
//
// Errors. A failed statement returns its Status from Exec/Query: constraint violations are
// Conflict("constraint_violation"), a busy or unreachable database is Unavailable. On PostgreSQL a
// failed statement aborts the whole transaction: every later statement of the unit fails with the
// same Status, and the unit returns it even if the callback swallowed the error. Do not use a
// failing statement as a test ("insert, and on Conflict update"): use INSERT ... ON CONFLICT.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/status.h"

namespace gh::storage {

using Value = std::variant<std::monostate, int64_t, double, std::string>;

class Row {
 public:
  explicit Row(std::vector<Value> values) : values_(std::move(values)) {}
  size_t size() const { return values_.size(); }
  bool IsNull(size_t i) const { return std::holds_alternative<std::monostate>(values_.at(i)); }
  // The value as the backend returned it: int64_t for integer (and boolean) columns, double for
  // floating-point ones, std::string for text, std::monostate for NULL, on every backend.
  const Value& value(size_t i) const { return values_.at(i); }
  int64_t Int(size_t i) const;
  double Double(size_t i) const;
  std::string Text(size_t i) const;
  std::optional<std::string> OptText(size_t i) const;
  std::optional<int64_t> OptInt(size_t i) const;

 private:
  std::vector<Value> values_;
};

class Tx {
 public:
  virtual ~Tx() = default;
  // Returns the number of rows changed.
  virtual Result<int64_t> Exec(std::string_view sql, const std::vector<Value>& params = {}) = 0;
  virtual Result<std::vector<Row>> Query(std::string_view sql, const std::vector<Value>& params = {}) = 0;
  Result<std::optional<Row>> QueryOne(std::string_view sql, const std::vector<Value>& params = {});
};

enum class Dialect { kSqlite, kPostgres };

class Database {
 public:
  virtual ~Database() = default;
  virtual Status Read(const std::function<Status(Tx&)>& fn) = 0;
  // Commits when fn returns OK, rolls back otherwise (and on any storage error).
  virtual Status Write(const std::function<Status(Tx&)>& fn) = 0;
  virtual Dialect dialect() const = 0;
  virtual Status Ping() = 0;
  // Called by Migrate first in each of its transactions: takes a lock, held until tx ends, that
  // serialises migrations of processes starting at once on one database. SQLite needs none
  // (BEGIN IMMEDIATE already serialises writers); PostgreSQL takes an advisory transaction lock.
  virtual Status LockForMigration(Tx& tx) { return Status::Ok(); }
};

// A versioned schema change. Each backend runs the migrations it has not run yet, in order, at start.
struct Migration {
  int version;
  std::string description;
  std::string sql;  // may hold several statements separated by ';'
};
const std::vector<Migration>& Migrations();
Status Migrate(Database& db);

struct SqliteOptions {
  std::string path;  // file path; ":memory:" is not shareable between connections, use a temp file
  int pool_size = 4;
  int busy_timeout_ms = 10'000;
};
Result<std::unique_ptr<Database>> OpenSqlite(const SqliteOptions& options);

struct PostgresOptions {
  // A libpq connection URI (postgresql://user:password@host:port/dbname?sslmode=require, or
  // postgresql:///dbname?host=/run/postgresql for a Unix socket) or a key=value conninfo string.
  std::string url;
  int pool_size = 8;  // connections are opened on demand, at most this many
  int connect_timeout_seconds = 5;
  int max_attempts = 5;  // runs of one unit of work on serialization failure or deadlock
};
// Connects once to check the server and the credentials (Unavailable when it cannot).
Result<std::unique_ptr<Database>> OpenPostgres(const PostgresOptions& options);

struct DatabaseOptions {
  int pool_size = 0;  // 0: the backend's default
};
// PostgreSQL for postgres:// and postgresql:// URLs; SQLite for `sqlite:PATH`, `sqlite://PATH`
// and plain file paths. Other URL schemes are InvalidArgument.
Result<std::unique_ptr<Database>> OpenDatabase(const std::string& url_or_path, const DatabaseOptions& options = {});

}  // namespace gh::storage

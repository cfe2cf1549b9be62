// Database: the storage seam. A backend (SQLite now, PostgreSQL next) runs units of work — Read or
// Write transactions — over SQL written once in the portable subset both dialects share:
// `?` placeholders (rewritten to $n for PostgreSQL), TEXT/BIGINT/DOUBLE PRECISION columns,
// `INSERT ... ON CONFLICT`, `RETURNING`. Repositories (the *_repository.h files) hold all SQL and are
// the same for every backend; the storage test suite runs against each backend.
//
// Thread-safety: a Database is shared by all threads; each Read/Write borrows one connection for the
// duration of the callback. A Tx must not escape its callback. Write transactions are serialisable
// (SQLite BEGIN IMMEDIATE; PostgreSQL SERIALIZABLE with retry), so a conditional UPDATE inside one
// is atomic across threads and processes.
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

}  // namespace gh::storage

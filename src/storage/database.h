// Database: the storage seam. A backend (SQLite or PostgreSQL) runs units of work — Read or
// Write transactions — over SQL written once in the portable subset both dialects share:
// `?` placeholders (rewritten to $n for PostgreSQL), TEXT/BIGINT/DOUBLE PRECISION columns,
// `INSERT ... ON CONFLICT`, `RETURNING`. Repositories (repositories.h) hold all SQL and are the
// same for every backend; the storage test suite runs against each backend.
//
// Thread-safety: a Database is shared by all threads; each Read/Write borrows one connection for
// the duration of the callback. A Tx must not escape its callback.
//
// Isolation. A Read sees one snapshot (SQLite deferred BEGIN in WAL mode; PostgreSQL REPEATABLE
// READ, READ ONLY: writing inside a Read fails there). A Write is serialisable: it behaves as if
// no other unit ran at the same time, in this process or another (SQLite BEGIN IMMEDIATE;
// PostgreSQL SERIALIZABLE), so check-then-act units (count open sessions, then insert one; read
// attempts, then store attempts + 1) keep their limits exact across replicas. On PostgreSQL a
// unit that conflicts with a concurrent one fails with a serialization failure and is re-run
// whole (up to PostgresOptions::max_attempts, with backoff; then Unavailable "storage_busy"), so
// a callback must have no effects outside its Tx except assigning its results.
// WriteReadCommitted is for hot rows that every request updates (quota counters, rate limits):
// see there.
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
  virtual Result<std::vector<Row>> Query(std::string_view sql,
                                         const std::vector<Value>& params = {}) = 0;
  Result<std::optional<Row>> QueryOne(std::string_view sql, const std::vector<Value>& params = {});
};

enum class Dialect { kSqlite, kPostgres };

// A committed change that other processes on the same database must hear of at once, because
// they cache what it changed (tenancy::Directory, identity::ApiKeyService): a topic and a key,
// both short, non-secret texts (ids). Heard as {"", ""} when announcements may have been missed
// (a listener that connected or reconnected): forget everything.
struct Announcement {
  std::string topic;
  std::string key;
};

// Keeps a Database::Listen subscription going; destroying it stops it (and waits for a callback
// running on its thread).
class ChangeListener {
 public:
  virtual ~ChangeListener() = default;
};

class Database {
 public:
  virtual ~Database() = default;
  virtual Status Read(const std::function<Status(Tx&)>& fn) = 0;
  // Commits when fn returns OK, rolls back otherwise (and on any storage error). Serialisable.
  virtual Status Write(const std::function<Status(Tx&)>& fn) = 0;
  // A Write at READ COMMITTED, for units whose every change is one conditional statement that
  // checks what it changes (`UPDATE c SET used = used + ? WHERE used + ? <= ?`, INSERT ... ON
  // CONFLICT) and that read nothing they then act on. PostgreSQL makes such an UPDATE, blocked by
  // another writer of the row, wait and re-check its WHERE on the committed row: exact, without
  // the serialization failures and re-runs a hot row causes in Write. Same as Write on SQLite.
  virtual Status WriteReadCommitted(const std::function<Status(Tx&)>& fn) { return Write(fn); }
  // A WriteReadCommitted that is on stable storage when it returns, power loss included. SQLite
  // runs in WAL mode with synchronous=NORMAL (a commit survives a crash of the process, not of the
  // machine); after this one commits, the WAL file is fsynced (fdatasync), which also covers every
  // commit before it, and only after the write lock is released, so other writers do not wait for
  // the disk. For group commits (the metering Recorder: usage events written durably before the
  // responses complete, one fsync for many requests). PostgreSQL commits durably anyway
  // (synchronous_commit).
  virtual Status WriteDurable(const std::function<Status(Tx&)>& fn) {
    return WriteReadCommitted(fn);
  }
  virtual Dialect dialect() const = 0;
  virtual Status Ping() = 0;
  // Called by Migrate first in each of its transactions (WriteReadCommitted, so that statements
  // after the lock see what the previous holder committed): takes a lock, held until tx ends, that
  // serialises migrations of processes starting at once on one database. SQLite needs none
  // (BEGIN IMMEDIATE already serialises writers); PostgreSQL takes an advisory transaction lock.
  virtual Status LockForMigration(Tx& tx) { return Status::Ok(); }

  // Tells every process on this database (this one included) of a committed change, as soon as
  // they can hear it. PostgreSQL: a NOTIFY, in a transaction of its own. SQLite: nothing — one
  // process serves a SQLite database, and a change made beside it (`gatehouse admin`) reaches its
  // caches within their TTL.
  virtual Status Announce(const Announcement& change) { return Status::Ok(); }
  // Calls `heard` with every process's announcements, on a thread of its own, until the returned
  // listener is destroyed; first with {"", ""} once listening (and again after every reconnect).
  // Destroying the listener returns promptly, even while it is connecting to a server that does
  // not answer. nullptr when the backend announces nothing (SQLite). PostgreSQL: LISTEN on a
  // connection of its own, which then checks that it hears its own NOTIFY (a pooler in
  // transaction mode drops notifications) and logs a warning when it does not.
  virtual std::unique_ptr<ChangeListener> Listen(std::function<void(const Announcement&)> heard) {
    return nullptr;
  }
};

// A versioned schema change. Each backend runs the migrations it has not run yet, in order, at
// start. A migration for one dialect only (a storage layout SQLite alone has, say) is recorded as
// run on the other without running anything.
struct Migration {
  int version;
  std::string description;
  std::string sql;  // may hold several statements separated by ';'
  std::optional<Dialect> only = std::nullopt;
};
const std::vector<Migration>& Migrations();
Status Migrate(Database& db);

struct SqliteOptions {
  std::string path;  // file path; ":memory:" is not shareable between connections, use a temp file
  int pool_size = 4;
  int busy_timeout_ms = 10'000;
  // Tests: called after each WriteDurable's fsync of the WAL (on the writing thread).
  std::function<void()> after_wal_sync;
  // WAL pages after which the background checkpointer copies the WAL back into the database and
  // the next writer rewinds it (SQLite's own default threshold is 1000).
  int checkpoint_pages = 1000;
  // Tests: false leaves the copying of a checkpoint's tail to the writers (the path taken when
  // the background checkpointer finds no gap between writes).
  bool checkpointer_copies_tail = true;
};
Result<std::unique_ptr<Database>> OpenSqlite(const SqliteOptions& options);

struct PostgresOptions {
  // A libpq connection URI (postgresql://user:password@host:port/dbname?sslmode=require, or
  // postgresql:///dbname?host=/run/postgresql for a Unix socket) or a key=value conninfo string.
  std::string url;
  int pool_size = 8;  // connections are opened on demand, at most this many
  int connect_timeout_seconds = 5;
  int max_attempts = 10;  // runs of one unit of work on serialization failure or deadlock
  // How long a change listener (Listen) waits to hear its own probe NOTIFY after LISTEN before it
  // warns that announcements do not reach this process.
  int change_probe_timeout_ms = 5000;
};
// Connects once to check the server and the credentials (Unavailable when it cannot).
Result<std::unique_ptr<Database>> OpenPostgres(const PostgresOptions& options);

struct DatabaseOptions {
  int pool_size = 0;  // 0: the backend's default
};
// PostgreSQL for postgres:// and postgresql:// URLs; SQLite for `sqlite:PATH`, `sqlite://PATH`
// and plain file paths. Other URL schemes are InvalidArgument.
Result<std::unique_ptr<Database>> OpenDatabase(const std::string& url_or_path,
                                               const DatabaseOptions& options = {});

}  // namespace gh::storage

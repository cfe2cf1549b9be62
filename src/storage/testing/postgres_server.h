// PostgresServer: a real PostgreSQL server for tests, and empty databases on it.
//
// With GH_TEST_POSTGRES_URL set (a libpq URI of a role that may CREATE DATABASE), tests use that
// server. Otherwise the first call to Shared() starts a private throwaway server: initdb and
// postgres from /usr/lib/postgresql/<newest>/bin (or GH_TEST_POSTGRES_BIN), data and Unix socket in
// a fresh directory under /dev/shm (or /tmp, or GH_TEST_POSTGRES_TMP), no TCP listener, no
// durability (fsync off: it is thrown away). When the process runs as root the server runs as the
// `postgres` system user (initdb refuses root), which the Debian `postgresql` package creates. The
// server is stopped and its directory deleted at process exit; it also dies with the process if
// that crashes, and directories left by crashed runs are deleted on the next start. It takes
// about a second to start; CreateDatabase takes some tens of milliseconds.
//
// A test that needs PostgreSQL must fail, not skip, when Shared() returns an error: CI has to run
// it. The error says what is missing and how to fix it. In a module's tests (TEST_DEPS
// gh_storage_testing):
//
//   auto scratch = storage::testing::PostgresTestDatabase::Create();  // a member of the fixture
//   ASSERT_TRUE(scratch.ok()) << scratch.status().message();
//   auto db = storage::OpenDatabase(scratch->url());                  // then Migrate(**db)
//
// Thread-safety: all functions may be called from any thread.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"

namespace gh::storage::testing {

class PostgresServer {
 public:
  // The process-wide server, started on first use; an error is remembered and returned again.
  static Result<PostgresServer*> Shared();

  virtual ~PostgresServer() = default;

  // URL of the server's maintenance database, as a role that may create databases.
  virtual const std::string& admin_url() const = 0;
  // Human-readable: where the server is ("private server in /tmp/...", or the given URL's host).
  virtual const std::string& description() const = 0;

  // Creates an empty database with a unique name and returns its URL (a postgresql:// URI
  // that storage::OpenDatabase takes). *name, when given, receives the database name.
  Result<std::string> CreateDatabase(std::string* name = nullptr);
  // Drops a database made by CreateDatabase, closing any connection still open to it.
  Status DropDatabase(std::string_view name);
};

// An empty database on the shared server for the lifetime of this object (one test).
class PostgresTestDatabase {
 public:
  static Result<PostgresTestDatabase> Create();
  PostgresTestDatabase(PostgresTestDatabase&& other) noexcept;
  PostgresTestDatabase& operator=(PostgresTestDatabase&& other) noexcept;
  ~PostgresTestDatabase();  // drops the database; close its Database handles first

  const std::string& url() const { return url_; }
  const std::string& name() const { return name_; }

 private:
  PostgresTestDatabase(std::string url, std::string name)
      : url_(std::move(url)), name_(std::move(name)) {}
  std::string url_;
  std::string name_;
};

}  // namespace gh::storage::testing

// What the PostgreSQL backend does beyond the shared storage suite (storage_test.cc): retries,
// reconnection, aborted transactions, read-only reads, its own types, and opening by URL.
#include <gtest/gtest.h>

#include <filesystem>

#include "storage/database.h"
#include "storage/repositories.h"
#include "storage/testing/postgres_server.h"

namespace gh::storage {
namespace {

class PostgresDatabaseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto scratch = testing::PostgresTestDatabase::Create();
    ASSERT_TRUE(scratch.ok()) << scratch.status().message();
    scratch_.emplace(std::move(scratch).value());
    db_ = Open();
    ASSERT_TRUE(db_);
    Status migrated = Migrate(*db_);
    ASSERT_TRUE(migrated.ok()) << migrated.ToString();
  }
  void TearDown() override {
    db_.reset();
    scratch_.reset();
  }
  std::unique_ptr<Database> Open(int max_attempts = 5) {
    PostgresOptions o;
    o.url = scratch_->url();
    o.pool_size = 2;
    o.max_attempts = max_attempts;
    auto db = OpenPostgres(o);
    EXPECT_TRUE(db.ok()) << db.status().ToString();
    return db.ok() ? std::move(db).value() : nullptr;
  }

  std::optional<testing::PostgresTestDatabase> scratch_;
  std::unique_ptr<Database> db_;
};

constexpr const char* kSerializationFailure =
    "DO $$ BEGIN RAISE EXCEPTION 'simulated' USING ERRCODE = 'serialization_failure'; END $$";

TEST_F(PostgresDatabaseTest, AUnitOfWorkIsRunAgainAfterASerializationFailure) {
  int runs = 0;
  Status st = db_->Write([&](Tx& tx) -> Status {
    ++runs;
    GH_RETURN_IF_ERROR(tenants::Insert(
        tx, {TenantId("t" + std::to_string(runs)), "T", "basic", "active", "UTC", 1}));
    if (runs < 3) return tx.Exec(kSerializationFailure).status();
    return Status::Ok();
  });
  EXPECT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(runs, 3);
  ASSERT_TRUE(db_->Read([&](Tx& tx) -> Status {
                   GH_ASSIGN_OR_RETURN(auto all, tenants::ListAll(tx));
                   EXPECT_EQ(all.size(), 1u);  // only the run that committed left its row
                   if (!all.empty()) {
                     EXPECT_EQ(all[0].id.value(), "t3");
                   }
                   return Status::Ok();
                 })
                  .ok());
}

TEST_F(PostgresDatabaseTest, RetriesStopAfterMaxAttemptsWithStorageBusy) {
  auto db = Open(/*max_attempts=*/3);
  ASSERT_TRUE(db);
  int runs = 0;
  Status st = db->Write([&](Tx& tx) {
    ++runs;
    return tx.Exec(kSerializationFailure).status();
  });
  EXPECT_EQ(st.code(), StatusCode::kUnavailable);
  EXPECT_EQ(st.error_code(), "storage_busy");
  EXPECT_EQ(runs, 3);
}

TEST_F(PostgresDatabaseTest, OtherErrorsAreNotRetried) {
  int runs = 0;
  Status st = db_->Write([&](Tx& tx) {
    ++runs;
    return tx.Exec("SELECT no_such_column FROM tenants").status();
  });
  EXPECT_EQ(st.code(), StatusCode::kInternal);
  EXPECT_EQ(runs, 1);
}

TEST_F(PostgresDatabaseTest, ASwallowedStatementErrorStillFailsAndRollsBackTheUnit) {
  // PostgreSQL aborts the transaction at the first failed statement (SQLite would go on).
  Status later;
  Status st = db_->Write([&](Tx& tx) -> Status {
    GH_RETURN_IF_ERROR(tenants::Insert(tx, {TenantId("a"), "A", "basic", "active", "UTC", 1}));
    (void)tenants::Insert(tx, {TenantId("a"), "A again", "basic", "active", "UTC", 1});
    later = tenants::Insert(tx, {TenantId("b"), "B", "basic", "active", "UTC", 1});
    return Status::Ok();
  });
  EXPECT_EQ(st.code(), StatusCode::kConflict);
  EXPECT_EQ(st.error_code(), "constraint_violation");
  EXPECT_EQ(later.code(), StatusCode::kConflict);  // every statement after the failure fails alike
  ASSERT_TRUE(db_->Read([&](Tx& tx) -> Status {
                   GH_ASSIGN_OR_RETURN(auto all, tenants::ListAll(tx));
                   EXPECT_TRUE(all.empty());
                   return Status::Ok();
                 })
                  .ok());
}

TEST_F(PostgresDatabaseTest, AReadCannotWrite) {
  Status st = db_->Read([](Tx& tx) {
    return tenants::Insert(tx, {TenantId("a"), "A", "basic", "active", "UTC", 1});
  });
  EXPECT_FALSE(st.ok());
}

TEST_F(PostgresDatabaseTest, PooledConnectionsTheServerClosedAreReplaced) {
  ASSERT_TRUE(db_->Ping().ok());
  // Another client terminates every other session of this database, as a server restart would.
  auto killer = Open();
  ASSERT_TRUE(killer);
  int64_t terminated = 0;
  ASSERT_TRUE(killer
                  ->Write([&](Tx& tx) -> Status {
                    GH_ASSIGN_OR_RETURN(
                        auto rows,
                        tx.Query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                 "WHERE datname = current_database() AND pid <> pg_backend_pid()"));
                    terminated = static_cast<int64_t>(rows.size());
                    return Status::Ok();
                  })
                  .ok());
  EXPECT_GE(terminated, 1);
  EXPECT_TRUE(db_->Ping().ok());
  Status st = db_->Write([](Tx& tx) {
    return tenants::Insert(tx, {TenantId("a"), "A", "basic", "active", "UTC", 1});
  });
  EXPECT_TRUE(st.ok()) << st.ToString();
}

TEST_F(PostgresDatabaseTest, PostgresTypesComeBackAsSqliteWould) {
  ASSERT_TRUE(db_->Read([&](Tx& tx) -> Status {
                   GH_ASSIGN_OR_RETURN(
                       auto row,
                       tx.QueryOne("SELECT TRUE, CAST(7 AS SMALLINT), CAST(7 AS INTEGER), "
                                   "CAST(12345678901234567890 AS NUMERIC), CAST(2.5 AS REAL), "
                                   "CAST('\\x00ff' AS BYTEA), CAST('2026-01-02' AS DATE)"));
                   EXPECT_TRUE(row.has_value());
                   if (!row) return Status::Ok();
                   EXPECT_EQ(std::get<int64_t>(row->value(0)), 1);
                   EXPECT_EQ(std::get<int64_t>(row->value(1)), 7);
                   EXPECT_EQ(std::get<int64_t>(row->value(2)), 7);
                   EXPECT_DOUBLE_EQ(std::get<double>(row->value(3)),
                                    12345678901234567890.0);  // beyond int64
                   EXPECT_EQ(std::get<double>(row->value(4)), 2.5);
                   EXPECT_EQ(std::get<std::string>(row->value(5)), std::string("\0\xff", 2));
                   EXPECT_EQ(std::get<std::string>(row->value(6)), "2026-01-02");
                   return Status::Ok();
                 })
                  .ok());
}

TEST_F(PostgresDatabaseTest, ATextParameterWithANulByteIsRefused) {
  Status st =
      db_->Read([](Tx& tx) { return tx.Query("SELECT ?", {std::string("a\0b", 3)}).status(); });
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
}

TEST(PostgresOpenTest, AnUnreachableServerIsUnavailable) {
  PostgresOptions o;
  o.url = "postgresql:///gatehouse?host=/nonexistent-gatehouse-socket-dir";
  auto db = OpenPostgres(o);
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.status().code(), StatusCode::kUnavailable);
}

TEST(OpenDatabaseTest, PicksTheBackendByUrl) {
  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / ("gh-open-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  for (const std::string& url : {(dir / "a.db").string(), "sqlite:" + (dir / "b.db").string(),
                                 "sqlite://" + (dir / "c.db").string()}) {
    auto db = OpenDatabase(url);
    ASSERT_TRUE(db.ok()) << url << ": " << db.status().ToString();
    EXPECT_EQ((*db)->dialect(), Dialect::kSqlite);
  }
  EXPECT_TRUE(fs::exists(dir / "c.db"));
  EXPECT_EQ(OpenDatabase("mysql://localhost/x").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(OpenDatabase("postgres:///x?host=/nonexistent-gatehouse-socket-dir").status().code(),
            StatusCode::kUnavailable);
  auto scratch = testing::PostgresTestDatabase::Create();
  ASSERT_TRUE(scratch.ok()) << scratch.status().message();
  auto pg = OpenDatabase(scratch->url());
  ASSERT_TRUE(pg.ok()) << pg.status().ToString();
  EXPECT_EQ((*pg)->dialect(), Dialect::kPostgres);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace gh::storage

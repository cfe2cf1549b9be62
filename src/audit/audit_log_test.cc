// The audit chain, on every backend: it verifies when intact and names the first record where a
// change, a removal in the middle or a removal at the end breaks it.
#include "audit/audit_log.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

#include "storage/testing/postgres_server.h"

namespace gh::audit {
namespace {

namespace fs = std::filesystem;
namespace st = gh::storage;

class AuditLogTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("gh-audit-" + std::to_string(::getpid()) + "-" + std::to_string(n_++));
    fs::create_directories(dir_);
    url_ = "sqlite:" + (dir_ / "db").string();
    if (GetParam() == "postgres") {
      auto pg = st::testing::PostgresTestDatabase::Create();
      ASSERT_TRUE(pg.ok()) << pg.status().message();
      pg_.emplace(std::move(*pg));
      url_ = pg_->url();
    }
    db_ = Open();
    ASSERT_TRUE(st::Migrate(*db_).ok());
  }
  void TearDown() override {
    db_.reset();
    pg_.reset();
    fs::remove_all(dir_);
  }
  std::unique_ptr<st::Database> Open() {
    return std::move(st::OpenDatabase(url_, {.pool_size = 4})).value();
  }
  void AppendSome(int n) {
    AuditLog log(*db_, clock_);
    for (int i = 0; i < n; ++i)
      ASSERT_TRUE(log.Append({{"acme", "user:u1", "admin.request",
                               "PUT /api/admin/tenants/{tenant_id}/budget", "200",
                               "{\"i\":" + std::to_string(i) + "}"}})
                      .ok());
  }
  void Exec(const std::string& sql) {
    ASSERT_TRUE(db_->Write([&](st::Tx& tx) { return tx.Exec(sql).status(); }).ok()) << sql;
  }

  static inline int n_ = 0;
  fs::path dir_;
  std::optional<st::testing::PostgresTestDatabase> pg_;
  std::string url_;
  std::unique_ptr<st::Database> db_;
  FakeClock clock_;
};

TEST_P(AuditLogTest, AnIntactChainVerifies) {
  auto empty = VerifyAuditLog(*db_);
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->ok);
  EXPECT_EQ(empty->records, 0);
  AppendSome(25);
  auto rep = VerifyAuditLog(*db_);
  ASSERT_TRUE(rep.ok());
  EXPECT_TRUE(rep->ok) << rep->problem;
  EXPECT_EQ(rep->records, 25);
  EXPECT_EQ(rep->head_seq, 25);
  EXPECT_EQ(rep->head_hash.size(), 64u);
}

TEST_P(AuditLogTest, AChangedRecordIsDetected) {
  AppendSome(10);
  Exec("UPDATE audit_log SET outcome = '403' WHERE seq = 4");
  auto rep = VerifyAuditLog(*db_);
  ASSERT_TRUE(rep.ok());
  EXPECT_FALSE(rep->ok);
  EXPECT_EQ(rep->broken_at, 4);
  EXPECT_NE(rep->problem.find("changed"), std::string::npos) << rep->problem;
}

TEST_P(AuditLogTest, ARecordRewrittenWithAFreshHashBreaksTheNextLink) {
  AppendSome(10);
  // Someone changes record 4 and recomputes its hash: record 5 no longer follows it.
  std::vector<st::AuditRow> rows;
  ASSERT_TRUE(db_->Read([&](st::Tx& tx) -> Status {
                   GH_ASSIGN_OR_RETURN(rows, st::audit_log::ListAfter(tx, 3, 1));
                   return Status::Ok();
                 })
                  .ok());
  st::AuditRow forged = rows.at(0);
  forged.outcome = "403";
  forged.hash = RecordHash(forged);
  Exec("UPDATE audit_log SET outcome = '403', hash = '" + forged.hash + "' WHERE seq = 4");
  auto rep = VerifyAuditLog(*db_);
  ASSERT_TRUE(rep.ok());
  EXPECT_FALSE(rep->ok);
  EXPECT_EQ(rep->broken_at, 5);
}

TEST_P(AuditLogTest, ARemovedRecordIsDetected) {
  AppendSome(10);
  Exec("DELETE FROM audit_log WHERE seq = 6");
  auto rep = VerifyAuditLog(*db_);
  ASSERT_TRUE(rep.ok());
  EXPECT_FALSE(rep->ok);
  EXPECT_EQ(rep->broken_at, 6);
  EXPECT_NE(rep->problem.find("missing"), std::string::npos) << rep->problem;
}

TEST_P(AuditLogTest, RemovingTheLastRecordsIsDetected) {
  AppendSome(10);
  Exec("DELETE FROM audit_log WHERE seq >= 9");
  auto rep = VerifyAuditLog(*db_);
  ASSERT_TRUE(rep.ok());
  EXPECT_FALSE(rep->ok);
  EXPECT_EQ(rep->broken_at, 9);
  EXPECT_NE(rep->problem.find("removed"), std::string::npos) << rep->problem;
}

TEST_P(AuditLogTest, ConcurrentAppendersFromTwoProcessesExtendOneChain) {
  auto other = Open();
  auto run = [&](st::Database& db, const char* who) {
    AuditLog log(db, clock_);
    for (int i = 0; i < 20; ++i)
      ASSERT_TRUE(log.Append({{"acme", who, "tool.call", "get_current_weather", "ok", "{}"}}).ok());
  };
  std::thread a([&] { run(*db_, "a"); });
  std::thread b([&] { run(*other, "b"); });
  a.join();
  b.join();
  auto rep = VerifyAuditLog(*db_);
  ASSERT_TRUE(rep.ok());
  EXPECT_TRUE(rep->ok) << rep->problem;
  EXPECT_EQ(rep->records, 40);
}

INSTANTIATE_TEST_SUITE_P(Backends, AuditLogTest, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace gh::audit

// The storage suite: written once, run against every backend (SQLite here; PostgreSQL joins the
// parameter list when its backend lands).
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "storage/database.h"
#include "storage/repositories.h"

namespace gh::storage {
namespace {

namespace fs = std::filesystem;

class StorageTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("gh-storage-" + std::to_string(::getpid()) + "-" +
                                        std::to_string(counter_++));
    fs::create_directories(dir_);
    db_ = Open();
    ASSERT_TRUE(Migrate(*db_).ok());
    ASSERT_TRUE(db_->Write([](Tx& tx) {
      GH_RETURN_IF_ERROR(tenants::Insert(tx, {TenantId("acme"), "Acme", "basic", "active", "UTC", 1}));
      return tenants::Insert(tx, {TenantId("globex"), "Globex", "premium", "active", "UTC", 1});
    }).ok());
  }
  void TearDown() override {
    db_.reset();
    fs::remove_all(dir_);
  }
  std::unique_ptr<Database> Open() {
    auto db = OpenSqlite({(dir_ / "gatehouse.db").string(), 4, 10'000});
    EXPECT_TRUE(db.ok()) << db.status().ToString();
    return std::move(db).value();
  }

  static inline int counter_ = 0;
  fs::path dir_;
  std::unique_ptr<Database> db_;
};

TEST_P(StorageTest, MigrationsAreIdempotent) {
  EXPECT_TRUE(Migrate(*db_).ok());
  auto again = Open();
  EXPECT_TRUE(Migrate(*again).ok());
}

TEST_P(StorageTest, TenantDataIsInvisibleFromAnotherTenant) {
  UserRecord u{UserId("u1"), TenantId("acme"), "a@example.com", "hash", "user", false, 0, 0, 1};
  SessionRecord s{SessionId("s1"), TenantId("acme"), UserId("u1"), "", 1, 1, 100, {}, 0, 0};
  ASSERT_TRUE(db_->Write([&](Tx& tx) {
    GH_RETURN_IF_ERROR(users::Insert(tx, u));
    return sessions::Insert(tx, s);
  }).ok());
  ASSERT_TRUE(db_->Read([&](Tx& tx) -> Status {
    auto mine = users::Get(tx, TenantId("acme"), UserId("u1"));
    EXPECT_TRUE(mine.ok() && mine->has_value());
    auto theirs = users::Get(tx, TenantId("globex"), UserId("u1"));
    EXPECT_TRUE(theirs.ok() && !theirs->has_value());
    auto sess = sessions::Get(tx, TenantId("globex"), SessionId("s1"));
    EXPECT_TRUE(sess.ok() && !sess->has_value());
    auto list = sessions::ListForTenant(tx, TenantId("globex"), 100);
    EXPECT_TRUE(list.ok() && list->empty());
    return Status::Ok();
  }).ok());
  // Writes scoped to the wrong tenant change nothing.
  ASSERT_TRUE(db_->Write([&](Tx& tx) { return sessions::End(tx, TenantId("globex"), SessionId("s1"), 5); }).ok());
  ASSERT_TRUE(db_->Read([&](Tx& tx) -> Status {
    auto sess = sessions::Get(tx, TenantId("acme"), SessionId("s1"));
    EXPECT_FALSE((*sess)->ended_at.has_value());
    return Status::Ok();
  }).ok());
}

TEST_P(StorageTest, AFailedUnitOfWorkLeavesNothingBehind) {
  Status st = db_->Write([&](Tx& tx) -> Status {
    GH_RETURN_IF_ERROR(users::Insert(tx, {UserId("u9"), TenantId("acme"), "x@example.com", "h", "user", false, 0, 0, 1}));
    return Status::Conflict("changed my mind");
  });
  EXPECT_EQ(st.code(), StatusCode::kConflict);
  ASSERT_TRUE(db_->Read([&](Tx& tx) -> Status {
    auto u = users::FindByEmail(tx, "x@example.com");
    EXPECT_FALSE(u->has_value());
    return Status::Ok();
  }).ok());
}

TEST_P(StorageTest, DuplicateEmailIsAConflict) {
  UserRecord u{UserId("u1"), TenantId("acme"), "dup@example.com", "h", "user", false, 0, 0, 1};
  ASSERT_TRUE(db_->Write([&](Tx& tx) { return users::Insert(tx, u); }).ok());
  u.id = UserId("u2");
  u.tenant_id = TenantId("globex");
  Status st = db_->Write([&](Tx& tx) { return users::Insert(tx, u); });
  EXPECT_EQ(st.code(), StatusCode::kConflict);
}

TEST_P(StorageTest, CountersRefuseAllDeltasWhenOneLimitWouldBeExceeded) {
  TenantId t("acme");
  std::vector<CounterDelta> deltas = {{{"tenant", "d:2026-11-22", "messages"}, 1, 5},
                                      {{"tenant", "m:2026-11", "messages"}, 1, 1}};
  std::optional<size_t> refused;
  ASSERT_TRUE(db_->Write([&](Tx& tx) -> Status {
    GH_ASSIGN_OR_RETURN(refused, counters::TryApply(tx, t, deltas));
    return Status::Ok();
  }).ok());
  EXPECT_FALSE(refused.has_value());
  ASSERT_TRUE(db_->Write([&](Tx& tx) -> Status {
    GH_ASSIGN_OR_RETURN(refused, counters::TryApply(tx, t, deltas));
    return Status::Ok();
  }).ok());
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(*refused, 1u);
  ASSERT_TRUE(db_->Read([&](Tx& tx) -> Status {
    EXPECT_EQ(*counters::Get(tx, t, deltas[0].key), 1);  // the first delta was undone
    EXPECT_EQ(*counters::Get(tx, t, deltas[1].key), 1);
    EXPECT_EQ(*counters::Get(tx, TenantId("globex"), deltas[1].key), 0);
    return Status::Ok();
  }).ok());
}

TEST_P(StorageTest, ConcurrentReservationsFromTwoDatabaseHandlesNeverExceedTheLimit) {
  // Two Database objects on one file behave like two server processes sharing it.
  auto other = Open();
  std::atomic<int> granted{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    Database* db = (i % 2) ? other.get() : db_.get();
    threads.emplace_back([db, &granted] {
      for (int j = 0; j < 25; ++j) {
        std::optional<size_t> refused;
        Status st = db->Write([&](Tx& tx) -> Status {
          GH_ASSIGN_OR_RETURN(refused, counters::TryApply(tx, TenantId("acme"),
                                                          {{{"tenant", "d:x", "messages"}, 1, 50}}));
          return Status::Ok();
        });
        if (st.ok() && !refused) granted++;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(granted.load(), 50);
  ASSERT_TRUE(db_->Read([&](Tx& tx) -> Status {
    EXPECT_EQ(*counters::Get(tx, TenantId("acme"), {"tenant", "d:x", "messages"}), 50);
    return Status::Ok();
  }).ok());
}

TEST_P(StorageTest, ARefreshTokenRotatesOnlyOnce) {
  RefreshTokenRecord r{"h1", TenantId("acme"), UserId("u1"), "fam", 1000, false, false, 1};
  ASSERT_TRUE(db_->Write([&](Tx& tx) { return refresh_tokens::Insert(tx, r); }).ok());
  bool first = false, second = true;
  ASSERT_TRUE(db_->Write([&](Tx& tx) -> Status {
    GH_ASSIGN_OR_RETURN(first, refresh_tokens::MarkRotated(tx, TenantId("acme"), "h1"));
    GH_ASSIGN_OR_RETURN(second, refresh_tokens::MarkRotated(tx, TenantId("acme"), "h1"));
    return Status::Ok();
  }).ok());
  EXPECT_TRUE(first);
  EXPECT_FALSE(second);
}

TEST_P(StorageTest, AnInvitationIsConsumedOnceAndNotAfterExpiry) {
  InvitationRecord inv{"c1", TenantId("acme"), UserId("admin"), "user", 100, {}, false, 1};
  InvitationRecord old{"c2", TenantId("acme"), UserId("admin"), "user", 10, {}, false, 1};
  ASSERT_TRUE(db_->Write([&](Tx& tx) {
    GH_RETURN_IF_ERROR(invitations::Insert(tx, inv));
    return invitations::Insert(tx, old);
  }).ok());
  bool a = false, b = true, c = true, d = true;
  ASSERT_TRUE(db_->Write([&](Tx& tx) -> Status {
    GH_ASSIGN_OR_RETURN(d, invitations::Consume(tx, TenantId("globex"), "c1", UserId("x"), 50));
    GH_ASSIGN_OR_RETURN(a, invitations::Consume(tx, TenantId("acme"), "c1", UserId("u1"), 50));
    GH_ASSIGN_OR_RETURN(b, invitations::Consume(tx, TenantId("acme"), "c1", UserId("u2"), 50));
    GH_ASSIGN_OR_RETURN(c, invitations::Consume(tx, TenantId("acme"), "c2", UserId("u3"), 50));
    return Status::Ok();
  }).ok());
  EXPECT_FALSE(d);
  EXPECT_TRUE(a);
  EXPECT_FALSE(b);
  EXPECT_FALSE(c);
}

TEST_P(StorageTest, MessagesComeBackInOrderLimitedToTheMostRecent) {
  ASSERT_TRUE(db_->Write([&](Tx& tx) -> Status {
    for (int i = 1; i <= 5; ++i)
      GH_RETURN_IF_ERROR(messages::Insert(tx, {MessageId("m" + std::to_string(i)), TenantId("acme"), SessionId("s"),
                                               UserId("u"), i, "user", "text" + std::to_string(i), {}, {}, i}));
    return Status::Ok();
  }).ok());
  ASSERT_TRUE(db_->Read([&](Tx& tx) -> Status {
    auto msgs = messages::ListForSession(tx, TenantId("acme"), SessionId("s"), 3);
    EXPECT_EQ(msgs->size(), 3u);
    EXPECT_EQ((*msgs)[0].content, "text3");
    EXPECT_EQ((*msgs)[2].content, "text5");
    EXPECT_EQ(*messages::NextSeq(tx, TenantId("acme"), SessionId("s")), 6);
    EXPECT_TRUE(messages::ListForSession(tx, TenantId("globex"), SessionId("s"), 3)->empty());
    return Status::Ok();
  }).ok());
}

INSTANTIATE_TEST_SUITE_P(Backends, StorageTest, ::testing::Values("sqlite"));

}  // namespace
}  // namespace gh::storage

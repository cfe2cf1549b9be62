// The storage suite: written once, run against every backend — SQLite on a temp file, and a real
// PostgreSQL (GH_TEST_POSTGRES_URL, or a private server this binary starts; see
// testing/postgres_server.h). Each test gets a fresh, empty database.
#include <gtest/gtest.h>

#include <unistd.h>
#include <fstream>
#include <latch>
#include <mutex>

#include <algorithm>
#include <atomic>
#include <barrier>
#include <filesystem>
#include <map>
#include <thread>

#include "storage/database.h"
#include "storage/metering_repository.h"
#include "storage/repositories.h"
#include "storage/testing/postgres_server.h"

namespace gh::storage {
namespace {

namespace fs = std::filesystem;

class StorageTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("gh-storage-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++));
    fs::create_directories(dir_);
    auto url = NewDatabaseUrl();
    ASSERT_TRUE(url.ok()) << url.status().message();
    url_ = *url;
    db_ = Open();
    ASSERT_TRUE(db_);
    ASSERT_TRUE(Migrate(*db_).ok());
    ASSERT_TRUE(db_->Write([](Tx& tx) {
                     GH_RETURN_IF_ERROR(tenants::Insert(
                         tx, {TenantId("acme"), "Acme", "basic", "active", "UTC", 1}));
                     return tenants::Insert(
                         tx, {TenantId("globex"), "Globex", "premium", "active", "UTC", 1});
                   })
                    .ok());
  }
  void TearDown() override {
    db_.reset();
    postgres_.clear();  // drops the databases
    fs::remove_all(dir_);
  }

  // A fresh, empty database of the backend under test, as a URL OpenDatabase takes.
  Result<std::string> NewDatabaseUrl() {
    if (GetParam() == "sqlite")
      return "sqlite:" + (dir_ / ("db" + std::to_string(sqlite_++))).string();
    GH_ASSIGN_OR_RETURN(auto db, testing::PostgresTestDatabase::Create());
    postgres_.push_back(std::move(db));
    return postgres_.back().url();
  }
  // Another handle (its own pool, like another server process) on url, or on the test's database.
  std::unique_ptr<Database> Open(const std::string& url = {}) {
    auto db = OpenDatabase(url.empty() ? url_ : url, {.pool_size = 4});
    EXPECT_TRUE(db.ok()) << db.status().ToString();
    if (!db.ok()) return nullptr;
    EXPECT_EQ(db.value()->dialect(),
              GetParam() == "sqlite" ? Dialect::kSqlite : Dialect::kPostgres);
    return std::move(db).value();
  }

  static inline int counter_ = 0;
  fs::path dir_;
  int sqlite_ = 0;
  std::vector<testing::PostgresTestDatabase> postgres_;
  std::string url_;
  std::unique_ptr<Database> db_;
};

TEST_P(StorageTest, MigrationsAreIdempotent) {
  EXPECT_TRUE(Migrate(*db_).ok());
  auto again = Open();
  EXPECT_TRUE(Migrate(*again).ok());
}

TEST_P(StorageTest, TwoProcessesMigratingAtOnceApplyEachMigrationOnce) {
  // Two replicas starting together on a new database: both succeed, the schema is made once.
  auto url = NewDatabaseUrl();
  ASSERT_TRUE(url.ok()) << url.status().message();
  auto a = Open(*url);
  auto b = Open(*url);
  ASSERT_TRUE(a && b);
  Status sa, sb;
  std::barrier start(2);
  std::thread ta([&] {
    start.arrive_and_wait();
    sa = Migrate(*a);
  });
  std::thread tb([&] {
    start.arrive_and_wait();
    sb = Migrate(*b);
  });
  ta.join();
  tb.join();
  EXPECT_TRUE(sa.ok()) << sa.ToString();
  EXPECT_TRUE(sb.ok()) << sb.ToString();
  ASSERT_TRUE(a->Read([&](Tx& tx) -> Status {
                 GH_ASSIGN_OR_RETURN(
                     auto rows,
                     tx.Query("SELECT version, COUNT(*) FROM schema_migrations GROUP BY version"));
                 EXPECT_EQ(rows.size(), Migrations().size());
                 for (const Row& r : rows) EXPECT_EQ(r.Int(1), 1) << "migration " << r.Int(0);
                 return Status::Ok();
               }).ok());
}

TEST_P(StorageTest, ValuesComeBackAsTheSameTypesOnEveryBackend) {
  ASSERT_TRUE(db_->Write([&](Tx& tx) {
                   return counters::Adjust(tx, TenantId("acme"),
                                           {{{"tenant", "d:1", "messages"}, 2, {}},
                                            {{"tenant", "d:2", "messages"}, 3, {}}});
                 })
                  .ok());
  const std::string text = "it's \"quoted\", a ? and a -- and /* é */";
  ASSERT_TRUE(
      db_->Read([&](Tx& tx) -> Status {
           GH_ASSIGN_OR_RETURN(
               auto row,
               tx.QueryOne(
                   "SELECT COUNT(*), SUM(used), MAX(used) > 2, 1.5, 'x?', NULL, ?, ?, ?, ? "
                   "FROM quota_counters WHERE tenant_id = ? AND metric = '?' OR tenant_id = ?",
                   {int64_t(INT64_MIN), 0.25, text, Value(), "nobody", "acme"}));
           EXPECT_TRUE(row.has_value());
           if (!row) return Status::Ok();
           EXPECT_EQ(std::get<int64_t>(row->value(0)), 2);
           EXPECT_EQ(std::get<int64_t>(row->value(1)), 5);  // SUM(bigint) is NUMERIC on PostgreSQL
           EXPECT_EQ(std::get<int64_t>(row->value(2)), 1);  // a boolean is 0/1
           EXPECT_EQ(std::get<double>(row->value(3)), 1.5);
           EXPECT_EQ(std::get<std::string>(row->value(4)), "x?");
           EXPECT_TRUE(row->IsNull(5));
           EXPECT_EQ(std::get<int64_t>(row->value(6)), INT64_MIN);
           EXPECT_EQ(std::get<double>(row->value(7)), 0.25);
           EXPECT_EQ(std::get<std::string>(row->value(8)), text);
           EXPECT_TRUE(row->IsNull(9));
           return Status::Ok();
         })
          .ok());
}

TEST_P(StorageTest, ExecCountsTheRowsItChanged) {
  int64_t changed = -1, none = -1;
  ASSERT_TRUE(db_->Write([&](Tx& tx) -> Status {
                   GH_ASSIGN_OR_RETURN(
                       changed,
                       tx.Exec("UPDATE tenants SET tier = ? WHERE status = ?", {"gold", "active"}));
                   GH_ASSIGN_OR_RETURN(none, tx.Exec("UPDATE tenants SET tier = ? WHERE id = ?",
                                                     {"gold", "nobody"}));
                   return Status::Ok();
                 })
                  .ok());
  EXPECT_EQ(changed, 2);
  EXPECT_EQ(none, 0);
}

// Runs every repository function once, so each SQL statement of repositories.cc is known to run on

// A change announced by one process is heard by every process listening on the database (its
// own included), first an "everything may have changed" once listening; SQLite announces nothing.
TEST_P(StorageTest, AnAnnouncedChangeIsHeardByEveryProcessListeningOnTheDatabase) {
  struct Heard {
    std::mutex mu;
    std::vector<Announcement> all;
    void Add(const Announcement& a) {
      std::lock_guard lock(mu);
      all.push_back(a);
    }
    size_t Count(const std::string& topic, const std::string& key) {
      std::lock_guard lock(mu);
      return static_cast<size_t>(std::count_if(all.begin(), all.end(), [&](const Announcement& a) {
        return a.topic == topic && a.key == key;
      }));
    }
  };
  auto other = Open();  // another replica
  ASSERT_TRUE(other);
  Heard here, there;
  auto listening_here = db_->Listen([&](const Announcement& a) { here.Add(a); });
  auto listening_there = other->Listen([&](const Announcement& a) { there.Add(a); });
  if (GetParam() == "sqlite") {
    EXPECT_EQ(listening_here, nullptr);
    EXPECT_TRUE(db_->Announce({"api_keys", "k1"}).ok());
    return;
  }
  ASSERT_NE(listening_here, nullptr);
  ASSERT_NE(listening_there, nullptr);
  auto await = [](Heard& h, const std::string& topic, const std::string& key) {
    for (int i = 0; i < 500 && h.Count(topic, key) == 0; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    return h.Count(topic, key);
  };
  // Listening before anything is announced (the first thing heard): nothing can be missed.
  ASSERT_EQ(await(here, "", ""), 1u);
  ASSERT_EQ(await(there, "", ""), 1u);
  ASSERT_TRUE(db_->Announce({"user", "acme\tu-1"}).ok());
  EXPECT_EQ(await(there, "user", "acme\tu-1"), 1u) << "the other process hears it";
  EXPECT_EQ(await(here, "user", "acme\tu-1"), 1u) << "and so does the one that said it";
  listening_there.reset();  // stops at once, whatever it was waiting for
  ASSERT_TRUE(db_->Announce({"api_keys", ""}).ok());
  EXPECT_EQ(await(here, "api_keys", ""), 1u);
  EXPECT_EQ(there.Count("api_keys", ""), 0u);
}

// SQLite keeps a prepared statement per SQL text and its parameters between uses: a use that binds
// fewer values than the statement has must not see the previous use's (PostgreSQL refuses it).
TEST_P(StorageTest, AStatementUsedAgainKeepsNoParameterOfItsLastUse) {
  if (GetParam() != "sqlite") GTEST_SKIP() << "PostgreSQL refuses a missing parameter";
  const std::string sql = "SELECT ?, ?, ?";
  ASSERT_TRUE(db_->Read([&](Tx& tx) -> Status {
                   GH_ASSIGN_OR_RETURN(auto first, tx.QueryOne(sql, {"a", int64_t(2), 3.5}));
                   EXPECT_TRUE(first && std::get<std::string>(first->value(0)) == "a");
                   GH_ASSIGN_OR_RETURN(auto again, tx.QueryOne(sql, {"b"}));
                   EXPECT_TRUE(again.has_value());
                   if (!again) return Status::Ok();
                   EXPECT_EQ(std::get<std::string>(again->value(0)), "b");
                   EXPECT_TRUE(again->IsNull(1));
                   EXPECT_TRUE(again->IsNull(2));
                   GH_ASSIGN_OR_RETURN(auto third, tx.QueryOne(sql, {"c", int64_t(4), 5.5}));
                   EXPECT_TRUE(third.has_value());
                   if (third) {
                     EXPECT_EQ(std::get<double>(third->value(2)), 5.5);
                   }
                   return Status::Ok();
                 })
                  .ok());
}
// every backend (the tests around check what they mean).
TEST_P(StorageTest, EveryRepositoryStatementRuns) {
  const TenantId t("acme");
  const UserId u("u1");
  const SessionId sid("s1");
  auto check = [](const auto& result, const char* what) {
    if constexpr (std::is_same_v<std::decay_t<decltype(result)>, Status>) {
      EXPECT_TRUE(result.ok()) << what << ": " << result.ToString();
    } else {
      EXPECT_TRUE(result.ok()) << what << ": " << result.status().ToString();
    }
  };
  ASSERT_TRUE(
      db_->Write([&](Tx& tx) -> Status {
           check(tenants::Get(tx, t), "tenants::Get");
           check(tenants::ListAll(tx), "tenants::ListAll");
           check(tenants::SetTier(tx, t, "premium"), "tenants::SetTier");
           check(tenants::SetStatus(tx, t, "active"), "tenants::SetStatus");

           check(users::Insert(tx, {u, t, "u1@example.com", "h", "user", false, 0, 0, 1}),
                 "users::Insert");
           check(users::FindByEmail(tx, "u1@example.com"), "users::FindByEmail");
           check(users::Get(tx, t, u), "users::Get");
           check(users::List(tx, t), "users::List");
           check(users::SetVerified(tx, t, u), "users::SetVerified");
           check(users::SetRole(tx, t, u, "admin"), "users::SetRole");
           check(users::SetLoginFailures(tx, t, u, 2, 100), "users::SetLoginFailures");
           check(users::AddGroup(tx, t, u, "eng"), "users::AddGroup");
           check(users::AddGroup(tx, t, u, "eng"), "users::AddGroup again");
           auto groups = users::Groups(tx, t, u);
           check(groups, "users::Groups");
           if (groups.ok()) {
             EXPECT_EQ(groups->size(), 1u);
           }
           auto count = users::CountInTenant(tx, t);
           check(count, "users::CountInTenant");
           if (count.ok()) {
             EXPECT_EQ(*count, 1);
           }

           check(verification::Upsert(tx, {u, t, "c1", 10, 0, 1}), "verification::Upsert");
           check(verification::Upsert(tx, {u, t, "c2", 20, 0, 2}), "verification::Upsert again");
           auto code = verification::Get(tx, t, u);
           check(code, "verification::Get");
           if (code.ok() && *code) {
             EXPECT_EQ((*code)->code_hash, "c2");
           }
           check(verification::SetAttempts(tx, t, u, 1), "verification::SetAttempts");
           check(verification::Delete(tx, t, u), "verification::Delete");

           check(refresh_tokens::Insert(tx, {"r1", t, u, "f1", 100, false, false, 1}),
                 "refresh_tokens::Insert");
           check(refresh_tokens::FindByHash(tx, "r1"), "refresh_tokens::FindByHash");
           check(refresh_tokens::MarkRotated(tx, t, "r1"), "refresh_tokens::MarkRotated");
           check(refresh_tokens::RevokeFamily(tx, t, "f1"), "refresh_tokens::RevokeFamily");
           check(refresh_tokens::RevokeAllForUser(tx, t, u), "refresh_tokens::RevokeAllForUser");

           check(invitations::Insert(tx, {"i1", t, u, "user", 100, {}, false, 1}),
                 "invitations::Insert");
           check(invitations::FindByHash(tx, "i1"), "invitations::FindByHash");
           check(invitations::Consume(tx, t, "i1", UserId("u2"), 5), "invitations::Consume");
           check(invitations::List(tx, t), "invitations::List");
           check(invitations::Revoke(tx, t, "i1"), "invitations::Revoke");

           check(signing_keys::Insert(tx, {"k1", "ES256", "sealed", 1, {}}),
                 "signing_keys::Insert");
           check(signing_keys::Insert(tx, {"k0", "ES256", "sealed", 0, 5}),
                 "signing_keys::Insert retired");
           auto keys = signing_keys::ListActive(tx);
           check(keys, "signing_keys::ListActive");
           if (keys.ok()) {
             EXPECT_EQ(keys->size(), 1u);
           }

           check(sessions::Insert(tx, {sid, t, u, "", 1, 1, 1000, {}, 0, 0}), "sessions::Insert");
           check(sessions::Get(tx, t, sid), "sessions::Get");
           check(sessions::ListForUser(tx, t, u, 10), "sessions::ListForUser");
           check(sessions::ListForTenant(tx, t, 10), "sessions::ListForTenant");
           auto open = sessions::CountOpen(tx, t, u, 5, 0);
           check(open, "sessions::CountOpen");
           if (open.ok()) {
             EXPECT_EQ(*open, 1);
           }
           auto busy = sessions::TryMarkBusy(tx, t, sid, 5, 50);
           check(busy, "sessions::TryMarkBusy");
           if (busy.ok()) {
             EXPECT_TRUE(*busy);
           }
           check(sessions::FinishTurn(tx, t, sid, 6, 2, "hello"), "sessions::FinishTurn");
           check(sessions::End(tx, t, sid, 7), "sessions::End");

           check(messages::Insert(tx,
                                  {MessageId("m1"), t, sid, u, 1, "assistant", "hi", "[]", {}, 1}),
                 "messages::Insert");
           check(messages::ListForSession(tx, t, sid, 10), "messages::ListForSession");
           check(messages::NextSeq(tx, t, sid), "messages::NextSeq");

           check(counters::TryApply(tx, t, {{{"tenant", "m:2026-01", "messages"}, 1, 10}}),
                 "counters::TryApply");
           check(counters::Adjust(tx, t, {{{"tenant", "m:2026-01", "messages"}, -5, {}}}),
                 "counters::Adjust");
           auto counter = counters::Get(tx, t, {"tenant", "m:2026-01", "messages"});
           check(counter, "counters::Get");
           if (counter.ok()) {
             EXPECT_EQ(*counter, 0);  // never below zero
           }
           auto range = counters::ListRange(tx, t, "tenant", "m:2026-01", "m:2026-12");
           check(range, "counters::ListRange");
           if (range.ok()) {
             EXPECT_EQ(range->size(), 1u);
           }
           return Status::Ok();
         })
          .ok());
  ASSERT_TRUE(db_->Read([&](Tx& tx) -> Status {
                   auto s = sessions::Get(tx, t, sid);
                   check(s, "sessions::Get");
                   if (s.ok() && *s) {
                     EXPECT_EQ((*s)->title, "hello");
                     EXPECT_EQ((*s)->message_count, 2);
                     EXPECT_EQ((*s)->ended_at, 7);
                     EXPECT_EQ((*s)->busy_until, 0);
                   }
                   return Status::Ok();
                 })
                  .ok());
}

TEST_P(StorageTest, TenantDataIsInvisibleFromAnotherTenant) {
  UserRecord u{UserId("u1"), TenantId("acme"), "a@example.com", "hash", "user", false, 0, 0, 1};
  SessionRecord s{SessionId("s1"), TenantId("acme"), UserId("u1"), "", 1, 1, 100, {}, 0, 0};
  ASSERT_TRUE(db_->Write([&](Tx& tx) {
                   GH_RETURN_IF_ERROR(users::Insert(tx, u));
                   return sessions::Insert(tx, s);
                 })
                  .ok());
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
                 })
                  .ok());
  // Writes scoped to the wrong tenant change nothing.
  ASSERT_TRUE(
      db_->Write([&](Tx& tx) { return sessions::End(tx, TenantId("globex"), SessionId("s1"), 5); })
          .ok());
  ASSERT_TRUE(db_->Read([&](Tx& tx) -> Status {
                   auto sess = sessions::Get(tx, TenantId("acme"), SessionId("s1"));
                   EXPECT_FALSE((*sess)->ended_at.has_value());
                   return Status::Ok();
                 })
                  .ok());
}

TEST_P(StorageTest, AFailedUnitOfWorkLeavesNothingBehind) {
  Status st = db_->Write([&](Tx& tx) -> Status {
    GH_RETURN_IF_ERROR(users::Insert(
        tx, {UserId("u9"), TenantId("acme"), "x@example.com", "h", "user", false, 0, 0, 1}));
    return Status::Conflict("changed my mind");
  });
  EXPECT_EQ(st.code(), StatusCode::kConflict);
  ASSERT_TRUE(db_->Read([&](Tx& tx) -> Status {
                   auto u = users::FindByEmail(tx, "x@example.com");
                   EXPECT_FALSE(u->has_value());
                   return Status::Ok();
                 })
                  .ok());
}

// WriteDurable's writes are ordinary writes (committed, rolled back on error) on every backend, and
// no connection's settings change (SQLite stays at synchronous=NORMAL: the WAL is fsynced after
// the commit instead, see SqliteDurableWriteTest).
TEST_P(StorageTest, ADurableWriteCommitsLikeAWriteAndLeavesTheConnectionsAsTheyWere) {
  auto synchronous = [](Tx& tx) -> std::string {
    auto rows = tx.Query(GetParam() == "sqlite" ? "PRAGMA synchronous" : "SHOW synchronous_commit");
    EXPECT_TRUE(rows.ok()) << rows.status().ToString();
    if (!rows.ok() || rows->empty()) return "";
    const Value& v = (*rows)[0].value(0);
    if (const auto* i = std::get_if<int64_t>(&v)) return std::to_string(*i);
    if (const auto* t = std::get_if<std::string>(&v)) return *t;
    return "?";
  };
  std::string inside;
  ASSERT_TRUE(db_->WriteDurable([&](Tx& tx) -> Status {
                   inside = synchronous(tx);
                   return users::Insert(tx, {UserId("u7"), TenantId("acme"), "d@example.com", "h",
                                             "user", false, 0, 0, 1});
                 })
                  .ok());
  Status failed = db_->WriteDurable([&](Tx& tx) -> Status {
    GH_RETURN_IF_ERROR(users::Insert(
        tx, {UserId("u8"), TenantId("acme"), "e@example.com", "h", "user", false, 0, 0, 1}));
    return Status::Conflict("changed my mind");
  });
  EXPECT_EQ(failed.code(), StatusCode::kConflict);
  // Every pooled connection is back to the default: four readers hold the pool's four
  // connections at once, so each connection is seen.
  std::vector<std::string> after;
  std::mutex mu;
  std::latch all_in(4);
  std::vector<std::thread> readers;
  for (int i = 0; i < 4; ++i)
    readers.emplace_back([&] {
      (void)db_->Read([&](Tx& tx) -> Status {
        all_in.arrive_and_wait();
        std::string s = synchronous(tx);
        std::lock_guard lock(mu);
        after.push_back(s);
        return Status::Ok();
      });
    });
  for (auto& t : readers) t.join();
  EXPECT_EQ(after.size(), 4u);
  if (GetParam() == "sqlite") {
    EXPECT_EQ(inside, "1") << "NORMAL";
    for (const auto& a : after) EXPECT_EQ(a, "1") << "NORMAL";
  } else {
    EXPECT_EQ(inside, "on") << "synchronous_commit on for the durable unit";
    for (const auto& a : after) EXPECT_EQ(a, "off") << "the test server's setting elsewhere";
  }
  ASSERT_TRUE(db_->Read([&](Tx& tx) -> Status {
                   EXPECT_TRUE(users::FindByEmail(tx, "d@example.com")->has_value());
                   EXPECT_FALSE(users::FindByEmail(tx, "e@example.com")->has_value());
                   return Status::Ok();
                 })
                  .ok());
}

TEST_P(StorageTest, DuplicateEmailIsAConflict) {
  UserRecord u{UserId("u1"), TenantId("acme"), "dup@example.com", "h", "user", false, 0, 0, 1};
  ASSERT_TRUE(db_->Write([&](Tx& tx) { return users::Insert(tx, u); }).ok());
  u.id = UserId("u2");
  u.tenant_id = TenantId("globex");
  Status st = db_->Write([&](Tx& tx) { return users::Insert(tx, u); });
  EXPECT_EQ(st.code(), StatusCode::kConflict);
  EXPECT_EQ(st.error_code(), "constraint_violation");
}

// Adjust writes the increments of distinct counters in one statement, and a decrement or a
// counter named twice one at a time, in order: either way each counter ends at its sum, never
// below zero.
TEST_P(StorageTest, CountersAdjustSeveralAtOnceAndNeverGoBelowZero) {
  const TenantId t("acme");
  const CounterKey a{"tenant", "d:2026-02-01", "messages"}, b{"tenant", "d:2026-02-01", "tokens"},
      c{"user:alice", "m:2026-02", "messages"};
  auto adjust = [&](std::vector<CounterDelta> deltas) {
    ASSERT_TRUE(db_->Write([&](Tx& tx) { return counters::Adjust(tx, t, deltas); }).ok());
  };
  auto read = [&] {
    std::vector<int64_t> out;
    EXPECT_TRUE(db_->Read([&](Tx& tx) -> Status {
                     for (const auto& k : {a, b, c}) {
                       GH_ASSIGN_OR_RETURN(int64_t v, counters::Get(tx, t, k));
                       out.push_back(v);
                     }
                     return Status::Ok();
                   })
                    .ok());
    return out;
  };
  adjust({{a, 3, {}}, {b, 4, {}}, {c, 5, {}}});
  EXPECT_EQ(read(), (std::vector<int64_t>{3, 4, 5})) << "created by one statement";
  adjust({{a, 1, {}}, {b, 0, {}}, {c, 2, {}}});
  EXPECT_EQ(read(), (std::vector<int64_t>{4, 4, 7})) << "added to";
  adjust({{a, 1, {}}, {b, -10, {}}, {a, 2, {}}});
  EXPECT_EQ(read(), (std::vector<int64_t>{7, 0, 7})) << "a decrement stops at zero";
  adjust({{b, 1, {}}, {c, 1, {}}});
  EXPECT_EQ(read(), (std::vector<int64_t>{7, 1, 8}));
  ASSERT_TRUE(db_->Read([&](Tx& tx) -> Status {
                   GH_ASSIGN_OR_RETURN(int64_t other, counters::Get(tx, TenantId("globex"), a));
                   EXPECT_EQ(other, 0) << "another tenant's counter is untouched";
                   return Status::Ok();
                 })
                  .ok());
}

TEST_P(StorageTest, CountersRefuseAllDeltasWhenOneLimitWouldBeExceeded) {
  TenantId t("acme");
  std::vector<CounterDelta> deltas = {{{"tenant", "d:2026-11-22", "messages"}, 1, 5},
                                      {{"tenant", "m:2026-11", "messages"}, 1, 1}};
  std::optional<size_t> refused;
  ASSERT_TRUE(db_->Write([&](Tx& tx) -> Status {
                   GH_ASSIGN_OR_RETURN(refused, counters::TryApply(tx, t, deltas));
                   return Status::Ok();
                 })
                  .ok());
  EXPECT_FALSE(refused.has_value());
  ASSERT_TRUE(db_->Write([&](Tx& tx) -> Status {
                   GH_ASSIGN_OR_RETURN(refused, counters::TryApply(tx, t, deltas));
                   return Status::Ok();
                 })
                  .ok());
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(*refused, 1u);
  ASSERT_TRUE(db_->Read([&](Tx& tx) -> Status {
                   EXPECT_EQ(*counters::Get(tx, t, deltas[0].key),
                             1);  // the first delta was undone
                   EXPECT_EQ(*counters::Get(tx, t, deltas[1].key), 1);
                   EXPECT_EQ(*counters::Get(tx, TenantId("globex"), deltas[1].key), 0);
                   return Status::Ok();
                 })
                  .ok());
}

// 8 threads on two Database objects (two pools: two server processes sharing the database) each
// run `unit` 25 times; returns how many runs reported success.
int RunConcurrently(Database& a, Database& b, const std::function<bool(Database&)>& unit) {
  std::atomic<int> succeeded{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    Database* db = (i % 2) ? &b : &a;
    threads.emplace_back([db, &unit, &succeeded] {
      for (int j = 0; j < 25; ++j)
        if (unit(*db)) succeeded++;
    });
  }
  for (auto& t : threads) t.join();
  return succeeded.load();
}

TEST_P(StorageTest, ConcurrentReservationsFromTwoDatabaseHandlesNeverExceedTheLimit) {
  auto other = Open();
  ASSERT_TRUE(other);
  // Quota reservations are conditional updates: exact in a serialisable Write and at READ
  // COMMITTED.
  for (bool read_committed : {false, true}) {
    SCOPED_TRACE(read_committed ? "WriteReadCommitted" : "Write");
    const CounterKey key{"tenant", read_committed ? "d:rc" : "d:ser", "messages"};
    std::atomic<int> failed{0};
    int granted = RunConcurrently(*db_, *other, [&](Database& db) {
      std::optional<size_t> refused;
      auto unit = [&](Tx& tx) -> Status {
        GH_ASSIGN_OR_RETURN(refused, counters::TryApply(tx, TenantId("acme"), {{key, 1, 50}}));
        return Status::Ok();
      };
      Status st = read_committed ? db.WriteReadCommitted(unit) : db.Write(unit);
      if (!st.ok()) failed++;
      return st.ok() && !refused;
    });
    EXPECT_EQ(granted, 50);
    EXPECT_EQ(failed.load(), 0);
    ASSERT_TRUE(db_->Read([&](Tx& tx) -> Status {
                     EXPECT_EQ(*counters::Get(tx, TenantId("acme"), key), 50);
                     return Status::Ok();
                   })
                    .ok());
  }
}

TEST_P(StorageTest, ConcurrentCheckThenInsertUnitsFromTwoDatabaseHandlesKeepTheLimit) {
  // The shape of "at most 3 open sessions per user": count, then insert if under the limit.
  auto other = Open();
  ASSERT_TRUE(other);
  std::atomic<int> next_id{0};
  std::atomic<int> failed{0};
  int created = RunConcurrently(*db_, *other, [&](Database& db) {
    bool inserted = false;
    Status st = db.Write([&](Tx& tx) -> Status {
      inserted = false;
      GH_ASSIGN_OR_RETURN(int64_t open,
                          sessions::CountOpen(tx, TenantId("acme"), UserId("u1"), 5, 0));
      if (open >= 3) return Status::Ok();
      SessionId id("s" + std::to_string(next_id++));
      GH_RETURN_IF_ERROR(
          sessions::Insert(tx, {id, TenantId("acme"), UserId("u1"), "", 1, 1, 100, {}, 0, 0}));
      inserted = true;
      return Status::Ok();
    });
    if (!st.ok()) failed++;
    return st.ok() && inserted;
  });
  EXPECT_EQ(created, 3);
  EXPECT_EQ(failed.load(), 0);
  ASSERT_TRUE(db_->Read([&](Tx& tx) -> Status {
                   EXPECT_EQ(*sessions::CountOpen(tx, TenantId("acme"), UserId("u1"), 5, 0), 3);
                   return Status::Ok();
                 })
                  .ok());
}

TEST_P(StorageTest, ARefreshTokenRotatesOnlyOnce) {
  RefreshTokenRecord r{"h1", TenantId("acme"), UserId("u1"), "fam", 1000, false, false, 1};
  ASSERT_TRUE(db_->Write([&](Tx& tx) { return refresh_tokens::Insert(tx, r); }).ok());
  bool first = false, second = true;
  ASSERT_TRUE(
      db_->Write([&](Tx& tx) -> Status {
           GH_ASSIGN_OR_RETURN(first, refresh_tokens::MarkRotated(tx, TenantId("acme"), "h1"));
           GH_ASSIGN_OR_RETURN(second, refresh_tokens::MarkRotated(tx, TenantId("acme"), "h1"));
           return Status::Ok();
         })
          .ok());
  EXPECT_TRUE(first);
  EXPECT_FALSE(second);
}

TEST_P(StorageTest, AnInvitationIsConsumedOnceAndNotAfterExpiry) {
  InvitationRecord inv{"c1", TenantId("acme"), UserId("admin"), "user", 100, {}, false, 1};
  InvitationRecord old{"c2", TenantId("acme"), UserId("admin"), "user", 10, {}, false, 1};
  ASSERT_TRUE(db_->Write([&](Tx& tx) {
                   GH_RETURN_IF_ERROR(invitations::Insert(tx, inv));
                   return invitations::Insert(tx, old);
                 })
                  .ok());
  bool a = false, b = true, c = true, d = true;
  ASSERT_TRUE(db_->Write([&](Tx& tx) -> Status {
                   GH_ASSIGN_OR_RETURN(
                       d, invitations::Consume(tx, TenantId("globex"), "c1", UserId("x"), 50));
                   GH_ASSIGN_OR_RETURN(
                       a, invitations::Consume(tx, TenantId("acme"), "c1", UserId("u1"), 50));
                   GH_ASSIGN_OR_RETURN(
                       b, invitations::Consume(tx, TenantId("acme"), "c1", UserId("u2"), 50));
                   GH_ASSIGN_OR_RETURN(
                       c, invitations::Consume(tx, TenantId("acme"), "c2", UserId("u3"), 50));
                   return Status::Ok();
                 })
                  .ok());
  EXPECT_FALSE(d);
  EXPECT_TRUE(a);
  EXPECT_FALSE(b);
  EXPECT_FALSE(c);
}

TEST_P(StorageTest, MessagesComeBackInOrderLimitedToTheMostRecent) {
  ASSERT_TRUE(db_->Write([&](Tx& tx) -> Status {
                   for (int i = 1; i <= 5; ++i)
                     GH_RETURN_IF_ERROR(messages::Insert(tx, {MessageId("m" + std::to_string(i)),
                                                              TenantId("acme"),
                                                              SessionId("s"),
                                                              UserId("u"),
                                                              i,
                                                              "user",
                                                              "text" + std::to_string(i),
                                                              {},
                                                              {},
                                                              i}));
                   return Status::Ok();
                 })
                  .ok());
  ASSERT_TRUE(
      db_->Read([&](Tx& tx) -> Status {
           auto msgs = messages::ListForSession(tx, TenantId("acme"), SessionId("s"), 3);
           EXPECT_EQ(msgs->size(), 3u);
           EXPECT_EQ((*msgs)[0].content, "text3");
           EXPECT_EQ((*msgs)[2].content, "text5");
           EXPECT_EQ(*messages::NextSeq(tx, TenantId("acme"), SessionId("s")), 6);
           EXPECT_TRUE(
               messages::ListForSession(tx, TenantId("globex"), SessionId("s"), 3)->empty());
           return Status::Ok();
         })
          .ok());
}

// A database that predates the per-user monthly roll-up (migration 204) holds only the daily one:
// the migration fills the months from it, so whole-month reports read the same figures as before.
TEST_P(StorageTest, ThePerUserMonthlyRollupIsFilledFromTheDailyOneOnUpgrade) {
  const TenantId t("acme");
  auto totals = [](int64_t n) {
    return CostTotals{n, 10 * n, 20 * n, 30 * n, 40 * n, n, 1000 * n + 7, 1100 * n + 9};
  };
  auto sum = [&](std::initializer_list<int64_t> ns) {
    CostTotals s;
    for (int64_t n : ns) s += totals(n);
    return s;
  };
  const std::vector<CostRow> days = {
      {"2026-01-31", "u1", "model", "gpt-4o", totals(1)},
      {"2026-02-01", "u1", "model", "gpt-4o", totals(2)},
      {"2026-02-15", "u1", "model", "gpt-4o", totals(3)},
      {"2026-02-28", "u1", "tool", "get_current_weather", totals(4)},
      {"2026-02-28", "u2", "model", "gpt-4o", totals(5)},
      {"2026-03-01", "u2", "model", "gpt-4o", totals(6)},
  };
  ASSERT_TRUE(
      db_->Write([&](Tx& tx) -> Status {
           GH_RETURN_IF_ERROR(cost_rollups::AddDailyUser(tx, t, days));
           GH_RETURN_IF_ERROR(cost_rollups::AddDailyUser(tx, TenantId("globex"), days));
           // As before migration 204.
           GH_ASSIGN_OR_RETURN(int64_t n, tx.Exec("DROP TABLE cost_monthly_user"));
           GH_ASSIGN_OR_RETURN(n, tx.Exec("DELETE FROM schema_migrations WHERE version = 204"));
           return n == 1 ? Status::Ok() : Status::Internal("migration 204 was not recorded");
         })
          .ok());
  ASSERT_TRUE(Migrate(*db_).ok());
  ASSERT_TRUE(
      db_->Read([&](Tx& tx) -> Status {
           // February as a whole month (from the monthly roll-up) and as days: the same figures.
           GH_ASSIGN_OR_RETURN(auto by_month,
                               cost_rollups::ByUserService(tx, t, "2026-02-01", "2026-02-28"));
           GH_ASSIGN_OR_RETURN(auto by_day,
                               cost_rollups::ByUserService(tx, t, "2026-02-01", "2026-02-27"));
           EXPECT_EQ(by_month.size(), 3u);
           const std::map<std::pair<std::string, std::string>, CostTotals> want = {
               {{"u1", "model"}, sum({2, 3})},
               {{"u1", "tool"}, totals(4)},
               {{"u2", "model"}, totals(5)}};
           for (const auto& r : by_month)
             EXPECT_EQ(r.totals, want.at({r.user_id, r.service})) << r.user_id << " " << r.service;
           EXPECT_EQ(by_day.size(), 1u) << "the 28th is not in the days";
           GH_ASSIGN_OR_RETURN(auto u1, cost_rollups::UserByServiceResource(
                                            tx, t, UserId("u1"), "2026-01-31", "2026-03-01"));
           CostTotals u1_total;
           for (const auto& r : u1) u1_total += r.totals;
           EXPECT_EQ(u1_total, sum({1, 2, 3, 4}));
           return Status::Ok();
         })
          .ok());
  // A month added to after the upgrade adds to the filled-in row.
  ASSERT_TRUE(db_->Write([&](Tx& tx) {
                   return cost_rollups::AddMonthlyUser(
                       tx, t, {{"2026-02", "u2", "model", "gpt-4o", totals(1)}});
                 })
                  .ok());
  ASSERT_TRUE(db_->Read([&](Tx& tx) -> Status {
                   GH_ASSIGN_OR_RETURN(
                       auto u2, cost_rollups::UserByServiceResource(tx, t, UserId("u2"),
                                                                    "2026-02-01", "2026-02-28"));
                   EXPECT_EQ(u2.size(), 1u);
                   if (!u2.empty()) {
                     EXPECT_EQ(u2.front().totals, sum({5, 1}));
                   }
                   return Status::Ok();
                 })
                  .ok());
}

// Migrations 3 and 206 rebuild, on SQLite, the tables every completion writes as WITHOUT ROWID
// tables clustered on their keys (one B-tree page per insert instead of two), dropping the
// per-user roll-ups' covering indexes that the clustered tables replace. An upgraded database keeps
// every row; on PostgreSQL both are recorded and change nothing.
TEST_P(StorageTest, TheHotTablesAreClusteredOnTheirKeysOnSqliteAndKeepTheirRowsOnUpgrade) {
  const std::vector<std::string> tables = {
      "quota_counters",    "usage_events",        "cost_daily_user", "cost_monthly_user",
      "cost_daily_tenant", "cost_monthly_tenant", "metering_groups"};
  ASSERT_TRUE(
      db_->Write([&](Tx& tx) -> Status {
           for (int i = 0; i < 3; ++i) {
             const std::string n = std::to_string(i);
             GH_RETURN_IF_ERROR(
                 counters::Adjust(tx, TenantId("acme"), {{{"tenant", "2026-02", "m" + n}, 7, {}}}));
             GH_ASSIGN_OR_RETURN(bool fresh, metering_groups::Claim(tx, "g-" + n, 1000 + i));
             if (!fresh) return Status::Internal("a new group marker was found");
           }
           GH_RETURN_IF_ERROR(usage_events::InsertMany(
               tx, {{"e-1", TenantId("acme"), UserId("alice"), SessionId("s"), TraceId("t"), "sp",
                     "model", "gpt-4o", 1, 2, 3, 4, 5, 6, 7, "v1", "ok", "2026-02-01", 1000}}));
           const CostTotals t{1, 2, 3, 4, 5, 6, 7, 8};
           GH_RETURN_IF_ERROR(cost_rollups::AddDailyUser(
               tx, TenantId("acme"), {{"2026-02-01", "alice", "model", "gpt-4o", t}}));
           GH_RETURN_IF_ERROR(cost_rollups::AddMonthlyUser(
               tx, TenantId("acme"), {{"2026-02", "alice", "model", "gpt-4o", t}}));
           GH_RETURN_IF_ERROR(cost_rollups::AddDailyTenant(
               tx, TenantId("acme"), {{"2026-02-01", "", "model", "gpt-4o", t}}));
           return cost_rollups::AddMonthly(tx, TenantId("acme"), "2026-02", t);
         })
          .ok());
  auto counts = [&] {
    std::map<std::string, int64_t> out;
    EXPECT_TRUE(db_->Read([&](Tx& tx) -> Status {
                     for (const auto& t : tables) {
                       GH_ASSIGN_OR_RETURN(auto row, tx.QueryOne("SELECT COUNT(*) FROM " + t));
                       out[t] = row ? row->Int(0) : -1;
                     }
                     return Status::Ok();
                   })
                    .ok());
    return out;
  };
  const auto before = counts();
  EXPECT_EQ(before.at("quota_counters"), 3);
  EXPECT_EQ(before.at("metering_groups"), 3);
  // Run both again over the rows (as an upgrade from before them does).
  ASSERT_TRUE(
      db_->Write([](Tx& tx) {
           return tx.Exec("DELETE FROM schema_migrations WHERE version IN (3, 206)").status();
         })
          .ok());
  ASSERT_TRUE(Migrate(*db_).ok());
  EXPECT_EQ(counts(), before);
  // The rows still read back through the repositories.
  ASSERT_TRUE(
      db_->Read([&](Tx& tx) -> Status {
           GH_ASSIGN_OR_RETURN(int64_t m1,
                               counters::Get(tx, TenantId("acme"), {"tenant", "2026-02", "m1"}));
           EXPECT_EQ(m1, 7);
           GH_ASSIGN_OR_RETURN(auto by_user, cost_rollups::ByUserService(
                                                 tx, TenantId("acme"), "2026-02-01", "2026-02-01"));
           EXPECT_EQ(by_user.size(), 1u);
           return Status::Ok();
         })
          .ok());
  ASSERT_TRUE(
      db_->Read([&](Tx& tx) -> Status {
           const bool sqlite = GetParam() == "sqlite";
           for (const auto& t : tables) {
             if (!sqlite) break;
             GH_ASSIGN_OR_RETURN(
                 auto row, tx.QueryOne("SELECT sql FROM sqlite_schema WHERE type = 'table' AND "
                                       "name = ?",
                                       {t}));
             EXPECT_TRUE(row && row->Text(0).find("WITHOUT ROWID") != std::string::npos) << t;
           }
           GH_ASSIGN_OR_RETURN(
               auto cover,
               tx.QueryOne(sqlite ? "SELECT COUNT(*) FROM sqlite_schema WHERE type = 'index' AND "
                                    "name IN ('cost_daily_user_by_day_cover', "
                                    "'cost_monthly_user_by_month_cover')"
                                  : "SELECT COUNT(*) FROM pg_indexes WHERE indexname IN "
                                    "('cost_daily_user_by_day_cover', "
                                    "'cost_monthly_user_by_month_cover')"));
           EXPECT_EQ(cover ? cover->Int(0) : -1, sqlite ? 0 : 2)
               << "replaced by the clustered tables on SQLite only";
           return Status::Ok();
         })
          .ok());
}

// On SQLite a WriteDurable fsyncs the WAL after it committed (and only then returns); a Write
// does not, nor does a durable unit that rolled back.
TEST(SqliteDurableWriteTest, TheWalIsSyncedAfterADurableCommitOnly) {
  const fs::path dir = fs::temp_directory_path() / ("gh-durable-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::atomic<int> syncs{0};
  std::unique_ptr<Database> db;
  SqliteOptions opt{(dir / "db").string(), 2, 10'000};
  opt.after_wal_sync = [&] { ++syncs; };
  auto opened = OpenSqlite(opt);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  db = std::move(opened).value();
  ASSERT_TRUE(Migrate(*db).ok());
  const int after_migrations = syncs.load();
  EXPECT_EQ(after_migrations, 0) << "plain writes do not sync";
  ASSERT_TRUE(
      db->WriteDurable([](Tx& tx) {
          return tenants::Insert(tx, {TenantId("acme"), "Acme", "basic", "active", "UTC", 1});
        }).ok());
  EXPECT_EQ(syncs.load(), 1);
  EXPECT_EQ(db->WriteDurable([](Tx&) { return Status::Conflict("no"); }).code(),
            StatusCode::kConflict);
  EXPECT_EQ(syncs.load(), 1) << "nothing committed, nothing to sync";
  ASSERT_TRUE(
      db->Write([](Tx& tx) {
          return tenants::Insert(tx, {TenantId("globex"), "Globex", "basic", "active", "UTC", 1});
        }).ok());
  EXPECT_EQ(syncs.load(), 1);
  db.reset();
  fs::remove_all(dir);
}

// Statement journals and temporary tables stay in memory on every connection: a file in the
// temporary directory per metering group (created, unlinked, closed) cost three system calls.
TEST(SqliteOptionsTest, EveryConnectionKeepsTemporaryStorageInMemory) {
  const fs::path dir = fs::temp_directory_path() / ("gh-temp-store-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  auto opened = OpenSqlite({(dir / "db").string(), 3, 10'000});
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  std::unique_ptr<Database> db = std::move(opened).value();
  // Three reads at once hold the three connections.
  std::vector<std::thread> readers;
  std::atomic<int> in_memory{0}, inside{0};
  for (int i = 0; i < 3; ++i)
    readers.emplace_back([&] {
      ASSERT_TRUE(db->Read([&](Tx& tx) -> Status {
                      GH_ASSIGN_OR_RETURN(auto row, tx.QueryOne("PRAGMA temp_store"));
                      if (row && row->Int(0) == 2) ++in_memory;  // 2: MEMORY
                      ++inside;
                      while (inside.load() < 3) std::this_thread::yield();
                      return Status::Ok();
                    }).ok());
    });
  for (auto& t : readers) t.join();
  EXPECT_EQ(in_memory.load(), 3);
  db.reset();
  fs::remove_all(dir);
}

// Under a steady stream of commits the background checkpoint must still let the WAL rewind:
// commits landing while it copies used to leave a tail behind, after which the WAL was never
// rewound, grew by every commit (to 256 MiB before a RESTART checkpoint) and woke a checkpoint,
// with its two fsyncs, after each one.
// With the checkpointer allowed to copy the tail in a gap between writes (in this tight loop it
// rarely finds one and leaves it to the writers), and with only the next writer copying it.
class SqliteCheckpointTest : public ::testing::TestWithParam<bool> {};
INSTANTIATE_TEST_SUITE_P(TailCopiedBy, SqliteCheckpointTest, ::testing::Values(true, false),
                         [](const auto& info) {
                           return std::string(info.param ? "Checkpointer" : "NextWriter");
                         });

TEST_P(SqliteCheckpointTest, TheWalIsRewoundUnderASteadyStreamOfCommits) {
  const fs::path dir = fs::temp_directory_path() /
                       ("gh-ckpt-" + std::to_string(::getpid()) + (GetParam() ? "-c" : "-w"));
  fs::create_directories(dir);
  SqliteOptions opt{(dir / "db").string(), 2, 10'000};
  opt.checkpoint_pages = 64;
  opt.checkpointer_copies_tail = GetParam();
  auto opened = OpenSqlite(opt);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  std::unique_ptr<Database> db = std::move(opened).value();
  ASSERT_TRUE(
      db->Write([](Tx& tx) {
          return tx.Exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB NOT NULL)").status();
        }).ok());
  constexpr int kCommits = 4000;
  const std::string blob(3000, 'x');  // a page and a bit per commit
  uintmax_t largest = 0;
  for (int i = 0; i < kCommits; ++i) {
    ASSERT_TRUE(
        db->Write([&](Tx& tx) {
            return tx.Exec("INSERT INTO t (id, v) VALUES (?, ?)", {int64_t{i}, blob}).status();
          }).ok());
    if (i % 50 == 0) {
      std::error_code ec;
      largest = std::max(largest, fs::file_size(dir / "db-wal", ec));
    }
  }
  int64_t rows = 0;
  ASSERT_TRUE(db->Read([&](Tx& tx) -> Status {
                  GH_ASSIGN_OR_RETURN(auto r, tx.Query("SELECT COUNT(*) FROM t"));
                  rows = r.at(0).Int(0);
                  return Status::Ok();
                }).ok());
  EXPECT_EQ(rows, kCommits);
  // The WAL header's checkpoint sequence number (bytes 12-15, big-endian) counts its rewinds.
  // Never rewound, the WAL holds every commit: ~4000 x 2 frames of 4 KiB, about 33 MB.
  std::ifstream wal(dir / "db-wal", std::ios::binary);
  unsigned char hdr[16] = {};
  wal.read(reinterpret_cast<char*>(hdr), sizeof hdr);
  const uint32_t rewinds =
      (uint32_t{hdr[12]} << 24) | (uint32_t{hdr[13]} << 16) | (uint32_t{hdr[14]} << 8) | hdr[15];
  EXPECT_GE(rewinds, 3u) << "the WAL was never rewound; it grew to " << largest << " bytes";
  db.reset();
  fs::remove_all(dir);
}

TEST(SplitIntoMonthsTest, WholeMonthsInsideTheRangeAndTheDaysAtItsEdges) {
  using P = cost_rollups::RangePart;
  auto split = cost_rollups::SplitIntoMonths;
  // Partial months at both ends, whole months between.
  EXPECT_EQ(split("2026-01-20", "2026-04-10"),
            (std::vector<P>{{false, "2026-01-20", "2026-01-31"},
                            {true, "2026-02", "2026-03"},
                            {false, "2026-04-01", "2026-04-10"}}));
  // Whole months only; February in a common and in a leap year.
  EXPECT_EQ(split("2026-02-01", "2026-02-28"), (std::vector<P>{{true, "2026-02", "2026-02"}}));
  EXPECT_EQ(split("2028-02-01", "2028-02-28"),
            (std::vector<P>{{false, "2028-02-01", "2028-02-28"}}));
  EXPECT_EQ(split("2028-02-01", "2028-02-29"), (std::vector<P>{{true, "2028-02", "2028-02"}}));
  // Across a year, one whole month and a single day either side.
  EXPECT_EQ(split("2025-12-31", "2026-02-01"),
            (std::vector<P>{{false, "2025-12-31", "2025-12-31"},
                            {true, "2026-01", "2026-01"},
                            {false, "2026-02-01", "2026-02-01"}}));
  EXPECT_EQ(split("2025-12-01", "2026-01-15"),
            (std::vector<P>{{true, "2025-12", "2025-12"}, {false, "2026-01-01", "2026-01-15"}}));
  EXPECT_EQ(split("2026-01-31", "2026-03-01"),
            (std::vector<P>{{false, "2026-01-31", "2026-01-31"},
                            {true, "2026-02", "2026-02"},
                            {false, "2026-03-01", "2026-03-01"}}));
  // No whole month: days only.
  EXPECT_EQ(split("2026-02-02", "2026-02-28"),
            (std::vector<P>{{false, "2026-02-02", "2026-02-28"}}));
  EXPECT_EQ(split("2026-03-31", "2026-04-01"),
            (std::vector<P>{{false, "2026-03-31", "2026-04-01"}}));
  EXPECT_EQ(split("2026-03-01", "2026-03-01"),
            (std::vector<P>{{false, "2026-03-01", "2026-03-01"}}));
  // Not dates (the API refuses them first): passed on as days, never split.
  EXPECT_EQ(split("2026-02-30", "2026-04-01"),
            (std::vector<P>{{false, "2026-02-30", "2026-04-01"}}));
  EXPECT_EQ(split("2026-04-01", "2026-02-01"),
            (std::vector<P>{{false, "2026-04-01", "2026-02-01"}}));
}

INSTANTIATE_TEST_SUITE_P(Backends, StorageTest, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace gh::storage

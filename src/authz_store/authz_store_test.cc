// TenantStores over a real database, written once and run against SQLite and PostgreSQL (as the
// storage suite): what a tenant writes survives a restart, and one tenant never reaches another's
// stores.
#include "authz_store/tenant_stores.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

#include "authz/errors.h"
#include "authz/model_validate.h"
#include "storage/authz_repository.h"
#include "storage/repositories.h"
#include "storage/testing/postgres_server.h"

namespace gh::authz_store {
namespace {

namespace fs = std::filesystem;
using authz::CheckRequest;
using authz::TupleKey;
using authz::WriteRequest;

constexpr const char* kModel = R"(model
  schema 1.1
type user
type group
  relations
    define member: [user]
type document
  relations
    define owner: [user]
    define viewer: [user, group#member, user with weekday] or owner
condition weekday(day: string) {
  day != "sunday"
}
)";

TupleKey T(std::string user, std::string relation, std::string object) {
  return TupleKey{std::move(user), std::move(relation), std::move(object), std::nullopt};
}

const TenantId kAcme("acme");
const TenantId kGlobex("globex");

class TenantStoresTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("gh-authz-store-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++));
    fs::create_directories(dir_);
    std::string url = "sqlite:" + (dir_ / "db").string();
    if (GetParam() == "postgres") {
      auto pg = storage::testing::PostgresTestDatabase::Create();
      ASSERT_TRUE(pg.ok()) << pg.status().message();
      postgres_.emplace(std::move(pg).value());
      url = postgres_->url();
    }
    auto db = storage::OpenDatabase(url, {.pool_size = 4});
    ASSERT_TRUE(db.ok()) << db.status().message();
    db_ = std::move(db).value();
    ASSERT_TRUE(storage::Migrate(*db_).ok());
    stores_ = std::make_unique<TenantStores>(*db_, clock_, random_);
  }
  void TearDown() override {
    stores_.reset();
    db_.reset();
    postgres_.reset();
    fs::remove_all(dir_);
  }

  // A new process on the same database: everything comes back from storage.
  std::unique_ptr<TenantStores> Restart() {
    auto again = std::make_unique<TenantStores>(*db_, clock_, random_);
    Status loaded = again->Load();
    EXPECT_TRUE(loaded.ok()) << loaded.message();
    return again;
  }

  std::shared_ptr<authz::Store> NewStoreWithModel(const TenantId& tenant, std::string* model_id) {
    auto store = stores_->CreateStore(tenant, "docs");
    EXPECT_TRUE(store.ok()) << store.status().message();
    auto model = authz::ModelFromDsl(kModel);
    EXPECT_TRUE(model.ok()) << model.status().message();
    auto id = (*store)->WriteAuthorizationModel(*model);
    EXPECT_TRUE(id.ok()) << id.status().message();
    if (model_id) *model_id = *id;
    return *store;
  }

  static bool Allowed(const authz::Store& store, const std::string& user,
                      const std::string& relation, const std::string& object,
                      boost::json::object context = {}) {
    auto r = store.Check(CheckRequest{user, relation, object, {}, std::move(context), ""});
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() && *r;
  }

  static inline int counter_ = 0;
  fs::path dir_;
  std::optional<storage::testing::PostgresTestDatabase> postgres_;
  std::unique_ptr<storage::Database> db_;
  FakeClock clock_;
  SeededRandom random_{42};
  std::unique_ptr<TenantStores> stores_;
};

TEST_P(TenantStoresTest, StoresModelsAndTuplesSurviveARestart) {
  std::string model_id;
  auto store = NewStoreWithModel(kAcme, &model_id);
  TupleKey conditional = T("user:carl", "viewer", "document:plan");
  conditional.condition = authz::TupleCondition{"weekday", {{"day", "monday"}}};
  ASSERT_TRUE(store
                  ->Write(WriteRequest{{T("user:anne", "owner", "document:plan"),
                                        T("group:eng#member", "viewer", "document:roadmap"),
                                        T("user:bob", "member", "group:eng"),
                                        T("user:dan", "viewer", "document:plan"), conditional},
                                       {},
                                       ""})
                  .ok());
  ASSERT_TRUE(store->Write(WriteRequest{{}, {T("user:dan", "viewer", "document:plan")}, ""}).ok());

  auto again = Restart();
  auto loaded = again->GetStore(kAcme, store->record().id);
  ASSERT_TRUE(loaded.ok()) << loaded.status().message();
  EXPECT_EQ((*loaded)->record().name, "docs");
  EXPECT_EQ((*loaded)->TupleCount(), 4u);
  auto latest = (*loaded)->ResolveModel("");
  ASSERT_TRUE(latest.ok());
  EXPECT_EQ((*latest)->id(), model_id);
  EXPECT_TRUE(Allowed(**loaded, "user:anne", "viewer", "document:plan"));
  EXPECT_TRUE(Allowed(**loaded, "user:bob", "viewer", "document:roadmap"));
  EXPECT_FALSE(Allowed(**loaded, "user:dan", "viewer", "document:plan"));
  // The tuple's condition and its context came back too.
  EXPECT_TRUE(Allowed(**loaded, "user:carl", "viewer", "document:plan"));
}

TEST_P(TenantStoresTest, TheLatestModelIsTheLastOneWrittenEvenWithinOneMillisecond) {
  std::string first, second;
  auto store = NewStoreWithModel(kAcme, &first);
  auto model = authz::ModelFromDsl(kModel);
  ASSERT_TRUE(model.ok());
  for (int i = 0; i < 5; ++i) {  // ULIDs of one millisecond do not sort by creation
    auto id = store->WriteAuthorizationModel(*model);
    ASSERT_TRUE(id.ok());
    second = *id;
  }
  auto again = Restart();
  auto loaded = again->GetStore(kAcme, store->record().id);
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ((*loaded)->Models().size(), 6u);
  EXPECT_EQ((*(*loaded)->ResolveModel(""))->id(), second);
  EXPECT_TRUE((*loaded)->ResolveModel(first).ok());
}

TEST_P(TenantStoresTest, AnotherTenantsStoreIsAsAbsentAsAnUnknownOne) {
  auto store = NewStoreWithModel(kAcme, nullptr);
  const std::string id = store->record().id;
  ASSERT_TRUE(stores_->CreateStore(kGlobex, "globex's").ok());

  EXPECT_EQ(stores_->GetStore(kGlobex, id).status().error_code(), "store_id_not_found");
  EXPECT_EQ(stores_->DeleteStore(kGlobex, id).error_code(), "store_id_not_found");
  EXPECT_EQ(stores_->ReadChanges(kGlobex, id, "", 0, 50, "").status().error_code(),
            "store_id_not_found");
  ASSERT_EQ(stores_->ListStores(kGlobex).size(), 1u);
  EXPECT_NE(stores_->ListStores(kGlobex)[0].id, id);
  EXPECT_EQ(stores_->GetStore(TenantId("initech"), id).status().error_code(), "store_id_not_found");

  // The same holds after a restart, and the rows themselves carry the tenant.
  auto again = Restart();
  EXPECT_EQ(again->GetStore(kGlobex, id).status().error_code(), "store_id_not_found");
  EXPECT_TRUE(again->GetStore(kAcme, id).ok());
  ASSERT_TRUE(db_->Read([&](storage::Tx& tx) -> Status {
                   GH_ASSIGN_OR_RETURN(auto models, storage::authz_models::List(tx, kGlobex, id));
                   EXPECT_TRUE(models.empty());
                   GH_ASSIGN_OR_RETURN(auto mine, storage::authz_models::List(tx, kAcme, id));
                   EXPECT_EQ(mine.size(), 1u);
                   return Status::Ok();
                 })
                  .ok());
}

TEST_P(TenantStoresTest, DeletingAStoreRemovesItsRowsForGood) {
  auto store = NewStoreWithModel(kAcme, nullptr);
  const std::string id = store->record().id;
  ASSERT_TRUE(store->Write(WriteRequest{{T("user:anne", "owner", "document:1")}, {}, ""}).ok());
  ASSERT_TRUE(stores_->DeleteStore(kAcme, id).ok());
  EXPECT_EQ(stores_->GetStore(kAcme, id).status().error_code(), "store_id_not_found");
  auto again = Restart();
  EXPECT_EQ(again->GetStore(kAcme, id).status().error_code(), "store_id_not_found");
  EXPECT_TRUE(again->ListStores(kAcme).empty());
}

TEST_P(TenantStoresTest, TheChangeLogPagesInWriteOrderAndFiltersByTypeAndTime) {
  auto store = NewStoreWithModel(kAcme, nullptr);
  const std::string id = store->record().id;
  ASSERT_TRUE(store
                  ->Write(WriteRequest{
                      {T("user:anne", "owner", "document:1"), T("user:bob", "member", "group:eng")},
                      {},
                      ""})
                  .ok());
  clock_.Advance(std::chrono::seconds(10));
  const int64_t later = clock_.NowUnixMillis();
  ASSERT_TRUE(store->Write(WriteRequest{{}, {T("user:anne", "owner", "document:1")}, ""}).ok());

  auto first = stores_->ReadChanges(kAcme, id, "", 0, 2, "");
  ASSERT_TRUE(first.ok()) << first.status().message();
  ASSERT_EQ(first->changes.size(), 2u);
  EXPECT_EQ(first->changes[0].tuple.object, "document:1");
  EXPECT_EQ(first->changes[0].operation, authz::TupleOperation::kWrite);
  auto second = stores_->ReadChanges(kAcme, id, "", 0, 2, first->continuation_token);
  ASSERT_TRUE(second.ok());
  ASSERT_EQ(second->changes.size(), 1u);
  EXPECT_EQ(second->changes[0].operation, authz::TupleOperation::kDelete);
  EXPECT_EQ(second->changes[0].timestamp_ms, later);
  // At the end the token still comes back, to poll from.
  auto none = stores_->ReadChanges(kAcme, id, "", 0, 2, second->continuation_token);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->changes.empty());
  EXPECT_EQ(none->continuation_token, second->continuation_token);

  auto groups = stores_->ReadChanges(kAcme, id, "group", 0, 50, "");
  ASSERT_TRUE(groups.ok());
  ASSERT_EQ(groups->changes.size(), 1u);
  EXPECT_EQ(groups->changes[0].tuple.user, "user:bob");
  auto recent = stores_->ReadChanges(kAcme, id, "", later, 50, "");
  ASSERT_TRUE(recent.ok());
  EXPECT_EQ(recent->changes.size(), 1u);
  EXPECT_EQ(stores_->ReadChanges(kAcme, id, "", 0, 50, "not-a-token").status().error_code(),
            "invalid_continuation_token");
}

TEST_P(TenantStoresTest, AWriteTheDatabaseRefusesChangesNothingInMemory) {
  auto store = NewStoreWithModel(kAcme, nullptr);
  // The store's row disappears behind the engine's back: the next write cannot be persisted.
  ASSERT_TRUE(
      db_->Write([&](storage::Tx& tx) -> Status {
           return tx.Exec("DELETE FROM authz_stores WHERE id = ?", {store->record().id}).status();
         })
          .ok());
  Status st = store->Write(WriteRequest{{T("user:anne", "owner", "document:1")}, {}, ""});
  EXPECT_FALSE(st.ok());
  EXPECT_EQ(store->TupleCount(), 0u);
  EXPECT_FALSE(Allowed(*store, "user:anne", "viewer", "document:1"));
}

TEST_P(TenantStoresTest, ReadTimestampsAreTheTuplesWriteTimes) {
  auto store = NewStoreWithModel(kAcme, nullptr);
  const int64_t at = clock_.NowUnixMillis();
  ASSERT_TRUE(store->Write(WriteRequest{{T("user:anne", "owner", "document:1")}, {}, ""}).ok());
  auto times = stores_->WrittenAt(
      kAcme, store->record().id,
      {T("user:anne", "owner", "document:1"), T("user:zed", "owner", "document:1")});
  ASSERT_TRUE(times.ok());
  EXPECT_EQ(*times, (std::vector<int64_t>{at, 0}));
}

TEST_P(TenantStoresTest, TheAgentUsesTheTenantsOldestStore) {
  EXPECT_EQ(stores_->AgentStore(kAcme), nullptr);
  auto first = stores_->CreateStore(kAcme, "first");
  clock_.Advance(std::chrono::milliseconds(5));
  auto second = stores_->CreateStore(kAcme, "second");
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ(stores_->AgentStore(kAcme), *first);
  EXPECT_EQ(stores_->AgentStore(kGlobex), nullptr);
  ASSERT_TRUE(stores_->DeleteStore(kAcme, (*first)->record().id).ok());
  EXPECT_EQ(stores_->AgentStore(kAcme), *second);
}

TEST_P(TenantStoresTest, AnotherProcessSeesWritesModelsAndDeletionsAfterARefresh) {
  // Two processes on one database, each with its own memory.
  auto other = Restart();
  std::string first_model;
  auto store = NewStoreWithModel(kAcme, &first_model);
  const std::string id = store->record().id;
  ASSERT_TRUE(store->Write(WriteRequest{{T("user:anne", "owner", "document:plan")}, {}, ""}).ok());
  EXPECT_EQ(other->GetStore(kAcme, id).status().error_code(), "store_id_not_found");

  ASSERT_TRUE(other->Refresh().ok());
  auto seen = other->GetStore(kAcme, id);
  ASSERT_TRUE(seen.ok()) << seen.status().message();
  EXPECT_TRUE(Allowed(**seen, "user:anne", "viewer", "document:plan"));
  EXPECT_EQ(other->AgentStore(kAcme), *seen);

  // A revocation, a grant and a new model version made here reach the other process.
  ASSERT_TRUE(store
                  ->Write(WriteRequest{{T("user:bob", "owner", "document:plan")},
                                       {T("user:anne", "owner", "document:plan")},
                                       ""})
                  .ok());
  auto model = authz::ModelFromDsl(kModel);
  ASSERT_TRUE(model.ok());
  auto second_model = store->WriteAuthorizationModel(*model);
  ASSERT_TRUE(second_model.ok());
  ASSERT_TRUE(other->Refresh().ok());
  EXPECT_FALSE(Allowed(**seen, "user:anne", "viewer", "document:plan"));
  EXPECT_TRUE(Allowed(**seen, "user:bob", "viewer", "document:plan"));
  EXPECT_EQ((*(*seen)->ResolveModel(""))->id(), *second_model);

  // Writes the other process makes itself are not disturbed by catching up, in either direction.
  ASSERT_TRUE((*seen)->Write(WriteRequest{{T("user:carl", "owner", "document:x")}, {}, ""}).ok());
  auto third_model = (*seen)->WriteAuthorizationModel(*model);
  ASSERT_TRUE(third_model.ok());
  ASSERT_TRUE(other->Refresh().ok());
  ASSERT_TRUE(stores_->Refresh().ok());
  EXPECT_TRUE(Allowed(**seen, "user:carl", "viewer", "document:x"));
  EXPECT_TRUE(Allowed(*store, "user:carl", "viewer", "document:x"));
  EXPECT_EQ((*store->ResolveModel(""))->id(), *third_model);
  EXPECT_EQ((*(*seen)->ResolveModel(""))->id(), *third_model);
  EXPECT_EQ(store->TupleCount(), (*seen)->TupleCount());
  EXPECT_EQ(store->Models().size(), 3u);

  // A deletion too.
  ASSERT_TRUE(stores_->DeleteStore(kAcme, id).ok());
  ASSERT_TRUE(other->Refresh().ok());
  EXPECT_EQ(other->GetStore(kAcme, id).status().error_code(), "store_id_not_found");
  EXPECT_EQ(other->AgentStore(kAcme), nullptr);
}

TEST_P(TenantStoresTest, TheBackgroundRefreshCatchesUpWithoutBeingAsked) {
  auto other = Restart();
  other->StartRefreshing(std::chrono::milliseconds(10));
  auto store = NewStoreWithModel(kAcme, nullptr);
  ASSERT_TRUE(store->Write(WriteRequest{{T("user:anne", "owner", "document:plan")}, {}, ""}).ok());
  bool seen = false;
  for (int i = 0; i < 500 && !seen; ++i) {
    auto s = other->GetStore(kAcme, store->record().id);
    seen = s.ok() && (*s)->TupleCount() == 1;
    if (!seen) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(seen);
}

INSTANTIATE_TEST_SUITE_P(Backends, TenantStoresTest, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace gh::authz_store

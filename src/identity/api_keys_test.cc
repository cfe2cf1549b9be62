// API keys: what is stored, who may see and revoke what, and when a presented key is refused.
#include "identity/api_keys.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "crypto/hash.h"
#include "storage/limits_repository.h"
#include "storage/repositories.h"
#include "storage/testing/counting_database.h"
#include "tenancy/directory.h"

namespace gh::identity {
namespace {

namespace st = gh::storage;
using namespace std::chrono_literals;

class ApiKeysTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("gh-apikeys-" + std::to_string(::getpid()) + "-" + std::to_string(n_++));
    std::filesystem::create_directories(dir_);
    db_ = std::move(st::OpenSqlite({(dir_ / "db").string(), 2, 5000})).value();
    ASSERT_TRUE(st::Migrate(*db_).ok());
    ASSERT_TRUE(db_->Write([](st::Tx& tx) -> Status {
                     GH_RETURN_IF_ERROR(st::tenants::Insert(
                         tx, {TenantId("acme"), "Acme", "advanced", "active", "UTC", 0}));
                     GH_RETURN_IF_ERROR(st::tenants::Insert(
                         tx, {TenantId("globex"), "Globex", "basic", "active", "UTC", 0}));
                     GH_RETURN_IF_ERROR(
                         st::users::Insert(tx, {UserId("alice"), TenantId("acme"),
                                                "alice@acme.test", "x", "admin", true, 0, 0, 0}));
                     GH_RETURN_IF_ERROR(
                         st::users::AddGroup(tx, TenantId("acme"), UserId("alice"), "acme-admins"));
                     GH_RETURN_IF_ERROR(
                         st::users::Insert(tx, {UserId("bob"), TenantId("acme"), "bob@acme.test",
                                                "x", "user", true, 0, 0, 0}));
                     return st::users::Insert(
                         tx, {UserId("gina"), TenantId("globex"), "gina@globex.test", "x", "admin",
                              true, 0, 0, 0});
                   })
                    .ok());
    counting_ = std::make_unique<st::CountingDatabase>(*db_);
    directory_ = std::make_unique<tenancy::Directory>(*db_, clock_);
    keys_ = std::make_unique<ApiKeyService>(
        *counting_, clock_, rng_, ApiKeyOptions{.max_active_keys_per_user = 3}, directory_.get());
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  static Principal Who(const char* tenant, const char* user, bool admin = false) {
    Principal p;
    p.tenant_id = TenantId(tenant);
    p.user_id = UserId(user);
    if (admin) p.groups.push_back(std::string(tenant) + "-admins");
    return p;
  }
  CreatedApiKey Create(const Principal& who, const std::string& name = "laptop") {
    auto k = keys_->Create(who, name);
    EXPECT_TRUE(k.ok()) << k.status().ToString();
    return *k;
  }
  std::vector<st::ApiKeyRecord> Stored() {
    std::vector<st::ApiKeyRecord> rows;
    EXPECT_TRUE(db_->Read([&](st::Tx& tx) -> Status {
                     GH_ASSIGN_OR_RETURN(rows, st::api_keys::ListForTenant(tx, TenantId("acme")));
                     return Status::Ok();
                   })
                    .ok());
    return rows;
  }

  static inline int n_ = 0;
  std::filesystem::path dir_;
  std::unique_ptr<st::Database> db_;
  std::unique_ptr<st::CountingDatabase> counting_;  // what the service sees
  std::unique_ptr<tenancy::Directory> directory_;
  FakeClock clock_;
  SeededRandom rng_{7};
  std::unique_ptr<ApiKeyService> keys_;
  Principal alice_ = Who("acme", "alice", true);
  Principal bob_ = Who("acme", "bob");
  Principal gina_ = Who("globex", "gina", true);
};

TEST_F(ApiKeysTest, AKeyIsShownOnceAndStoredOnlyAsItsHash) {
  auto created = Create(bob_, "  CI runner  ");
  const std::string& key = created.key.reveal();
  EXPECT_TRUE(key.starts_with("gh_"));
  EXPECT_EQ(key.size(), 46u) << "gh_ + 43 base64url characters (256 bits)";
  EXPECT_EQ(created.info.name, "CI runner");
  EXPECT_EQ(created.info.prefix, key.substr(0, 11));
  auto rows = Stored();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].key_hash, crypto::Sha256Hex(key));
  EXPECT_EQ(rows[0].user_id.value(), "bob");
  EXPECT_EQ(rows[0].key_hash.find(key.substr(3)), std::string::npos);
  EXPECT_EQ(rows[0].prefix.size(), 11u) << "the display prefix is 48 of the 256 bits";
  auto second = Create(bob_);
  EXPECT_NE(second.key.reveal(), key);
}

TEST_F(ApiKeysTest, AKeyResolvesToItsUsersPrincipalAndFollowsRoleChanges) {
  auto created = Create(bob_);
  auto p = keys_->Authenticate(created.key.reveal());
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->user_id.value(), "bob");
  EXPECT_EQ(p->tenant_id.value(), "acme");
  EXPECT_EQ(p->email, "bob@acme.test");
  EXPECT_EQ(p->subscription_tier, "advanced");
  EXPECT_EQ(p->token_id, created.info.id);
  EXPECT_TRUE(p->api_key);
  EXPECT_FALSE(p->IsTenantAdmin());
  // A role change made through this process (AdminService / IdentityService report it to the
  // directory) applies to the very next request, cached principal or not.
  ASSERT_TRUE(db_->Write([](st::Tx& tx) {
                   return st::users::AddGroup(tx, TenantId("acme"), UserId("bob"), "acme-admins");
                 })
                  .ok());
  directory_->ForgetUser(TenantId("acme"), UserId("bob"));
  EXPECT_TRUE(keys_->Authenticate(created.key.reveal())->IsTenantAdmin());
  // One made by another process (`gatehouse admin operators add`) within the cache's TTL.
  ASSERT_TRUE(
      db_->Write([](st::Tx& tx) { return st::operators::Add(tx, "bob@acme.test", 0); }).ok());
  clock_.Advance(2s);
  auto op = keys_->Authenticate(created.key.reveal());
  EXPECT_NE(std::find(op->groups.begin(), op->groups.end(), "platform-operators"),
            op->groups.end());
}

// Issue 4 ("Performance"): a resolved key is cached; revocation must still apply at once.
TEST_F(ApiKeysTest, AResolvedKeyIsServedFromTheCacheWithoutADatabaseRead) {
  auto created = Create(bob_);
  counting_->Reset();
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(keys_->Authenticate(created.key.reveal()).ok());
  EXPECT_EQ(counting_->reads(), 1);
  EXPECT_EQ(counting_->writes(), 1) << "last_used_at, once";
  clock_.Advance(2s);
  ASSERT_TRUE(keys_->Authenticate(created.key.reveal()).ok());
  EXPECT_EQ(counting_->reads(), 2) << "read again once the TTL is over";
}

TEST_F(ApiKeysTest, ARevokedKeyIsRefusedAtOnceDespiteTheCache) {
  auto created = Create(bob_);
  ASSERT_TRUE(keys_->Authenticate(created.key.reveal()).ok());
  ASSERT_TRUE(keys_->Authenticate(created.key.reveal()).ok()) << "now cached";
  ASSERT_TRUE(keys_->Revoke(bob_, created.info.id).ok());
  EXPECT_EQ(keys_->Authenticate(created.key.reveal()).status().error_code(), "invalid_api_key")
      << "the very next request, without waiting for the TTL";
}

// A revocation forgets only that key, here and (through its announcement) on the other replicas:
// every other cached key is still served without a database read.
TEST_F(ApiKeysTest, ARevocationForgetsOnlyThatKeyHereAndOnTheReplicasThatHearIt) {
  auto kept = Create(bob_, "kept");
  auto revoked = Create(bob_, "revoked");
  ApiKeyService replica(*counting_, clock_, rng_, {}, directory_.get());  // another process's
  for (ApiKeyService* s : {keys_.get(), &replica}) {
    ASSERT_TRUE(s->Authenticate(kept.key.reveal()).ok());
    ASSERT_TRUE(s->Authenticate(revoked.key.reveal()).ok());
  }
  ASSERT_TRUE(keys_->Revoke(bob_, revoked.info.id).ok());
  // What the replica's listener hands it (SQLite announces nothing: the test plays the NOTIFY).
  replica.Heard(
      {std::string(ApiKeyService::kRevokedTopic), ApiKeyService::HashKey(revoked.key.reveal())});
  counting_->Reset();
  for (ApiKeyService* s : {keys_.get(), &replica}) {
    EXPECT_TRUE(s->Authenticate(kept.key.reveal()).ok());
    EXPECT_EQ(s->Authenticate(revoked.key.reveal()).status().error_code(), "invalid_api_key");
  }
  EXPECT_EQ(counting_->reads(), 2) << "only the revoked key was read again, once per process";
  replica.Heard({std::string(ApiKeyService::kRevokedTopic), ""});  // every key (operators)
  counting_->Reset();
  EXPECT_TRUE(replica.Authenticate(kept.key.reveal()).ok());
  EXPECT_EQ(counting_->reads(), 1);
}

TEST_F(ApiKeysTest, AKeyOfAUserRemovedThroughThisProcessIsRefusedAtOnceDespiteTheCache) {
  auto created = Create(bob_);
  ASSERT_TRUE(keys_->Authenticate(created.key.reveal()).ok());
  ASSERT_TRUE(db_->Write([](st::Tx& tx) {
                   return st::user_admin::RemoveUser(tx, TenantId("acme"), UserId("bob"), 1);
                 })
                  .ok());
  directory_->ForgetUser(TenantId("acme"),
                         UserId("bob"));  // what AdminService::RemoveUser does after committing
  EXPECT_EQ(keys_->Authenticate(created.key.reveal()).status().error_code(), "invalid_api_key");
}

TEST_F(ApiKeysTest, AKeyRevokedByAnotherProcessIsRefusedWithinTheTtl) {
  auto created = Create(bob_);
  ASSERT_TRUE(keys_->Authenticate(created.key.reveal()).ok());
  // Another replica on the same database revokes it.
  ASSERT_TRUE(db_->Write([&](st::Tx& tx) {
                   return st::api_keys::Revoke(tx, TenantId("acme"), created.info.id,
                                               clock_.NowUnixMillis())
                       .status();
                 })
                  .ok());
  clock_.Advance(1999ms);
  EXPECT_TRUE(keys_->Authenticate(created.key.reveal()).ok())
      << "the documented bound: up to the TTL";
  clock_.Advance(1ms);
  EXPECT_EQ(keys_->Authenticate(created.key.reveal()).status().error_code(), "invalid_api_key");
}

TEST_F(ApiKeysTest, RevokedUnknownAndMalformedKeysAreRefusedAlike) {
  auto created = Create(bob_);
  ASSERT_TRUE(keys_->Revoke(bob_, created.info.id).ok());
  for (const std::string& presented :
       {created.key.reveal(), std::string("gh_") + std::string(43, 'A'), std::string("gh_short"),
        created.key.reveal() + "A", std::string("gh_") + std::string(42, 'A') + "!"}) {
    auto p = keys_->Authenticate(presented);
    EXPECT_EQ(p.status().code(), StatusCode::kUnauthenticated) << presented;
    EXPECT_EQ(p.status().error_code(), "invalid_api_key") << presented;
  }
  EXPECT_TRUE(ApiKeyService::LooksLikeApiKey("gh_x"));
  EXPECT_FALSE(ApiKeyService::LooksLikeApiKey("eyJhbGciOiJFUzI1NiJ9.e30.sig"));
}

TEST_F(ApiKeysTest, AKeyOfARemovedUserIsRefused) {
  auto created = Create(bob_);
  ASSERT_TRUE(db_->Write([](st::Tx& tx) {
                   return st::user_admin::RemoveUser(tx, TenantId("acme"), UserId("bob"), 1);
                 })
                  .ok());
  EXPECT_EQ(keys_->Authenticate(created.key.reveal()).status().error_code(), "invalid_api_key");
}

TEST_F(ApiKeysTest, UsersListTheirOwnKeysWithoutSecretsAndAdminsTheTenants) {
  Create(bob_, "bob-1");
  Create(alice_, "alice-1");
  Create(gina_, "gina-1");
  auto mine = keys_->List(bob_, false);
  ASSERT_TRUE(mine.ok());
  ASSERT_EQ(mine->size(), 1u);
  EXPECT_EQ((*mine)[0].name, "bob-1");
  EXPECT_EQ(keys_->List(bob_, true).status().code(), StatusCode::kPermissionDenied);
  auto tenant = keys_->List(alice_, true);
  ASSERT_TRUE(tenant.ok());
  EXPECT_EQ(tenant->size(), 2u) << "acme's keys, not globex's";
  for (const auto& k : *tenant) EXPECT_NE(k.name, "gina-1");
}

TEST_F(ApiKeysTest, RevocationIsScopedToTheOwnerOrTheTenantsAdmins) {
  auto bobs = Create(bob_);
  auto alices = Create(alice_);
  EXPECT_EQ(keys_->Revoke(bob_, alices.info.id).error_code(), "api_key_not_found")
      << "a user cannot revoke another's key";
  EXPECT_EQ(keys_->Revoke(gina_, bobs.info.id).error_code(), "api_key_not_found")
      << "another tenant's admin sees nothing";
  EXPECT_EQ(keys_->Revoke(bob_, "no-such-key").error_code(), "api_key_not_found");
  EXPECT_TRUE(keys_->Authenticate(bobs.key.reveal()).ok());
  EXPECT_TRUE(keys_->Revoke(alice_, bobs.info.id).ok())
      << "the tenant's admin can revoke any of its keys";
  EXPECT_FALSE(keys_->Authenticate(bobs.key.reveal()).ok());
  EXPECT_TRUE(keys_->Revoke(bob_, bobs.info.id).ok()) << "revoking again is harmless";
  auto listed = keys_->List(bob_, false);
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_TRUE((*listed)[0].revoked_at.has_value());
}

TEST_F(ApiKeysTest, CreationNeedsAnAccessTokenAValidNameAndRoomForAnotherKey) {
  Principal via_key = bob_;
  via_key.api_key = true;
  EXPECT_EQ(keys_->Create(via_key, "x").status().error_code(), "access_token_required");
  EXPECT_EQ(keys_->Create(bob_, "   ").status().error_code(), "invalid_name");
  EXPECT_EQ(keys_->Create(bob_, std::string(101, 'n')).status().error_code(), "invalid_name");
  EXPECT_EQ(keys_->Create(bob_, "tab\there").status().error_code(), "invalid_name");
  auto first = Create(bob_, "1");
  Create(bob_, "2");
  Create(bob_, "3");
  EXPECT_EQ(keys_->Create(bob_, "4").status().error_code(), "too_many_api_keys");
  ASSERT_TRUE(keys_->Revoke(bob_, first.info.id).ok());
  EXPECT_TRUE(keys_->Create(bob_, "4").ok()) << "revoked keys do not count";
}

TEST_F(ApiKeysTest, LastUsedIsRecordedAtMostOnceAMinute) {
  auto created = Create(bob_);
  ASSERT_FALSE(Stored()[0].last_used_at.has_value());
  const int64_t t0 = clock_.NowUnixMillis();
  ASSERT_TRUE(keys_->Authenticate(created.key.reveal()).ok());
  EXPECT_EQ(Stored()[0].last_used_at, t0);
  clock_.Advance(std::chrono::seconds(30));
  ASSERT_TRUE(keys_->Authenticate(created.key.reveal()).ok());
  EXPECT_EQ(Stored()[0].last_used_at, t0) << "not rewritten within the minute";
  clock_.Advance(std::chrono::seconds(31));
  ASSERT_TRUE(keys_->Authenticate(created.key.reveal()).ok());
  EXPECT_EQ(Stored()[0].last_used_at, t0 + 61'000);
}

}  // namespace
}  // namespace gh::identity

// Directory: tenant rows and user caps from a short-lived cache, with this process's changes seen
// at once (AdminService reports them) and other processes' within the TTL.
#include "tenancy/directory.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "storage/repositories.h"
#include "storage/testing/counting_database.h"
#include "tenancy/admin_service.h"
#include "tenancy/plan_store.h"
#include "tenancy/quota.h"

namespace gh::tenancy {
namespace {

namespace st = gh::storage;
using namespace std::chrono_literals;

class DirectoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("gh-directory-" + std::to_string(::getpid()) + "-" + std::to_string(n_++));
    std::filesystem::create_directories(dir_);
    db_ = std::move(st::OpenSqlite({(dir_ / "db").string(), 2, 10'000})).value();
    ASSERT_TRUE(st::Migrate(*db_).ok());
    ASSERT_TRUE(db_->Write([](st::Tx& tx) -> Status {
                     GH_RETURN_IF_ERROR(st::tenants::Insert(
                         tx, {TenantId("acme"), "Acme", "basic", "active", "UTC", 0}));
                     GH_RETURN_IF_ERROR(
                         st::users::Insert(tx, {UserId("alice"), TenantId("acme"),
                                                "alice@acme.test", "x", "admin", true, 0, 0, 0}));
                     GH_RETURN_IF_ERROR(
                         st::users::AddGroup(tx, TenantId("acme"), UserId("alice"), "acme-admins"));
                     return st::users::Insert(tx, {UserId("bob"), TenantId("acme"), "bob@acme.test",
                                                   "x", "user", true, 0, 0, 0});
                   })
                    .ok());
    counting_ = std::make_unique<st::CountingDatabase>(*db_);
    directory_ = std::make_unique<Directory>(*counting_, clock_);
    plans_ = std::make_unique<PlanStore>(PlanCatalog::Defaults().plans(), *db_, clock_);
    ASSERT_TRUE(plans_->Load().ok());
    quota_ = std::make_unique<QuotaService>(*db_, clock_, directory_.get());
    admin_ = std::make_unique<AdminService>(*db_, clock_, rng_, *plans_, *quota_, directory_.get());
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  static inline int n_ = 0;
  std::filesystem::path dir_;
  std::unique_ptr<st::Database> db_;
  std::unique_ptr<st::CountingDatabase> counting_;
  FakeClock clock_;
  SeededRandom rng_{3};
  std::unique_ptr<Directory> directory_;
  std::unique_ptr<PlanStore> plans_;
  std::unique_ptr<QuotaService> quota_;
  std::unique_ptr<AdminService> admin_;
  TenantId acme_{"acme"};
  UserId bob_{"bob"};
};

TEST_F(DirectoryTest, ATenantIsReadOnceWhileFresh) {
  for (int i = 0; i < 5; ++i) {
    auto t = directory_->Tenant(acme_);
    ASSERT_TRUE(t.ok() && t->has_value());
    EXPECT_EQ((*t)->tier, "basic");
  }
  EXPECT_EQ(counting_->reads(), 1);
  auto missing = directory_->Tenant(TenantId("nobody"));
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());
  EXPECT_FALSE(directory_->Tenant(TenantId("nobody"))->has_value());
  EXPECT_EQ(counting_->reads(), 3) << "absence is not cached: a tenant created meanwhile is found";
}

TEST_F(DirectoryTest, ChangesMadeThroughThisProcessAreSeenAtOnce) {
  ASSERT_EQ((*directory_->Tenant(acme_))->status, "active");
  ASSERT_TRUE(admin_->SetTenantStatus(acme_, "suspended").ok());
  EXPECT_EQ((*directory_->Tenant(acme_))->status, "suspended")
      << "a suspension applies to the next request";
  ASSERT_TRUE(admin_->SetTenantPlan(acme_, "premium").ok());
  EXPECT_EQ((*directory_->Tenant(acme_))->tier, "premium");
  ASSERT_TRUE(admin_->SetTimezone(acme_, "Europe/Paris").ok());
  EXPECT_EQ((*directory_->Tenant(acme_))->timezone, "Europe/Paris");

  EXPECT_FALSE(directory_->Caps(acme_, bob_)->messages_per_day.has_value());
  st::UserCaps caps;
  caps.messages_per_day = 3;
  const Plan& basic = *plans_->Current()->Find("basic");
  ASSERT_TRUE(admin_->SetUserCaps(acme_, basic, bob_, caps).ok());
  EXPECT_EQ(directory_->Caps(acme_, bob_)->messages_per_day, 3);
  auto limits = quota_->LimitsFor(**directory_->Tenant(acme_), bob_, basic);
  EXPECT_EQ(limits->caps.messages_per_day, 3)
      << "the limits filter reads the caps through the directory";

  const uint64_t before = directory_->users_generation();
  ASSERT_TRUE(admin_->SetRole(acme_, UserId("alice"), bob_, "admin").ok());
  EXPECT_GT(directory_->users_generation(), before)
      << "credential caches drop what they resolved before";
}

TEST_F(DirectoryTest, ChangesMadeByAnotherProcessAreSeenWithinTheTtl) {
  ASSERT_EQ((*directory_->Tenant(acme_))->status, "active");
  ASSERT_EQ(directory_->Caps(acme_, bob_)->messages_per_day, std::nullopt);
  // Another replica, or `gatehouse admin`, writes the database directly.
  ASSERT_TRUE(db_->Write([&](st::Tx& tx) -> Status {
                   GH_RETURN_IF_ERROR(st::tenants::SetStatus(tx, acme_, "suspended"));
                   st::UserCaps caps;
                   caps.messages_per_day = 1;
                   return st::user_caps::Set(tx, acme_, bob_, caps);
                 })
                  .ok());
  clock_.Advance(1900ms);
  EXPECT_EQ((*directory_->Tenant(acme_))->status, "active") << "still the cached row";
  clock_.Advance(100ms);
  EXPECT_EQ((*directory_->Tenant(acme_))->status, "suspended") << "at most the TTL (2 s) late";
  EXPECT_EQ(directory_->Caps(acme_, bob_)->messages_per_day, 1);
}

TEST_F(DirectoryTest, TenantSettingsAreCachedEvenWhenNeverSavedAndForgottenOnWrite) {
  EXPECT_FALSE(directory_->Settings(acme_)->has_value());
  EXPECT_FALSE(directory_->Settings(acme_)->has_value());
  EXPECT_EQ(counting_->reads(), 1) << "no settings is the usual case: cached too";
  ASSERT_TRUE(db_->Write([&](st::Tx& tx) {
                   return st::tenant_settings::Upsert(
                       tx, {acme_, std::string("You help {{tenant_name}}."), 0, UserId("alice")});
                 })
                  .ok());
  directory_->ForgetSettings(acme_);  // what the settings API does after committing
  auto settings = directory_->Settings(acme_);
  ASSERT_TRUE(settings.ok() && settings->has_value());
  EXPECT_EQ((*settings)->system_prompt_template, "You help {{tenant_name}}.");
}

}  // namespace
}  // namespace gh::tenancy

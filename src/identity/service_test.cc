#include "identity/service.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "storage/repositories.h"

namespace gh::identity {
namespace {

class CapturingMailer : public mail::Mailer {
 public:
  Status Send(const mail::Message& m) override {
    sent.push_back(m);
    return Status::Ok();
  }
  std::string LastCode() const {
    auto pos = sent.back().text.find("code is ");
    return sent.back().text.substr(pos + 8, 6);
  }
  std::vector<mail::Message> sent;
};

class IdentityServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("gh-identity-" + std::to_string(::getpid()) + "-" + std::to_string(n_++));
    std::filesystem::create_directories(dir_);
    db_ = std::move(storage::OpenSqlite({(dir_ / "db").string(), 2, 5000})).value();
    ASSERT_TRUE(storage::Migrate(*db_).ok());
    IdentityConfig cfg;
    cfg.issuer = "http://gh.test";
    cfg.password_hash = {1, 1024, 1};
    auto plans = std::make_shared<const tenancy::PlanCatalog>(tenancy::PlanCatalog::Defaults());
    service_ = std::make_unique<IdentityService>(
        cfg, *db_, clock_, rng_, mailer_, [plans] { return plans; }, Secret(std::string(32, 'k')));
    ASSERT_TRUE(service_->Init().ok());
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  Registration RegisterAndVerify(const std::string& email, const std::string& tenant = "Acme") {
    auto reg = service_->RegisterTenant(email, Secret(kPassword), tenant, "basic");
    EXPECT_TRUE(reg.ok()) << reg.status().ToString();
    EXPECT_TRUE(service_->Verify(email, mailer_.LastCode()).ok());
    return *reg;
  }

  static constexpr const char* kPassword = "Sunny-Day-42";
  static inline int n_ = 0;
  std::filesystem::path dir_;
  std::unique_ptr<storage::Database> db_;
  FakeClock clock_;
  SeededRandom rng_{42};
  CapturingMailer mailer_;
  std::unique_ptr<IdentityService> service_;
};

TEST_F(IdentityServiceTest, RegistrationCreatesATenantWithTheRegistrantAsAdmin) {
  auto reg =
      service_->RegisterTenant(" Alice@Example.com ", Secret(kPassword), "Acme Corp!", "advanced");
  ASSERT_TRUE(reg.ok()) << reg.status().ToString();
  EXPECT_EQ(reg->tenant_id.value(), "acme-corp");
  EXPECT_EQ(reg->email, "alice@example.com");
  EXPECT_EQ(reg->role, "admin");
  ASSERT_EQ(mailer_.sent.size(), 1u);
  EXPECT_EQ(mailer_.sent[0].to, "alice@example.com");
  auto second =
      service_->RegisterTenant("bob@example.com", Secret(kPassword), "ACME corp", "basic");
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->tenant_id.value(), "acme-corp-2") << "tenant ids are unique slugs";
}

TEST_F(IdentityServiceTest, RegistrationRefusesDuplicatesWeakPasswordsAndUnknownTiers) {
  RegisterAndVerify("a@example.com");
  EXPECT_EQ(service_->RegisterTenant("A@example.com", Secret(kPassword), "X", "basic")
                .status()
                .error_code(),
            "email_taken");
  EXPECT_EQ(service_->RegisterTenant("b@example.com", Secret("short"), "X", "basic")
                .status()
                .error_code(),
            "weak_password");
  EXPECT_EQ(service_->RegisterTenant("b@example.com", Secret(kPassword), "X", "platinum")
                .status()
                .error_code(),
            "invalid_tier");
  EXPECT_EQ(service_->RegisterTenant("not-an-email", Secret(kPassword), "X", "basic")
                .status()
                .error_code(),
            "invalid_email");
  EXPECT_EQ(service_->RegisterTenant("c@example.com", Secret(kPassword), "!!!", "basic")
                .status()
                .error_code(),
            "invalid_tenant_name");
}

TEST_F(IdentityServiceTest, LoginRequiresAVerifiedEmail) {
  ASSERT_TRUE(service_->RegisterTenant("a@example.com", Secret(kPassword), "Acme", "basic").ok());
  EXPECT_EQ(service_->Login("a@example.com", Secret(kPassword)).status().error_code(),
            "email_not_verified");
  ASSERT_TRUE(service_->Verify("a@example.com", mailer_.LastCode()).ok());
  auto tokens = service_->Login("a@example.com", Secret(kPassword));
  ASSERT_TRUE(tokens.ok()) << tokens.status().ToString();
  auto claims = service_->verifier().Verify(tokens->access_token);
  ASSERT_TRUE(claims.ok()) << claims.status().ToString();
  EXPECT_EQ(claims->principal.tenant_id.value(), "acme");
  EXPECT_EQ(claims->principal.subscription_tier, "basic");
  EXPECT_TRUE(claims->principal.IsTenantAdmin());
}

TEST_F(IdentityServiceTest, VerificationCodesExpireAndAllowFewAttempts) {
  ASSERT_TRUE(service_->RegisterTenant("a@example.com", Secret(kPassword), "Acme", "basic").ok());
  std::string code = mailer_.LastCode();
  std::string wrong = code == "000000" ? "111111" : "000000";
  for (int i = 0; i < 5; ++i)
    EXPECT_EQ(service_->Verify("a@example.com", wrong).error_code(), "invalid_code");
  EXPECT_EQ(service_->Verify("a@example.com", code).error_code(), "too_many_attempts");
  clock_.Advance(std::chrono::seconds(31));
  ASSERT_TRUE(service_->Resend("a@example.com").ok());
  ASSERT_EQ(mailer_.sent.size(), 2u);
  clock_.Advance(std::chrono::minutes(16));
  EXPECT_EQ(service_->Verify("a@example.com", mailer_.LastCode()).error_code(), "code_expired");
  clock_.Advance(std::chrono::seconds(31));
  ASSERT_TRUE(service_->Resend("a@example.com").ok());
  EXPECT_TRUE(service_->Verify("a@example.com", mailer_.LastCode()).ok());
  EXPECT_EQ(service_->Verify("nobody@example.com", "123456").error_code(), "invalid_code");
}

TEST_F(IdentityServiceTest, RepeatedFailuresSlowDownThenLockTheAccount) {
  RegisterAndVerify("a@example.com");
  for (int i = 0; i < 2; ++i)
    EXPECT_EQ(service_->Login("a@example.com", Secret("Wrong-Pass-1")).status().error_code(),
              "invalid_credentials");
  EXPECT_EQ(service_->Login("a@example.com", Secret("Wrong-Pass-1")).status().error_code(),
            "invalid_credentials");
  auto locked = service_->Login("a@example.com", Secret(kPassword));
  EXPECT_EQ(locked.status().error_code(), "account_locked");
  EXPECT_EQ(locked.status().retry_after_seconds(), 2);
  for (int i = 0; i < 3; ++i) {
    clock_.Advance(std::chrono::seconds(300));
    (void)service_->Login("a@example.com", Secret("Wrong-Pass-1"));
  }
  clock_.Advance(std::chrono::seconds(60));
  auto long_lock = service_->Login("a@example.com", Secret(kPassword));
  EXPECT_EQ(long_lock.status().error_code(), "account_locked");
  EXPECT_GT(*long_lock.status().retry_after_seconds(), 600);
  clock_.Advance(std::chrono::minutes(15));
  EXPECT_TRUE(service_->Login("a@example.com", Secret(kPassword)).ok());
  EXPECT_EQ(service_->Login("ghost@example.com", Secret(kPassword)).status().error_code(),
            "invalid_credentials");
}

TEST_F(IdentityServiceTest, RefreshRotatesAndReuseRevokesTheFamily) {
  RegisterAndVerify("a@example.com");
  auto t1 = *service_->Login("a@example.com", Secret(kPassword));
  auto t2 = service_->Refresh(Secret(t1.refresh_token));
  ASSERT_TRUE(t2.ok()) << t2.status().ToString();
  EXPECT_NE(t2->refresh_token, t1.refresh_token);
  // The old token comes back: reuse. It fails, and so does the newest one of its family.
  EXPECT_EQ(service_->Refresh(Secret(t1.refresh_token)).status().error_code(), "invalid_grant");
  EXPECT_EQ(service_->Refresh(Secret(t2->refresh_token)).status().error_code(), "invalid_grant");
  // Another login is another family and still works; logout revokes it.
  auto t3 = *service_->Login("a@example.com", Secret(kPassword));
  ASSERT_TRUE(service_->Logout(Secret(t3.refresh_token)).ok());
  EXPECT_EQ(service_->Refresh(Secret(t3.refresh_token)).status().error_code(), "invalid_grant");
  EXPECT_EQ(service_->Refresh(Secret("garbage")).status().error_code(), "invalid_grant");
}

TEST_F(IdentityServiceTest, InvitationsJoinTheIssuingTenantOnce) {
  auto admin_reg = RegisterAndVerify("admin@example.com");
  auto tokens = *service_->Login("admin@example.com", Secret(kPassword));
  auto admin = service_->verifier().Verify(tokens.access_token)->principal;
  auto inv = service_->CreateInvitation(admin, admin_reg.tenant_id);
  ASSERT_TRUE(inv.ok());
  auto joined = service_->RegisterWithInvitation("user@example.com", Secret(kPassword), inv->code);
  ASSERT_TRUE(joined.ok()) << joined.status().ToString();
  EXPECT_EQ(joined->tenant_id, admin_reg.tenant_id);
  EXPECT_EQ(joined->role, "user");
  EXPECT_EQ(service_->RegisterWithInvitation("u2@example.com", Secret(kPassword), inv->code)
                .status()
                .error_code(),
            "invalid_invitation");
  EXPECT_EQ(service_->RegisterWithInvitation("u3@example.com", Secret(kPassword), "made-up")
                .status()
                .error_code(),
            "invalid_invitation");
  // Another tenant's admin cannot invite into this tenant.
  RegisterAndVerify("other@example.com", "Globex");
  auto other = service_->verifier()
                   .Verify(service_->Login("other@example.com", Secret(kPassword))->access_token)
                   ->principal;
  EXPECT_EQ(service_->CreateInvitation(other, admin_reg.tenant_id).status().code(),
            StatusCode::kPermissionDenied);
  // Groups: own tenant only.
  EXPECT_TRUE(service_->AddToGroup(admin, "user@example.com", "acme-admins").ok());
  EXPECT_EQ(service_->AddToGroup(admin, "user@example.com", "globex-admins").status().code(),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(service_->AddToGroup(other, "user@example.com", "globex-admins").status().code(),
            StatusCode::kNotFound);
}

TEST_F(IdentityServiceTest, TheSigningKeyIsStoredSealedAndSurvivesRestart) {
  RegisterAndVerify("a@example.com");
  auto tokens = *service_->Login("a@example.com", Secret(kPassword));
  ASSERT_TRUE(db_->Read([&](storage::Tx& tx) -> Status {
                   auto keys = storage::signing_keys::ListActive(tx);
                   EXPECT_EQ(keys->size(), 1u);
                   EXPECT_EQ(keys->front().sealed_key.find("PRIVATE KEY"), std::string::npos);
                   return Status::Ok();
                 })
                  .ok());
  IdentityConfig cfg;
  cfg.issuer = "http://gh.test";
  auto plans = std::make_shared<const tenancy::PlanCatalog>(tenancy::PlanCatalog::Defaults());
  IdentityService restarted(
      cfg, *db_, clock_, rng_, mailer_, [plans] { return plans; }, Secret(std::string(32, 'k')));
  ASSERT_TRUE(restarted.Init().ok());
  EXPECT_TRUE(restarted.verifier().Verify(tokens.access_token).ok());
  IdentityService wrong_key(
      cfg, *db_, clock_, rng_, mailer_, [plans] { return plans; }, Secret(std::string(32, 'x')));
  EXPECT_FALSE(wrong_key.Init().ok());
}

}  // namespace
}  // namespace gh::identity

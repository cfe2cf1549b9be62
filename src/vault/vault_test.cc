// The vault's encryption at rest, on every backend: tokens are sealed under the tenant's data key
// with associated data naming tenant, user and connection, so a ciphertext moved to another row
// does not open (and never yields the other row's token); master-key rotation re-wraps the data
// keys without touching a sealed token, and a server left on the old key fails clearly.
#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <filesystem>

#include "storage/testing/postgres_server.h"
#include "storage/vault_repository.h"
#include "vault/keyring.h"
#include "vault/vault.h"

namespace gh::vault {
namespace {

namespace fs = std::filesystem;
namespace st = gh::storage;

Secret MasterKey(char fill) { return Secret(std::string(32, fill)); }

class VaultAtRestTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("gh-vault-" + std::to_string(::getpid()) + "-" + std::to_string(n_++));
    fs::create_directories(dir_);
    url_ = "sqlite:" + (dir_ / "db").string();
    if (GetParam() == "postgres") {
      auto pg = st::testing::PostgresTestDatabase::Create();
      ASSERT_TRUE(pg.ok()) << pg.status().message();
      pg_.emplace(std::move(*pg));
      url_ = pg_->url();
    }
    db_ = std::move(st::OpenDatabase(url_, {.pool_size = 4})).value();
    ASSERT_TRUE(st::Migrate(*db_).ok());
  }
  void TearDown() override {
    db_.reset();
    pg_.reset();
    fs::remove_all(dir_);
  }

  // Stores a connected account whose access token is `token`, sealed as the vault seals it.
  void StoreAccount(Keyring& keys, const TenantId& tenant, const UserId& user,
                    const std::string& connection, const std::string& token) {
    auto sealed = keys.Seal(tenant, token, AccessTokenAad(tenant, user, connection));
    ASSERT_TRUE(sealed.ok()) << sealed.status().message();
    st::AccountRecord a;
    a.tenant_id = tenant;
    a.user_id = user;
    a.connection_id = connection;
    a.status = "connected";
    a.access_token_sealed = *sealed;
    a.token_type = "Bearer";
    a.scope = "calendar";
    a.connected_at = a.updated_at = clock_.NowUnixMillis();
    ASSERT_TRUE(db_->Write([&](st::Tx& tx) { return st::vault_accounts::Upsert(tx, a); }).ok());
  }

  std::string SealedOf(const TenantId& tenant, const UserId& user, const std::string& connection) {
    std::optional<st::AccountRecord> a;
    EXPECT_TRUE(db_->Read([&](st::Tx& tx) -> Status {
                     GH_ASSIGN_OR_RETURN(a, st::vault_accounts::Get(tx, tenant, user, connection));
                     return Status::Ok();
                   })
                    .ok());
    return a ? a->access_token_sealed : "";
  }

  Result<AccessToken> Get(Keyring& keys, const TenantId& tenant, const UserId& user,
                          const std::string& connection) {
    boost::asio::io_context io;
    TokenVault vault({}, *db_, keys, nullptr, clock_, random_, nullptr);
    std::optional<Result<AccessToken>> out;
    boost::asio::co_spawn(
        io,
        [&]() -> http::Awaitable<void> {
          out.emplace(co_await vault.GetAccessToken(tenant, user, connection));
        },
        boost::asio::detached);
    io.run();
    return std::move(*out);
  }

  void Exec(const std::string& sql, const std::vector<st::Value>& params) {
    ASSERT_TRUE(db_->Write([&](st::Tx& tx) { return tx.Exec(sql, params).status(); }).ok()) << sql;
  }

  static inline int n_ = 0;
  fs::path dir_;
  std::optional<st::testing::PostgresTestDatabase> pg_;
  std::string url_;
  std::unique_ptr<st::Database> db_;
  FakeClock clock_;
  SeededRandom random_{7};
  const TenantId acme_{"acme"}, globex_{"globex"};
  const UserId alice_{"u-alice"}, bob_{"u-bob"};
};

TEST_P(VaultAtRestTest, ASealedTokenOpensOnlyInItsOwnRow) {
  Keyring keys(*db_, MasterKey('m'), random_, clock_);
  const std::string token = "ya29.alice-calendar-token";
  auto sealed = keys.Seal(acme_, token, AccessTokenAad(acme_, alice_, "google"));
  ASSERT_TRUE(sealed.ok());
  EXPECT_EQ(sealed->find(token), std::string::npos);
  auto opened = keys.Open(acme_, *sealed, AccessTokenAad(acme_, alice_, "google"));
  ASSERT_TRUE(opened.ok()) << opened.status().message();
  EXPECT_EQ(opened->reveal(), token);

  // Another user, connection, purpose or tenant: the same bytes do not open.
  for (const auto& [tenant, aad] : std::vector<std::pair<TenantId, std::string>>{
           {acme_, AccessTokenAad(acme_, bob_, "google")},
           {acme_, AccessTokenAad(acme_, alice_, "github")},
           {acme_, RefreshTokenAad(acme_, alice_, "google")},
           {globex_, AccessTokenAad(globex_, alice_, "google")}}) {
    auto wrong = keys.Open(tenant, *sealed, aad);
    ASSERT_FALSE(wrong.ok());
    EXPECT_EQ(wrong.status().error_code(), "vault_decrypt_failed");
  }
  // A changed byte does not open either.
  std::string tampered = *sealed;
  tampered[tampered.size() / 2] = tampered[tampered.size() / 2] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(keys.Open(acme_, tampered, AccessTokenAad(acme_, alice_, "google")).ok());
}

TEST_P(VaultAtRestTest, CiphertextsSwappedBetweenRowsDoNotDecrypt) {
  Keyring keys(*db_, MasterKey('m'), random_, clock_);
  StoreAccount(keys, acme_, alice_, "google", "alice-token");
  StoreAccount(keys, acme_, bob_, "google", "bob-token");
  auto before = Get(keys, acme_, alice_, "google");
  ASSERT_TRUE(before.ok()) << before.status().message();
  EXPECT_EQ(before->token.reveal(), "alice-token");

  // Someone with write access to the database moves Bob's sealed token into Alice's row and back.
  const std::string a = SealedOf(acme_, alice_, "google"), b = SealedOf(acme_, bob_, "google");
  const char* kSwap =
      "UPDATE vault_accounts SET access_token_sealed = ? WHERE tenant_id = ? AND user_id = ?";
  Exec(kSwap, {b, acme_.value(), alice_.value()});
  Exec(kSwap, {a, acme_.value(), bob_.value()});
  for (const UserId& user : {alice_, bob_}) {
    auto got = Get(keys, acme_, user, "google");
    ASSERT_FALSE(got.ok()) << "decrypted " << got->token.reveal() << " for " << user.value();
    EXPECT_EQ(got.status().error_code(), "vault_decrypt_failed");
    EXPECT_EQ(got.status().message().find("alice-token"), std::string::npos);
    EXPECT_EQ(got.status().message().find("bob-token"), std::string::npos);
  }

  // Across tenants: Acme's sealed token in a Globex row does not open under Globex's data key.
  StoreAccount(keys, globex_, alice_, "google", "globex-alice-token");
  Exec("UPDATE vault_accounts SET access_token_sealed = ? WHERE tenant_id = ? AND user_id = ?",
       {a, globex_.value(), alice_.value()});
  auto cross = Get(keys, globex_, alice_, "google");
  ASSERT_FALSE(cross.ok());
  EXPECT_EQ(cross.status().error_code(), "vault_decrypt_failed");
}

TEST_P(VaultAtRestTest, RotationRewrapsDataKeysAndLeavesSealedTokensUntouched) {
  const Secret old_key = MasterKey('o'), new_key = MasterKey('n');
  {
    Keyring keys(*db_, old_key, random_, clock_);
    StoreAccount(keys, acme_, alice_, "google", "alice-token");
    StoreAccount(keys, globex_, bob_, "github", "bob-token");
  }
  const std::string sealed_a = SealedOf(acme_, alice_, "google"),
                    sealed_b = SealedOf(globex_, bob_, "github");

  auto report = RotateMasterKey(*db_, old_key, new_key, random_, clock_);
  ASSERT_TRUE(report.ok()) << report.status().message();
  EXPECT_EQ(report->data_keys, 2);
  // The tokens' ciphertexts are the same bytes as before.
  EXPECT_EQ(SealedOf(acme_, alice_, "google"), sealed_a);
  EXPECT_EQ(SealedOf(globex_, bob_, "github"), sealed_b);

  // A server on the new key reads every token.
  Keyring now(*db_, new_key, random_, clock_);
  auto a = Get(now, acme_, alice_, "google");
  auto b = Get(now, globex_, bob_, "github");
  ASSERT_TRUE(a.ok()) << a.status().message();
  ASSERT_TRUE(b.ok()) << b.status().message();
  EXPECT_EQ(a->token.reveal(), "alice-token");
  EXPECT_EQ(b->token.reveal(), "bob-token");

  // A server still on the old key fails clearly instead of decrypting garbage.
  Keyring stale(*db_, old_key, random_, clock_);
  auto s = Get(stale, acme_, alice_, "google");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().error_code(), "vault_master_key_mismatch");

  // Running the same rotation again (say it was interrupted after the commit) changes nothing.
  auto again = RotateMasterKey(*db_, old_key, new_key, random_, clock_);
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_EQ(again->data_keys, 0);
  EXPECT_EQ(Get(now, acme_, alice_, "google")->token.reveal(), "alice-token");
}

TEST_P(VaultAtRestTest, RotationWithTheWrongCurrentKeyChangesNothing) {
  const Secret real = MasterKey('r');
  {
    Keyring keys(*db_, real, random_, clock_);
    StoreAccount(keys, acme_, alice_, "google", "alice-token");
  }
  auto bad = RotateMasterKey(*db_, MasterKey('x'), MasterKey('y'), random_, clock_);
  ASSERT_FALSE(bad.ok());
  EXPECT_FALSE(RotateMasterKey(*db_, real, real, random_, clock_).ok())
      << "rotating to the same key is refused";
  EXPECT_FALSE(RotateMasterKey(*db_, real, Secret("short"), random_, clock_).ok())
      << "a new key must be 32 bytes";
  Keyring keys(*db_, real, random_, clock_);
  auto still = Get(keys, acme_, alice_, "google");
  ASSERT_TRUE(still.ok()) << still.status().message();
  EXPECT_EQ(still->token.reveal(), "alice-token");
}

INSTANTIATE_TEST_SUITE_P(Backends, VaultAtRestTest, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace gh::vault

// The verified-token cache: what it may remember, and what it must never let through.
#include "identity/token_cache.h"

#include <gtest/gtest.h>

#include <atomic>
#include <charconv>
#include <thread>

#include "crypto/keys.h"

namespace gh::identity {
namespace {

constexpr int64_t kNow = 1'800'000'000;  // unix seconds

// A verifier that accepts tokens named "good-<exp>" until `exp` (+30 s leeway, as the real one)
// and counts how often it is asked.
class CountingVerifier {
 public:
  explicit CountingVerifier(const Clock& clock) : clock_(clock) {}
  Result<AccessClaims> Verify(std::string_view token) {
    ++calls;
    if (!token.starts_with("good-")) return Status::Unauthenticated("bad token", "invalid_token");
    AccessClaims c;
    std::string_view digits = token.substr(5);
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), c.expires_at);
    if (ec != std::errc() || end != digits.data() + digits.size())
      return Status::Unauthenticated("bad token", "invalid_token");
    if (clock_.NowUnixSeconds() > c.expires_at + 30)
      return Status::Unauthenticated("token has expired", "token_expired");
    c.jti = std::string(token);
    c.principal.user_id = UserId("u1");
    c.principal.tenant_id = TenantId("acme");
    c.principal.expires_at = c.expires_at;
    return c;
  }
  std::atomic<int> calls{0};

 private:
  const Clock& clock_;
};

class TokenCacheTest : public ::testing::Test {
 protected:
  CachingTokenVerifier Cache(TokenCacheOptions options = {}) {
    return CachingTokenVerifier([this](std::string_view t) { return inner_.Verify(t); }, clock_,
                                options);
  }
  static std::string Good(int64_t exp) { return "good-" + std::to_string(exp); }

  FakeClock clock_{kNow * 1000};
  CountingVerifier inner_{clock_};
};

TEST_F(TokenCacheTest, ASecondPresentationOfAVerifiedTokenIsServedFromTheCache) {
  auto cache = Cache();
  auto first = cache.Verify(Good(kNow + 600));
  auto second = cache.Verify(Good(kNow + 600));
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->principal.user_id.value(), "u1");
  EXPECT_EQ(second->jti, first->jti);
  EXPECT_EQ(inner_.calls, 1);
}

TEST_F(TokenCacheTest, AnExpiredCachedTokenIsRefused) {
  auto cache = Cache();
  ASSERT_TRUE(cache.Verify(Good(kNow + 60)).ok());
  clock_.Advance(std::chrono::seconds(61));  // past exp, within the verifier's leeway: it decides
  EXPECT_TRUE(cache.Verify(Good(kNow + 60)).ok());
  EXPECT_EQ(inner_.calls, 2) << "past exp, a cached token goes back to the full verifier";
  clock_.Advance(std::chrono::seconds(60));  // past the leeway too
  auto late = cache.Verify(Good(kNow + 60));
  EXPECT_EQ(late.status().error_code(), "token_expired");
  EXPECT_EQ(cache.size(), 0u);
}

TEST_F(TokenCacheTest, FailuresAreNeverCached) {
  auto cache = Cache();
  EXPECT_FALSE(cache.Verify("forged").ok());
  EXPECT_FALSE(cache.Verify("forged").ok());
  EXPECT_EQ(inner_.calls, 2);
  EXPECT_EQ(cache.size(), 0u);
}

TEST_F(TokenCacheTest, TheKeyIsTheExactTokenString) {
  auto cache = Cache();
  ASSERT_TRUE(cache.Verify(Good(kNow + 600)).ok());
  EXPECT_FALSE(cache.Verify(Good(kNow + 600) + "x").ok()) << "one more byte is another token";
  EXPECT_FALSE(cache.Verify(Good(kNow + 600).substr(1)).ok());
  EXPECT_EQ(inner_.calls, 3);
}

TEST_F(TokenCacheTest, ItHoldsNoMoreThanItsCapacity) {
  auto cache = Cache({.capacity = 8, .shards = 2});
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(cache.Verify(Good(kNow + 600 + i)).ok());
  EXPECT_LE(cache.size(), 8u);
  // The most recent ones are still there.
  const int before = inner_.calls;
  ASSERT_TRUE(cache.Verify(Good(kNow + 699)).ok());
  EXPECT_EQ(inner_.calls, before);
}

TEST_F(TokenCacheTest, ConcurrentVerificationsAgree) {
  auto cache = Cache({.capacity = 64, .shards = 4});
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 500; ++i) {
        auto r = cache.Verify(Good(kNow + 600 + (i + t) % 100));
        if (!r.ok() || r->principal.tenant_id.value() != "acme") ++failures;
        if (cache.Verify("forged").ok()) ++failures;
      }
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures, 0);
  EXPECT_LE(cache.size(), 64u);
}

TEST_F(TokenCacheTest, WithTheRealVerifierAnExpiredTokenIsRefusedEvenAfterBeingCached) {
  auto key = crypto::SigningKey::GenerateEs256();
  ASSERT_TRUE(key.ok());
  TokenSigner signer("k1", *key);
  TokenVerifier verifier({"https://issuer", "gatehouse", 30, 8192, "at+jwt"},
                         {{"k1", key->Public()}}, clock_);
  CachingTokenVerifier cache([&](std::string_view t) { return verifier.Verify(t); }, clock_);
  AccessClaims c;
  c.issuer = "https://issuer";
  c.audience = "gatehouse";
  c.issued_at = clock_.NowUnixSeconds();
  c.expires_at = c.issued_at + 900;
  c.jti = "j1";
  c.principal.user_id = UserId("u1");
  c.principal.tenant_id = TenantId("acme");
  auto token = signer.Sign("at+jwt", AccessTokenPayload(c));
  ASSERT_TRUE(token.ok());
  ASSERT_TRUE(cache.Verify(*token).ok());
  ASSERT_TRUE(cache.Verify(*token).ok());
  std::string tampered = *token;
  tampered.back() = tampered.back() == 'A' ? 'B' : 'A';
  EXPECT_FALSE(cache.Verify(tampered).ok()) << "a different signature is a different token";
  clock_.Advance(std::chrono::seconds(900 + 31));
  EXPECT_EQ(cache.Verify(*token).status().error_code(), "token_expired");
}

}  // namespace
}  // namespace gh::identity

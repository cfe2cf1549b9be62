// External identity providers, below HTTP: which JWKS entries become keys, and the claim mapping
// that external providers need (nested Keycloak roles, Cognito's client_id, no jti, any typ).
#include "identity/external_idp.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "common/strings.h"

namespace gh::identity {
namespace {

namespace bj = boost::json;

bj::object EcJwk(const crypto::SigningKey& key, const std::string& kid) {
  const crypto::VerifyingKey pub = key.Public();
  return bj::object{{"kty", "EC"},
                    {"crv", "P-256"},
                    {"kid", kid},
                    {"use", "sig"},
                    {"alg", "ES256"},
                    {"x", Base64UrlEncode(pub.EcX())},
                    {"y", Base64UrlEncode(pub.EcY())}};
}

TEST(ParseJwksTest, KeepsSigningKeysWithKidsAndSkipsTheRest) {
  auto key = *crypto::SigningKey::GenerateEs256();
  bj::object enc = EcJwk(key, "encryption");
  enc["use"] = "enc";
  bj::object no_kid = EcJwk(key, "x");
  no_kid.erase("kid");
  bj::object bad_point = EcJwk(key, "short");
  bad_point["x"] = Base64UrlEncode("too short");
  bj::array keys{EcJwk(key, "ec-1"),
                 enc,
                 no_kid,
                 bad_point,
                 bj::object{{"kty", "oct"}, {"kid", "hmac"}, {"k", "c2VjcmV0"}},
                 bj::object{{"kty", "RSA"}, {"kid", "rsa-no-modulus"}, {"e", "AQAB"}}};
  auto parsed = ParseJwks(bj::serialize(bj::object{{"keys", keys}}));
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  ASSERT_EQ(parsed->size(), 1u);
  EXPECT_EQ(parsed->begin()->first, "ec-1");
  EXPECT_EQ(parsed->begin()->second.alg(), crypto::JwsAlg::kES256);

  EXPECT_FALSE(ParseJwks("not json").ok());
  EXPECT_FALSE(ParseJwks(R"({"keys": {}})").ok());
}

TEST(UnverifiedIssuerTest, ReadsIssOnlyFromAWellFormedToken) {
  const std::string payload = Base64UrlEncode(R"({"iss":"https://idp.example/"})");
  EXPECT_EQ(UnverifiedIssuer("e30." + payload + ".sig"), "https://idp.example/");
  EXPECT_EQ(UnverifiedIssuer("e30." + payload), "");
  EXPECT_EQ(UnverifiedIssuer("gh_apikey"), "");
  EXPECT_EQ(UnverifiedIssuer("e30.!!!.sig"), "");
}

class ExternalClaimsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    key_ = std::make_unique<crypto::SigningKey>(*crypto::SigningKey::GenerateEs256());
    ExternalIssuerOptions o;
    o.name = "keycloak";
    o.issuer = "https://sso.example/realms/acme";
    o.audience = "gatehouse";
    o.claims.tenant = "org.tenant";
    o.claims.groups = "realm_access.roles";
    issuer_ = std::make_unique<ExternalIssuer>(o, nullptr, clock_);
    issuer_->SetKeys({{"kc-1", key_->Public()}});
  }
  std::string Sign(bj::object claims) {
    const int64_t now = clock_.NowUnixSeconds();
    claims["iss"] = "https://sso.example/realms/acme";
    if (!claims.contains("iat")) claims["iat"] = now;
    if (!claims.contains("exp")) claims["exp"] = now + 300;
    const std::string input = Base64UrlEncode(R"({"alg":"ES256","typ":"JWT","kid":"kc-1"})") + "." +
                              Base64UrlEncode(bj::serialize(claims));
    return input + "." + Base64UrlEncode(*key_->Sign(input));
  }

  FakeClock clock_{1'800'000'000'000};
  std::unique_ptr<crypto::SigningKey> key_;
  std::unique_ptr<ExternalIssuer> issuer_;
};

TEST_F(ExternalClaimsTest, NestedClaimsNoJtiAndClientIdAsAudience) {
  auto claims =
      issuer_->Verify(Sign({{"sub", "kc-user"},
                            {"aud", "gatehouse"},
                            {"org", {{"tenant", "acme"}}},
                            {"realm_access", {{"roles", bj::array{"offline_access", "admin"}}}}}));
  ASSERT_TRUE(claims.ok()) << claims.status().message();
  EXPECT_EQ(claims->principal.tenant_id.value(), "acme");
  EXPECT_EQ(claims->principal.groups, (std::vector<std::string>{"offline_access", "admin"}));
  EXPECT_EQ(claims->jti, "kc-user@" + std::to_string(clock_.NowUnixSeconds()));

  auto by_client = issuer_->Verify(
      Sign({{"sub", "svc"}, {"client_id", "gatehouse"}, {"org", {{"tenant", "acme"}}}}));
  EXPECT_TRUE(by_client.ok()) << by_client.status().message();
  // client_id stands in for a missing aud only: a token for another audience is refused.
  EXPECT_FALSE(issuer_
                   ->Verify(Sign({{"sub", "svc"},
                                  {"aud", "other"},
                                  {"client_id", "gatehouse"},
                                  {"org", {{"tenant", "acme"}}}}))
                   .ok());
  // No tenant where the mapping says: refused.
  EXPECT_FALSE(
      issuer_->Verify(Sign({{"sub", "kc-user"}, {"aud", "gatehouse"}, {"tenant_id", "acme"}}))
          .ok());
}

TEST_F(ExternalClaimsTest, GatehousesOwnVerifierStillRequiresItsClaims) {
  // The default mapping (Gatehouse's own tokens) keeps requiring jti and refuses client_id as aud.
  std::map<std::string, crypto::VerifyingKey> keys{{"kc-1", key_->Public()}};
  TokenVerifier own(VerifierOptions{"https://sso.example/realms/acme", "gatehouse", 30, 8192, ""},
                    keys, clock_);
  EXPECT_FALSE(own.Verify(Sign({{"sub", "u"}, {"aud", "gatehouse"}, {"tenant_id", "acme"}})).ok());
  EXPECT_FALSE(
      own.Verify(
             Sign({{"sub", "u"}, {"client_id", "gatehouse"}, {"tenant_id", "acme"}, {"jti", "j"}}))
          .ok());
  EXPECT_TRUE(
      own.Verify(Sign({{"sub", "u"}, {"aud", "gatehouse"}, {"tenant_id", "acme"}, {"jti", "j"}}))
          .ok());
}

}  // namespace
}  // namespace gh::identity

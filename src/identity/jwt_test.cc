// Every way a presented token must be refused, as data: one forged or altered token per case.
#include "identity/jwt.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "common/strings.h"
#include "crypto/hash.h"

namespace gh::identity {
namespace {

namespace bj = boost::json;

class JwtTest : public ::testing::Test {
 public:
  void SetUp() override {
    key_ = std::make_unique<crypto::SigningKey>(*crypto::SigningKey::GenerateEs256());
    signer_ = std::make_unique<TokenSigner>("k1", *key_);
    std::map<std::string, crypto::VerifyingKey> keys{{"k1", key_->Public()}};
    verifier_ = std::make_unique<TokenVerifier>(
        VerifierOptions{"https://issuer", "gatehouse", 30, 8192, "at+jwt"}, keys, clock_);
  }

  bj::object Claims() {
    int64_t now = clock_.NowUnixSeconds();
    return bj::object{{"iss", "https://issuer"},
                      {"sub", "u1"},
                      {"aud", "gatehouse"},
                      {"exp", now + 600},
                      {"iat", now},
                      {"nbf", now},
                      {"jti", "j1"},
                      {"email", "a@example.com"},
                      {"tenant_id", "acme"},
                      {"subscription_tier", "basic"},
                      {"groups", bj::array{"acme-admins"}}};
  }
  std::string Signed(const bj::object& header, const bj::object& claims) {
    std::string input =
        Base64UrlEncode(bj::serialize(header)) + "." + Base64UrlEncode(bj::serialize(claims));
    return input + "." + Base64UrlEncode(*key_->Sign(input));
  }
  bj::object Header() { return bj::object{{"alg", "ES256"}, {"typ", "at+jwt"}, {"kid", "k1"}}; }

  FakeClock clock_{1'800'000'000'000};
  std::unique_ptr<crypto::SigningKey> key_;
  std::unique_ptr<TokenSigner> signer_;
  std::unique_ptr<TokenVerifier> verifier_;
};

TEST_F(JwtTest, AValidTokenYieldsItsPrincipal) {
  auto claims = verifier_->Verify(Signed(Header(), Claims()));
  ASSERT_TRUE(claims.ok()) << claims.status().ToString();
  EXPECT_EQ(claims->principal.user_id.value(), "u1");
  EXPECT_EQ(claims->principal.tenant_id.value(), "acme");
  EXPECT_TRUE(claims->principal.IsTenantAdmin());
}

TEST_F(JwtTest, TheSignerProducesTokensTheVerifierAccepts) {
  AccessClaims c;
  c.issuer = "https://issuer";
  c.audience = "gatehouse";
  c.issued_at = clock_.NowUnixSeconds();
  c.expires_at = c.issued_at + 60;
  c.jti = "x";
  c.principal.user_id = UserId("u");
  c.principal.tenant_id = TenantId("t");
  auto token = signer_->Sign("at+jwt", AccessTokenPayload(c));
  ASSERT_TRUE(token.ok());
  EXPECT_TRUE(verifier_->Verify(*token).ok());
  auto id_token = signer_->Sign("JWT", IdTokenPayload(c, true));
  EXPECT_FALSE(verifier_->Verify(*id_token).ok()) << "an ID token is not an access token";
}

struct RejectCase {
  const char* name;
  std::function<std::string(JwtTest&)> make;
  const char* code;
};

TEST_F(JwtTest, EveryForgedOrInvalidTokenIsRejectedWith401) {
  const int64_t now = clock_.NowUnixSeconds();
  std::vector<RejectCase> cases = {
      {"alg none",
       [](JwtTest& t) {
         auto h = t.Header();
         h["alg"] = "none";
         return Base64UrlEncode(bj::serialize(h)) + "." +
                Base64UrlEncode(bj::serialize(t.Claims())) + ".";
       },
       "invalid_token"},
      {"alg none with signature of the real token",
       [](JwtTest& t) {
         auto h = t.Header();
         h["alg"] = "none";
         std::string good = t.Signed(t.Header(), t.Claims());
         return Base64UrlEncode(bj::serialize(h)) + "." +
                Base64UrlEncode(bj::serialize(t.Claims())) + good.substr(good.rfind('.'));
       },
       "invalid_token"},
      {"HS256 keyed with the public key",
       [](JwtTest& t) {
         auto h = t.Header();
         h["alg"] = "HS256";
         std::string input =
             Base64UrlEncode(bj::serialize(h)) + "." + Base64UrlEncode(bj::serialize(t.Claims()));
         std::string pub = t.key_->Public().EcX() + t.key_->Public().EcY();
         return input + "." + Base64UrlEncode(crypto::HmacSha256(pub, input));
       },
       "invalid_token"},
      {"RS256 claimed for an EC key",
       [](JwtTest& t) {
         auto h = t.Header();
         h["alg"] = "RS256";
         return t.Signed(h, t.Claims());
       },
       "invalid_token"},
      {"wrong typ",
       [](JwtTest& t) {
         auto h = t.Header();
         h["typ"] = "JWT";
         return t.Signed(h, t.Claims());
       },
       "invalid_token"},
      {"missing typ",
       [](JwtTest& t) {
         auto h = t.Header();
         h.erase("typ");
         return t.Signed(h, t.Claims());
       },
       "invalid_token"},
      {"critical header",
       [](JwtTest& t) {
         auto h = t.Header();
         h["crit"] = bj::array{"exp"};
         return t.Signed(h, t.Claims());
       },
       "invalid_token"},
      {"unknown kid",
       [](JwtTest& t) {
         auto h = t.Header();
         h["kid"] = "other";
         return t.Signed(h, t.Claims());
       },
       "invalid_token"},
      {"tampered payload",
       [](JwtTest& t) {
         std::string tok = t.Signed(t.Header(), t.Claims());
         auto c = t.Claims();
         c["tenant_id"] = "globex";
         auto parts = Split(tok, '.');
         return std::string(parts[0]) + "." + Base64UrlEncode(bj::serialize(c)) + "." +
                std::string(parts[2]);
       },
       "invalid_token"},
      {"signature of another key",
       [](JwtTest& t) {
         auto other = *crypto::SigningKey::GenerateEs256();
         std::string input = Base64UrlEncode(bj::serialize(t.Header())) + "." +
                             Base64UrlEncode(bj::serialize(t.Claims()));
         return input + "." + Base64UrlEncode(*other.Sign(input));
       },
       "invalid_token"},
      {"expired",
       [now](JwtTest& t) {
         auto c = t.Claims();
         c["exp"] = now - 120;
         return t.Signed(t.Header(), c);
       },
       "token_expired"},
      {"not yet valid",
       [now](JwtTest& t) {
         auto c = t.Claims();
         c["nbf"] = now + 600;
         return t.Signed(t.Header(), c);
       },
       "invalid_token"},
      {"issued in the future",
       [now](JwtTest& t) {
         auto c = t.Claims();
         c["iat"] = now + 600;
         return t.Signed(t.Header(), c);
       },
       "invalid_token"},
      {"wrong issuer",
       [](JwtTest& t) {
         auto c = t.Claims();
         c["iss"] = "https://evil";
         return t.Signed(t.Header(), c);
       },
       "invalid_token"},
      {"wrong audience",
       [](JwtTest& t) {
         auto c = t.Claims();
         c["aud"] = "someone-else";
         return t.Signed(t.Header(), c);
       },
       "invalid_token"},
      {"missing tenant",
       [](JwtTest& t) {
         auto c = t.Claims();
         c.erase("tenant_id");
         return t.Signed(t.Header(), c);
       },
       "invalid_token"},
      {"missing expiry",
       [](JwtTest& t) {
         auto c = t.Claims();
         c.erase("exp");
         return t.Signed(t.Header(), c);
       },
       "invalid_token"},
      {"oversized",
       [](JwtTest& t) {
         auto c = t.Claims();
         c["pad"] = std::string(9000, 'x');
         return t.Signed(t.Header(), c);
       },
       "invalid_token"},
      {"two segments", [](JwtTest&) { return std::string("abc.def"); }, "invalid_token"},
      {"four segments", [](JwtTest& t) { return t.Signed(t.Header(), t.Claims()) + ".x"; },
       "invalid_token"},
      {"not base64url", [](JwtTest&) { return std::string("a*b.c*d.e*f"); }, "invalid_token"},
      {"padded base64",
       [](JwtTest& t) {
         std::string tok = t.Signed(t.Header(), t.Claims());
         return tok + "==";
       },
       "invalid_token"},
      {"header not JSON",
       [](JwtTest&) { return Base64UrlEncode("nope") + "." + Base64UrlEncode("{}") + ".AA"; },
       "invalid_token"},
      {"payload an array",
       [](JwtTest& t) {
         std::string input =
             Base64UrlEncode(bj::serialize(t.Header())) + "." + Base64UrlEncode("[1,2]");
         return input + "." + Base64UrlEncode(*t.key_->Sign(input));
       },
       "invalid_token"},
      {"empty", [](JwtTest&) { return std::string(); }, "invalid_token"},
  };
  for (auto& c : cases) {
    auto res = verifier_->Verify(c.make(*this));
    ASSERT_FALSE(res.ok()) << c.name;
    EXPECT_EQ(res.status().code(), StatusCode::kUnauthenticated) << c.name;
    EXPECT_EQ(res.status().error_code(), c.code) << c.name;
  }
}

}  // namespace
}  // namespace gh::identity

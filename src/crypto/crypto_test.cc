#include <gtest/gtest.h>

#include "common/strings.h"
#include "crypto/aead.h"
#include "crypto/hash.h"
#include "crypto/keys.h"
#include "crypto/password.h"

namespace gh::crypto {
namespace {

TEST(HashTest, Sha256AndHmacMatchKnownVectors) {
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  // RFC 4231 test case 2.
  EXPECT_EQ(HexEncode(HmacSha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  EXPECT_EQ(Crc32("123456789"), 0xCBF43926u);
}

TEST(AeadTest, SealedDataOpensOnlyWithTheSameKeyAndAssociatedData) {
  SeededRandom rng(1);
  Secret key(rng.Bytes(32));
  auto sealed = Seal(key, "refresh-token-value", "tenant=a|user=1", rng);
  ASSERT_TRUE(sealed.ok());
  EXPECT_EQ(sealed->find("refresh-token-value"), std::string::npos);
  auto opened = Open(key, *sealed, "tenant=a|user=1");
  ASSERT_TRUE(opened.ok());
  EXPECT_EQ(opened->reveal(), "refresh-token-value");
  EXPECT_FALSE(Open(key, *sealed, "tenant=b|user=1").ok());
  EXPECT_FALSE(Open(Secret(rng.Bytes(32)), *sealed, "tenant=a|user=1").ok());
  std::string tampered = *sealed;
  tampered[14] ^= 1;
  EXPECT_FALSE(Open(key, tampered, "tenant=a|user=1").ok());
  EXPECT_FALSE(Open(key, "short", "").ok());
}

TEST(PasswordTest, HashVerifiesOnlyTheSamePassword) {
  SeededRandom rng(2);
  PasswordHashParams fast{1, 1024, 1};
  auto h = HashPassword(Secret("Correct-Horse-9"), rng, fast);
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->rfind("$argon2id$", 0), 0u);
  EXPECT_TRUE(VerifyPassword(Secret("Correct-Horse-9"), *h));
  EXPECT_FALSE(VerifyPassword(Secret("correct-horse-9"), *h));
}

TEST(PasswordTest, StrengthPolicyRejectsShortAndSingleClassPasswords) {
  EXPECT_FALSE(CheckPasswordStrength(Secret("Ab1!")).ok());
  EXPECT_FALSE(CheckPasswordStrength(Secret("alllowercaseletters")).ok());
  EXPECT_EQ(CheckPasswordStrength(Secret("alllowercase")).error_code(), "weak_password");
  EXPECT_TRUE(CheckPasswordStrength(Secret("Sunny-Day-42")).ok());
}

TEST(KeysTest, Es256SignaturesVerifyAndSurvivePemRoundTrip) {
  auto key = SigningKey::GenerateEs256();
  ASSERT_TRUE(key.ok());
  auto sig = key->Sign("header.payload");
  ASSERT_TRUE(sig.ok());
  EXPECT_EQ(sig->size(), 64u);
  EXPECT_TRUE(key->Public().Verify("header.payload", *sig));
  EXPECT_FALSE(key->Public().Verify("header.payloaX", *sig));
  auto again = SigningKey::FromPem(key->ToPem());
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->Public().Verify("header.payload", *sig));
  auto from_point = VerifyingKey::FromEcPoint(key->Public().EcX(), key->Public().EcY());
  ASSERT_TRUE(from_point.ok());
  EXPECT_TRUE(from_point->Verify("header.payload", *sig));
  EXPECT_FALSE(VerifyingKey::FromEcPoint(std::string(32, 'x'), std::string(32, 'y')).ok());
}

}  // namespace
}  // namespace gh::crypto

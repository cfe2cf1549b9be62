#include "aws/credentials.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace gh::aws {
namespace {

namespace fs = std::filesystem;

// A fresh directory per test, standing in for $HOME; removed afterwards.
class CredentialsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    home_ =
        fs::temp_directory_path() / ("gh_aws_" + std::to_string(::getpid()) + "_" + info->name());
    fs::remove_all(home_);
    fs::create_directories(home_ / ".aws");
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(home_, ec);
  }

  void Write(const fs::path& p, std::string_view text) {
    std::ofstream out(p, std::ios::binary);
    out << text;
  }
  void WriteCredentials(std::string_view text) { Write(home_ / ".aws" / "credentials", text); }
  void WriteConfig(std::string_view text) { Write(home_ / ".aws" / "config", text); }

  EnvironmentLookup Env(std::map<std::string, std::string, std::less<>> vars = {}) {
    vars.emplace("HOME", home_.string());
    return EnvironmentFromMap(std::move(vars));
  }

  fs::path home_;
};

constexpr std::string_view kCredentialsFile = R"ini(
# comment
[default]
aws_access_key_id = AKIDDEFAULT
aws_secret_access_key = secret/default+key

[prod]
AWS_ACCESS_KEY_ID=AKIDPROD
aws_secret_access_key: prod-secret
aws_session_token = prod-token
)ini";

TEST_F(CredentialsTest, ExplicitConfigurationWinsOverEverything) {
  WriteCredentials(kCredentialsFile);
  AwsExplicitConfig config;
  config.access_key_id = "AKIDEXPLICIT";
  config.secret_access_key = Secret("explicit-secret");
  auto r = ResolveCredentials(
      config, Env({{"AWS_ACCESS_KEY_ID", "AKIDENV"}, {"AWS_SECRET_ACCESS_KEY", "env-secret"}}));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->source, CredentialSource::kExplicit);
  EXPECT_EQ(r->credentials.access_key_id, "AKIDEXPLICIT");
  EXPECT_EQ(r->credentials.secret_access_key.reveal(), "explicit-secret");
  EXPECT_FALSE(r->credentials.session_token.has_value());
}

TEST_F(CredentialsTest, EnvironmentWinsOverTheSharedFile) {
  WriteCredentials(kCredentialsFile);
  auto r = ResolveCredentials({}, Env({{"AWS_ACCESS_KEY_ID", "AKIDENV"},
                                       {"AWS_SECRET_ACCESS_KEY", "env-secret"},
                                       {"AWS_SESSION_TOKEN", "env-token"}}));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->source, CredentialSource::kEnvironment);
  EXPECT_EQ(r->credentials.access_key_id, "AKIDENV");
  EXPECT_EQ(r->credentials.secret_access_key.reveal(), "env-secret");
  ASSERT_TRUE(r->credentials.session_token.has_value());
  EXPECT_EQ(r->credentials.session_token->reveal(), "env-token");
}

TEST_F(CredentialsTest, HalfSetEnvironmentIsAnErrorNotASilentFallThrough) {
  WriteCredentials(kCredentialsFile);
  auto r = ResolveCredentials({}, Env({{"AWS_ACCESS_KEY_ID", "AKIDENV"}}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().error_code(), "aws_credentials_partial");
}

TEST_F(CredentialsTest, EmptyEnvironmentValuesCountAsUnset) {
  WriteCredentials(kCredentialsFile);
  auto r = ResolveCredentials({}, Env({{"AWS_ACCESS_KEY_ID", ""}, {"AWS_SECRET_ACCESS_KEY", ""}}));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->source, CredentialSource::kSharedCredentialsFile);
}

TEST_F(CredentialsTest, SharedFileDefaultProfileIsUsedWithoutAwsProfile) {
  WriteCredentials(kCredentialsFile);
  auto r = ResolveCredentials({}, Env());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->source, CredentialSource::kSharedCredentialsFile);
  EXPECT_EQ(r->profile, "default");
  EXPECT_EQ(r->credentials.access_key_id, "AKIDDEFAULT");
  EXPECT_EQ(r->credentials.secret_access_key.reveal(), "secret/default+key");
  EXPECT_FALSE(r->credentials.session_token.has_value());
}

TEST_F(CredentialsTest, AwsProfileSelectsTheSectionAndItsSessionToken) {
  WriteCredentials(kCredentialsFile);
  auto r = ResolveCredentials({}, Env({{"AWS_PROFILE", "prod"}}));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->profile, "prod");
  EXPECT_EQ(r->credentials.access_key_id, "AKIDPROD");
  EXPECT_EQ(r->credentials.secret_access_key.reveal(), "prod-secret");
  ASSERT_TRUE(r->credentials.session_token.has_value());
  EXPECT_EQ(r->credentials.session_token->reveal(), "prod-token");
}

TEST_F(CredentialsTest, ExplicitProfileOverridesAwsProfile) {
  WriteCredentials(kCredentialsFile);
  AwsExplicitConfig config;
  config.profile = "default";
  auto r = ResolveCredentials(config, Env({{"AWS_PROFILE", "prod"}}));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->credentials.access_key_id, "AKIDDEFAULT");
}

TEST_F(CredentialsTest, SharedCredentialsFileVariableOverridesHome) {
  const fs::path elsewhere = home_ / "elsewhere.ini";
  Write(elsewhere, "[default]\naws_access_key_id=AKIDELSEWHERE\naws_secret_access_key=s\n");
  WriteCredentials(kCredentialsFile);
  auto r = ResolveCredentials({}, Env({{"AWS_SHARED_CREDENTIALS_FILE", elsewhere.string()}}));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->credentials.access_key_id, "AKIDELSEWHERE");
}

TEST_F(CredentialsTest, ConfigFileProfileSectionsAreConsultedAfterTheCredentialsFile) {
  WriteConfig(
      "[default]\nregion = eu-west-3\n\n[profile dev]\nregion = us-west-2\n"
      "aws_access_key_id = AKIDDEV\naws_secret_access_key = dev-secret\n");
  auto r = ResolveCredentials({}, Env({{"AWS_PROFILE", "dev"}}));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->source, CredentialSource::kSharedConfigFile);
  EXPECT_EQ(r->credentials.access_key_id, "AKIDDEV");
}

TEST_F(CredentialsTest, NamedProfileMissingEverywhereIsReportedAsSuch) {
  WriteCredentials(kCredentialsFile);
  auto r = ResolveCredentials({}, Env({{"AWS_PROFILE", "nope"}}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().error_code(), "aws_profile_not_found");
}

TEST_F(CredentialsTest, NothingAnywhereIsCredentialsMissing) {
  auto r = ResolveCredentials({}, Env());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().error_code(), "aws_credentials_missing");
  auto no_home = ResolveCredentials({}, EnvironmentFromMap({}));
  ASSERT_FALSE(no_home.ok());
  EXPECT_EQ(no_home.status().error_code(), "aws_credentials_missing");
}

TEST_F(CredentialsTest, ProfileWithOnlyOneKeyIsPartial) {
  WriteCredentials("[default]\naws_access_key_id = AKID\n");
  auto r = ResolveCredentials({}, Env());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().error_code(), "aws_credentials_partial");
}

TEST_F(CredentialsTest, MalformedSharedFileErrorNamesTheLineButNotItsContent) {
  WriteCredentials("[default]\naws_access_key_id = AKID\nsecret-without-delimiter\n");
  auto r = ResolveCredentials({}, Env());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().error_code(), "aws_config_invalid");
  EXPECT_NE(r.status().message().find("line 3"), std::string::npos);
  EXPECT_EQ(r.status().message().find("secret-without-delimiter"), std::string::npos);
}

TEST_F(CredentialsTest, RegionComesFromExplicitThenAwsRegionThenDefaultRegionThenConfig) {
  WriteConfig("[default]\nregion = eu-west-3\n[profile dev]\nregion = ap-south-1\n");
  AwsExplicitConfig explicit_region;
  explicit_region.region = "us-east-2";
  auto env = Env({{"AWS_REGION", "us-west-2"}, {"AWS_DEFAULT_REGION", "us-east-1"}});
  EXPECT_EQ(*ResolveRegion(explicit_region, env), "us-east-2");
  EXPECT_EQ(*ResolveRegion({}, env), "us-west-2");
  EXPECT_EQ(*ResolveRegion({}, Env({{"AWS_DEFAULT_REGION", "us-east-1"}})), "us-east-1");
  EXPECT_EQ(*ResolveRegion({}, Env()), "eu-west-3");
  EXPECT_EQ(*ResolveRegion({}, Env({{"AWS_PROFILE", "dev"}})), "ap-south-1");
}

TEST_F(CredentialsTest, MissingOrHostileRegionIsRejected) {
  auto missing = ResolveRegion({}, Env());
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().error_code(), "aws_region_missing");
  auto hostile = ResolveRegion({}, Env({{"AWS_REGION", "evil.example.com/x"}}));
  ASSERT_FALSE(hostile.ok());
  EXPECT_EQ(hostile.status().error_code(), "aws_region_invalid");
}

TEST(IniTest, ParsesConfigparserSubsetUsedByAwsFiles) {
  auto doc = ParseIni(
      "; top comment\r\n[a]\r\nKey = v1 \r\nother: x=y\n  # indented comment\n[b]\nnested =\n"
      "  inner = 1\n  more = 2\n[a]\nkey = v2\n");
  ASSERT_TRUE(doc.ok()) << doc.status().ToString();
  ASSERT_NE(doc->Find("a", "key"), nullptr);
  EXPECT_EQ(*doc->Find("a", "key"), "v2");  // repeated section merges, last value wins
  EXPECT_EQ(*doc->Find("a", "other"), "x=y");
  EXPECT_EQ(*doc->Find("b", "nested"), "inner = 1\nmore = 2");
  EXPECT_EQ(doc->Find("c", "key"), nullptr);
}

TEST(IniTest, RejectsKeysOutsideSectionsAndBrokenHeaders) {
  EXPECT_FALSE(ParseIni("key = value\n").ok());
  EXPECT_FALSE(ParseIni("[open\nkey = value\n").ok());
  EXPECT_FALSE(ParseIni("[]\n").ok());
  EXPECT_FALSE(ParseIni("[a]\n= value\n").ok());
}

}  // namespace
}  // namespace gh::aws

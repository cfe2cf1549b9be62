#include "aws/sigv4.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/strings.h"
#include "common/time_util.h"
#include "crypto/hash.h"

namespace gh::aws {
namespace {

namespace fs = std::filesystem;

const fs::path kSuiteDir = fs::path(GH_SHARED_TESTDATA) / "sigv4" / "botocore-aws4-testsuite";
constexpr std::string_view kSuiteSessionToken =
    "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267";
constexpr std::string_view kStsExampleToken =
    "AQoDYXdzEPT//////////"
    "wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeo"
    "IYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/"
    "kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VS"
    "XDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+"
    "scqKmlzm8FDrypNC9Yjc8"
    "fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==";

Timestamp SuiteTime() { return *ParseRfc3339("2015-08-30T12:36:00Z"); }

AwsCredentials SuiteCredentials() {
  return {"AKIDEXAMPLE", Secret("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"), std::nullopt};
}

std::optional<std::string> ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string PercentDecode(std::string_view s) {
  auto nibble = [](char c) {
    return std::isdigit(static_cast<unsigned char>(c)) ? c - '0' : std::toupper(c) - 'A' + 10;
  };
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out.push_back(static_cast<char>(nibble(s[i + 1]) * 16 + nibble(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

// Parses the suite's raw requests: "METHOD target HTTP/1.1", "Name:value" lines where a line
// starting with whitespace continues the previous value, an empty line, then the body. The target
// may contain spaces (normalize-path/get-space), so the version is taken from the last space.
std::optional<SigV4Request> ParseRawRequest(std::string_view text) {
  SigV4Request req;
  std::vector<std::string_view> lines;
  size_t pos = 0;
  std::optional<size_t> body_start;
  while (pos <= text.size()) {
    size_t eol = text.find('\n', pos);
    std::string_view line = text.substr(pos, eol == std::string_view::npos ? eol : eol - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() && !lines.empty()) {
      body_start = eol == std::string_view::npos ? text.size() : eol + 1;
      break;
    }
    lines.push_back(line);
    if (eol == std::string_view::npos) break;
    pos = eol + 1;
  }
  if (lines.empty()) return std::nullopt;
  std::string_view request_line = lines[0];
  size_t first_space = request_line.find(' ');
  size_t last_space = request_line.rfind(' ');
  if (first_space == std::string_view::npos || last_space <= first_space) return std::nullopt;
  req.method = std::string(request_line.substr(0, first_space));
  std::string_view target = request_line.substr(first_space + 1, last_space - first_space - 1);
  size_t q = target.find('?');
  req.path = std::string(target.substr(0, q));
  if (q != std::string_view::npos) {
    std::string_view query = target.substr(q + 1);
    size_t start = 0;
    while (start <= query.size()) {
      size_t amp = query.find('&', start);
      std::string_view pair =
          query.substr(start, amp == std::string_view::npos ? amp : amp - start);
      if (!pair.empty()) {
        size_t eq = pair.find('=');
        std::string_view name = pair.substr(0, eq);
        std::string_view value = eq == std::string_view::npos ? "" : pair.substr(eq + 1);
        req.query.emplace_back(PercentDecode(name), PercentDecode(value));
      }
      if (amp == std::string_view::npos) break;
      start = amp + 1;
    }
  }
  for (size_t i = 1; i < lines.size(); ++i) {
    std::string_view line = lines[i];
    if (line.front() == ' ' || line.front() == '\t') {
      if (req.headers.empty()) return std::nullopt;
      req.headers.back().second.append("\n").append(line);  // obsolete line folding
      continue;
    }
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) return std::nullopt;
    req.headers.emplace_back(std::string(line.substr(0, colon)),
                             std::string(line.substr(colon + 1)));
  }
  if (body_start) req.body = std::string(text.substr(*body_start));
  return req;
}

struct Vector {
  std::string name;
  fs::path dir;
};

std::vector<Vector> FindVectors() {
  std::vector<Vector> out;
  for (const auto& entry : fs::recursive_directory_iterator(kSuiteDir)) {
    if (entry.is_regular_file() && entry.path().extension() == ".req") {
      out.push_back({entry.path().stem().string(), entry.path().parent_path()});
    }
  }
  std::sort(out.begin(), out.end(),
            [](const Vector& a, const Vector& b) { return a.name < b.name; });
  return out;
}

TEST(SigV4Test, EveryBotocoreVectorProducesTheExpectedSignature) {
  if (!fs::is_directory(kSuiteDir)) {
    GTEST_SKIP() << "shared SigV4 test suite not found at " << kSuiteDir;
  }
  const std::vector<Vector> vectors = FindVectors();
  // 34 vectors in the suite as shipped; fewer means the walk missed a nested folder.
  ASSERT_GE(vectors.size(), 34u);
  for (const Vector& v : vectors) {
    SCOPED_TRACE(v.name);
    auto raw = ReadFile(v.dir / (v.name + ".req"));
    auto creq = ReadFile(v.dir / (v.name + ".creq"));
    auto sts = ReadFile(v.dir / (v.name + ".sts"));
    auto authz = ReadFile(v.dir / (v.name + ".authz"));
    ASSERT_TRUE(raw && creq && sts && authz) << "incomplete vector folder " << v.dir;
    auto request = ParseRawRequest(*raw);
    ASSERT_TRUE(request.has_value()) << "unparseable .req";

    AwsCredentials credentials = SuiteCredentials();
    SigV4Options options;
    // The suite's conventions for temporary credentials (post-sts-token/readme.txt, botocore's
    // test runner): this vector signs with a token that is not in the .req ...
    if (v.name == "get-vanilla-with-session-token") {
      credentials.session_token = Secret(std::string(kSuiteSessionToken));
    }
    // ... and this one adds the token only after signing.
    if (v.name == "post-sts-header-after") {
      credentials.session_token = Secret(std::string(kStsExampleToken));
      options.sign_security_token = false;
    }

    SigV4Signer signer("us-east-1", "service", options);
    auto signature = signer.Sign(*request, credentials, SuiteTime());
    ASSERT_TRUE(signature.ok()) << signature.status().ToString();
    EXPECT_EQ(signature->canonical_request, *creq);
    EXPECT_EQ(signature->string_to_sign, *sts);
    EXPECT_EQ(signature->authorization, *authz);

    if (credentials.session_token) {
      const auto& added = signature->headers_to_add;
      auto token = std::find_if(added.begin(), added.end(),
                                [](const auto& h) { return h.first == "x-amz-security-token"; });
      ASSERT_NE(token, added.end());
      EXPECT_EQ(token->second, credentials.session_token->reveal());
    }
  }
}

TEST(SigV4Test, CanonicalRequestAndStringToSignMatchWhatSignUses) {
  SigV4Request req{"GET", "/", {}, {{"Host", "example.amazonaws.com"}}, ""};
  SigV4Signer signer("us-east-1", "service");
  auto sig = signer.Sign(req, SuiteCredentials(), SuiteTime());
  auto creq = signer.CanonicalRequest(req, SuiteCredentials(), SuiteTime());
  auto sts = signer.StringToSign(req, SuiteCredentials(), SuiteTime());
  ASSERT_TRUE(sig.ok() && creq.ok() && sts.ok());
  EXPECT_EQ(sig->canonical_request, *creq);
  EXPECT_EQ(sig->string_to_sign, *sts);
  // get-vanilla, with x-amz-date set by the signer rather than by the request.
  EXPECT_EQ(sig->signature, "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
  ASSERT_EQ(sig->headers_to_add.size(), 2u);
  EXPECT_EQ(sig->headers_to_add[0],
            (std::pair<std::string, std::string>{"x-amz-date", "20150830T123600Z"}));
  EXPECT_EQ(sig->headers_to_add[1].first, "authorization");
}

// Bedrock model ids carry a ':' version suffix ("...-v1:0") and may be inference-profile ARNs
// ("arn:aws:bedrock:...:inference-profile/..."). botocore's REST serializer percent-encodes a
// non-greedy URI label with safe chars "-._~" (serialize.py _render_uri_template), so the wire path
// holds %3A (and %2F for the ARN's '/'). SigV4Auth._normalize_url_path then quotes the path again
// with safe "/~" for every service except S3 (S3SigV4Auth returns the path untouched), so the
// canonical URI holds %253A. Clients that sign the singly-encoded path get 403
// SignatureDoesNotMatch from bedrock-runtime for every model id with a colon (reported and fixed
// in e.g. higress #2396/#3590, maki #212, aws-amplify-flutter #5541).
TEST(SigV4Test, BedrockModelIdColonIsEncodedOnceOnTheWireAndTwiceInTheCanonicalUri) {
  auto path = BuildRestPath({"model", "anthropic.claude-3-haiku-20240307-v1:0", "converse"});
  ASSERT_TRUE(path.ok());
  EXPECT_EQ(path->wire, "/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse");
  EXPECT_EQ(path->canonical, "/model/anthropic.claude-3-haiku-20240307-v1%253A0/converse");

  SigV4Request req{
      "POST", path->wire, {}, {{"host", "bedrock-runtime.us-east-1.amazonaws.com"}}, "{}"};
  SigV4Signer signer("us-east-1", "bedrock");
  auto creq = signer.CanonicalRequest(req, SuiteCredentials(), SuiteTime());
  ASSERT_TRUE(creq.ok());
  EXPECT_EQ(creq->substr(0, creq->find('\n', 5)),
            "POST\n/model/anthropic.claude-3-haiku-20240307-v1%253A0/converse");
}

TEST(SigV4Test, InferenceProfileArnStaysOneSegment) {
  auto path = BuildRestPath({"model",
                             "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.x.y-v1:0",
                             "converse-stream"});
  ASSERT_TRUE(path.ok());
  EXPECT_EQ(path->wire,
            "/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3Ainference-profile%2Fus.x.y-v1%"
            "3A0/converse-stream");
  EXPECT_EQ(path->canonical,
            "/model/arn%253Aaws%253Abedrock%253Aus-east-1%253A123456789012%253Ainference-profile%"
            "252Fus.x.y-v1%253A0/converse-stream");
}

TEST(SigV4Test, RestPathRejectsSegmentsThatNormalisationWouldDropOrClimb) {
  EXPECT_FALSE(BuildRestPath({"model", "..", "converse"}).ok());
  EXPECT_FALSE(BuildRestPath({"model", ".", "converse"}).ok());
  EXPECT_FALSE(BuildRestPath({"model", "", "converse"}).ok());
  EXPECT_TRUE(BuildRestPath({"model", "../x", "converse"}).ok());  // '/' is encoded: one segment
}

TEST(SigV4Test, S3OptionsKeepTheWirePathVerbatim) {
  SigV4Options s3;
  s3.normalize_path = false;
  s3.double_encode_path = false;
  EXPECT_EQ(CanonicalUri("/my-object//example//photo.user", s3), "/my-object//example//photo.user");
  EXPECT_EQ(CanonicalUri("/a%3Ab", s3), "/a%3Ab");
  EXPECT_EQ(CanonicalUri("/my-object//example//photo.user", SigV4Options{}),
            "/my-object/example/photo.user");
}

TEST(SigV4Test, PathNormalisationFollowsBotocore) {
  EXPECT_EQ(NormalizePath(""), "/");
  EXPECT_EQ(NormalizePath("/"), "/");
  EXPECT_EQ(NormalizePath("//"), "/");
  EXPECT_EQ(NormalizePath("/example/.."), "/");
  EXPECT_EQ(NormalizePath("/a/b/../../.."), "/");
  EXPECT_EQ(NormalizePath("//example//"), "/example/");
  EXPECT_EQ(NormalizePath("/./example"), "/example");
  EXPECT_EQ(NormalizePath("/a/./b/../c/"), "/a/c/");
}

TEST(SigV4Test, QueryIsEncodedWithTheUnreservedSetAndSortedByNameThenValue) {
  HttpFields q = {{"b", "2 3"}, {"a", "x/y"}, {"a", "+"}, {"c", ""}};
  EXPECT_EQ(CanonicalQueryString(q), "a=%2B&a=x%2Fy&b=2%203&c=");
  EXPECT_EQ(EncodeQueryString(q), "b=2%203&a=x%2Fy&a=%2B&c=");
}

TEST(SigV4Test, SessionTokenAndContentHashHeadersAreSignedAndReturned) {
  SigV4Options options;
  options.add_content_sha256_header = true;
  SigV4Signer signer("eu-west-3", "bedrock", options);
  AwsCredentials creds = SuiteCredentials();
  creds.session_token = Secret("tok en");
  SigV4Request req{"post",
                   "/model/m/converse",
                   {},
                   {{"Host", "bedrock-runtime.eu-west-3.amazonaws.com"},
                    {"Content-Type", "application/json"},
                    {"User-Agent", "gatehouse"},
                    {"X-Amz-Date", "19700101T000000Z"}},
                   "{\"messages\":[]}"};
  auto sig = signer.Sign(req, creds, SuiteTime());
  ASSERT_TRUE(sig.ok()) << sig.status().ToString();
  EXPECT_NE(sig->canonical_request.find("POST\n"), std::string::npos);
  EXPECT_NE(
      sig->authorization.find("Credential=AKIDEXAMPLE/20150830/eu-west-3/bedrock/aws4_request, "
                              "SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-"
                              "date;x-amz-security-token, Signature="),
      std::string::npos);
  EXPECT_EQ(sig->canonical_request.find("19700101"), std::string::npos);  // ours replaces theirs
  EXPECT_EQ(sig->canonical_request.find("user-agent"), std::string::npos);
  ASSERT_EQ(sig->headers_to_add.size(), 4u);
  EXPECT_EQ(sig->headers_to_add[1].second, "tok en");
  EXPECT_EQ(sig->headers_to_add[2].first, "x-amz-content-sha256");
  EXPECT_EQ(sig->headers_to_add[2].second, crypto::Sha256Hex(req.body));
}

TEST(SigV4Test, SigningKeyMatchesTheAwsDocumentationExample) {
  // "Derive a signing key" example of the AWS SigV4 documentation (service iam).
  EXPECT_EQ(HexEncode(DeriveSigningKey(Secret("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
                                       "20150830", "us-east-1", "iam")
                          .reveal()),
            "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9");
}

TEST(SigV4Test, AmzDateIsUtcAndDropsSubSecondPrecision) {
  EXPECT_EQ(FormatAmzDate(FromUnixMillis(1440938160999)), "20150830T123600Z");
  EXPECT_EQ(FormatAmzDate(FromUnixSeconds(0)), "19700101T000000Z");
}

TEST(SigV4Test, MalformedRequestsAndEmptyCredentialsAreErrorsNotSignatures) {
  SigV4Signer signer("us-east-1", "bedrock");
  const HttpFields host = {{"host", "bedrock-runtime.us-east-1.amazonaws.com"}};
  auto code = [&](SigV4Request req, AwsCredentials creds = SuiteCredentials()) {
    auto r = signer.Sign(req, creds, SuiteTime());
    return r.ok() ? std::string("ok") : r.status().error_code();
  };
  EXPECT_EQ(code({"POST", "/", {}, {}, ""}), "aws_sigv4_invalid_request");  // no host
  EXPECT_EQ(code({"POST", "relative", {}, host, ""}), "aws_sigv4_invalid_request");
  EXPECT_EQ(code({"POST", "/a?b=c", {}, host, ""}), "aws_sigv4_invalid_request");
  EXPECT_EQ(code({"PO ST", "/", {}, host, ""}), "aws_sigv4_invalid_request");
  EXPECT_EQ(code({"POST", "/", {}, {{"host", "h"}, {"bad name", "v"}}, ""}),
            "aws_sigv4_invalid_request");
  EXPECT_EQ(code({"POST", "/", {}, host, ""}, AwsCredentials{"AKID", Secret(""), std::nullopt}),
            "aws_credentials_missing");
  EXPECT_EQ(code({"POST", "/", {}, host, ""}), "ok");
  SigV4Signer no_region("", "bedrock");
  EXPECT_FALSE(no_region.Sign({"POST", "/", {}, host, ""}, SuiteCredentials(), SuiteTime()).ok());
}

TEST(SigV4Test, AnyChangeToSecretBodyOrTimeChangesTheSignature) {
  SigV4Signer signer("us-east-1", "bedrock");
  SigV4Request req{"POST", "/model/m/converse", {}, {{"host", "h"}}, "{}"};
  const std::string base = signer.Sign(req, SuiteCredentials(), SuiteTime())->signature;
  AwsCredentials other = SuiteCredentials();
  other.secret_access_key = Secret("another-secret");
  EXPECT_NE(signer.Sign(req, other, SuiteTime())->signature, base);
  EXPECT_NE(signer.Sign(req, SuiteCredentials(), SuiteTime() + std::chrono::seconds(1))->signature,
            base);
  req.body = "{ }";
  EXPECT_NE(signer.Sign(req, SuiteCredentials(), SuiteTime())->signature, base);
}

TEST(SigV4Test, UnsignedPayloadOverrideReplacesTheBodyHash) {
  SigV4Options options;
  options.payload_hash = "UNSIGNED-PAYLOAD";
  SigV4Signer signer("us-east-1", "s3", options);
  auto creq = signer.CanonicalRequest({"PUT", "/k", {}, {{"host", "h"}}, "data"},
                                      SuiteCredentials(), SuiteTime());
  ASSERT_TRUE(creq.ok());
  EXPECT_TRUE(creq->ends_with("\nUNSIGNED-PAYLOAD"));
}

}  // namespace
}  // namespace gh::aws

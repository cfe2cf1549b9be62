// AWS Signature Version 4 (Authorization-header flavour) for calls to AWS services such as Amazon
// Bedrock Runtime.
//
// What: pure functions over a description of an HTTP request. Nothing here touches the network,
// the OS clock or the environment: the signing time is a parameter, the credentials are passed in.
// The canonicalisation follows botocore's SigV4Auth for non-S3 services (the AWS test suite is the
// specification, see sigv4_test.cc); SigV4Options switches to S3 path semantics when needed.
//
// Ownership: every function takes its inputs by reference and returns values; nothing is retained.
// Secrets: the secret key only ever enters HMAC. The session token, however, must travel on the
// wire, so SigV4Signature::headers_to_add (and canonical_request, when the token is signed) hold it
// in clear: do not log them.
// Thread-safety: stateless; SigV4Signer is immutable after construction and safe from any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/secret.h"
#include "common/status.h"

namespace gh::aws {

// Ordered (name, value) pairs: HTTP header fields or query parameters. Duplicates are allowed.
using HttpFields = std::vector<std::pair<std::string, std::string>>;

struct AwsCredentials {
  std::string access_key_id;
  Secret secret_access_key;
  std::optional<Secret> session_token;  // temporary (STS) credentials only
};

struct SigV4Request {
  std::string method;  // e.g. "POST"; upper-cased for signing
  // The path exactly as it goes on the wire: already percent-encoded, starting with '/', without
  // query or fragment. BuildRestPath() produces it from raw segments.
  std::string path;
  HttpFields query;    // raw (decoded) names and values; the signer encodes them
  HttpFields headers;  // must contain "host"; names are case-insensitive
  std::string body;
};

struct SigV4Options {
  // Non-S3 services (Bedrock included): remove "." / ".." segments and empty segments, then
  // URI-encode the (already encoded) wire path once more. S3 wants the wire path verbatim: set
  // both to false.
  bool normalize_path = true;
  bool double_encode_path = true;
  // Adds and signs x-amz-content-sha256 (S3 requires it; Bedrock does not).
  bool add_content_sha256_header = false;
  // Whether x-amz-security-token is part of the signature (the usual case) or only added to the
  // request after signing (the test suite's post-sts-header-after; a few legacy services).
  bool sign_security_token = true;
  // Overrides the hashed payload, e.g. "UNSIGNED-PAYLOAD". Otherwise a request header
  // x-amz-content-sha256 wins, else the hex SHA-256 of the body.
  std::optional<std::string> payload_hash;
};

struct SigV4Signature {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signature;      // lower-case hex
  std::string authorization;  // the Authorization header value
  // Headers to set on the request (replacing any of the same name): x-amz-date, then
  // x-amz-security-token and x-amz-content-sha256 when applicable, then authorization.
  HttpFields headers_to_add;
};

class SigV4Signer {
 public:
  // region: e.g. "us-east-1". service: the signing name, which for Bedrock Runtime is "bedrock"
  // (not the endpoint prefix "bedrock-runtime"; see the service model's metadata.signingName).
  SigV4Signer(std::string region, std::string service, SigV4Options options = {});

  // Signs the request as of `when`. Fails (InvalidArgument / FailedPrecondition) on a malformed
  // request (no host header, relative path, bad method or header name) or empty credentials.
  Result<SigV4Signature> Sign(const SigV4Request& request, const AwsCredentials& credentials,
                              Timestamp when) const;

  // The intermediate artefacts, for tests and for debugging a SignatureDoesNotMatch.
  Result<std::string> CanonicalRequest(const SigV4Request& request,
                                       const AwsCredentials& credentials, Timestamp when) const;
  Result<std::string> StringToSign(const SigV4Request& request, const AwsCredentials& credentials,
                                   Timestamp when) const;

  const std::string& region() const { return region_; }
  const std::string& service() const { return service_; }

 private:
  std::string region_;
  std::string service_;
  SigV4Options options_;
};

// --- Building blocks (exposed for tests and for the HTTP client) ---

// "20150830T123600Z" (UTC, ISO 8601 basic format), the x-amz-date value.
std::string FormatAmzDate(Timestamp t);

// RFC 3986 percent-encoding: every byte except A-Z a-z 0-9 - _ . ~ becomes %XX (upper-case hex);
// '/' is kept as is when !encode_slash.
std::string UriEncode(std::string_view s, bool encode_slash);

// RFC 3986 section 5.2.4 dot-segment removal plus the removal of empty segments ("//"), as
// botocore does. Keeps a trailing '/' when something remains. "" becomes "/".
std::string NormalizePath(std::string_view path);

// The canonical URI of a wire path under the given options.
std::string CanonicalUri(std::string_view wire_path, const SigV4Options& options);

// Encoded name=value pairs sorted by encoded name, then encoded value, joined with '&'.
std::string CanonicalQueryString(const HttpFields& query);
// The same encoding in the caller's order, for the request target ("a=1&b=2", no '?').
std::string EncodeQueryString(const HttpFields& query);

// Trims a header value and collapses every run of whitespace (including folded line breaks) into
// one space.
std::string CanonicalHeaderValue(std::string_view value);

// kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request").
// `date` is "YYYYMMDD".
Secret DeriveSigningKey(const Secret& secret_access_key, std::string_view date,
                        std::string_view region, std::string_view service);

// A REST path built from raw (unencoded) segments, e.g. {"model", model_id, "converse"}.
struct AwsRestPath {
  std::string wire;       // what goes on the request line: each segment percent-encoded once
  std::string canonical;  // what the canonical request holds: the wire path encoded again
};
// Each segment is encoded with UriEncode(segment, /*encode_slash=*/true), as botocore's REST
// serializer does for non-greedy URI labels, so an inference-profile ARN stays one segment.
// Rejects empty, "." and ".." segments: normalisation would silently drop or climb them, which
// would make an untrusted model id address another path.
Result<AwsRestPath> BuildRestPath(const std::vector<std::string_view>& raw_segments);

}  // namespace gh::aws

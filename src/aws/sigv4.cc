#include "aws/sigv4.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>

#include "common/strings.h"
#include "crypto/hash.h"

namespace gh::aws {
namespace {

constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";
constexpr std::string_view kTerminator = "aws4_request";
constexpr std::string_view kDateHeader = "x-amz-date";
constexpr std::string_view kSecurityTokenHeader = "x-amz-security-token";
constexpr std::string_view kContentSha256Header = "x-amz-content-sha256";

// Headers botocore never signs: they are rewritten by proxies or added by the transport, and
// signing them would break the signature on the way. authorization is the output itself.
constexpr std::string_view kUnsignedHeaders[] = {"authorization", "expect", "transfer-encoding",
                                                 "user-agent", "x-amzn-trace-id"};

bool IsUnreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '.' || c == '~';
}

bool IsHttpWhitespace(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

// RFC 9110 token characters: what a method or a header name may contain.
bool IsTokenChar(unsigned char c) {
  if (std::isalnum(c)) return true;
  constexpr std::string_view kSpecials = "!#$%&'*+-.^_`|~";
  return kSpecials.find(static_cast<char>(c)) != std::string_view::npos;
}

bool IsToken(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return IsTokenChar(static_cast<unsigned char>(c));
  });
}

std::string InvalidRequestCode() { return "aws_sigv4_invalid_request"; }

struct Artefacts {
  std::string canonical_request;
  std::string signed_headers;
  std::string amz_date;
  std::string scope;
  HttpFields added_before_signature;  // x-amz-date, token, content hash (the ones we set)
};

}  // namespace

std::string FormatAmzDate(Timestamp t) {
  using namespace std::chrono;
  const auto secs = floor<seconds>(t);
  const auto day = floor<days>(secs);
  const year_month_day ymd{day};
  const hh_mm_ss hms{secs - day};
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d%02u%02uT%02d%02d%02dZ", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                static_cast<int>(hms.seconds().count()));
  return buf;
}

std::string UriEncode(std::string_view s, bool encode_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if (IsUnreserved(c) || (c == '/' && !encode_slash)) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

std::string NormalizePath(std::string_view path) {
  if (path.empty()) return "/";
  std::vector<std::string_view> kept;
  for (std::string_view segment : Split(path, '/')) {
    if (segment.empty() || segment == ".") continue;
    if (segment == "..") {
      if (!kept.empty()) kept.pop_back();
      continue;
    }
    kept.push_back(segment);
  }
  std::string out = path.front() == '/' ? "/" : "";
  for (size_t i = 0; i < kept.size(); ++i) {
    if (i) out.push_back('/');
    out.append(kept[i]);
  }
  if (path.back() == '/' && !kept.empty()) out.push_back('/');
  return out;
}

std::string CanonicalUri(std::string_view wire_path, const SigV4Options& options) {
  std::string path = options.normalize_path ? NormalizePath(wire_path) : std::string(wire_path);
  if (path.empty()) path = "/";
  return options.double_encode_path ? UriEncode(path, /*encode_slash=*/false) : path;
}

std::string CanonicalQueryString(const HttpFields& query) {
  std::vector<std::pair<std::string, std::string>> encoded;
  encoded.reserve(query.size());
  for (const auto& [name, value] : query) {
    encoded.emplace_back(UriEncode(name, true), UriEncode(value, true));
  }
  // Sort on the pair, not on "name=value": '=' sorts after '-', so "Param=..." would otherwise
  // come after "Param-3=..." (get-vanilla-query-order-encoded).
  std::sort(encoded.begin(), encoded.end());
  std::string out;
  for (const auto& [name, value] : encoded) {
    if (!out.empty()) out.push_back('&');
    out.append(name).append("=").append(value);
  }
  return out;
}

std::string EncodeQueryString(const HttpFields& query) {
  std::string out;
  for (const auto& [name, value] : query) {
    if (!out.empty()) out.push_back('&');
    out.append(UriEncode(name, true)).append("=").append(UriEncode(value, true));
  }
  return out;
}

std::string CanonicalHeaderValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  bool pending_space = false;
  for (char c : value) {
    if (IsHttpWhitespace(c)) {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out.push_back(' ');
    pending_space = false;
    out.push_back(c);
  }
  return out;
}

Secret DeriveSigningKey(const Secret& secret_access_key, std::string_view date,
                        std::string_view region, std::string_view service) {
  std::string key = crypto::HmacSha256("AWS4" + secret_access_key.reveal(), date);
  key = crypto::HmacSha256(key, region);
  key = crypto::HmacSha256(key, service);
  return Secret(crypto::HmacSha256(key, kTerminator));
}

Result<AwsRestPath> BuildRestPath(const std::vector<std::string_view>& raw_segments) {
  AwsRestPath path;
  for (std::string_view segment : raw_segments) {
    if (segment.empty() || segment == "." || segment == "..") {
      return Status::InvalidArgument("AWS REST path segments must not be empty, \".\" or \"..\"",
                                     InvalidRequestCode());
    }
    path.wire.push_back('/');
    path.wire.append(UriEncode(segment, /*encode_slash=*/true));
  }
  if (path.wire.empty()) path.wire = "/";
  path.canonical = CanonicalUri(path.wire, SigV4Options{});
  return path;
}

namespace {

Result<Artefacts> BuildCanonicalRequest(const SigV4Request& request,
                                        const AwsCredentials& credentials, Timestamp when,
                                        std::string_view region, std::string_view service,
                                        const SigV4Options& options) {
  if (region.empty() || service.empty()) {
    return Status::InvalidArgument("SigV4 needs a region and a service name", InvalidRequestCode());
  }
  if (credentials.access_key_id.empty() || credentials.secret_access_key.empty()) {
    return Status::FailedPrecondition("AWS credentials are empty", "aws_credentials_missing");
  }
  if (!IsToken(request.method)) {
    return Status::InvalidArgument("SigV4: invalid HTTP method", InvalidRequestCode());
  }
  if (request.path.empty() || request.path.front() != '/' ||
      request.path.find_first_of("?#") != std::string::npos) {
    return Status::InvalidArgument(
        "SigV4: the path must be absolute and carry no query or fragment", InvalidRequestCode());
  }

  Artefacts out;
  out.amz_date = FormatAmzDate(when);
  const std::string date = out.amz_date.substr(0, 8);
  out.scope = date + "/" + std::string(region) + "/" + std::string(service) + "/" +
              std::string(kTerminator);

  std::optional<std::string> payload_hash = options.payload_hash;

  // Headers we set replace any the caller supplied under the same name.
  const bool set_token = credentials.session_token.has_value();
  auto replaced_by_us = [&](std::string_view lname) {
    return lname == kDateHeader || (set_token && lname == kSecurityTokenHeader) ||
           (options.add_content_sha256_header && lname == kContentSha256Header);
  };

  struct Field {
    std::string name;  // lower-case
    std::string value;
  };
  std::vector<Field> fields;
  bool has_host = false;
  for (const auto& [name, value] : request.headers) {
    if (!IsToken(name)) {
      return Status::InvalidArgument("SigV4: invalid header name", InvalidRequestCode());
    }
    std::string lname = ToLower(name);
    if (lname == "host") has_host = true;
    if (replaced_by_us(lname)) continue;
    if (lname == kContentSha256Header && !payload_hash) payload_hash = std::string(Trim(value));
    if (std::find(std::begin(kUnsignedHeaders), std::end(kUnsignedHeaders), lname) !=
        std::end(kUnsignedHeaders)) {
      continue;
    }
    fields.push_back({std::move(lname), CanonicalHeaderValue(value)});
  }
  if (!has_host) {
    return Status::InvalidArgument("SigV4: the request has no host header", InvalidRequestCode());
  }
  if (!payload_hash) payload_hash = crypto::Sha256Hex(request.body);

  out.added_before_signature.emplace_back(std::string(kDateHeader), out.amz_date);
  fields.push_back({std::string(kDateHeader), out.amz_date});
  if (set_token) {
    out.added_before_signature.emplace_back(std::string(kSecurityTokenHeader),
                                            credentials.session_token->reveal());
    if (options.sign_security_token) {
      fields.push_back({std::string(kSecurityTokenHeader),
                        CanonicalHeaderValue(credentials.session_token->reveal())});
    }
  }
  if (options.add_content_sha256_header) {
    out.added_before_signature.emplace_back(std::string(kContentSha256Header), *payload_hash);
    fields.push_back({std::string(kContentSha256Header), *payload_hash});
  }

  // Stable: repeated headers keep their order and are joined with ',' (get-header-value-order).
  std::stable_sort(fields.begin(), fields.end(),
                   [](const Field& a, const Field& b) { return a.name < b.name; });
  std::string canonical_headers;
  for (size_t i = 0; i < fields.size(); ++i) {
    const bool continues = i > 0 && fields[i - 1].name == fields[i].name;
    if (continues) {
      canonical_headers.push_back(',');
    } else {
      if (i > 0) canonical_headers.push_back('\n');
      canonical_headers.append(fields[i].name).push_back(':');
      if (!out.signed_headers.empty()) out.signed_headers.push_back(';');
      out.signed_headers.append(fields[i].name);
    }
    canonical_headers.append(fields[i].value);
  }
  canonical_headers.push_back('\n');

  std::string method(request.method);
  for (char& c : method) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));

  out.canonical_request = method + "\n" + CanonicalUri(request.path, options) + "\n" +
                          CanonicalQueryString(request.query) + "\n" + canonical_headers + "\n" +
                          out.signed_headers + "\n" + *payload_hash;
  return out;
}

std::string BuildStringToSign(const Artefacts& a) {
  return std::string(kAlgorithm) + "\n" + a.amz_date + "\n" + a.scope + "\n" +
         crypto::Sha256Hex(a.canonical_request);
}

}  // namespace

SigV4Signer::SigV4Signer(std::string region, std::string service, SigV4Options options)
    : region_(std::move(region)), service_(std::move(service)), options_(std::move(options)) {}

Result<std::string> SigV4Signer::CanonicalRequest(const SigV4Request& request,
                                                  const AwsCredentials& credentials,
                                                  Timestamp when) const {
  GH_ASSIGN_OR_RETURN(
      Artefacts a, BuildCanonicalRequest(request, credentials, when, region_, service_, options_));
  return std::move(a.canonical_request);
}

Result<std::string> SigV4Signer::StringToSign(const SigV4Request& request,
                                              const AwsCredentials& credentials,
                                              Timestamp when) const {
  GH_ASSIGN_OR_RETURN(
      Artefacts a, BuildCanonicalRequest(request, credentials, when, region_, service_, options_));
  return BuildStringToSign(a);
}

Result<SigV4Signature> SigV4Signer::Sign(const SigV4Request& request,
                                         const AwsCredentials& credentials, Timestamp when) const {
  GH_ASSIGN_OR_RETURN(
      Artefacts a, BuildCanonicalRequest(request, credentials, when, region_, service_, options_));
  SigV4Signature out;
  out.string_to_sign = BuildStringToSign(a);
  const Secret key =
      DeriveSigningKey(credentials.secret_access_key, a.amz_date.substr(0, 8), region_, service_);
  out.signature = HexEncode(crypto::HmacSha256(key.reveal(), out.string_to_sign));
  out.authorization = std::string(kAlgorithm) + " Credential=" + credentials.access_key_id + "/" +
                      a.scope + ", SignedHeaders=" + a.signed_headers +
                      ", Signature=" + out.signature;
  out.canonical_request = std::move(a.canonical_request);
  out.headers_to_add = std::move(a.added_before_signature);
  out.headers_to_add.emplace_back("authorization", out.authorization);
  return out;
}

}  // namespace gh::aws

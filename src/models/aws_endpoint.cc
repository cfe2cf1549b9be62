#include "models/aws_endpoint.h"

#include <fmt/format.h>
#include <boost/json.hpp>
#include <boost/url/parse.hpp>

#include <cstdlib>

#include "common/strings.h"
#include "models/openai_model.h"
#include "models/provider_common.h"

namespace gh::models {

namespace bj = boost::json;

AwsEndpoint::AwsEndpoint(aws::AwsCredentials credentials, aws::CredentialSource source,
                         std::string region, std::string origin, std::string host,
                         std::string path_prefix, std::string signing_name)
    : credentials_(std::move(credentials)),
      source_(source),
      region_(region),
      origin_(std::move(origin)),
      host_(std::move(host)),
      path_prefix_(std::move(path_prefix)),
      signer_(std::move(region), std::move(signing_name)) {}

Result<AwsEndpoint> AwsEndpoint::Resolve(const AwsEndpointOptions& options,
                                         std::string_view endpoint_prefix,
                                         std::string_view signing_name,
                                         const aws::EnvironmentLookup& env) {
  GH_ASSIGN_OR_RETURN(aws::ResolvedCredentials creds, aws::ResolveCredentials(options.aws, env));
  GH_ASSIGN_OR_RETURN(std::string region, aws::ResolveRegion(options.aws, env));
  return FromResolved(std::move(creds.credentials), creds.source, std::move(region),
                      options.base_url, endpoint_prefix, signing_name);
}

Result<AwsEndpoint> AwsEndpoint::FromResolved(aws::AwsCredentials credentials,
                                              aws::CredentialSource source, std::string region,
                                              std::string base_url,
                                              std::string_view endpoint_prefix,
                                              std::string_view signing_name) {
  if (credentials.access_key_id.empty() || credentials.secret_access_key.empty())
    return Status::FailedPrecondition("AWS credentials are incomplete", "aws_credentials_partial");
  if (base_url.empty())
    base_url = fmt::format("https://{}.{}.amazonaws.com", endpoint_prefix, region);
  base_url = TrimTrailingSlashes(std::move(base_url));
  auto u = boost::urls::parse_absolute_uri(base_url);
  if (!u || (u->scheme() != "http" && u->scheme() != "https") || u->host_address().empty() ||
      u->has_query())
    return Status::InvalidArgument(
        fmt::format("invalid AWS endpoint URL '{}'", Printable(base_url, 200)),
        "aws_endpoint_invalid");
  std::string host =
      u->has_port() ? std::string(u->encoded_host_and_port()) : std::string(u->encoded_host());
  std::string origin = fmt::format("{}://{}", u->scheme(), host);
  std::string prefix(u->encoded_path());
  return AwsEndpoint(std::move(credentials), source, std::move(region), std::move(origin),
                     std::move(host), std::move(prefix), std::string(signing_name));
}

Result<http::ClientRequest> AwsEndpoint::SignedPost(
    const std::vector<std::string_view>& raw_segments, std::string body, std::string_view accept,
    Timestamp when) const {
  GH_ASSIGN_OR_RETURN(aws::AwsRestPath path, aws::BuildRestPath(raw_segments));
  aws::SigV4Request sreq;
  sreq.method = "POST";
  sreq.path = path_prefix_ + path.wire;
  sreq.headers = {
      {"host", host_}, {"content-type", "application/json"}, {"accept", std::string(accept)}};
  sreq.body = std::move(body);
  GH_ASSIGN_OR_RETURN(aws::SigV4Signature sig, signer_.Sign(sreq, credentials_, when));

  http::ClientRequest req;
  req.method = "POST";
  req.url = origin_ + sreq.path;
  for (auto& [name, value] : sreq.headers) req.headers.Set(name, value);
  for (auto& [name, value] : sig.headers_to_add) req.headers.Set(name, value);
  req.body = std::move(sreq.body);
  return req;
}

std::string AwsEndpoint::Redact(std::string_view text) const {
  const Secret* token = credentials_.session_token ? &*credentials_.session_token : nullptr;
  return RedactSecrets(std::string(text), {&credentials_.secret_access_key, token});
}

namespace {

// "com.amazon.coral#ThrottlingException:http://..." -> "throttlingexception".
std::string NormalizeType(std::string_view type) {
  if (size_t colon = type.find(':'); colon != std::string_view::npos) type = type.substr(0, colon);
  if (size_t hash = type.rfind('#'); hash != std::string_view::npos) type = type.substr(hash + 1);
  return ToLower(Trim(type));
}

// Upstream text for a Status: secrets scrubbed, then only the first line (AWS appends canonical
// requests and other diagnostics after a blank line), printable and short.
std::string CleanMessage(std::string_view message, const AwsEndpoint& endpoint) {
  std::string clean = endpoint.Redact(message);
  if (size_t nl = clean.find_first_of("\r\n"); nl != std::string::npos) clean.resize(nl);
  return Printable(Trim(clean), 300);
}

std::string MessageFromJson(std::string_view payload) {
  boost::system::error_code ec;
  bj::value v = bj::parse(payload, ec);
  if (ec || !v.is_object()) return {};
  std::string m = StringMember(v.get_object(), "message");
  if (m.empty()) m = StringMember(v.get_object(), "Message");
  return m;
}

}  // namespace

Status AwsErrorStatus(std::string_view where, std::string_view type, int http_status,
                      std::string_view message, std::optional<int64_t> retry_after_seconds) {
  const std::string t = NormalizeType(type);
  std::string shown = Printable(type.substr(0, type.find(':')), 80);
  std::string msg = fmt::format("{}{}{}{}{}", where, shown.empty() ? "" : " ", shown,
                                message.empty() ? "" : ": ", message);
  auto is = [&t](std::initializer_list<std::string_view> names) {
    for (std::string_view n : names)
      if (t == n) return true;
    return false;
  };
  if (is({"throttlingexception", "servicequotaexceededexception", "toomanyrequestsexception"})) {
    Status st = Status::ResourceExhausted(msg, "upstream_rate_limited");
    if (retry_after_seconds && *retry_after_seconds > 0)
      return std::move(st).WithRetryAfter(*retry_after_seconds);
    return st;
  }
  if (is({"modelnotreadyexception"})) return Status::Unavailable(msg, "upstream_model_not_ready");
  if (is({"internalserverexception", "internalfailure", "serviceunavailableexception",
          "serviceunavailable", "badgatewayexception", "dependencyfailedexception",
          "modelstreamerrorexception"}))
    return Status::BadGateway(msg, "upstream_unavailable");
  if (is({"modeltimeoutexception", "requesttimeoutexception"}))
    return Status::DeadlineExceeded(msg, "upstream_timeout");
  if (is({"accessdeniedexception", "unrecognizedclientexception", "invalidsignatureexception",
          "expiredtokenexception", "incompletesignature", "missingauthenticationtokenexception",
          "invalidclienttokenid", "signaturedoesnotmatch"}))
    return Status::BadGateway(msg, "upstream_auth_failed");
  if (is({"resourcenotfoundexception"})) return Status::BadGateway(msg, "upstream_not_found");
  if (is({"validationexception"})) return Status::BadGateway(msg, "upstream_rejected");
  if (is({"modelerrorexception"})) return Status::BadGateway(msg, "upstream_model_error");
  if (is({"conflictexception"})) return Status::BadGateway(msg, "upstream_conflict");
  if (http_status == 0) return Status::BadGateway(msg, "upstream_error");
  std::optional<std::string> ra;
  if (retry_after_seconds) ra = std::to_string(*retry_after_seconds);
  return WithMessage(UpstreamError("aws", http_status, "", ra), msg);
}

Status AwsHttpError(std::string_view service, int http_status, const http::Headers& headers,
                    std::string_view body, const AwsEndpoint& endpoint) {
  std::string type(headers.Get("x-amzn-errortype").value_or(""));
  if (type.empty()) {
    boost::system::error_code ec;
    bj::value v = bj::parse(body, ec);
    if (!ec && v.is_object()) type = StringMember(v.get_object(), "__type");
  }
  std::optional<int64_t> retry_after;
  if (auto ra = headers.Get("retry-after")) {
    int64_t secs = std::strtoll(std::string(*ra).c_str(), nullptr, 10);
    if (secs > 0) retry_after = secs;
  }
  return AwsErrorStatus(fmt::format("{} answered {}", service, http_status), type, http_status,
                        CleanMessage(MessageFromJson(body), endpoint), retry_after);
}

std::optional<Status> AwsStreamError(std::string_view service, const aws::EventStreamMessage& frame,
                                     const AwsEndpoint& endpoint) {
  std::optional<std::string_view> kind = frame.message_type();
  if (kind == "exception") {
    std::string type(frame.exception_type().value_or("exception"));
    return AwsErrorStatus(fmt::format("{} stream failed with", service), type, 0,
                          CleanMessage(MessageFromJson(frame.payload), endpoint));
  }
  if (kind == "error") {
    std::string code(frame.error_code().value_or("error"));
    return AwsErrorStatus(fmt::format("{} stream failed with", service), code, 0,
                          CleanMessage(frame.error_message().value_or(""), endpoint));
  }
  return std::nullopt;
}

agent::Awaitable<Status> StreamEventFrames(http::HttpClient& client, http::ClientRequest request,
                                           CancelSignal* cancel, std::string_view service,
                                           const AwsEndpoint& endpoint, const FrameText& apply,
                                           agent::ModelEvents& events) {
  aws::EventStreamDecoder decoder;
  int status = 0;
  http::Headers error_headers;
  std::string error_body;
  Status stream_error;

  auto sink = [&](std::string_view chunk) -> agent::Awaitable<Status> {
    if (status < 200 || status > 299) {
      if (error_body.size() < 64 * 1024) error_body.append(chunk);
      co_return Status::Ok();
    }
    decoder.Feed(chunk);
    for (;;) {
      Result<std::optional<aws::EventStreamMessage>> next = decoder.Next();
      if (!next.ok()) {
        Status bad = std::move(next).status();
        stream_error = Status::BadGateway(
            fmt::format("{} sent a corrupt event stream: {}", service, bad.message()),
            bad.error_code());
        co_return stream_error;
      }
      if (!next->has_value()) break;
      Result<std::string> delta = apply(**next);
      if (!delta.ok()) {
        stream_error = std::move(delta).status();
        co_return stream_error;
      }
      if (delta->empty()) continue;
      Status st = co_await events.OnTextDelta(*delta);
      if (!st.ok()) co_return st;
    }
    co_return Status::Ok();
  };
  auto on_headers = [&](const http::ClientResponse& head) {
    status = head.status;
    error_headers = head.headers;
  };

  auto res = co_await client.Stream(std::move(request), sink, cancel, on_headers);
  if (!stream_error.ok()) co_return stream_error;
  if (!res.ok()) {
    Status st = std::move(res).status();
    co_return WithMessage(st, fmt::format("{}: {}", service, endpoint.Redact(st.message())));
  }
  if (status < 200 || status > 299)
    co_return AwsHttpError(service, status, error_headers, error_body, endpoint);
  if (Status done = decoder.Finish(); !done.ok())
    co_return Status::BadGateway(
        fmt::format("{} ended the stream inside a frame: {}", service, done.message()),
        done.error_code());
  co_return Status::Ok();
}

}  // namespace gh::models

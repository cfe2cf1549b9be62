// AwsEndpoint: one AWS REST-JSON service (Bedrock Runtime, Bedrock Agent Runtime) as a model
// provider calls it: where (region and endpoint, or an overriding base URL for tests and private
// endpoints) and as whom (credentials resolved once through aws::ResolveCredentials: explicit
// configuration, then the environment, then the shared credentials and config files). It builds
// SigV4-signed POST requests and turns AWS errors (HTTP answers and event-stream exception
// frames) into Status values with the same error codes UpstreamError uses.
//
// Resolve at start-up or on config reload, not per request. Temporary credentials are not
// refreshed: resolve again (reload) before they expire.
// Secrets: the secret key and session token stay inside; Redact() scrubs them from any upstream
// text before it goes into a Status (an InvalidSignatureException quotes the canonical request,
// session token included).
// Thread-safety: immutable after Resolve; safe to share and call from any thread.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/model.h"
#include "aws/credentials.h"
#include "aws/eventstream.h"
#include "aws/sigv4.h"
#include "common/clock.h"
#include "common/status.h"
#include "http/client.h"

namespace gh::models {

struct AwsEndpointOptions {
  // Explicit keys, session token, region, profile and file locations; anything unset comes from
  // the environment or the shared files.
  aws::AwsExplicitConfig aws;
  // "scheme://host[:port][/path-prefix]". Empty: https://{endpoint_prefix}.{region}.amazonaws.com.
  std::string base_url;
};

class AwsEndpoint {
 public:
  // endpoint_prefix: e.g. "bedrock-runtime"; signing_name: e.g. "bedrock".
  static Result<AwsEndpoint> Resolve(const AwsEndpointOptions& options,
                                     std::string_view endpoint_prefix,
                                     std::string_view signing_name,
                                     const aws::EnvironmentLookup& env);
  // For tests and embedders that resolved credentials themselves.
  static Result<AwsEndpoint> FromResolved(aws::AwsCredentials credentials,
                                          aws::CredentialSource source, std::string region,
                                          std::string base_url, std::string_view endpoint_prefix,
                                          std::string_view signing_name);

  // A POST to the REST path made of `raw_segments` (each percent-encoded once on the wire, so a
  // model id with ':' travels as %3A and is signed as %253A), JSON body, signed as of `when`.
  Result<http::ClientRequest> SignedPost(const std::vector<std::string_view>& raw_segments,
                                         std::string body, std::string_view accept,
                                         Timestamp when) const;

  // `text` with the secret key and session token replaced by "[redacted]".
  std::string Redact(std::string_view text) const;

  const std::string& region() const { return region_; }
  const std::string& base_url() const { return origin_; }
  aws::CredentialSource credential_source() const { return source_; }
  const std::string& access_key_id() const { return credentials_.access_key_id; }

 private:
  AwsEndpoint(aws::AwsCredentials credentials, aws::CredentialSource source, std::string region,
              std::string origin, std::string host, std::string path_prefix,
              std::string signing_name);

  aws::AwsCredentials credentials_;
  aws::CredentialSource source_;
  std::string region_;
  std::string origin_;       // scheme://host[:port]
  std::string host_;         // the Host header, as signed
  std::string path_prefix_;  // already encoded, no trailing '/'
  aws::SigV4Signer signer_;
};

// The Status for an AWS error shape (`type`, e.g. "ThrottlingException" or the event-stream
// spelling "throttlingException"; any ":..." suffix or "prefix#" is ignored):
//   throttling / service quota / too many requests -> ResourceExhausted "upstream_rate_limited"
//   model not ready                                -> Unavailable "upstream_model_not_ready"
//   internal server / service unavailable / bad gateway / dependency failed / model stream
//   error                                          -> BadGateway "upstream_unavailable"
//   model timeout                                  -> DeadlineExceeded "upstream_timeout"
//   access denied / signature / token problems     -> BadGateway "upstream_auth_failed"
//   resource not found                             -> BadGateway "upstream_not_found"
//   validation                                     -> BadGateway "upstream_rejected"
//   model error                                    -> BadGateway "upstream_model_error"
//   conflict                                       -> BadGateway "upstream_conflict"
// An unknown type falls back to the HTTP status (as UpstreamError does; 0 = in-stream).
// `where` starts the message, e.g. "bedrock answered 429" or "bedrock stream failed".
Status AwsErrorStatus(std::string_view where, std::string_view type, int http_status,
                      std::string_view message,
                      std::optional<int64_t> retry_after_seconds = std::nullopt);

// A non-2xx HTTP answer: the type from x-amzn-errortype (else the body's "__type"), the message
// from the body's "message" / "Message". Upstream text is redacted and shortened.
Status AwsHttpError(std::string_view service, int http_status, const http::Headers& headers,
                    std::string_view body, const AwsEndpoint& endpoint);

// An event-stream frame whose :message-type is "exception" or "error"; nullopt for events.
std::optional<Status> AwsStreamError(std::string_view service, const aws::EventStreamMessage& frame,
                                     const AwsEndpoint& endpoint);

// Sends a signed request whose answer is an `application/vnd.amazon.eventstream` and decodes the
// frames as they arrive (both CRCs checked). `apply` turns a frame into the answer text it carries
// ("" for none) or the error it reports; each text goes to `events` at once. A non-2xx answer
// becomes AwsHttpError; a corrupt stream, or one that ends inside a frame, a 502. `service` names
// the upstream in messages ("bedrock", "bedrock agent").
using FrameText = std::function<Result<std::string>(const aws::EventStreamMessage&)>;
agent::Awaitable<Status> StreamEventFrames(http::HttpClient& client, http::ClientRequest request,
                                           CancelSignal* cancel, std::string_view service,
                                           const AwsEndpoint& endpoint, const FrameText& apply,
                                           agent::ModelEvents& events);

}  // namespace gh::models

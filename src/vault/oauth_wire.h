// The OAuth 2.0 wire format, both directions: application/x-www-form-urlencoded bodies, URL query
// building, PKCE (RFC 7636, S256), token endpoint answers (RFC 6749 §5.1/§5.2) and HTTP Basic
// client credentials (RFC 6749 §2.3.1, form-encoded before base64). Pure functions; thread-safe.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/secret.h"
#include "common/status.h"

namespace gh::vault {

// Percent-encodes everything but RFC 3986 unreserved characters (space as %20).
std::string PercentEncode(std::string_view s);
// application/x-www-form-urlencoded: space as '+'.
std::string FormEncode(const std::vector<std::pair<std::string, std::string>>& fields);

// A parsed form body. A parameter given twice is an error for OAuth endpoints (RFC 6749 §3.1), so
// the parser reports duplicates instead of picking one.
struct Form {
  std::map<std::string, std::string> fields;
  std::vector<std::string> duplicates;
  std::optional<std::string_view> Get(std::string_view key) const;
};
Result<Form> ParseForm(std::string_view body);

// Appends query parameters to a URL that may already have a query.
std::string AppendQuery(std::string_view url,
                        const std::vector<std::pair<std::string, std::string>>& params);

// PKCE: the S256 challenge of a verifier.
std::string PkceChallenge(std::string_view verifier);

// HTTP Basic credentials for a client (each part form-encoded first, as RFC 6749 §2.3.1 says).
std::string BasicAuthorization(std::string_view client_id, const Secret& client_secret);
// Parses "Basic base64(id:secret)"; nullopt when the header is not Basic or is malformed.
std::optional<std::pair<std::string, Secret>> ParseBasicAuthorization(std::string_view header);

// A successful token endpoint answer.
struct TokenResponse {
  Secret access_token;
  Secret refresh_token;  // empty when none was issued
  std::string token_type = "Bearer";
  std::string scope;
  std::optional<int64_t> expires_in;  // seconds
};

// An error answer: {"error": "...", "error_description": "..."}.
struct OAuthError {
  std::string error;
  std::string description;
};

// Reads a token endpoint answer: 200 with a JSON body holding access_token, else the provider's
// OAuth error (returned as the second member) or a description of what was wrong.
struct TokenOutcome {
  std::optional<TokenResponse> tokens;
  std::optional<OAuthError> error;
  std::string problem;  // neither: what was wrong with the answer
};
TokenOutcome ParseTokenResponse(int http_status, std::string_view body);

// Whether a URL is acceptable as an outbound endpoint: https, or http when `allow_http`. Rejects
// userinfo, fragments and anything unparsable.
Status CheckEndpointUrl(std::string_view url, bool allow_http, std::string_view what);

}  // namespace gh::vault

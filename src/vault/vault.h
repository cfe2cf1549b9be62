// TokenVault: users' third-party tokens, kept so the agent can act on their behalf.
//
// Connections are OAuth 2.0 / OIDC providers a tenant admin configures (explicit endpoints, an
// issuer to discover them from, or a preset). A user connects an account with the authorization
// code flow (PKCE S256 and a single-use state, bound to the browser that started it by a cookie
// whose hash is stored with the state); the provider's tokens are sealed by the Keyring with
// associated data naming tenant, user and connection. Access tokens are refreshed before they
// expire — once per (tenant, user, connection) even when many callers need it at the same moment:
// in-process by SingleFlight, across processes sharing the database by a lease on the row. A
// refresh the provider rejects marks the account `reconsent_required` and tells the user.
// Disconnecting revokes upstream (RFC 7009) where the provider supports it.
//
// Tools never read tokens: they get an HttpClient from CredentialClientFor that adds the user's
// token at the moment they call out. Nothing here logs a token, and no view type carries one.
// Thread-safe; every method runs its own storage transactions.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/random.h"
#include "common/secret.h"
#include "http/client.h"
#include "storage/database.h"
#include "storage/vault_repository.h"
#include "vault/keyring.h"
#include "vault/oauth_wire.h"
#include "vault/single_flight.h"

namespace gh::vault {

template <typename T>
using Awaitable = http::Awaitable<T>;

// Tells a user's live feed that something changed (event name, JSON object text). Never a token.
using Notifier = std::function<void(const TenantId&, const UserId&, const std::string& event,
                                    const std::string& json)>;

struct VaultOptions {
  std::string redirect_uri;           // <issuer>/oauth/callback
  bool allow_insecure_http = false;   // http:// provider endpoints (development and tests only)
  int64_t refresh_skew_seconds = 60;  // refresh when the access token expires sooner than this
  int64_t flow_ttl_seconds = 600;     // an authorization code flow must finish within this
  int64_t lease_seconds = 30;         // how long one refresher holds an account's refresh lease
  std::chrono::milliseconds http_timeout{15'000};
};

// What a tenant admin sends to create or change a connection; unset fields keep the preset's (on
// create) or the current (on update) value.
struct ConnectionInput {
  std::optional<std::string> id;
  std::optional<std::string> display_name;
  std::optional<std::string> preset;
  std::optional<std::string> issuer;
  std::optional<std::string> authorization_endpoint;
  std::optional<std::string> token_endpoint;
  std::optional<std::string> revocation_endpoint;
  std::optional<std::string> client_id;
  std::optional<Secret> client_secret;
  std::optional<std::string> scopes;
  std::optional<std::vector<std::pair<std::string, std::string>>> auth_params;
  std::optional<std::string> token_auth_method;
};

struct AccessToken {
  Secret token;
  std::string token_type;
  std::string scope;
  int64_t expires_at = 0;  // unix ms, 0 unknown
};

struct ConnectStart {
  std::string authorization_url;
  std::string binding;  // the browser-binding cookie value to set
  int64_t expires_at = 0;
};

struct ConnectDone {
  TenantId tenant_id;
  UserId user_id;
  std::string connection_id;
  std::string return_to;
};

struct DisconnectOutcome {
  bool revoked_upstream = false;
  std::string note;  // why not, when it was not
};

// The one seam tools use: an HTTP client that adds the user's token for a connection.
class CredentialClient;

class TokenVault {
 public:
  TokenVault(VaultOptions options, storage::Database& db, Keyring& keyring,
             std::shared_ptr<http::HttpClient> client, const Clock& clock, Random& random,
             Notifier notify);

  void set_redirect_uri(std::string uri) { options_.redirect_uri = std::move(uri); }
  const VaultOptions& options() const { return options_; }

  // ---- connections (tenant admins) ----
  Awaitable<Result<storage::ConnectionRecord>> CreateConnection(const TenantId& tenant,
                                                                ConnectionInput input);
  Awaitable<Result<storage::ConnectionRecord>> UpdateConnection(const TenantId& tenant,
                                                                const std::string& id,
                                                                ConnectionInput input);
  Result<std::vector<storage::ConnectionRecord>> ListConnections(const TenantId& tenant);
  Result<storage::ConnectionRecord> GetConnection(const TenantId& tenant, const std::string& id);
  // Deletes the connection and every account at it (revoking each upstream, best effort).
  Awaitable<Status> DeleteConnection(const TenantId& tenant, const std::string& id);

  // ---- connected accounts (users) ----
  // Starts the authorization code flow. `binding` is the caller's browser-binding cookie, reused
  // when present so parallel flows in one browser all complete.
  Result<ConnectStart> StartConnect(const TenantId& tenant, const UserId& user,
                                    const std::string& connection_id,
                                    const std::optional<std::string>& binding,
                                    const std::string& return_to, const std::string& extra_scopes);
  // The provider's redirect: checks the state (single use, unexpired, same browser), exchanges the
  // code with the PKCE verifier and stores the tokens. `error` is the provider's error parameter.
  Awaitable<Result<ConnectDone>> CompleteConnect(const std::string& state, const std::string& code,
                                                 const std::string& error,
                                                 const std::optional<std::string>& binding);
  Result<std::vector<storage::AccountRecord>> ListAccounts(const TenantId& tenant,
                                                           const UserId& user);
  Awaitable<Result<DisconnectOutcome>> Disconnect(const TenantId& tenant, const UserId& user,
                                                  const std::string& connection_id);

  // ---- tokens (tools, token exchange) ----
  // A valid access token, refreshed first when it expires within the skew (or when `force`).
  // FailedPrecondition "account_not_connected" / "reconsent_required" when there is none to give.
  Awaitable<Result<AccessToken>> GetAccessToken(const TenantId& tenant, const UserId& user,
                                                const std::string& connection_id,
                                                bool force_refresh = false);
  // An HttpClient that adds the user's token for `connection_id` to each request, and on a 401
  // refreshes once and retries. The returned client borrows this vault.
  std::unique_ptr<http::HttpClient> CredentialClientFor(const TenantId& tenant, const UserId& user,
                                                        std::string connection_id);

  // Upstream refresh calls made by this process (tests and metrics).
  int64_t refresh_calls() const { return refresh_calls_.load(); }

 private:
  Awaitable<Result<storage::ConnectionRecord>> Resolve(const TenantId& tenant,
                                                       storage::ConnectionRecord rec,
                                                       const ConnectionInput& input, bool creating);
  Awaitable<Result<AccessToken>> Refresh(const TenantId& tenant, const UserId& user,
                                         const std::string& connection_id, int64_t seen_version);
  Awaitable<Result<http::ClientResponse>> PostForm(
      const storage::ConnectionRecord& conn, const Secret& secret, const std::string& url,
      std::vector<std::pair<std::string, std::string>> fields);
  Awaitable<bool> Revoke(const storage::ConnectionRecord& conn,
                         const storage::AccountRecord& account);
  Result<AccessToken> OpenAccess(const storage::AccountRecord& a);
  Result<Secret> ClientSecret(const storage::ConnectionRecord& c);
  void Notify(const TenantId& tenant, const UserId& user, const std::string& connection_id,
              const std::string& status);

  VaultOptions options_;
  storage::Database& db_;
  Keyring& keyring_;
  std::shared_ptr<http::HttpClient> client_;
  const Clock& clock_;
  Random& random_;
  Notifier notify_;
  SingleFlight<Result<AccessToken>> flights_;
  std::atomic<int64_t> refresh_calls_{0};
};

// Associated data of the vault's sealed columns.
std::string AccessTokenAad(const TenantId& tenant, const UserId& user,
                           const std::string& connection_id);
std::string RefreshTokenAad(const TenantId& tenant, const UserId& user,
                            const std::string& connection_id);

}  // namespace gh::vault

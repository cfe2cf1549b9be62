#include "vault/vault.h"

#include <fmt/format.h>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>

#include <set>

#include "common/log.h"
#include "common/strings.h"
#include "crypto/hash.h"
#include "vault/presets.h"

namespace gh::vault {

namespace st = gh::storage;
namespace bj = boost::json;
namespace net = boost::asio;

namespace {

constexpr size_t kMaxResponseBytes = 1024 * 1024;

bool ValidConnectionId(std::string_view id) {
  if (id.empty() || id.size() > 63) return false;
  if (!((id[0] >= 'a' && id[0] <= 'z') || (id[0] >= '0' && id[0] <= '9'))) return false;
  for (char c : id)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_')) return false;
  return true;
}

bool PrintableText(std::string_view s) {
  for (unsigned char c : s)
    if (c < 0x20 || c == 0x7f) return false;
  return true;
}

Status Invalid(std::string message) {
  return Status::Unprocessable(std::move(message), "invalid_connection");
}

std::string StateAad(const TenantId& tenant, const std::string& state_hash) {
  return Aad("pkce-verifier", {tenant.value(), state_hash});
}
std::string SecretAad(const TenantId& tenant, const std::string& connection_id) {
  return Aad("client-secret", {tenant.value(), connection_id});
}

std::string Key(const TenantId& tenant, const UserId& user, const std::string& connection_id) {
  std::string k = tenant.value();
  k.push_back('\0');
  k += user.value();
  k.push_back('\0');
  k += connection_id;
  return k;
}

std::string JoinScopes(const std::string& base, const std::string& extra) {
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (const std::string* s : {&base, &extra})
    for (auto part : Split(*s, ' '))
      if (!part.empty() && seen.insert(std::string(part)).second) out.emplace_back(part);
  std::string joined;
  for (const auto& s : out) joined += (joined.empty() ? "" : " ") + s;
  return joined;
}

bool ValidReturnTo(std::string_view p) {
  return !p.empty() && p.size() <= 512 && p[0] == '/' &&
         (p.size() < 2 || (p[1] != '/' && p[1] != '\\')) &&
         p.find('\\') == std::string_view::npos && PrintableText(p);
}

bool ValidBinding(std::string_view b) {
  if (b.size() < 32 || b.size() > 128) return false;
  for (char c : b)
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
          c == '_'))
      return false;
  return true;
}

Awaitable<void> Sleep(std::chrono::milliseconds d) {
  net::steady_timer timer(co_await net::this_coro::executor, d);
  boost::system::error_code ec;
  co_await timer.async_wait(net::redirect_error(net::use_awaitable, ec));
}

std::string StatusJson(const std::string& connection_id, const std::string& status) {
  return bj::serialize(bj::object{{"connection_id", connection_id}, {"status", status}});
}

// Reads a discovery document: OIDC first, then RFC 8414.
Awaitable<Result<bj::object>> Discover(http::HttpClient& client, const std::string& issuer,
                                       std::chrono::milliseconds timeout) {
  std::string base = issuer;
  while (!base.empty() && base.back() == '/') base.pop_back();
  std::string problem;
  for (const char* suffix :
       {"/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"}) {
    http::ClientRequest req;
    req.url = base + suffix;
    req.headers.Set("accept", "application/json");
    req.timeout = timeout;
    req.max_response_bytes = kMaxResponseBytes;
    auto resp = co_await client.Send(std::move(req));
    if (!resp.ok()) {
      problem = resp.status().message();
      continue;
    }
    if (resp->status != 200) {
      problem = fmt::format("HTTP {}", resp->status);
      continue;
    }
    boost::system::error_code ec;
    bj::value v = bj::parse(resp->body, ec);
    if (ec || !v.is_object()) {
      problem = "not a JSON object";
      continue;
    }
    bj::object doc = std::move(v.get_object());
    const bj::value* iss = doc.if_contains("issuer");
    std::string got = iss && iss->is_string() ? std::string(iss->get_string()) : "";
    while (!got.empty() && got.back() == '/') got.pop_back();
    if (got != base) {
      problem = "the document's issuer does not match";
      continue;
    }
    co_return doc;
  }
  co_return Status::Unprocessable("cannot discover the provider at " + issuer + ": " + problem,
                                  "discovery_failed");
}

std::string DocString(const bj::object& doc, const char* key) {
  const bj::value* v = doc.if_contains(key);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

std::string ParamsJson(const std::vector<std::pair<std::string, std::string>>& params) {
  bj::object o;
  for (const auto& [k, v] : params) o[k] = v;
  return bj::serialize(o);
}

std::vector<std::pair<std::string, std::string>> ParamsFromJson(const std::string& text) {
  std::vector<std::pair<std::string, std::string>> out;
  boost::system::error_code ec;
  bj::value v = bj::parse(text, ec);
  if (ec || !v.is_object()) return out;
  for (const auto& [k, val] : v.get_object())
    if (val.is_string()) out.emplace_back(std::string(k), std::string(val.get_string()));
  return out;
}

// The credential-injecting client handed to tools.
class VaultCredentialClient final : public http::HttpClient {
 public:
  VaultCredentialClient(TokenVault& vault, std::shared_ptr<http::HttpClient> inner, TenantId tenant,
                        UserId user, std::string connection_id)
      : vault_(vault),
        inner_(std::move(inner)),
        tenant_(std::move(tenant)),
        user_(std::move(user)),
        connection_id_(std::move(connection_id)) {}

  Awaitable<Result<http::ClientResponse>> Send(http::ClientRequest request) override {
    auto token = co_await vault_.GetAccessToken(tenant_, user_, connection_id_, false);
    if (!token.ok()) co_return std::move(token).status();
    http::ClientRequest first = request;
    first.headers.Set("authorization", Authorization(*token));
    auto resp = co_await inner_->Send(std::move(first));
    if (!resp.ok() || resp->status != 401) co_return resp;
    // The provider no longer accepts the token (revoked, rotated early): refresh once and retry.
    auto again = co_await vault_.GetAccessToken(tenant_, user_, connection_id_, true);
    if (!again.ok()) co_return std::move(again).status();
    request.headers.Set("authorization", Authorization(*again));
    co_return co_await inner_->Send(std::move(request));
  }

  Awaitable<Result<http::ClientResponse>> Stream(http::ClientRequest request, http::ChunkSink sink,
                                                 http::CancelSignal* cancel,
                                                 http::HeadersSink on_headers) override {
    auto token = co_await vault_.GetAccessToken(tenant_, user_, connection_id_, false);
    if (!token.ok()) co_return std::move(token).status();
    request.headers.Set("authorization", Authorization(*token));
    co_return co_await inner_->Stream(std::move(request), std::move(sink), cancel,
                                      std::move(on_headers));
  }

 private:
  static std::string Authorization(const AccessToken& t) {
    std::string type =
        ToLower(t.token_type) == "bearer" || t.token_type.empty() ? "Bearer" : t.token_type;
    return type + " " + t.token.reveal();
  }

  TokenVault& vault_;
  std::shared_ptr<http::HttpClient> inner_;
  TenantId tenant_;
  UserId user_;
  std::string connection_id_;
};

}  // namespace

std::string AccessTokenAad(const TenantId& tenant, const UserId& user,
                           const std::string& connection_id) {
  return Aad("access-token", {tenant.value(), user.value(), connection_id});
}
std::string RefreshTokenAad(const TenantId& tenant, const UserId& user,
                            const std::string& connection_id) {
  return Aad("refresh-token", {tenant.value(), user.value(), connection_id});
}

TokenVault::TokenVault(VaultOptions options, st::Database& db, Keyring& keyring,
                       std::shared_ptr<http::HttpClient> client, const Clock& clock, Random& random,
                       Notifier notify)
    : options_(std::move(options)),
      db_(db),
      keyring_(keyring),
      client_(std::move(client)),
      clock_(clock),
      random_(random),
      notify_(std::move(notify)) {}

void TokenVault::Notify(const TenantId& tenant, const UserId& user,
                        const std::string& connection_id, const std::string& status) {
  if (notify_) notify_(tenant, user, "connected_account", StatusJson(connection_id, status));
}

// ---- connections ----

Awaitable<Result<st::ConnectionRecord>> TokenVault::Resolve(const TenantId& tenant,
                                                            st::ConnectionRecord rec,
                                                            const ConnectionInput& in,
                                                            bool creating) {
  const ProviderPreset* preset = nullptr;
  const std::string previous_preset = rec.preset;
  const std::string previous_issuer = rec.issuer;
  if (in.preset && !in.preset->empty() && *in.preset != "custom") {
    preset = FindPreset(*in.preset);
    if (!preset) co_return Invalid("unknown preset '" + Printable(*in.preset, 40) + "'");
    rec.preset = preset->name;
  } else if (creating || (in.preset && *in.preset == "custom")) {
    rec.preset = "custom";  // an update to "custom" keeps the endpoints, now the admin's own
  }
  // A new connection from a preset, or an update to another provider's preset, takes the preset's
  // endpoints and defaults (what the request gives explicitly still wins below): the label and the
  // endpoints never disagree.
  if (preset && (creating || preset->name != previous_preset)) {
    rec.issuer = in.issuer.value_or("");  // the previous provider's issuer is not this one's
    rec.display_name = preset->display_name;
    rec.authorization_endpoint = preset->authorization_endpoint;
    rec.token_endpoint = preset->token_endpoint;
    rec.revocation_endpoint = preset->revocation_endpoint;
    rec.scopes = preset->default_scopes;
    rec.auth_params = ParamsJson(preset->auth_params);
    rec.token_auth_method = preset->token_auth_method;
  }
  if (in.display_name) rec.display_name = *in.display_name;
  if (in.issuer) rec.issuer = *in.issuer;
  if (in.authorization_endpoint) rec.authorization_endpoint = *in.authorization_endpoint;
  if (in.token_endpoint) rec.token_endpoint = *in.token_endpoint;
  if (in.revocation_endpoint) rec.revocation_endpoint = *in.revocation_endpoint;
  if (in.client_id) rec.client_id = *in.client_id;
  if (in.scopes) rec.scopes = *in.scopes;
  if (in.token_auth_method) rec.token_auth_method = *in.token_auth_method;
  if (in.auth_params) rec.auth_params = ParamsJson(*in.auth_params);
  if (rec.display_name.empty()) rec.display_name = rec.id;
  if (rec.token_auth_method.empty()) rec.token_auth_method = "client_secret_basic";
  if (rec.auth_params.empty()) rec.auth_params = "{}";

  // An issuer fills in the endpoints it publishes that were not given explicitly.
  if (!rec.issuer.empty()) {
    GH_CO_RETURN_IF_ERROR(CheckEndpointUrl(rec.issuer, options_.allow_insecure_http, "issuer"));
    // Only a new or changed issuer (or missing endpoints) is discovered again: the same issuer
    // sent back by an edit must not replace endpoints the admin set by hand.
    const bool discover = (in.issuer.has_value() && (creating || *in.issuer != previous_issuer)) ||
                          rec.authorization_endpoint.empty() || rec.token_endpoint.empty();
    if (discover) {
      auto doc = co_await Discover(*client_, rec.issuer, options_.http_timeout);
      if (!doc.ok()) co_return std::move(doc).status();
      if (!in.authorization_endpoint)
        rec.authorization_endpoint = DocString(*doc, "authorization_endpoint");
      if (!in.token_endpoint) rec.token_endpoint = DocString(*doc, "token_endpoint");
      if (!in.revocation_endpoint) rec.revocation_endpoint = DocString(*doc, "revocation_endpoint");
    }
  }

  if (rec.display_name.size() > 100 || !PrintableText(rec.display_name))
    co_return Invalid("display_name must be printable and at most 100 characters");
  GH_CO_RETURN_IF_ERROR(CheckEndpointUrl(rec.authorization_endpoint, options_.allow_insecure_http,
                                         "authorization_endpoint"));
  GH_CO_RETURN_IF_ERROR(
      CheckEndpointUrl(rec.token_endpoint, options_.allow_insecure_http, "token_endpoint"));
  if (!rec.revocation_endpoint.empty())
    GH_CO_RETURN_IF_ERROR(CheckEndpointUrl(rec.revocation_endpoint, options_.allow_insecure_http,
                                           "revocation_endpoint"));
  if (rec.client_id.empty() || rec.client_id.size() > 512 || !PrintableText(rec.client_id))
    co_return Invalid("client_id is required (at most 512 printable characters)");
  if (rec.scopes.size() > 2048 || !PrintableText(rec.scopes))
    co_return Invalid("scopes must be printable text");
  if (rec.token_auth_method != "client_secret_basic" &&
      rec.token_auth_method != "client_secret_post")
    co_return Invalid(
        "token_endpoint_auth_method must be client_secret_basic or client_secret_post");
  static const std::set<std::string> kReserved = {
      "response_type",         "client_id", "redirect_uri", "state", "code_challenge",
      "code_challenge_method", "scope"};
  auto params = ParamsFromJson(rec.auth_params);
  if (params.size() > 20) co_return Invalid("at most 20 authorization_params");
  for (const auto& [k, v] : params)
    if (kReserved.count(k) || k.empty() || k.size() > 64 || v.size() > 512 || !PrintableText(k) ||
        !PrintableText(v))
      co_return Invalid("authorization_params may not set '" + Printable(k, 64) + "'");
  if (in.client_secret) {
    if (in.client_secret->empty() || in.client_secret->reveal().size() > 4096)
      co_return Invalid("client_secret must be 1 to 4096 characters");
    GH_CO_ASSIGN_OR_RETURN(
        rec.client_secret_sealed,
        keyring_.Seal(tenant, in.client_secret->reveal(), SecretAad(tenant, rec.id)));
  } else if (creating) {
    co_return Invalid("client_secret is required");
  }
  co_return rec;
}

Awaitable<Result<st::ConnectionRecord>> TokenVault::CreateConnection(const TenantId& tenant,
                                                                     ConnectionInput input) {
  st::ConnectionRecord rec;
  rec.tenant_id = tenant;
  rec.id = input.id.value_or(input.preset.value_or(""));
  if (!ValidConnectionId(rec.id))
    co_return Invalid(
        "id must be 1-63 characters of a-z, 0-9, '-' or '_', starting with a letter or digit");
  auto resolved = co_await Resolve(tenant, rec, input, true);
  if (!resolved.ok()) co_return std::move(resolved).status();
  rec = std::move(resolved).value();
  rec.created_at = rec.updated_at = clock_.NowUnixMillis();
  GH_CO_RETURN_IF_ERROR(db_.Write([&](st::Tx& tx) -> Status {
    GH_ASSIGN_OR_RETURN(auto existing, st::vault_connections::Get(tx, tenant, rec.id));
    if (existing) return Status::Conflict("a connection with this id exists", "connection_exists");
    return st::vault_connections::Insert(tx, rec);
  }));
  log::Info("connection created",
            {{"tenant_id", tenant.value()}, {"connection_id", rec.id}, {"preset", rec.preset}});
  co_return rec;
}

Awaitable<Result<st::ConnectionRecord>> TokenVault::UpdateConnection(const TenantId& tenant,
                                                                     const std::string& id,
                                                                     ConnectionInput input) {
  auto current = GetConnection(tenant, id);
  if (!current.ok()) co_return std::move(current).status();
  if (input.id && *input.id != id) co_return Invalid("a connection's id cannot change");
  // Another provider's preset: the users' tokens (and refresh tokens) belong to the old provider
  // and must not be sent to the new one's endpoints.
  if (input.preset && !input.preset->empty() && *input.preset != "custom" &&
      *input.preset != current->preset) {
    std::vector<st::AccountRecord> accounts;
    GH_CO_RETURN_IF_ERROR(db_.Read([&](st::Tx& tx) -> Status {
      GH_ASSIGN_OR_RETURN(accounts, st::vault_accounts::ListForConnection(tx, tenant, id));
      return Status::Ok();
    }));
    if (!accounts.empty())
      co_return Status::Conflict(
          "users have connected accounts at this provider: disconnect them or add a new connection "
          "for the other provider",
          "connection_in_use");
  }
  auto resolved = co_await Resolve(tenant, *current, input, false);
  if (!resolved.ok()) co_return std::move(resolved).status();
  st::ConnectionRecord rec = std::move(resolved).value();
  rec.updated_at = clock_.NowUnixMillis();
  GH_CO_RETURN_IF_ERROR(db_.Write([&](st::Tx& tx) -> Status {
    GH_ASSIGN_OR_RETURN(auto existing, st::vault_connections::Get(tx, tenant, id));
    if (!existing) return Status::NotFound("no such connection", "connection_not_found");
    return st::vault_connections::Update(tx, rec);
  }));
  co_return rec;
}

Result<std::vector<st::ConnectionRecord>> TokenVault::ListConnections(const TenantId& tenant) {
  std::vector<st::ConnectionRecord> out;
  GH_RETURN_IF_ERROR(db_.Read([&](st::Tx& tx) -> Status {
    GH_ASSIGN_OR_RETURN(out, st::vault_connections::List(tx, tenant));
    return Status::Ok();
  }));
  return out;
}

Result<st::ConnectionRecord> TokenVault::GetConnection(const TenantId& tenant,
                                                       const std::string& id) {
  std::optional<st::ConnectionRecord> rec;
  GH_RETURN_IF_ERROR(db_.Read([&](st::Tx& tx) -> Status {
    GH_ASSIGN_OR_RETURN(rec, st::vault_connections::Get(tx, tenant, id));
    return Status::Ok();
  }));
  if (!rec) return Status::NotFound("no such connection", "connection_not_found");
  return *rec;
}

Awaitable<Status> TokenVault::DeleteConnection(const TenantId& tenant, const std::string& id) {
  auto conn = GetConnection(tenant, id);
  if (!conn.ok()) co_return std::move(conn).status();
  std::vector<st::AccountRecord> accounts;
  GH_CO_RETURN_IF_ERROR(db_.Read([&](st::Tx& tx) -> Status {
    GH_ASSIGN_OR_RETURN(accounts, st::vault_accounts::ListForConnection(tx, tenant, id));
    return Status::Ok();
  }));
  for (const auto& a : accounts) (void)co_await Revoke(*conn, a);
  GH_CO_RETURN_IF_ERROR(db_.Write([&](st::Tx& tx) -> Status {
    for (const auto& a : accounts)
      GH_RETURN_IF_ERROR(st::vault_accounts::Delete(tx, tenant, a.user_id, id));
    return st::vault_connections::Delete(tx, tenant, id);
  }));
  for (const auto& a : accounts) Notify(tenant, a.user_id, id, "disconnected");
  log::Info("connection deleted", {{"tenant_id", tenant.value()},
                                   {"connection_id", id},
                                   {"accounts", static_cast<int64_t>(accounts.size())}});
  co_return Status::Ok();
}

Result<Secret> TokenVault::ClientSecret(const st::ConnectionRecord& c) {
  return keyring_.Open(c.tenant_id, c.client_secret_sealed, SecretAad(c.tenant_id, c.id));
}

// ---- connecting an account ----

Result<ConnectStart> TokenVault::StartConnect(const TenantId& tenant, const UserId& user,
                                              const std::string& connection_id,
                                              const std::optional<std::string>& binding,
                                              const std::string& return_to,
                                              const std::string& extra_scopes) {
  if (options_.redirect_uri.empty())
    return Status::Unavailable("the vault's redirect URI is not configured yet");
  GH_ASSIGN_OR_RETURN(st::ConnectionRecord conn, GetConnection(tenant, connection_id));
  if (extra_scopes.size() > 1024 || !PrintableText(extra_scopes))
    return Status::InvalidArgument("scopes must be printable text", "invalid_scope");
  const std::string to = return_to.empty() ? "/connected-accounts" : return_to;
  if (!ValidReturnTo(to))
    return Status::InvalidArgument("return_to must be a path on this site", "invalid_return_to");
  const std::string state = random_.Token(32);
  const std::string verifier = random_.Token(32);
  ConnectStart out;
  out.binding = binding && ValidBinding(*binding) ? *binding : random_.Token(32);
  const std::string state_hash = crypto::Sha256Hex(state);
  const int64_t now = clock_.NowUnixMillis();
  out.expires_at = now + options_.flow_ttl_seconds * 1000;
  GH_ASSIGN_OR_RETURN(std::string sealed,
                      keyring_.Seal(tenant, verifier, StateAad(tenant, state_hash)));
  GH_RETURN_IF_ERROR(db_.Write([&](st::Tx& tx) -> Status {
    GH_RETURN_IF_ERROR(st::vault_states::DeleteExpired(tx, now));
    return st::vault_states::Insert(tx, {state_hash, tenant, user, connection_id, sealed,
                                         crypto::Sha256Hex(out.binding), to, out.expires_at, now});
  }));
  std::vector<std::pair<std::string, std::string>> params = {
      {"response_type", "code"},
      {"client_id", conn.client_id},
      {"redirect_uri", options_.redirect_uri},
  };
  const std::string scopes = JoinScopes(conn.scopes, extra_scopes);
  if (!scopes.empty()) params.emplace_back("scope", scopes);
  params.emplace_back("state", state);
  params.emplace_back("code_challenge", PkceChallenge(verifier));
  params.emplace_back("code_challenge_method", "S256");
  for (auto& p : ParamsFromJson(conn.auth_params)) params.push_back(std::move(p));
  out.authorization_url = AppendQuery(conn.authorization_endpoint, params);
  return out;
}

Awaitable<Result<http::ClientResponse>> TokenVault::PostForm(
    const st::ConnectionRecord& conn, const Secret& secret, const std::string& url,
    std::vector<std::pair<std::string, std::string>> fields) {
  http::ClientRequest req;
  req.method = "POST";
  req.url = url;
  req.timeout = options_.http_timeout;
  req.max_response_bytes = kMaxResponseBytes;
  req.headers.Set("content-type", "application/x-www-form-urlencoded");
  req.headers.Set("accept", "application/json");
  if (conn.token_auth_method == "client_secret_post") {
    fields.emplace_back("client_id", conn.client_id);
    fields.emplace_back("client_secret", secret.reveal());
  } else {
    req.headers.Set("authorization", BasicAuthorization(conn.client_id, secret));
  }
  req.body = FormEncode(fields);
  co_return co_await client_->Send(std::move(req));
}

Awaitable<Result<ConnectDone>> TokenVault::CompleteConnect(
    const std::string& state, const std::string& code, const std::string& error,
    const std::optional<std::string>& binding) {
  const Status unknown = Status::InvalidArgument(
      "this sign-in link is not valid or was used already; start again from Connected accounts",
      "invalid_state");
  if (state.empty() || state.size() > 256) co_return unknown;
  const std::string state_hash = crypto::Sha256Hex(state);
  std::optional<st::OAuthStateRecord> flow;
  GH_CO_RETURN_IF_ERROR(db_.Read([&](st::Tx& tx) -> Status {
    GH_ASSIGN_OR_RETURN(flow, st::vault_states::Find(tx, state_hash));
    return Status::Ok();
  }));
  if (!flow) co_return unknown;
  const int64_t now = clock_.NowUnixMillis();
  // The browser that started the flow holds the binding cookie: another user (or a link sent to
  // them) cannot complete it, and it stays usable for its owner.
  if (!binding || !ConstantTimeEquals(crypto::Sha256Hex(*binding), flow->binding_hash)) {
    log::Warn("connect callback from another browser refused",
              {{"tenant_id", flow->tenant_id.value()}, {"connection_id", flow->connection_id}});
    co_return Status::PermissionDenied(
        "this sign-in was started by another session; start again from Connected accounts",
        "state_binding_mismatch")
        .WithDetail("return_to", flow->return_to);
  }
  bool consumed = false;
  GH_CO_RETURN_IF_ERROR(db_.Write([&](st::Tx& tx) -> Status {
    GH_ASSIGN_OR_RETURN(consumed, st::vault_states::Consume(tx, flow->tenant_id, state_hash));
    return Status::Ok();
  }));
  if (!consumed) co_return unknown;
  if (flow->expires_at <= now)
    co_return Status::InvalidArgument("the sign-in took too long; start again", "state_expired")
        .WithDetail("return_to", flow->return_to);
  if (!error.empty())
    co_return Status::FailedPrecondition(
        "the provider did not grant access (" + Printable(error, 64) + ")", "connect_refused")
        .WithDetail("return_to", flow->return_to);
  if (code.empty() || code.size() > 4096)
    co_return Status::InvalidArgument("the provider sent no authorization code", "invalid_request")
        .WithDetail("return_to", flow->return_to);
  auto verifier =
      keyring_.Open(flow->tenant_id, flow->verifier_sealed, StateAad(flow->tenant_id, state_hash));
  if (!verifier.ok()) co_return std::move(verifier).status();
  auto conn = GetConnection(flow->tenant_id, flow->connection_id);
  if (!conn.ok()) co_return std::move(conn).status();
  auto secret = ClientSecret(*conn);
  if (!secret.ok()) co_return std::move(secret).status();
  std::vector<std::pair<std::string, std::string>> fields = {
      {"grant_type", "authorization_code"},
      {"code", code},
      {"redirect_uri", options_.redirect_uri},
      {"code_verifier", verifier->reveal()}};
  auto resp = co_await PostForm(*conn, *secret, conn->token_endpoint, std::move(fields));
  if (!resp.ok())
    co_return Status::BadGateway("the provider's token endpoint is unreachable",
                                 "token_exchange_failed")
        .WithDetail("return_to", flow->return_to);
  TokenOutcome outcome = ParseTokenResponse(resp->status, resp->body);
  if (!outcome.tokens) {
    std::string why = outcome.error ? outcome.error->error : outcome.problem;
    log::Warn("authorization code exchange failed", {{"tenant_id", flow->tenant_id.value()},
                                                     {"connection_id", flow->connection_id},
                                                     {"error", Printable(why, 120)}});
    co_return Status::BadGateway(
        "the provider refused the authorization code (" + Printable(why, 64) + ")",
        "token_exchange_failed")
        .WithDetail("return_to", flow->return_to);
  }
  const TokenResponse& t = *outcome.tokens;
  const TenantId& tenant = flow->tenant_id;
  const UserId& user = flow->user_id;
  st::AccountRecord acc;
  acc.tenant_id = tenant;
  acc.user_id = user;
  acc.connection_id = flow->connection_id;
  acc.status = "connected";
  auto sealed_access = keyring_.Seal(tenant, t.access_token.reveal(),
                                     AccessTokenAad(tenant, user, acc.connection_id));
  if (!sealed_access.ok()) co_return std::move(sealed_access).status();
  acc.access_token_sealed = *sealed_access;
  if (!t.refresh_token.empty()) {
    auto sealed_refresh = keyring_.Seal(tenant, t.refresh_token.reveal(),
                                        RefreshTokenAad(tenant, user, acc.connection_id));
    if (!sealed_refresh.ok()) co_return std::move(sealed_refresh).status();
    acc.refresh_token_sealed = *sealed_refresh;
  }
  acc.token_type = t.token_type;
  acc.scope = t.scope.empty() ? JoinScopes(conn->scopes, "") : t.scope;
  acc.expires_at = t.expires_in ? now + *t.expires_in * 1000 : 0;
  acc.connected_at = acc.updated_at = now;
  acc.version = 1;
  GH_CO_RETURN_IF_ERROR(db_.Write([&](st::Tx& tx) { return st::vault_accounts::Upsert(tx, acc); }));
  log::Info("account connected", {{"tenant_id", tenant.value()},
                                  {"user_id", user.value()},
                                  {"connection_id", acc.connection_id},
                                  {"refreshable", !t.refresh_token.empty()}});
  Notify(tenant, user, acc.connection_id, "connected");
  co_return ConnectDone{tenant, user, acc.connection_id, flow->return_to};
}

Result<std::vector<st::AccountRecord>> TokenVault::ListAccounts(const TenantId& tenant,
                                                                const UserId& user) {
  std::vector<st::AccountRecord> out;
  GH_RETURN_IF_ERROR(db_.Read([&](st::Tx& tx) -> Status {
    GH_ASSIGN_OR_RETURN(out, st::vault_accounts::ListForUser(tx, tenant, user));
    return Status::Ok();
  }));
  return out;
}

Awaitable<bool> TokenVault::Revoke(const st::ConnectionRecord& conn,
                                   const st::AccountRecord& account) {
  if (conn.revocation_endpoint.empty()) co_return false;
  const bool refresh = !account.refresh_token_sealed.empty();
  auto token = refresh ? keyring_.Open(account.tenant_id, account.refresh_token_sealed,
                                       RefreshTokenAad(account.tenant_id, account.user_id, conn.id))
                       : keyring_.Open(account.tenant_id, account.access_token_sealed,
                                       AccessTokenAad(account.tenant_id, account.user_id, conn.id));
  if (!token.ok()) co_return false;
  auto secret = ClientSecret(conn);
  if (!secret.ok()) co_return false;
  std::vector<std::pair<std::string, std::string>> fields = {
      {"token", token->reveal()}, {"token_type_hint", refresh ? "refresh_token" : "access_token"}};
  auto resp = co_await PostForm(conn, *secret, conn.revocation_endpoint, std::move(fields));
  const bool ok = resp.ok() && resp->status == 200;
  if (!ok)
    log::Warn("upstream revocation failed",
              {{"tenant_id", conn.tenant_id.value()},
               {"connection_id", conn.id},
               {"status", resp.ok() ? int64_t(resp->status) : int64_t(0)}});
  co_return ok;
}

Awaitable<Result<DisconnectOutcome>> TokenVault::Disconnect(const TenantId& tenant,
                                                            const UserId& user,
                                                            const std::string& connection_id) {
  std::optional<st::AccountRecord> account;
  std::optional<st::ConnectionRecord> conn;
  GH_CO_RETURN_IF_ERROR(db_.Read([&](st::Tx& tx) -> Status {
    GH_ASSIGN_OR_RETURN(account, st::vault_accounts::Get(tx, tenant, user, connection_id));
    GH_ASSIGN_OR_RETURN(conn, st::vault_connections::Get(tx, tenant, connection_id));
    return Status::Ok();
  }));
  if (!account)
    co_return Status::NotFound("no connected account at this connection", "account_not_found");
  DisconnectOutcome out;
  if (!conn)
    out.note = "the connection no longer exists";
  else if (conn->revocation_endpoint.empty())
    out.note = "the provider offers no revocation endpoint";
  else {
    out.revoked_upstream = co_await Revoke(*conn, *account);
    if (!out.revoked_upstream) out.note = "the provider did not confirm the revocation";
  }
  GH_CO_RETURN_IF_ERROR(db_.Write(
      [&](st::Tx& tx) { return st::vault_accounts::Delete(tx, tenant, user, connection_id); }));
  log::Info("account disconnected", {{"tenant_id", tenant.value()},
                                     {"user_id", user.value()},
                                     {"connection_id", connection_id},
                                     {"revoked_upstream", out.revoked_upstream}});
  Notify(tenant, user, connection_id, "disconnected");
  co_return out;
}

// ---- tokens ----

Result<AccessToken> TokenVault::OpenAccess(const st::AccountRecord& a) {
  GH_ASSIGN_OR_RETURN(Secret token,
                      keyring_.Open(a.tenant_id, a.access_token_sealed,
                                    AccessTokenAad(a.tenant_id, a.user_id, a.connection_id)));
  return AccessToken{std::move(token), a.token_type, a.scope, a.expires_at};
}

Awaitable<Result<AccessToken>> TokenVault::GetAccessToken(const TenantId& tenant,
                                                          const UserId& user,
                                                          const std::string& connection_id,
                                                          bool force_refresh) {
  std::optional<st::AccountRecord> account;
  GH_CO_RETURN_IF_ERROR(db_.Read([&](st::Tx& tx) -> Status {
    GH_ASSIGN_OR_RETURN(account, st::vault_accounts::Get(tx, tenant, user, connection_id));
    return Status::Ok();
  }));
  if (!account)
    co_return Status::FailedPrecondition(
        "the user has not connected an account at '" + connection_id + "'",
        "account_not_connected");
  if (account->status == "reconsent_required")
    co_return Status::FailedPrecondition(
        "the user must connect their '" + connection_id + "' account again", "reconsent_required");
  const int64_t now = clock_.NowUnixMillis();
  const bool fresh =
      account->expires_at == 0 || account->expires_at - options_.refresh_skew_seconds * 1000 > now;
  if (fresh && !force_refresh) co_return OpenAccess(*account);
  if (account->refresh_token_sealed.empty()) {
    if (account->expires_at > now && !force_refresh) co_return OpenAccess(*account);
    (void)db_.Write([&](st::Tx& tx) {
      return st::vault_accounts::SetStatus(
          tx, tenant, user, connection_id, "reconsent_required",
          "the access token expired and the provider issued no refresh token", now);
    });
    Notify(tenant, user, connection_id, "reconsent_required");
    co_return Status::FailedPrecondition(
        "the user must connect their '" + connection_id + "' account again", "reconsent_required");
  }
  // (Arguments are named locals: GCC 12 may end temporaries inside a co_await expression early.)
  const int64_t seen = account->version;
  std::string key = Key(tenant, user, connection_id);
  std::function<Awaitable<Result<AccessToken>>()> op = [this, tenant, user, connection_id, seen]() {
    return Refresh(tenant, user, connection_id, seen);
  };
  Result<AccessToken> on_timeout =
      Status::DeadlineExceeded("token refresh took too long", "refresh_timeout");
  Result<AccessToken> refreshed =
      co_await flights_.Run(std::move(key), std::move(op), std::move(on_timeout));
  co_return refreshed;
}

Awaitable<Result<AccessToken>> TokenVault::Refresh(const TenantId& tenant, const UserId& user,
                                                   const std::string& connection_id,
                                                   int64_t seen_version) {
  std::optional<st::AccountRecord> account;
  std::optional<st::ConnectionRecord> conn;
  const auto lease_deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(options_.lease_seconds);
  for (;;) {
    bool leased = false;
    const int64_t now = clock_.NowUnixMillis();
    GH_CO_RETURN_IF_ERROR(db_.Write([&](st::Tx& tx) -> Status {
      leased = false;
      GH_ASSIGN_OR_RETURN(account, st::vault_accounts::Get(tx, tenant, user, connection_id));
      if (!account || account->status != "connected" || account->version != seen_version)
        return Status::Ok();
      GH_ASSIGN_OR_RETURN(leased,
                          st::vault_accounts::TryLease(tx, tenant, user, connection_id, now,
                                                       now + options_.lease_seconds * 1000));
      GH_ASSIGN_OR_RETURN(conn, st::vault_connections::Get(tx, tenant, connection_id));
      return Status::Ok();
    }));
    if (!account)
      co_return Status::FailedPrecondition(
          "the user has not connected an account at '" + connection_id + "'",
          "account_not_connected");
    if (account->status == "reconsent_required")
      co_return Status::FailedPrecondition(
          "the user must connect their '" + connection_id + "' account again",
          "reconsent_required");
    // Someone (another process) refreshed since the caller looked: use theirs.
    if (account->version != seen_version) co_return OpenAccess(*account);
    if (leased) break;
    if (std::chrono::steady_clock::now() >= lease_deadline)
      co_return Status::Unavailable("another refresh of this account is taking too long",
                                    "refresh_busy");
    co_await Sleep(std::chrono::milliseconds(100));
  }
  const int64_t now = clock_.NowUnixMillis();
  auto release = [&] {
    (void)db_.Write([&](st::Tx& tx) {
      return st::vault_accounts::ReleaseLease(tx, tenant, user, connection_id);
    });
  };
  if (!conn) {
    release();
    co_return Status::FailedPrecondition("the connection no longer exists", "connection_not_found");
  }
  auto refresh = keyring_.Open(tenant, account->refresh_token_sealed,
                               RefreshTokenAad(tenant, user, connection_id));
  auto secret = ClientSecret(*conn);
  if (!refresh.ok() || !secret.ok()) {
    release();
    co_return Status::Internal("a vault secret does not decrypt", "vault_decrypt_failed");
  }
  refresh_calls_.fetch_add(1);
  std::vector<std::pair<std::string, std::string>> fields = {{"grant_type", "refresh_token"},
                                                             {"refresh_token", refresh->reveal()}};
  auto resp = co_await PostForm(*conn, *secret, conn->token_endpoint, std::move(fields));
  if (!resp.ok()) {
    release();
    log::Warn("token refresh failed: provider unreachable",
              {{"tenant_id", tenant.value()}, {"connection_id", connection_id}});
    // The current token still works until it expires: better than failing the caller.
    if (account->expires_at > clock_.NowUnixMillis()) co_return OpenAccess(*account);
    co_return Status::BadGateway("the provider's token endpoint is unreachable", "refresh_failed");
  }
  TokenOutcome outcome = ParseTokenResponse(resp->status, resp->body);
  if (!outcome.tokens) {
    const std::string why = outcome.error ? outcome.error->error : outcome.problem;
    if (outcome.error && (outcome.error->error == "invalid_grant" ||
                          outcome.error->error == "unauthorized_client")) {
      // The grant is gone (revoked, expired, consent withdrawn): only the user can fix this.
      (void)db_.Write([&](st::Tx& tx) {
        return st::vault_accounts::SetStatus(
            tx, tenant, user, connection_id, "reconsent_required",
            "the provider rejected the refresh (" + Printable(why, 64) + ")", now);
      });
      log::Warn("token refresh rejected; re-consent required", {{"tenant_id", tenant.value()},
                                                                {"user_id", user.value()},
                                                                {"connection_id", connection_id},
                                                                {"error", Printable(why, 64)}});
      Notify(tenant, user, connection_id, "reconsent_required");
      co_return Status::FailedPrecondition(
          "the user must connect their '" + connection_id + "' account again",
          "reconsent_required");
    }
    release();
    log::Warn("token refresh failed", {{"tenant_id", tenant.value()},
                                       {"connection_id", connection_id},
                                       {"error", Printable(why, 120)}});
    if (account->expires_at > clock_.NowUnixMillis()) co_return OpenAccess(*account);
    co_return Status::BadGateway(
        "the provider refused to refresh the token (" + Printable(why, 64) + ")", "refresh_failed");
  }
  const TokenResponse& t = *outcome.tokens;
  st::AccountRecord next = *account;
  auto sealed_access =
      keyring_.Seal(tenant, t.access_token.reveal(), AccessTokenAad(tenant, user, connection_id));
  if (!sealed_access.ok()) {
    release();
    co_return std::move(sealed_access).status();
  }
  next.access_token_sealed = *sealed_access;
  if (!t.refresh_token.empty()) {
    auto sealed_refresh = keyring_.Seal(tenant, t.refresh_token.reveal(),
                                        RefreshTokenAad(tenant, user, connection_id));
    if (!sealed_refresh.ok()) {
      release();
      co_return std::move(sealed_refresh).status();
    }
    next.refresh_token_sealed = *sealed_refresh;
  }
  const int64_t stored_at = clock_.NowUnixMillis();
  next.status = "connected";
  next.token_type = t.token_type;
  if (!t.scope.empty()) next.scope = t.scope;
  next.expires_at = t.expires_in ? stored_at + *t.expires_in * 1000 : 0;
  next.refreshed_at = stored_at;
  next.updated_at = stored_at;
  bool stored = false;
  GH_CO_RETURN_IF_ERROR(db_.Write([&](st::Tx& tx) -> Status {
    GH_ASSIGN_OR_RETURN(stored, st::vault_accounts::StoreRefreshed(tx, next, account->version));
    return Status::Ok();
  }));
  if (!stored)
    co_return Status::Conflict("the account changed during the refresh; try again",
                               "refresh_conflict");
  log::Info(
      "connected account token refreshed",
      {{"tenant_id", tenant.value()}, {"user_id", user.value()}, {"connection_id", connection_id}});
  co_return AccessToken{t.access_token, next.token_type, next.scope, next.expires_at};
}

std::unique_ptr<http::HttpClient> TokenVault::CredentialClientFor(const TenantId& tenant,
                                                                  const UserId& user,
                                                                  std::string connection_id) {
  return std::make_unique<VaultCredentialClient>(*this, client_, tenant, user,
                                                 std::move(connection_id));
}

}  // namespace gh::vault

#include "identity/external_idp.h"

#include <fmt/format.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>

#include <algorithm>

#include "common/log.h"
#include "common/strings.h"
#include "crypto/hash.h"
#include "storage/repositories.h"

namespace gh::identity {

namespace bj = boost::json;
namespace net = boost::asio;
namespace st = gh::storage;
using http::Awaitable;

namespace {

constexpr size_t kMaxDocumentBytes = 512 * 1024;

std::string Field(const bj::object& o, std::string_view key) {
  const bj::value* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

std::string TrimSlash(std::string s) {
  while (!s.empty() && s.back() == '/') s.pop_back();
  return s;
}

Awaitable<Result<bj::object>> GetJson(http::HttpClient& client, const std::string& url,
                                      std::chrono::milliseconds timeout) {
  http::ClientRequest req;
  req.url = url;
  req.headers.Set("accept", "application/json");
  req.timeout = timeout;
  req.max_response_bytes = kMaxDocumentBytes;
  auto resp = co_await client.Send(std::move(req));
  if (!resp.ok()) co_return std::move(resp).status();
  if (resp->status != 200)
    co_return Status::Unavailable(fmt::format("{} answered HTTP {}", url, resp->status));
  boost::system::error_code ec;
  bj::value v = bj::parse(resp->body, ec);
  if (ec || !v.is_object()) co_return Status::Unavailable(url + " did not answer a JSON object");
  co_return std::move(v.get_object());
}

Status CheckUrl(const ExternalIssuerOptions& o, const std::string& url) {
  if (url.rfind("https://", 0) == 0) return Status::Ok();
  if (o.allow_insecure_http && url.rfind("http://", 0) == 0) return Status::Ok();
  return Status::InvalidArgument("identity provider '" + o.name + "': " + url +
                                 " is not an https:// URL");
}

}  // namespace

Result<std::map<std::string, crypto::VerifyingKey>> ParseJwks(std::string_view json) {
  boost::system::error_code ec;
  bj::value v = bj::parse(json, ec);
  if (ec || !v.is_object()) return Status::InvalidArgument("the JWKS is not a JSON object");
  const bj::value* keys = v.get_object().if_contains("keys");
  if (!keys || !keys->is_array()) return Status::InvalidArgument("the JWKS has no \"keys\" array");
  std::map<std::string, crypto::VerifyingKey> out;
  for (const bj::value& k : keys->get_array()) {
    if (!k.is_object()) continue;
    const bj::object& jwk = k.get_object();
    const std::string kid = Field(jwk, "kid"), kty = Field(jwk, "kty"), use = Field(jwk, "use"),
                      alg = Field(jwk, "alg");
    if (kid.empty() || (!use.empty() && use != "sig")) continue;
    Result<crypto::VerifyingKey> key = Status::InvalidArgument("unsupported key");
    if (kty == "RSA" && (alg.empty() || alg == "RS256")) {
      auto n = Base64UrlDecode(Field(jwk, "n"));
      auto e = Base64UrlDecode(Field(jwk, "e"));
      if (n && e && !n->empty() && !e->empty()) key = crypto::VerifyingKey::FromRsa(*n, *e);
    } else if (kty == "EC" && Field(jwk, "crv") == "P-256" && (alg.empty() || alg == "ES256")) {
      auto x = Base64UrlDecode(Field(jwk, "x"));
      auto y = Base64UrlDecode(Field(jwk, "y"));
      if (x && y && x->size() == 32 && y->size() == 32)
        key = crypto::VerifyingKey::FromEcPoint(*x, *y);
    }
    if (key.ok()) out.insert_or_assign(kid, std::move(*key));
  }
  return out;
}

std::string UnverifiedIssuer(std::string_view token) {
  auto parts = Split(token, '.');
  if (parts.size() != 3 || parts[1].size() > 16 * 1024) return "";
  auto payload = Base64UrlDecode(parts[1]);
  if (!payload) return "";
  boost::system::error_code ec;
  bj::value v = bj::parse(*payload, ec);
  if (ec || !v.is_object()) return "";
  return Field(v.get_object(), "iss");
}

ExternalIssuer::ExternalIssuer(ExternalIssuerOptions options,
                               std::shared_ptr<http::HttpClient> client, const Clock& clock)
    : opt_(std::move(options)),
      client_(std::move(client)),
      clock_(clock),
      jwks_uri_(opt_.jwks_uri) {
  SetKeys({});
}

void ExternalIssuer::SetKeys(std::map<std::string, crypto::VerifyingKey> keys) {
  VerifierOptions vo;
  vo.issuer = opt_.issuer;
  vo.audience = opt_.audience;
  vo.required_typ = "";  // providers differ: "JWT", "at+jwt", or none
  vo.claims = opt_.claims;
  const size_t n = keys.size();
  auto verifier = std::make_shared<const TokenVerifier>(std::move(vo), std::move(keys), clock_);
  std::lock_guard lock(mu_);
  verifier_ = std::move(verifier);
  keys_ = n;
}

size_t ExternalIssuer::key_count() const {
  std::lock_guard lock(mu_);
  return keys_;
}

Result<AccessClaims> ExternalIssuer::Verify(std::string_view token) const {
  std::shared_ptr<const TokenVerifier> v;
  {
    std::lock_guard lock(mu_);
    v = verifier_;
  }
  auto claims = v->Verify(token);
  if (!claims.ok() && claims.status().message() == "token is signed with an unknown key") {
    std::lock_guard lock(mu_);
    unknown_kid_seen_ = true;
  }
  return claims;
}

Awaitable<Status> ExternalIssuer::Refresh() {
  if (jwks_uri_.empty()) {
    const std::string url = TrimSlash(opt_.issuer) + "/.well-known/openid-configuration";
    GH_CO_RETURN_IF_ERROR(CheckUrl(opt_, url));
    auto doc = co_await GetJson(*client_, url, opt_.http_timeout);
    if (!doc.ok()) co_return std::move(doc).status();
    if (TrimSlash(Field(*doc, "issuer")) != TrimSlash(opt_.issuer))
      co_return Status::Unavailable("the discovery document at " + url + " names another issuer");
    std::string jwks = Field(*doc, "jwks_uri");
    if (jwks.empty())
      co_return Status::Unavailable("the discovery document at " + url + " has no jwks_uri");
    GH_CO_RETURN_IF_ERROR(CheckUrl(opt_, jwks));
    jwks_uri_ = std::move(jwks);
  }
  http::ClientRequest req;
  req.url = jwks_uri_;
  req.headers.Set("accept", "application/json");
  req.timeout = opt_.http_timeout;
  req.max_response_bytes = kMaxDocumentBytes;
  auto resp = co_await client_->Send(std::move(req));
  if (!resp.ok()) co_return std::move(resp).status();
  if (resp->status != 200)
    co_return Status::Unavailable(fmt::format("{} answered HTTP {}", jwks_uri_, resp->status));
  auto keys = ParseJwks(resp->body);
  if (!keys.ok()) co_return std::move(keys).status();
  if (keys->empty())
    co_return Status::Unavailable(jwks_uri_ + " holds no RS256 or ES256 signing key");
  const size_t n = keys->size();
  SetKeys(std::move(*keys));
  log::Info("identity provider keys loaded", {{"provider", opt_.name}, {"keys", int64_t(n)}});
  co_return Status::Ok();
}

Awaitable<void> ExternalIssuer::RefreshLoop(std::shared_ptr<std::atomic<bool>> stop) {
  auto executor = co_await net::this_coro::executor;
  net::steady_timer timer(executor);
  auto last_attempt = std::chrono::steady_clock::time_point{};
  bool healthy = false;
  while (!stop->load()) {
    const auto now = std::chrono::steady_clock::now();
    bool wanted;
    {
      std::lock_guard lock(mu_);
      wanted = unknown_kid_seen_;
    }
    const bool first = last_attempt == std::chrono::steady_clock::time_point{};
    const auto since = now - last_attempt;
    const bool due = first || since >= opt_.refresh_interval ||
                     ((wanted || !healthy) && since >= opt_.min_refresh_interval);
    if (due) {
      last_attempt = now;
      {
        std::lock_guard lock(mu_);
        unknown_kid_seen_ = false;
      }
      Status st = co_await Refresh();
      healthy = st.ok();
      if (!healthy)
        log::Warn("identity provider keys could not be read",
                  {{"provider", opt_.name}, {"error", st.message()}});
    }
    timer.expires_after(std::chrono::seconds(1));
    boost::system::error_code ec;
    co_await timer.async_wait(net::redirect_error(net::use_awaitable, ec));
  }
}

void ExternalIssuer::StartRefreshing(const boost::asio::any_io_executor& executor,
                                     std::shared_ptr<std::atomic<bool>> stop) {
  net::co_spawn(executor, RefreshLoop(std::move(stop)), net::detached);
}

Result<Principal> ExternalIdentities::Resolve(const ExternalIssuerOptions& issuer,
                                              const AccessClaims& claims) {
  const std::string& subject = claims.principal.user_id.value();
  const TenantId& tenant = claims.principal.tenant_id;
  const bool admin = std::any_of(
      claims.principal.groups.begin(), claims.principal.groups.end(), [&](const std::string& g) {
        return std::find(issuer.admin_groups.begin(), issuer.admin_groups.end(), g) !=
               issuer.admin_groups.end();
      });
  const std::string role = admin ? "admin" : "user";
  const int64_t now = clock_.NowUnixMillis();
  std::optional<Status> refusal;
  Principal p;
  Status st = db_.Write([&](st::Tx& tx) -> Status {
    GH_ASSIGN_OR_RETURN(auto t, st::tenants::Get(tx, tenant));
    if (!t) {
      refusal = Status::PermissionDenied("the token names an organisation that does not exist here",
                                         "unknown_tenant");
      return Status::Cancelled("refused");
    }
    if (t->status == "suspended") {
      refusal = Status::PermissionDenied("this organisation is suspended", "tenant_suspended");
      return Status::Cancelled("refused");
    }
    GH_ASSIGN_OR_RETURN(auto link, st::external_identities::Find(tx, issuer.issuer, subject));
    std::optional<st::UserRecord> user;
    if (link) {
      if (link->tenant_id != tenant) {
        refusal = Status::PermissionDenied("this identity belongs to another organisation",
                                           "tenant_mismatch");
        return Status::Cancelled("refused");
      }
      GH_ASSIGN_OR_RETURN(user, st::users::Get(tx, tenant, link->user_id));
      if (!user) return Status::Internal("a linked user is missing");
    } else {
      const std::string email = ToLower(claims.principal.email);
      std::optional<st::UserRecord> same_email;
      if (!email.empty()) {
        GH_ASSIGN_OR_RETURN(same_email, st::users::FindByEmail(tx, email));
      }
      if (same_email) {
        if (same_email->tenant_id != tenant || !claims.email_verified) {
          refusal =
              Status::Conflict("another account already uses this email address", "email_in_use");
          return Status::Cancelled("refused");
        }
        user =
            same_email;  // the provider vouches for the email: the same person, in the same tenant
      } else {
        st::UserRecord u;
        u.id = UserId("x-" + crypto::Sha256Hex(issuer.issuer + '\0' + subject).substr(0, 24));
        u.tenant_id = tenant;
        // Email must be unique; a provider that sends none gets a placeholder under its issuer.
        u.email = email.empty() ? u.id.value() + "@external.invalid" : email;
        u.password_hash = "";  // no password: this user signs in at the provider only
        u.role = role;
        u.verified = true;
        u.created_at = now;
        GH_RETURN_IF_ERROR(st::users::Insert(tx, u));
        user = u;
      }
      GH_RETURN_IF_ERROR(st::external_identities::InsertIfAbsent(
                             tx, {issuer.issuer, subject, tenant, user->id, now})
                             .status());
    }
    if (user->role != role) GH_RETURN_IF_ERROR(st::users::SetRole(tx, tenant, user->id, role));
    p.user_id = user->id;
    p.email = user->email;
    p.subscription_tier = t->tier;
    return Status::Ok();
  });
  if (refusal) return *refusal;
  GH_RETURN_IF_ERROR(st);
  p.tenant_id = tenant;
  if (admin) p.groups.push_back(tenant.value() + "-admins");
  p.token_id = claims.jti;
  p.expires_at = claims.expires_at;
  return p;
}

}  // namespace gh::identity

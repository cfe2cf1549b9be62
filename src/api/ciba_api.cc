// Asynchronous approval endpoints and the OAuth token endpoint.
//
// /bc-authorize and /oauth/token speak OAuth: form-encoded requests, client authentication
// (client_secret_basic or client_secret_post, never both), and errors as
// {"error": "...", "error_description": "..."} with 400 (401 invalid_client), never Gatehouse's
// JSON error shape. /oauth/token serves the CIBA grant (poll mode), token exchange (RFC 8693),
// and — for completeness of the discovery document — the password and refresh_token grants of
// the built-in issuer. The user's side (/api/me/approvals, /api/me/events) is ordinary JSON API.
#include <fmt/format.h>
#include <boost/asio/this_coro.hpp>

#include <charconv>

#include "api/json_io.h"
#include "api/vault_ciba_api.h"
#include "common/strings.h"
#include "http/stream.h"
#include "vault/token_exchange.h"

namespace gh::api {

using pipeline::Auth;
using pipeline::RequestContext;
using vault::Awaitable;

namespace {

constexpr const char* kCibaGrant = "urn:openid:params:grant-type:ciba";

Status OAuthFail(std::string code, std::string description) {
  return Status::InvalidArgument(std::move(description), std::move(code));
}

bool IsOAuthCode(std::string_view code) {
  for (const char* c :
       {"invalid_request", "invalid_client", "invalid_grant", "unauthorized_client",
        "unsupported_grant_type", "invalid_scope", "invalid_target", "authorization_pending",
        "slow_down", "expired_token", "access_denied", "unknown_user_id", "invalid_binding_message",
        "invalid_authorization_details", "expired_login_hint_token", "missing_user_code",
        "invalid_user_code", "temporarily_unavailable"})
    if (code == c) return true;
  return false;
}

// OAuth's error shape for every refusal of these routes, the pipeline's included.
http::Response OAuthErrorResponse(const Status& st) {
  std::string code = st.error_code();
  int status = 400;
  std::string description = st.message();
  if (code == "invalid_client" || st.code() == StatusCode::kUnauthenticated) {
    code = "invalid_client";
    status = 401;
  } else if (st.code() == StatusCode::kInternal) {
    code = "server_error";
    status = 500;
    description = "internal server error";
  } else if (st.code() == StatusCode::kUnavailable || st.code() == StatusCode::kBadGateway ||
             st.code() == StatusCode::kDeadlineExceeded) {
    code = "temporarily_unavailable";
    status = 503;
  } else if (st.code() == StatusCode::kResourceExhausted) {
    code = code == "account_locked" ? "invalid_grant" : "slow_down";
  } else if (!IsOAuthCode(code)) {
    code = code == "invalid_credentials" || code == "email_not_verified" ? "invalid_grant"
                                                                         : "invalid_request";
  }
  http::Response r = http::Response::Json(
      status, bj::serialize(bj::object{{"error", code}, {"error_description", description}}));
  r.headers.Set("cache-control", "no-store");
  r.headers.Set("pragma", "no-cache");
  if (status == 401) r.headers.Set("www-authenticate", "Basic realm=\"gatehouse\"");
  return r;
}

Status CheckForm(const vault::Form& form) {
  if (!form.duplicates.empty())
    return OAuthFail("invalid_request",
                     "parameter '" + Printable(form.duplicates.front(), 64) + "' is repeated");
  return Status::Ok();
}

std::string Field(const vault::Form& form, std::string_view key) {
  return std::string(form.Get(key).value_or(""));
}

// client_secret_basic or client_secret_post — exactly one.
Result<storage::OAuthClientRecord> AuthenticateClient(VaultCibaServices& s,
                                                      const http::Request& req,
                                                      const vault::Form& form) {
  auto header = req.Header("authorization");
  const bool in_body = form.Get("client_secret").has_value();
  if (header && in_body)
    return OAuthFail("invalid_request", "use one client authentication method, not two");
  if (header) {
    auto basic = vault::ParseBasicAuthorization(*header);
    if (!basic) return Status::Unauthenticated("client authentication failed", "invalid_client");
    if (auto id = form.Get("client_id"); id && *id != basic->first)
      return OAuthFail("invalid_request", "client_id does not match the authenticated client");
    return s.clients.Authenticate(basic->first, basic->second);
  }
  if (!in_body)
    return Status::Unauthenticated("client authentication is required", "invalid_client");
  return s.clients.Authenticate(Field(form, "client_id"), Secret(Field(form, "client_secret")));
}

void ReplyToken(RequestContext& ctx, bj::object body) {
  ReplyJson(ctx, 200, body);
  ctx.response.headers.Set("cache-control", "no-store");
  ctx.response.headers.Set("pragma", "no-cache");
}

bj::object IdentityTokens(const identity::Tokens& t) {
  bj::object o{{"access_token", t.access_token},
               {"token_type", "Bearer"},
               {"expires_in", t.expires_in},
               {"id_token", t.id_token}};
  if (!t.refresh_token.empty()) o["refresh_token"] = t.refresh_token;
  return o;
}

Awaitable<Status> TokenEndpoint(VaultCibaServices& s, RequestContext& ctx) {
  GH_CO_ASSIGN_OR_RETURN(vault::Form form, vault::ParseForm(ctx.request.body));
  GH_CO_RETURN_IF_ERROR(CheckForm(form));
  const std::string grant = Field(form, "grant_type");
  if (grant.empty()) co_return OAuthFail("invalid_request", "grant_type is required");

  if (grant == "password") {
    auto tokens = s.core.identity.Login(Field(form, "username"), Secret(Field(form, "password")));
    if (!tokens.ok()) co_return std::move(tokens).status();
    ReplyToken(ctx, IdentityTokens(*tokens));
    co_return Status::Ok();
  }
  if (grant == "refresh_token") {
    auto tokens = s.core.identity.Refresh(Secret(Field(form, "refresh_token")));
    if (!tokens.ok()) co_return std::move(tokens).status();
    ReplyToken(ctx, IdentityTokens(*tokens));
    co_return Status::Ok();
  }
  if (grant != kCibaGrant && grant != vault::kTokenExchangeGrant)
    co_return OAuthFail("unsupported_grant_type",
                        "grant_type '" + Printable(grant, 80) + "' is not supported");

  GH_CO_ASSIGN_OR_RETURN(storage::OAuthClientRecord client,
                         AuthenticateClient(s, ctx.request, form));
  ctx.response.log_fields.emplace_back("client_id", client.client_id);

  if (grant == kCibaGrant) {
    if (!vault::ClientRegistry::Allows(client, vault::kGrantCiba))
      co_return OAuthFail("unauthorized_client", "this client may not use CIBA");
    const std::string auth_req_id = Field(form, "auth_req_id");
    if (auth_req_id.empty()) co_return OAuthFail("invalid_request", "auth_req_id is required");
    GH_CO_ASSIGN_OR_RETURN(storage::ApprovalRecord rec,
                           s.approvals.PollBackchannel(client, auth_req_id));
    GH_CO_ASSIGN_OR_RETURN(
        identity::Tokens tokens,
        s.core.identity.IssueTokensForClient(rec.tenant_id, rec.user_id, client.client_id));
    bj::object body = IdentityTokens(tokens);
    body["scope"] = rec.scope;
    if (!rec.authorization_details.empty()) {
      boost::system::error_code ec;
      bj::value details = bj::parse(rec.authorization_details, ec);
      if (!ec) body["authorization_details"] = std::move(details);
    }
    ReplyToken(ctx, std::move(body));
    co_return Status::Ok();
  }

  // Token exchange: the subject is a user's Gatehouse access token.
  const std::string subject = Field(form, "subject_token");
  if (subject.empty()) co_return OAuthFail("invalid_request", "subject_token is required");
  if (form.Get("actor_token"))
    co_return OAuthFail("invalid_request", "actor tokens are not supported");
  auto claims = s.core.identity.verifier().Verify(subject);
  if (!claims.ok())
    co_return OAuthFail("invalid_grant",
                        "subject_token is not a valid access token of this issuer");
  vault::ExchangeRequest xr;
  xr.subject_tenant = claims->principal.tenant_id;
  xr.subject_user = claims->principal.user_id;
  xr.subject_token_type = Field(form, "subject_token_type");
  xr.requested_token_type = Field(form, "requested_token_type");
  xr.audience = Field(form, "audience");
  xr.resource = Field(form, "resource");
  xr.scope = Field(form, "scope");
  auto out = co_await vault::ExchangeForConnection(s.vault, client, xr, s.core.clock);
  if (!out.ok()) co_return std::move(out).status();
  bj::object body{{"access_token", out->access_token.reveal()},
                  {"issued_token_type", out->issued_token_type},
                  {"token_type", out->token_type}};
  if (out->expires_in) body["expires_in"] = *out->expires_in;
  if (!out->scope.empty()) body["scope"] = out->scope;
  ReplyToken(ctx, std::move(body));
  co_return Status::Ok();
}

Status BackchannelAuthorize(VaultCibaServices& s, RequestContext& ctx) {
  GH_ASSIGN_OR_RETURN(vault::Form form, vault::ParseForm(ctx.request.body));
  GH_RETURN_IF_ERROR(CheckForm(form));
  GH_ASSIGN_OR_RETURN(storage::OAuthClientRecord client, AuthenticateClient(s, ctx.request, form));
  ctx.response.log_fields.emplace_back("client_id", client.client_id);
  if (!vault::ClientRegistry::Allows(client, vault::kGrantCiba))
    return OAuthFail("unauthorized_client", "this client may not use CIBA");
  if (form.Get("login_hint_token") || form.Get("id_token_hint"))
    return OAuthFail("invalid_request", "only login_hint is supported");
  if (form.Get("user_code")) return OAuthFail("invalid_request", "user codes are not supported");
  if (form.Get("request"))
    return OAuthFail("invalid_request", "signed authentication requests are not supported");
  approvals::BackchannelRequest br;
  br.login_hint = Field(form, "login_hint");
  br.binding_message = Field(form, "binding_message");
  br.scope = Field(form, "scope");
  br.authorization_details = Field(form, "authorization_details");
  if (auto e = form.Get("requested_expiry")) {
    int64_t n = 0;
    auto [p, ec] = std::from_chars(e->data(), e->data() + e->size(), n);
    if (ec != std::errc() || p != e->data() + e->size())
      return OAuthFail("invalid_request", "requested_expiry must be a number of seconds");
    br.requested_expiry = n;
  }
  GH_ASSIGN_OR_RETURN(auto started, s.approvals.StartBackchannel(client, br));
  ReplyToken(ctx, bj::object{{"auth_req_id", started.auth_req_id},
                             {"expires_in", started.expires_in},
                             {"interval", started.interval}});
  return Status::Ok();
}

// The caller's live feed: approvals and connected-account changes as they happen.
Awaitable<Status> Events(VaultCibaServices& s, RequestContext& ctx) {
  const identity::Principal who = *ctx.principal;
  auto executor = co_await boost::asio::this_coro::executor;
  auto sub = s.feed.Subscribe(who.tenant_id, who.user_id, executor);
  http::SseWriter sse(ctx.stream);
  http::Headers h;
  h.Set("content-type", "text/event-stream; charset=utf-8");
  h.Set("cache-control", "no-store");
  Status st = co_await sse.Begin(std::move(h));
  size_t pending = 0;
  if (auto all = s.approvals.ListForUser(who.tenant_id, who.user_id); all.ok())
    for (const auto& a : *all) pending += a.state == "pending" ? 1 : 0;
  std::string ready =
      bj::serialize(bj::object{{"pending_approvals", static_cast<int64_t>(pending)}});
  if (st.ok()) st = co_await sse.Send("ready", ready);
  while (st.ok()) {
    bool closed = false;
    auto events = co_await s.feed.Next(*sub, std::chrono::seconds(15), closed);
    for (const auto& e : events) {
      st = co_await sse.Send(e.event, e.data);
      if (!st.ok()) break;
    }
    if (!st.ok() || closed) break;
    // The feed ends with the caller's access token: the page reconnects with a fresh one.
    if (who.expires_at > 0 && s.core.clock.NowUnixSeconds() >= who.expires_at) {
      (void)co_await sse.Send("reauthenticate", "{}");
      break;
    }
    if (events.empty()) st = co_await sse.Comment("keepalive");
  }
  s.feed.Unsubscribe(sub);
  co_return Status::Ok();
}

Result<bj::object> OptionalBody(RequestContext& ctx) {
  if (Trim(ctx.request.body).empty()) return bj::object{};
  return Body(ctx);
}

}  // namespace

void RegisterCibaRoutes(pipeline::Router& r, VaultCibaServices& s) {
  r.Add({.method = "POST",
         .pattern = "/bc-authorize",
         .auth = Auth::kNone,
         .form_body = true,
         .error_response = OAuthErrorResponse,
         .sync = [&s](RequestContext& ctx) { return BackchannelAuthorize(s, ctx); }});
  r.Add({.method = "POST",
         .pattern = "/oauth/token",
         .auth = Auth::kNone,
         .form_body = true,
         .error_response = OAuthErrorResponse,
         .async = [&s](RequestContext& ctx) { return TokenEndpoint(s, ctx); }});

  r.Add({.method = "GET",
         .pattern = "/api/me/approvals",
         .sync = [&s](RequestContext& ctx) -> Status {
           GH_ASSIGN_OR_RETURN(
               auto all, s.approvals.ListForUser(ctx.principal->tenant_id, ctx.principal->user_id));
           bj::array out;
           for (const auto& a : all) out.push_back(approvals::ApprovalJson(a));
           ReplyJson(ctx, 200, bj::object{{"approvals", std::move(out)}});
           ctx.response.headers.Set("cache-control", "no-store");
           return Status::Ok();
         }});
  r.Add({.method = "GET",
         .pattern = "/api/me/approvals/{id}",
         .sync = [&s](RequestContext& ctx) -> Status {
           GH_ASSIGN_OR_RETURN(auto a, s.approvals.Get(ctx.principal->tenant_id,
                                                       ctx.principal->user_id, ctx.Param("id")));
           ReplyJson(ctx, 200, approvals::ApprovalJson(a));
           return Status::Ok();
         }});
  for (const bool approve : {true, false}) {
    r.Add({.method = "POST",
           .pattern = approve ? "/api/me/approvals/{id}/approve" : "/api/me/approvals/{id}/deny",
           .sync = [&s, approve](RequestContext& ctx) -> Status {
             GH_ASSIGN_OR_RETURN(auto body, OptionalBody(ctx));
             GH_ASSIGN_OR_RETURN(auto hash, json::OptionalString(body, "arguments_hash", 128));
             GH_ASSIGN_OR_RETURN(
                 auto a, s.approvals.Decide(ctx.principal->tenant_id, ctx.principal->user_id,
                                            ctx.Param("id"), approve, hash));
             ReplyJson(ctx, 200, approvals::ApprovalJson(a));
             return Status::Ok();
           }});
  }
  r.Add({.method = "GET", .pattern = "/api/me/events", .async = [&s](RequestContext& ctx) {
           return Events(s, ctx);
         }});

  r.Add({.method = "GET",
         .pattern = "/api/tenants/{tenant_id}/approval-policies",
         .tenant_admin = true,
         .sync = [&s](RequestContext& ctx) -> Status {
           GH_ASSIGN_OR_RETURN(auto all, s.approvals.Policies(ctx.principal->tenant_id));
           bj::array out;
           for (const auto& p : all)
             out.push_back(bj::object{{"tool", p.tool_name},
                                      {"when", p.when_expr},
                                      {"binding_message", p.binding_message},
                                      {"expires_in_seconds", p.expires_in_seconds}});
           ReplyJson(ctx, 200, bj::object{{"policies", std::move(out)}});
           return Status::Ok();
         }});
  r.Add({.method = "PUT",
         .pattern = "/api/tenants/{tenant_id}/approval-policies",
         .tenant_admin = true,
         .sync = [&s](RequestContext& ctx) -> Status {
           GH_ASSIGN_OR_RETURN(auto body, Body(ctx));
           const bj::value* list = body.if_contains("policies");
           if (!list || !list->is_array())
             return Status::InvalidArgument("policies must be an array", "missing_field");
           std::vector<approvals::PolicyInput> in;
           for (const auto& item : list->get_array()) {
             if (!item.is_object()) return Status::InvalidArgument("each policy must be an object");
             const auto& o = item.get_object();
             approvals::PolicyInput p;
             GH_ASSIGN_OR_RETURN(p.tool, json::RequiredString(o, "tool", 64));
             GH_ASSIGN_OR_RETURN(p.when, json::RequiredString(o, "when", 1000));
             GH_ASSIGN_OR_RETURN(auto msg, json::OptionalString(o, "binding_message", 200));
             p.binding_message = msg.value_or("");
             GH_ASSIGN_OR_RETURN(auto exp, json::OptionalInt(o, "expires_in_seconds"));
             p.expires_in_seconds = exp.value_or(0);
             in.push_back(std::move(p));
           }
           GH_ASSIGN_OR_RETURN(auto saved, s.approvals.SetPolicies(ctx.principal->tenant_id, in));
           bj::array out;
           for (const auto& p : saved)
             out.push_back(bj::object{{"tool", p.tool_name},
                                      {"when", p.when_expr},
                                      {"binding_message", p.binding_message},
                                      {"expires_in_seconds", p.expires_in_seconds}});
           ReplyJson(ctx, 200, bj::object{{"policies", std::move(out)}});
           return Status::Ok();
         }});
}

}  // namespace gh::api

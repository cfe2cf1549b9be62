// Token vault endpoints: a tenant's connections (admins), a user's connected accounts, the OAuth
// provider's redirect back to /oauth/callback, trusted backend clients and HTTP API tools (admins).
// No answer ever holds a token or a client secret (a new client's secret once, at creation).
#include <fmt/format.h>

#include "api/json_io.h"
#include "api/vault_ciba_api.h"
#include "approvals/policy.h"
#include "common/strings.h"
#include "vault/presets.h"

namespace gh::api {

using pipeline::Auth;
using pipeline::RequestContext;
using vault::Awaitable;

namespace {

constexpr const char* kBindingCookie = "gh_oauth_binding";

// A body is optional for these POSTs: an empty one reads as {}.
Result<bj::object> OptionalBody(RequestContext& ctx) {
  if (Trim(ctx.request.body).empty()) return bj::object{};
  return Body(ctx);
}

bj::value MaybeIso(int64_t ms) { return ms > 0 ? bj::value(Iso(ms)) : bj::value(nullptr); }

bj::object ParamsObject(const std::string& json_text) {
  boost::system::error_code ec;
  bj::value v = bj::parse(json_text, ec);
  return !ec && v.is_object() ? v.get_object() : bj::object{};
}

bj::object ConnectionJson(const storage::ConnectionRecord& c, const std::string& redirect_uri) {
  return bj::object{
      {"id", c.id},
      {"display_name", c.display_name},
      {"preset", c.preset},
      {"issuer", c.issuer.empty() ? bj::value(nullptr) : bj::value(c.issuer)},
      {"authorization_endpoint", c.authorization_endpoint},
      {"token_endpoint", c.token_endpoint},
      {"revocation_endpoint",
       c.revocation_endpoint.empty() ? bj::value(nullptr) : bj::value(c.revocation_endpoint)},
      {"client_id", c.client_id},
      {"client_secret_set", !c.client_secret_sealed.empty()},
      {"scopes", c.scopes},
      {"authorization_params", ParamsObject(c.auth_params)},
      {"token_endpoint_auth_method", c.token_auth_method},
      {"redirect_uri", redirect_uri},
      {"created_at", Iso(c.created_at)},
      {"updated_at", Iso(c.updated_at)}};
}

bj::object AccountJson(const storage::AccountRecord& a, const storage::ConnectionRecord* c) {
  return bj::object{
      {"id", a.connection_id},
      {"connection_id", a.connection_id},
      {"display_name", c ? c->display_name : a.connection_id},
      {"preset", c ? c->preset : ""},
      {"status", a.status},
      {"scope", a.scope},
      {"expires_at", MaybeIso(a.expires_at)},
      {"connected_at", Iso(a.connected_at)},
      {"refreshed_at", a.refreshed_at ? bj::value(Iso(*a.refreshed_at)) : bj::value(nullptr)},
      {"refreshable", !a.refresh_token_sealed.empty()},
      {"last_error", a.last_error.empty() ? bj::value(nullptr) : bj::value(a.last_error)}};
}

Result<vault::ConnectionInput> ParseConnectionInput(const bj::object& body) {
  vault::ConnectionInput in;
  GH_ASSIGN_OR_RETURN(in.id, json::OptionalString(body, "id", 63));
  GH_ASSIGN_OR_RETURN(in.display_name, json::OptionalString(body, "display_name", 100));
  GH_ASSIGN_OR_RETURN(in.preset, json::OptionalString(body, "preset", 32));
  GH_ASSIGN_OR_RETURN(in.issuer, json::OptionalString(body, "issuer", 2048));
  GH_ASSIGN_OR_RETURN(in.authorization_endpoint,
                      json::OptionalString(body, "authorization_endpoint", 2048));
  GH_ASSIGN_OR_RETURN(in.token_endpoint, json::OptionalString(body, "token_endpoint", 2048));
  GH_ASSIGN_OR_RETURN(in.revocation_endpoint,
                      json::OptionalString(body, "revocation_endpoint", 2048));
  GH_ASSIGN_OR_RETURN(in.client_id, json::OptionalString(body, "client_id", 512));
  GH_ASSIGN_OR_RETURN(auto secret, json::OptionalString(body, "client_secret", 4096));
  if (secret) in.client_secret = Secret(std::move(*secret));
  GH_ASSIGN_OR_RETURN(in.token_auth_method,
                      json::OptionalString(body, "token_endpoint_auth_method", 64));
  if (const bj::value* s = body.if_contains("scopes"); s && !s->is_null()) {
    if (s->is_string()) {
      in.scopes = std::string(s->get_string());
    } else if (s->is_array()) {
      std::string joined;
      for (const auto& x : s->get_array()) {
        if (!x.is_string())
          return Status::InvalidArgument("scopes must be a string or an array of strings");
        joined += (joined.empty() ? "" : " ") + std::string(x.get_string());
      }
      in.scopes = joined;
    } else {
      return Status::InvalidArgument("scopes must be a string or an array of strings");
    }
  }
  if (const bj::value* p = body.if_contains("authorization_params"); p && !p->is_null()) {
    if (!p->is_object())
      return Status::InvalidArgument("authorization_params must be an object of strings");
    std::vector<std::pair<std::string, std::string>> params;
    for (const auto& [k, v] : p->get_object()) {
      if (!v.is_string())
        return Status::InvalidArgument("authorization_params must be an object of strings");
      params.emplace_back(std::string(k), std::string(v.get_string()));
    }
    in.auth_params = std::move(params);
  }
  return in;
}

std::optional<std::string> CookieValue(const http::Request& req, std::string_view name) {
  auto header = req.Header("cookie");
  if (!header) return std::nullopt;
  for (auto part : Split(*header, ';')) {
    std::string_view kv = Trim(part);
    size_t eq = kv.find('=');
    if (eq == std::string_view::npos) continue;
    if (Trim(kv.substr(0, eq)) == name) return std::string(Trim(kv.substr(eq + 1)));
  }
  return std::nullopt;
}

http::Response Redirect(const std::string& location) {
  http::Response r;
  r.status = 302;
  r.headers.Set("location", location);
  r.headers.Set("cache-control", "no-store");
  return r;
}

std::string WithQuery(const std::string& path, const std::string& key, const std::string& value) {
  return path + (path.find('?') == std::string::npos ? "?" : "&") + key + "=" +
         vault::PercentEncode(value);
}

bj::object ClientJson(const storage::OAuthClientRecord& c) {
  bj::array grants;
  for (auto g : Split(c.grant_types, ' ')) grants.emplace_back(g);
  return bj::object{
      {"client_id", c.client_id},
      {"name", c.name},
      {"grant_types", std::move(grants)},
      {"created_at", Iso(c.created_at)},
      {"revoked_at", c.revoked_at ? bj::value(Iso(*c.revoked_at)) : bj::value(nullptr)}};
}

// The agent's ApprovalGate must be able to evaluate a tool's approval condition.
Status CheckToolApproval(const bj::object& body, const tools::HttpToolOptions& opts) {
  GH_ASSIGN_OR_RETURN(auto def, tools::ParseHttpToolDefinition(body, opts));
  if (def.approval.empty()) return Status::Ok();
  auto cond = approvals::Condition::Compile(def.approval.when);
  if (!cond.ok())
    return Status::Unprocessable("approval.when: " + cond.status().message(), "invalid_tool");
  return Status::Ok();
}

}  // namespace

void RegisterVaultRoutes(pipeline::Router& r, VaultCibaServices& s) {
  // ---- connections (tenant admins) ----
  r.Add({.method = "GET",
         .pattern = "/api/connection-presets",
         .sync = [](RequestContext& ctx) -> Status {
           bj::array presets;
           for (const auto& p : vault::Presets()) {
             bj::object params;
             for (const auto& [k, v] : p.auth_params) params[k] = v;
             presets.push_back(bj::object{{"name", p.name},
                                          {"display_name", p.display_name},
                                          {"issuer", p.issuer},
                                          {"authorization_endpoint", p.authorization_endpoint},
                                          {"token_endpoint", p.token_endpoint},
                                          {"revocation_endpoint", p.revocation_endpoint},
                                          {"default_scopes", p.default_scopes},
                                          {"authorization_params", std::move(params)},
                                          {"token_endpoint_auth_method", p.token_auth_method}});
           }
           ReplyJson(ctx, 200, bj::object{{"presets", std::move(presets)}});
           return Status::Ok();
         }});
  r.Add({.method = "GET",
         .pattern = "/api/tenants/{tenant_id}/connections",
         .tenant_admin = true,
         .sync = [&s](RequestContext& ctx) -> Status {
           GH_ASSIGN_OR_RETURN(auto all, s.vault.ListConnections(ctx.principal->tenant_id));
           bj::array out;
           for (const auto& c : all)
             out.push_back(ConnectionJson(c, s.vault.options().redirect_uri));
           ReplyJson(ctx, 200, bj::object{{"connections", std::move(out)}});
           return Status::Ok();
         }});
  r.Add({.method = "POST",
         .pattern = "/api/tenants/{tenant_id}/connections",
         .tenant_admin = true,
         .async = [&s](RequestContext& ctx) -> Awaitable<Status> {
           GH_CO_ASSIGN_OR_RETURN(auto body, Body(ctx));
           GH_CO_ASSIGN_OR_RETURN(auto input, ParseConnectionInput(body));
           auto created =
               co_await s.vault.CreateConnection(ctx.principal->tenant_id, std::move(input));
           if (!created.ok()) co_return std::move(created).status();
           ReplyJson(ctx, 201, ConnectionJson(*created, s.vault.options().redirect_uri));
           co_return Status::Ok();
         }});
  r.Add({.method = "GET",
         .pattern = "/api/tenants/{tenant_id}/connections/{id}",
         .tenant_admin = true,
         .sync = [&s](RequestContext& ctx) -> Status {
           GH_ASSIGN_OR_RETURN(auto c,
                               s.vault.GetConnection(ctx.principal->tenant_id, ctx.Param("id")));
           ReplyJson(ctx, 200, ConnectionJson(c, s.vault.options().redirect_uri));
           return Status::Ok();
         }});
  r.Add({.method = "PUT",
         .pattern = "/api/tenants/{tenant_id}/connections/{id}",
         .tenant_admin = true,
         .async = [&s](RequestContext& ctx) -> Awaitable<Status> {
           GH_CO_ASSIGN_OR_RETURN(auto body, Body(ctx));
           GH_CO_ASSIGN_OR_RETURN(auto input, ParseConnectionInput(body));
           auto updated = co_await s.vault.UpdateConnection(ctx.principal->tenant_id,
                                                            ctx.Param("id"), std::move(input));
           if (!updated.ok()) co_return std::move(updated).status();
           ReplyJson(ctx, 200, ConnectionJson(*updated, s.vault.options().redirect_uri));
           co_return Status::Ok();
         }});
  r.Add({.method = "DELETE",
         .pattern = "/api/tenants/{tenant_id}/connections/{id}",
         .tenant_admin = true,
         .async = [&s](RequestContext& ctx) -> Awaitable<Status> {
           GH_CO_RETURN_IF_ERROR(
               co_await s.vault.DeleteConnection(ctx.principal->tenant_id, ctx.Param("id")));
           ReplyJson(ctx, 200, bj::object{{"deleted", true}});
           co_return Status::Ok();
         }});

  // ---- connected accounts (the caller's own) ----
  r.Add({.method = "GET",
         .pattern = "/api/me/connected-accounts",
         .sync = [&s](RequestContext& ctx) -> Status {
           const auto& who = *ctx.principal;
           GH_ASSIGN_OR_RETURN(auto conns, s.vault.ListConnections(who.tenant_id));
           GH_ASSIGN_OR_RETURN(auto accounts, s.vault.ListAccounts(who.tenant_id, who.user_id));
           bj::array accounts_json, available;
           for (const auto& a : accounts) {
             const storage::ConnectionRecord* c = nullptr;
             for (const auto& x : conns)
               if (x.id == a.connection_id) c = &x;
             accounts_json.push_back(AccountJson(a, c));
           }
           for (const auto& c : conns) {
             std::string status = "not_connected";
             for (const auto& a : accounts)
               if (a.connection_id == c.id) status = a.status;
             available.push_back(bj::object{{"connection_id", c.id},
                                            {"display_name", c.display_name},
                                            {"preset", c.preset},
                                            {"scopes", c.scopes},
                                            {"status", status}});
           }
           ReplyJson(ctx, 200,
                     bj::object{{"accounts", std::move(accounts_json)},
                                {"connections", std::move(available)}});
           ctx.response.headers.Set("cache-control", "no-store");
           return Status::Ok();
         }});
  r.Add({.method = "POST",
         .pattern = "/api/me/connected-accounts/{connection_id}/connect",
         .sync = [&s](RequestContext& ctx) -> Status {
           GH_ASSIGN_OR_RETURN(auto body, OptionalBody(ctx));
           GH_ASSIGN_OR_RETURN(auto return_to, json::OptionalString(body, "return_to", 512));
           GH_ASSIGN_OR_RETURN(auto scopes, json::OptionalString(body, "scopes", 1024));
           const auto& who = *ctx.principal;
           GH_ASSIGN_OR_RETURN(
               auto start,
               s.vault.StartConnect(who.tenant_id, who.user_id, ctx.Param("connection_id"),
                                    CookieValue(ctx.request, kBindingCookie),
                                    return_to.value_or(""), scopes.value_or("")));
           ReplyJson(ctx, 200,
                     bj::object{{"authorization_url", start.authorization_url},
                                {"expires_at", Iso(start.expires_at)}});
           // Binds the flow to this browser: the provider's redirect must come back with it.
           const bool secure = s.core.identity.config().issuer.rfind("https://", 0) == 0;
           ctx.response.headers.Set(
               "set-cookie",
               fmt::format("{}={}; Path=/; Max-Age={}; HttpOnly; SameSite=Lax{}", kBindingCookie,
                           start.binding, s.vault.options().flow_ttl_seconds,
                           secure ? "; Secure" : ""));
           ctx.response.headers.Set("cache-control", "no-store");
           return Status::Ok();
         }});
  r.Add({.method = "DELETE",
         .pattern = "/api/me/connected-accounts/{id}",
         .async = [&s](RequestContext& ctx) -> Awaitable<Status> {
           const auto& who = *ctx.principal;
           auto out = co_await s.vault.Disconnect(who.tenant_id, who.user_id, ctx.Param("id"));
           if (!out.ok()) co_return std::move(out).status();
           ReplyJson(
               ctx, 200,
               bj::object{{"disconnected", true},
                          {"revoked", out->revoked_upstream},
                          {"note", out->note.empty() ? bj::value(nullptr) : bj::value(out->note)}});
           co_return Status::Ok();
         }});
  // The provider's redirect after the user consented (or refused). Authenticated by the state and
  // the browser-binding cookie, not by a bearer token (this is a top-level navigation).
  r.Add({.method = "GET",
         .pattern = "/oauth/callback",
         .auth = Auth::kNone,
         .async = [&s](RequestContext& ctx) -> Awaitable<Status> {
           auto q = [&](std::string_view k) {
             return std::string(ctx.request.Query(k).value_or(""));
           };
           auto done = co_await s.vault.CompleteConnect(q("state"), q("code"), q("error"),
                                                        CookieValue(ctx.request, kBindingCookie));
           if (done.ok()) {
             ctx.response = Redirect(WithQuery(done->return_to, "connected", done->connection_id));
             co_return Status::Ok();
           }
           const Status& st = done.status();
           std::string to = "/connected-accounts";
           for (const auto& [k, v] : st.details())
             if (k == "return_to" && std::holds_alternative<std::string>(v))
               to = std::get<std::string>(v);
           const std::string code =
               st.code() == StatusCode::kInternal ? "internal" : st.error_code();
           ctx.response = Redirect(WithQuery(to, "error", code));
           ctx.outcome = st;
           co_return Status::Ok();
         }});

  // ---- trusted backend clients (tenant admins) ----
  r.Add({.method = "GET",
         .pattern = "/api/tenants/{tenant_id}/clients",
         .tenant_admin = true,
         .sync = [&s](RequestContext& ctx) -> Status {
           GH_ASSIGN_OR_RETURN(auto all, s.clients.List(ctx.principal->tenant_id));
           bj::array out;
           for (const auto& c : all) out.push_back(ClientJson(c));
           ReplyJson(ctx, 200, bj::object{{"clients", std::move(out)}});
           return Status::Ok();
         }});
  r.Add({.method = "POST",
         .pattern = "/api/tenants/{tenant_id}/clients",
         .tenant_admin = true,
         .sync = [&s](RequestContext& ctx) -> Status {
           GH_ASSIGN_OR_RETURN(auto body, Body(ctx));
           GH_ASSIGN_OR_RETURN(std::string name, json::RequiredString(body, "name", 100));
           std::vector<std::string> grants;
           const bj::value* g = body.if_contains("grant_types");
           if (!g || !g->is_array())
             return Status::InvalidArgument("grant_types must be an array", "missing_field");
           for (const auto& x : g->get_array()) {
             if (!x.is_string())
               return Status::InvalidArgument("grant_types must be an array of strings");
             grants.emplace_back(x.get_string());
           }
           GH_ASSIGN_OR_RETURN(auto created,
                               s.clients.Create(ctx.principal->tenant_id, name, grants));
           bj::object out = ClientJson(created.record);
           out["client_secret"] = created.secret.reveal();  // shown once
           ReplyJson(ctx, 201, out);
           ctx.response.headers.Set("cache-control", "no-store");
           return Status::Ok();
         }});
  r.Add({.method = "DELETE",
         .pattern = "/api/tenants/{tenant_id}/clients/{client_id}",
         .tenant_admin = true,
         .sync = [&s](RequestContext& ctx) -> Status {
           GH_RETURN_IF_ERROR(s.clients.Revoke(ctx.principal->tenant_id, ctx.Param("client_id")));
           ReplyJson(ctx, 200, bj::object{{"revoked", true}});
           return Status::Ok();
         }});

  // ---- HTTP API tools (tenant admins) ----
  r.Add({.method = "GET",
         .pattern = "/api/tenants/{tenant_id}/http-tools",
         .tenant_admin = true,
         .sync = [&s](RequestContext& ctx) -> Status {
           GH_ASSIGN_OR_RETURN(auto all, s.http_tools.List(ctx.principal->tenant_id));
           bj::array out;
           for (const auto& d : all) out.push_back(d.ToJson());
           ReplyJson(ctx, 200, bj::object{{"tools", std::move(out)}});
           return Status::Ok();
         }});
  r.Add({.method = "POST",
         .pattern = "/api/tenants/{tenant_id}/http-tools",
         .tenant_admin = true,
         .sync = [&s](RequestContext& ctx) -> Status {
           GH_ASSIGN_OR_RETURN(auto body, Body(ctx));
           tools::HttpToolOptions opts;
           opts.allow_insecure_http = s.vault.options().allow_insecure_http;
           GH_RETURN_IF_ERROR(CheckToolApproval(body, opts));
           GH_ASSIGN_OR_RETURN(auto def, s.http_tools.Put(ctx.principal->tenant_id, body, true));
           ReplyJson(ctx, 201, def.ToJson());
           return Status::Ok();
         }});
  r.Add({.method = "GET",
         .pattern = "/api/tenants/{tenant_id}/http-tools/{name}",
         .tenant_admin = true,
         .sync = [&s](RequestContext& ctx) -> Status {
           GH_ASSIGN_OR_RETURN(auto def,
                               s.http_tools.Get(ctx.principal->tenant_id, ctx.Param("name")));
           ReplyJson(ctx, 200, def.ToJson());
           return Status::Ok();
         }});
  r.Add({.method = "PUT",
         .pattern = "/api/tenants/{tenant_id}/http-tools/{name}",
         .tenant_admin = true,
         .sync = [&s](RequestContext& ctx) -> Status {
           GH_ASSIGN_OR_RETURN(auto body, Body(ctx));
           if (const bj::value* n = body.if_contains("name");
               n && (!n->is_string() || n->get_string() != ctx.Param("name")))
             return Status::Unprocessable("the body's name must match the path", "invalid_tool");
           body["name"] = ctx.Param("name");
           tools::HttpToolOptions opts;
           opts.allow_insecure_http = s.vault.options().allow_insecure_http;
           GH_RETURN_IF_ERROR(CheckToolApproval(body, opts));
           GH_ASSIGN_OR_RETURN(auto def, s.http_tools.Put(ctx.principal->tenant_id, body, false));
           ReplyJson(ctx, 200, def.ToJson());
           return Status::Ok();
         }});
  r.Add({.method = "DELETE",
         .pattern = "/api/tenants/{tenant_id}/http-tools/{name}",
         .tenant_admin = true,
         .sync = [&s](RequestContext& ctx) -> Status {
           GH_RETURN_IF_ERROR(s.http_tools.Delete(ctx.principal->tenant_id, ctx.Param("name")));
           ReplyJson(ctx, 200, bj::object{{"deleted", true}});
           return Status::Ok();
         }});
}

}  // namespace gh::api

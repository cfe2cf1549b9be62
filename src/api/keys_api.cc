// Per-user API keys: POST /api/keys {name} → 201 {id, name, key, prefix, created_at} (the key is
// shown this once); GET /api/keys (the caller's keys; `?scope=tenant` for a tenant admin: all of
// the tenant's) without secrets; DELETE /api/keys/{key_id} revokes at once (404 for keys the
// caller may not see). Domain rules in identity/api_keys.h.
#include "api/json_io.h"
#include "api/openai_api.h"

namespace gh::api {

using pipeline::RequestContext;

namespace {

constexpr size_t kMaxNameBytes = 400;  // checked precisely (100 characters) by the service

bj::object KeyJson(const identity::ApiKeyInfo& k) {
  return bj::object{
      {"id", k.id},
      {"name", k.name},
      {"prefix", k.prefix},
      {"user_id", k.user_id.value()},
      {"created_at", Iso(k.created_at)},
      {"last_used_at", k.last_used_at ? bj::value(Iso(*k.last_used_at)) : bj::value(nullptr)},
      {"revoked_at", k.revoked_at ? bj::value(Iso(*k.revoked_at)) : bj::value(nullptr)}};
}

}  // namespace

void RegisterKeyRoutes(pipeline::Router& r, identity::ApiKeyService& keys) {
  r.Add({.method = "POST", .pattern = "/api/keys", .sync = [&keys](RequestContext& ctx) -> Status {
           GH_ASSIGN_OR_RETURN(auto body, Body(ctx));
           GH_ASSIGN_OR_RETURN(std::string name, json::RequiredString(body, "name", kMaxNameBytes));
           GH_ASSIGN_OR_RETURN(auto created, keys.Create(*ctx.principal, name));
           bj::object out = KeyJson(created.info);
           out["key"] = created.key.reveal();  // the only time the key leaves the server
           ReplyJson(ctx, 201, out);
           ctx.response.headers.Set("cache-control", "no-store");
           return Status::Ok();
         }});
  r.Add({.method = "GET", .pattern = "/api/keys", .sync = [&keys](RequestContext& ctx) -> Status {
           auto scope = ctx.request.Query("scope");
           if (scope && *scope != "tenant" && *scope != "mine")
             return Status::InvalidArgument("scope must be 'mine' or 'tenant'", "invalid_scope");
           GH_ASSIGN_OR_RETURN(auto list, keys.List(*ctx.principal, scope && *scope == "tenant"));
           bj::array out;
           for (const auto& k : list) out.push_back(KeyJson(k));
           ReplyJson(ctx, 200, bj::object{{"keys", std::move(out)}});
           return Status::Ok();
         }});
  r.Add({.method = "DELETE",
         .pattern = "/api/keys/{key_id}",
         .sync = [&keys](RequestContext& ctx) -> Status {
           GH_RETURN_IF_ERROR(keys.Revoke(*ctx.principal, ctx.Param("key_id")));
           ctx.response = http::Response::NoContent();
           return Status::Ok();
         }});
}

}  // namespace gh::api

// The agent integration's Gatehouse-shaped endpoints: the tenant's document collection and the
// tool authorization audit log; and InstallAuthz, main/'s one call (see fga_api.h).
#include <boost/json.hpp>

#include <charconv>

#include "api/fga_api.h"
#include "api/json_io.h"
#include "storage/authz_repository.h"

namespace gh::api {

using pipeline::RequestContext;

namespace {

constexpr int64_t kDefaultDecisions = 100;
constexpr int64_t kMaxDecisions = 1000;

bj::object DocumentJson(const storage::DocumentRow& d, bool with_content) {
  bj::object o{{"document_id", d.id},
               {"title", d.title},
               {"created_by", d.created_by.value()},
               {"created_at", Iso(d.created_at)},
               {"updated_at", Iso(d.updated_at)}};
  if (with_content) o["content"] = d.content;
  return o;
}

bj::object DecisionJson(const storage::AuthzDecisionRow& d) {
  bj::object o{
      {"decision_id", d.id},
      {"created_at", Iso(d.created_at)},
      {"decision", d.decision},
      {"tenant_id", d.tenant_id.value()},
      {"user_id", d.user_id.value()},
      {"tool", d.tool},
      {"tuple", bj::object{{"user", d.fga_user}, {"relation", d.relation}, {"object", d.object}}},
      {"store_id", d.store_id},
      {"authorization_model_id", d.model_id},
      {"reason", d.reason},
      {"session_id", d.session_id},
      {"trace_id", d.trace_id}};
  return o;
}

Status NoSuchDocument() { return Status::NotFound("no such document", "document_not_found"); }

}  // namespace

void RegisterAuthzRoutes(pipeline::Router& r, authz_agent::AuthzRuntime& authz) {
  r.Add({.method = "POST",
         .pattern = "/api/tenants/{tenant_id}/documents",
         .tenant_admin = true,
         .sync = [&authz](RequestContext& ctx) -> Status {
           GH_ASSIGN_OR_RETURN(auto body, Body(ctx));
           authz_agent::PutDocument put;
           GH_ASSIGN_OR_RETURN(auto id, json::OptionalString(body, "document_id", 128));
           if (id) put.id = *id;
           GH_ASSIGN_OR_RETURN(put.title, json::RequiredString(body, "title", 300));
           GH_ASSIGN_OR_RETURN(auto content, json::OptionalString(body, "content", 256 * 1024));
           if (!content) {
             return Status::InvalidArgument("missing required field 'content'", "missing_field");
           }
           put.content = std::move(*content);
           GH_ASSIGN_OR_RETURN(
               auto stored,
               authz.documents().Put(ctx.tenant->id, ctx.principal->user_id, std::move(put)));
           ReplyJson(ctx, stored.second ? 201 : 200, DocumentJson(stored.first, false));
           return Status::Ok();
         }});
  r.Add({.method = "GET",
         .pattern = "/api/tenants/{tenant_id}/documents",
         .sync = [&authz](RequestContext& ctx) -> Status {
           const bool admin = ctx.principal->IsTenantAdmin();
           GH_ASSIGN_OR_RETURN(
               auto docs, authz.documents().List(ctx.tenant->id, ctx.principal->user_id, admin));
           bj::array out;
           for (const auto& d : docs) out.push_back(DocumentJson(d, false));
           ReplyJson(ctx, 200,
                     bj::object{{"documents", std::move(out)},
                                {"governed", authz.documents().Governed(ctx.tenant->id)}});
           return Status::Ok();
         }});
  r.Add({.method = "GET",
         .pattern = "/api/tenants/{tenant_id}/documents/{document_id}",
         .sync = [&authz](RequestContext& ctx) -> Status {
           const std::string& id = ctx.Param("document_id");
           if (!ctx.principal->IsTenantAdmin()) {
             // A document the caller may not view is as absent as a missing one.
             GH_ASSIGN_OR_RETURN(
                 bool may, authz.documents().MayView(ctx.tenant->id, ctx.principal->user_id, id));
             if (!may) return NoSuchDocument();
           }
           GH_ASSIGN_OR_RETURN(auto doc, authz.documents().Get(ctx.tenant->id, id));
           if (!doc) return NoSuchDocument();
           ReplyJson(ctx, 200, DocumentJson(*doc, true));
           return Status::Ok();
         }});
  r.Add({.method = "DELETE",
         .pattern = "/api/tenants/{tenant_id}/documents/{document_id}",
         .tenant_admin = true,
         .sync = [&authz](RequestContext& ctx) -> Status {
           GH_ASSIGN_OR_RETURN(bool deleted,
                               authz.documents().Delete(ctx.tenant->id, ctx.Param("document_id")));
           if (!deleted) return NoSuchDocument();
           ctx.response = http::Response::NoContent();
           return Status::Ok();
         }});
  r.Add({.method = "GET",
         .pattern = "/api/tenants/{tenant_id}/authz/decisions",
         .tenant_admin = true,
         .sync = [&authz](RequestContext& ctx) -> Status {
           storage::DecisionFilter filter;
           filter.limit = kDefaultDecisions;
           if (auto limit = ctx.request.Query("limit")) {
             int64_t n = 0;
             auto [end, ec] = std::from_chars(limit->data(), limit->data() + limit->size(), n);
             if (ec != std::errc() || end != limit->data() + limit->size() || n < 1 ||
                 n > kMaxDecisions) {
               return Status::InvalidArgument("limit must be between 1 and 1000");
             }
             filter.limit = n;
           }
           if (auto decision = ctx.request.Query("decision")) {
             if (*decision != "allow" && *decision != "deny") {
               return Status::InvalidArgument("decision must be allow or deny");
             }
             filter.decision = std::string(*decision);
           }
           if (auto user = ctx.request.Query("user_id"); user && !user->empty()) {
             filter.user_id = UserId(std::string(*user));
           }
           std::vector<storage::AuthzDecisionRow> rows;
           GH_RETURN_IF_ERROR(authz.db().Read([&](storage::Tx& tx) -> Status {
             GH_ASSIGN_OR_RETURN(rows, storage::authz_decisions::List(tx, ctx.tenant->id, filter));
             return Status::Ok();
           }));
           bj::array out;
           for (const auto& d : rows) out.push_back(DecisionJson(d));
           ReplyJson(ctx, 200, bj::object{{"decisions", std::move(out)}});
           return Status::Ok();
         }});
}

Result<std::unique_ptr<authz_agent::AuthzRuntime>> InstallAuthz(pipeline::Router& router,
                                                                agent::ToolRegistry& tools,
                                                                storage::Database& db,
                                                                const Clock& clock,
                                                                Random& random) {
  GH_ASSIGN_OR_RETURN(auto runtime, authz_agent::AuthzRuntime::Open(db, clock, random));
  runtime->InstallTools(tools);
  RegisterFgaRoutes(router, *runtime);
  RegisterAuthzRoutes(router, *runtime);
  return runtime;
}

}  // namespace gh::api

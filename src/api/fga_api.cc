// The OpenFGA-compatible API under /fga: translates OpenFGA's JSON to the engine's requests
// (authz/store.h) for the caller's tenant's stores, and Status values to OpenFGA's error shape.
// Field names and messages follow OpenFGA's HTTP API so that its SDKs work unchanged.
#include <fmt/format.h>
#include <boost/json.hpp>

#include <algorithm>
#include <charconv>
#include <set>

#include "api/fga_api.h"
#include "api/json_io.h"
#include "authz/errors.h"
#include "authz/model_json.h"
#include "common/log.h"
#include "common/strings.h"
#include "common/time_util.h"
#include "http/errors.h"

namespace gh::api {

using pipeline::RequestContext;

namespace {

constexpr size_t kDefaultPageSize = 50;
constexpr size_t kMaxPageSize = 100;

// ---- errors ------------------------------------------------------------------------------------

// OpenFGA's error body {"code", "message"} with the HTTP status of the Status's category. Engine
// errors already carry OpenFGA's codes; Gatehouse's generic ones are translated.
http::Response FgaErrorResponse(const Status& s) {
  std::string code = s.error_code();
  std::string message = s.message();
  switch (s.code()) {
    case StatusCode::kInvalidArgument:
      if (code.empty() || code == "invalid_request" || code == "invalid_json" ||
          code == "missing_field") {
        code = "validation_error";
      }
      break;
    case StatusCode::kNotFound:
      if (code.empty() || code == "not_found") code = "undefined_endpoint";
      break;
    case StatusCode::kResourceExhausted:
      code = "rate_limit_exceeded";
      break;
    case StatusCode::kInternal:
      log::Error("internal error", {{"detail", s.message()}});
      code = "internal_error";
      message = "Internal Server Error";
      break;
    default:
      if (code.empty()) code = std::string(StatusCodeName(s.code()));
      break;
  }
  http::Response r =
      http::Response::Json(http::HttpStatusFor(s.code()),
                           bj::serialize(bj::object{{"code", code}, {"message", message}}));
  if (s.retry_after_seconds()) {
    r.headers.Set("retry-after", std::to_string(*s.retry_after_seconds()));
  }
  r.log_fields.emplace_back("error_code", code);
  return r;
}

Status Invalid(std::string message) { return authz::errors::ValidationError(std::move(message)); }

// ---- reading OpenFGA's JSON --------------------------------------------------------------------

Result<bj::object> FgaBody(const RequestContext& ctx) {
  if (ctx.request.body.empty()) return bj::object();
  boost::system::error_code ec;
  bj::value v = bj::parse(ctx.request.body, ec);
  if (ec || !v.is_object()) return Invalid("the request body must be a JSON object");
  return std::move(v.get_object());
}

// A string field; empty when absent (or null) and not required.
Result<std::string> Field(const bj::object& o, std::string_view key, std::string_view where,
                          bool required) {
  const bj::value* v = o.if_contains(key);
  if (!v || v->is_null() || (v->is_string() && v->get_string().empty())) {
    if (required) return Invalid(fmt::format("invalid {}: {} is required", where, key));
    return std::string();
  }
  if (!v->is_string()) return Invalid(fmt::format("invalid {}: {} must be a string", where, key));
  return std::string(v->get_string());
}

// An object field; null when absent and not required.
Result<const bj::object*> ObjectField(const bj::object& o, std::string_view key,
                                      std::string_view where, bool required) {
  const bj::value* v = o.if_contains(key);
  if (!v || v->is_null()) {
    if (required) return Invalid(fmt::format("invalid {}: {} is required", where, key));
    return static_cast<const bj::object*>(nullptr);
  }
  if (!v->is_object()) return Invalid(fmt::format("invalid {}: {} must be an object", where, key));
  return &v->get_object();
}

Result<const bj::array*> ArrayField(const bj::object& o, std::string_view key,
                                    std::string_view where) {
  const bj::value* v = o.if_contains(key);
  if (!v || v->is_null()) return static_cast<const bj::array*>(nullptr);
  if (!v->is_array()) return Invalid(fmt::format("invalid {}: {} must be an array", where, key));
  return &v->get_array();
}

Result<authz::TupleKey> ParseTupleKey(const bj::value& v, std::string_view where,
                                      bool with_condition) {
  if (!v.is_object()) return Invalid(fmt::format("invalid {}: must be an object", where));
  const bj::object& o = v.get_object();
  authz::TupleKey t;
  GH_ASSIGN_OR_RETURN(t.user, Field(o, "user", where, true));
  GH_ASSIGN_OR_RETURN(t.relation, Field(o, "relation", where, true));
  GH_ASSIGN_OR_RETURN(t.object, Field(o, "object", where, true));
  if (!with_condition) return t;
  GH_ASSIGN_OR_RETURN(const bj::object* condition, ObjectField(o, "condition", where, false));
  if (condition) {
    authz::TupleCondition c;
    GH_ASSIGN_OR_RETURN(c.name, Field(*condition, "name", "RelationshipCondition", true));
    GH_ASSIGN_OR_RETURN(const bj::object* context,
                        ObjectField(*condition, "context", "RelationshipCondition", false));
    if (context) c.context = *context;
    t.condition = std::move(c);
  }
  return t;
}

Result<std::vector<authz::TupleKey>> ParseTupleKeys(const bj::array* items, std::string_view where,
                                                    bool with_condition) {
  std::vector<authz::TupleKey> out;
  if (!items) return out;
  out.reserve(items->size());
  for (const auto& item : *items) {
    GH_ASSIGN_OR_RETURN(auto t, ParseTupleKey(item, where, with_condition));
    out.push_back(std::move(t));
  }
  return out;
}

// OpenFGA's ContextualTupleKeys: {"tuple_keys": [...]}; a bare array is accepted too (the
// JavaScript SDK's batchCheck sends one).
Result<std::vector<authz::TupleKey>> ParseContextualTuples(const bj::object& body) {
  if (const bj::value* v = body.if_contains("contextual_tuples"); v && v->is_array()) {
    return ParseTupleKeys(&v->get_array(), "ContextualTupleKeys.TupleKeys", true);
  }
  GH_ASSIGN_OR_RETURN(const bj::object* wrapper,
                      ObjectField(body, "contextual_tuples", "ContextualTupleKeys", false));
  if (!wrapper) return std::vector<authz::TupleKey>();
  GH_ASSIGN_OR_RETURN(const bj::array* keys,
                      ArrayField(*wrapper, "tuple_keys", "ContextualTupleKeys"));
  return ParseTupleKeys(keys, "ContextualTupleKeys.TupleKeys", true);
}

Result<bj::object> ParseContext(const bj::object& body) {
  GH_ASSIGN_OR_RETURN(const bj::object* context, ObjectField(body, "context", "context", false));
  return context ? *context : bj::object();
}

Result<size_t> PageSize(std::optional<int64_t> value) {
  if (!value) return kDefaultPageSize;
  if (*value < 1 || *value > static_cast<int64_t>(kMaxPageSize)) {
    return Invalid("invalid PageSize: value must be inside range [1, 100]");
  }
  return static_cast<size_t>(*value);
}

Result<size_t> BodyPageSize(const bj::object& body) {
  const bj::value* v = body.if_contains("page_size");
  if (!v || v->is_null()) return PageSize(std::nullopt);
  if (!v->is_int64() && !v->is_uint64()) return Invalid("invalid PageSize: must be an integer");
  return PageSize(v->to_number<int64_t>());
}

Result<size_t> QueryPageSize(const RequestContext& ctx) {
  auto text = ctx.request.Query("page_size");
  if (!text || text->empty()) return PageSize(std::nullopt);
  int64_t n = 0;
  auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), n);
  if (ec != std::errc() || end != text->data() + text->size()) {
    return Invalid("invalid PageSize: must be an integer");
  }
  return PageSize(n);
}

std::string QueryString(const RequestContext& ctx, std::string_view name) {
  auto v = ctx.request.Query(name);
  return v ? std::string(*v) : std::string();
}

// Tokens that page over ids: the last id of the page, base64url-encoded.
Result<std::string> DecodeIdToken(const std::string& token) {
  if (token.empty()) return std::string();
  auto decoded = Base64UrlDecode(token);
  if (!decoded) return authz::errors::InvalidContinuationToken();
  return *decoded;
}

// ---- writing OpenFGA's JSON --------------------------------------------------------------------

std::string FgaTime(int64_t unix_millis) {
  return FormatRfc3339Millis(FromUnixMillis(unix_millis));
}

bj::object StoreJson(const authz::StoreRecord& s) {
  return bj::object{{"id", s.id},
                    {"name", s.name},
                    {"created_at", FgaTime(s.created_at_ms)},
                    {"updated_at", FgaTime(s.updated_at_ms)}};
}

bj::object TupleJson(const authz::TupleKey& t) {
  bj::object o{{"user", t.user}, {"relation", t.relation}, {"object", t.object}};
  if (t.condition) {
    o["condition"] = bj::object{{"name", t.condition->name}, {"context", t.condition->context}};
  }
  return o;
}

// "user:anne" / "user:*" / "group:eng#member" -> OpenFGA's User.
bj::object UserJson(std::string_view user) {
  std::string_view object = user, relation;
  if (size_t hash = user.find('#'); hash != std::string_view::npos) {
    object = user.substr(0, hash);
    relation = user.substr(hash + 1);
  }
  size_t colon = object.find(':');
  std::string_view type = object.substr(0, colon);
  std::string_view id = colon == std::string_view::npos ? "" : object.substr(colon + 1);
  if (!relation.empty()) {
    return bj::object{{"userset", bj::object{{"type", type}, {"id", id}, {"relation", relation}}}};
  }
  if (id == "*") return bj::object{{"wildcard", bj::object{{"type", type}}}};
  return bj::object{{"object", bj::object{{"type", type}, {"id", id}}}};
}

// ---- access ------------------------------------------------------------------------------------

Result<std::shared_ptr<authz::Store>> StoreOf(authz_agent::AuthzRuntime& authz,
                                              const RequestContext& ctx) {
  return authz.stores().GetStore(ctx.principal->tenant_id, ctx.Param("store_id"));
}

// Members (not admins) may only ask about themselves, without contextual tuples.
Status MayAsk(const RequestContext& ctx, const std::string& user, bool has_contextual_tuples) {
  if (ctx.principal->IsTenantAdmin()) return Status::Ok();
  const std::string self = authz_agent::FgaUser(ctx.principal->user_id);
  if (user != self) {
    return Status::PermissionDenied("members may only ask about themselves (" + self + ")");
  }
  if (has_contextual_tuples) {
    return Status::PermissionDenied("only tenant admins may send contextual tuples");
  }
  return Status::Ok();
}

// ---- handlers ----------------------------------------------------------------------------------

Status CreateStore(authz_agent::AuthzRuntime& authz, RequestContext& ctx) {
  GH_ASSIGN_OR_RETURN(auto body, FgaBody(ctx));
  GH_ASSIGN_OR_RETURN(std::string name, Field(body, "name", "CreateStoreRequest", true));
  GH_ASSIGN_OR_RETURN(auto store, authz.stores().CreateStore(ctx.principal->tenant_id, name));
  ReplyJson(ctx, 201, StoreJson(store->record()));
  return Status::Ok();
}

Status ListStores(authz_agent::AuthzRuntime& authz, RequestContext& ctx) {
  GH_ASSIGN_OR_RETURN(size_t page, QueryPageSize(ctx));
  GH_ASSIGN_OR_RETURN(std::string after, DecodeIdToken(QueryString(ctx, "continuation_token")));
  const std::string name = QueryString(ctx, "name");
  bj::array stores;
  std::string last;
  bool more = false;
  for (const auto& s : authz.stores().ListStores(ctx.principal->tenant_id)) {
    if ((!after.empty() && s.id <= after) || (!name.empty() && s.name != name)) continue;
    if (stores.size() == page) {
      more = true;
      break;
    }
    stores.push_back(StoreJson(s));
    last = s.id;
  }
  ReplyJson(ctx, 200,
            bj::object{{"stores", std::move(stores)},
                       {"continuation_token", more ? Base64UrlEncode(last) : ""}});
  return Status::Ok();
}

Status GetStore(authz_agent::AuthzRuntime& authz, RequestContext& ctx) {
  GH_ASSIGN_OR_RETURN(auto store, StoreOf(authz, ctx));
  ReplyJson(ctx, 200, StoreJson(store->record()));
  return Status::Ok();
}

Status DeleteStore(authz_agent::AuthzRuntime& authz, RequestContext& ctx) {
  GH_RETURN_IF_ERROR(authz.stores().DeleteStore(ctx.principal->tenant_id, ctx.Param("store_id")));
  ctx.response = http::Response::NoContent();
  return Status::Ok();
}

Status WriteModel(authz_agent::AuthzRuntime& authz, RequestContext& ctx) {
  GH_ASSIGN_OR_RETURN(auto store, StoreOf(authz, ctx));
  GH_ASSIGN_OR_RETURN(auto body, FgaBody(ctx));
  GH_ASSIGN_OR_RETURN(authz::Model model, authz::ModelFromJson(bj::value(std::move(body))));
  GH_ASSIGN_OR_RETURN(std::string id, store->WriteAuthorizationModel(std::move(model)));
  ReplyJson(ctx, 201, bj::object{{"authorization_model_id", id}});
  return Status::Ok();
}

Status ListModels(authz_agent::AuthzRuntime& authz, RequestContext& ctx) {
  GH_ASSIGN_OR_RETURN(auto store, StoreOf(authz, ctx));
  GH_ASSIGN_OR_RETURN(size_t page, QueryPageSize(ctx));
  GH_ASSIGN_OR_RETURN(std::string after, DecodeIdToken(QueryString(ctx, "continuation_token")));
  auto models = store->Models();  // newest first
  size_t start = 0;
  if (!after.empty()) {
    auto it =
        std::find_if(models.begin(), models.end(), [&](const auto& m) { return m->id() == after; });
    if (it == models.end()) return authz::errors::InvalidContinuationToken();
    start = static_cast<size_t>(it - models.begin()) + 1;
  }
  bj::array out;
  size_t i = start;
  for (; i < models.size() && out.size() < page; ++i) {
    out.push_back(authz::ModelToJson(models[i]->model()));
  }
  std::string token = i < models.size() ? Base64UrlEncode(models[i - 1]->id()) : "";
  ReplyJson(ctx, 200,
            bj::object{{"authorization_models", std::move(out)}, {"continuation_token", token}});
  return Status::Ok();
}

Status GetModel(authz_agent::AuthzRuntime& authz, RequestContext& ctx) {
  GH_ASSIGN_OR_RETURN(auto store, StoreOf(authz, ctx));
  GH_ASSIGN_OR_RETURN(auto model, store->ResolveModel(ctx.Param("model_id")));
  ReplyJson(ctx, 200, bj::object{{"authorization_model", authz::ModelToJson(model->model())}});
  return Status::Ok();
}

Result<bool> IgnoreOption(const bj::object& o, std::string_view key) {
  GH_ASSIGN_OR_RETURN(std::string v, Field(o, key, "WriteRequest", false));
  if (v.empty() || v == "error") return false;
  if (v == "ignore") return true;
  return Invalid(fmt::format("invalid WriteRequest: {} must be \"error\" or \"ignore\"", key));
}

Status Write(authz_agent::AuthzRuntime& authz, RequestContext& ctx) {
  GH_ASSIGN_OR_RETURN(auto store, StoreOf(authz, ctx));
  GH_ASSIGN_OR_RETURN(auto body, FgaBody(ctx));
  authz::WriteRequest request;
  GH_ASSIGN_OR_RETURN(request.model_id,
                      Field(body, "authorization_model_id", "WriteRequest", false));
  GH_ASSIGN_OR_RETURN(const bj::object* writes, ObjectField(body, "writes", "WriteRequest", false));
  if (writes) {
    GH_ASSIGN_OR_RETURN(const bj::array* keys, ArrayField(*writes, "tuple_keys", "WriteRequest"));
    GH_ASSIGN_OR_RETURN(request.writes, ParseTupleKeys(keys, "WriteRequestWrites.TupleKeys", true));
    GH_ASSIGN_OR_RETURN(request.ignore_duplicate_writes, IgnoreOption(*writes, "on_duplicate"));
  }
  GH_ASSIGN_OR_RETURN(const bj::object* deletes,
                      ObjectField(body, "deletes", "WriteRequest", false));
  if (deletes) {
    GH_ASSIGN_OR_RETURN(const bj::array* keys, ArrayField(*deletes, "tuple_keys", "WriteRequest"));
    GH_ASSIGN_OR_RETURN(request.deletes,
                        ParseTupleKeys(keys, "WriteRequestDeletes.TupleKeys", false));
    GH_ASSIGN_OR_RETURN(request.ignore_missing_deletes, IgnoreOption(*deletes, "on_missing"));
  }
  GH_RETURN_IF_ERROR(store->Write(request));
  ReplyJson(ctx, 200, bj::object());
  return Status::Ok();
}

Status Read(authz_agent::AuthzRuntime& authz, RequestContext& ctx) {
  GH_ASSIGN_OR_RETURN(auto store, StoreOf(authz, ctx));
  GH_ASSIGN_OR_RETURN(auto body, FgaBody(ctx));
  authz::ReadRequest request;
  GH_ASSIGN_OR_RETURN(const bj::object* key, ObjectField(body, "tuple_key", "ReadRequest", false));
  if (key) {
    GH_ASSIGN_OR_RETURN(request.user, Field(*key, "user", "ReadRequestTupleKey", false));
    GH_ASSIGN_OR_RETURN(request.relation, Field(*key, "relation", "ReadRequestTupleKey", false));
    GH_ASSIGN_OR_RETURN(request.object, Field(*key, "object", "ReadRequestTupleKey", false));
  }
  GH_ASSIGN_OR_RETURN(request.page_size, BodyPageSize(body));
  GH_ASSIGN_OR_RETURN(request.continuation_token,
                      Field(body, "continuation_token", "ReadRequest", false));
  GH_ASSIGN_OR_RETURN(auto page, store->Read(request));
  GH_ASSIGN_OR_RETURN(auto written, authz.stores().WrittenAt(ctx.principal->tenant_id,
                                                             store->record().id, page.tuples));
  bj::array tuples;
  for (size_t i = 0; i < page.tuples.size(); ++i) {
    tuples.push_back(
        bj::object{{"key", TupleJson(page.tuples[i])}, {"timestamp", FgaTime(written[i])}});
  }
  ReplyJson(
      ctx, 200,
      bj::object{{"tuples", std::move(tuples)}, {"continuation_token", page.continuation_token}});
  return Status::Ok();
}

Status ReadChanges(authz_agent::AuthzRuntime& authz, RequestContext& ctx) {
  GH_ASSIGN_OR_RETURN(size_t page_size, QueryPageSize(ctx));
  int64_t start_ms = 0;
  if (std::string start = QueryString(ctx, "start_time"); !start.empty()) {
    auto t = ParseRfc3339(start);
    if (!t) return Invalid("invalid ReadChangesRequest.StartTime: not an RFC 3339 timestamp");
    start_ms = ToUnixMillis(*t);
  }
  GH_ASSIGN_OR_RETURN(auto page,
                      authz.stores().ReadChanges(ctx.principal->tenant_id, ctx.Param("store_id"),
                                                 QueryString(ctx, "type"), start_ms, page_size,
                                                 QueryString(ctx, "continuation_token")));
  bj::array changes;
  for (const auto& c : page.changes) {
    changes.push_back(bj::object{
        {"tuple_key", TupleJson(c.tuple)},
        {"operation", c.operation == authz::TupleOperation::kWrite ? "TUPLE_OPERATION_WRITE"
                                                                   : "TUPLE_OPERATION_DELETE"},
        {"timestamp", FgaTime(c.timestamp_ms)}});
  }
  ReplyJson(
      ctx, 200,
      bj::object{{"changes", std::move(changes)}, {"continuation_token", page.continuation_token}});
  return Status::Ok();
}

// One check of Check or BatchCheck: tuple_key, contextual_tuples, context.
Result<authz::CheckRequest> ParseCheck(const RequestContext& ctx, const bj::object& o,
                                       std::string_view where) {
  authz::CheckRequest request;
  GH_ASSIGN_OR_RETURN(const bj::object* key, ObjectField(o, "tuple_key", where, true));
  GH_ASSIGN_OR_RETURN(request.user, Field(*key, "user", "CheckRequestTupleKey", true));
  GH_ASSIGN_OR_RETURN(request.relation, Field(*key, "relation", "CheckRequestTupleKey", true));
  GH_ASSIGN_OR_RETURN(request.object, Field(*key, "object", "CheckRequestTupleKey", true));
  GH_ASSIGN_OR_RETURN(request.contextual_tuples, ParseContextualTuples(o));
  GH_ASSIGN_OR_RETURN(request.context, ParseContext(o));
  GH_RETURN_IF_ERROR(MayAsk(ctx, request.user, !request.contextual_tuples.empty()));
  return request;
}

Status Check(authz_agent::AuthzRuntime& authz, RequestContext& ctx) {
  GH_ASSIGN_OR_RETURN(auto store, StoreOf(authz, ctx));
  GH_ASSIGN_OR_RETURN(auto body, FgaBody(ctx));
  GH_ASSIGN_OR_RETURN(auto request, ParseCheck(ctx, body, "CheckRequest"));
  GH_ASSIGN_OR_RETURN(request.model_id,
                      Field(body, "authorization_model_id", "CheckRequest", false));
  GH_ASSIGN_OR_RETURN(bool allowed, store->Check(request));
  ReplyJson(ctx, 200, bj::object{{"allowed", allowed}, {"resolution", ""}});
  return Status::Ok();
}

Status BatchCheck(authz_agent::AuthzRuntime& authz, RequestContext& ctx) {
  GH_ASSIGN_OR_RETURN(auto store, StoreOf(authz, ctx));
  GH_ASSIGN_OR_RETURN(auto body, FgaBody(ctx));
  GH_ASSIGN_OR_RETURN(std::string model_id,
                      Field(body, "authorization_model_id", "BatchCheckRequest", false));
  GH_ASSIGN_OR_RETURN(const bj::array* checks, ArrayField(body, "checks", "BatchCheckRequest"));
  if (!checks || checks->empty()) {
    return Invalid("invalid BatchCheckRequest.Checks: value must contain at least 1 item(s)");
  }
  std::vector<authz::CheckRequest> requests;
  std::vector<std::string> ids;
  std::set<std::string> seen;
  for (const auto& item : *checks) {
    if (!item.is_object()) return Invalid("invalid BatchCheckItem: must be an object");
    GH_ASSIGN_OR_RETURN(auto request, ParseCheck(ctx, item.get_object(), "BatchCheckItem"));
    request.model_id = model_id;
    GH_ASSIGN_OR_RETURN(std::string id,
                        Field(item.get_object(), "correlation_id", "BatchCheckItem", true));
    if (id.size() > 36 || !seen.insert(id).second) {
      return Invalid("invalid BatchCheckItem.CorrelationId: '" + id +
                     "' must be unique and at most 36 characters");
    }
    requests.push_back(std::move(request));
    ids.push_back(std::move(id));
  }
  GH_ASSIGN_OR_RETURN(auto results, store->BatchCheck(requests));
  bj::object out;
  for (size_t i = 0; i < results.size(); ++i) {
    if (results[i].ok()) {
      out[ids[i]] = bj::object{{"allowed", *results[i]}};
      continue;
    }
    const Status& s = results[i].status();
    bj::object error{{"message", s.message()}};
    if (s.code() == StatusCode::kInternal) {
      error["internal_error"] = "internal_error";
      error["message"] = "Internal Server Error";
    } else {
      error["input_error"] = s.error_code();
    }
    out[ids[i]] = bj::object{{"allowed", false}, {"error", std::move(error)}};
  }
  ReplyJson(ctx, 200, bj::object{{"result", std::move(out)}});
  return Status::Ok();
}

Status ListObjects(authz_agent::AuthzRuntime& authz, RequestContext& ctx) {
  GH_ASSIGN_OR_RETURN(auto store, StoreOf(authz, ctx));
  GH_ASSIGN_OR_RETURN(auto body, FgaBody(ctx));
  authz::ListObjectsRequest request;
  GH_ASSIGN_OR_RETURN(request.model_id,
                      Field(body, "authorization_model_id", "ListObjectsRequest", false));
  GH_ASSIGN_OR_RETURN(request.type, Field(body, "type", "ListObjectsRequest", true));
  GH_ASSIGN_OR_RETURN(request.relation, Field(body, "relation", "ListObjectsRequest", true));
  GH_ASSIGN_OR_RETURN(request.user, Field(body, "user", "ListObjectsRequest", true));
  GH_ASSIGN_OR_RETURN(request.contextual_tuples, ParseContextualTuples(body));
  GH_ASSIGN_OR_RETURN(request.context, ParseContext(body));
  GH_RETURN_IF_ERROR(MayAsk(ctx, request.user, !request.contextual_tuples.empty()));
  // OpenFGA answers one bounded list (its default maximum is 1000 objects): the first page.
  GH_ASSIGN_OR_RETURN(auto page, store->ListObjects(request));
  bj::array objects;
  for (auto& o : page.objects) objects.emplace_back(std::move(o));
  ReplyJson(ctx, 200, bj::object{{"objects", std::move(objects)}});
  return Status::Ok();
}

Status ListUsers(authz_agent::AuthzRuntime& authz, RequestContext& ctx) {
  GH_ASSIGN_OR_RETURN(auto store, StoreOf(authz, ctx));
  GH_ASSIGN_OR_RETURN(auto body, FgaBody(ctx));
  authz::ListUsersRequest request;
  GH_ASSIGN_OR_RETURN(request.model_id,
                      Field(body, "authorization_model_id", "ListUsersRequest", false));
  GH_ASSIGN_OR_RETURN(const bj::object* object,
                      ObjectField(body, "object", "ListUsersRequest", true));
  GH_ASSIGN_OR_RETURN(std::string type, Field(*object, "type", "ListUsersRequest.Object", true));
  GH_ASSIGN_OR_RETURN(std::string id, Field(*object, "id", "ListUsersRequest.Object", true));
  request.object = type + ":" + id;
  GH_ASSIGN_OR_RETURN(request.relation, Field(body, "relation", "ListUsersRequest", true));
  GH_ASSIGN_OR_RETURN(const bj::array* filters,
                      ArrayField(body, "user_filters", "ListUsersRequest"));
  if (filters) {
    for (const auto& f : *filters) {
      if (!f.is_object()) return Invalid("invalid ListUsersRequest.UserFilters: not an object");
      authz::UserTypeFilter filter;
      GH_ASSIGN_OR_RETURN(filter.type, Field(f.get_object(), "type", "UserTypeFilter", true));
      GH_ASSIGN_OR_RETURN(filter.relation,
                          Field(f.get_object(), "relation", "UserTypeFilter", false));
      request.user_filters.push_back(std::move(filter));
    }
  }
  GH_ASSIGN_OR_RETURN(const bj::array* contextual,
                      ArrayField(body, "contextual_tuples", "ListUsersRequest"));
  GH_ASSIGN_OR_RETURN(request.contextual_tuples,
                      ParseTupleKeys(contextual, "ListUsersRequest.ContextualTuples", true));
  GH_ASSIGN_OR_RETURN(request.context, ParseContext(body));
  GH_ASSIGN_OR_RETURN(auto result, store->ListUsers(request));
  bj::array users;
  for (const auto& u : result.users) users.push_back(UserJson(u));
  ReplyJson(ctx, 200, bj::object{{"users", std::move(users)}});
  return Status::Ok();
}

Status Expand(authz_agent::AuthzRuntime& authz, RequestContext& ctx) {
  GH_ASSIGN_OR_RETURN(auto store, StoreOf(authz, ctx));
  GH_ASSIGN_OR_RETURN(auto body, FgaBody(ctx));
  GH_ASSIGN_OR_RETURN(const bj::object* key, ObjectField(body, "tuple_key", "ExpandRequest", true));
  GH_ASSIGN_OR_RETURN(std::string relation, Field(*key, "relation", "ExpandRequestTupleKey", true));
  GH_ASSIGN_OR_RETURN(std::string object, Field(*key, "object", "ExpandRequestTupleKey", true));
  GH_ASSIGN_OR_RETURN(std::string model_id,
                      Field(body, "authorization_model_id", "ExpandRequest", false));
  GH_ASSIGN_OR_RETURN(auto contextual, ParseContextualTuples(body));
  if (!contextual.empty()) return Invalid("Expand does not support contextual tuples here");
  GH_ASSIGN_OR_RETURN(bj::value tree, store->Expand(object, relation, model_id));
  ReplyJson(ctx, 200, tree);
  return Status::Ok();
}

}  // namespace

void RegisterFgaRoutes(pipeline::Router& router, authz_agent::AuthzRuntime& authz) {
  using Handler = Status (*)(authz_agent::AuthzRuntime&, RequestContext&);
  struct Entry {
    const char* method;
    const char* pattern;
    bool admin;
    Handler handler;
  };
  static constexpr Entry kRoutes[] = {
      {"POST", "/stores", true, CreateStore},
      {"GET", "/stores", false, ListStores},
      {"GET", "/stores/{store_id}", false, GetStore},
      {"DELETE", "/stores/{store_id}", true, DeleteStore},
      {"POST", "/stores/{store_id}/authorization-models", true, WriteModel},
      {"GET", "/stores/{store_id}/authorization-models", false, ListModels},
      {"GET", "/stores/{store_id}/authorization-models/{model_id}", false, GetModel},
      {"POST", "/stores/{store_id}/write", true, Write},
      {"POST", "/stores/{store_id}/read", true, Read},
      {"GET", "/stores/{store_id}/changes", true, ReadChanges},
      {"POST", "/stores/{store_id}/check", false, Check},
      {"POST", "/stores/{store_id}/batch-check", false, BatchCheck},
      {"POST", "/stores/{store_id}/list-objects", false, ListObjects},
      {"POST", "/stores/{store_id}/list-users", true, ListUsers},
      {"POST", "/stores/{store_id}/expand", true, Expand},
  };
  for (const Entry& e : kRoutes) {
    Handler handler = e.handler;
    router.Add({.method = e.method,
                .pattern = std::string("/fga") + e.pattern,
                .tenant_admin = e.admin,
                .error_response = FgaErrorResponse,
                .sync = [&authz, handler](RequestContext& ctx) { return handler(authz, ctx); }});
  }
}

}  // namespace gh::api

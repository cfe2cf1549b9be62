#include "tools/http_api_tool.h"

#include <fmt/format.h>
#include <boost/json.hpp>

#include <set>

#include "common/log.h"
#include "common/strings.h"
#include "storage/vault_repository.h"
#include "vault/oauth_wire.h"

namespace gh::tools {

namespace bj = boost::json;
namespace st = gh::storage;

namespace {

constexpr size_t kMaxSchemaBytes = 16 * 1024;

Status Invalid(std::string message) {
  return Status::Unprocessable(std::move(message), "invalid_tool");
}

bool ValidName(std::string_view n) {
  if (n.empty() || n.size() > 64 || !(n[0] >= 'a' && n[0] <= 'z')) return false;
  for (char c : n)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  return true;
}

bool ValidPlaceholder(std::string_view n) {
  if (n.empty() || n.size() > 64) return false;
  for (char c : n)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'))
      return false;
  return true;
}

bool HeaderToken(std::string_view n) {
  if (n.empty() || n.size() > 64) return false;
  for (char c : n)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
          c == '_'))
      return false;
  return true;
}

std::string Str(const bj::object& o, const char* key) {
  const bj::value* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

// The {placeholders} of a URL template, in order, with where each starts.
Result<std::vector<std::pair<std::string, size_t>>> Placeholders(std::string_view tmpl) {
  std::vector<std::pair<std::string, size_t>> out;
  for (size_t i = 0; i < tmpl.size(); ++i) {
    if (tmpl[i] == '}') return Invalid("url has an unmatched '}'");
    if (tmpl[i] != '{') continue;
    size_t close = tmpl.find('}', i);
    if (close == std::string_view::npos) return Invalid("url has an unmatched '{'");
    std::string name(tmpl.substr(i + 1, close - i - 1));
    if (!ValidPlaceholder(name))
      return Invalid("url placeholder '{" + Printable(name, 64) + "}' is not a valid name");
    out.emplace_back(name, i);
    i = close;
  }
  return out;
}

Result<agent::AuthzCheck> ParseCheck(const bj::value& v, const char* what) {
  if (!v.is_object()) return Invalid(std::string("authorization.") + what + " must be an object");
  agent::AuthzCheck c{Str(v.get_object(), "relation"), Str(v.get_object(), "object")};
  if (c.relation.empty() || c.object.empty() || c.relation.size() > 64 || c.object.size() > 256)
    return Invalid(std::string("authorization.") + what + " needs a relation and an object");
  return c;
}

std::string ValueText(const bj::value& v) {
  if (v.is_string()) return std::string(v.get_string());
  return bj::serialize(v);
}

class HttpApiTool final : public agent::Tool {
 public:
  HttpApiTool(HttpToolDefinition def, const HttpToolOptions& options, vault::TokenVault& vault,
              std::shared_ptr<http::HttpClient> client)
      : def_(std::move(def)), options_(options), vault_(vault), client_(std::move(client)) {
    spec_ = {def_.name, def_.description, def_.parameters_schema};
  }
  const agent::ToolSpec& spec() const override { return spec_; }
  // Registered by the tenant's admin for the tenant: every plan may use it.
  bool AllowedBy(const tenancy::Plan&) const override { return true; }
  const agent::ToolAuthorization& authorization() const override { return def_.authorization; }
  const agent::ApprovalRequirement& approval() const override { return def_.approval; }

  agent::Awaitable<agent::ToolResult> Run(const agent::TenantContext& context,
                                          const bj::object& args) override {
    auto fail = [](std::string message) {
      return agent::ToolResult{bj::serialize(bj::object{{"error", std::move(message)}}), true};
    };
    // The URL, with the arguments it names percent-encoded in.
    std::string url;
    std::set<std::string> used;
    const std::string& t = def_.url;
    for (size_t i = 0; i < t.size(); ++i) {
      if (t[i] != '{') {
        url.push_back(t[i]);
        continue;
      }
      size_t close = t.find('}', i);
      std::string name = t.substr(i + 1, close - i - 1);
      const bj::value* v = args.if_contains(name);
      if (!v || v->is_null() || v->is_object() || v->is_array())
        co_return fail("argument '" + name + "' is required in the URL");
      url += vault::PercentEncode(ValueText(*v));
      used.insert(name);
      i = close;
    }
    http::ClientRequest req;
    req.method = def_.method;
    req.timeout = options_.timeout;
    req.max_response_bytes = 1024 * 1024;
    for (const auto& [k, v] : def_.headers) req.headers.Set(k, v);
    req.headers.Set("accept", "application/json");
    bj::object rest;
    for (const auto& [k, v] : args)
      if (!used.count(std::string(k))) rest[k] = v;
    if (def_.method == "GET" || def_.method == "DELETE") {
      std::vector<std::pair<std::string, std::string>> query;
      for (const auto& [k, v] : rest)
        if (!v.is_null()) query.emplace_back(std::string(k), ValueText(v));
      url = vault::AppendQuery(url, query);
    } else {
      req.headers.Set("content-type", "application/json");
      req.body = bj::serialize(rest);
    }
    req.url = std::move(url);
    std::unique_ptr<http::HttpClient> credentialed;
    http::HttpClient* client = client_.get();
    if (!def_.connection.empty()) {
      credentialed =
          vault_.CredentialClientFor(context.tenant_id, context.user_id, def_.connection);
      client = credentialed.get();
    }
    auto resp = co_await client->Send(std::move(req));
    if (!resp.ok()) {
      const std::string& code = resp.status().error_code();
      if (code == "account_not_connected")
        co_return fail(
            "the user has not connected their '" + def_.connection +
            "' account; ask them to connect it on the Connected accounts page, then try again");
      if (code == "reconsent_required")
        co_return fail("the user's '" + def_.connection +
                       "' account needs to be connected again (the provider withdrew access); ask "
                       "them to reconnect it "
                       "on the Connected accounts page");
      log::Warn("HTTP API tool call failed", {{"tenant_id", context.tenant_id.value()},
                                              {"tool", def_.name},
                                              {"error", resp.status().message()}});
      co_return fail("the API could not be reached");
    }
    bj::value body;
    boost::system::error_code ec;
    std::string text = resp->body;
    if (text.size() > options_.max_result_bytes) {
      text.resize(options_.max_result_bytes);
      body = bj::string(text + "…");
    } else {
      body = bj::parse(text, ec);
      if (ec) body = bj::string(text);
    }
    bj::object out{{"status", resp->status}, {"body", std::move(body)}};
    co_return agent::ToolResult{bj::serialize(out), resp->status >= 400};
  }

 private:
  HttpToolDefinition def_;
  HttpToolOptions options_;
  vault::TokenVault& vault_;
  std::shared_ptr<http::HttpClient> client_;
  agent::ToolSpec spec_;
};

}  // namespace

bj::object HttpToolDefinition::ToJson() const {
  boost::system::error_code ec;
  bj::value schema = bj::parse(parameters_schema, ec);
  bj::object headers_json;
  for (const auto& [k, v] : headers) headers_json[k] = v;
  bj::object o{{"name", name},
               {"description", description},
               {"method", method},
               {"url", url},
               {"parameters", ec ? bj::value(bj::object{}) : schema},
               {"connection", connection.empty() ? bj::value(nullptr) : bj::value(connection)},
               {"headers", std::move(headers_json)}};
  bj::object authz{{"use", bj::object{{"relation", authorization.use.relation},
                                      {"object", authorization.use.object}}}};
  if (!authorization.call.empty())
    authz["call"] = bj::object{{"relation", authorization.call.relation},
                               {"object", authorization.call.object}};
  if (!authorization.needs.empty()) {
    bj::array needs;
    for (const auto& n : authorization.needs) needs.emplace_back(n);
    authz["needs"] = std::move(needs);
  }
  o["authorization"] = std::move(authz);
  o["approval"] = approval.empty()
                      ? bj::value(nullptr)
                      : bj::value(bj::object{{"when", approval.when},
                                             {"binding_message", approval.binding_message},
                                             {"expires_in_seconds", approval.expires_in_seconds}});
  return o;
}

Result<HttpToolDefinition> ParseHttpToolDefinition(const bj::object& json,
                                                   const HttpToolOptions& options) {
  HttpToolDefinition d;
  d.name = Str(json, "name");
  if (!ValidName(d.name))
    return Invalid("name must be 1-64 characters of a-z, 0-9 and '_', starting with a letter");
  d.description = Str(json, "description");
  if (d.description.empty() || d.description.size() > 1000)
    return Invalid(
        "description is required (at most 1000 characters): the model reads it to decide when to "
        "call");
  d.method = Str(json, "method");
  if (d.method.empty()) d.method = "GET";
  static const std::set<std::string> kMethods = {"GET", "POST", "PUT", "PATCH", "DELETE"};
  if (!kMethods.count(d.method)) return Invalid("method must be GET, POST, PUT, PATCH or DELETE");
  d.url = Str(json, "url");
  GH_ASSIGN_OR_RETURN(auto holes, Placeholders(d.url));
  // The scheme and host are fixed by the admin: arguments fill in path and query only.
  size_t scheme_end = d.url.find("://");
  size_t host_end = scheme_end == std::string::npos ? std::string::npos
                                                    : d.url.find_first_of("/?", scheme_end + 3);
  for (const auto& [name, pos] : holes)
    if (host_end == std::string::npos || pos < host_end)
      return Invalid(
          "url placeholders may appear only in the path and query, not in the scheme or host");
  std::string probe = d.url;
  for (auto it = holes.rbegin(); it != holes.rend(); ++it)
    probe.replace(it->second, it->first.size() + 2, "x");
  GH_RETURN_IF_ERROR(vault::CheckEndpointUrl(probe, options.allow_insecure_http, "url"));

  const bj::value* params = json.if_contains("parameters");
  bj::object schema =
      params && params->is_object() ? params->get_object() : bj::object{{"type", "object"}};
  if (!schema.contains("type")) schema["type"] = "object";
  if (!schema.at("type").is_string() || schema.at("type").get_string() != "object")
    return Invalid("parameters must be a JSON Schema of type object");
  if (!schema.contains("properties")) schema["properties"] = bj::object{};
  if (!schema.at("properties").is_object())
    return Invalid("parameters.properties must be an object");
  d.parameters_schema = bj::serialize(schema);
  if (d.parameters_schema.size() > kMaxSchemaBytes) return Invalid("parameters is too large");
  std::set<std::string> required;
  if (const bj::value* r = schema.if_contains("required"); r && r->is_array())
    for (const auto& x : r->get_array())
      if (x.is_string()) required.insert(std::string(x.get_string()));
  for (const auto& [name, pos] : holes) {
    if (!schema.at("properties").get_object().contains(name) || !required.count(name))
      return Invalid("url placeholder '{" + name + "}' must be a required property of parameters");
  }

  d.connection = Str(json, "connection");
  if (d.connection.size() > 63) return Invalid("connection is not a connection id");

  if (const bj::value* h = json.if_contains("headers"); h && !h->is_null()) {
    if (!h->is_object()) return Invalid("headers must be an object of strings");
    static const std::set<std::string> kForbidden = {
        "authorization",      "cookie", "host", "content-length", "transfer-encoding", "connection",
        "proxy-authorization"};
    for (const auto& [k, v] : h->get_object()) {
      std::string key = ToLower(k);
      if (!HeaderToken(key) || kForbidden.count(key) || !v.is_string() ||
          v.get_string().size() > 1024 ||
          Printable(v.get_string(), 1024) != std::string_view(v.get_string()))
        return Invalid("header '" + Printable(key, 64) + "' cannot be set");
      d.headers.emplace_back(key, std::string(v.get_string()));
    }
    if (d.headers.size() > 20) return Invalid("at most 20 headers");
  }

  d.authorization.use = {"can_use", "tool:{name}"};
  if (const bj::value* a = json.if_contains("authorization"); a && !a->is_null()) {
    if (!a->is_object()) return Invalid("authorization must be an object");
    const bj::object& ao = a->get_object();
    if (const bj::value* u = ao.if_contains("use")) {
      GH_ASSIGN_OR_RETURN(d.authorization.use, ParseCheck(*u, "use"));
    }
    if (const bj::value* c = ao.if_contains("call")) {
      GH_ASSIGN_OR_RETURN(d.authorization.call, ParseCheck(*c, "call"));
    }
    if (const bj::value* n = ao.if_contains("needs"); n && n->is_array())
      for (const auto& x : n->get_array())
        if (x.is_string()) d.authorization.needs.emplace_back(x.get_string());
  }
  if (const bj::value* ap = json.if_contains("approval"); ap && !ap->is_null()) {
    if (!ap->is_object()) return Invalid("approval must be an object");
    const bj::object& o = ap->get_object();
    d.approval.when = Str(o, "when");
    if (d.approval.when.empty())
      return Invalid("approval.when is required (\"always\" or a condition)");
    d.approval.binding_message = Str(o, "binding_message");
    if (d.approval.binding_message.size() > 200)
      return Invalid("approval.binding_message is too long");
    if (const bj::value* e = o.if_contains("expires_in_seconds"); e && e->is_int64()) {
      if (e->get_int64() < 0) return Invalid("approval.expires_in_seconds must not be negative");
      d.approval.expires_in_seconds = e->get_int64();
    }
  }
  return d;
}

HttpToolCatalog::HttpToolCatalog(HttpToolOptions options, st::Database& db, const Clock& clock,
                                 vault::TokenVault& vault, std::shared_ptr<http::HttpClient> client,
                                 ReservedNames reserved)
    : options_(options),
      db_(db),
      clock_(clock),
      vault_(vault),
      client_(std::move(client)),
      reserved_(std::move(reserved)) {}

std::shared_ptr<agent::Tool> HttpToolCatalog::Build(const HttpToolDefinition& def) {
  return std::make_shared<HttpApiTool>(def, options_, vault_, client_);
}

void HttpToolCatalog::Invalidate(const TenantId& tenant) {
  std::lock_guard lock(mu_);
  cache_.erase(tenant.value());
}

std::vector<std::shared_ptr<agent::Tool>> HttpToolCatalog::ToolsFor(
    const agent::TenantContext& context) {
  const auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard lock(mu_);
    auto it = cache_.find(context.tenant_id.value());
    if (it != cache_.end() && now - it->second.loaded < options_.cache_ttl) return it->second.tools;
  }
  auto defs = List(context.tenant_id);
  if (!defs.ok()) {
    log::Warn("HTTP API tools unavailable",
              {{"tenant_id", context.tenant_id.value()}, {"error", defs.status().message()}});
    return {};
  }
  std::vector<std::shared_ptr<agent::Tool>> tools;
  for (const auto& d : *defs) tools.push_back(Build(d));
  std::lock_guard lock(mu_);
  if (cache_.size() > 10'000) cache_.clear();
  cache_[context.tenant_id.value()] = {now, tools};
  return tools;
}

Result<std::vector<HttpToolDefinition>> HttpToolCatalog::List(const TenantId& tenant) {
  std::vector<st::HttpToolRecord> records;
  GH_RETURN_IF_ERROR(db_.Read([&](st::Tx& tx) -> Status {
    GH_ASSIGN_OR_RETURN(records, st::http_tools::List(tx, tenant));
    return Status::Ok();
  }));
  std::vector<HttpToolDefinition> out;
  for (const auto& r : records) {
    boost::system::error_code ec;
    bj::value v = bj::parse(r.definition, ec);
    if (ec || !v.is_object()) continue;
    HttpToolOptions lenient = options_;
    lenient.allow_insecure_http = true;  // stored definitions were checked when saved
    auto d = ParseHttpToolDefinition(v.get_object(), lenient);
    if (d.ok()) out.push_back(std::move(d).value());
  }
  return out;
}

Result<HttpToolDefinition> HttpToolCatalog::Get(const TenantId& tenant, const std::string& name) {
  GH_ASSIGN_OR_RETURN(auto all, List(tenant));
  for (auto& d : all)
    if (d.name == name) return d;
  return Status::NotFound("no such tool", "tool_not_found");
}

Result<HttpToolDefinition> HttpToolCatalog::Put(const TenantId& tenant, const bj::object& json,
                                                bool must_be_new) {
  GH_ASSIGN_OR_RETURN(HttpToolDefinition def, ParseHttpToolDefinition(json, options_));
  if (reserved_ && reserved_(def.name))
    return Invalid("'" + def.name + "' is the name of a built-in tool");
  if (!def.connection.empty()) {
    auto conn = vault_.GetConnection(tenant, def.connection);
    if (!conn.ok())
      return Invalid("connection '" + def.connection + "' does not exist in this tenant");
  }
  const int64_t now = clock_.NowUnixMillis();
  GH_RETURN_IF_ERROR(db_.Write([&](st::Tx& tx) -> Status {
    GH_ASSIGN_OR_RETURN(auto existing, st::http_tools::Get(tx, tenant, def.name));
    if (existing && must_be_new)
      return Status::Conflict("a tool with this name exists", "tool_exists");
    return st::http_tools::Upsert(tx, {tenant, def.name, bj::serialize(def.ToJson()),
                                       existing ? existing->created_at : now, now});
  }));
  Invalidate(tenant);
  log::Info("HTTP API tool saved", {{"tenant_id", tenant.value()}, {"tool", def.name}});
  return def;
}

Status HttpToolCatalog::Delete(const TenantId& tenant, const std::string& name) {
  bool deleted = false;
  GH_RETURN_IF_ERROR(db_.Write([&](st::Tx& tx) -> Status {
    GH_ASSIGN_OR_RETURN(deleted, st::http_tools::Delete(tx, tenant, name));
    return Status::Ok();
  }));
  Invalidate(tenant);
  if (!deleted) return Status::NotFound("no such tool", "tool_not_found");
  return Status::Ok();
}

}  // namespace gh::tools

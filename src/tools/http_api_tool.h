// The generic HTTP API tool: a tenant admin registers a tool by describing an HTTP call — method,
// URL template, JSON Schema of the arguments, the connection whose token it uses, and its
// authorization and approval rules — and the agent can call it like any built-in tool.
//
// Definition (JSON, as stored and as the admin API takes it):
//   {"name": "send_email", "description": "...", "method": "POST",
//    "url": "https://api.example.com/users/{user_id}/messages",   // {arg} only after the host
//    "parameters": {"type": "object", "properties": {...}, "required": [...]},
//    "connection": "google",                  // optional: the user's token for it is added
//    "headers": {"x-api-version": "2"},       // optional static headers (never Authorization)
//    "authorization": {"call": {"relation": "can_send", "object": "mailbox:{arguments.to}"}},
//    "approval": {"when": "always" | "<CEL over arguments>", "binding_message": "...",
//                 "expires_in_seconds": 600}}
// Arguments named in the URL are percent-encoded into it; the rest go in the query (GET, DELETE)
// or as a JSON object body (POST, PUT, PATCH). The model gets {status, body} (body parsed when
// JSON, cut to a bounded size); HTTP errors are tool errors. Redirects are not followed, so a
// token never reaches another host. The tool never sees the token: the vault's credential client
// adds it at the moment of the call.
//
// HttpToolCatalog is the agent's TenantToolSource for these tools: definitions are cached per
// tenant for a few seconds and invalidated on every change made through it. Thread-safe.
#pragma once

#include <boost/json/object.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "agent/tool.h"
#include "common/clock.h"
#include "http/client.h"
#include "storage/database.h"
#include "vault/vault.h"

namespace gh::tools {

struct HttpToolDefinition {
  std::string name;
  std::string description;
  std::string method;
  std::string url;
  std::string parameters_schema;  // JSON text
  std::string connection;         // empty: no credential
  std::vector<std::pair<std::string, std::string>> headers;
  agent::ToolAuthorization authorization;
  agent::ApprovalRequirement approval;

  boost::json::object ToJson() const;
};

struct HttpToolOptions {
  bool allow_insecure_http = false;  // http:// URLs (development and tests only)
  std::chrono::milliseconds timeout{15'000};
  size_t max_result_bytes = 16 * 1024;
  std::chrono::milliseconds cache_ttl{5'000};
};

// Parses and checks a definition (names, URL template, schema, rules). Does not check that the
// connection exists (the catalog does).
Result<HttpToolDefinition> ParseHttpToolDefinition(const boost::json::object& json,
                                                   const HttpToolOptions& options);

// The names that built-in tools use cannot be taken by a tenant's tool.
using ReservedNames = std::function<bool(const std::string&)>;

class HttpToolCatalog final : public agent::TenantToolSource {
 public:
  HttpToolCatalog(HttpToolOptions options, storage::Database& db, const Clock& clock,
                  vault::TokenVault& vault, std::shared_ptr<http::HttpClient> client,
                  ReservedNames reserved);

  std::vector<std::shared_ptr<agent::Tool>> ToolsFor(const agent::TenantContext& context) override;

  Result<std::vector<HttpToolDefinition>> List(const TenantId& tenant);
  Result<HttpToolDefinition> Get(const TenantId& tenant, const std::string& name);
  // Creates or replaces. `name`, when given, must match the definition's.
  Result<HttpToolDefinition> Put(const TenantId& tenant, const boost::json::object& json,
                                 bool must_be_new);
  Status Delete(const TenantId& tenant, const std::string& name);

 private:
  std::shared_ptr<agent::Tool> Build(const HttpToolDefinition& def);
  void Invalidate(const TenantId& tenant);

  HttpToolOptions options_;
  storage::Database& db_;
  const Clock& clock_;
  vault::TokenVault& vault_;
  std::shared_ptr<http::HttpClient> client_;
  ReservedNames reserved_;
  struct Cached {
    std::chrono::steady_clock::time_point loaded;
    std::vector<std::shared_ptr<agent::Tool>> tools;
  };
  std::mutex mu_;
  std::map<std::string, Cached> cache_;
};

}  // namespace gh::tools

// ChatService: sessions and chat turns for a tenant's users. A turn resolves (or opens) the
// session, marks it busy (a second concurrent turn gets 409 session_busy), loads the history, runs
// the agent with the tenant context, and then commits in one transaction: the user's message, the
// agent's messages, the usage record, the session's activity and the quota settlement. A turn that
// failed or whose client went away is recorded too, settled on what it actually consumed.
// Thread-safe; knows nothing of HTTP.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agent/agent.h"
#include "agent/model_registry.h"
#include "common/clock.h"
#include "common/random.h"
#include "identity/principal.h"
#include "metering/price_catalog.h"
#include "storage/database.h"
#include "storage/records.h"
#include "tenancy/plan.h"
#include "tenancy/quota.h"

namespace gh::chat {

class ChatEvents : public agent::AgentEvents {
 public:
  // Called once the session and ids are known, before the model runs.
  virtual agent::Awaitable<Status> OnStart(const SessionId& session, const MessageId& message, const TraceId& trace) = 0;
};

struct ChatRequest {
  identity::Principal principal;
  const tenancy::Plan* plan = nullptr;
  std::string tenant_name;
  std::string message;
  std::optional<SessionId> session_id;
  std::optional<std::string> model;  // a registered model name; the plan's default otherwise
  TraceId trace_id;
  // Extra history supplied by the caller instead of the stored session (OpenAI-compatible API).
  std::optional<std::vector<agent::ChatMessage>> history;
};

struct ToolCallSummary {
  std::string id, name, arguments, result;
  bool is_error = false;
};

struct ChatOutcome {
  SessionId session_id;
  MessageId message_id;
  TraceId trace_id;
  std::string response;
  std::string model;
  agent::Usage usage;
  int64_t latency_ms = 0;
  std::vector<ToolCallSummary> tool_calls;
};

class ChatService {
 public:
  ChatService(storage::Database& db, const Clock& clock, Random& random, const agent::ModelRegistry& models,
              const agent::ToolRegistry& tools, tenancy::QuotaService& quota, metering::PriceCatalogPtr prices);

  Result<storage::SessionRecord> CreateSession(const identity::Principal& who, const tenancy::Plan& plan);
  // A user sees their own sessions; a tenant admin sees all of the tenant's.
  Result<std::vector<storage::SessionRecord>> ListSessions(const identity::Principal& who);
  Result<std::vector<storage::MessageRecord>> Messages(const identity::Principal& who, const SessionId& session);
  Status EndSession(const identity::Principal& who, const SessionId& session);

  // Runs one turn. `reservation` (from the limits filter) is settled or released inside the turn's
  // final transaction.
  agent::Awaitable<Result<ChatOutcome>> Chat(const ChatRequest& request, tenancy::Reservation* reservation,
                                             ChatEvents& events);

  // Whether a model name is usable by a plan (registered and allowed).
  Result<const agent::ModelEntry*> ResolveModel(const tenancy::Plan& plan, const std::optional<std::string>& requested) const;

 private:
  Result<storage::SessionRecord> OpenSessionFor(const ChatRequest& r, int64_t now);

  storage::Database& db_;
  const Clock& clock_;
  Random& random_;
  const agent::ModelRegistry& models_;
  const agent::ToolRegistry& tools_;
  tenancy::QuotaService& quota_;
  metering::PriceCatalogPtr prices_;
};

}  // namespace gh::chat

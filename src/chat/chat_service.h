// ChatService: sessions and chat turns for a tenant's users. A turn resolves (or opens) the
// session, marks it busy (a second concurrent turn gets 409 session_busy), loads the history, runs
// the agent with the tenant context, and then commits in one transaction: the user's message, the
// agent's messages, the session's activity and the quota settlement (what the turn consumed is
// in its usage events and its trace, recorded by metering). A turn that
// failed or whose client went away is recorded too, settled on what it actually consumed.
// Thread-safe; knows nothing of HTTP.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agent/agent.h"
#include "agent/model_registry.h"
#include "common/clock.h"
#include "common/random.h"
#include "identity/principal.h"
#include "metering/metering.h"
#include "metering/price_catalog.h"
#include "storage/database.h"
#include "storage/records.h"
#include "tenancy/plan.h"
#include "tenancy/quota.h"

namespace gh::chat {

class ChatEvents : public agent::AgentEvents {
 public:
  // Called once the session and ids are known, before the model runs.
  virtual agent::Awaitable<Status> OnStart(const SessionId& session, const MessageId& message,
                                           const TraceId& trace) = 0;
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
  CancelSignal* cancel = nullptr;  // fires when the client went away
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

// A conversation going on after a tool call that waited for the user's approval was decided.
struct ContinuationRequest {
  identity::Principal principal;  // the session's owner
  const tenancy::Plan* plan = nullptr;
  storage::TenantRecord tenant;
  SessionId session_id;
  TraceId trace_id;
  agent::ToolCall call;      // the call that waited: its name and the approved arguments
  agent::ToolResult result;  // what came of it: the tool's result, or why it did not run
  // Runs inside the transaction that records the continuation (marks the approval resumed).
  std::function<Status(storage::Tx&)> in_record;
};

// One model call for the OpenAI-compatible API (/v1/chat/completions): the client's conversation
// and tools, as given. Gatehouse adds no prompt and runs no tool: the client's tools are offered to
// the model and its tool calls go back to the client.
struct CompletionRequest {
  identity::Principal principal;
  const tenancy::Plan* plan = nullptr;
  std::optional<std::string> model;  // a registered model name; the plan's default otherwise
  std::vector<agent::ChatMessage> messages;
  std::vector<agent::ToolSpec> tools;
  bool tool_required = false;                            // the model must call one of `tools`
  std::optional<agent::ResponseFormat> response_format;  // the answer is JSON of this shape
  std::optional<int64_t> max_output_tokens;              // capped at the plan's
  agent::Sampling sampling;  // as the client asked, for the model to map
  TraceId trace_id;
  CancelSignal* cancel = nullptr;  // fires when the client went away
  bool stream = true;              // the client takes the text as it comes (agent::ModelRequest)
};

struct CompletionOutcome {
  std::string id;         // "chatcmpl-<hex>"
  std::string model;      // the registered model name
  int64_t created = 0;    // unix seconds
  agent::ModelTurn turn;  // the answer: text, tool calls (not run), usage, stop reason
  int64_t latency_ms = 0;
};

class CompletionEvents : public agent::ModelEvents {
 public:
  // Called once the model and the limits admitted the call, right before it runs (`head` has the
  // id, model and creation time). A stream begins here.
  virtual agent::Awaitable<Status> OnStart(const CompletionOutcome& head) = 0;
};

class ChatService {
 public:
  ChatService(storage::Database& db, const Clock& clock, Random& random,
              const agent::ModelRegistry& models, const agent::ToolRegistry& tools,
              tenancy::QuotaService& quota, metering::PriceCatalogPtr prices);

  Result<storage::SessionRecord> CreateSession(const identity::Principal& who,
                                               const tenancy::Plan& plan);
  // A user sees their own sessions; a tenant admin sees all of the tenant's.
  Result<std::vector<storage::SessionRecord>> ListSessions(const identity::Principal& who);
  Result<std::vector<storage::MessageRecord>> Messages(const identity::Principal& who,
                                                       const SessionId& session);
  Status EndSession(const identity::Principal& who, const SessionId& session);

  // Runs one turn. `reservation` (from the limits filter) is settled or released inside the turn's
  // final transaction.
  agent::Awaitable<Result<ChatOutcome>> Chat(const ChatRequest& request,
                                             tenancy::Reservation* reservation, ChatEvents& events);

  // Optional (main/ sets it): every turn's model calls, tool calls and agent invocation become
  // usage events and spans, committed before the turn's answer completes.
  void SetMetering(metering::Metering* metering) { metering_ = metering; }
  // Optional (main/ sets it): the tenant's settings (the prompt template) are read through it.
  void SetDirectory(tenancy::Directory* directory) { directory_ = directory; }

  // Whether a model name is usable by a plan (registered and allowed).
  Result<const agent::ModelEntry*> ResolveModel(const tenancy::Plan& plan,
                                                const std::optional<std::string>& requested) const;
  // The registered models a plan allows, by name.
  std::vector<std::string> AllowedModels(const tenancy::Plan& plan) const;

  // Runs ONE model call (the OpenAI-compatible API), under the same limits and metering as a turn:
  // the invocation fee and the call's worst case are reserved before it runs and settled after;
  // `reservation` (the message, from the limits filter) is settled — or released when the call
  // failed having consumed nothing — in a transaction of its own, or in the metering recorder's
  // group on SQLite. No session is involved.
  // Errors before OnStart (model_not_found, model_not_allowed, budget_exceeded, quota_exceeded)
  // come back before anything was sent.
  agent::Awaitable<Result<CompletionOutcome>> Complete(const CompletionRequest& request,
                                                       tenancy::Reservation* reservation,
                                                       CompletionEvents& events);

  // Goes on with a conversation after an approval was decided, without a client attached: appends
  // the call (as an assistant tool call with the approved arguments) and its outcome to the
  // session, runs the agent for the model's follow-up, and records it all in one transaction with
  // the usage (model calls reserved and settled against the token and spend limits like a turn's;
  // no message is counted). Conflict "session_busy" while a turn is running in the session (try
  // again later). Recorded even when the model fails, so the outcome is never lost.
  agent::Awaitable<Result<ChatOutcome>> ContinueAfterApproval(const ContinuationRequest& request,
                                                              ChatEvents& events);

 private:
  Result<storage::SessionRecord> OpenSessionFor(const ChatRequest& r, int64_t now);
  // The tenant's prompt template with the turn's context filled in, else the built-in prompt.
  Result<std::string> SystemPrompt(const identity::Principal& who, const std::string& tenant_name,
                                   const tenancy::Plan& plan, Timestamp at);

  storage::Database& db_;
  const Clock& clock_;
  Random& random_;
  const agent::ModelRegistry& models_;
  const agent::ToolRegistry& tools_;
  tenancy::QuotaService& quota_;
  metering::PriceCatalogPtr prices_;
  metering::Metering* metering_ = nullptr;
  tenancy::Directory* directory_ = nullptr;
};

}  // namespace gh::chat

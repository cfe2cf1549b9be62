// AgentLoop: runs one chat turn. Sends the conversation and the tools the plan allows (and the
// registry's ToolAuthorizer lets the caller use) to the model, runs the tools the model asks for
// (arguments validated, then the call authorized; refusals and failures go back to the model as
// tool errors, an authorization denial as "not authorized"), feeds results back, and repeats until
// the model answers, the plan's step limit is reached (agent_step_limit) or its time limit is spent
// (agent_time_limit: max_agent_seconds on the request's Clock, checked before each model call; a
// model call still running when that much real time has passed is cancelled and ends the same way).
// Events stream out as they happen.
// Several tool calls in one model turn: each is announced (OnToolCall) and checked in the model's
// order, then the calls cleared to run execute concurrently on the caller's executor; results are
// reported (OnToolResult) and fed back to the model in the model's order once all have finished.
// A call the registry's ApprovalGate holds for the user's approval is not run: the model gets the
// gate's placeholder result and the turn ends after that step with the gate's notice as the answer
// (stop_reason "approval_pending"); the call runs later, outside this loop, once approved.
// Stateless; safe to share.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "agent/model.h"
#include "agent/tool.h"
#include "common/clock.h"

namespace gh::agent {

class AgentEvents : public ModelEvents {
 public:
  virtual Awaitable<Status> OnToolCall(const ToolCall& call) = 0;
  virtual Awaitable<Status> OnToolResult(const ToolCall& call, const ToolResult& result) = 0;
};

// Sees every model and tool call of a turn before and after it runs: the quota's per-call
// reservation (worst case before, real figures after) plugs in here.
class CallGuard {
 public:
  virtual ~CallGuard() = default;
  virtual Status BeforeModelCall(const ModelRequest& request) = 0;
  // Always called after BeforeModelCall succeeded, with what the call consumed (estimated when it
  // failed).
  virtual void AfterModelCall(const ModelRequest& request, const Usage& usage) = 0;
  virtual Status BeforeToolCall(const ToolCall& call) = 0;
};

struct AgentRequest {
  std::string model_id;
  std::vector<ChatMessage> messages;  // system prompt + history + the new user message
  const tenancy::Plan* plan = nullptr;
  TenantContext context;
  CallGuard* guard = nullptr;      // optional
  CancelSignal* cancel = nullptr;  // optional: the client went away
  // Optional: measures the plan's time limit (max_agent_seconds) from the start of Run.
  const Clock* clock = nullptr;
};

struct AgentResult {
  std::string text;
  Usage usage;
  int64_t tool_calls = 0;
  int64_t model_calls = 0;
  std::vector<ChatMessage> new_messages;  // assistant / tool turns to persist, in order
  std::string stop_reason;
};

class AgentLoop {
 public:
  AgentLoop(std::shared_ptr<Model> model, const ToolRegistry& tools)
      : model_(std::move(model)), tools_(tools) {}
  // On error, `partial` (when given) receives what was produced and consumed before the error.
  Awaitable<Result<AgentResult>> Run(const AgentRequest& request, AgentEvents& events,
                                     AgentResult* partial = nullptr);

 private:
  std::shared_ptr<Model> model_;
  const ToolRegistry& tools_;
};

}  // namespace gh::agent

// TenantContext: who and where a model or tool call runs for. It travels with every call, like
// Bedrock's sessionAttributes: tools use it to scope data, providers to tag requests.
#pragma once

#include <string>

#include "common/ids.h"

namespace gh::agent {

struct TenantContext {
  TenantId tenant_id;
  UserId user_id;
  std::string email;
  std::string subscription_tier;
  std::string role;  // admin | user
  SessionId session_id;
  TraceId trace_id;
  std::string traceparent;  // W3C, naming the turn's span: sent upstream by the HTTP providers
};

}  // namespace gh::agent

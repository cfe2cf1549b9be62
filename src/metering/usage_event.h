// UsageEvent: one billable thing that happened — a model call, a tool execution, an agent
// invocation (a guardrail check when there are guardrails) — attributed to tenant, user, session
// and trace, with its quantities, its list cost, the cost charged (markup included) and the
// version of the price catalog that priced it. Events are the source of truth for costs: the
// roll-ups reports read are sums of events, maintained as events are committed.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/random.h"
#include "storage/metering_repository.h"

namespace gh::metering {

using UsageEvent = storage::UsageEventRow;

namespace services {
inline constexpr std::string_view kModel = "model";
inline constexpr std::string_view kAgentRuntime = "agent_runtime";
inline constexpr std::string_view kTool = "tool";
inline constexpr std::string_view kGuardrail = "guardrail";
}  // namespace services
inline constexpr std::string_view kOrchestration = "orchestration";  // the agent runtime's resource

// A time-ordered id: 12 hex digits of unix milliseconds, then 20 random hex digits. Ids sort by
// time, so retention deletes walk the primary key and inserts append.
std::string NewEventId(int64_t now_ms, Random& random);
// Every id of an event before `ms` sorts before this.
std::string EventIdCutoff(int64_t ms);

// "1.234567" from 1'234'567 micro-dollars (exact; negative amounts get a leading '-').
std::string FormatUsd(int64_t micros);

}  // namespace gh::metering

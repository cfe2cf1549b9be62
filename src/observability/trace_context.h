// W3C Trace Context: the `traceparent` header (https://www.w3.org/TR/trace-context/), and the ids
// of traces (16 bytes) and spans (8 bytes) as lower-case hex. Gatehouse accepts a caller's
// traceparent (its trace id becomes the request's, its span the parent of the request's span) and
// sends one upstream naming its own span. Pure functions; any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/random.h"

namespace gh::observability {

struct TraceContext {
  std::string trace_id;  // 32 lower-case hex digits, not all zero
  std::string span_id;   // 16 lower-case hex digits, not all zero
  bool sampled = true;
};

// Parses a traceparent header. Version 00 must be exactly `00-<trace>-<span>-<flags>`; a later
// version may carry more fields after the flags. Invalid values (upper case, all-zero ids,
// version ff) are nullopt: the caller then starts a new trace, as the specification requires.
std::optional<TraceContext> ParseTraceparent(std::string_view header);
std::string FormatTraceparent(const TraceContext& context);

bool IsTraceId(std::string_view s);
bool IsSpanId(std::string_view s);
// A new trace id: the first 6 bytes are `now_ms` (Unix milliseconds, big-endian), the other 10
// random, as X-Ray and UUIDv7 lay theirs out. Traces and spans are stored keyed by trace id, so ids
// that grow with time append to the tables' B-trees instead of touching a random page per trace.
// (A caller's own trace id from its traceparent is kept as it is.)
std::string NewTraceId(int64_t now_ms, Random& random);
std::string NewSpanId(Random& random);

}  // namespace gh::observability

#include "observability/trace_context.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/strings.h"

namespace gh::observability {

namespace {

bool LowerHex(std::string_view s, size_t n) {
  if (s.size() != n) return false;
  bool nonzero = false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    if (c != '0') nonzero = true;
  }
  return nonzero;
}

bool Hex2(std::string_view s) {
  if (s.size() != 2) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

std::string NonZeroHex(Random& random, size_t bytes) {
  for (;;) {
    std::string hex = HexEncode(random.Bytes(bytes));
    if (hex.find_first_not_of('0') != std::string::npos) return hex;
  }
}

}  // namespace

bool IsTraceId(std::string_view s) { return LowerHex(s, 32); }
bool IsSpanId(std::string_view s) { return LowerHex(s, 16); }

std::optional<TraceContext> ParseTraceparent(std::string_view h) {
  // version "-" trace-id "-" parent-id "-" flags: 2 + 1 + 32 + 1 + 16 + 1 + 2 = 55 characters.
  if (h.size() < 55) return std::nullopt;
  std::string_view version = h.substr(0, 2);
  if (!Hex2(version) || version == "ff") return std::nullopt;
  if (version == "00" && h.size() != 55) return std::nullopt;
  if (h.size() > 55 && h[55] != '-') return std::nullopt;
  if (h[2] != '-' || h[35] != '-' || h[52] != '-') return std::nullopt;
  std::string_view trace = h.substr(3, 32), span = h.substr(36, 16), flags = h.substr(53, 2);
  if (!IsTraceId(trace) || !IsSpanId(span) || !Hex2(flags)) return std::nullopt;
  const int f = std::stoi(std::string(flags), nullptr, 16);
  return TraceContext{std::string(trace), std::string(span), (f & 1) != 0};
}

std::string FormatTraceparent(const TraceContext& c) {
  return "00-" + c.trace_id + "-" + c.span_id + (c.sampled ? "-01" : "-00");
}

std::string NewTraceId(int64_t now_ms, Random& random) {
  // 48 bits of milliseconds last until the year 10889; the random part keeps the id unguessable.
  return fmt::format("{:012x}",
                     static_cast<uint64_t>(std::max<int64_t>(1, now_ms)) & 0xffffffffffffULL) +
         HexEncode(random.Bytes(10));
}
std::string NewSpanId(Random& random) { return NonZeroHex(random, 8); }

}  // namespace gh::observability

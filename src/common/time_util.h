// Calendar helpers: RFC 3339 timestamps and the day / month keys quota windows are counted in.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/clock.h"

namespace gh {

// "2026-11-22T10:00:00Z" (UTC, second precision) / with millisecond precision.
std::string FormatRfc3339(Timestamp t);
std::string FormatRfc3339Millis(Timestamp t);
std::optional<Timestamp> ParseRfc3339(std::string_view s);
// "2026-11-22", "2026-11" for UTC; offset_seconds shifts to a local calendar first.
std::string DayKey(Timestamp t, int64_t offset_seconds = 0);
std::string MonthKey(Timestamp t, int64_t offset_seconds = 0);
// Parses "YYYY-MM-DD" as midnight UTC.
std::optional<Timestamp> ParseDate(std::string_view s);
// The years the parsers accept: a Timestamp counts nanoseconds in 64 bits, so it ends in 2262.
inline constexpr int kMinYear = 1970;
inline constexpr int kMaxYear = 2261;
// IMF-fixdate for HTTP and mail headers: "Sun, 22 Nov 2026 10:00:00 GMT".
std::string FormatHttpDate(Timestamp t);

}  // namespace gh

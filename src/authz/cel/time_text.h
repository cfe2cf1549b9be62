// Text forms of CEL timestamps and durations, as OpenFGA accepts them in condition context:
// RFC 3339 timestamps ("2023-01-01T00:00:00Z", fractional seconds and offsets allowed) and Go
// duration strings ("1h30m", "10s", "1.5h", "300ms", "-2us"). Pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "authz/cel/value.h"

namespace gh::authz::cel {

std::optional<Timestamp> ParseTimestamp(std::string_view text);
std::string FormatTimestamp(Timestamp t);  // RFC 3339 in UTC, fractional seconds when non-zero

std::optional<Duration> ParseDuration(std::string_view text);
std::string FormatDuration(Duration d);  // CEL form: seconds with a fraction, e.g. "3600s"

// Calendar fields of a timestamp in UTC shifted by offset_seconds.
struct CivilTime {
  int64_t year;
  int month;        // 1..12
  int day;          // 1..31
  int day_of_week;  // 0 = Sunday
  int day_of_year;  // 0-based
  int hour, minute, second;
  int millis;
};
CivilTime ToCivil(Timestamp t, int64_t offset_seconds);
// Parses a time zone argument: "UTC", "+05:30", "-08:00". nullopt for unsupported zones.
std::optional<int64_t> ParseZoneOffset(std::string_view zone);

}  // namespace gh::authz::cel

#include "authz/cel/time_text.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>

namespace gh::authz::cel {
namespace {

bool Digits(std::string_view s, size_t pos, size_t n, int* out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = 0; i < n; ++i) {
    char c = s[pos + i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *out = v;
  return true;
}

int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  using namespace std::chrono;
  return sys_days(year_month_day(year(int(y)), month(m), day(d))).time_since_epoch().count();
}

}  // namespace

std::optional<Timestamp> ParseTimestamp(std::string_view s) {
  // YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)
  int y, mo, d, h, mi, sec;
  if (!Digits(s, 0, 4, &y) || s.size() < 20 || s[4] != '-' || !Digits(s, 5, 2, &mo) ||
      s[7] != '-' || !Digits(s, 8, 2, &d) || (s[10] != 'T' && s[10] != 't') ||
      !Digits(s, 11, 2, &h) || s[13] != ':' || !Digits(s, 14, 2, &mi) || s[16] != ':' ||
      !Digits(s, 17, 2, &sec)) {
    return std::nullopt;
  }
  using namespace std::chrono;
  year_month_day ymd{year(y), month(unsigned(mo)), day(unsigned(d))};
  if (!ymd.ok() || h > 23 || mi > 59 || sec > 59) return std::nullopt;
  size_t pos = 19;
  int64_t nanos = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    int64_t scale = 100'000'000;
    size_t start = pos;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (scale > 0) nanos += (s[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (pos == start) return std::nullopt;
  }
  int64_t offset = 0;
  std::string_view rest = s.substr(pos);
  if (rest == "Z" || rest == "z") {
  } else if (rest.size() == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':') {
    int oh, om;
    if (!Digits(rest, 1, 2, &oh) || !Digits(rest, 4, 2, &om) || oh > 23 || om > 59) {
      return std::nullopt;
    }
    offset = (oh * 3600 + om * 60) * (rest[0] == '-' ? -1 : 1);
  } else {
    return std::nullopt;
  }
  int64_t secs = DaysFromCivil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - offset;
  return Timestamp{secs, static_cast<int32_t>(nanos)};
}

CivilTime ToCivil(Timestamp t, int64_t offset_seconds) {
  using namespace std::chrono;
  int64_t secs = t.seconds + offset_seconds;
  int64_t days = secs / 86400;
  int64_t rem = secs % 86400;
  if (rem < 0) {
    rem += 86400;
    --days;
  }
  sys_days sd{std::chrono::days(days)};
  year_month_day ymd{sd};
  weekday wd{sd};
  year_month_day jan1{ymd.year(), January, day(1)};
  CivilTime c{};
  c.year = int(ymd.year());
  c.month = int(unsigned(ymd.month()));
  c.day = int(unsigned(ymd.day()));
  c.day_of_week = int(wd.c_encoding());
  c.day_of_year = int((sd - sys_days(jan1)).count());
  c.hour = int(rem / 3600);
  c.minute = int((rem / 60) % 60);
  c.second = int(rem % 60);
  c.millis = t.nanos / 1'000'000;
  return c;
}

std::string FormatTimestamp(Timestamp t) {
  CivilTime c = ToCivil(t, 0);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04lld-%02d-%02dT%02d:%02d:%02d", static_cast<long long>(c.year),
                c.month, c.day, c.hour, c.minute, c.second);
  std::string out = buf;
  if (t.nanos != 0) {
    char frac[16];
    std::snprintf(frac, sizeof(frac), ".%09d", t.nanos);
    std::string f = frac;
    while (f.back() == '0') f.pop_back();
    out += f;
  }
  return out + "Z";
}

std::optional<Duration> ParseDuration(std::string_view s) {
  // Go's time.ParseDuration grammar: [-+]?([0-9]*(\.[0-9]*)?[a-z]+)+, or "0".
  if (s.empty()) return std::nullopt;
  bool neg = false;
  size_t pos = 0;
  if (s[0] == '-' || s[0] == '+') {
    neg = s[0] == '-';
    ++pos;
  }
  if (s.substr(pos) == "0") return Duration{0};
  if (pos == s.size()) return std::nullopt;
  long double total = 0;
  while (pos < s.size()) {
    size_t start = pos;
    long double value = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') value = value * 10 + (s[pos++] - '0');
    bool had_int = pos > start;
    bool had_frac = false;
    if (pos < s.size() && s[pos] == '.') {
      ++pos;
      long double scale = 0.1L;
      while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
        value += (s[pos++] - '0') * scale;
        scale /= 10;
        had_frac = true;
      }
    }
    if (!had_int && !had_frac) return std::nullopt;
    size_t unit_start = pos;
    while (pos < s.size() && !(s[pos] >= '0' && s[pos] <= '9') && s[pos] != '.') ++pos;
    std::string_view unit = s.substr(unit_start, pos - unit_start);
    long double mult;
    if (unit == "ns") {
      mult = 1;
    } else if (unit == "us" || unit == "\xC2\xB5s" || unit == "\xCE\xBCs") {
      mult = 1e3L;
    } else if (unit == "ms") {
      mult = 1e6L;
    } else if (unit == "s") {
      mult = 1e9L;
    } else if (unit == "m") {
      mult = 60e9L;
    } else if (unit == "h") {
      mult = 3600e9L;
    } else {
      return std::nullopt;
    }
    total += value * mult;
  }
  if (total > static_cast<long double>(std::numeric_limits<int64_t>::max())) return std::nullopt;
  int64_t n = static_cast<int64_t>(std::llround(total));
  return Duration{neg ? -n : n};
}

std::string FormatDuration(Duration d) {
  int64_t secs = d.nanos / 1'000'000'000;
  int64_t frac = d.nanos % 1'000'000'000;
  std::string out;
  if (d.nanos < 0) {
    out = "-";
    secs = -secs;
    frac = -frac;
  }
  out += std::to_string(secs);
  if (frac != 0) {
    char buf[16];
    std::snprintf(buf, sizeof(buf), ".%09lld", static_cast<long long>(frac));
    std::string f = buf;
    while (f.back() == '0') f.pop_back();
    out += f;
  }
  return out + "s";
}

std::optional<int64_t> ParseZoneOffset(std::string_view zone) {
  if (zone == "UTC" || zone == "Z" || zone == "Etc/UTC" || zone == "GMT") return 0;
  if (zone.size() == 6 && (zone[0] == '+' || zone[0] == '-') && zone[3] == ':') {
    int h, m;
    if (!Digits(zone, 1, 2, &h) || !Digits(zone, 4, 2, &m)) return std::nullopt;
    return (h * 3600 + m * 60) * (zone[0] == '-' ? -1 : 1);
  }
  return std::nullopt;
}

}  // namespace gh::authz::cel

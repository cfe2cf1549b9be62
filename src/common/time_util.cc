#include "common/time_util.h"

#include <fmt/format.h>

#include <chrono>
#include <cstdio>

namespace gh {
namespace {
using namespace std::chrono;

struct Civil {
  int y;
  unsigned mo, d;
  int64_t h, mi, s, ms;
};

Civil ToCivil(Timestamp t, int64_t offset_seconds = 0) {
  auto ms_total = duration_cast<milliseconds>(t.time_since_epoch()).count() + offset_seconds * 1000;
  auto days = floor<std::chrono::days>(milliseconds(ms_total));
  year_month_day ymd{sys_days(days)};
  int64_t rem = ms_total - duration_cast<milliseconds>(days).count();
  return Civil{int(ymd.year()),     unsigned(ymd.month()), unsigned(ymd.day()), rem / 3'600'000,
               (rem / 60'000) % 60, (rem / 1000) % 60,     rem % 1000};
}
}  // namespace

std::string FormatRfc3339(Timestamp t) {
  Civil c = ToCivil(t);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", c.y, c.mo, c.d, c.h, c.mi, c.s);
}

std::string FormatRfc3339Millis(Timestamp t) {
  Civil c = ToCivil(t);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", c.y, c.mo, c.d, c.h, c.mi, c.s,
                     c.ms);
}

std::optional<Timestamp> ParseRfc3339(std::string_view s) {
  int y, mo, d, h, mi, sec;
  char tail[40] = {0};
  std::string str(s.substr(0, 60));
  if (std::sscanf(str.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%39s", &y, &mo, &d, &h, &mi, &sec, tail) < 6)
    return std::nullopt;
  year_month_day ymd{year(y), month(unsigned(mo)), day(unsigned(d))};
  if (y < kMinYear || y > kMaxYear) return std::nullopt;
  if (!ymd.ok() || h > 23 || mi > 59 || sec > 60) return std::nullopt;
  std::string_view rest(tail);
  int64_t frac_ms = 0;
  if (!rest.empty() && rest[0] == '.') {
    size_t i = 1;
    int64_t scale = 100;
    while (i < rest.size() && rest[i] >= '0' && rest[i] <= '9') {
      frac_ms += (rest[i] - '0') * scale;
      scale /= 10;
      ++i;
    }
    rest.remove_prefix(i);
  }
  int64_t offset = 0;
  if (rest == "Z" || rest == "z") {
  } else if (rest.size() == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':') {
    int oh = (rest[1] - '0') * 10 + (rest[2] - '0');
    int om = (rest[4] - '0') * 10 + (rest[5] - '0');
    offset = (oh * 3600 + om * 60) * (rest[0] == '-' ? -1 : 1);
  } else {
    return std::nullopt;
  }
  auto tp = sys_days(ymd) + hours(h) + minutes(mi) + seconds(sec) + milliseconds(frac_ms) -
            seconds(offset);
  return time_point_cast<Duration>(tp);
}

std::string DayKey(Timestamp t, int64_t offset_seconds) {
  Civil c = ToCivil(t, offset_seconds);
  return fmt::format("{:04}-{:02}-{:02}", c.y, c.mo, c.d);
}

std::string MonthKey(Timestamp t, int64_t offset_seconds) {
  Civil c = ToCivil(t, offset_seconds);
  return fmt::format("{:04}-{:02}", c.y, c.mo);
}

std::optional<Timestamp> ParseDate(std::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return std::nullopt;
  int y, mo, d;
  std::string str(s);
  if (std::sscanf(str.c_str(), "%4d-%2d-%2d", &y, &mo, &d) != 3) return std::nullopt;
  year_month_day ymd{year(y), month(unsigned(mo)), day(unsigned(d))};
  if (y < kMinYear || y > kMaxYear || !ymd.ok()) return std::nullopt;
  return time_point_cast<Duration>(sys_days(ymd));
}

std::string FormatHttpDate(Timestamp t) {
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  Civil c = ToCivil(t);
  weekday wd{floor<days>(t)};
  return fmt::format("{}, {:02} {} {:04} {:02}:{:02}:{:02} GMT", kDays[wd.c_encoding()], c.d,
                     kMonths[c.mo - 1], c.y, c.h, c.mi, c.s);
}

}  // namespace gh

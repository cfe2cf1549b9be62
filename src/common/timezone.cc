#include "common/timezone.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>

namespace gh {

namespace {

int64_t ReadBE(const std::string& d, size_t off, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v = (v << 8) | static_cast<unsigned char>(d[off + i]);
  if (bytes == 4) return static_cast<int32_t>(static_cast<uint32_t>(v));
  return static_cast<int64_t>(v);
}

bool ValidName(std::string_view n) {
  if (n.empty() || n.size() > 64 || n.front() == '/' || n.find("..") != std::string_view::npos)
    return false;
  for (char c : n)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '/' || c == '_' || c == '-' ||
          c == '+'))
      return false;
  return true;
}

// Parses [+-]hh[:mm[:ss]] as POSIX offsets (west positive) and returns seconds.
bool ParseClock(std::string_view& s, int64_t& out) {
  int sign = 1;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    sign = s[0] == '-' ? -1 : 1;
    s.remove_prefix(1);
  }
  int64_t parts[3] = {0, 0, 0};
  for (int i = 0; i < 3; ++i) {
    if (s.empty() || !std::isdigit(static_cast<unsigned char>(s[0]))) {
      if (i == 0) return false;
      break;
    }
    int64_t v = 0;
    while (!s.empty() && std::isdigit(static_cast<unsigned char>(s[0]))) {
      v = v * 10 + (s[0] - '0');
      s.remove_prefix(1);
    }
    parts[i] = v;
    if (i < 2 && !s.empty() && s[0] == ':')
      s.remove_prefix(1);
    else
      break;
  }
  out = sign * (parts[0] * 3600 + parts[1] * 60 + parts[2]);
  return true;
}

bool SkipName(std::string_view& s) {
  if (!s.empty() && s[0] == '<') {
    size_t e = s.find('>');
    if (e == std::string_view::npos) return false;
    s.remove_prefix(e + 1);
    return true;
  }
  size_t n = 0;
  while (n < s.size() && std::isalpha(static_cast<unsigned char>(s[n]))) ++n;
  if (n < 3) return false;
  s.remove_prefix(n);
  return true;
}

bool ParseDate(std::string_view& s, int& month, int& week, int& day, int64_t& time) {
  if (s.empty() || s[0] != 'M') return false;
  s.remove_prefix(1);
  int vals[3] = {0, 0, 0};
  for (int i = 0; i < 3; ++i) {
    if (s.empty() || !std::isdigit(static_cast<unsigned char>(s[0]))) return false;
    int v = 0;
    while (!s.empty() && std::isdigit(static_cast<unsigned char>(s[0]))) {
      v = v * 10 + (s[0] - '0');
      s.remove_prefix(1);
    }
    vals[i] = v;
    if (i < 2) {
      if (s.empty() || s[0] != '.') return false;
      s.remove_prefix(1);
    }
  }
  month = vals[0];
  week = vals[1];
  day = vals[2];
  time = 7200;
  if (!s.empty() && s[0] == '/') {
    s.remove_prefix(1);
    if (!ParseClock(s, time)) return false;
  }
  return month >= 1 && month <= 12 && week >= 1 && week <= 5 && day >= 0 && day <= 6;
}

// Unix seconds of local midnight starting day `d` of the `week`-th `day`-of-week in month/year.
int64_t RuleDay(int year, int month, int week, int weekday) {
  using namespace std::chrono;
  sys_days first = sys_days(year_month_day{
      std::chrono::year(year), std::chrono::month(unsigned(month)), std::chrono::day(1)});
  int first_wd = static_cast<int>(std::chrono::weekday(first).c_encoding());
  int delta = (weekday - first_wd + 7) % 7;
  sys_days d = first + days(delta + 7 * (week - 1));
  if (week == 5) {
    sys_days next_month =
        sys_days(year_month_day{std::chrono::year(year), std::chrono::month(unsigned(month)),
                                std::chrono::day(1)} +
                 months(1));
    while (d >= next_month) d -= days(7);
  }
  return duration_cast<seconds>(d.time_since_epoch()).count();
}

}  // namespace

TimeZone TimeZone::Utc() { return TimeZone(); }

bool TimeZone::ParseRule(std::string_view s, Rule& r) {
  r = Rule{};
  int64_t off;
  if (!SkipName(s) || !ParseClock(s, off)) return false;
  r.std_offset = -off;
  if (s.empty()) return true;
  if (!SkipName(s)) return false;
  r.has_dst = true;
  r.dst_offset = r.std_offset + 3600;
  if (!s.empty() && s[0] != ',') {
    if (!ParseClock(s, off)) return false;
    r.dst_offset = -off;
  }
  if (s.empty() || s[0] != ',') return false;
  s.remove_prefix(1);
  if (!ParseDate(s, r.start_month, r.start_week, r.start_day, r.start_time)) return false;
  if (s.empty() || s[0] != ',') return false;
  s.remove_prefix(1);
  if (!ParseDate(s, r.end_month, r.end_week, r.end_day, r.end_time)) return false;
  return s.empty();
}

int64_t TimeZone::RuleOffset(const Rule& r, int64_t t) {
  if (!r.has_dst) return r.std_offset;
  using namespace std::chrono;
  int year = int(year_month_day{floor<days>(sys_seconds(seconds(t + r.std_offset)))}.year());
  // Transition instants in UTC: start is given in standard local time, end in daylight time.
  int64_t start =
      RuleDay(year, r.start_month, r.start_week, r.start_day) + r.start_time - r.std_offset;
  int64_t end = RuleDay(year, r.end_month, r.end_week, r.end_day) + r.end_time - r.dst_offset;
  bool dst =
      start < end ? (t >= start && t < end) : (t >= start || t < end);  // southern hemisphere
  return dst ? r.dst_offset : r.std_offset;
}

Result<TimeZone> TimeZone::Load(std::string_view name, const std::filesystem::path& zoneinfo) {
  if (name == "UTC" || name == "Etc/UTC") return Utc();
  if (!ValidName(name))
    return Status::InvalidArgument(
        "'" + std::string(name.substr(0, 64)) + "' is not a time zone name", "invalid_timezone");
  std::ifstream in(zoneinfo / std::string(name), std::ios::binary);
  if (!in)
    return Status::InvalidArgument("unknown time zone '" + std::string(name) + "'",
                                   "invalid_timezone");
  std::stringstream ss;
  ss << in.rdbuf();
  std::string d = ss.str();
  auto bad = [&] {
    return Status::InvalidArgument("time zone file for '" + std::string(name) + "' is not valid",
                                   "invalid_timezone");
  };
  if (d.size() < 44 || d.compare(0, 4, "TZif") != 0) return bad();
  auto counts = [&](size_t off, int64_t c[6]) {
    for (int i = 0; i < 6; ++i) c[i] = ReadBE(d, off + 20 + 4 * i, 4);
  };
  int64_t c[6];
  counts(0, c);  // isutcnt isstdcnt leapcnt timecnt typecnt charcnt
  TimeZone tz;
  tz.name_ = std::string(name);
  size_t off = 44;
  int time_size = 4;
  if (d[4] >= '2') {
    size_t v1 = 44 + c[3] * 5 + c[4] * 6 + c[5] + c[2] * 8 + c[1] + c[0];
    if (d.size() < v1 + 44) return bad();
    counts(v1, c);
    off = v1 + 44;
    time_size = 8;
  }
  const size_t need =
      off + c[3] * (time_size + 1) + c[4] * 6 + c[5] + c[2] * (time_size + 4) + c[1] + c[0];
  if (d.size() < need || c[4] < 1) return bad();
  std::vector<int32_t> type_offsets(static_cast<size_t>(c[4]));
  size_t types_off = off + c[3] * (time_size + 1);
  for (int64_t i = 0; i < c[4]; ++i)
    type_offsets[i] = static_cast<int32_t>(ReadBE(d, types_off + 6 * i, 4));
  for (int64_t i = 0; i < c[3]; ++i) {
    tz.transitions_.push_back(ReadBE(d, off + i * time_size, time_size));
    size_t idx = static_cast<unsigned char>(d[off + c[3] * time_size + i]);
    if (idx >= type_offsets.size()) return bad();
    tz.offsets_.push_back(type_offsets[idx]);
  }
  tz.initial_offset_ = type_offsets[0];
  if (time_size == 8 && need < d.size() && d[need] == '\n') {
    size_t end = d.find('\n', need + 1);
    if (end != std::string::npos)
      tz.has_rule_ = ParseRule(std::string_view(d).substr(need + 1, end - need - 1), tz.rule_);
  }
  return tz;
}

int64_t TimeZone::OffsetSeconds(Timestamp t) const {
  const int64_t s = ToUnixSeconds(t);
  if (transitions_.empty()) return has_rule_ ? RuleOffset(rule_, s) : initial_offset_;
  if (s < transitions_.front()) return initial_offset_;
  if (s >= transitions_.back() && has_rule_) return RuleOffset(rule_, s);
  auto it = std::upper_bound(transitions_.begin(), transitions_.end(), s);
  return offsets_[static_cast<size_t>(it - transitions_.begin()) - 1];
}

}  // namespace gh

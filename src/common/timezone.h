// TimeZone: the UTC offset of an IANA zone ("Europe/Paris") at any instant, read from the system's
// TZif files (/usr/share/zoneinfo, Debian's tzdata). Quota windows are calendar days and months in
// the tenant's zone. Immutable after loading; share freely between threads.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/status.h"

namespace gh {

class TimeZone {
 public:
  static TimeZone Utc();
  // Loads a zone by IANA name. Names are validated (no path tricks) before touching the disk.
  static Result<TimeZone> Load(std::string_view name,
                               const std::filesystem::path& zoneinfo = "/usr/share/zoneinfo");
  // Seconds to add to UTC to get local wall-clock time at instant `t`.
  int64_t OffsetSeconds(Timestamp t) const;
  const std::string& name() const { return name_; }

  // A POSIX TZ rule ("CET-1CEST,M3.5.0,M10.5.0/3"), used past the file's last transition.
  struct Rule {
    int64_t std_offset = 0;  // seconds east of UTC
    int64_t dst_offset = 0;
    bool has_dst = false;
    int start_month = 0, start_week = 0, start_day = 0;
    int64_t start_time = 7200;
    int end_month = 0, end_week = 0, end_day = 0;
    int64_t end_time = 7200;
  };
  static bool ParseRule(std::string_view text, Rule& out);
  static int64_t RuleOffset(const Rule& rule, int64_t unix_seconds);

 private:
  std::string name_ = "UTC";
  std::vector<int64_t> transitions_;  // unix seconds, ascending
  std::vector<int32_t> offsets_;      // offset in effect from transitions_[i]
  int32_t initial_offset_ = 0;
  bool has_rule_ = false;
  Rule rule_;
};

}  // namespace gh

#include "common/clock.h"

namespace gh {

int64_t Clock::NowUnixSeconds() const { return ToUnixSeconds(Now()); }
int64_t Clock::NowUnixMillis() const { return ToUnixMillis(Now()); }

SystemClock& SystemClock::Instance() {
  static SystemClock clock;
  return clock;
}

Timestamp FakeClock::Now() const { return FromUnixMillis(ms_.load()); }
void FakeClock::Advance(Duration d) {
  ms_.fetch_add(std::chrono::duration_cast<std::chrono::milliseconds>(d).count());
}

int64_t ToUnixSeconds(Timestamp t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}
int64_t ToUnixMillis(Timestamp t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}
int64_t ToUnixMicros(Timestamp t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
}
Timestamp FromUnixSeconds(int64_t s) { return Timestamp(std::chrono::seconds(s)); }
Timestamp FromUnixMillis(int64_t ms) {
  return Timestamp(std::chrono::duration_cast<Duration>(std::chrono::milliseconds(ms)));
}

}  // namespace gh

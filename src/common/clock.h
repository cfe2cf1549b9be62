// Clock: the seam between the code and the OS's notion of time. Production uses SystemClock;
// tests use FakeClock to cross quota windows or expire tokens without sleeping.
// Both are safe to call from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace gh {

using Timestamp = std::chrono::system_clock::time_point;
using Duration = std::chrono::system_clock::duration;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual Timestamp Now() const = 0;
  int64_t NowUnixSeconds() const;
  int64_t NowUnixMillis() const;
};

class SystemClock final : public Clock {
 public:
  Timestamp Now() const override { return std::chrono::system_clock::now(); }
  static SystemClock& Instance();
};

class FakeClock final : public Clock {
 public:
  explicit FakeClock(int64_t unix_millis = 1'700'000'000'000) : ms_(unix_millis) {}
  Timestamp Now() const override;
  void Advance(Duration d);
  void SetUnixMillis(int64_t ms) { ms_.store(ms); }

 private:
  std::atomic<int64_t> ms_;
};

int64_t ToUnixSeconds(Timestamp t);
int64_t ToUnixMillis(Timestamp t);
int64_t ToUnixMicros(Timestamp t);
Timestamp FromUnixSeconds(int64_t s);
Timestamp FromUnixMillis(int64_t ms);

}  // namespace gh

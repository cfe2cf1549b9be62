#include "metering/usage_event.h"

#include <fmt/format.h>

#include "common/strings.h"

namespace gh::metering {

std::string NewEventId(int64_t now_ms, Random& random) {
  return fmt::format("{:012x}", static_cast<uint64_t>(std::max<int64_t>(0, now_ms))) +
         HexEncode(random.Bytes(10));
}

std::string EventIdCutoff(int64_t ms) {
  return fmt::format("{:012x}", static_cast<uint64_t>(std::max<int64_t>(0, ms)));
}

std::string FormatUsd(int64_t micros) {
  const bool negative = micros < 0;
  const uint64_t m =
      negative ? uint64_t(0) - static_cast<uint64_t>(micros) : static_cast<uint64_t>(micros);
  return fmt::format("{}{}.{:06}", negative ? "-" : "", m / 1'000'000, m % 1'000'000);
}

}  // namespace gh::metering

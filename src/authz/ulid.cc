#include "authz/ulid.h"

#include <array>

namespace gh::authz {

std::string NewUlid(const Clock& clock, Random& random) {
  static constexpr char kAlphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
  uint64_t ms = static_cast<uint64_t>(clock.NowUnixMillis());
  std::array<uint8_t, 16> bytes{};
  for (int i = 5; i >= 0; --i) {
    bytes[static_cast<size_t>(i)] = static_cast<uint8_t>(ms & 0xFF);
    ms >>= 8;
  }
  random.Fill(std::span<uint8_t>(bytes.data() + 6, 10));
  // 128 bits -> 26 base32 digits (the first digit carries 3 bits).
  std::string out(26, '0');
  unsigned __int128 v = 0;
  for (uint8_t b : bytes) v = (v << 8) | b;
  for (int i = 25; i >= 0; --i) {
    out[static_cast<size_t>(i)] = kAlphabet[static_cast<size_t>(v & 31)];
    v >>= 5;
  }
  return out;
}

}  // namespace gh::authz

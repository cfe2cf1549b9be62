// IpAddress: OpenFGA's `ipaddress` condition type: an IPv4 or IPv6 address that can be tested
// against a CIDR block with `.in_cidr("10.0.0.0/8")`. Immutable value type.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace gh::authz::cel {

class IpAddress {
 public:
  // Parses "192.168.0.1" or "2001:db8::1". nullopt when malformed.
  static std::optional<IpAddress> Parse(std::string_view text);

  bool is_v4() const { return v4_; }
  // True when this address lies in the block, e.g. "192.168.0.0/24". nullopt when the block is
  // malformed. An IPv4 address never lies in an IPv6 block and the reverse.
  std::optional<bool> InCidr(std::string_view cidr) const;
  std::string ToString() const;

  bool operator==(const IpAddress& o) const { return v4_ == o.v4_ && bytes_ == o.bytes_; }

 private:
  bool v4_ = true;
  std::array<uint8_t, 16> bytes_{};  // v4 uses the first 4 bytes
};

}  // namespace gh::authz::cel

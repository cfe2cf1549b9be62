#include "authz/cel/ip_address.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace gh::authz::cel {

std::optional<IpAddress> IpAddress::Parse(std::string_view text) {
  if (text.empty() || text.size() > 64) return std::nullopt;
  std::string s(text);
  IpAddress ip;
  if (s.find(':') == std::string::npos) {
    in_addr a4{};
    if (inet_pton(AF_INET, s.c_str(), &a4) != 1) return std::nullopt;
    ip.v4_ = true;
    std::memcpy(ip.bytes_.data(), &a4, 4);
    return ip;
  }
  in6_addr a6{};
  if (inet_pton(AF_INET6, s.c_str(), &a6) != 1) return std::nullopt;
  ip.v4_ = false;
  std::memcpy(ip.bytes_.data(), &a6, 16);
  return ip;
}

std::optional<bool> IpAddress::InCidr(std::string_view cidr) const {
  size_t slash = cidr.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  auto net = Parse(cidr.substr(0, slash));
  if (!net) return std::nullopt;
  std::string_view bits_text = cidr.substr(slash + 1);
  int bits = -1;
  auto [p, ec] = std::from_chars(bits_text.data(), bits_text.data() + bits_text.size(), bits);
  if (ec != std::errc() || p != bits_text.data() + bits_text.size()) return std::nullopt;
  int max_bits = net->v4_ ? 32 : 128;
  if (bits < 0 || bits > max_bits) return std::nullopt;
  if (net->v4_ != v4_) return false;
  for (int i = 0; i < bits; ++i) {
    int byte = i / 8, bit = 7 - (i % 8);
    if (((bytes_[byte] >> bit) & 1) != ((net->bytes_[byte] >> bit) & 1)) return false;
  }
  return true;
}

std::string IpAddress::ToString() const {
  char buf[INET6_ADDRSTRLEN] = {0};
  if (v4_) {
    inet_ntop(AF_INET, bytes_.data(), buf, sizeof(buf));
  } else {
    inet_ntop(AF_INET6, bytes_.data(), buf, sizeof(buf));
  }
  return buf;
}

}  // namespace gh::authz::cel

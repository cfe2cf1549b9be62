// Strongly typed identifiers: a TenantId cannot be passed where a UserId is expected.
// Each is a thin wrapper over a string; comparison and hashing follow the string.
#pragma once

#include <compare>
#include <functional>
#include <ostream>
#include <string>
#include <string_view>

namespace gh {

template <typename Tag>
class Id {
 public:
  Id() = default;
  explicit Id(std::string v) : v_(std::move(v)) {}
  const std::string& value() const { return v_; }
  bool empty() const { return v_.empty(); }
  auto operator<=>(const Id&) const = default;
  friend std::ostream& operator<<(std::ostream& os, const Id& id) { return os << id.v_; }

 private:
  std::string v_;
};

using TenantId = Id<struct TenantIdTag>;
using UserId = Id<struct UserIdTag>;
using SessionId = Id<struct SessionIdTag>;
using MessageId = Id<struct MessageIdTag>;
using TraceId = Id<struct TraceIdTag>;
using InvitationId = Id<struct InvitationIdTag>;

}  // namespace gh

template <typename Tag>
struct std::hash<gh::Id<Tag>> {
  size_t operator()(const gh::Id<Tag>& id) const noexcept {
    return std::hash<std::string>()(id.value());
  }
};

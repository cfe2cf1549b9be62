// Secret<T>: a value that must never be printed or logged. Streaming or formatting a Secret
// prints "[redacted]"; the plain value is only reachable through reveal(), which makes every
// use visible in review.
#pragma once

#include <ostream>
#include <string>

namespace gh {

class Secret {
 public:
  Secret() = default;
  explicit Secret(std::string v) : v_(std::move(v)) {}
  const std::string& reveal() const { return v_; }
  bool empty() const { return v_.empty(); }
  friend std::ostream& operator<<(std::ostream& os, const Secret&) { return os << "[redacted]"; }
  bool operator==(const Secret&) const = delete;  // compare with ConstantTimeEquals

 private:
  std::string v_;
};

}  // namespace gh

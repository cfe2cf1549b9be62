// cel::Value: a value of the Common Expression Language as used by OpenFGA conditions.
//
// A Value is one of: null, bool, int (int64), uint (uint64), double, string, bytes, list, map,
// timestamp, duration, ipaddress (OpenFGA's custom type), an error, or "unknown" (a declared
// parameter that was not supplied; OpenFGA evaluates partially and reports it as missing).
// Values are immutable and cheap to copy (containers are shared). Thread-compatible.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "authz/cel/ip_address.h"

namespace gh::authz::cel {

class Value;

struct Null {
  bool operator==(const Null&) const { return true; }
};
struct Bytes {
  std::string data;
};
// Seconds since the Unix epoch plus nanoseconds in [0, 1e9).
struct Timestamp {
  int64_t seconds = 0;
  int32_t nanos = 0;
};
// Signed nanoseconds, as Go's time.Duration.
struct Duration {
  int64_t nanos = 0;
};
struct ErrorValue {
  std::string message;
};
// The names of parameters whose absence made the result undecidable.
struct Unknown {
  std::vector<std::string> names;
};
using List = std::shared_ptr<const std::vector<Value>>;
using Map = std::shared_ptr<const std::vector<std::pair<Value, Value>>>;

enum class Kind {
  kNull,
  kBool,
  kInt,
  kUint,
  kDouble,
  kString,
  kBytes,
  kList,
  kMap,
  kTimestamp,
  kDuration,
  kIpAddress,
  kError,
  kUnknown,
};

std::string_view KindName(Kind kind);

class Value {
 public:
  using Storage = std::variant<Null, bool, int64_t, uint64_t, double, std::string, Bytes, List, Map,
                               Timestamp, Duration, IpAddress, ErrorValue, Unknown>;

  Value() : v_(Null{}) {}
  static Value FromBool(bool b) { return Value(Storage(b)); }
  static Value FromInt(int64_t i) { return Value(Storage(i)); }
  static Value FromUint(uint64_t u) { return Value(Storage(u)); }
  static Value FromDouble(double d) { return Value(Storage(d)); }
  static Value FromString(std::string s) { return Value(Storage(std::move(s))); }
  static Value FromBytes(std::string s) { return Value(Storage(Bytes{std::move(s)})); }
  static Value FromList(std::vector<Value> items);
  static Value FromMap(std::vector<std::pair<Value, Value>> entries);
  static Value FromTimestamp(Timestamp t) { return Value(Storage(t)); }
  static Value FromDuration(Duration d) { return Value(Storage(d)); }
  static Value FromIp(IpAddress ip) { return Value(Storage(std::move(ip))); }
  static Value Error(std::string message) { return Value(Storage(ErrorValue{std::move(message)})); }
  static Value MakeUnknown(std::vector<std::string> names) {
    return Value(Storage(Unknown{std::move(names)}));
  }

  Kind kind() const { return static_cast<Kind>(v_.index()); }
  bool is_error() const { return kind() == Kind::kError; }
  bool is_unknown() const { return kind() == Kind::kUnknown; }

  bool as_bool() const { return std::get<bool>(v_); }
  int64_t as_int() const { return std::get<int64_t>(v_); }
  uint64_t as_uint() const { return std::get<uint64_t>(v_); }
  double as_double() const { return std::get<double>(v_); }
  const std::string& as_string() const { return std::get<std::string>(v_); }
  const std::string& as_bytes() const { return std::get<Bytes>(v_).data; }
  const std::vector<Value>& as_list() const { return *std::get<List>(v_); }
  const std::vector<std::pair<Value, Value>>& as_map() const { return *std::get<Map>(v_); }
  Timestamp as_timestamp() const { return std::get<Timestamp>(v_); }
  Duration as_duration() const { return std::get<Duration>(v_); }
  const IpAddress& as_ip() const { return std::get<IpAddress>(v_); }
  const std::string& error_message() const { return std::get<ErrorValue>(v_).message; }
  const std::vector<std::string>& unknown_names() const { return std::get<Unknown>(v_).names; }

  // Map lookup by key; nullptr when absent (or when this is not a map).
  const Value* MapFind(const Value& key) const;

  // A readable rendering for messages and tests (not CEL syntax in every case).
  std::string DebugString() const;

 private:
  explicit Value(Storage v) : v_(std::move(v)) {}
  Storage v_;
};

// CEL equality: heterogeneous numeric equality, deep for lists and maps. Values of different
// kinds are unequal. Never called with errors or unknowns (the evaluator handles those first).
bool Equal(const Value& a, const Value& b);

// Ordering for <, <=, >, >=: nullopt when the kinds cannot be compared.
std::optional<int> Compare(const Value& a, const Value& b);

}  // namespace gh::authz::cel

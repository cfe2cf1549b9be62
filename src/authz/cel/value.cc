#include "authz/cel/value.h"

#include <cmath>
#include <sstream>

#include "authz/cel/time_text.h"

namespace gh::authz::cel {

std::string_view KindName(Kind kind) {
  switch (kind) {
    case Kind::kNull:
      return "null_type";
    case Kind::kBool:
      return "bool";
    case Kind::kInt:
      return "int";
    case Kind::kUint:
      return "uint";
    case Kind::kDouble:
      return "double";
    case Kind::kString:
      return "string";
    case Kind::kBytes:
      return "bytes";
    case Kind::kList:
      return "list";
    case Kind::kMap:
      return "map";
    case Kind::kTimestamp:
      return "google.protobuf.Timestamp";
    case Kind::kDuration:
      return "google.protobuf.Duration";
    case Kind::kIpAddress:
      return "ipaddress";
    case Kind::kError:
      return "error";
    case Kind::kUnknown:
      return "unknown";
  }
  return "?";
}

Value Value::FromList(std::vector<Value> items) {
  return Value(Storage(std::make_shared<const std::vector<Value>>(std::move(items))));
}

Value Value::FromMap(std::vector<std::pair<Value, Value>> entries) {
  return Value(
      Storage(std::make_shared<const std::vector<std::pair<Value, Value>>>(std::move(entries))));
}

const Value* Value::MapFind(const Value& key) const {
  if (kind() != Kind::kMap) return nullptr;
  for (const auto& [k, v] : as_map()) {
    if (Equal(k, key)) return &v;
  }
  return nullptr;
}

std::string Value::DebugString() const {
  std::ostringstream os;
  switch (kind()) {
    case Kind::kNull:
      return "null";
    case Kind::kBool:
      return as_bool() ? "true" : "false";
    case Kind::kInt:
      return std::to_string(as_int());
    case Kind::kUint:
      return std::to_string(as_uint()) + "u";
    case Kind::kDouble:
      os << as_double();
      return os.str();
    case Kind::kString:
      return "\"" + as_string() + "\"";
    case Kind::kBytes:
      return "b\"" + as_bytes() + "\"";
    case Kind::kList: {
      std::string out = "[";
      for (size_t i = 0; i < as_list().size(); ++i) {
        if (i) out += ", ";
        out += as_list()[i].DebugString();
      }
      return out + "]";
    }
    case Kind::kMap: {
      std::string out = "{";
      bool first = true;
      for (const auto& [k, v] : as_map()) {
        if (!first) out += ", ";
        first = false;
        out += k.DebugString() + ": " + v.DebugString();
      }
      return out + "}";
    }
    case Kind::kTimestamp:
      return "timestamp(\"" + FormatTimestamp(as_timestamp()) + "\")";
    case Kind::kDuration:
      return "duration(\"" + FormatDuration(as_duration()) + "\")";
    case Kind::kIpAddress:
      return "ipaddress(\"" + as_ip().ToString() + "\")";
    case Kind::kError:
      return "error(" + error_message() + ")";
    case Kind::kUnknown: {
      std::string out = "unknown(";
      for (size_t i = 0; i < unknown_names().size(); ++i) {
        if (i) out += ", ";
        out += unknown_names()[i];
      }
      return out + ")";
    }
  }
  return "?";
}

namespace {

bool IsNumeric(Kind k) { return k == Kind::kInt || k == Kind::kUint || k == Kind::kDouble; }

// Compares two numbers of possibly different kinds exactly. nullopt when a NaN is involved.
std::optional<int> CompareNumbers(const Value& a, const Value& b) {
  auto cmp = [](auto x, auto y) { return x < y ? -1 : (y < x ? 1 : 0); };
  Kind ka = a.kind(), kb = b.kind();
  if (ka == kb) {
    if (ka == Kind::kInt) return cmp(a.as_int(), b.as_int());
    if (ka == Kind::kUint) return cmp(a.as_uint(), b.as_uint());
    if (std::isnan(a.as_double()) || std::isnan(b.as_double())) return std::nullopt;
    return cmp(a.as_double(), b.as_double());
  }
  if (ka == Kind::kInt && kb == Kind::kUint) {
    if (a.as_int() < 0) return -1;
    return cmp(static_cast<uint64_t>(a.as_int()), b.as_uint());
  }
  if (ka == Kind::kUint && kb == Kind::kInt) {
    if (b.as_int() < 0) return 1;
    return cmp(a.as_uint(), static_cast<uint64_t>(b.as_int()));
  }
  // One side is a double.
  auto as_long_double = [](const Value& v) -> long double {
    switch (v.kind()) {
      case Kind::kInt:
        return static_cast<long double>(v.as_int());
      case Kind::kUint:
        return static_cast<long double>(v.as_uint());
      default:
        return static_cast<long double>(v.as_double());
    }
  };
  if ((ka == Kind::kDouble && std::isnan(a.as_double())) ||
      (kb == Kind::kDouble && std::isnan(b.as_double()))) {
    return std::nullopt;
  }
  return cmp(as_long_double(a), as_long_double(b));
}

}  // namespace

bool Equal(const Value& a, const Value& b) {
  Kind ka = a.kind(), kb = b.kind();
  if (IsNumeric(ka) && IsNumeric(kb)) {
    auto c = CompareNumbers(a, b);
    return c && *c == 0;
  }
  if (ka != kb) return false;
  switch (ka) {
    case Kind::kNull:
      return true;
    case Kind::kBool:
      return a.as_bool() == b.as_bool();
    case Kind::kString:
      return a.as_string() == b.as_string();
    case Kind::kBytes:
      return a.as_bytes() == b.as_bytes();
    case Kind::kList: {
      const auto& la = a.as_list();
      const auto& lb = b.as_list();
      if (la.size() != lb.size()) return false;
      for (size_t i = 0; i < la.size(); ++i) {
        if (!Equal(la[i], lb[i])) return false;
      }
      return true;
    }
    case Kind::kMap: {
      if (a.as_map().size() != b.as_map().size()) return false;
      for (const auto& [k, v] : a.as_map()) {
        const Value* other = b.MapFind(k);
        if (!other || !Equal(v, *other)) return false;
      }
      return true;
    }
    case Kind::kTimestamp:
      return a.as_timestamp().seconds == b.as_timestamp().seconds &&
             a.as_timestamp().nanos == b.as_timestamp().nanos;
    case Kind::kDuration:
      return a.as_duration().nanos == b.as_duration().nanos;
    case Kind::kIpAddress:
      return a.as_ip() == b.as_ip();
    default:
      return false;
  }
}

std::optional<int> Compare(const Value& a, const Value& b) {
  Kind ka = a.kind(), kb = b.kind();
  auto cmp = [](auto x, auto y) { return x < y ? -1 : (y < x ? 1 : 0); };
  if (IsNumeric(ka) && IsNumeric(kb)) return CompareNumbers(a, b);
  if (ka != kb) return std::nullopt;
  switch (ka) {
    case Kind::kBool:
      return cmp(a.as_bool(), b.as_bool());
    case Kind::kString:
      return cmp(a.as_string(), b.as_string());
    case Kind::kBytes:
      return cmp(a.as_bytes(), b.as_bytes());
    case Kind::kTimestamp: {
      auto x = a.as_timestamp(), y = b.as_timestamp();
      if (x.seconds != y.seconds) return cmp(x.seconds, y.seconds);
      return cmp(x.nanos, y.nanos);
    }
    case Kind::kDuration:
      return cmp(a.as_duration().nanos, b.as_duration().nanos);
    default:
      return std::nullopt;
  }
}

}  // namespace gh::authz::cel

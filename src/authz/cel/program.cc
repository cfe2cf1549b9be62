#include "authz/cel/program.h"

#include <re2/re2.h>

#include <cmath>
#include <cstdlib>
#include <limits>
#include <mutex>
#include <unordered_map>

#include "authz/cel/parser.h"
#include "authz/cel/time_text.h"

namespace gh::authz::cel {
namespace {

using TK = Type::Kind;

Value NoOverload(std::string_view fn, const std::vector<Value>& args) {
  std::string msg = "no such overload: " + std::string(fn) + "(";
  for (size_t i = 0; i < args.size(); ++i) {
    if (i) msg += ", ";
    msg += std::string(KindName(args[i].kind()));
  }
  return Value::Error(msg + ")");
}

// Regular expressions are compiled once per pattern (conditions reuse a handful of patterns).
std::shared_ptr<const RE2> CompiledRegex(const std::string& pattern) {
  static std::mutex mu;
  static std::unordered_map<std::string, std::shared_ptr<const RE2>> cache;
  std::lock_guard<std::mutex> lock(mu);
  auto it = cache.find(pattern);
  if (it != cache.end()) return it->second;
  RE2::Options options;
  options.set_log_errors(false);
  auto re = std::make_shared<const RE2>(pattern, options);
  if (cache.size() > 1024) cache.clear();
  cache.emplace(pattern, re);
  return re;
}

size_t Utf8Length(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) {
    if ((c & 0xC0) != 0x80) ++n;
  }
  return n;
}

Value MergeUnknowns(const Value& a, const Value& b) {
  std::vector<std::string> names = a.unknown_names();
  for (const auto& n : b.unknown_names()) {
    bool seen = false;
    for (const auto& m : names) seen = seen || m == n;
    if (!seen) names.push_back(n);
  }
  return Value::MakeUnknown(std::move(names));
}

std::optional<int64_t> ToIndex(const Value& v) {
  switch (v.kind()) {
    case Kind::kInt:
      return v.as_int();
    case Kind::kUint:
      if (v.as_uint() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return -1;
      return static_cast<int64_t>(v.as_uint());
    case Kind::kDouble: {
      double d = v.as_double();
      if (d != std::trunc(d)) return std::nullopt;
      return static_cast<int64_t>(d);
    }
    default:
      return std::nullopt;
  }
}

Timestamp AddNanos(Timestamp t, int64_t nanos) {
  __int128 total = static_cast<__int128>(t.seconds) * 1'000'000'000 + t.nanos + nanos;
  int64_t secs = static_cast<int64_t>(total / 1'000'000'000);
  int64_t rem = static_cast<int64_t>(total % 1'000'000'000);
  if (rem < 0) {
    rem += 1'000'000'000;
    --secs;
  }
  return Timestamp{secs, static_cast<int32_t>(rem)};
}

Value Arithmetic(std::string_view op, const Value& a, const Value& b) {
  Kind ka = a.kind(), kb = b.kind();
  std::vector<Value> args{a, b};
  if (ka == Kind::kInt && kb == Kind::kInt) {
    int64_t x = a.as_int(), y = b.as_int(), r;
    if (op == "_+_") {
      if (__builtin_add_overflow(x, y, &r)) return Value::Error("integer overflow");
    } else if (op == "_-_") {
      if (__builtin_sub_overflow(x, y, &r)) return Value::Error("integer overflow");
    } else if (op == "_*_") {
      if (__builtin_mul_overflow(x, y, &r)) return Value::Error("integer overflow");
    } else if (op == "_/_") {
      if (y == 0) return Value::Error("division by zero");
      if (x == std::numeric_limits<int64_t>::min() && y == -1) {
        return Value::Error("integer overflow");
      }
      r = x / y;
    } else {
      if (y == 0) return Value::Error("modulus by zero");
      if (x == std::numeric_limits<int64_t>::min() && y == -1) return Value::FromInt(0);
      r = x % y;
    }
    return Value::FromInt(r);
  }
  if (ka == Kind::kUint && kb == Kind::kUint) {
    uint64_t x = a.as_uint(), y = b.as_uint(), r;
    if (op == "_+_") {
      if (__builtin_add_overflow(x, y, &r)) return Value::Error("unsigned integer overflow");
    } else if (op == "_-_") {
      if (__builtin_sub_overflow(x, y, &r)) return Value::Error("unsigned integer overflow");
    } else if (op == "_*_") {
      if (__builtin_mul_overflow(x, y, &r)) return Value::Error("unsigned integer overflow");
    } else if (op == "_/_") {
      if (y == 0) return Value::Error("division by zero");
      r = x / y;
    } else {
      if (y == 0) return Value::Error("modulus by zero");
      r = x % y;
    }
    return Value::FromUint(r);
  }
  if (ka == Kind::kDouble && kb == Kind::kDouble) {
    double x = a.as_double(), y = b.as_double();
    if (op == "_+_") return Value::FromDouble(x + y);
    if (op == "_-_") return Value::FromDouble(x - y);
    if (op == "_*_") return Value::FromDouble(x * y);
    if (op == "_/_") return Value::FromDouble(x / y);
    return NoOverload(op, args);
  }
  if (op == "_+_") {
    if (ka == Kind::kString && kb == Kind::kString) {
      return Value::FromString(a.as_string() + b.as_string());
    }
    if (ka == Kind::kBytes && kb == Kind::kBytes)
      return Value::FromBytes(a.as_bytes() + b.as_bytes());
    if (ka == Kind::kList && kb == Kind::kList) {
      std::vector<Value> items = a.as_list();
      items.insert(items.end(), b.as_list().begin(), b.as_list().end());
      return Value::FromList(std::move(items));
    }
    if (ka == Kind::kTimestamp && kb == Kind::kDuration) {
      return Value::FromTimestamp(AddNanos(a.as_timestamp(), b.as_duration().nanos));
    }
    if (ka == Kind::kDuration && kb == Kind::kTimestamp) {
      return Value::FromTimestamp(AddNanos(b.as_timestamp(), a.as_duration().nanos));
    }
    if (ka == Kind::kDuration && kb == Kind::kDuration) {
      int64_t r;
      if (__builtin_add_overflow(a.as_duration().nanos, b.as_duration().nanos, &r)) {
        return Value::Error("duration overflow");
      }
      return Value::FromDuration(Duration{r});
    }
  }
  if (op == "_-_") {
    if (ka == Kind::kTimestamp && kb == Kind::kTimestamp) {
      __int128 d = (static_cast<__int128>(a.as_timestamp().seconds) - b.as_timestamp().seconds) *
                       1'000'000'000 +
                   (a.as_timestamp().nanos - b.as_timestamp().nanos);
      if (d > std::numeric_limits<int64_t>::max() || d < std::numeric_limits<int64_t>::min()) {
        return Value::Error("duration overflow");
      }
      return Value::FromDuration(Duration{static_cast<int64_t>(d)});
    }
    if (ka == Kind::kTimestamp && kb == Kind::kDuration) {
      return Value::FromTimestamp(AddNanos(a.as_timestamp(), -b.as_duration().nanos));
    }
    if (ka == Kind::kDuration && kb == Kind::kDuration) {
      int64_t r;
      if (__builtin_sub_overflow(a.as_duration().nanos, b.as_duration().nanos, &r)) {
        return Value::Error("duration overflow");
      }
      return Value::FromDuration(Duration{r});
    }
  }
  return NoOverload(op, args);
}

Value ConvertInt(const Value& v) {
  switch (v.kind()) {
    case Kind::kInt:
      return v;
    case Kind::kUint:
      if (v.as_uint() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        return Value::Error("int range error");
      }
      return Value::FromInt(static_cast<int64_t>(v.as_uint()));
    case Kind::kDouble: {
      double d = v.as_double();
      if (!(d > -9.2233720368547758e18 && d < 9.2233720368547758e18)) {
        return Value::Error("int range error");
      }
      return Value::FromInt(static_cast<int64_t>(d));
    }
    case Kind::kString: {
      const std::string& s = v.as_string();
      char* end = nullptr;
      errno = 0;
      long long r = std::strtoll(s.c_str(), &end, 10);
      if (s.empty() || *end != '\0' || errno == ERANGE) {
        return Value::Error("cannot convert '" + s + "' to int");
      }
      return Value::FromInt(r);
    }
    case Kind::kTimestamp:
      return Value::FromInt(v.as_timestamp().seconds);
    case Kind::kDuration:
      return Value::FromInt(v.as_duration().nanos);
    default:
      return NoOverload("int", {v});
  }
}

Value ConvertUint(const Value& v) {
  switch (v.kind()) {
    case Kind::kUint:
      return v;
    case Kind::kInt:
      if (v.as_int() < 0) return Value::Error("uint range error");
      return Value::FromUint(static_cast<uint64_t>(v.as_int()));
    case Kind::kDouble: {
      double d = v.as_double();
      if (!(d > -1.0 && d < 1.8446744073709552e19)) return Value::Error("uint range error");
      return Value::FromUint(static_cast<uint64_t>(d));
    }
    case Kind::kString: {
      const std::string& s = v.as_string();
      char* end = nullptr;
      errno = 0;
      unsigned long long r = std::strtoull(s.c_str(), &end, 10);
      if (s.empty() || s[0] == '-' || *end != '\0' || errno == ERANGE) {
        return Value::Error("cannot convert '" + s + "' to uint");
      }
      return Value::FromUint(r);
    }
    default:
      return NoOverload("uint", {v});
  }
}

Value ConvertDouble(const Value& v) {
  switch (v.kind()) {
    case Kind::kDouble:
      return v;
    case Kind::kInt:
      return Value::FromDouble(static_cast<double>(v.as_int()));
    case Kind::kUint:
      return Value::FromDouble(static_cast<double>(v.as_uint()));
    case Kind::kString: {
      const std::string& s = v.as_string();
      char* end = nullptr;
      double r = std::strtod(s.c_str(), &end);
      if (s.empty() || *end != '\0') return Value::Error("cannot convert '" + s + "' to double");
      return Value::FromDouble(r);
    }
    default:
      return NoOverload("double", {v});
  }
}

std::string FormatDouble(double d) {
  if (std::isnan(d)) return "NaN";
  if (std::isinf(d)) return d > 0 ? "+Inf" : "-Inf";
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.17g", d);
  // Shortest round-trip representation.
  for (int prec = 1; prec <= 17; ++prec) {
    char b2[64];
    std::snprintf(b2, sizeof(b2), "%.*g", prec, d);
    if (std::strtod(b2, nullptr) == d) return b2;
  }
  return buf;
}

Value ConvertString(const Value& v) {
  switch (v.kind()) {
    case Kind::kString:
      return v;
    case Kind::kInt:
      return Value::FromString(std::to_string(v.as_int()));
    case Kind::kUint:
      return Value::FromString(std::to_string(v.as_uint()));
    case Kind::kDouble:
      return Value::FromString(FormatDouble(v.as_double()));
    case Kind::kBool:
      return Value::FromString(v.as_bool() ? "true" : "false");
    case Kind::kBytes:
      return Value::FromString(v.as_bytes());
    case Kind::kTimestamp:
      return Value::FromString(FormatTimestamp(v.as_timestamp()));
    case Kind::kDuration:
      return Value::FromString(FormatDuration(v.as_duration()));
    case Kind::kIpAddress:
      return Value::FromString(v.as_ip().ToString());
    default:
      return NoOverload("string", {v});
  }
}

Value TimeAccessor(const std::string& fn, const Value& target, const std::vector<Value>& args) {
  if (target.kind() == Kind::kDuration) {
    if (!args.empty()) return NoOverload(fn, args);
    int64_t n = target.as_duration().nanos;
    if (fn == "getHours") return Value::FromInt(n / 3'600'000'000'000LL);
    if (fn == "getMinutes") return Value::FromInt(n / 60'000'000'000LL);
    if (fn == "getSeconds") return Value::FromInt(n / 1'000'000'000LL);
    if (fn == "getMilliseconds") return Value::FromInt((n / 1'000'000) % 1000);
    return NoOverload(fn, {target});
  }
  if (target.kind() != Kind::kTimestamp) return NoOverload(fn, {target});
  int64_t offset = 0;
  if (args.size() == 1) {
    if (args[0].kind() != Kind::kString) return NoOverload(fn, args);
    auto z = ParseZoneOffset(args[0].as_string());
    if (!z) return Value::Error("unknown time zone '" + args[0].as_string() + "'");
    offset = *z;
  } else if (args.size() > 1) {
    return NoOverload(fn, args);
  }
  CivilTime c = ToCivil(target.as_timestamp(), offset);
  if (fn == "getFullYear") return Value::FromInt(c.year);
  if (fn == "getMonth") return Value::FromInt(c.month - 1);
  if (fn == "getDate") return Value::FromInt(c.day);
  if (fn == "getDayOfMonth") return Value::FromInt(c.day - 1);
  if (fn == "getDayOfWeek") return Value::FromInt(c.day_of_week);
  if (fn == "getDayOfYear") return Value::FromInt(c.day_of_year);
  if (fn == "getHours") return Value::FromInt(c.hour);
  if (fn == "getMinutes") return Value::FromInt(c.minute);
  if (fn == "getSeconds") return Value::FromInt(c.second);
  if (fn == "getMilliseconds") return Value::FromInt(c.millis);
  return NoOverload(fn, {target});
}

bool IsTimeAccessor(std::string_view fn) {
  return fn == "getFullYear" || fn == "getMonth" || fn == "getDate" || fn == "getDayOfMonth" ||
         fn == "getDayOfWeek" || fn == "getDayOfYear" || fn == "getHours" || fn == "getMinutes" ||
         fn == "getSeconds" || fn == "getMilliseconds";
}

// Applies a strict (non short-circuit) function to evaluated arguments.
Value ApplyFunction(const std::string& fn, const Value* target, const std::vector<Value>& args) {
  size_t n = args.size();
  if (target == nullptr) {
    if (n == 2 && (fn == "_+_" || fn == "_-_" || fn == "_*_" || fn == "_/_" || fn == "_%_")) {
      return Arithmetic(fn, args[0], args[1]);
    }
    if (n == 2 && fn == "_==_") return Value::FromBool(Equal(args[0], args[1]));
    if (n == 2 && fn == "_!=_") return Value::FromBool(!Equal(args[0], args[1]));
    if (n == 2 && (fn == "_<_" || fn == "_<=_" || fn == "_>_" || fn == "_>=_")) {
      auto c = Compare(args[0], args[1]);
      if (!c) {
        // NaN compares false; anything else is an overload error.
        bool numeric = (args[0].kind() == Kind::kDouble || args[0].kind() == Kind::kInt ||
                        args[0].kind() == Kind::kUint) &&
                       (args[1].kind() == Kind::kDouble || args[1].kind() == Kind::kInt ||
                        args[1].kind() == Kind::kUint);
        if (numeric) return Value::FromBool(false);
        return NoOverload(fn, args);
      }
      if (fn == "_<_") return Value::FromBool(*c < 0);
      if (fn == "_<=_") return Value::FromBool(*c <= 0);
      if (fn == "_>_") return Value::FromBool(*c > 0);
      return Value::FromBool(*c >= 0);
    }
    if (n == 1 && fn == "!_") {
      if (args[0].kind() != Kind::kBool) return NoOverload(fn, args);
      return Value::FromBool(!args[0].as_bool());
    }
    if (n == 1 && fn == "-_") {
      switch (args[0].kind()) {
        case Kind::kInt:
          if (args[0].as_int() == std::numeric_limits<int64_t>::min()) {
            return Value::Error("integer overflow");
          }
          return Value::FromInt(-args[0].as_int());
        case Kind::kDouble:
          return Value::FromDouble(-args[0].as_double());
        case Kind::kDuration:
          return Value::FromDuration(Duration{-args[0].as_duration().nanos});
        default:
          return NoOverload(fn, args);
      }
    }
    if (n == 2 && fn == "@in") {
      const Value& container = args[1];
      if (container.kind() == Kind::kList) {
        for (const auto& item : container.as_list()) {
          if (Equal(item, args[0])) return Value::FromBool(true);
        }
        return Value::FromBool(false);
      }
      if (container.kind() == Kind::kMap) return Value::FromBool(container.MapFind(args[0]));
      return NoOverload("@in", args);
    }
    if (n == 2 && fn == "_[_]") {
      const Value& c = args[0];
      if (c.kind() == Kind::kList) {
        auto idx = ToIndex(args[1]);
        if (!idx) return NoOverload(fn, args);
        if (*idx < 0 || *idx >= static_cast<int64_t>(c.as_list().size())) {
          return Value::Error("index out of bounds: " + std::to_string(*idx));
        }
        return c.as_list()[static_cast<size_t>(*idx)];
      }
      if (c.kind() == Kind::kMap) {
        const Value* v = c.MapFind(args[1]);
        if (!v) return Value::Error("no such key: " + args[1].DebugString());
        return *v;
      }
      return NoOverload(fn, args);
    }
    if (n == 1 && fn == "size") {
      return ApplyFunction("size", &args[0], {});
    }
    if (n == 2 && fn == "matches") return ApplyFunction("matches", &args[0], {args[1]});
    if (n == 1 && fn == "int") return ConvertInt(args[0]);
    if (n == 1 && fn == "uint") return ConvertUint(args[0]);
    if (n == 1 && fn == "double") return ConvertDouble(args[0]);
    if (n == 1 && fn == "string") return ConvertString(args[0]);
    if (n == 1 && fn == "dyn") return args[0];
    if (n == 1 && fn == "bytes") {
      if (args[0].kind() == Kind::kBytes) return args[0];
      if (args[0].kind() == Kind::kString) return Value::FromBytes(args[0].as_string());
      return NoOverload(fn, args);
    }
    if (n == 1 && fn == "bool") {
      if (args[0].kind() == Kind::kBool) return args[0];
      if (args[0].kind() == Kind::kString) {
        const std::string& s = args[0].as_string();
        if (s == "true" || s == "True" || s == "TRUE" || s == "t" || s == "1") {
          return Value::FromBool(true);
        }
        if (s == "false" || s == "False" || s == "FALSE" || s == "f" || s == "0") {
          return Value::FromBool(false);
        }
        return Value::Error("cannot convert '" + s + "' to bool");
      }
      return NoOverload(fn, args);
    }
    if (n == 1 && fn == "timestamp") {
      if (args[0].kind() == Kind::kTimestamp) return args[0];
      if (args[0].kind() == Kind::kInt) return Value::FromTimestamp(Timestamp{args[0].as_int(), 0});
      if (args[0].kind() == Kind::kString) {
        auto t = ParseTimestamp(args[0].as_string());
        if (!t) return Value::Error("invalid timestamp '" + args[0].as_string() + "'");
        return Value::FromTimestamp(*t);
      }
      return NoOverload(fn, args);
    }
    if (n == 1 && fn == "duration") {
      if (args[0].kind() == Kind::kDuration) return args[0];
      if (args[0].kind() == Kind::kString) {
        auto d = ParseDuration(args[0].as_string());
        if (!d) return Value::Error("invalid duration '" + args[0].as_string() + "'");
        return Value::FromDuration(*d);
      }
      return NoOverload(fn, args);
    }
    if (n == 1 && fn == "ipaddress") {
      if (args[0].kind() == Kind::kIpAddress) return args[0];
      if (args[0].kind() == Kind::kString) {
        auto ip = IpAddress::Parse(args[0].as_string());
        if (!ip) return Value::Error("invalid ipaddress '" + args[0].as_string() + "'");
        return Value::FromIp(*ip);
      }
      return NoOverload(fn, args);
    }
    return NoOverload(fn, args);
  }

  const Value& t = *target;
  if (fn == "size" && n == 0) {
    switch (t.kind()) {
      case Kind::kString:
        return Value::FromInt(static_cast<int64_t>(Utf8Length(t.as_string())));
      case Kind::kBytes:
        return Value::FromInt(static_cast<int64_t>(t.as_bytes().size()));
      case Kind::kList:
        return Value::FromInt(static_cast<int64_t>(t.as_list().size()));
      case Kind::kMap:
        return Value::FromInt(static_cast<int64_t>(t.as_map().size()));
      default:
        return NoOverload(fn, {t});
    }
  }
  if ((fn == "contains" || fn == "startsWith" || fn == "endsWith" || fn == "matches") && n == 1) {
    if (t.kind() != Kind::kString || args[0].kind() != Kind::kString) {
      return NoOverload(fn, {t, args[0]});
    }
    const std::string& s = t.as_string();
    const std::string& a = args[0].as_string();
    if (fn == "contains") return Value::FromBool(s.find(a) != std::string::npos);
    if (fn == "startsWith") return Value::FromBool(s.rfind(a, 0) == 0);
    if (fn == "endsWith") {
      return Value::FromBool(s.size() >= a.size() &&
                             s.compare(s.size() - a.size(), a.size(), a) == 0);
    }
    auto re = CompiledRegex(a);
    if (!re->ok()) return Value::Error("invalid regular expression: " + re->error());
    return Value::FromBool(RE2::PartialMatch(s, *re));
  }
  if (fn == "in_cidr" && n == 1) {
    if (t.kind() != Kind::kIpAddress || args[0].kind() != Kind::kString) {
      return NoOverload(fn, {t, args[0]});
    }
    auto in = t.as_ip().InCidr(args[0].as_string());
    if (!in) return Value::Error("invalid CIDR '" + args[0].as_string() + "'");
    return Value::FromBool(*in);
  }
  if (IsTimeAccessor(fn)) return TimeAccessor(fn, t, args);
  return NoOverload(fn, args);
}

struct Env {
  const std::vector<Parameter>& params;
  const std::vector<std::optional<Value>>& bindings;
  std::vector<std::pair<const std::string*, Value>> locals;
};

Value Eval(const Expr& e, Env& env);

// Evaluates a boolean operand of && / || / ?:, normalising non-bools to errors.
Value EvalLogicalOperand(const Expr& e, Env& env) {
  Value v = Eval(e, env);
  if (v.is_error() || v.is_unknown() || v.kind() == Kind::kBool) return v;
  return Value::Error("no such overload: logical operator applied to " +
                      std::string(KindName(v.kind())));
}

Value EvalLogical(const Expr& e, Env& env, bool is_and) {
  Value a = EvalLogicalOperand(*e.args[0], env);
  if (a.kind() == Kind::kBool && a.as_bool() != is_and) return a;  // short circuit
  Value b = EvalLogicalOperand(*e.args[1], env);
  if (b.kind() == Kind::kBool && b.as_bool() != is_and) return b;
  if (a.kind() == Kind::kBool && b.kind() == Kind::kBool) return Value::FromBool(is_and);
  if (a.is_unknown() && b.is_unknown()) return MergeUnknowns(a, b);
  if (a.is_unknown()) return a;
  if (b.is_unknown()) return b;
  if (a.is_error()) return a;
  return b;
}

Value EvalComprehension(const Expr& e, Env& env) {
  Value range = Eval(*e.target, env);
  if (range.is_error() || range.is_unknown()) return range;
  std::vector<Value> items;
  if (range.kind() == Kind::kList) {
    items = range.as_list();
  } else if (range.kind() == Kind::kMap) {
    for (const auto& [k, v] : range.as_map()) items.push_back(k);
  } else {
    return Value::Error("no such overload: " + e.name + " on " +
                        std::string(KindName(range.kind())));
  }
  const std::string& fn = e.name;
  std::optional<Value> pending;  // first error/unknown seen, for all/exists
  int64_t true_count = 0;
  std::vector<Value> out;
  for (const auto& item : items) {
    env.locals.emplace_back(&e.var, item);
    Value p = Eval(*e.args[0], env);
    Value transformed;
    bool keep = true;
    if (fn == "map" && e.args.size() == 2) {
      if (p.kind() == Kind::kBool) {
        keep = p.as_bool();
        if (keep) transformed = Eval(*e.args[1], env);
      } else {
        transformed = p.is_error() || p.is_unknown() ? p : Value::Error("map predicate not bool");
      }
    }
    env.locals.pop_back();
    if (fn == "map") {
      Value r = e.args.size() == 2 ? transformed : p;
      if (!keep) continue;
      if (r.is_error() || r.is_unknown()) return r;
      out.push_back(std::move(r));
      continue;
    }
    if (p.is_error() || p.is_unknown()) {
      if (fn == "filter" || fn == "exists_one") return p;
      if (!pending) pending = p;
      continue;
    }
    if (p.kind() != Kind::kBool) return Value::Error("predicate of " + fn + " is not a bool");
    bool b = p.as_bool();
    if (fn == "all" && !b) return Value::FromBool(false);
    if (fn == "exists" && b) return Value::FromBool(true);
    if (fn == "exists_one" && b) ++true_count;
    if (fn == "filter" && b) out.push_back(item);
  }
  if (fn == "all" || fn == "exists") {
    if (pending) return *pending;
    return Value::FromBool(fn == "all");
  }
  if (fn == "exists_one") return Value::FromBool(true_count == 1);
  return Value::FromList(std::move(out));
}

Value Eval(const Expr& e, Env& env) {
  switch (e.kind) {
    case ExprKind::kLiteral:
      return e.value;
    case ExprKind::kIdent: {
      for (auto it = env.locals.rbegin(); it != env.locals.rend(); ++it) {
        if (*it->first == e.name) return it->second;
      }
      for (size_t i = 0; i < env.params.size(); ++i) {
        if (env.params[i].name == e.name) {
          if (env.bindings.size() > i && env.bindings[i]) return *env.bindings[i];
          return Value::MakeUnknown({e.name});
        }
      }
      return Value::Error("undeclared reference to '" + e.name + "'");
    }
    case ExprKind::kSelect: {
      Value operand = Eval(*e.target, env);
      if (operand.is_error() || operand.is_unknown()) return operand;
      if (operand.kind() != Kind::kMap) {
        return Value::Error("type '" + std::string(KindName(operand.kind())) +
                            "' does not support field selection");
      }
      const Value* v = operand.MapFind(Value::FromString(e.name));
      if (e.test_only) return Value::FromBool(v != nullptr);
      if (!v) return Value::Error("no such key: " + e.name);
      return *v;
    }
    case ExprKind::kList:
    case ExprKind::kMap: {
      std::vector<Value> vals;
      std::optional<Value> unknown;
      for (const auto& a : e.args) {
        Value v = Eval(*a, env);
        if (v.is_error()) return v;
        if (v.is_unknown()) unknown = unknown ? MergeUnknowns(*unknown, v) : v;
        vals.push_back(std::move(v));
      }
      if (unknown) return *unknown;
      if (e.kind == ExprKind::kList) return Value::FromList(std::move(vals));
      std::vector<std::pair<Value, Value>> entries;
      for (size_t i = 0; i + 1 < vals.size(); i += 2) {
        Kind k = vals[i].kind();
        if (k != Kind::kString && k != Kind::kInt && k != Kind::kUint && k != Kind::kBool) {
          return Value::Error("unsupported map key type");
        }
        for (const auto& [ek, ev] : entries) {
          if (Equal(ek, vals[i])) return Value::Error("repeated map key");
        }
        entries.emplace_back(vals[i], vals[i + 1]);
      }
      return Value::FromMap(std::move(entries));
    }
    case ExprKind::kComprehension:
      return EvalComprehension(e, env);
    case ExprKind::kCall:
      break;
  }
  const std::string& fn = e.name;
  if (!e.target) {
    if (fn == "_&&_") return EvalLogical(e, env, true);
    if (fn == "_||_") return EvalLogical(e, env, false);
    if (fn == "_?_:_") {
      Value c = EvalLogicalOperand(*e.args[0], env);
      if (c.is_error() || c.is_unknown()) return c;
      return Eval(c.as_bool() ? *e.args[1] : *e.args[2], env);
    }
  }
  std::optional<Value> target;
  std::optional<Value> unknown;
  if (e.target) {
    target = Eval(*e.target, env);
    if (target->is_error()) return *target;
    if (target->is_unknown()) unknown = target;
  }
  std::vector<Value> args;
  args.reserve(e.args.size());
  for (const auto& a : e.args) {
    Value v = Eval(*a, env);
    if (v.is_error()) return v;
    if (v.is_unknown()) unknown = unknown ? MergeUnknowns(*unknown, v) : v;
    args.push_back(std::move(v));
  }
  if (unknown) return *unknown;
  return ApplyFunction(fn, target ? &*target : nullptr, args);
}

// ---- Compile-time checks -------------------------------------------------------------------

bool KnownGlobal(std::string_view fn, size_t n) {
  static const char* kOps[] = {"_+_", "_-_",  "_*_", "_/_", "_%_", "_==_", "_!=_", "_<_",  "_<=_",
                               "_>_", "_>=_", "!_",  "-_",  "@in", "_[_]", "_&&_", "_||_", "_?_:_"};
  for (const char* op : kOps) {
    if (fn == op) return true;
  }
  static const char* kFns[] = {"size", "matches", "int",  "uint",      "double",   "string",
                               "dyn",  "bytes",   "bool", "timestamp", "duration", "ipaddress"};
  for (const char* f : kFns) {
    if (fn == f) return n >= 1 && n <= 2;
  }
  return false;
}

bool KnownMethod(std::string_view fn) {
  return fn == "size" || fn == "contains" || fn == "startsWith" || fn == "endsWith" ||
         fn == "matches" || fn == "in_cidr" || IsTimeAccessor(fn);
}

struct Checker {
  const std::vector<Parameter>& params;
  std::vector<std::string> locals;

  Result<Type> Check(const Expr& e) {
    switch (e.kind) {
      case ExprKind::kLiteral:
        switch (e.value.kind()) {
          case Kind::kBool:
            return Type::Of(TK::kBool);
          case Kind::kInt:
            return Type::Of(TK::kInt);
          case Kind::kUint:
            return Type::Of(TK::kUint);
          case Kind::kDouble:
            return Type::Of(TK::kDouble);
          case Kind::kString:
            return Type::Of(TK::kString);
          case Kind::kBytes:
            return Type::Of(TK::kBytes);
          case Kind::kNull:
            return Type::Of(TK::kNull);
          default:
            return Type::Of(TK::kDyn);
        }
      case ExprKind::kIdent: {
        for (const auto& l : locals) {
          if (l == e.name) return Type::Of(TK::kDyn);
        }
        for (const auto& p : params) {
          if (p.name == e.name) return p.type;
        }
        return Status::InvalidArgument("undeclared reference to '" + e.name +
                                       "' (in container '')");
      }
      case ExprKind::kSelect: {
        GH_ASSIGN_OR_RETURN(Type t, Check(*e.target));
        if (e.test_only) return Type::Of(TK::kBool);
        if (t.kind == TK::kMap && t.elem) return *t.elem;
        return Type::Of(TK::kDyn);
      }
      case ExprKind::kList:
      case ExprKind::kMap:
        for (const auto& a : e.args) GH_RETURN_IF_ERROR(Check(*a).status());
        return Type::Of(e.kind == ExprKind::kList ? TK::kList : TK::kMap);
      case ExprKind::kComprehension: {
        GH_RETURN_IF_ERROR(Check(*e.target).status());
        locals.push_back(e.var);
        for (const auto& a : e.args) {
          auto r = Check(*a);
          if (!r.ok()) {
            locals.pop_back();
            return r.status();
          }
        }
        locals.pop_back();
        if (e.name == "map" || e.name == "filter") return Type::Of(TK::kList);
        return Type::Of(TK::kBool);
      }
      case ExprKind::kCall:
        break;
    }
    std::vector<Type> arg_types;
    if (e.target) {
      GH_RETURN_IF_ERROR(Check(*e.target).status());
      if (!KnownMethod(e.name)) {
        return Status::InvalidArgument("undeclared reference to '" + e.name +
                                       "' (in container '')");
      }
    } else if (!KnownGlobal(e.name, e.args.size())) {
      return Status::InvalidArgument("undeclared reference to '" + e.name + "' (in container '')");
    }
    for (const auto& a : e.args) {
      GH_ASSIGN_OR_RETURN(Type t, Check(*a));
      arg_types.push_back(t);
    }
    const std::string& fn = e.name;
    auto numeric = [](TK k) { return k == TK::kInt || k == TK::kUint || k == TK::kDouble; };
    auto concrete = [](TK k) { return k != TK::kDyn && k != TK::kNull; };
    if (fn == "_<_" || fn == "_<=_" || fn == "_>_" || fn == "_>=_") {
      TK a = arg_types[0].kind, b = arg_types[1].kind;
      if (concrete(a) && concrete(b) && a != b && !(numeric(a) && numeric(b))) {
        return Status::InvalidArgument("found no matching overload for '" + fn + "' applied to '(" +
                                       arg_types[0].Name() + ", " + arg_types[1].Name() + ")'");
      }
      return Type::Of(TK::kBool);
    }
    if (fn == "_==_" || fn == "_!=_" || fn == "!_" || fn == "@in" || fn == "_&&_" || fn == "_||_" ||
        fn == "contains" || fn == "startsWith" || fn == "endsWith" || fn == "matches" ||
        fn == "in_cidr" || fn == "bool") {
      return Type::Of(TK::kBool);
    }
    if (fn == "size" || fn == "int" || IsTimeAccessor(fn)) return Type::Of(TK::kInt);
    if (fn == "uint") return Type::Of(TK::kUint);
    if (fn == "double") return Type::Of(TK::kDouble);
    if (fn == "string") return Type::Of(TK::kString);
    if (fn == "bytes") return Type::Of(TK::kBytes);
    if (fn == "timestamp") return Type::Of(TK::kTimestamp);
    if (fn == "duration") return Type::Of(TK::kDuration);
    if (fn == "ipaddress") return Type::Of(TK::kIpAddress);
    if (fn == "_[_]") {
      const Type& c = arg_types[0];
      if ((c.kind == TK::kList || c.kind == TK::kMap) && c.elem) return *c.elem;
      return Type::Of(TK::kDyn);
    }
    if (fn == "_?_:_") {
      if (arg_types[1].kind == arg_types[2].kind) return arg_types[1];
      return Type::Of(TK::kDyn);
    }
    if (fn == "_+_" || fn == "_-_" || fn == "_*_" || fn == "_/_" || fn == "_%_") {
      TK a = arg_types[0].kind, b = arg_types[1].kind;
      if (a == TK::kTimestamp && b == TK::kTimestamp && fn == "_-_") return Type::Of(TK::kDuration);
      if ((a == TK::kTimestamp && b == TK::kDuration) ||
          (a == TK::kDuration && b == TK::kTimestamp)) {
        return Type::Of(TK::kTimestamp);
      }
      if (concrete(a) && concrete(b) && a != b) {
        return Status::InvalidArgument("found no matching overload for '" + fn + "' applied to '(" +
                                       arg_types[0].Name() + ", " + arg_types[1].Name() + ")'");
      }
      if (a == b) return arg_types[0];
      return Type::Of(TK::kDyn);
    }
    if (fn == "-_") return arg_types[0];
    return Type::Of(TK::kDyn);
  }
};

}  // namespace

std::string Type::Name() const {
  switch (kind) {
    case Kind::kDyn:
      return "dyn";
    case Kind::kNull:
      return "null_type";
    case Kind::kBool:
      return "bool";
    case Kind::kString:
      return "string";
    case Kind::kBytes:
      return "bytes";
    case Kind::kInt:
      return "int";
    case Kind::kUint:
      return "uint";
    case Kind::kDouble:
      return "double";
    case Kind::kDuration:
      return "google.protobuf.Duration";
    case Kind::kTimestamp:
      return "google.protobuf.Timestamp";
    case Kind::kIpAddress:
      return "ipaddress";
    case Kind::kList:
      return "list(" + (elem ? elem->Name() : "dyn") + ")";
    case Kind::kMap:
      return "map(string, " + (elem ? elem->Name() : "dyn") + ")";
  }
  return "dyn";
}

Result<std::shared_ptr<const Program>> Program::Compile(std::string_view expression,
                                                        std::vector<Parameter> params) {
  auto parsed = Parse(expression);
  if (!parsed.ok()) return parsed.status();
  Checker checker{params, {}};
  auto type = checker.Check(**parsed);
  if (!type.ok()) return type.status();
  if (type->kind != TK::kBool && type->kind != TK::kDyn) {
    return Status::InvalidArgument("expected a bool condition expression output, but got '" +
                                   type->Name() + "'");
  }
  auto program = std::shared_ptr<Program>(new Program());
  program->params_ = std::move(params);
  program->root_ = std::move(parsed).value();
  return std::shared_ptr<const Program>(std::move(program));
}

Value Program::Evaluate(const std::vector<std::optional<Value>>& bindings) const {
  Env env{params_, bindings, {}};
  return Eval(*root_, env);
}

Result<Value> ConvertToType(const Value& raw, const Type& type) {
  auto mismatch = [&](std::string_view expected) {
    return Status::InvalidArgument("expected type value '" + std::string(expected) +
                                   "', but found '" + std::string(KindName(raw.kind())) + "'");
  };
  auto number = [&]() -> std::optional<long double> {
    switch (raw.kind()) {
      case Kind::kInt:
        return static_cast<long double>(raw.as_int());
      case Kind::kUint:
        return static_cast<long double>(raw.as_uint());
      case Kind::kDouble:
        return static_cast<long double>(raw.as_double());
      case Kind::kString: {
        char* end = nullptr;
        const std::string& s = raw.as_string();
        long double v = std::strtold(s.c_str(), &end);
        if (s.empty() || *end != '\0') return std::nullopt;
        return v;
      }
      default:
        return std::nullopt;
    }
  };
  switch (type.kind) {
    case TK::kDyn:
      return raw;
    case TK::kNull:
      return raw;
    case TK::kBool:
      if (raw.kind() != Kind::kBool) return mismatch("bool");
      return raw;
    case TK::kString:
      if (raw.kind() != Kind::kString) return mismatch("string");
      return raw;
    case TK::kBytes:
      if (raw.kind() == Kind::kBytes) return raw;
      if (raw.kind() == Kind::kString) return Value::FromBytes(raw.as_string());
      return mismatch("bytes");
    case TK::kInt:
    case TK::kUint:
    case TK::kDouble: {
      if (raw.kind() == Kind::kInt && type.kind == TK::kInt) return raw;
      if (raw.kind() == Kind::kUint && type.kind == TK::kUint) return raw;
      auto n = number();
      if (!n) {
        if (raw.kind() == Kind::kString) {
          return Status::InvalidArgument("expected a " + type.Name() +
                                         " value, but found invalid string value '" +
                                         raw.as_string() + "'");
        }
        return mismatch(type.Name());
      }
      if (type.kind == TK::kDouble) return Value::FromDouble(static_cast<double>(*n));
      if (*n != std::truncl(*n)) {
        return Status::InvalidArgument("expected an " + type.Name() +
                                       " value, but found numeric value '" +
                                       std::to_string(static_cast<double>(*n)) + "'");
      }
      if (type.kind == TK::kInt) {
        if (*n < -9.2233720368547758e18L || *n >= 9.2233720368547758e18L) {
          return Status::InvalidArgument("int value out of range");
        }
        return Value::FromInt(static_cast<int64_t>(*n));
      }
      if (*n < 0) {
        return Status::InvalidArgument("expected a uint value, but found int64 value '" +
                                       std::to_string(static_cast<int64_t>(*n)) + "'");
      }
      return Value::FromUint(static_cast<uint64_t>(*n));
    }
    case TK::kDuration: {
      if (raw.kind() == Kind::kDuration) return raw;
      if (raw.kind() != Kind::kString) {
        return Status::InvalidArgument("expected a duration string, but found: " +
                                       std::string(KindName(raw.kind())));
      }
      auto d = ParseDuration(raw.as_string());
      if (!d) {
        return Status::InvalidArgument("expected a valid duration string, but found: '" +
                                       raw.as_string() + "'");
      }
      return Value::FromDuration(*d);
    }
    case TK::kTimestamp: {
      if (raw.kind() == Kind::kTimestamp) return raw;
      if (raw.kind() != Kind::kString) {
        return Status::InvalidArgument("expected RFC 3339 formatted timestamp string, but found: " +
                                       std::string(KindName(raw.kind())));
      }
      auto t = ParseTimestamp(raw.as_string());
      if (!t) {
        return Status::InvalidArgument("expected RFC 3339 formatted timestamp string, but found '" +
                                       raw.as_string() + "'");
      }
      return Value::FromTimestamp(*t);
    }
    case TK::kIpAddress: {
      if (raw.kind() == Kind::kIpAddress) return raw;
      if (raw.kind() != Kind::kString) {
        return Status::InvalidArgument("expected an ipaddress string, but found: " +
                                       std::string(KindName(raw.kind())));
      }
      auto ip = IpAddress::Parse(raw.as_string());
      if (!ip) {
        return Status::InvalidArgument("expected a well-formed IP address, but found: '" +
                                       raw.as_string() + "'");
      }
      return Value::FromIp(*ip);
    }
    case TK::kList: {
      if (raw.kind() != Kind::kList) return mismatch("list");
      std::vector<Value> items;
      for (const auto& item : raw.as_list()) {
        GH_ASSIGN_OR_RETURN(Value v, ConvertToType(item, type.elem ? *type.elem : Type{}));
        items.push_back(std::move(v));
      }
      return Value::FromList(std::move(items));
    }
    case TK::kMap: {
      if (raw.kind() != Kind::kMap) return mismatch("map");
      std::vector<std::pair<Value, Value>> entries;
      for (const auto& [k, v] : raw.as_map()) {
        if (k.kind() != Kind::kString) return Status::InvalidArgument("map keys must be strings");
        GH_ASSIGN_OR_RETURN(Value cv, ConvertToType(v, type.elem ? *type.elem : Type{}));
        entries.emplace_back(k, std::move(cv));
      }
      return Value::FromMap(std::move(entries));
    }
  }
  return raw;
}

}  // namespace gh::authz::cel

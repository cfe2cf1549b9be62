// Program: a CEL expression compiled against declared parameter types, ready to evaluate many
// times. Compilation parses, rejects references to undeclared names and unknown functions, and
// rejects expressions whose type is known not to be bool (OpenFGA requires a bool output).
//
// Evaluation follows CEL semantics with partial evaluation: a declared parameter that is absent
// from the bindings is "unknown"; `&&`, `||` and the ternary absorb unknowns and errors when the
// other side decides the result (true || unknown == true). The result is a bool Value, an error,
// or an unknown naming the missing parameters.
//
// A Program is immutable after Compile and safe to evaluate from many threads at once.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "authz/cel/ast.h"
#include "authz/cel/value.h"
#include "common/status.h"

namespace gh::authz::cel {

// Declared types of condition parameters (OpenFGA: bool, string, int, uint, double, duration,
// timestamp, ipaddress, list<T>, map<T> (string keys), any).
struct Type {
  enum class Kind {
    kDyn,
    kNull,
    kBool,
    kString,
    kBytes,
    kInt,
    kUint,
    kDouble,
    kDuration,
    kTimestamp,
    kIpAddress,
    kList,
    kMap
  };
  Kind kind = Kind::kDyn;
  std::shared_ptr<const Type> elem;  // list element / map value type

  static Type Of(Kind k) { return Type{k, nullptr}; }
  static Type ListOf(Type t) { return Type{Kind::kList, std::make_shared<const Type>(t)}; }
  static Type MapOf(Type t) { return Type{Kind::kMap, std::make_shared<const Type>(t)}; }
  std::string Name() const;
};

struct Parameter {
  std::string name;
  Type type;
};

class Program {
 public:
  static Result<std::shared_ptr<const Program>> Compile(std::string_view expression,
                                                        std::vector<Parameter> params);

  const std::vector<Parameter>& params() const { return params_; }

  // bindings[i] holds the value of params()[i], or nullopt when it was not supplied.
  Value Evaluate(const std::vector<std::optional<Value>>& bindings) const;

 private:
  Program() = default;
  std::vector<Parameter> params_;
  ExprPtr root_;
};

// Converts a JSON-like context value (as decoded from a request or a tuple) to the declared
// parameter type, following OpenFGA: numbers may arrive as doubles or numeric strings, durations
// as Go duration strings, timestamps as RFC 3339 strings, IP addresses as strings.
// Returns an error Status with a message naming the problem.
Result<Value> ConvertToType(const Value& raw, const Type& type);

}  // namespace gh::authz::cel

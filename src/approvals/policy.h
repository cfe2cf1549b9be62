// Approval rules and what approvals are bound to.
//
// A rule's `when` is "always" or a CEL condition over the call's `arguments` (a map), e.g.
// `arguments.amount > 100` or `arguments.to.endsWith("@example.com") == false`. A condition that
// cannot be evaluated for a call (a missing argument, a type mismatch) requires approval: when in
// doubt, ask. Conditions are compiled once and cached; thread-safe.
//
// An approved tool call is bound to the SHA-256 of its arguments in canonical JSON (object keys
// sorted, no whitespace), so what runs is exactly what the user saw.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"

namespace gh::authz::cel {
class Program;
}

namespace gh::approvals {

std::string CanonicalJson(const boost::json::value& v);
std::string ArgumentsHash(const boost::json::object& arguments);

class Condition {
 public:
  // InvalidArgument "invalid_policy" naming the problem when `when` does not compile.
  static Result<Condition> Compile(std::string_view when);
  // Whether a call with these arguments needs approval.
  bool Requires(const boost::json::object& arguments) const;
  bool always() const { return !program_; }

 private:
  std::shared_ptr<const authz::cel::Program> program_;  // null: always
};

// Compiles with a process-wide cache (policies are evaluated on every tool call).
Result<Condition> CompileCached(std::string_view when);

// Replaces `{arguments.X}` with the argument's value (strings as they are, other values as JSON),
// and `{tool}` with the tool's name; then keeps it printable and at most `max_len` characters.
// An empty template gives "Allow <tool>: k=v, k=v?".
std::string RenderBindingMessage(std::string_view tmpl, std::string_view tool,
                                 const boost::json::object& arguments, size_t max_len = 200);

}  // namespace gh::approvals

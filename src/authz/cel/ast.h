// The syntax tree of a CEL expression. Operators are calls with CEL's internal names
// ("_+_", "_&&_", "_?_:_", "_[_]", "!_", "-_", "@in", ...). Built by Parse(); immutable after.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "authz/cel/value.h"

namespace gh::authz::cel {

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

enum class ExprKind {
  kLiteral,        // value
  kIdent,          // name
  kSelect,         // operand.name; test_only for has(operand.name)
  kCall,           // name(args) or target.name(args)
  kList,           // [args...]
  kMap,            // {args[0]: args[1], ...}
  kComprehension,  // macro: target.name(var, args...)  (all, exists, exists_one, map, filter)
};

struct Expr {
  ExprKind kind = ExprKind::kLiteral;
  Value value;
  std::string name;  // identifier, field, function or macro name
  std::string var;   // comprehension variable
  bool test_only = false;
  ExprPtr target;  // select operand, method receiver, comprehension range
  std::vector<ExprPtr> args;
  int position = 0;  // offset in the source, for messages
};

}  // namespace gh::authz::cel

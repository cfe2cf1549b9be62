// Parse: CEL source text -> syntax tree, following the CEL language definition (literals,
// identifiers, member access, index, calls, list and map literals, unary and binary operators,
// the ternary, and the macros has/all/exists/exists_one/map/filter). Pure function.
#pragma once

#include <string_view>

#include "authz/cel/ast.h"
#include "common/status.h"

namespace gh::authz::cel {

// Errors are InvalidArgument with a message naming the offset, e.g.
// "Syntax error at 4: unexpected token ')'".
Result<ExprPtr> Parse(std::string_view source);

}  // namespace gh::authz::cel

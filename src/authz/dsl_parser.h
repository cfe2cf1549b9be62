// ParseDsl: OpenFGA DSL text (schema 1.1 models and schema 1.2 module files) -> Model, by
// recursive descent following OpenFGAParser.g4. Reports the first syntax error in ANTLR's words
// ("mismatched input ' ' expecting {<EOF>, NEWLINE}", "no viable alternative at input ...")
// with its 0-based line and column, plus the checks OpenFGA's parser makes while building the
// model (duplicate relations, conditions and parameters, `extend` outside modules, a type
// extended twice in one file). Semantic validation is separate (model_validate.h).
// Pure function; never throws.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "authz/model.h"
#include "authz/model_error.h"

namespace gh::authz {

struct DslParseResult {
  Model model;
  std::vector<ModelError> errors;  // empty when the text parsed cleanly
  std::vector<std::string> lines;  // the cleaned source lines (for error positions)
  bool is_module = false;          // `module NAME` header instead of `model`
  std::string module_name;
};

DslParseResult ParseDsl(std::string_view source);

}  // namespace gh::authz

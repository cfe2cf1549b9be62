// ValidateModel: OpenFGA's semantic rules for authorization models, with the same error kinds,
// messages and order as OpenFGA's language tooling: reserved and malformed names, schema
// version, undefined types/relations/conditions in rewrites and type restrictions, tuple-to-
// userset rules (the tupleset must be a direct relation without usersets or wildcards),
// duplicates, relations with no entry point or only a loop, unused conditions, and modules
// mixed in one file.
//
// Positions: when `lines` is given (DSL sources by file; "" is the single-file DSL), errors carry
// the line of the definition and the column of the symbol within it, found the way OpenFGA
// finds it (first whole-word match, with the same special cases). Pure function.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "authz/model.h"
#include "authz/model_error.h"

namespace gh::authz {

using SourceLines = std::map<std::string, std::vector<std::string>>;

std::vector<ModelError> ValidateModel(const Model& model, const SourceLines* lines = nullptr);

// Parses DSL text and validates it: the model, or a validation_error Status listing the syntax
// or semantic errors.
Result<Model> ModelFromDsl(std::string_view dsl);

// Validates a model read from JSON (no positions).
Status ValidateJsonModel(const Model& model);

}  // namespace gh::authz

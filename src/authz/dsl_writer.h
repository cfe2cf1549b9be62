// ModelToDsl: Model -> OpenFGA DSL text, in the canonical layout OpenFGA's tooling writes (the
// layout of the language tests' .fga files). Relations are written in name order (modular
// models: the type's own relations first, then extensions by module and file); conditions by
// name (modular: by module and file). With include_source_info, modular models carry
// "# module: m, file: f" comments. Fails with InvalidArgument for rewrites the DSL cannot express
// (direct assignment anywhere but first, or more than once) and for a condition whose nested
// name differs from its key. Pure function.
#pragma once

#include <string>

#include "authz/model.h"
#include "common/status.h"

namespace gh::authz {

Result<std::string> ModelToDsl(const Model& model, bool include_source_info = false);

}  // namespace gh::authz

// ModelError: one syntax or semantic problem found in an authorization model, with the position
// it points at (0-based line and column range, end exclusive) and OpenFGA's error kind
// ("missing-definition", "relation-no-entry-point", ... ; empty for syntax errors).
// ModelErrorsToStatus folds a list into one validation_error Status for API callers.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"

namespace gh::authz {

struct ModelError {
  std::string message;
  std::string error_type;  // validator kind; empty for syntax errors
  std::string symbol;
  std::string file;  // module file for modular models
  int line = -1;     // -1 when the error has no position (JSON models)
  int col_start = 0;
  int col_end = 0;
  bool syntax = false;

  // "syntax error at line=3, column=4: ..." / "missing-definition error at line=...: ..."
  std::string ToString() const;
};

// InvalidArgument with error_code "validation_error" (OpenFGA's code for invalid models) and a
// message listing every error.
Status ModelErrorsToStatus(const std::vector<ModelError>& errors);

}  // namespace gh::authz

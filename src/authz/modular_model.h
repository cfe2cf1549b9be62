// Modular models (OpenFGA schema 1.2): an `fga.mod` manifest listing module files, each starting
// with `module NAME` and defining or extending (`extend type`) types. CombineModules merges the
// files into one model (types and conditions keep their module and file; relations added by
// `extend type` in another file carry that file's module), then validates it; every error names
// its file. Pure functions; never throw (yaml-cpp errors become ModelErrors).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "authz/model.h"
#include "authz/model_error.h"
#include "common/status.h"

namespace gh::authz {

// A value of the manifest with the span it occupies (0-based lines, end column exclusive).
struct FgaModValue {
  std::string value;
  int line_start = 0, line_end = 0, col_start = 0, col_end = 0;
};

struct FgaMod {
  FgaModValue schema;
  std::vector<FgaModValue> contents;
  int contents_line_start = 0, contents_line_end = 0;
  int contents_col_start = 0, contents_col_end = 0;
};

struct FgaModResult {
  FgaMod mod;
  std::vector<ModelError> errors;
};

FgaModResult ParseFgaMod(std::string_view text);

struct ModuleFile {
  std::string name;  // as listed in fga.mod, e.g. "team1/board.fga"
  std::string contents;
};

struct CombineResult {
  Model model;
  std::vector<ModelError> errors;
};

CombineResult CombineModules(const std::vector<ModuleFile>& files);

// The distinct module names a combined model mentions (types, relations, conditions), sorted.
std::vector<std::string> ModulesOf(const Model& model);

}  // namespace gh::authz

// Store files (`fga model test` format): a model (`model` inline, or `model_file`: .fga DSL,
// fga.mod modular manifest, or .json), tuples (`tuples` inline and/or `tuple_file(s)`: YAML,
// JSON or CSV), and `tests`, each with its own extra tuples and `check`, `list_objects` and
// `list_users` assertions. Paths are relative to the store file's folder. Every test runs
// against a fresh in-memory store holding the global and the test's tuples.
//
// RunStoreFile prints one line per failing assertion and a summary, and returns the process exit
// code: 0 when every assertion passes, 1 when any fails, 2 when the file cannot be read or is
// invalid (schema violations, model errors, bad tuples). Never throws.
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace gh::authz {

struct StoreFileReport {
  int exit_code = 0;
  std::vector<std::string> errors;    // why the file could not be run (exit code 2)
  std::vector<std::string> failures;  // one per failing assertion
  int tests = 0, tests_passed = 0;
  int checks = 0, checks_passed = 0;
  int list_objects = 0, list_objects_passed = 0;
  int list_users = 0, list_users_passed = 0;
};

StoreFileReport RunStoreFileReport(const std::string& path);
int RunStoreFile(const std::string& path, std::ostream& out);

}  // namespace gh::authz

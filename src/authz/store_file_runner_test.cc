// Runs every OpenFGA store file of the shared test data through the store-file runner (the code
// behind `gatehouse fga test`): all assertions must pass, and invalid store files must be
// rejected with exit code 2.
#include "authz/store_file_runner.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace gh::authz {
namespace {

namespace fs = std::filesystem;
const fs::path kOpenFga = fs::path(GH_SHARED_TESTDATA) / "openfga";

std::vector<fs::path> StoreFiles(const fs::path& dir) {
  std::vector<fs::path> out;
  if (!fs::exists(dir)) return out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    std::string name = e.path().filename().string();
    if (e.is_regular_file() && name.size() > 9 && name.substr(name.size() - 9) == ".fga.yaml") {
      out.push_back(e.path());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST(StoreFileRunnerTest, EverySampleStoreFilePassesAllItsAssertions) {
  auto files = StoreFiles(kOpenFga / "sample-stores");
  if (files.empty()) GTEST_SKIP() << "shared sample stores not found under " << kOpenFga;
  int assertions = 0;
  for (const auto& f : files) {
    SCOPED_TRACE(f.string());
    StoreFileReport r = RunStoreFileReport(f.string());
    EXPECT_EQ(r.exit_code, 0);
    for (const auto& e : r.errors) ADD_FAILURE() << e;
    for (const auto& e : r.failures) ADD_FAILURE() << e;
    EXPECT_GT(r.tests, 0);
    assertions += r.checks + r.list_objects + r.list_users;
  }
  EXPECT_GT(files.size(), 30u);
  EXPECT_GE(assertions, 363);  // every assertion of the 32 sample store files
}

TEST(StoreFileRunnerTest, LanguageTestStoresAreAcceptedOrRejectedAsExpected) {
  fs::path dir = kOpenFga / "language-tests" / "stores";
  if (!fs::exists(dir)) GTEST_SKIP() << "language-test stores not found";
  for (const auto& store_dir : fs::directory_iterator(dir)) {
    fs::path file = store_dir.path() / "store.fga.yaml";
    SCOPED_TRACE(file.string());
    StoreFileReport r = RunStoreFileReport(file.string());
    if (fs::exists(store_dir.path() / "expected_errors.json")) {
      EXPECT_EQ(r.exit_code, 2);
      ASSERT_FALSE(r.errors.empty());
    } else {
      EXPECT_EQ(r.exit_code, 0);
      for (const auto& e : r.errors) ADD_FAILURE() << e;
      for (const auto& e : r.failures) ADD_FAILURE() << e;
    }
  }
}

TEST(StoreFileRunnerTest, ReportsFailingAssertionsAndExitsWithOne) {
  fs::path tmp = fs::temp_directory_path() / "gh_authz_failing.fga.yaml";
  {
    std::ofstream out(tmp);
    out << "model: |\n  model\n    schema 1.1\n  type user\n  type doc\n    relations\n"
           "      define viewer: [user]\n"
           "tuples:\n  - user: user:anne\n    relation: viewer\n    object: doc:1\n"
           "tests:\n  - name: wrong on purpose\n    check:\n      - user: user:anne\n"
           "        object: doc:1\n        assertions:\n          viewer: false\n";
  }
  std::ostringstream out;
  EXPECT_EQ(RunStoreFile(tmp.string(), out), 1);
  EXPECT_NE(out.str().find("FAIL wrong on purpose: Check(user=user:anne, relation=viewer, "
                           "object=doc:1): expected=false, got=true"),
            std::string::npos)
      << out.str();
  EXPECT_NE(out.str().find("Checks 0/1 passing"), std::string::npos);
  std::ostringstream missing;
  EXPECT_EQ(RunStoreFile("/nonexistent/store.fga.yaml", missing), 2);
  fs::remove(tmp);
}

}  // namespace
}  // namespace gh::authz

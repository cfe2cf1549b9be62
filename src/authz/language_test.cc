// Runs OpenFGA's language test cases (shared/testdata/openfga/language-tests): DSL <-> JSON
// transformer pairs, DSL syntax and semantic validation cases, JSON validation cases, JSON -> DSL
// failures, fga.mod manifests and modular models.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "authz/dsl_parser.h"
#include "authz/dsl_writer.h"
#include "authz/model_json.h"
#include "authz/model_validate.h"
#include "authz/modular_model.h"

namespace gh::authz {
namespace {

namespace fs = std::filesystem;
namespace bj = boost::json;

const fs::path kRoot = fs::path(GH_SHARED_TESTDATA) / "openfga" / "language-tests";

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

#define SKIP_WITHOUT_TESTDATA() \
  if (!fs::exists(kRoot)) GTEST_SKIP() << "shared test data not found at " << kRoot

std::vector<fs::path> SortedDirs(const fs::path& dir) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.is_directory()) out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// DSL parse + validation as OpenFGA's validateDSL does it: syntax errors stop before validation.
std::vector<ModelError> ValidateDsl(const std::string& dsl) {
  DslParseResult parsed = ParseDsl(dsl);
  if (!parsed.errors.empty()) return parsed.errors;
  SourceLines lines{{"", parsed.lines}};
  return ValidateModel(parsed.model, &lines);
}

TEST(LanguageTransformerTest, EveryDslJsonPairTransformsBothWays) {
  SKIP_WITHOUT_TESTDATA();
  int cases = 0;
  for (const auto& dir : SortedDirs(kRoot / "transformer")) {
    SCOPED_TRACE(dir.filename().string());
    if (fs::exists(dir / "test.skip")) continue;
    std::string dsl = ReadFile(dir / "authorization-model.fga");
    std::string json = ReadFile(dir / "authorization-model.json");
    // Like OpenFGA's transformer, DSL -> JSON parses without semantic validation.
    DslParseResult parsed = ParseDsl(dsl);
    ASSERT_TRUE(parsed.errors.empty()) << parsed.errors[0].ToString();
    bj::value expected = NormalizeModelJson(bj::parse(json));
    bj::value actual = NormalizeModelJson(ModelToJson(parsed.model));
    EXPECT_TRUE(actual == expected) << bj::serialize(actual) << "\n" << bj::serialize(expected);
    auto from_json = ModelFromJsonString(json);
    ASSERT_TRUE(from_json.ok()) << from_json.status().message();
    auto written = ModelToDsl(*from_json);
    ASSERT_TRUE(written.ok()) << written.status().message();
    EXPECT_EQ(*written, dsl);
    ++cases;
  }
  EXPECT_GT(cases, 20);
}

bool IsAntlrMessage(const std::string& msg) {
  for (const char* p :
       {"mismatched input", "extraneous input", "missing ", "no viable alternative"}) {
    if (msg.rfind(p, 0) == 0) return true;
  }
  return false;
}

TEST(LanguageValidationTest, DslSyntaxCasesFailWhereOpenFgaFailsAndPointAtTheSamePlace) {
  SKIP_WITHOUT_TESTDATA();
  YAML::Node cases = YAML::LoadFile((kRoot / "dsl-syntax-validation-cases.yaml").string());
  int total = 0, exact_messages = 0, antlr_cases = 0;
  for (const auto& c : cases) {
    if (c["skip"] && c["skip"].as<bool>()) continue;
    std::string name = c["name"].as<std::string>();
    SCOPED_TRACE(name);
    ++total;
    auto errors = ValidateDsl(c["dsl"].as<std::string>());
    YAML::Node expected = c["expected_errors"];
    if (!expected || expected.size() == 0) {
      EXPECT_TRUE(errors.empty()) << (errors.empty() ? "" : errors[0].ToString());
      continue;
    }
    ASSERT_FALSE(errors.empty());
    std::string first_msg = expected[0]["msg"].as<std::string>();
    if (IsAntlrMessage(first_msg)) {
      // ANTLR's error recovery reports follow-on errors; we report the first one, in the same
      // words and at the same place.
      ++antlr_cases;
      EXPECT_EQ(errors[0].line, expected[0]["line"]["start"].as<int>());
      EXPECT_EQ(errors[0].col_start, expected[0]["column"]["start"].as<int>());
      EXPECT_EQ(errors[0].message, first_msg);
      if (errors[0].message == first_msg) ++exact_messages;
      continue;
    }
    ASSERT_EQ(errors.size(), expected.size());
    for (size_t i = 0; i < expected.size(); ++i) {
      EXPECT_EQ(errors[i].message, expected[i]["msg"].as<std::string>());
      EXPECT_EQ(errors[i].line, expected[i]["line"]["start"].as<int>());
      EXPECT_EQ(errors[i].col_start, expected[i]["column"]["start"].as<int>());
      EXPECT_EQ(errors[i].col_end, expected[i]["column"]["end"].as<int>());
    }
  }
  std::cout << "[          ] syntax cases: " << total << ", ANTLR-worded first errors matched "
            << exact_messages << "/" << antlr_cases << "\n";
  EXPECT_GT(total, 70);
}

void ExpectSameErrors(const std::vector<ModelError>& errors, const YAML::Node& expected,
                      bool positions) {
  ASSERT_EQ(errors.size(), expected.size()) << (errors.empty() ? "" : errors[0].ToString());
  for (size_t i = 0; i < expected.size(); ++i) {
    const YAML::Node& e = expected[i];
    EXPECT_EQ(errors[i].message, e["msg"].as<std::string>());
    if (e["metadata"] && e["metadata"]["errorType"]) {
      EXPECT_EQ(errors[i].error_type, e["metadata"]["errorType"].as<std::string>());
    }
    if (e["metadata"] && e["metadata"]["symbol"] && !positions) {
      EXPECT_EQ(errors[i].symbol, e["metadata"]["symbol"].as<std::string>());
    }
    if (positions && e["line"]) {
      EXPECT_EQ(errors[i].line, e["line"]["start"].as<int>()) << errors[i].message;
      EXPECT_EQ(errors[i].col_start, e["column"]["start"].as<int>()) << errors[i].message;
      EXPECT_EQ(errors[i].col_end, e["column"]["end"].as<int>()) << errors[i].message;
    }
  }
}

TEST(LanguageValidationTest, DslSemanticCasesReportOpenFgasErrorsInOrderWithPositions) {
  SKIP_WITHOUT_TESTDATA();
  YAML::Node cases = YAML::LoadFile((kRoot / "dsl-semantic-validation-cases.yaml").string());
  int total = 0;
  for (const auto& c : cases) {
    if (c["skip"] && c["skip"].as<bool>()) continue;
    SCOPED_TRACE(c["name"].as<std::string>());
    ++total;
    auto errors = ValidateDsl(c["dsl"].as<std::string>());
    YAML::Node expected = c["expected_errors"];
    if (!expected || expected.size() == 0) {
      EXPECT_TRUE(errors.empty()) << (errors.empty() ? "" : errors[0].ToString());
      continue;
    }
    ExpectSameErrors(errors, expected, true);
  }
  EXPECT_GT(total, 80);
}

TEST(LanguageValidationTest, JsonModelCasesReportOpenFgasErrors) {
  SKIP_WITHOUT_TESTDATA();
  YAML::Node cases = YAML::LoadFile((kRoot / "json-validation-cases.yaml").string());
  for (const auto& c : cases) {
    SCOPED_TRACE(c["name"].as<std::string>());
    auto model = ModelFromJsonString(c["json"].as<std::string>());
    ASSERT_TRUE(model.ok()) << model.status().message();
    auto errors = ValidateModel(*model, nullptr);
    YAML::Node expected = c["expected_errors"];
    if (!expected || expected.size() == 0) {
      EXPECT_TRUE(errors.empty()) << (errors.empty() ? "" : errors[0].ToString());
      continue;
    }
    ExpectSameErrors(errors, expected, false);
  }
}

TEST(LanguageTransformerTest, JsonThatTheDslCannotExpressIsRejected) {
  SKIP_WITHOUT_TESTDATA();
  YAML::Node cases =
      YAML::LoadFile((kRoot / "json-syntax-transformer-validation-cases.yaml").string());
  for (const auto& c : cases) {
    SCOPED_TRACE(c["name"].as<std::string>());
    auto model = ModelFromJsonString(c["json"].as<std::string>());
    ASSERT_TRUE(model.ok()) << model.status().message();
    auto dsl = ModelToDsl(*model);
    if (c["error_message"]) {
      ASSERT_FALSE(dsl.ok());
      EXPECT_EQ(dsl.status().message(), c["error_message"].as<std::string>());
    } else {
      EXPECT_TRUE(dsl.ok()) << dsl.status().message();
    }
  }
}

bj::value SpanJson(int ls, int le, int cs, int ce) {
  return bj::object{{"line", bj::object{{"start", ls}, {"end", le}}},
                    {"column", bj::object{{"start", cs}, {"end", ce}}}};
}

TEST(LanguageModulesTest, FgaModManifestsParseOrFailLikeOpenFga) {
  SKIP_WITHOUT_TESTDATA();
  YAML::Node cases = YAML::LoadFile((kRoot / "fga-mod-transformer-cases.yaml").string());
  for (const auto& c : cases) {
    SCOPED_TRACE(c["name"].as<std::string>());
    FgaModResult r = ParseFgaMod(c["modFile"].as<std::string>());
    if (c["expected_errors"]) {
      const YAML::Node& expected = c["expected_errors"];
      ASSERT_EQ(r.errors.size(), expected.size());
      for (size_t i = 0; i < expected.size(); ++i) {
        EXPECT_EQ(r.errors[i].message, expected[i]["msg"].as<std::string>());
        EXPECT_EQ(r.errors[i].line, expected[i]["line"]["start"].as<int>());
        EXPECT_EQ(r.errors[i].col_start, expected[i]["column"]["start"].as<int>());
        EXPECT_EQ(r.errors[i].col_end, expected[i]["column"]["end"].as<int>());
      }
      continue;
    }
    ASSERT_TRUE(r.errors.empty()) << r.errors[0].message;
    bj::object actual;
    bj::object schema = SpanJson(r.mod.schema.line_start, r.mod.schema.line_end,
                                 r.mod.schema.col_start, r.mod.schema.col_end)
                            .as_object();
    schema["value"] = r.mod.schema.value;
    actual["schema"] = schema;
    bj::array items;
    for (const auto& v : r.mod.contents) {
      bj::object item = SpanJson(v.line_start, v.line_end, v.col_start, v.col_end).as_object();
      item["value"] = v.value;
      items.push_back(item);
    }
    bj::object contents = SpanJson(r.mod.contents_line_start, r.mod.contents_line_end,
                                   r.mod.contents_col_start, r.mod.contents_col_end)
                              .as_object();
    contents["value"] = items;
    actual["contents"] = contents;
    EXPECT_EQ(bj::value(actual), bj::parse(c["json"].as<std::string>()));
  }
}

TEST(LanguageModulesTest, ModuleFilesCombineIntoOneModelOrReportErrorsPerFile) {
  SKIP_WITHOUT_TESTDATA();
  int cases = 0;
  for (const auto& dir : SortedDirs(kRoot / "transformer-module")) {
    SCOPED_TRACE(dir.filename().string());
    ++cases;
    if (fs::exists(dir / "expected_modules.json") && !fs::exists(dir / "module")) {
      // JSON only: the module list and the DSL rendering.
      auto model = ModelFromJsonString(ReadFile(dir / "authorization-model.json"));
      ASSERT_TRUE(model.ok());
      bj::array expected = bj::parse(ReadFile(dir / "expected_modules.json")).as_array();
      auto modules = ModulesOf(*model);
      ASSERT_EQ(modules.size(), expected.size());
      for (size_t i = 0; i < modules.size(); ++i) EXPECT_EQ(modules[i], expected[i].as_string());
      EXPECT_TRUE(ModelToDsl(*model, true).ok());
      continue;
    }
    std::vector<ModuleFile> files;
    std::vector<fs::path> paths;
    for (const auto& e : fs::recursive_directory_iterator(dir / "module")) {
      if (e.is_regular_file()) paths.push_back(e.path());
    }
    std::sort(paths.begin(), paths.end());
    for (const auto& p : paths) {
      files.push_back(ModuleFile{fs::relative(p, dir / "module").string(), ReadFile(p)});
    }
    CombineResult r = CombineModules(files);
    if (fs::exists(dir / "expected_errors.json")) {
      bj::array expected = bj::parse(ReadFile(dir / "expected_errors.json")).as_array();
      ASSERT_EQ(r.errors.size(), expected.size())
          << (r.errors.empty() ? "" : r.errors[0].ToString());
      for (size_t i = 0; i < expected.size(); ++i) {
        const bj::object& e = expected[i].as_object();
        EXPECT_EQ(r.errors[i].message, e.at("msg").as_string());
        EXPECT_EQ(r.errors[i].file, e.at("file").as_string());
        EXPECT_EQ(r.errors[i].line, e.at("line").at("start").as_int64());
        EXPECT_EQ(r.errors[i].col_start, e.at("column").at("start").as_int64());
        EXPECT_EQ(r.errors[i].col_end, e.at("column").at("end").as_int64());
      }
      continue;
    }
    ASSERT_TRUE(r.errors.empty()) << r.errors[0].ToString();
    bj::value expected = NormalizeModelJson(bj::parse(ReadFile(dir / "authorization-model.json")));
    bj::value actual = NormalizeModelJson(ModelToJson(r.model));
    EXPECT_TRUE(actual == expected) << bj::serialize(actual) << "\n" << bj::serialize(expected);
    auto dsl = ModelToDsl(r.model);
    ASSERT_TRUE(dsl.ok());
    EXPECT_EQ(*dsl, ReadFile(dir / "combined.fga"));
    auto dsl_info = ModelToDsl(r.model, true);
    ASSERT_TRUE(dsl_info.ok());
    EXPECT_EQ(*dsl_info, ReadFile(dir / "combined-sourceinfo.fga"));
    bj::array modules = bj::parse(ReadFile(dir / "expected_modules.json")).as_array();
    auto actual_modules = ModulesOf(r.model);
    ASSERT_EQ(actual_modules.size(), modules.size());
  }
  EXPECT_GE(cases, 7);
}

}  // namespace
}  // namespace gh::authz

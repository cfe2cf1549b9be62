#include "authz/store_file_runner.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "authz/dsl_parser.h"
#include "authz/model_json.h"
#include "authz/model_validate.h"
#include "authz/modular_model.h"
#include "authz/store.h"
#include "common/clock.h"
#include "common/random.h"

namespace gh::authz {
namespace {

namespace fs = std::filesystem;
namespace bj = boost::json;

Result<std::string> ReadText(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return Status::NotFound("cannot read " + p.string());
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// YAML scalars follow YAML 1.2's core schema: plain 1 / 1.5 / true / null are typed, quoted
// scalars are strings.
bj::value YamlToJson(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map: {
      bj::object o;
      for (const auto& kv : node) o[kv.first.Scalar()] = YamlToJson(kv.second);
      return o;
    }
    case YAML::NodeType::Sequence: {
      bj::array a;
      for (const auto& item : node) a.push_back(YamlToJson(item));
      return a;
    }
    case YAML::NodeType::Scalar: {
      const std::string& s = node.Scalar();
      if (node.Tag() == "!") return bj::value(s);
      if (s == "true" || s == "True" || s == "TRUE") return true;
      if (s == "false" || s == "False" || s == "FALSE") return false;
      if (s == "null" || s == "~" || s == "Null" || s == "NULL") return nullptr;
      if (!s.empty()) {
        char* end = nullptr;
        errno = 0;
        long long i = std::strtoll(s.c_str(), &end, 10);
        if (*end == '\0' && errno == 0) return bj::value(static_cast<int64_t>(i));
        double d = std::strtod(s.c_str(), &end);
        if (*end == '\0') return bj::value(d);
      }
      return bj::value(s);
    }
    default:
      return nullptr;
  }
}

std::string Str(const YAML::Node& n) { return n && n.IsScalar() ? n.Scalar() : std::string(); }

Status CheckKeys(const YAML::Node& node, std::initializer_list<const char*> allowed,
                 const std::string& where) {
  if (!node.IsMap()) return Status::InvalidArgument(where + " must be a mapping");
  for (const auto& kv : node) {
    std::string key = kv.first.Scalar();
    bool ok = false;
    for (const char* a : allowed) ok = ok || key == a;
    if (!ok) {
      return Status::InvalidArgument(where + " must NOT have additional properties ('" + key +
                                     "')");
    }
  }
  return Status::Ok();
}

Result<TupleKey> TupleFromYaml(const YAML::Node& n, const std::string& where) {
  GH_RETURN_IF_ERROR(CheckKeys(n, {"user", "relation", "object", "condition"}, where));
  TupleKey t{Str(n["user"]), Str(n["relation"]), Str(n["object"]), std::nullopt};
  if (t.user.empty() || t.relation.empty() || t.object.empty()) {
    return Status::InvalidArgument(where + " needs user, relation and object");
  }
  if (n["condition"]) {
    const YAML::Node& c = n["condition"];
    GH_RETURN_IF_ERROR(CheckKeys(c, {"name", "context"}, where + ".condition"));
    TupleCondition cond{Str(c["name"]), {}};
    if (c["context"] && c["context"].IsMap()) cond.context = YamlToJson(c["context"]).as_object();
    t.condition = std::move(cond);
  }
  return t;
}

Result<std::vector<TupleKey>> TuplesFromYamlList(const YAML::Node& list, const std::string& where) {
  std::vector<TupleKey> out;
  if (!list) return out;
  if (!list.IsSequence()) return Status::InvalidArgument(where + " must be a list");
  for (size_t i = 0; i < list.size(); ++i) {
    GH_ASSIGN_OR_RETURN(TupleKey t, TupleFromYaml(list[i], where + "[" + std::to_string(i) + "]"));
    out.push_back(std::move(t));
  }
  return out;
}

std::vector<std::string> SplitCsvLine(const std::string& line) {
  std::vector<std::string> cells;
  std::string cur;
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        cur += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        cur += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      cells.push_back(cur);
      cur.clear();
    } else if (c != '\r') {
      cur += c;
    }
  }
  cells.push_back(cur);
  return cells;
}

// OpenFGA CLI tuple files: YAML or JSON lists of tuples, or CSV with the columns user_type,
// user_id, user_relation, relation, object_type, object_id, condition_name, condition_context.
Result<std::vector<TupleKey>> ReadTupleFile(const fs::path& path) {
  GH_ASSIGN_OR_RETURN(std::string text, ReadText(path));
  std::string ext = path.extension().string();
  if (ext == ".csv") {
    std::vector<TupleKey> out;
    std::istringstream in(text);
    std::string line;
    std::vector<std::string> header;
    while (std::getline(in, line)) {
      if (line.empty() || line == "\r") continue;
      auto cells = SplitCsvLine(line);
      if (header.empty()) {
        header = cells;
        continue;
      }
      auto col = [&](const char* name) -> std::string {
        for (size_t i = 0; i < header.size() && i < cells.size(); ++i) {
          if (header[i] == name) return cells[i];
        }
        return "";
      };
      TupleKey t;
      t.user = col("user_type") + ":" + col("user_id");
      if (!col("user_relation").empty()) t.user += "#" + col("user_relation");
      t.relation = col("relation");
      t.object = col("object_type") + ":" + col("object_id");
      if (!col("condition_name").empty()) {
        TupleCondition c{col("condition_name"), {}};
        std::string ctx = col("condition_context");
        if (!ctx.empty()) {
          boost::system::error_code ec;
          bj::value v = bj::parse(ctx, ec);
          if (ec || !v.is_object()) return Status::InvalidArgument("bad condition_context in CSV");
          c.context = v.as_object();
        }
        t.condition = std::move(c);
      }
      out.push_back(std::move(t));
    }
    return out;
  }
  try {
    YAML::Node root = YAML::Load(text);  // JSON is YAML
    return TuplesFromYamlList(root, path.filename().string());
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument("cannot parse " + path.string() + ": " + e.what());
  }
}

Result<Model> LoadModel(const YAML::Node& root, const fs::path& base) {
  if (root["model"]) {
    std::string text = Str(root["model"]);
    if (!text.empty() && text.find_first_not_of(" \t\r\n") != std::string::npos &&
        text[text.find_first_not_of(" \t\r\n")] == '{') {
      GH_ASSIGN_OR_RETURN(Model m, ModelFromJsonString(text));
      GH_RETURN_IF_ERROR(ValidateJsonModel(m));
      return m;
    }
    return ModelFromDsl(text);
  }
  fs::path file = base / Str(root["model_file"]);
  GH_ASSIGN_OR_RETURN(std::string text, ReadText(file));
  if (file.extension() == ".json") {
    GH_ASSIGN_OR_RETURN(Model m, ModelFromJsonString(text));
    GH_RETURN_IF_ERROR(ValidateJsonModel(m));
    return m;
  }
  if (file.extension() == ".mod" || file.filename() == "fga.mod") {
    FgaModResult mod = ParseFgaMod(text);
    if (!mod.errors.empty()) return ModelErrorsToStatus(mod.errors);
    std::vector<ModuleFile> files;
    for (const auto& item : mod.mod.contents) {
      GH_ASSIGN_OR_RETURN(std::string contents, ReadText(file.parent_path() / item.value));
      files.push_back(ModuleFile{item.value, std::move(contents)});
    }
    CombineResult combined = CombineModules(files);
    if (!combined.errors.empty()) return ModelErrorsToStatus(combined.errors);
    return combined.model;
  }
  return ModelFromDsl(text);
}

std::string Join(const std::vector<std::string>& v) {
  std::string out = "[";
  for (size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + v[i];
  return out + "]";
}

struct TestCase {
  std::string name;
  std::vector<TupleKey> tuples;
  YAML::Node node;
};

}  // namespace

StoreFileReport RunStoreFileReport(const std::string& path_text) {
  StoreFileReport report;
  auto fail_file = [&](const std::string& msg) {
    report.errors.push_back(msg);
    report.exit_code = 2;
    return report;
  };
  fs::path path(path_text);
  auto text = ReadText(path);
  if (!text.ok()) return fail_file(text.status().message());
  YAML::Node root;
  try {
    root = YAML::Load(*text);
  } catch (const YAML::Exception& e) {
    return fail_file(std::string("invalid YAML: ") + e.what());
  }
  fs::path base = path.parent_path();
  Model model;
  std::vector<TupleKey> global;
  std::vector<TestCase> tests;
  try {
    Status keys = CheckKeys(
        root, {"name", "model_file", "model", "tuple_file", "tuple_files", "tuples", "tests"},
        "store file");
    if (!keys.ok()) return fail_file(keys.message());
    if (!root["model"] && !root["model_file"]) {
      return fail_file("'model' or 'model_file' must be present keys.");
    }
    if (!root["tests"] || !root["tests"].IsSequence()) {
      return fail_file("the store file needs a 'tests' list");
    }
    auto m = LoadModel(root, base);
    if (!m.ok()) return fail_file("invalid model: " + m.status().message());
    model = std::move(m).value();
    auto inline_tuples = TuplesFromYamlList(root["tuples"], "tuples");
    if (!inline_tuples.ok()) return fail_file(inline_tuples.status().message());
    global = std::move(inline_tuples).value();
    std::vector<std::string> tuple_files;
    if (root["tuple_file"]) tuple_files.push_back(Str(root["tuple_file"]));
    if (root["tuple_files"] && root["tuple_files"].IsSequence()) {
      for (const auto& f : root["tuple_files"]) tuple_files.push_back(Str(f));
    }
    for (const auto& f : tuple_files) {
      auto more = ReadTupleFile(base / f);
      if (!more.ok()) return fail_file("tuple file " + f + ": " + more.status().message());
      global.insert(global.end(), more->begin(), more->end());
    }
    for (size_t i = 0; i < root["tests"].size(); ++i) {
      const YAML::Node& tn = root["tests"][i];
      std::string where = "tests[" + std::to_string(i) + "]";
      Status tk = CheckKeys(
          tn,
          {"name", "description", "tuple_file", "tuples", "check", "list_objects", "list_users"},
          where);
      if (!tk.ok()) return fail_file(tk.message());
      TestCase tc{Str(tn["name"]), {}, tn};
      auto tt = TuplesFromYamlList(tn["tuples"], where + ".tuples");
      if (!tt.ok()) return fail_file(tt.status().message());
      tc.tuples = std::move(tt).value();
      if (tn["tuple_file"]) {
        auto more = ReadTupleFile(base / Str(tn["tuple_file"]));
        if (!more.ok()) return fail_file(more.status().message());
        tc.tuples.insert(tc.tuples.end(), more->begin(), more->end());
      }
      for (const auto& [section, keys_list] :
           std::vector<std::pair<const char*, std::vector<const char*>>>{
               {"check", {"user", "object", "assertions", "context"}},
               {"list_objects", {"user", "type", "assertions", "context"}},
               {"list_users", {"object", "user_filter", "assertions", "context"}}}) {
        if (!tn[section]) continue;
        if (!tn[section].IsSequence()) return fail_file(where + "." + section + " must be a list");
        for (size_t j = 0; j < tn[section].size(); ++j) {
          const YAML::Node& item = tn[section][j];
          if (!item.IsMap()) return fail_file(where + "." + section + " items must be mappings");
          for (const auto& kv : item) {
            std::string key = kv.first.Scalar();
            if (std::find_if(keys_list.begin(), keys_list.end(),
                             [&](const char* k) { return key == k; }) == keys_list.end()) {
              return fail_file(where + "." + section + "[" + std::to_string(j) +
                               "] must NOT have additional properties ('" + key + "')");
            }
          }
        }
      }
      tests.push_back(std::move(tc));
    }
  } catch (const YAML::Exception& e) {
    return fail_file(std::string("invalid store file: ") + e.what());
  }

  for (const auto& test : tests) {
    ++report.tests;
    size_t failures_before = report.failures.size();
    FakeClock clock;
    SeededRandom random(1);
    StoreLimits limits;
    limits.max_tuples_per_write = 1'000'000;
    Store store(StoreRecord{"test", "test", 0, 0}, nullptr, clock, random, limits);
    auto model_id = store.WriteAuthorizationModel(model);
    if (!model_id.ok()) return fail_file("invalid model: " + model_id.status().message());
    std::vector<TupleKey> tuples;
    std::set<std::string> seen;
    const std::vector<TupleKey>* lists[] = {&global, &test.tuples};
    for (const std::vector<TupleKey>* list : lists) {
      for (const auto& t : *list) {
        if (seen.insert(t.ToString()).second) tuples.push_back(t);
      }
    }
    if (!tuples.empty()) {
      Status w = store.Write(WriteRequest{tuples, {}, ""});
      if (!w.ok())
        return fail_file("test '" + test.name + "': cannot write tuples: " + w.message());
    }
    const YAML::Node& tn = test.node;
    auto context_of = [](const YAML::Node& item) {
      bj::object ctx;
      if (item["context"] && item["context"].IsMap()) ctx = YamlToJson(item["context"]).as_object();
      return ctx;
    };
    auto prefix = [&]() { return "FAIL " + test.name + ": "; };
    if (tn["check"]) {
      for (const auto& item : tn["check"]) {
        CheckRequest req;
        req.user = Str(item["user"]);
        req.object = Str(item["object"]);
        req.context = context_of(item);
        for (const auto& a : item["assertions"]) {
          ++report.checks;
          req.relation = a.first.Scalar();
          bool expected = a.second.as<bool>(false);
          auto got = store.Check(req);
          if (got.ok() && *got == expected) {
            ++report.checks_passed;
            continue;
          }
          std::string line = prefix() + "Check(user=" + req.user + ", relation=" + req.relation +
                             ", object=" + req.object;
          if (!req.context.empty()) line += ", context=" + bj::serialize(req.context);
          line += "): expected=" + std::string(expected ? "true" : "false") + ", got=";
          line += got.ok() ? (*got ? "true" : "false") : "N/A, error=" + got.status().message();
          report.failures.push_back(line);
        }
      }
    }
    if (tn["list_objects"]) {
      for (const auto& item : tn["list_objects"]) {
        ListObjectsRequest req;
        req.user = Str(item["user"]);
        req.type = Str(item["type"]);
        req.context = context_of(item);
        for (const auto& a : item["assertions"]) {
          ++report.list_objects;
          req.relation = a.first.Scalar();
          std::vector<std::string> expected;
          for (const auto& o : a.second) expected.push_back(o.Scalar());
          std::sort(expected.begin(), expected.end());
          std::vector<std::string> got;
          Status err;
          std::string token;
          do {
            req.continuation_token = token;
            auto page = store.ListObjects(req);
            if (!page.ok()) {
              err = page.status();
              break;
            }
            got.insert(got.end(), page->objects.begin(), page->objects.end());
            token = page->continuation_token;
          } while (!token.empty());
          if (err.ok() && got == expected) {
            ++report.list_objects_passed;
            continue;
          }
          std::string line = prefix() + "ListObjects(user=" + req.user +
                             ", relation=" + req.relation + ", type=" + req.type;
          if (!req.context.empty()) line += ", context=" + bj::serialize(req.context);
          line += "): expected=" + Join(expected) +
                  ", got=" + (err.ok() ? Join(got) : "N/A, error=" + err.message());
          report.failures.push_back(line);
        }
      }
    }
    if (tn["list_users"]) {
      for (const auto& item : tn["list_users"]) {
        ListUsersRequest req;
        req.object = Str(item["object"]);
        req.context = context_of(item);
        for (const auto& f : item["user_filter"]) {
          req.user_filters.push_back(UserTypeFilter{Str(f["type"]), Str(f["relation"])});
        }
        for (const auto& a : item["assertions"]) {
          ++report.list_users;
          req.relation = a.first.Scalar();
          std::vector<std::string> expected;
          for (const auto& u : a.second["users"]) expected.push_back(u.Scalar());
          std::sort(expected.begin(), expected.end());
          auto got = store.ListUsers(req);
          if (got.ok() && got->users == expected) {
            ++report.list_users_passed;
            continue;
          }
          std::string line =
              prefix() + "ListUsers(object=" + req.object + ", relation=" + req.relation +
              ", user_filter=" + (req.user_filters.empty() ? "" : req.user_filters[0].type);
          if (!req.context.empty()) line += ", context=" + bj::serialize(req.context);
          line += "): expected=" + Join(expected) +
                  ", got=" + (got.ok() ? Join(got->users) : "N/A, error=" + got.status().message());
          report.failures.push_back(line);
        }
      }
    }
    if (report.failures.size() == failures_before) ++report.tests_passed;
  }
  report.exit_code = report.failures.empty() ? 0 : 1;
  return report;
}

int RunStoreFile(const std::string& path, std::ostream& out) {
  StoreFileReport r = RunStoreFileReport(path);
  for (const auto& e : r.errors) out << "ERROR " << path << ": " << e << "\n";
  if (r.exit_code == 2) return 2;
  for (const auto& f : r.failures) out << f << "\n";
  out << "# Test Summary #\n";
  out << "Tests " << r.tests_passed << "/" << r.tests << " passing\n";
  if (r.checks) out << "Checks " << r.checks_passed << "/" << r.checks << " passing\n";
  if (r.list_objects) {
    out << "ListObjects " << r.list_objects_passed << "/" << r.list_objects << " passing\n";
  }
  if (r.list_users) {
    out << "ListUsers " << r.list_users_passed << "/" << r.list_users << " passing\n";
  }
  return r.exit_code;
}

}  // namespace gh::authz

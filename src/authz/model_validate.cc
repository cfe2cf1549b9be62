#include "authz/model_validate.h"

#include <re2/re2.h>

#include <functional>
#include <set>
#include <unordered_map>

#include "authz/dsl_parser.h"

namespace gh::authz {
namespace {

constexpr const char* kTypeRule = "^[^:#@\\*\\s]{1,254}$";
constexpr const char* kRelationRule = "^[^:#@\\*\\s]{1,50}$";

bool IsWordChar(char c) {
  return c == '_' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

// Index of symbol in line on word boundaries (as `\bsymbol\b`), else plain substring, else 0.
int WordIndex(const std::string& line, const std::string& symbol) {
  if (symbol.empty()) return 0;
  if (IsWordChar(symbol.front()) && IsWordChar(symbol.back())) {
    size_t off = 0;
    while (true) {
      size_t pos = line.find(symbol, off);
      if (pos == std::string::npos) break;
      bool before = pos == 0 || !IsWordChar(line[pos - 1]);
      size_t after = pos + symbol.size();
      bool after_ok = after == line.size() || !IsWordChar(line[after]);
      if (before && after_ok) return static_cast<int>(pos);
      off = pos + 1;
    }
  }
  size_t pos = line.find(symbol);
  return pos == std::string::npos ? 0 : static_cast<int>(pos);
}

enum class Resolver { kWord, kAfterFrom, kAfterColon };

struct TypeInfo {
  const TypeDefinition* def;
  std::unordered_map<std::string, const RelationDef*> relations;
};

class Validator {
 public:
  Validator(const Model& model, const SourceLines* lines) : m_(model), lines_(lines) {
    for (const auto& td : m_.types) {
      TypeInfo& info = types_[td.type];  // a later duplicate replaces the earlier definition
      info.def = &td;
      info.relations.clear();
      for (const auto& r : td.relations) info.relations[r.name] = &r;
      first_type_line_.emplace(td.type, std::make_pair(td.source_file, td.line));
    }
  }

  std::vector<ModelError> Run() {
    CheckNames();
    if (m_.schema_version.empty()) {
      Add("schema version required", "schema-version-required", "", lines_ ? "" : "", 0,
          Resolver::kWord, lines_ != nullptr);
      return std::move(errors_);
    }
    if (m_.schema_version != "1.1" && m_.schema_version != "1.2") {
      Add("invalid schema " + m_.schema_version, "invalid-schema", m_.schema_version, "",
          m_.schema_line, Resolver::kWord, m_.schema_line >= 0);
      return std::move(errors_);
    }
    if (errors_.empty()) ModelRules();
    CheckModulesPerFile();
    return std::move(errors_);
  }

 private:
  void Add(std::string message, std::string type, std::string symbol, const std::string& file,
           int line, Resolver resolver, bool positioned = true) {
    ModelError e;
    e.message = std::move(message);
    e.error_type = std::move(type);
    e.symbol = symbol;
    e.file = file;
    if (lines_ && positioned && line >= 0) {
      auto it = lines_->find(file);
      if (it != lines_->end() && line < static_cast<int>(it->second.size())) {
        const std::string& raw = it->second[static_cast<size_t>(line)];
        int col = WordIndex(raw, symbol);
        if (resolver == Resolver::kAfterFrom) {
          size_t from = raw.find("from");
          if (from != std::string::npos) {
            size_t start = from + 4;
            size_t rel = raw.find(symbol, start);
            col = static_cast<int>(start + (rel == std::string::npos ? 0 : rel - start));
          }
        } else if (resolver == Resolver::kAfterColon) {
          size_t colon = raw.find(':');
          if (colon != std::string::npos) {
            col = static_cast<int>(colon + 1) + WordIndex(raw.substr(colon + 1), symbol);
          }
        }
        e.line = line;
        e.col_start = col;
        e.col_end = col + static_cast<int>(symbol.size());
      }
    }
    errors_.push_back(std::move(e));
  }

  void AddAtRelation(std::string message, std::string type, std::string symbol,
                     const RelationDef& rd, Resolver resolver = Resolver::kWord) {
    Add(std::move(message), std::move(type), std::move(symbol), rd.source_file, rd.line, resolver);
  }

  void CheckNames() {
    RE2 type_re(kTypeRule), relation_re(kRelationRule);
    for (const auto& td : m_.types) {
      if (td.type == "self" || td.type == "this") {
        Add("a type cannot be named 'self' or 'this'.", "reserved-type-keywords", td.type,
            td.source_file, td.line, Resolver::kWord);
      }
      if (!RE2::FullMatch(td.type, type_re)) {
        Add("type '" + td.type + "' does not match naming rule: '" + kTypeRule + "'.",
            "invalid-name", td.type, td.source_file, td.line, Resolver::kWord);
      }
      for (const auto& rd : td.relations) {
        if (rd.name == "self" || rd.name == "this") {
          AddAtRelation("a relation cannot be named 'self' or 'this'.",
                        "reserved-relation-keywords", rd.name, rd);
        } else if (!RE2::FullMatch(rd.name, relation_re)) {
          AddAtRelation("relation '" + rd.name + "' of type '" + td.type +
                            "' does not match naming rule: '" + kRelationRule + "'.",
                        "invalid-name", rd.name, rd);
        }
      }
    }
  }

  const RelationDef* FindRelation(const std::string& type, const std::string& rel) const {
    auto it = types_.find(type);
    if (it == types_.end()) return nullptr;
    auto r = it->second.relations.find(rel);
    return r == it->second.relations.end() ? nullptr : r->second;
  }
  bool HasType(const std::string& type) const { return types_.count(type) > 0; }

  void ModelRules() {
    // 1. Every reference in every rewrite is defined.
    for (const auto& td : m_.types) {
      for (const auto& rd : td.relations) {
        std::vector<const Userset*> queue{&rd.rewrite};
        for (size_t i = 0; i < queue.size(); ++i) {
          const Userset* u = queue[i];
          if (u->kind == RewriteKind::kUnion || u->kind == RewriteKind::kIntersection ||
              u->kind == RewriteKind::kDifference) {
            for (const auto& c : u->children) queue.push_back(&c);
          } else {
            CheckLeaf(td, rd, *u);
          }
        }
      }
    }
    // 2. Duplicates.
    if (errors_.empty()) {
      std::set<std::string> seen_types;
      for (const auto& td : m_.types) {
        if (!seen_types.insert(td.type).second) {
          const auto& first = first_type_line_.at(td.type);
          Add("the type `" + td.type + "` is a duplicate.", "duplicated-error", td.type,
              first.first, first.second, Resolver::kWord);
        }
        for (const auto& rd : td.relations) {
          std::set<std::string> restrictions;
          for (const auto& ref : rd.directly_related) {
            std::string s = ref.ToDsl();
            if (!restrictions.insert(s).second) {
              AddAtRelation("the type restriction `" + s + "` is a duplicate in the relation `" +
                                rd.name + "`.",
                            "duplicated-error", s, rd);
            }
          }
          CheckDuplicatePartials(rd);
        }
      }
    }
    // 3. Entry points and loops.
    if (errors_.empty()) {
      for (const auto& td : m_.types) {
        for (const auto& rd : td.relations) {
          auto [has_entry, loop] = HasEntryPointOrLoop(td.type, rd.name, rd.rewrite, {});
          if (!has_entry) {
            AddAtRelation("`" + rd.name + "` is an impossible relation for `" + td.type + "` (" +
                              (loop ? "potential loop" : "no entrypoint") + ").",
                          "relation-no-entry-point", rd.name, rd);
          }
        }
      }
    }
    // 4. Conditions: nested names and use.
    std::set<std::string> used;
    for (const auto& td : m_.types) {
      for (const auto& rd : td.relations) {
        for (const auto& ref : rd.directly_related) {
          if (!ref.condition.empty()) used.insert(ref.condition);
        }
      }
    }
    for (const auto& c : m_.conditions) {
      if (!c.nested_name.empty() && c.nested_name != c.name) {
        Add("condition key is `" + c.name + "` but nested name property is " + c.nested_name,
            "different-nested-condition-name", c.nested_name, "", -1, Resolver::kWord, false);
        continue;
      }
      if (!used.count(c.name)) {
        Add("`" + c.name + "` condition is not used in the model.", "condition-not-used", c.name,
            c.source_file, c.line, Resolver::kWord);
      }
    }
  }

  static std::string PartialName(const Userset& u) {
    if (u.kind == RewriteKind::kComputed) return u.relation;
    if (u.kind == RewriteKind::kTupleToUserset) return u.relation + " from " + u.tupleset;
    return "";
  }

  void CheckDuplicatePartials(const RelationDef& rd) {
    const Userset& u = rd.rewrite;
    auto dup = [&](const std::string& name) {
      AddAtRelation("the partial relation definition `" + name +
                        "` is a duplicate in the relation `" + rd.name + "`.",
                    "duplicated-error", name, rd);
    };
    if (u.kind == RewriteKind::kUnion || u.kind == RewriteKind::kIntersection) {
      std::set<std::string> names;
      for (const auto& c : u.children) {
        std::string n = PartialName(c);
        if (!n.empty() && !names.insert(n).second) dup(n);
      }
    } else if (u.kind == RewriteKind::kDifference) {
      std::string base = PartialName(u.children[0]);
      if (!base.empty() && base == PartialName(u.children[1])) dup(base);
    }
  }

  void CheckLeaf(const TypeDefinition& td, const RelationDef& rd, const Userset& u) {
    switch (u.kind) {
      case RewriteKind::kThis: {
        if (rd.directly_related.empty()) {
          AddAtRelation(
              "the assignable relation '" + rd.name + "' must have at least one assignable type.",
              "assignable-relation-must-have-type", rd.name, rd);
        }
        for (const auto& ref : rd.directly_related) {
          if (!HasType(ref.type)) {
            AddAtRelation("`" + ref.type + "` is not a valid type.", "invalid-type", ref.type, rd,
                          Resolver::kAfterColon);
          }
          if (!ref.condition.empty() && !m_.FindCondition(ref.condition)) {
            AddAtRelation("`" + ref.condition + "` is not a defined condition in the model.",
                          "condition-not-defined", ref.condition, rd);
          }
          if (ref.wildcard && !ref.relation.empty()) {
            AddAtRelation("the type restriction '" + ref.Key() + "' on relation '" + rd.name +
                              "' of type '" + td.type +
                              "' is not allowed to have both a wildcard and a relation.",
                          "type-wildcard-relation", ref.Key(), rd);
          } else if (!ref.relation.empty() && !FindRelation(ref.type, ref.relation)) {
            AddAtRelation("`" + ref.relation + "` is not a valid relation for `" + ref.type + "`.",
                          "invalid-relation-type", ref.type + "#" + ref.relation, rd);
          }
        }
        break;
      }
      case RewriteKind::kComputed:
        if (!td.FindRelation(u.relation)) {
          AddAtRelation("the relation `" + u.relation + "` does not exist.", "missing-definition",
                        u.relation, rd);
        }
        break;
      case RewriteKind::kTupleToUserset: {
        std::string symbol = u.relation + " from " + u.tupleset;
        const RelationDef* tupleset = td.FindRelation(u.tupleset);
        if (!tupleset) {
          AddAtRelation("`" + u.tupleset + "` is not a valid relation for `" + td.type + "`.",
                        "invalid-relation-type", symbol, rd);
          break;
        }
        if (tupleset->rewrite.kind != RewriteKind::kThis) {
          AddAtRelation(
              "`" + u.tupleset + "` relation used inside from allows only direct relation.",
              "tupleuserset-not-direct", u.tupleset, rd, Resolver::kAfterFrom);
          break;
        }
        std::vector<std::string> invalid_types;
        bool reported_not_direct = false;
        for (const auto& ref : tupleset->directly_related) {
          if (ref.wildcard || !ref.relation.empty()) {
            if (!reported_not_direct) {
              AddAtRelation(
                  "`" + u.tupleset + "` relation used inside from allows only direct relation.",
                  "tupleuserset-not-direct", u.tupleset, rd, Resolver::kAfterFrom);
              reported_not_direct = true;
            }
          } else if (!FindRelation(ref.type, u.relation)) {
            invalid_types.push_back(ref.type);
          }
        }
        if (!invalid_types.empty() && invalid_types.size() == tupleset->directly_related.size()) {
          for (const auto& t : invalid_types) {
            AddAtRelation("the `" + u.relation + "` relation definition on type `" + td.type +
                              "` is not valid: `" + u.relation + "` does not exist on `" +
                              u.tupleset + "`, which is of type `" + t + "`.",
                          "invalid-relation-on-tupleset", symbol, rd);
          }
        }
        break;
      }
      default:
        break;
    }
  }

  using Visited = std::map<std::string, std::set<std::string>>;

  std::pair<bool, bool> HasEntryPointOrLoop(const std::string& type, const std::string& relation,
                                            const Userset& rewrite, Visited visited) {
    Visited original = visited;
    visited[type].insert(relation);
    const RelationDef* rd = FindRelation(type, relation);
    if (!rd) return {false, false};
    auto is_visited = [&](const std::string& t, const std::string& r) {
      auto it = visited.find(t);
      return it != visited.end() && it->second.count(r);
    };
    switch (rewrite.kind) {
      case RewriteKind::kThis:
        for (const auto& ref : rd->directly_related) {
          if (ref.relation.empty() || ref.wildcard) return {true, false};
          const RelationDef* target = FindRelation(ref.type, ref.relation);
          if (!target) return {false, false};
          if (is_visited(ref.type, ref.relation)) continue;
          if (HasEntryPointOrLoop(ref.type, ref.relation, target->rewrite, visited).first) {
            return {true, false};
          }
        }
        return {false, false};
      case RewriteKind::kComputed: {
        const RelationDef* target = FindRelation(type, rewrite.relation);
        if (!target) return {false, false};
        if (is_visited(type, rewrite.relation)) return {false, true};
        return HasEntryPointOrLoop(type, rewrite.relation, target->rewrite, visited);
      }
      case RewriteKind::kTupleToUserset: {
        const RelationDef* ts = FindRelation(type, rewrite.tupleset);
        if (!ts) return {false, false};
        for (const auto& ref : ts->directly_related) {
          if (ref.wildcard || !ref.relation.empty()) continue;
          const RelationDef* target = FindRelation(ref.type, rewrite.relation);
          if (!target) continue;
          if (is_visited(ref.type, rewrite.relation)) continue;
          if (HasEntryPointOrLoop(ref.type, rewrite.relation, target->rewrite, visited).first) {
            return {true, false};
          }
        }
        return {false, false};
      }
      case RewriteKind::kUnion: {
        bool loop = false;
        for (const auto& c : rewrite.children) {
          auto [e, l] = HasEntryPointOrLoop(type, relation, c, visited);
          if (e) return {true, false};
          loop = loop || l;
        }
        return {false, loop};
      }
      case RewriteKind::kIntersection:
        for (const auto& c : rewrite.children) {
          auto [e, l] = HasEntryPointOrLoop(type, relation, c, visited);
          if (!e) return {false, l};
        }
        return {true, false};
      case RewriteKind::kDifference: {
        auto [eb, lb] = HasEntryPointOrLoop(type, relation, rewrite.children[0], original);
        if (!eb) return {false, lb};
        auto [es, ls] = HasEntryPointOrLoop(type, relation, rewrite.children[1], original);
        if (!es) return {false, ls};
        return {true, false};
      }
    }
    return {false, false};
  }

  void CheckModulesPerFile() {
    std::map<std::string, std::vector<std::string>> modules;
    std::vector<std::string> file_order;
    auto note = [&](const SourceInfo& s, const std::string& fallback_module) {
      std::string module = s.module.empty() ? fallback_module : s.module;
      if (s.file.empty() || module.empty()) return;
      if (!modules.count(s.file)) file_order.push_back(s.file);
      auto& list = modules[s.file];
      for (const auto& m : list) {
        if (m == module) return;
      }
      list.push_back(module);
    };
    for (const auto& td : m_.types) {
      note(td.source, "");
      for (const auto& rd : td.relations) {
        if (!rd.source.module.empty()) {
          SourceInfo s = rd.source;
          if (s.file.empty()) s.file = td.source.file;
          note(s, "");
        }
      }
    }
    for (const auto& c : m_.conditions) note(c.source, "");
    for (const auto& file : file_order) {
      const auto& list = modules[file];
      if (list.size() < 2) continue;
      std::string joined;
      for (size_t i = 0; i < list.size(); ++i) joined += (i ? ", " : "") + list[i];
      Add("file " + file + " would contain multiple module definitions (" + joined +
              ") when transforming to DSL. Only one module can be defined per file.",
          "multiple-modules-in-file", file, "", -1, Resolver::kWord, false);
    }
  }

  const Model& m_;
  const SourceLines* lines_;
  std::unordered_map<std::string, TypeInfo> types_;
  std::unordered_map<std::string, std::pair<std::string, int>> first_type_line_;
  std::vector<ModelError> errors_;
};

}  // namespace

std::vector<ModelError> ValidateModel(const Model& model, const SourceLines* lines) {
  return Validator(model, lines).Run();
}

Result<Model> ModelFromDsl(std::string_view dsl) {
  DslParseResult parsed = ParseDsl(dsl);
  if (!parsed.errors.empty()) return ModelErrorsToStatus(parsed.errors);
  SourceLines lines{{"", parsed.lines}};
  auto errors = ValidateModel(parsed.model, &lines);
  if (!errors.empty()) return ModelErrorsToStatus(errors);
  return std::move(parsed.model);
}

Status ValidateJsonModel(const Model& model) {
  return ModelErrorsToStatus(ValidateModel(model, nullptr));
}

}  // namespace gh::authz

#include "authz/dsl_writer.h"

#include <algorithm>

namespace gh::authz {
namespace {

Status Unsupported(const std::string& type, const std::string& relation) {
  return Status::InvalidArgument("the '" + relation + "' relation definition under the '" + type +
                                 "' type is not supported by the OpenFGA DSL syntax yet");
}

struct Writer {
  const std::string& type;
  const std::string& relation;
  const std::vector<RelationReference>& restrictions;
  int direct_count = 0;

  std::string This() {
    ++direct_count;
    std::string out = "[";
    for (size_t i = 0; i < restrictions.size(); ++i) {
      if (i) out += ", ";
      out += restrictions[i].ToDsl();
    }
    return out + "]";
  }

  // Union and intersection children with `this` moved to the front.
  static std::vector<const Userset*> Prioritized(const Userset& u) {
    std::vector<const Userset*> children;
    for (const auto& c : u.children) children.push_back(&c);
    auto it = std::find_if(children.begin(), children.end(),
                           [](const Userset* c) { return c->kind == RewriteKind::kThis; });
    if (it != children.end() && it != children.begin()) std::rotate(children.begin(), it, it + 1);
    return children;
  }

  Result<std::string> Operands(const Userset& u) {
    std::string out;
    if (u.kind == RewriteKind::kDifference) {
      if (u.children.size() != 2) return Unsupported(type, relation);
      GH_ASSIGN_OR_RETURN(std::string base, Sub(u.children[0]));
      GH_ASSIGN_OR_RETURN(std::string sub, Sub(u.children[1]));
      return base + " but not " + sub;
    }
    const char* sep = u.kind == RewriteKind::kUnion ? " or " : " and ";
    auto children = Prioritized(u);
    for (size_t i = 0; i < children.size(); ++i) {
      GH_ASSIGN_OR_RETURN(std::string s, Sub(*children[i]));
      if (i) out += sep;
      out += s;
    }
    return out;
  }

  Result<std::string> Sub(const Userset& u) {
    switch (u.kind) {
      case RewriteKind::kThis:
        return This();
      case RewriteKind::kComputed:
        return u.relation;
      case RewriteKind::kTupleToUserset:
        return u.relation + " from " + u.tupleset;
      default: {
        GH_ASSIGN_OR_RETURN(std::string inner, Operands(u));
        return "(" + inner + ")";
      }
    }
  }

  static bool ThisFirst(const Userset& u) {
    if (u.kind == RewriteKind::kThis) return true;
    if (u.kind == RewriteKind::kDifference) return ThisFirst(u.children[0]);
    if ((u.kind == RewriteKind::kUnion || u.kind == RewriteKind::kIntersection) &&
        !u.children.empty()) {
      for (const auto& c : u.children) {
        if (c.kind == RewriteKind::kThis) return true;
      }
      return ThisFirst(u.children[0]);
    }
    return false;
  }

  Result<std::string> Relation(const Userset& u) {
    std::string body;
    if (u.kind == RewriteKind::kUnion || u.kind == RewriteKind::kIntersection ||
        u.kind == RewriteKind::kDifference) {
      GH_ASSIGN_OR_RETURN(body, Operands(u));
    } else {
      GH_ASSIGN_OR_RETURN(body, Sub(u));
    }
    if (direct_count == 0 || (direct_count == 1 && ThisFirst(u))) return body;
    return Unsupported(type, relation);
  }
};

int CompareByModule(const std::string& a_name, const std::string& b_name, const SourceInfo& a,
                    const SourceInfo& b) {
  auto cmp = [](const std::string& x, const std::string& y) {
    return x < y ? -1 : (y < x ? 1 : 0);
  };
  if (a.module.empty() && b.module.empty()) return cmp(a_name, b_name);
  if (a.module.empty()) return -1;
  if (b.module.empty()) return 1;
  if (a.module != b.module) return cmp(a.module, b.module);
  if (a.file != b.file) return cmp(a.file, b.file);
  return cmp(a_name, b_name);
}

std::string SourceComment(const SourceInfo& s, const char* prefix) {
  if (s.empty()) return "";
  return std::string(" # ") + prefix + "module: " + s.module + ", file: " + s.file;
}

}  // namespace

Result<std::string> ModelToDsl(const Model& model, bool include_source_info) {
  bool modular = std::any_of(model.types.begin(), model.types.end(),
                             [](const TypeDefinition& t) { return !t.source.module.empty(); });
  std::vector<const TypeDefinition*> types;
  for (const auto& t : model.types) types.push_back(&t);
  if (modular) {
    std::stable_sort(types.begin(), types.end(),
                     [](const TypeDefinition* a, const TypeDefinition* b) {
                       return CompareByModule(a->type, b->type, a->source, b->source) < 0;
                     });
  }
  std::string out = "model\n  schema " + model.schema_version + "\n";
  for (size_t ti = 0; ti < types.size(); ++ti) {
    const TypeDefinition& td = *types[ti];
    out += "\ntype " + td.type;
    if (include_source_info) out += SourceComment(td.source, "");
    if (!td.relations.empty()) {
      out += "\n  relations";
      std::vector<const RelationDef*> rels;
      for (const auto& r : td.relations) rels.push_back(&r);
      std::stable_sort(rels.begin(), rels.end(), [&](const RelationDef* a, const RelationDef* b) {
        if (modular) return CompareByModule(a->name, b->name, a->source, b->source) < 0;
        return a->name < b->name;
      });
      for (const RelationDef* rd : rels) {
        Writer w{td.type, rd->name, rd->directly_related};
        GH_ASSIGN_OR_RETURN(std::string body, w.Relation(rd->rewrite));
        out += "\n    define " + rd->name + ": " + body;
        if (include_source_info) out += SourceComment(rd->source, "extended by: ");
      }
    }
    out += "\n";
  }
  std::vector<const ConditionDef*> conds;
  for (const auto& c : model.conditions) conds.push_back(&c);
  std::stable_sort(conds.begin(), conds.end(), [](const ConditionDef* a, const ConditionDef* b) {
    return CompareByModule(a->name, b->name, a->source, b->source) < 0;
  });
  for (const ConditionDef* c : conds) {
    if (!c->nested_name.empty() && c->nested_name != c->name) {
      return Status::InvalidArgument(
          "the '" + c->name + "' condition has a different nested name '" + c->nested_name + "'");
    }
    std::vector<std::pair<std::string, ConditionParamType>> params = c->parameters;
    std::sort(params.begin(), params.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    out += "\ncondition " + c->name + "(";
    for (size_t i = 0; i < params.size(); ++i) {
      if (i) out += ", ";
      out += params[i].first + ": " + ParamTypeToDsl(params[i].second);
    }
    out += ") {\n  " + c->expression + "\n}";
    if (include_source_info) out += SourceComment(c->source, "");
    out += "\n";
  }
  return out;
}

}  // namespace gh::authz

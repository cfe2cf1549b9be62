#include "authz/model_json.h"

#include <boost/json.hpp>

namespace gh::authz {
namespace bj = boost::json;

namespace {

bj::object SourceInfoJson(const SourceInfo& s) {
  bj::object o;
  o["file"] = s.file;
  return o;
}

bj::value UsersetJson(const Userset& u) {
  bj::object o;
  switch (u.kind) {
    case RewriteKind::kThis:
      o["this"] = bj::object();
      break;
    case RewriteKind::kComputed: {
      bj::object cu;
      cu["relation"] = u.relation;
      o["computedUserset"] = std::move(cu);
      break;
    }
    case RewriteKind::kTupleToUserset: {
      bj::object ttu, ts, cu;
      ts["relation"] = u.tupleset;
      cu["relation"] = u.relation;
      ttu["tupleset"] = std::move(ts);
      ttu["computedUserset"] = std::move(cu);
      o["tupleToUserset"] = std::move(ttu);
      break;
    }
    case RewriteKind::kUnion:
    case RewriteKind::kIntersection: {
      bj::array children;
      for (const auto& c : u.children) children.push_back(UsersetJson(c));
      bj::object set;
      set["child"] = std::move(children);
      o[u.kind == RewriteKind::kUnion ? "union" : "intersection"] = std::move(set);
      break;
    }
    case RewriteKind::kDifference: {
      bj::object diff;
      diff["base"] = UsersetJson(u.children[0]);
      diff["subtract"] = UsersetJson(u.children[1]);
      o["difference"] = std::move(diff);
      break;
    }
  }
  return o;
}

bj::value ParamTypeJson(const ConditionParamType& t) {
  bj::object o;
  o["type_name"] = ParamTypeEnumName(t.name);
  if (!t.generic_types.empty()) {
    bj::array g;
    for (const auto& gt : t.generic_types) g.push_back(ParamTypeJson(gt));
    o["generic_types"] = std::move(g);
  }
  return o;
}

// ---- reading ----

const bj::value* Field(const bj::object& o, std::string_view a, std::string_view b = {}) {
  if (auto it = o.find(a); it != o.end() && !it->value().is_null()) return &it->value();
  if (!b.empty()) {
    if (auto it = o.find(b); it != o.end() && !it->value().is_null()) return &it->value();
  }
  return nullptr;
}

Status Bad(std::string_view where, std::string_view what) {
  return Status::InvalidArgument("invalid authorization model JSON at " + std::string(where) +
                                 ": " + std::string(what));
}

Result<std::string> StringField(const bj::object& o, std::string_view where, std::string_view a,
                                std::string_view b = {}) {
  const bj::value* v = Field(o, a, b);
  if (!v) return std::string();
  if (!v->is_string()) return Bad(where, std::string(a) + " must be a string");
  return std::string(v->as_string());
}

Result<SourceInfo> ReadSourceInfo(const bj::object& o, std::string_view where) {
  SourceInfo s;
  GH_ASSIGN_OR_RETURN(s.module, StringField(o, where, "module"));
  if (const bj::value* si = Field(o, "source_info", "sourceInfo")) {
    if (!si->is_object()) return Bad(where, "source_info must be an object");
    GH_ASSIGN_OR_RETURN(s.file, StringField(si->as_object(), where, "file"));
  }
  return s;
}

Result<Userset> ReadUserset(const bj::value& v, const std::string& where, int depth) {
  if (depth > 64) return Bad(where, "rewrite nested too deeply");
  if (!v.is_object()) return Bad(where, "a rewrite must be an object");
  const bj::object& o = v.as_object();
  Userset u;
  if (Field(o, "this")) {
    u.kind = RewriteKind::kThis;
    return u;
  }
  if (const bj::value* cu = Field(o, "computedUserset", "computed_userset")) {
    if (!cu->is_object()) return Bad(where, "computedUserset must be an object");
    u.kind = RewriteKind::kComputed;
    GH_ASSIGN_OR_RETURN(u.relation, StringField(cu->as_object(), where, "relation"));
    return u;
  }
  if (const bj::value* ttu = Field(o, "tupleToUserset", "tuple_to_userset")) {
    if (!ttu->is_object()) return Bad(where, "tupleToUserset must be an object");
    u.kind = RewriteKind::kTupleToUserset;
    const bj::object& t = ttu->as_object();
    const bj::value* ts = Field(t, "tupleset");
    const bj::value* cu = Field(t, "computedUserset", "computed_userset");
    if (ts && ts->is_object()) {
      GH_ASSIGN_OR_RETURN(u.tupleset, StringField(ts->as_object(), where, "relation"));
    }
    if (cu && cu->is_object()) {
      GH_ASSIGN_OR_RETURN(u.relation, StringField(cu->as_object(), where, "relation"));
    }
    return u;
  }
  for (auto [key, kind] : {std::pair{"union", RewriteKind::kUnion},
                           std::pair{"intersection", RewriteKind::kIntersection}}) {
    if (const bj::value* set = Field(o, key)) {
      u.kind = kind;
      if (!set->is_object()) return Bad(where, std::string(key) + " must be an object");
      const bj::value* child = Field(set->as_object(), "child");
      if (child) {
        if (!child->is_array()) return Bad(where, "child must be an array");
        for (const auto& c : child->as_array()) {
          GH_ASSIGN_OR_RETURN(Userset cu, ReadUserset(c, where, depth + 1));
          u.children.push_back(std::move(cu));
        }
      }
      return u;
    }
  }
  if (const bj::value* diff = Field(o, "difference")) {
    if (!diff->is_object()) return Bad(where, "difference must be an object");
    u.kind = RewriteKind::kDifference;
    const bj::value* base = Field(diff->as_object(), "base");
    const bj::value* sub = Field(diff->as_object(), "subtract");
    if (!base || !sub) return Bad(where, "difference needs base and subtract");
    GH_ASSIGN_OR_RETURN(Userset b, ReadUserset(*base, where, depth + 1));
    GH_ASSIGN_OR_RETURN(Userset s, ReadUserset(*sub, where, depth + 1));
    u.children.push_back(std::move(b));
    u.children.push_back(std::move(s));
    return u;
  }
  return Bad(where, "empty relation definition");
}

Result<ConditionParamType> ReadParamType(const bj::value& v, const std::string& where, int depth) {
  if (depth > 8 || !v.is_object()) return Bad(where, "parameter type must be an object");
  const bj::object& o = v.as_object();
  ConditionParamType t;
  GH_ASSIGN_OR_RETURN(std::string name, StringField(o, where, "type_name", "typeName"));
  if (!ParseParamTypeEnumName(name, &t.name)) {
    return Bad(where, "unknown parameter type '" + name + "'");
  }
  if (const bj::value* g = Field(o, "generic_types", "genericTypes")) {
    if (!g->is_array()) return Bad(where, "generic_types must be an array");
    for (const auto& gt : g->as_array()) {
      GH_ASSIGN_OR_RETURN(ConditionParamType inner, ReadParamType(gt, where, depth + 1));
      t.generic_types.push_back(std::move(inner));
    }
  }
  return t;
}

}  // namespace

bj::value ModelToJson(const Model& model) {
  bj::object root;
  if (!model.id.empty()) root["id"] = model.id;
  root["schema_version"] = model.schema_version;
  bj::array types;
  for (const auto& td : model.types) {
    bj::object t;
    t["type"] = td.type;
    bj::object relations;
    bj::object meta_relations;
    for (const auto& r : td.relations) {
      relations[r.name] = UsersetJson(r.rewrite);
      bj::object rm;
      bj::array drt;
      for (const auto& ref : r.directly_related) {
        bj::object ro;
        ro["type"] = ref.type;
        if (!ref.relation.empty()) ro["relation"] = ref.relation;
        if (ref.wildcard) ro["wildcard"] = bj::object();
        if (!ref.condition.empty()) ro["condition"] = ref.condition;
        drt.push_back(std::move(ro));
      }
      rm["directly_related_user_types"] = std::move(drt);
      if (!r.source.module.empty()) rm["module"] = r.source.module;
      if (!r.source.file.empty()) rm["source_info"] = SourceInfoJson(r.source);
      meta_relations[r.name] = std::move(rm);
    }
    t["relations"] = std::move(relations);
    if (td.relations.empty() && td.source.empty()) {
      t["metadata"] = nullptr;
    } else {
      bj::object meta;
      if (!td.relations.empty()) meta["relations"] = std::move(meta_relations);
      if (!td.source.module.empty()) meta["module"] = td.source.module;
      if (!td.source.file.empty()) meta["source_info"] = SourceInfoJson(td.source);
      t["metadata"] = std::move(meta);
    }
    types.push_back(std::move(t));
  }
  root["type_definitions"] = std::move(types);
  if (!model.conditions.empty()) {
    bj::object conds;
    for (const auto& c : model.conditions) {
      bj::object co;
      co["name"] = c.name;
      co["expression"] = c.expression;
      bj::object params;
      for (const auto& [pname, ptype] : c.parameters) params[pname] = ParamTypeJson(ptype);
      co["parameters"] = std::move(params);
      if (!c.source.empty()) {
        bj::object meta;
        if (!c.source.module.empty()) meta["module"] = c.source.module;
        if (!c.source.file.empty()) meta["source_info"] = SourceInfoJson(c.source);
        co["metadata"] = std::move(meta);
      }
      conds[c.name] = std::move(co);
    }
    root["conditions"] = std::move(conds);
  }
  return root;
}

std::string ModelToJsonString(const Model& model) { return bj::serialize(ModelToJson(model)); }

Result<Model> ModelFromJson(const bj::value& json) {
  if (!json.is_object()) return Bad("root", "the model must be a JSON object");
  const bj::object& root = json.as_object();
  Model m;
  GH_ASSIGN_OR_RETURN(m.id, StringField(root, "root", "id"));
  GH_ASSIGN_OR_RETURN(m.schema_version,
                      StringField(root, "root", "schema_version", "schemaVersion"));
  if (const bj::value* tds = Field(root, "type_definitions", "typeDefinitions")) {
    if (!tds->is_array()) return Bad("type_definitions", "must be an array");
    for (const auto& tdv : tds->as_array()) {
      if (!tdv.is_object()) return Bad("type_definitions", "each entry must be an object");
      const bj::object& to = tdv.as_object();
      TypeDefinition td;
      GH_ASSIGN_OR_RETURN(td.type, StringField(to, "type_definitions", "type"));
      std::string where = "type '" + td.type + "'";
      const bj::object* meta_relations = nullptr;
      if (const bj::value* meta = Field(to, "metadata")) {
        if (!meta->is_object()) return Bad(where, "metadata must be an object");
        GH_ASSIGN_OR_RETURN(td.source, ReadSourceInfo(meta->as_object(), where));
        if (const bj::value* mr = Field(meta->as_object(), "relations")) {
          if (!mr->is_object()) return Bad(where, "metadata.relations must be an object");
          meta_relations = &mr->as_object();
        }
      }
      if (const bj::value* rels = Field(to, "relations")) {
        if (!rels->is_object()) return Bad(where, "relations must be an object");
        for (const auto& kv : rels->as_object()) {
          RelationDef rd;
          rd.name = std::string(kv.key());
          std::string rwhere = "relation '" + td.type + "#" + rd.name + "'";
          GH_ASSIGN_OR_RETURN(rd.rewrite, ReadUserset(kv.value(), rwhere, 0));
          if (meta_relations) {
            if (const bj::value* rm = Field(*meta_relations, kv.key())) {
              if (!rm->is_object()) return Bad(rwhere, "relation metadata must be an object");
              GH_ASSIGN_OR_RETURN(rd.source, ReadSourceInfo(rm->as_object(), rwhere));
              const bj::value* drt =
                  Field(rm->as_object(), "directly_related_user_types", "directlyRelatedUserTypes");
              if (drt) {
                if (!drt->is_array()) return Bad(rwhere, "directly_related_user_types");
                for (const auto& refv : drt->as_array()) {
                  if (!refv.is_object()) return Bad(rwhere, "type restriction must be an object");
                  const bj::object& ro = refv.as_object();
                  RelationReference ref;
                  GH_ASSIGN_OR_RETURN(ref.type, StringField(ro, rwhere, "type"));
                  GH_ASSIGN_OR_RETURN(ref.relation, StringField(ro, rwhere, "relation"));
                  GH_ASSIGN_OR_RETURN(ref.condition, StringField(ro, rwhere, "condition"));
                  ref.wildcard = Field(ro, "wildcard") != nullptr;
                  rd.directly_related.push_back(std::move(ref));
                }
              }
            }
          }
          td.relations.push_back(std::move(rd));
        }
      }
      m.types.push_back(std::move(td));
    }
  }
  if (const bj::value* conds = Field(root, "conditions")) {
    if (!conds->is_object()) return Bad("conditions", "must be an object");
    for (const auto& kv : conds->as_object()) {
      std::string where = "condition '" + std::string(kv.key()) + "'";
      if (!kv.value().is_object()) return Bad(where, "must be an object");
      const bj::object& co = kv.value().as_object();
      ConditionDef c;
      GH_ASSIGN_OR_RETURN(c.name, StringField(co, where, "name"));
      if (c.name.empty()) c.name = std::string(kv.key());
      GH_ASSIGN_OR_RETURN(c.expression, StringField(co, where, "expression"));
      if (const bj::value* params = Field(co, "parameters")) {
        if (!params->is_object()) return Bad(where, "parameters must be an object");
        for (const auto& p : params->as_object()) {
          GH_ASSIGN_OR_RETURN(ConditionParamType t, ReadParamType(p.value(), where, 0));
          c.parameters.emplace_back(std::string(p.key()), std::move(t));
        }
      }
      if (const bj::value* meta = Field(co, "metadata")) {
        if (meta->is_object()) {
          GH_ASSIGN_OR_RETURN(c.source, ReadSourceInfo(meta->as_object(), where));
        }
      }
      // The map key is authoritative; a differing nested name is reported by validation.
      c.nested_name = c.name;
      c.name = std::string(kv.key());
      m.conditions.push_back(std::move(c));
    }
  }
  return m;
}

Result<Model> ModelFromJsonString(std::string_view text) {
  boost::system::error_code ec;
  bj::value v = bj::parse(text, ec);
  if (ec) return Status::InvalidArgument("invalid JSON: " + ec.message());
  return ModelFromJson(v);
}

bj::value NormalizeModelJson(const bj::value& json) {
  if (json.is_object()) {
    bj::object out;
    for (const auto& kv : json.as_object()) {
      bj::value v = NormalizeModelJson(kv.value());
      bool keep_empty = kv.key() == "this" || kv.key() == "wildcard";
      if (v.is_null()) continue;
      if (!keep_empty && v.is_object() && v.as_object().empty()) continue;
      if (v.is_array() && v.as_array().empty()) continue;
      out[kv.key()] = std::move(v);
    }
    return out;
  }
  if (json.is_array()) {
    bj::array out;
    for (const auto& v : json.as_array()) out.push_back(NormalizeModelJson(v));
    return out;
  }
  return json;
}

}  // namespace gh::authz

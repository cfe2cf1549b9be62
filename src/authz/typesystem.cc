#include "authz/typesystem.h"

#include <algorithm>

#include "authz/errors.h"

namespace gh::authz {

cel::Type ToCelType(const ConditionParamType& t) {
  using K = cel::Type::Kind;
  switch (t.name) {
    case ParamTypeName::kBool:
      return cel::Type::Of(K::kBool);
    case ParamTypeName::kString:
      return cel::Type::Of(K::kString);
    case ParamTypeName::kInt:
      return cel::Type::Of(K::kInt);
    case ParamTypeName::kUint:
      return cel::Type::Of(K::kUint);
    case ParamTypeName::kDouble:
      return cel::Type::Of(K::kDouble);
    case ParamTypeName::kDuration:
      return cel::Type::Of(K::kDuration);
    case ParamTypeName::kTimestamp:
      return cel::Type::Of(K::kTimestamp);
    case ParamTypeName::kIpAddress:
      return cel::Type::Of(K::kIpAddress);
    case ParamTypeName::kList:
      return cel::Type::ListOf(t.generic_types.empty() ? cel::Type{}
                                                       : ToCelType(t.generic_types[0]));
    case ParamTypeName::kMap:
      return cel::Type::MapOf(t.generic_types.empty() ? cel::Type{}
                                                      : ToCelType(t.generic_types[0]));
    default:
      return cel::Type{};
  }
}

namespace {

Result<uint16_t> NameId(Interner& names, std::string_view name) {
  uint32_t id = names.Intern(name);
  if (id >= 32767) return errors::ExceededEntityLimit("too many type and relation names in store");
  return static_cast<uint16_t>(id);
}

Result<CompiledRewrite> CompileRewrite(const Userset& u, Interner& names) {
  CompiledRewrite c;
  c.kind = u.kind;
  if (u.kind == RewriteKind::kComputed || u.kind == RewriteKind::kTupleToUserset) {
    GH_ASSIGN_OR_RETURN(c.relation, NameId(names, u.relation));
  }
  if (u.kind == RewriteKind::kTupleToUserset) {
    GH_ASSIGN_OR_RETURN(c.tupleset, NameId(names, u.tupleset));
  }
  for (const auto& child : u.children) {
    GH_ASSIGN_OR_RETURN(CompiledRewrite cc, CompileRewrite(child, names));
    c.children.push_back(std::move(cc));
  }
  return c;
}

// Collects the leaves that can make the relation hold (not difference subtrahends).
void PositiveLeaves(const CompiledRewrite& r, std::vector<const CompiledRewrite*>* out) {
  switch (r.kind) {
    case RewriteKind::kUnion:
    case RewriteKind::kIntersection:
      for (const auto& c : r.children) PositiveLeaves(c, out);
      break;
    case RewriteKind::kDifference:
      PositiveLeaves(r.children[0], out);
      break;
    default:
      out->push_back(&r);
  }
}

}  // namespace

Result<std::shared_ptr<const TypeSystem>> TypeSystem::Build(const Model& model, Interner& names) {
  // Relation ids start at 1: reserve 0 for "no relation".
  if (names.size() == 0) names.Intern("");
  auto ts = std::shared_ptr<TypeSystem>(new TypeSystem());
  ts->model_ = model;
  for (const auto& c : model.conditions) {
    std::vector<cel::Parameter> params;
    CompiledCondition cc;
    cc.name = c.name;
    for (const auto& [pname, ptype] : c.parameters) {
      params.push_back(cel::Parameter{pname, ToCelType(ptype)});
      cc.param_types.push_back(ToCelType(ptype));
    }
    auto program = cel::Program::Compile(c.expression, std::move(params));
    if (!program.ok()) {
      return errors::InvalidAuthorizationModel("failed to compile expression on condition '" +
                                               c.name + "': " + program.status().message());
    }
    cc.program = std::move(program).value();
    ts->conditions_.push_back(std::move(cc));
  }
  for (const auto& td : model.types) {
    GH_ASSIGN_OR_RETURN(uint16_t type, NameId(names, td.type));
    auto& rels = ts->types_[type];
    for (const auto& rd : td.relations) {
      GH_ASSIGN_OR_RETURN(uint16_t rel, NameId(names, rd.name));
      rels.push_back(rel);
      RelationInfo info;
      info.type = type;
      info.relation = rel;
      GH_ASSIGN_OR_RETURN(info.rewrite, CompileRewrite(rd.rewrite, names));
      for (const auto& ref : rd.directly_related) {
        Restriction r;
        GH_ASSIGN_OR_RETURN(r.type, NameId(names, ref.type));
        if (!ref.relation.empty()) {
          GH_ASSIGN_OR_RETURN(r.relation, NameId(names, ref.relation));
        }
        r.wildcard = ref.wildcard;
        r.condition = ref.condition;
        if (r.wildcard && std::find(ts->wildcard_types_.begin(), ts->wildcard_types_.end(),
                                    r.type) == ts->wildcard_types_.end()) {
          ts->wildcard_types_.push_back(r.type);
        }
        info.restrictions.push_back(std::move(r));
      }
      ts->relations_.emplace(Key(type, rel), std::move(info));
    }
  }
  // Reverse edges for ListObjects.
  auto add_acceptor = [&](uint16_t st, uint16_t sr, bool w, uint16_t t, uint16_t r) {
    auto& v = ts->acceptors_[AccKey(st, sr, w)];
    if (std::find(v.begin(), v.end(), std::make_pair(t, r)) == v.end()) v.emplace_back(t, r);
  };
  auto add_edge = [&](uint16_t from_t, uint16_t from_r, ReverseEdge e) {
    auto& v = ts->reverse_[Key(from_t, from_r)];
    for (const auto& x : v) {
      if (x.how == e.how && x.type == e.type && x.relation == e.relation && x.via == e.via) return;
    }
    v.push_back(e);
  };
  for (const auto& [key, info] : ts->relations_) {
    std::vector<const CompiledRewrite*> leaves;
    PositiveLeaves(info.rewrite, &leaves);
    for (const CompiledRewrite* leaf : leaves) {
      if (leaf->kind == RewriteKind::kThis) {
        for (const auto& r : info.restrictions) {
          add_acceptor(r.type, r.relation, r.wildcard, info.type, info.relation);
          if (r.relation != 0) {
            add_edge(
                r.type, r.relation,
                ReverseEdge{ReverseEdge::How::kUserset, info.type, info.relation, info.relation});
          }
        }
      } else if (leaf->kind == RewriteKind::kComputed) {
        add_edge(info.type, leaf->relation,
                 ReverseEdge{ReverseEdge::How::kSameObject, info.type, info.relation, 0});
      } else if (leaf->kind == RewriteKind::kTupleToUserset) {
        const RelationInfo* ts_rel = ts->Find(info.type, leaf->tupleset);
        if (!ts_rel) continue;
        for (const auto& r : ts_rel->restrictions) {
          if (r.wildcard || r.relation != 0) continue;
          add_edge(
              r.type, leaf->relation,
              ReverseEdge{ReverseEdge::How::kTupleset, info.type, info.relation, leaf->tupleset});
        }
      }
    }
  }
  return std::shared_ptr<const TypeSystem>(std::move(ts));
}

const CompiledCondition* TypeSystem::FindCondition(std::string_view name) const {
  for (const auto& c : conditions_) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

const std::vector<std::pair<uint16_t, uint16_t>>& TypeSystem::DirectAcceptors(
    uint16_t subject_type, uint16_t subject_relation, bool wildcard) const {
  static const std::vector<std::pair<uint16_t, uint16_t>> kEmpty;
  auto it = acceptors_.find(AccKey(subject_type, subject_relation, wildcard));
  return it == acceptors_.end() ? kEmpty : it->second;
}

const std::vector<ReverseEdge>& TypeSystem::ReverseEdges(uint16_t type, uint16_t relation) const {
  static const std::vector<ReverseEdge> kEmpty;
  auto it = reverse_.find(Key(type, relation));
  return it == reverse_.end() ? kEmpty : it->second;
}

const std::vector<uint16_t>& TypeSystem::RelationsOf(uint16_t type) const {
  static const std::vector<uint16_t> kEmpty;
  auto it = types_.find(type);
  return it == types_.end() ? kEmpty : it->second;
}

}  // namespace gh::authz

// TypeSystem: one authorization model version compiled for evaluation. Type and relation names
// are the store's interned name ids (uint16), rewrites are trees over those ids, type
// restrictions are small lists, conditions are compiled CEL programs, and the reverse edges
// that ListObjects walks (who can reach (type, relation)) are precomputed.
//
// Immutable after Build(); shared as shared_ptr<const TypeSystem> by concurrent requests.
#pragma once

#include <boost/unordered/unordered_flat_map.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "authz/cel/program.h"
#include "authz/interner.h"
#include "authz/model.h"
#include "common/status.h"

namespace gh::authz {

struct CompiledRewrite {
  RewriteKind kind = RewriteKind::kThis;
  uint16_t relation = 0;  // computed relation / TTU computed relation
  uint16_t tupleset = 0;  // TTU tupleset relation
  std::vector<CompiledRewrite> children;
};

struct Restriction {
  uint16_t type = 0;
  uint16_t relation = 0;  // 0 = none (relation ids start at 1)
  bool wildcard = false;
  std::string condition;
};

struct RelationInfo {
  uint16_t type = 0;
  uint16_t relation = 0;
  CompiledRewrite rewrite;
  std::vector<Restriction> restrictions;

  bool AllowsDirect(uint16_t t) const {
    for (const auto& r : restrictions) {
      if (r.type == t && !r.wildcard && r.relation == 0) return true;
    }
    return false;
  }
  bool AllowsWildcard(uint16_t t) const {
    for (const auto& r : restrictions) {
      if (r.type == t && r.wildcard) return true;
    }
    return false;
  }
  bool AllowsAnyUserset() const {
    for (const auto& r : restrictions) {
      if (r.relation != 0) return true;
    }
    return false;
  }
  bool AllowsUserset(uint16_t t, uint16_t rel) const {
    for (const auto& r : restrictions) {
      if (r.type == t && r.relation == rel) return true;
    }
    return false;
  }
};

struct CompiledCondition {
  std::string name;
  std::shared_ptr<const cel::Program> program;
  std::vector<cel::Type> param_types;  // aligned with program->params()
};

// A step backwards through the model, used by ListObjects: knowing that (type, relation) holds
// for some object, which (type, relation) may hold because of it.
struct ReverseEdge {
  enum class How { kSameObject, kTupleset, kUserset };
  How how = How::kSameObject;
  uint16_t type = 0;      // the type whose relation may hold
  uint16_t relation = 0;  // that relation
  uint16_t via = 0;       // kTupleset: the tupleset relation; kUserset: the relation on `type`
};

class TypeSystem {
 public:
  // names: the store's name table; Build interns every type and relation name of the model.
  static Result<std::shared_ptr<const TypeSystem>> Build(const Model& model, Interner& names);

  const Model& model() const { return model_; }
  const std::string& id() const { return model_.id; }

  bool HasType(uint16_t type) const { return types_.count(type) > 0; }
  const RelationInfo* Find(uint16_t type, uint16_t relation) const {
    auto it = relations_.find(Key(type, relation));
    return it == relations_.end() ? nullptr : &it->second;
  }
  const CompiledCondition* FindCondition(std::string_view name) const;

  // Relations (type, relation) that accept `subject_type` directly (subject_relation 0) or as a
  // userset (subject_relation != 0), or its wildcard.
  const std::vector<std::pair<uint16_t, uint16_t>>& DirectAcceptors(uint16_t subject_type,
                                                                    uint16_t subject_relation,
                                                                    bool wildcard) const;
  const std::vector<ReverseEdge>& ReverseEdges(uint16_t type, uint16_t relation) const;
  // Relations of `type` in the model.
  const std::vector<uint16_t>& RelationsOf(uint16_t type) const;
  // Whether any relation accepts `type:*`: when none does, a check never looks the user's
  // wildcard up.
  bool AcceptsWildcardOf(uint16_t type) const {
    for (uint16_t t : wildcard_types_) {
      if (t == type) return true;
    }
    return false;
  }

 private:
  static uint32_t Key(uint16_t a, uint16_t b) { return (uint32_t(a) << 16) | b; }
  static uint64_t AccKey(uint16_t t, uint16_t r, bool w) {
    return (uint64_t(t) << 32) | (uint64_t(r) << 1) | (w ? 1 : 0);
  }

  Model model_;
  boost::unordered_flat_map<uint16_t, std::vector<uint16_t>> types_;
  boost::unordered_flat_map<uint32_t, RelationInfo> relations_;
  std::vector<CompiledCondition> conditions_;
  boost::unordered_flat_map<uint64_t, std::vector<std::pair<uint16_t, uint16_t>>> acceptors_;
  boost::unordered_flat_map<uint32_t, std::vector<ReverseEdge>> reverse_;
  std::vector<uint16_t> wildcard_types_;
};

cel::Type ToCelType(const ConditionParamType& t);

}  // namespace gh::authz

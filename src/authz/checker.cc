#include "authz/checker.h"

#include <algorithm>

#include "authz/errors.h"

namespace gh::authz {

Result<bool> Checker::Check(uint32_t object, uint16_t relation, const RequestUser& user) {
  return Check(object, view_.TypeOf(object), relation, user);
}

Result<bool> Checker::Check(uint32_t object, uint16_t type, uint16_t relation,
                            const RequestUser& user) {
  user_ = user;
  path_size_ = 0;
  error_ = Status::Ok();
  Tri r = CheckRelation(object, type, relation, 1);
  if (r == Tri::kTrue) return true;
  if (r == Tri::kError) return error_;
  return false;
}

Checker::Tri Checker::CheckRelation(uint32_t object, uint16_t type, uint16_t relation, int depth) {
  if (depth > kMaxResolutionDepth) return Fail(errors::ResolutionTooComplex());
  // A userset is a member of itself: group:x#member has member on group:x.
  if (user_.relation != 0 && object == user_.object && relation == user_.relation) {
    return Tri::kTrue;
  }
  const RelationInfo* info = view_.ts().Find(type, relation);
  if (!info) return Tri::kFalse;
  uint64_t key = (uint64_t(object) << 16) | relation;
  for (size_t i = 0; i < path_size_; ++i) {
    if (path_[i] == key) return Tri::kFalse;  // a cycle resolves to false
  }
  path_[path_size_++] = key;
  Tri r = Eval(info->rewrite, *info, object, type, depth);
  --path_size_;
  return r;
}

Checker::Tri Checker::Eval(const CompiledRewrite& node, const RelationInfo& info, uint32_t object,
                           uint16_t type, int depth) {
  switch (node.kind) {
    case RewriteKind::kThis:
      return EvalThis(info, object, depth);
    case RewriteKind::kComputed:
      return CheckRelation(object, type, node.relation, depth + 1);
    case RewriteKind::kTupleToUserset: {
      const RelationInfo* tupleset = view_.ts().Find(type, node.tupleset);
      if (!tupleset) return Tri::kFalse;
      bool error = false;
      bool allowed = false;
      view_.ForEachDirect(object, node.tupleset, [&](uint64_t s, const TupleIndex& index) {
        if (allowed) return;
        uint32_t parent = TupleIndex::SubjectObject(s);
        if (view_.IsWildcard(parent)) return;
        uint16_t parent_type = view_.TypeOf(parent);
        if (!tupleset->AllowsDirect(parent_type)) return;
        if (TupleIndex::SubjectHasCondition(s)) {
          Tri c = TupleCondition(object, node.tupleset, s, index);
          if (c == Tri::kError) error = true;
          if (c != Tri::kTrue) return;
        }
        Tri r = CheckRelation(parent, parent_type, node.relation, depth + 1);
        if (r == Tri::kTrue) allowed = true;
        if (r == Tri::kError) error = true;
      });
      if (allowed) return Tri::kTrue;
      return error ? Tri::kError : Tri::kFalse;
    }
    case RewriteKind::kUnion: {
      bool error = false;
      for (const auto& c : node.children) {
        Tri r = Eval(c, info, object, type, depth);
        if (r == Tri::kTrue) return Tri::kTrue;
        if (r == Tri::kError) error = true;
      }
      return error ? Tri::kError : Tri::kFalse;
    }
    case RewriteKind::kIntersection: {
      bool error = false;
      for (const auto& c : node.children) {
        Tri r = Eval(c, info, object, type, depth);
        if (r == Tri::kFalse) return Tri::kFalse;
        if (r == Tri::kError) error = true;
      }
      return error ? Tri::kError : Tri::kTrue;
    }
    case RewriteKind::kDifference: {
      Tri base = Eval(node.children[0], info, object, type, depth);
      if (base == Tri::kFalse) return Tri::kFalse;
      Tri sub = Eval(node.children[1], info, object, type, depth);
      if (sub == Tri::kTrue) return Tri::kFalse;
      if (base == Tri::kError || sub == Tri::kError) return Tri::kError;
      return Tri::kTrue;
    }
  }
  return Tri::kFalse;
}

Checker::Tri Checker::EvalThis(const RelationInfo& info, uint32_t object, int depth) {
  uint16_t relation = info.relation;
  bool error = false;
  auto direct_hit = [&](SubjectRef subject) -> Tri {
    auto found = view_.Find(object, relation, subject);
    if (!found) return Tri::kFalse;
    if (!TupleIndex::SubjectHasCondition(found->first)) return Tri::kTrue;
    return TupleCondition(object, relation, found->first, *found->second);
  };
  if (user_.relation == 0) {
    if (!user_.wildcard && user_.object != kUnknownObject && info.AllowsDirect(user_.type)) {
      Tri r = direct_hit(SubjectRef{user_.object, 0});
      if (r == Tri::kTrue) return r;
      if (r == Tri::kError) error = true;
    }
    if (user_.wildcard_object != kUnknownObject && info.AllowsWildcard(user_.type)) {
      Tri r = direct_hit(SubjectRef{user_.wildcard_object, 0});
      if (r == Tri::kTrue) return r;
      if (r == Tri::kError) error = true;
    }
  } else if (user_.object != kUnknownObject && info.AllowsUserset(user_.type, user_.relation)) {
    Tri r = direct_hit(SubjectRef{user_.object, user_.relation});
    if (r == Tri::kTrue) return r;
    if (r == Tri::kError) error = true;
  }
  // A relation that accepts no userset (e.g. `[user]`) has none to look up.
  if (!info.AllowsAnyUserset()) return error ? Tri::kError : Tri::kFalse;
  bool allowed = false;
  view_.ForEachUserset(object, relation, [&](uint64_t s, const TupleIndex& index) {
    if (allowed) return;
    uint32_t set_object = TupleIndex::SubjectObject(s);
    uint16_t set_relation = TupleIndex::SubjectRelation(s);
    uint16_t set_type = view_.TypeOf(set_object);
    if (!info.AllowsUserset(set_type, set_relation)) return;
    if (TupleIndex::SubjectHasCondition(s)) {
      Tri c = TupleCondition(object, relation, s, index);
      if (c == Tri::kError) error = true;
      if (c != Tri::kTrue) return;
    }
    Tri r = CheckRelation(set_object, set_type, set_relation, depth + 1);
    if (r == Tri::kTrue) allowed = true;
    if (r == Tri::kError) error = true;
  });
  if (allowed) return Tri::kTrue;
  return error ? Tri::kError : Tri::kFalse;
}

Checker::Tri Checker::TupleCondition(uint32_t object, uint16_t relation, uint64_t subject,
                                     const TupleIndex& index) {
  const StoredCondition* sc = index.Condition(object, relation, subject);
  if (!sc) return Tri::kTrue;
  auto tuple_text = [&]() {
    return std::string(view_.ObjectName(object)) + "#" + std::string(view_.Name(relation)) + "@" +
           view_.SubjectName(subject);
  };
  const CompiledCondition* cc = view_.ts().FindCondition(sc->name);
  if (!cc) {
    return Fail(errors::ConditionEvaluationFailed("failed to evaluate relationship condition '" +
                                                  sc->name + "': condition was not found"));
  }
  const auto& params = cc->program->params();
  std::vector<std::optional<cel::Value>> bindings(params.size());
  for (size_t i = 0; i < params.size(); ++i) {
    const cel::Value* raw = nullptr;
    for (const auto& [k, v] : sc->context) {
      if (k == params[i].name) raw = &v;
    }
    if (!raw && context_) {
      for (const auto& [k, v] : *context_) {
        if (k == params[i].name) raw = &v;
      }
    }
    if (!raw) continue;
    auto converted = cel::ConvertToType(*raw, cc->param_types[i]);
    if (!converted.ok()) {
      return Fail(
          errors::ConditionEvaluationFailed("failed to evaluate relationship condition '" +
                                            sc->name + "': failed to convert context parameter '" +
                                            params[i].name + "': " + converted.status().message()));
    }
    bindings[i] = std::move(converted).value();
  }
  cel::Value v = cc->program->Evaluate(bindings);
  if (v.kind() == cel::Kind::kBool) return v.as_bool() ? Tri::kTrue : Tri::kFalse;
  if (v.is_unknown()) {
    std::string names;
    for (const auto& n : v.unknown_names()) names += (names.empty() ? "" : " ") + n;
    return Fail(errors::ConditionEvaluationFailed(
        "failed to evaluate relationship condition '" + sc->name + "': tuple '" + tuple_text() +
        "' is missing context parameters '[" + names + "]'"));
  }
  std::string msg = v.is_error() ? v.error_message() : "expression did not return a bool";
  return Fail(errors::ConditionEvaluationFailed("failed to evaluate relationship condition '" +
                                                sc->name + "': " + msg));
}

}  // namespace gh::authz

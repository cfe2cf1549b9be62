// ListObjectIds and ListUserSubjects (declared in checker.h).
#include <boost/unordered/unordered_flat_set.hpp>

#include <algorithm>

#include "authz/checker.h"

namespace gh::authz {
namespace {

uint64_t FactKey(uint32_t object, uint16_t relation) { return (uint64_t(object) << 16) | relation; }

}  // namespace

Result<std::vector<uint32_t>> ListObjectIds(const GraphView& view, const RequestContext* context,
                                            uint16_t type, uint16_t relation,
                                            const RequestUser& user) {
  const TypeSystem& ts = view.ts();
  boost::unordered_flat_set<uint64_t> reached;
  std::vector<std::pair<uint32_t, uint16_t>> queue;
  std::vector<uint32_t> candidates;
  auto reach = [&](uint32_t object, uint16_t rel) {
    if (!reached.insert(FactKey(object, rel)).second) return;
    queue.emplace_back(object, rel);
    if (rel == relation && view.TypeOf(object) == type) candidates.push_back(object);
  };
  // Direct assignments of the user (and of its type's wildcard).
  if (user.object != kUnknownObject && !user.wildcard) {
    for (auto [t, r] : ts.DirectAcceptors(user.type, user.relation, false)) {
      view.ForEachObject(SubjectRef{user.object, user.relation}, r, [&](uint32_t o) {
        if (view.TypeOf(o) == t) reach(o, r);
      });
    }
    if (user.relation != 0) reach(user.object, user.relation);
  }
  if (user.relation == 0 && user.wildcard_object != kUnknownObject) {
    for (auto [t, r] : ts.DirectAcceptors(user.type, 0, true)) {
      view.ForEachObject(SubjectRef{user.wildcard_object, 0}, r, [&](uint32_t o) {
        if (view.TypeOf(o) == t) reach(o, r);
      });
    }
  }
  for (size_t i = 0; i < queue.size(); ++i) {
    auto [object, rel] = queue[i];
    uint16_t object_type = view.TypeOf(object);
    for (const ReverseEdge& e : ts.ReverseEdges(object_type, rel)) {
      switch (e.how) {
        case ReverseEdge::How::kSameObject:
          reach(object, e.relation);
          break;
        case ReverseEdge::How::kTupleset:
          view.ForEachObject(SubjectRef{object, 0}, e.via, [&](uint32_t p) {
            if (view.TypeOf(p) == e.type) reach(p, e.relation);
          });
          break;
        case ReverseEdge::How::kUserset:
          view.ForEachObject(SubjectRef{object, rel}, e.via, [&](uint32_t p) {
            if (view.TypeOf(p) == e.type) reach(p, e.relation);
          });
          break;
      }
    }
  }
  // Confirm every candidate: intersections, exclusions and conditions decide here.
  std::vector<uint32_t> out;
  Checker checker(view, context);
  Status first_error;
  for (uint32_t object : candidates) {
    auto allowed = checker.Check(object, relation, user);
    if (!allowed.ok()) {
      if (allowed.status().error_code() == "authorization_model_resolution_too_complex") {
        return allowed.status();
      }
      if (first_error.ok()) first_error = allowed.status();
      continue;
    }
    if (*allowed) out.push_back(object);
  }
  if (!first_error.ok()) return first_error;
  return out;
}

Result<std::vector<uint64_t>> ListUserSubjects(const GraphView& view, const RequestContext* context,
                                               uint32_t object, uint16_t relation,
                                               uint16_t filter_type, uint16_t filter_relation) {
  const TypeSystem& ts = view.ts();
  boost::unordered_flat_set<uint64_t> visited;
  boost::unordered_flat_set<uint64_t> candidate_set;
  std::vector<uint64_t> candidates;
  auto candidate = [&](uint64_t packed) {
    if (candidate_set.insert(packed).second) candidates.push_back(packed);
  };
  std::vector<std::pair<uint32_t, uint16_t>> stack{{object, relation}};
  while (!stack.empty()) {
    auto [o, r] = stack.back();
    stack.pop_back();
    if (!visited.insert(FactKey(o, r)).second) continue;
    uint16_t o_type = view.TypeOf(o);
    const RelationInfo* info = ts.Find(o_type, r);
    if (!info) continue;
    if (filter_relation != 0 && o_type == filter_type && r == filter_relation) {
      candidate(TupleIndex::Pack(o, r));
    }
    std::vector<const CompiledRewrite*> nodes{&info->rewrite};
    for (size_t i = 0; i < nodes.size(); ++i) {
      const CompiledRewrite& n = *nodes[i];
      switch (n.kind) {
        case RewriteKind::kThis:
          view.ForEachDirect(o, r, [&](uint64_t s, const TupleIndex&) {
            uint32_t so = TupleIndex::SubjectObject(s);
            if (filter_relation == 0 && view.TypeOf(so) == filter_type) {
              candidate(TupleIndex::Pack(so, 0));
            }
          });
          view.ForEachUserset(o, r, [&](uint64_t s, const TupleIndex&) {
            uint32_t so = TupleIndex::SubjectObject(s);
            uint16_t sr = TupleIndex::SubjectRelation(s);
            if (filter_relation == sr && view.TypeOf(so) == filter_type) {
              candidate(TupleIndex::Pack(so, sr));
            }
            stack.emplace_back(so, sr);
          });
          break;
        case RewriteKind::kComputed:
          stack.emplace_back(o, n.relation);
          break;
        case RewriteKind::kTupleToUserset:
          view.ForEachDirect(o, n.tupleset, [&](uint64_t s, const TupleIndex&) {
            stack.emplace_back(TupleIndex::SubjectObject(s), n.relation);
          });
          break;
        default:
          for (const auto& c : n.children) nodes.push_back(&c);
      }
    }
  }
  std::vector<uint64_t> out;
  Checker checker(view, context);
  Status first_error;
  for (uint64_t packed : candidates) {
    RequestUser u;
    u.object = TupleIndex::SubjectObject(packed);
    u.relation = TupleIndex::SubjectRelation(packed);
    u.type = view.TypeOf(u.object);
    u.wildcard = view.IsWildcard(u.object);
    if (u.wildcard) {
      u.wildcard_object = u.object;
    } else if (u.relation == 0) {
      std::string wildcard(view.Name(u.type));
      wildcard += ":*";
      if (auto w = view.FindObject(wildcard)) u.wildcard_object = *w;
    }
    auto allowed = checker.Check(object, relation, u);
    if (!allowed.ok()) {
      if (allowed.status().error_code() == "authorization_model_resolution_too_complex") {
        return allowed.status();
      }
      if (first_error.ok()) first_error = allowed.status();
      continue;
    }
    if (*allowed) out.push_back(packed);
  }
  if (!first_error.ok()) return first_error;
  return out;
}

}  // namespace gh::authz

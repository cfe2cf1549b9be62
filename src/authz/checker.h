// The query algorithms over a GraphView, all on interned ids:
//
//  Checker::Check   - does user U have relation R on object O? Walks the rewrite of (type(O), R):
//                     direct tuples (one binary search), wildcards, usersets, computed relations,
//                     tuple-to-userset, union / intersection / exclusion, with OpenFGA's
//                     three-valued results (a branch that errors does not hide a branch that
//                     allows), tuple conditions evaluated against tuple + request context,
//                     cycles resolving to false and a resolution depth limit of 25.
//  ListObjectIds    - walks the model's reverse edges from U to every reachable object of the
//                     wanted type, then confirms each candidate with Check. Complete; the caller
//                     paginates.
//  ListUserSubjects - expands (O, R) forwards to every subject of the filtered type (objects,
//                     wildcards, or usersets type#relation), then confirms each with Check.
//
// A Checker is used by one thread for one request.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "authz/cel/value.h"
#include "authz/graph_view.h"
#include "common/status.h"

namespace gh::authz {

constexpr int kMaxResolutionDepth = 25;

// The request's context: raw (JSON-typed) values by name.
using RequestContext = std::vector<std::pair<std::string, cel::Value>>;

struct RequestUser {
  uint32_t object = kUnknownObject;  // kUnknownObject when the store has never seen it
  uint16_t type = 0;
  uint16_t relation = 0;                      // userset users: group:x#member
  bool wildcard = false;                      // user:*
  uint32_t wildcard_object = kUnknownObject;  // the id of "type:*" for this user's type
};

class Checker {
 public:
  Checker(const GraphView& view, const RequestContext* context) : view_(view), context_(context) {}

  Result<bool> Check(uint32_t object, uint16_t relation, const RequestUser& user);
  // When the caller knows the object's type already (one memory access less on the hot path).
  Result<bool> Check(uint32_t object, uint16_t type, uint16_t relation, const RequestUser& user);

 private:
  enum class Tri : uint8_t { kFalse, kTrue, kError };

  Tri CheckRelation(uint32_t object, uint16_t type, uint16_t relation, int depth);
  Tri Eval(const CompiledRewrite& node, const RelationInfo& info, uint32_t object, uint16_t type,
           int depth);
  Tri EvalThis(const RelationInfo& info, uint32_t object, int depth);
  Tri TupleCondition(uint32_t object, uint16_t relation, uint64_t subject, const TupleIndex& index);
  Tri Fail(Status s) {
    if (error_.ok()) error_ = std::move(s);
    return Tri::kError;
  }

  const GraphView& view_;
  const RequestContext* context_;
  RequestUser user_;
  // The (object, relation) pairs on the current resolution path, for cycle detection. Bounded by
  // the depth limit, so it lives inline (no allocation per check).
  std::array<uint64_t, kMaxResolutionDepth + 2> path_{};
  size_t path_size_ = 0;
  Status error_;
};

Result<std::vector<uint32_t>> ListObjectIds(const GraphView& view, const RequestContext* context,
                                            uint16_t type, uint16_t relation,
                                            const RequestUser& user);

// Subjects packed as TupleIndex::Pack(object, relation).
Result<std::vector<uint64_t>> ListUserSubjects(const GraphView& view, const RequestContext* context,
                                               uint32_t object, uint16_t relation,
                                               uint16_t filter_type, uint16_t filter_relation);

}  // namespace gh::authz

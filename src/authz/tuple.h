// Relationship tuples as they cross the API: (user, relation, object) plus an optional condition
// with its context, and the string rules OpenFGA applies to their parts ("type:id" objects,
// "type:id", "type:*" or "type:id#relation" users). Plain value types and pure functions.
#pragma once

#include <boost/json/object.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace gh::authz {

struct TupleCondition {
  std::string name;
  boost::json::object context;
  bool operator==(const TupleCondition&) const = default;
};

struct TupleKey {
  std::string user;
  std::string relation;
  std::string object;
  std::optional<TupleCondition> condition;

  // "document:1#viewer@user:anne" (OpenFGA's display form, without the condition).
  std::string ToString() const;
  bool SameKey(const TupleKey& o) const {
    return user == o.user && relation == o.relation && object == o.object;
  }
};

// "document:1" -> {"document", "1"}. False when there is no ':' or either side is empty.
bool SplitObject(std::string_view object, std::string_view* type, std::string_view* id);

// OpenFGA's object id rule: letters, digits, non-ASCII and `_ | * @ . + / -`; may not start
// with '*'.
bool IsValidObjectId(std::string_view id);

// "type:id" with a valid id (objects in tuples and requests).
bool IsValidObject(std::string_view object);

// Users: "type:id", "type:*" or "type:id#relation".
struct ParsedUser {
  std::string_view type;
  std::string_view id;        // "*" for a wildcard
  std::string_view relation;  // empty unless a userset
  std::string_view object;    // "type:id" part
  bool wildcard = false;
};
bool ParseUser(std::string_view user, ParsedUser* out);

}  // namespace gh::authz

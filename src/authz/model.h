// Model: an OpenFGA authorization model as data (the shape of the OpenFGA JSON API):
// type definitions with relation rewrites and directly related user types, and CEL
// conditions. Produced by the DSL parser or the JSON reader; consumed by the validator, the
// JSON/DSL writers and TypeSystem (which compiles it for evaluation). Plain value types.
//
// Positions (`line`, `source_file`) are not part of the JSON form: the DSL parser fills them so
// that validation errors can point at the source; they stay -1/empty for models read from JSON.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace gh::authz {

// OpenFGA's per-definition module metadata (schema 1.2 modular models).
struct SourceInfo {
  std::string module;
  std::string file;
  bool empty() const { return module.empty() && file.empty(); }
  bool operator==(const SourceInfo&) const = default;
};

// One entry of a relation's type restrictions: `user`, `user:*`, `group#member`,
// `user with cond`.
struct RelationReference {
  std::string type;
  std::string relation;  // empty unless a userset restriction
  bool wildcard = false;
  std::string condition;  // empty unless `with cond`
  bool operator==(const RelationReference&) const = default;
  // "user", "user:*", "group#member" (without the condition).
  std::string Key() const;
  // As written in the DSL: "group#member with cond".
  std::string ToDsl() const;
};

enum class RewriteKind { kThis, kComputed, kTupleToUserset, kUnion, kIntersection, kDifference };

// A relation rewrite (OpenFGA "Userset").
struct Userset {
  RewriteKind kind = RewriteKind::kThis;
  std::string relation;           // kComputed: the relation; kTupleToUserset: computed relation
  std::string tupleset;           // kTupleToUserset: the tupleset relation
  std::vector<Userset> children;  // union/intersection children; difference: {base, subtract}
  bool operator==(const Userset&) const = default;
};

struct RelationDef {
  std::string name;
  Userset rewrite;
  std::vector<RelationReference> directly_related;
  SourceInfo source;  // set for relations added by `extend type` in another module
  int line = -1;      // 0-based line of `define` in the source file
  std::string source_file;
};

struct TypeDefinition {
  std::string type;
  std::vector<RelationDef> relations;
  SourceInfo source;
  int line = -1;
  std::string source_file;
  bool extension = false;  // `extend type` in a module file (before modules are combined)
  const RelationDef* FindRelation(std::string_view name) const;
};

enum class ParamTypeName {
  kUnspecified,
  kAny,
  kBool,
  kString,
  kInt,
  kUint,
  kDouble,
  kDuration,
  kTimestamp,
  kMap,
  kList,
  kIpAddress,
};

struct ConditionParamType {
  ParamTypeName name = ParamTypeName::kUnspecified;
  std::vector<ConditionParamType> generic_types;
  bool operator==(const ConditionParamType&) const = default;
};

// "TYPE_NAME_INT" <-> kInt; "int" (DSL) <-> kInt.
std::string_view ParamTypeEnumName(ParamTypeName n);
bool ParseParamTypeEnumName(std::string_view s, ParamTypeName* out);
std::string_view ParamTypeDslName(ParamTypeName n);
bool ParseParamTypeDslName(std::string_view s, ParamTypeName* out);
std::string ParamTypeToDsl(const ConditionParamType& t);  // "list<string>"

struct ConditionDef {
  std::string name;
  std::string expression;
  std::vector<std::pair<std::string, ConditionParamType>> parameters;  // in declaration order
  SourceInfo source;
  int line = -1;
  std::string source_file;
  std::string nested_name;  // the JSON "name" field; validation requires it to match `name`
};

struct Model {
  std::string id;  // assigned when stored; empty for a draft
  std::string schema_version;
  std::vector<TypeDefinition> types;
  std::vector<ConditionDef> conditions;
  int schema_line = -1;

  const TypeDefinition* FindType(std::string_view name) const;
  const ConditionDef* FindCondition(std::string_view name) const;
};

}  // namespace gh::authz

#include "authz/model.h"

namespace gh::authz {

std::string RelationReference::Key() const {
  if (wildcard) return type + ":*";
  if (!relation.empty()) return type + "#" + relation;
  return type;
}

std::string RelationReference::ToDsl() const {
  std::string out = Key();
  if (!condition.empty()) out += " with " + condition;
  return out;
}

const RelationDef* TypeDefinition::FindRelation(std::string_view name) const {
  for (const auto& r : relations) {
    if (r.name == name) return &r;
  }
  return nullptr;
}

const TypeDefinition* Model::FindType(std::string_view name) const {
  for (const auto& t : types) {
    if (t.type == name) return &t;
  }
  return nullptr;
}

const ConditionDef* Model::FindCondition(std::string_view name) const {
  for (const auto& c : conditions) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

namespace {
struct ParamName {
  ParamTypeName name;
  std::string_view enum_name;
  std::string_view dsl_name;
};
constexpr ParamName kParamNames[] = {
    {ParamTypeName::kUnspecified, "TYPE_NAME_UNSPECIFIED", "unspecified"},
    {ParamTypeName::kAny, "TYPE_NAME_ANY", "any"},
    {ParamTypeName::kBool, "TYPE_NAME_BOOL", "bool"},
    {ParamTypeName::kString, "TYPE_NAME_STRING", "string"},
    {ParamTypeName::kInt, "TYPE_NAME_INT", "int"},
    {ParamTypeName::kUint, "TYPE_NAME_UINT", "uint"},
    {ParamTypeName::kDouble, "TYPE_NAME_DOUBLE", "double"},
    {ParamTypeName::kDuration, "TYPE_NAME_DURATION", "duration"},
    {ParamTypeName::kTimestamp, "TYPE_NAME_TIMESTAMP", "timestamp"},
    {ParamTypeName::kMap, "TYPE_NAME_MAP", "map"},
    {ParamTypeName::kList, "TYPE_NAME_LIST", "list"},
    {ParamTypeName::kIpAddress, "TYPE_NAME_IPADDRESS", "ipaddress"},
};
}  // namespace

std::string_view ParamTypeEnumName(ParamTypeName n) {
  for (const auto& p : kParamNames) {
    if (p.name == n) return p.enum_name;
  }
  return "TYPE_NAME_UNSPECIFIED";
}

bool ParseParamTypeEnumName(std::string_view s, ParamTypeName* out) {
  for (const auto& p : kParamNames) {
    if (p.enum_name == s) {
      *out = p.name;
      return true;
    }
  }
  return false;
}

std::string_view ParamTypeDslName(ParamTypeName n) {
  for (const auto& p : kParamNames) {
    if (p.name == n) return p.dsl_name;
  }
  return "unspecified";
}

bool ParseParamTypeDslName(std::string_view s, ParamTypeName* out) {
  for (const auto& p : kParamNames) {
    if (p.dsl_name == s) {
      *out = p.name;
      return true;
    }
  }
  return false;
}

std::string ParamTypeToDsl(const ConditionParamType& t) {
  std::string out(ParamTypeDslName(t.name));
  if ((t.name == ParamTypeName::kList || t.name == ParamTypeName::kMap) &&
      !t.generic_types.empty()) {
    out += "<" + ParamTypeToDsl(t.generic_types[0]) + ">";
  }
  return out;
}

}  // namespace gh::authz

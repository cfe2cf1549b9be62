#include "authz/tuple.h"

namespace gh::authz {

std::string TupleKey::ToString() const { return object + "#" + relation + "@" + user; }

bool SplitObject(std::string_view object, std::string_view* type, std::string_view* id) {
  size_t colon = object.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 >= object.size()) return false;
  *type = object.substr(0, colon);
  *id = object.substr(colon + 1);
  return true;
}

namespace {
bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}
bool IsValidTypeName(std::string_view t) {
  if (t.empty() || t.size() > 254) return false;
  for (char c : t) {
    if (c == ':' || c == '#' || c == '@' || c == '*' || IsSpace(c)) return false;
  }
  return true;
}
}  // namespace

bool IsValidObjectId(std::string_view id) {
  if (id.empty() || id[0] == '*') return false;
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '|' || c == '*' || c == '@' || c == '.' || c == '+' || c == '/' ||
              c == '-' || static_cast<unsigned char>(c) >= 0x80;
    if (!ok) return false;
  }
  return true;
}

bool IsValidObject(std::string_view object) {
  std::string_view type, id;
  return SplitObject(object, &type, &id) && IsValidTypeName(type) && IsValidObjectId(id);
}

bool ParseUser(std::string_view user, ParsedUser* out) {
  ParsedUser p;
  std::string_view object = user;
  size_t hash = user.find('#');
  if (hash != std::string_view::npos) {
    object = user.substr(0, hash);
    p.relation = user.substr(hash + 1);
    if (p.relation.empty() || p.relation.find('#') != std::string_view::npos) return false;
  }
  if (!SplitObject(object, &p.type, &p.id) || !IsValidTypeName(p.type)) return false;
  p.object = object;
  if (p.id == "*") {
    if (!p.relation.empty()) return false;
    p.wildcard = true;
  } else if (!IsValidObjectId(p.id)) {
    return false;
  }
  *out = p;
  return true;
}

}  // namespace gh::authz
